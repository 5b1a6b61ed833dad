// The races of a profile as columns: race i is a[i], step[i], b[i], ... A profile of mdev-v5.0 has
// about 235 of them and race draws one per execution, so they are numbers in typed arrays, not an
// object each; their chances are computed over the columns with the arithmetic of race.ts's rule,
// operation for operation in the same order, so that a draw picks the race it always picked.

import { accessKind, accessObject, allocatorOf, WRITE } from '../kernel/access.js';
import { conflictMasks, cpuAccesses, objectMasks, type Profile } from './profile.js';

/** flags: b frees or unmaps an object a touches at that step (Race.lifetime). */
export const LIFETIME = 1;
/** flags: at that step a writes an object it allocated, where b touches it (Race.birth). */
export const BIRTH = 2;

export interface RaceTable {
  count: number;
  a: Int32Array;
  step: Int32Array;
  b: Int32Array;
  op: Int32Array;
  weight: Float64Array;
  flags: Int32Array;
  /** The serial run of Profile.runs it was taken from, or -1: the profile's own. */
  run: Int32Array;
}

export function newRaceTable(capacity = 256): RaceTable {
  return {
    count: 0,
    a: new Int32Array(capacity),
    step: new Int32Array(capacity),
    b: new Int32Array(capacity),
    op: new Int32Array(capacity),
    weight: new Float64Array(capacity),
    flags: new Int32Array(capacity),
    run: new Int32Array(capacity),
  };
}

function grow(t: RaceTable): void {
  const bigger = newRaceTable(t.a.length * 2);
  for (const column of ['a', 'step', 'b', 'op', 'flags', 'run'] as const) bigger[column].set(t[column]);
  bigger.weight.set(t.weight);
  Object.assign(t, { ...bigger, count: t.count });
}

export function addRace(t: RaceTable, a: number, step: number, b: number, op: number, weight: number, flags: number, run: number): void {
  if (t.count === t.a.length) grow(t);
  const i = t.count++;
  t.a[i] = a;
  t.step[i] = step;
  t.b[i] = b;
  t.op[i] = op;
  t.weight[i] = weight;
  t.flags[i] = flags;
  t.run[i] = run;
}

/**
 * Every race of the profile (of the pairs of CPUs `keep` keeps): per ordered pair of CPUs, each
 * step of a that races with some step of b; appended to `t`, as of serial run `run` (-1: none).
 */
export function addRaces(t: RaceTable, profile: Profile, keep: (a: number, b: number) => boolean, run: number): void {
  const indexed = cpuAccesses(profile);
  const masks = objectMasks(profile, indexed);
  const ncpus = indexed.length;
  const weights = new Float64Array(ncpus);
  indexed.forEach(({ stepStart, ids, distinct }, a) => {
    let others = 0;
    for (let b = 0; b < ncpus; b++) if (b !== a && keep(a, b)) others |= 1 << b;
    if (others === 0) return;
    // What an access conflicts with depends on the access alone, not on the step that made it.
    const raced = conflictMasks(masks, indexed, a, others);
    const { life, born, rarity } = perAccess(distinct.length);
    const objectOf = masks.objectOf[a]!;
    const locOf = masks.locOf[a]!;
    for (let x = 0; x < distinct.length; x++) {
      const r = raced[x]!;
      if (r === 0) continue;
      life[x] = r & masks.frees[objectOf[x]!]!;
      born[x] = ownWrite(distinct[x]!, a) ? r : 0;
      rarity[x] = 1 / masks.accesses[locOf[x]!]!;
    }
    const ops = profile.ops?.[a];
    for (let step = 0; step + 1 < stepStart.length; step++) {
      let racing = 0;
      let lifetime = 0;
      let birth = 0;
      for (let j = stepStart[step]!; j < stepStart[step + 1]!; j++) {
        const x = ids[j]!;
        const r = raced[x]!;
        if (r === 0) continue;
        racing |= r;
        lifetime |= life[x]!;
        birth |= born[x]!;
        const q = rarity[x]!;
        for (let bits = r; bits !== 0; bits &= bits - 1) {
          const b = 31 - Math.clz32(bits & -bits);
          if (q > weights[b]!) weights[b] = q;
        }
      }
      if (racing === 0) continue;
      for (let b = 0; racing >> b !== 0; b++) {
        const bit = 1 << b;
        if (!(racing & bit)) continue;
        addRace(t, a, step, b, ops?.[step] ?? 0, weights[b]!, (lifetime & bit ? LIFETIME : 0) | (birth & bit ? BIRTH : 0), run);
        weights[b] = 0;
      }
    }
  });
}

