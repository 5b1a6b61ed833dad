// The fault dimension of `verify` (issue 15, item 3): besides no fault, each fallible call of the
// program failing once, at each of its occurrences (fail_nth). The occurrences are counted in one
// run of the program under the default schedule, teardown included; a schedule that reaches a
// call more often than that run has those later occurrences left unfailed (said in the README).

import { execute } from '../engine/inline/inline.js';
import { makeRng } from '../rng.js';
import { defaultNext, type Strategy } from '../sched/strategy.js';
import type { Target } from '../target.js';
import type { Fault, Program } from '../types.js';

const serial: Strategy = { name: 'default', start() {}, pick: (runnable, current) => defaultNext(runnable, current) };

/** [] first (no fault), then one fault per (call in target.faultCalls order, occurrence). */
export function faultChoices(target: Target, program: Program, maxSteps?: number): Fault[][] {
  if (target.faultCalls.length === 0) return [[]];
  const { kernel } = execute(target, program, serial, makeRng('verify-faults'), { maxSteps });
  const sites = kernel.faultSites();
  const out: Fault[][] = [[]];
  for (const call of target.faultCalls) for (let nth = 1; nth <= (sites.get(call) ?? 0); nth++) out.push([{ call, nth }]);
  return out;
}
