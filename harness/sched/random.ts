// Random walk: a uniform choice among the runnable CPUs at every preemption point.

import type { Rng } from '../rng.js';
import type { Strategy, StrategyStart } from './strategy.js';

export function randomWalk(): Strategy {
  let rng: Rng;
  return {
    name: 'random',
    start(ctx: StrategyStart) {
      rng = ctx.rng;
    },
    pick(runnable) {
      return runnable.length === 1 ? runnable[0]! : rng.pick(runnable);
    },
  };
}
