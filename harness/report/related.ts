// Findings that belong together. The deadlock of a lock inversion (a hung task) and lockdep's
// report of the same inversion have titles of their own (the kernel prints both), but both name
// their lock cycle in their detail (harness/kernel/lock-cycle.ts). relate() links the findings of
// one target that name the same cycle: each gets the others' signatures as `related`, which
// summary.json keeps and the run's output and report.html show.

import { lockCycleOf } from '../kernel/lockdep.js';

export interface Relatable {
  target: string;
  signature: string;
  detail: string[];
  /** The signatures of the other findings of its target that name the same lock cycle, sorted. */
  related?: string[];
}

/** A group of related findings: what they share and their signatures, in the findings' order. */
export interface RelatedGroup {
  target: string;
  /** The shared detail line, e.g. `lock cycle: &bank->lock_a, &bank->lock_b`. */
  cause: string;
  signatures: string[];
}

/** The groups of two or more findings of one target that name the same lock cycle. */
export function relatedGroups(findings: readonly Relatable[]): RelatedGroup[] {
  const groups = new Map<string, RelatedGroup>();
  for (const f of findings) {
    const cause = lockCycleOf(f.detail);
    if (cause === undefined) continue;
    const key = `${f.target}\0${cause}`;
    const g = groups.get(key);
    if (g) g.signatures.push(f.signature);
    else groups.set(key, { target: f.target, cause, signatures: [f.signature] });
  }
  return [...groups.values()].filter((g) => g.signatures.length > 1);
}

/** Set (or clear) each finding's `related` from the groups; returns the groups. */
export function relate<F extends Relatable>(findings: F[]): RelatedGroup[] {
  const groups = relatedGroups(findings);
  for (const f of findings) {
    const g = groups.find((x) => x.target === f.target && x.signatures.includes(f.signature));
    if (g) f.related = g.signatures.filter((s) => s !== f.signature).sort();
    else delete f.related;
  }
  return groups;
}
