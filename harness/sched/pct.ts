// PCT (Burckhardt et al., ASPLOS'10): random distinct priorities for the CPUs, and d-1 change points
// drawn uniformly over the length of the execution; the highest-priority runnable CPU always runs,
// and at the i-th change point the running CPU drops to priority d-1-i, below every initial one.
// The length is the program's own, measured by its profiling run (a guessed horizon of steps per
// operation put most change points past the end of short programs, so d=3 acted as d=1 or 2).

import type { Rng } from '../rng.js';
import type { Strategy, StrategyStart } from './strategy.js';

export function pct(depth = 3): Strategy {
  let prio: number[] = [];
  let changeAt: number[] = [];
  return {
    name: `pct(d=${depth})`,
    needsProfile: 'length',
    start({ ncpus, rng, profile }: StrategyStart) {
      prio = initialPriorities(ncpus, depth, rng);
      const horizon = Math.max(2, profile!.length);
      changeAt = Array.from({ length: Math.max(0, depth - 1) }, () => 1 + rng.int(horizon));
    },
    pick(runnable, current, _steps, t) {
      for (let i = 0; i < changeAt.length; i++) if (changeAt[i] === t) prio[current] = depth - 1 - i;
      return highest(runnable, prio);
    },
  };
}

/** Distinct priorities depth .. depth+ncpus-1 in random order: above every change point's. */
export function initialPriorities(ncpus: number, depth: number, rng: Rng): number[] {
  const order = shuffle(Array.from({ length: ncpus }, (_, i) => i), rng);
  const prio = new Array<number>(ncpus);
  order.forEach((cpu, rank) => (prio[cpu] = depth + rank));
  return prio;
}

/** The runnable CPU of highest priority. */
export function highest(runnable: readonly number[], prio: readonly number[]): number {
  let best = runnable[0]!;
  for (const c of runnable) if (prio[c]! > prio[best]!) best = c;
  return best;
}

export function shuffle<T>(xs: T[], rng: Rng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}
