// When an entry's repro was last re-verified, and against which target code: `<results>/verified.json`.
// An entry records the hash of its target's code when it was written; once the target changes,
// every replay would say so. Re-verification (`corpus check`, a replay that reproduces, a run that
// replays an entry for its expectations) records the entry's repro digest with the current hash
// here, in results/, so that the committed entry is not rewritten for it (git stays clean) and the
// note goes away. `replay --update` writes the current hash into the entry itself.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { CorpusEntry } from './entry.js';
import { withLock } from './lock.js';
import { writeFileAtomic } from './store.js';

export const VERIFIED_FILE = 'verified.json';

export interface Verification {
  target: string;
  signature: string;
  targetHash: string;
  verifiedAt: string;
}

/** What identifies an entry's repro: target, signature, original and minimized forms. */
export function reproDigest(e: CorpusEntry): string {
  const what = [e.target, e.signature, e.program, e.faults, e.schedule, e.minimized && [e.minimized.program, e.minimized.faults, e.minimized.schedule]];
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 32);
}

async function readVerified(file: string): Promise<Record<string, Verification>> {
  try {
    const v = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, Verification>) : {};
  } catch {
    return {};
  }
}

/** True when the entry was written, or last re-verified, against `currentHash`. */
export async function verifiedWith(resultsDir: string, e: CorpusEntry, currentHash: string): Promise<boolean> {
  if (e.targetHash === currentHash) return true;
  return (await readVerified(path.join(resultsDir, VERIFIED_FILE)))[reproDigest(e)]?.targetHash === currentHash;
}

/** Record that these entries reproduced against `targetHash` now (a failure to write is only a warning's worth). */
export async function recordVerified(resultsDir: string, done: readonly { entry: CorpusEntry; targetHash: string }[]): Promise<void> {
  // An entry written against the current code says so itself: nothing to remember, nothing written.
  const todo = done.filter((d) => d.entry.targetHash !== d.targetHash);
  if (todo.length === 0) return;
  const file = path.join(resultsDir, VERIFIED_FILE);
  await withLock(file, async () => {
    const all = await readVerified(file);
    const now = new Date().toISOString();
    let changed = false;
    for (const { entry: e, targetHash } of todo) {
      const key = reproDigest(e);
      if (all[key]?.targetHash === targetHash) continue;
      all[key] = { target: e.target, signature: e.signature, targetHash, verifiedAt: now };
      changed = true;
    }
    if (!changed) return;
    const ordered = Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : 1)));
    await writeFileAtomic(file, `${JSON.stringify(ordered, null, 2)}\n`);
  });
}
