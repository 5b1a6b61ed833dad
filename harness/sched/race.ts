// Race reversal: take one race of the profiling run, two steps of two CPUs that touch one location
// (one of them not reading), and run it the other way round. CPU a runs first, after the CPUs that
// made what it touches (so that it reaches its racing step as it did in the profile), and CPU b
// last; when a is about to run its racing step, b takes the lead (it runs whenever it can, a next),
// so that what b does until it blocks or ends, its racing access included, lands before a's step.
// The races are those of the profile and of the two serial runs it was made of (allRaces). This
// follows Snowboard (Gong et al., SOSP 2021), which takes the pairs of a write and a read of one
// address by two sequentially profiled threads as the places to schedule, clusters them and tries
// the uncommon ones first; and the reads-from reversals that RFF (Wolff et al., ASPLOS 2024) mutates.
//
// Which race, from (seed, index): a pair of CPUs, weighted 1 + (its lifetime races)^2 + (its birth
// races). A lifetime race is one with a lifetime event of b (b frees or unmaps what a touches: the
// use-after-free and unloaded-module windows of a lifecycle); a birth race its mirror, a's write to
// an object a allocated, which b touches (the window between publishing an object and finishing
// it: an open of a half-created device). Then, two thirds of the time, only the pair's lifetime
// races; then, of the rest, half of the time (nine times in ten in a pair without lifetime races)
// only its last birth race in each operation of a, reversed at which b finds the object all but
// finished. Then one operation of a, so that a long operation does not drown a short one; then a
// step of that operation: among lifetime races, one on the rarest location (1 / its accesses in the
// profile), otherwise weighted by the square of that rarity, as Snowboard prefers uncommon channels
// to lock words and lists. Each rule was chosen by forcing every race of a few thousand drawn
// mdev-v5.0 programs once and summing, under the rule, the chances of the races that showed each of
// P1-P5; then checked on 30,000 executions of another seed. The last: birth races (session 14),
// shares of executions of seed `oos` showing P1 0.45% to 0.86%, P2 0.71% to 0.84%, P3 5.34% to
// 5.27%, P4 1.92% to 3.97%, P5 0.74% to 0.80%. A fixed program takes the races in one order of
// those chances instead, each once in any N executions (Series).

import { accessObject, allocatorOf } from '../kernel/access.js';
import { makeRng, type Rng } from '../rng.js';
import { highest, shuffle } from './pct.js';
import { cpuAccesses, type Profile } from './profile.js';
import { addRace, addRaces, BIRTH, collectRaces, drawIndex, LIFETIME, newRaceTable, tableChances, type RaceTable } from './race-table.js';
import type { Strategy, StrategyStart } from './strategy.js';

/** CPU a, about to run its step `step` (in its operation `op`), yields to CPU b. */
export interface Race {
  a: number;
  step: number;
  b: number;
  op: number;
  /** The rarity of the location raced on: 1 / its accesses in the profile (the rarest if several). */
  weight: number;
  /** b frees or unmaps an object a touches at that step. */
  lifetime: boolean;
  /** At that step a writes (allocates, initialises) an object it allocated, where b touches it. */
  birth: boolean;
  /** Taken from the profile's serial run of this index (Profile.runs), not from the profile itself. */
  run?: number;
}

/**
 * The executions of one fixed program (Target.fixedProgram) as a series: the campaign's seed and
 * this execution's index. race then takes the program's races in one weighted order without
 * replacement, the same for every index, so that each of its N races is reversed once in any N
 * consecutive executions; a drawn race (with replacement) can starve a race of small chance.
 */
export interface Series {
  seed: string;
  index: number;
}

export function race(series?: Series): Strategy {
  let prio: number[] = [];
  let chosen: Race | undefined;
  let fired = false;
  return {
    name: 'race',
    needsProfile: 'accesses',
    start({ ncpus, rng, profile }: StrategyStart) {
      chosen = series ? inOrder(allRaces(profile!), series) : drawRace(profile!, rng);
      fired = false;
      prio = priorities(ncpus, chosen, chosen?.run === undefined ? profile! : profile!.runs![chosen.run]!, rng);
    },
    pick(runnable, _current, steps) {
      let best = highest(runnable, prio);
      if (chosen !== undefined && !fired && best === chosen.a && steps[best] === chosen.step) {
        fired = true;
        prio[chosen.b] = prio.length;
        best = highest(runnable, prio);
      }
      return best;
    },
  };
}

/**
 * a first, b last, the others in a random order between; but before a, the CPUs that made what a
 * touches up to its racing step (makers), in the order of a's profiling run, so that a reaches
 * that step as it did there (an open of a third CPU's device finds the device). With no race, all
 * in a random order.
 */
function priorities(ncpus: number, chosen: Race | undefined, profile: Profile, rng: Rng): number[] {
  const first = chosen === undefined ? [] : makers(profile, chosen);
  const middle = Array.from({ length: ncpus }, (_, c) => c).filter((c) => c !== chosen?.a && c !== chosen?.b && !first.includes(c));
  shuffle(middle, rng);
  const order = chosen === undefined ? middle : [chosen.b, ...middle, chosen.a, ...first.reverse()];
  const prio = new Array<number>(ncpus);
  order.forEach((c, i) => (prio[c] = i));
  return prio;
}

