// The fault dimension of `verify` (issue 15, item 3): besides no fault, each fallible call of the
// program failing once, at each of its occurrences (fail_nth). The occurrences are the most that
// any schedule of the fault-free exploration at the same bound reached (teardown included): a call
// that only some interleaving reaches, or reaches more often, gets those occurrences failed too.
// DPOR runs one schedule per class of equivalent ones, and equivalent schedules make the same calls.

import type { Target } from '../target.js';
import type { Fault } from '../types.js';

/** One fault per (call in target.faultCalls order, occurrence up to its count in `sites`). */
export function faultChoices(target: Target, sites: ReadonlyMap<string, number>): Fault[][] {
  const out: Fault[][] = [];
  for (const call of target.faultCalls) for (let nth = 1; nth <= (sites.get(call) ?? 0); nth++) out.push([{ call, nth }]);
  return out;
}

/** Fold a run's occurrence counts into `into`: per call, the most of any run. */
export function mostSites(into: Map<string, number>, run: ReadonlyMap<string, number>): void {
  for (const [call, n] of run) if (n > (into.get(call) ?? 0)) into.set(call, n);
}
