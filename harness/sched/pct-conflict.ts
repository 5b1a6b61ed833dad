// Conflict PCT: PCT whose d-1 change points fall only on conflicting steps, the steps of a CPU that
// touch an object another CPU of the program touches, one of them writing (from the profiling
// run). A change point is a (CPU, step) pair: when that CPU is about to run that step as the
// highest-priority CPU, it drops below every initial priority, so the others go first exactly
// there. Where PCT spends its change points over every step of the execution, this spends them
// where a preemption can change the outcome; the idea that RFF (Wolff et al., ASPLOS'24) and SURW
// (Zhao et al., ASPLOS'25) share, with PCT's priority mechanism and its depth.

import { conflictingSteps } from './profile.js';
import { highest, initialPriorities } from './pct.js';
import type { Strategy, StrategyStart } from './strategy.js';

export function pctConflict(depth = 3): Strategy {
  let prio: number[] = [];
  /** Change point i as cpu * STEP_SPAN + step, or -1 once it has fired. */
  let points: number[] = [];
  return {
    name: `cpct(d=${depth})`,
    needsProfile: 'accesses',
    start({ ncpus, rng, profile }: StrategyStart) {
      prio = initialPriorities(ncpus, depth, rng);
      const candidates = conflictingSteps(profile!);
      points = [];
      for (let i = 0; i < depth - 1 && candidates.length > 0; i++) {
        const { cpu, step } = candidates.splice(rng.int(candidates.length), 1)[0]!;
        points.push(cpu * STEP_SPAN + step);
      }
    },
    pick(runnable, _current, steps) {
      for (;;) {
        const best = highest(runnable, prio);
        const i = points.indexOf(best * STEP_SPAN + steps[best]!);
        if (i < 0) return best;
        points[i] = -1;
        prio[best] = depth - 1 - i;
      }
    },
  };
}

const STEP_SPAN = 1 << 20;