/**
 * The CPUs other than a and b that allocated an object a touches up to its racing step, and, in
 * turn, those that allocated what they touch; in the order of a's profiling run.
 */
export function makers(profile: Profile, { a, b, step }: Race): number[] {
  const found = new Set<number>();
  const indexed = cpuAccesses(profile);
  const visit = (cpu: number, upTo: number): void => {
    if (indexed[cpu] === undefined) return;
    const { stepStart, ids, distinct } = indexed[cpu];
    const end = stepStart[Math.min(upTo + 1, stepStart.length - 1)]!;
    for (let j = 0; j < end; j++) {
      const maker = allocatorOf(accessObject(distinct[ids[j]!]!));
      if (maker < 0 || maker === a || maker === b || found.has(maker)) continue;
      found.add(maker);
      visit(maker, Infinity);
    }
  };
  visit(a, step);
  const run = profile.orders?.[a] ?? [...found].sort((x, y) => x - y);
  return run.filter((c) => found.has(c));
}

/** The races of each execution's profile, for drawing one: a table per thread, refilled each time. */
const drawn = newRaceTable();

/** One race of the profile's (allRaces), drawn by raceChances. */
function drawRace(profile: Profile, rng: Rng): Race | undefined {
  const t = collectRaces(profile, drawn);
  return t.count === 0 ? undefined : raceAt(t, drawIndex(t, rng.next()));
}

/** One race, drawn by raceChances. */
export function pickRace(all: readonly Race[], rng: Rng): Race | undefined {
  return all.length === 0 ? undefined : all[drawIndex(tableOf(all), rng.next())];
}

/**
 * The races in a weighted order without replacement (Efraimidis and Spirakis: each race's key an
 * exponential draw over its chance), from the seed alone; the execution takes the one at its index,
 * modulo their number. The profile's own races come first, then those of its serial runs (each in
 * such an order); races of no chance come last in theirs.
 */
export function inOrder(all: readonly Race[], series: Series): Race | undefined {
  if (all.length === 0) return undefined;
  const rng = makeRng(`race-order:${series.seed}`);
  const order = [...weightedOrder(all.filter((r) => r.run === undefined), rng), ...weightedOrder(all.filter((r) => r.run !== undefined), rng)];
  return order[series.index % order.length];
}

function weightedOrder(all: readonly Race[], rng: Rng): Race[] {
  const chances = raceChances(all);
  const keys = chances.map((c) => (c > 0 ? -Math.log(1 - rng.next()) / c : Infinity));
  return all
    .map((_, i) => i)
    .sort((x, y) => keys[x]! - keys[y]! || x - y)
    .map((i) => all[i]!);
}

/**
 * The chance of each race of `all` under race's rule: a pair of CPUs by 1 + (its lifetime races)^2
 * + (its birth races). Within the pair, if it has lifetime races, two thirds of its mass to them
 * (the one on the rarest location, ties alike); then, of what is left, if it has birth races, a half
 * (nine tenths in a pair without lifetime races) to its last birth races (per operation of a and
 * serial run, the birth race of the highest step); the rest to all of its races. Each share is
 * spread over the operations of a uniformly, then over their steps by the rarity of the location,
 * squared.
 */
export function raceChances(all: readonly Race[]): Float64Array {
  return tableChances(tableOf(all));
}

function tableOf(all: readonly Race[]): RaceTable {
  const t = newRaceTable(Math.max(1, all.length));
  for (const r of all) addRace(t, r.a, r.step, r.b, r.op, r.weight, (r.lifetime ? LIFETIME : 0) | (r.birth ? BIRTH : 0), r.run ?? -1);
  return t;
}

function raceAt(t: RaceTable, i: number): Race {
  const r: Race = { a: t.a[i]!, step: t.step[i]!, b: t.b[i]!, op: t.op[i]!, weight: t.weight[i]!, lifetime: (t.flags[i]! & LIFETIME) !== 0, birth: (t.flags[i]! & BIRTH) !== 0 };
  if (t.run[i]! >= 0) r.run = t.run[i]!;
  return r;
}

const rowsOf = (t: RaceTable): Race[] => Array.from({ length: t.count }, (_, i) => raceAt(t, i));

/**
 * The races of the profile, and those of each serial run it was made of between two CPUs that the
 * profile did not both take from that run (theirs are the profile's own). The profile has each CPU
 * as it went furthest, which is not always where its races are: in CPU order a remove frees the
 * device that another CPU's ioctl writes into, then blocks until the fds close; in reverse order it
 * finds no device, and the create after it makes that CPU's run the longer one.
 */
export function allRaces(profile: Profile): Race[] {
  return rowsOf(collectRaces(profile, newRaceTable()));
}

/** Every race of the profile itself: per ordered pair of CPUs, each step of a that races with some step of b. */
export function races(profile: Profile): Race[] {
  const t = newRaceTable();
  addRaces(t, profile, () => true, -1);
  return rowsOf(t);
}
