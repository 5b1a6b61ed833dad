// The one source of randomness: seedrandom's alea, derived from (campaign seed, execution index),
// so any execution replays alone and shards split indices without changing results.

import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(xs: readonly T[]): T;
}

export function makeRng(seed: string): Rng {
  const prng = seedrandom.alea(seed);
  const next = (): number => prng.double();
  const int = (n: number): number => Math.floor(prng.double() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)]! };
}

/** The PRNG of execution `index` of the campaign seeded `seed`, for one purpose (program, schedule, faults). */
export function execRng(seed: string, index: number, purpose: string): Rng {
  return makeRng(`${seed}:${index}:${purpose}`);
}
