// Merging corpora: one entry per (target, signature), the one with the smallest repro (fewest
// operations, then preemptions, then steps, then the smaller text as the last word). Entries hold
// no counters (they live in results/, history.ts), so merging the same entries again changes
// nothing. Every choice is a total order on the entries' contents, so the result does not depend
// on the order they came in.

import { countOps } from '../engine/program.js';
import type { Repro } from '../minimize/executor.js';
import { serializeEntry, type CorpusEntry } from './entry.js';
import { entryPaths, targetDir } from './store.js';

/** The repro a merge compares: the minimized form when there is one. */
export function bestRepro(e: CorpusEntry): Repro {
  return e.minimized ?? e;
}

/** Negative when `a`'s repro is the smaller; `steps` measures a repro's replay. */
export function compareRepros(a: CorpusEntry, b: CorpusEntry, steps: (e: CorpusEntry) => number): number {
  const ra = bestRepro(a);
  const rb = bestRepro(b);
  const by = countOps(ra.program) - countOps(rb.program) || ra.schedule.length - rb.schedule.length || steps(a) - steps(b);
  if (by !== 0) return by;
  const [ta, tb] = [serializeEntry(a), serializeEntry(b)];
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

const keyOf = (e: CorpusEntry): string => JSON.stringify([e.target, e.signature]);

/** One entry per (target, signature), sorted by target then signature. */
export function mergeEntries(entries: readonly CorpusEntry[], steps: (e: CorpusEntry) => number): CorpusEntry[] {
  const groups = new Map<string, CorpusEntry[]>();
  for (const e of entries) groups.set(keyOf(e), [...(groups.get(keyOf(e)) ?? []), e]);
  const merged = [...groups.values()].map((group) => group.reduce((a, b) => (compareRepros(a, b, steps) <= 0 ? a : b)));
  return merged.sort(byTargetAndSignature);
}

/** Entries in the order the corpus commands print and write them. */
export function byTargetAndSignature(a: CorpusEntry, b: CorpusEntry): number {
  return a.target < b.target ? -1 : a.target > b.target ? 1 : a.signature < b.signature ? -1 : a.signature > b.signature ? 1 : 0;
}

/** Where each merged entry goes under `out`: its slug, or the slug with a hash when an earlier signature took it. */
export function layoutEntries(out: string, merged: readonly CorpusEntry[]): Map<string, CorpusEntry> {
  const files = new Map<string, CorpusEntry>();
  for (const e of merged) {
    const file = entryPaths(targetDir(out, e.target), e.signature).find((f) => !files.has(f));
    if (!file) throw new Error(`no free file name for '${e.signature}' under ${out}`);
    files.set(file, e);
  }
  return files;
}
