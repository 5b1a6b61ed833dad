// The scheduling strategy interface: start an execution, pick the next CPU among the runnable ones.
// Strategies draw their random values from the execution's PRNG, never from anything else.

import type { Rng } from '../rng.js';
import type { Profile } from './profile.js';

export interface StrategyStart {
  ncpus: number;
  /** Number of operations in the program. */
  ops: number;
  rng: Rng;
  /** The program's profiling run, when the strategy asks for one (needsProfile). */
  profile?: Profile;
}

export interface Strategy {
  readonly name: string;
  /**
   * What start() needs of the program's profiling runs, which the executor then runs first: its
   * length alone (one serial run), or the accesses of every step (two, with the access record).
   */
  readonly needsProfile?: 'length' | 'accesses';
  start(ctx: StrategyStart): void;
  /**
   * The CPU to run next. `runnable` is ascending and non-empty; `current` ran the last step (0 at
   * the start); `steps[c]` counts the steps CPU c has run; `t` counts the steps of the execution.
   */
  pick(runnable: readonly number[], current: number, steps: readonly number[], t: number): number;
}

/** The default between preemptions: keep the current CPU, or the next runnable one round-robin. */
export function defaultNext(runnable: readonly number[], current: number): number {
  if (runnable.includes(current)) return current;
  for (const c of runnable) if (c > current) return c;
  return runnable[0]!;
}
