// What a corpus entry records about the code that found it: the harness version (package.json) and
// a hash of the target's compiled code, so that a replay can say when the target changed since.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetRef } from '../engine/load.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The compiled bundled targets: dist/targets/, beside dist/harness/. */
const BUNDLED_TARGETS_DIR = path.resolve(HERE, '../../targets');

let version: string | undefined;

/** The version in mdevfuzz's package.json, found by walking up from this module. */
export function harnessVersion(): string {
  if (version !== undefined) return version;
  for (let dir = HERE; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mdevfuzz' && typeof pkg.version === 'string') return (version = pkg.version);
    }
    if (path.dirname(dir) === dir) return (version = 'unknown');
  }
}

function jsFilesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, d.name);
    if (d.isDirectory()) files.push(...jsFilesUnder(full));
    else if (d.isFile() && d.name.endsWith('.js')) files.push(full);
  }
  return files;
}

function hashFiles(root: string, files: readonly string[]): string {
  const h = createHash('sha256');
  for (const file of [...files].sort()) {
    h.update(path.relative(root, file).split(path.sep).join('/'));
    h.update('\0');
    h.update(readFileSync(file));
    h.update('\0');
  }
  return `sha256:${h.digest('hex')}`;
}

const hashes = new Map<string, string>();

/** sha256 over every compiled file of the bundled targets, or over the user's target file. */
export function targetHash(ref: TargetRef): string {
  const key = 'name' in ref ? '' : path.resolve(ref.file);
  let hash = hashes.get(key);
  if (hash === undefined) {
    hash = key === '' ? hashFiles(BUNDLED_TARGETS_DIR, jsFilesUnder(BUNDLED_TARGETS_DIR)) : hashFiles(path.dirname(key), [key]);
    hashes.set(key, hash);
  }
  return hash;
}
