// The entries under a set of paths, for the corpus commands: every `*.json` file below each
// directory (hidden files and directories skipped), or the file itself, each parsed and validated.
// Anything else named `*.json` (a directory, a socket, a dangling link) is reported, not skipped.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/load.js';
import { CorpusError, type CorpusEntry } from './entry.js';
import { readEntry } from './store.js';

export type Scanned = { file: string; entry: CorpusEntry; error?: undefined } | { file: string; entry?: undefined; error: CorpusError };

async function jsonFilesUnder(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const d of await fs.readdir(dir, { withFileTypes: true })) {
    if (d.name.startsWith('.')) continue;
    const full = path.join(dir, d.name);
    if (d.name.endsWith('.json')) files.push(full); // checked to be a regular file when read
    else if (d.isDirectory()) files.push(...(await jsonFilesUnder(full)));
  }
  return files;
}

/** Entry files under `paths`, each once, sorted; a path that does not exist is a UsageError. */
export async function entryFiles(paths: readonly string[]): Promise<string[]> {
  const files = new Map<string, string>();
  for (const p of paths) {
    const stat = await fs.stat(p).catch(() => undefined);
    if (!stat) throw new UsageError(`${p}: no such file or directory`);
    for (const file of stat.isDirectory() ? await jsonFilesUnder(p) : [p]) {
      const key = path.resolve(file);
      if (!files.has(key)) files.set(key, file);
    }
  }
  return [...files.values()].sort();
}

/** Every entry file under `paths`, with its entry or why it is not one. */
export async function scanEntries(paths: readonly string[]): Promise<Scanned[]> {
  const out: Scanned[] = [];
  for (const file of await entryFiles(paths)) {
    try {
      const stat = await fs.stat(file).catch(() => undefined);
      if (!stat?.isFile()) {
        out.push({ file, error: new CorpusError(file, stat?.isDirectory() ? 'is a directory, not an entry file' : stat ? 'is not a regular file' : 'cannot be read (a dangling link?)') });
        continue;
      }
      const entry = await readEntry(file);
      out.push(entry ? { file, entry } : { file, error: new CorpusError(file, 'no such file') });
    } catch (e) {
      if (!(e instanceof CorpusError)) throw e;
      out.push({ file, error: e });
    }
  }
  return out;
}