/** Per distinct access of a CPU, what it races with: b's lifetime events, a's births, the rarity of its location. */
const columns = { life: new Int32Array(256), born: new Int32Array(256), rarity: new Float64Array(256) };

function perAccess(n: number): typeof columns {
  if (columns.life.length < n) Object.assign(columns, { life: new Int32Array(2 * n), born: new Int32Array(2 * n), rarity: new Float64Array(2 * n) });
  return columns;
}

/** Whether an access writes (allocates, initialises, frees) an object that `cpu` allocated (program objects are negative). */
const ownWrite = (x: number, cpu: number): boolean => x < 0 && accessKind(x) === WRITE && allocatorOf(accessObject(x)) === cpu;

/**
 * The races of the profile, and those of each serial run it was made of between two CPUs that the
 * profile did not both take from that run (theirs are the profile's own), into `t` emptied first.
 */
export function collectRaces(profile: Profile, t: RaceTable): RaceTable {
  t.count = 0;
  addRaces(t, profile, () => true, -1);
  profile.runs?.forEach((run, i) => {
    const fromRun = cpuAccesses(profile).map((_, c) => profile.orders?.[c] === run.orders?.[c]);
    if (fromRun.every(Boolean)) return;
    addRaces(t, run, (a, b) => !(fromRun[a] && fromRun[b]), i);
  });
  return t;
}

/** Scratch of spread(), kept between calls: an operation's slot, and each slot's top weight and sum. */
const scratch = { slotOf: new Map<number, number>(), slots: new Int32Array(64), tops: new Float64Array(64), sums: new Float64Array(64) };

/**
 * The chance of each race under race's rule (race.ts, raceChances): per pair of CPUs in ascending
 * order, its lifetime races, its last birth races, then all of them, each share spread over the
 * operations of a and then over their steps.
 */
export function tableChances(t: RaceTable): Float64Array {
  const chances = new Float64Array(t.count);
  const { order, starts } = byPair(t);
  const npairs = starts.length - 1;
  const pairWeights = new Float64Array(npairs);
  let total = 0;
  for (let p = 0; p < npairs; p++) {
    let lifetimeRaces = 0;
    let birthRaces = 0;
    for (let j = starts[p]!; j < starts[p + 1]!; j++) {
      const f = t.flags[order[j]!]!;
      if (f & LIFETIME) lifetimeRaces++;
      if (f & BIRTH) birthRaces++;
    }
    pairWeights[p] = 1 + lifetimeRaces ** 2 + birthRaces;
  }
  for (let p = 0; p < npairs; p++) total += pairWeights[p]!;
  const lastBirth = new Uint8Array(t.count);
  const last = new Map<number, number>();
  const lifetimes: number[] = [];
  const lasts: number[] = [];
  for (let p = 0; p < npairs; p++) {
    const pair = order.subarray(starts[p]!, starts[p + 1]!);
    // Per operation of a and serial run, the birth race of the highest step (the first of equals).
    last.clear();
    for (const i of pair) {
      if (!(t.flags[i]! & BIRTH)) continue;
      const key = t.op[i]! * 16 + t.run[i]! + 1;
      const j = last.get(key);
      if (j === undefined || t.step[j]! < t.step[i]!) last.set(key, i);
    }
    for (const i of last.values()) lastBirth[i] = 1;
    lifetimes.length = 0;
    lasts.length = 0;
    for (const i of pair) {
      if (t.flags[i]! & LIFETIME) lifetimes.push(i);
      if (lastBirth[i] === 1) lasts.push(i);
    }
    let mass = pairWeights[p]! / total;
    if (lifetimes.length > 0) {
      spread(t, chances, lifetimes, (mass * 2) / 3, true);
      mass /= 3;
    }
    if (lasts.length > 0) {
      const share = lifetimes.length > 0 ? 1 / 2 : 9 / 10;
      spread(t, chances, lasts, mass * share, false);
      mass *= 1 - share;
    }
    spread(t, chances, pair, mass, false);
  }
  return chances;
}

