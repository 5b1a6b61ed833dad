// Coverage of lifecycle paths (design.md section 10): the preemption labels reached, the
// concurrent pairs, (label of the step switched out on one CPU, label of the next step of the CPU
// switched in), adjacent across a context switch, and the transitions of the declared object
// kinds. Counts are summed and first indices kept at their least, so merging batches gives the
// same result in any order; the JSON form is sorted arrays.

import { compareText } from '../text.js';
import { parseTransitionKey, transitionKey, type TransitionCount } from './transitions.js';

export interface LabelCount {
  label: string;
  /** Executions that reached it. */
  count: number;
}

export interface PairCount {
  /** The label of the step of the CPU switched out... */
  out: string;
  /** ...and of the next step, on the CPU switched in. */
  in: string;
  /** Context switches between the two. */
  count: number;
}

export interface Coverage {
  labels: LabelCount[];
  pairs: PairCount[];
  transitions: TransitionCount[];
}

const SEP = '\n';

/**
 * A batch's coverage as it crosses to the main thread: per kind, its keys (labels, pairKey()s,
 * transitionKey()s) and their counts in order (for transitions, count and first index
 * alternately). Two objects per kind and a string per key to clone and deserialize, instead of an
 * object per key with its strings: the main thread's heap grew with those (issue 17).
 */
export interface PackedCoverage {
  labels: string[];
  pairs: string[];
  transitions: string[];
  labelCounts: Float64Array;
  pairCounts: Float64Array;
  transitionCounts: Float64Array;
}

export function pairKey(out: string, into: string): string {
  return `${out}${SEP}${into}`;
}

/** Counts accumulated over executions and batches. */
export class CoverageCounter {
  readonly labels = new Map<string, number>();
  readonly pairs = new Map<string, number>();
  readonly transitions = new Map<string, { count: number; first: number }>();

  /** One execution: the labels it reached, its context switches per pair key, its transitions. */
  addExecution(labels: Iterable<string>, pairs: ReadonlyMap<string, number> | undefined, transitions: Iterable<string> = [], index = 0): void {
    for (const l of labels) this.labels.set(l, (this.labels.get(l) ?? 0) + 1);
    if (pairs) for (const [k, n] of pairs) this.pairs.set(k, (this.pairs.get(k) ?? 0) + n);
    for (const t of transitions) this.addTransition(t, 1, index);
  }

  private addTransition(key: string, count: number, first: number): void {
    const seen = this.transitions.get(key);
    if (!seen) this.transitions.set(key, { count, first });
    else {
      seen.count += count;
      seen.first = Math.min(seen.first, first);
    }
  }

  add(c: Coverage): void {
    for (const { label, count } of c.labels) this.labels.set(label, (this.labels.get(label) ?? 0) + count);
    for (const p of c.pairs) {
      const k = pairKey(p.out, p.in);
      this.pairs.set(k, (this.pairs.get(k) ?? 0) + p.count);
    }
    for (const t of c.transitions) this.addTransition(transitionKey(t), t.count, t.first);
  }

  /** What the main thread adds back with addPacked. */
  pack(): PackedCoverage {
    const transitionCounts = new Float64Array(this.transitions.size * 2);
    let i = 0;
    for (const { count, first } of this.transitions.values()) {
      transitionCounts[i++] = count;
      transitionCounts[i++] = first;
    }
    return {
      labels: [...this.labels.keys()],
      pairs: [...this.pairs.keys()],
      transitions: [...this.transitions.keys()],
      labelCounts: Float64Array.from(this.labels.values()),
      pairCounts: Float64Array.from(this.pairs.values()),
      transitionCounts,
    };
  }

  addPacked(p: PackedCoverage): void {
    p.labels.forEach((l, i) => this.labels.set(l, (this.labels.get(l) ?? 0) + p.labelCounts[i]!));
    p.pairs.forEach((k, i) => this.pairs.set(k, (this.pairs.get(k) ?? 0) + p.pairCounts[i]!));
    p.transitions.forEach((k, i) => this.addTransition(k, p.transitionCounts[2 * i]!, p.transitionCounts[2 * i + 1]!));
  }

  toJSON(): Coverage {
    const labels = [...this.labels].sort(([a], [b]) => compareText(a, b)).map(([label, count]) => ({ label, count }));
    const pairs = [...this.pairs]
      .sort(([a], [b]) => compareText(a, b))
      .map(([k, count]) => {
        const i = k.indexOf(SEP);
        return { out: k.slice(0, i), in: k.slice(i + 1), count };
      });
    const transitions = [...this.transitions]
      .sort(([a], [b]) => compareText(a, b))
      .map(([k, { count, first }]) => ({ ...parseTransitionKey(k), count, first }));
    return { labels, pairs, transitions };
  }
}

export interface FunctionCoverage {
  fn: string;
  labels: number;
}

/** The kernel function of a label: what comes before its first ':'. */
export function functionOf(label: string): string {
  const i = label.indexOf(':');
  return i < 0 ? label : label.slice(0, i);
}

export function byFunction(c: Coverage): FunctionCoverage[] {
  const n = new Map<string, number>();
  for (const { label } of c.labels) n.set(functionOf(label), (n.get(functionOf(label)) ?? 0) + 1);
  return [...n].map(([fn, labels]) => ({ fn, labels })).sort((a, b) => b.labels - a.labels || compareText(a.fn, b.fn));
}

/** The most frequent pairs, ties broken by label order. */
export function topPairs(c: Coverage, n: number): PairCount[] {
  return [...c.pairs].sort((a, b) => b.count - a.count || compareText(a.out, b.out) || compareText(a.in, b.in)).slice(0, n);
}
