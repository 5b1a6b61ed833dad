// What "new coverage" means for coverage-guided search: the one place that turns an execution into
// the set of coverage keys it reached. Each key is `<family>:<name>`; a family is one kind of thing
// counted (preemption labels, concurrent pairs, ...). Adding a family is one entry in FAMILIES.

import type { ExecOptions, Execution } from '../engine/inline/inline.js';
import { readsFrom, rfKey, type ReadsFrom } from './reads-from.js';

export interface KeyFamily {
  /** The key prefix, before the first ':'. */
  name: string;
  /** What the executor must collect for it. */
  collect: Pick<ExecOptions, 'labels' | 'pairs' | 'transitions' | 'trace' | 'accesses'>;
  /** The names this execution reached in that family (an execution that did not collect it: none). */
  reached(execution: Execution): Iterable<string>;
}

export const FAMILIES: readonly KeyFamily[] = [
  { name: 'label', collect: { labels: true }, reached: (x) => x.result.labels ?? [] },
  { name: 'pair', collect: { pairs: true }, reached: (x) => x.pairs?.keys() ?? [] },
  { name: 'transition', collect: { transitions: true }, reached: (x) => x.transitions ?? [] },
  /** Cross-CPU reads-from pairs (RFF), by the labels of the writing and the reading step. */
  { name: 'rf', collect: { trace: true, accesses: true }, reached: (x) => rfKeys(x) },
];

/** The execution's reads-from pairs, when it kept the trace and the access record. */
export function executionPairs(x: Execution): ReadsFrom[] {
  return x.result.trace && x.kernel.access ? readsFrom(x.result.trace, x.kernel.access) : [];
}

function rfKeys(x: Execution): string[] {
  return [...new Set(executionPairs(x).map(rfKey))];
}

/** The executor options that collect every family. */
export const KEY_OPTIONS: ExecOptions = Object.assign({}, ...FAMILIES.map((f) => f.collect)) as ExecOptions;

export const FAMILY_NAMES: readonly string[] = FAMILIES.map((f) => f.name);

/** Every coverage key the execution reached, `<family>:<name>`, in a deterministic order. */
export function executionKeys(execution: Execution): string[] {
  const keys: string[] = [];
  for (const f of FAMILIES) for (const n of f.reached(execution)) keys.push(`${f.name}:${n}`);
  return keys;
}

/** The family of a key. */
export function keyFamily(key: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : key.slice(0, i);
}