/**
 * Add `mass` to the chances of `pool` (races in ascending order): spread over its operations of a
 * uniformly, then within each over its races by the rarity of their location squared, or, with
 * `rarestOnly`, over the races on the rarest location alone.
 */
function spread(t: RaceTable, chances: Float64Array, pool: ArrayLike<number>, mass: number, rarestOnly: boolean): void {
  const { slotOf } = scratch;
  if (scratch.slots.length < pool.length) scratch.slots = new Int32Array(pool.length * 2);
  slotOf.clear();
  const { slots } = scratch;
  for (let j = 0; j < pool.length; j++) {
    const op = t.op[pool[j]!]!;
    let slot = slotOf.get(op);
    if (slot === undefined) {
      slot = slotOf.size;
      slotOf.set(op, slot);
      if (slot === scratch.tops.length) [scratch.tops, scratch.sums] = [doubled(scratch.tops), doubled(scratch.sums)];
      scratch.tops[slot] = -Infinity;
      scratch.sums[slot] = 0;
    }
    slots[j] = slot;
    scratch.tops[slot] = Math.max(scratch.tops[slot]!, t.weight[pool[j]!]!);
  }
  const { tops, sums } = scratch;
  const w = (i: number, slot: number): number => (rarestOnly ? (t.weight[i] === tops[slot] ? 1 : 0) : t.weight[i]! ** 2);
  for (let j = 0; j < pool.length; j++) sums[slots[j]!]! += w(pool[j]!, slots[j]!);
  const share = mass / slotOf.size;
  for (let j = 0; j < pool.length; j++) {
    const i = pool[j]!;
    chances[i]! += share * (w(i, slots[j]!) / sums[slots[j]!]!);
  }
}

function doubled(xs: Float64Array): Float64Array<ArrayBuffer> {
  const out = new Float64Array(xs.length * 2);
  out.set(xs);
  return out;
}

/**
 * The races ordered by pair of CPUs (a, then b, ascending), each pair's in ascending order: a
 * counting sort. starts[p] is where pair p begins in `order`; the last entry is the count.
 */
function byPair(t: RaceTable): { order: Int32Array; starts: number[] } {
  let cpus = 0;
  for (let i = 0; i < t.count; i++) cpus = Math.max(cpus, t.a[i]! + 1, t.b[i]! + 1);
  const buckets = new Int32Array(cpus * cpus + 1);
  const keyOf = (i: number): number => t.a[i]! * cpus + t.b[i]!;
  for (let i = 0; i < t.count; i++) buckets[keyOf(i) + 1]!++;
  const starts: number[] = [];
  for (let k = 0; k < cpus * cpus; k++) {
    if (buckets[k + 1] !== 0) starts.push(buckets[k]!);
    buckets[k + 1]! += buckets[k]!;
  }
  starts.push(t.count);
  const order = new Int32Array(t.count);
  const next = buckets.slice(0, cpus * cpus);
  for (let i = 0; i < t.count; i++) order[next[keyOf(i)]!++] = i;
  return { order, starts };
}

/** The index of one race drawn by its chance (rng.next() is `x`), or -1 with no race. */
export function drawIndex(t: RaceTable, x: number): number {
  if (t.count === 0) return -1;
  const chances = tableChances(t);
  let last = 0;
  for (let i = 0; i < t.count; i++) {
    if (chances[i]! <= 0) continue;
    last = i;
    if ((x -= chances[i]!) < 0) return i;
  }
  return last;
}
