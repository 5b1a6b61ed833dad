// POS, partial order sampling (Yuan, Yang and Gu, CAV 2018, "Partial Order Aware Concurrency
// Sampling", Algorithm 2): every pending step carries a random priority and the runnable CPU whose
// pending step has the highest one runs; after a step runs, the pending steps that race with it
// (conflict with it) draw fresh priorities, and so does the next step of the CPU that ran. Steps
// that do not race keep their priorities, so independent steps do not multiply the orders drawn
// and every partial order keeps a fair chance. A real program's tool sees each thread's next
// access; here a CPU's pending step is known by its profile (its n-th step in the profiling run).

import { stepAccesses, stepsConflict, type Profile } from './profile.js';
import type { Rng } from '../rng.js';
import type { Strategy, StrategyStart } from './strategy.js';

export function pos(): Strategy {
  let rng: Rng;
  let profile: Profile;
  let prio: number[] = [];
  let last = -1;
  return {
    name: 'pos',
    needsProfile: 'accesses',
    start(ctx: StrategyStart) {
      rng = ctx.rng;
      profile = ctx.profile!;
      prio = Array.from({ length: ctx.ncpus }, () => rng.next());
      last = -1;
    },
    pick(runnable, _current, steps) {
      if (last >= 0) {
        const ran = stepAccesses(profile, last, steps[last]! - 1);
        for (let c = 0; c < prio.length; c++) {
          if (c === last || (ran.length > 0 && stepsConflict(ran, stepAccesses(profile, c, steps[c]!)))) prio[c] = rng.next();
        }
      }
      let best = runnable[0]!;
      for (const c of runnable) if (prio[c]! > prio[best]!) best = c;
      last = best;
      return best;
    },
  };
}
