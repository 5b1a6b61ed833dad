// Finding a target: a bundled one by name, or a user's own module passed with --target-file.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Target } from '../target.js';
import { TARGETS, findTarget } from '../../targets/index.js';

/** How workers are told which target to load: plain data. */
export type TargetRef = { name: string } | { file: string };

const loaded = new Map<string, Target>();

export async function loadTarget(ref: TargetRef): Promise<Target> {
  if ('name' in ref) {
    const t = findTarget(ref.name);
    if (!t) throw new UsageError(`unknown target '${ref.name}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
    return t;
  }
  const file = path.resolve(ref.file);
  const hit = loaded.get(file);
  if (hit) return hit;
  let mod: { default?: Target };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: Target };
  } catch (e) {
    throw new UsageError(`cannot load target file ${ref.file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const t = mod.default;
  if (!t || typeof t.name !== 'string' || typeof t.run !== 'function' || !t.layout) {
    throw new UsageError(`target file ${ref.file} has no default export of a target`);
  }
  loaded.set(file, t);
  return t;
}

/** A problem with what the user asked for: one line, exit 2. */
export class UsageError extends Error {}
