// PCT (Burckhardt et al., ASPLOS'10): random distinct priorities for the CPUs, and d-1 change points
// drawn over the expected length of the execution; the highest-priority runnable CPU always runs,
// and at the i-th change point the running CPU drops to priority d-1-i, below every initial one.

import type { Rng } from '../rng.js';
import type { Strategy, StrategyStart } from './strategy.js';

/** Steps an operation of the models takes, on average, to size the horizon of change points. */
const STEPS_PER_OP = 16;

export function pct(depth = 3): Strategy {
  let prio: number[] = [];
  let changeAt: number[] = [];
  return {
    name: `pct(d=${depth})`,
    start({ ncpus, ops, rng }: StrategyStart) {
      const order = shuffle(Array.from({ length: ncpus }, (_, i) => i), rng);
      prio = new Array<number>(ncpus);
      order.forEach((cpu, rank) => (prio[cpu] = depth + rank));
      const horizon = Math.max(2, ops * STEPS_PER_OP);
      changeAt = Array.from({ length: Math.max(0, depth - 1) }, () => 1 + rng.int(horizon));
    },
    pick(runnable, current, _steps, t) {
      for (let i = 0; i < changeAt.length; i++) if (changeAt[i] === t) prio[current] = depth - 1 - i;
      let best = runnable[0]!;
      for (const c of runnable) if (prio[c]! > prio[best]!) best = c;
      return best;
    },
  };
}

function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
