// What a profiling run tells the conflict-aware strategies about a program before its schedule is
// drawn: how long it is, and what each step of each CPU touched. The profiling run is the program
// under the default schedule (each CPU runs until it blocks or ends, then the next one), with the
// access record on; it depends on the program alone, so every schedule drawn from it is
// deterministic from (seed, index). A CPU's n-th step in another schedule is taken to touch what
// its n-th step touched here: exact while the CPU takes the same path, a guess after it diverges.

import { accessField, accessKind, accessLoc, accessObject, allocatorOf, conflicts, READ, WHOLE, WRITE, type Access } from '../kernel/access.js';

export interface Profile {
  /** Steps of the profiling run. */
  length: number;
  /** Per CPU, per step of that CPU, the accesses it made. */
  cpus: Access[][][];
  /**
   * The same indexed (cpuAccesses), when the profile was made from an access record: a profiling
   * run indexes its record's flat tables, and its `cpus` are built only if something reads them.
   */
  indexed?: CpuAccesses[];
  /** With the accesses: per CPU, per step, which of the CPU's operations it belongs to. */
  ops?: number[][];
  /** With the accesses: per CPU, the serial order of the run it was profiled in (CPU numbers, first to last). */
  orders?: number[][];
  /** With the accesses, of a program of 2 CPUs or more: the serial runs it was made of, each whole. */
  runs?: Profile[];
}

/** One step of one CPU: `step` counts the steps the CPU ran before it. */
export interface CpuStep {
  cpu: number;
  step: number;
}

/** The accesses of a CPU's step in the profile (none past its end). */
export function stepAccesses(profile: Profile, cpu: number, step: number): readonly Access[] {
  return profile.cpus[cpu]?.[step] ?? [];
}

/** Whether two steps (of different CPUs) touch one location, one of them not reading. */
export function stepsConflict(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) for (const y of b) if (conflicts(x, y)) return true;
  return false;
}

/**
 * The steps that conflict with some step of another CPU: the only places where the order of two
 * CPUs can change what happens. In step order, CPU by CPU.
 */
export function conflictingSteps(profile: Profile): CpuStep[] {
  const indexed = cpuAccesses(profile);
  const masks = objectMasks(profile, indexed);
  const out: CpuStep[] = [];
  indexed.forEach(({ stepStart, ids }, cpu) => {
    const others = ~(1 << cpu);
    const conflicting = conflictMasks(masks, indexed, cpu, others);
    for (let step = 0; step + 1 < stepStart.length; step++) {
      for (let j = stepStart[step]!; j < stepStart[step + 1]!; j++) {
        if (conflicting[ids[j]!] !== 0) {
          out.push({ cpu, step });
          break;
        }
      }
    }
  });
  return out;
}

/** An object touched by two or more CPUs, one of them writing or synchronising on it. */
export interface SharedObject {
  object: number;
  /** Steps of the profile that touch it, per CPU. */
  steps: number[][];
  /** Its accesses in the profile, all CPUs together. */
  accesses: number;
}

export function sharedObjects(profile: Profile): SharedObject[] {
  const indexed = cpuAccesses(profile);
  const masks = objectMasks(profile, indexed);
  const found = new Map<number, SharedObject>();
  masks.objects.forEach((object, o) => {
    if (popcount(masks.any[o]!) >= 2 && masks.written[o] !== 0) found.set(o, { object, steps: indexed.map(() => []), accesses: 0 });
  });
  indexed.forEach(({ stepStart, ids }, cpu) => {
    const objectOf = masks.objectOf[cpu]!;
    for (let step = 0; step + 1 < stepStart.length; step++) {
      for (let j = stepStart[step]!; j < stepStart[step + 1]!; j++) {
        const o = found.get(objectOf[ids[j]!]!);
        if (!o) continue;
        o.accesses++;
        const s = o.steps[cpu]!;
        if (s[s.length - 1] !== step) s.push(step);
      }
    }
  });
  return [...found.values()].sort((a, b) => a.object - b.object);
}

/**
 * One CPU's accesses in a profile, indexed: a step reads the same lock word or list head again and
 * again, and what the masks and rarities need is each distinct access once, with its count.
 */
export interface CpuAccesses {
  /** Its distinct accesses, in the order of their first occurrence. */
  distinct: Int32Array;
  /** How many times it made each. */
  counts: Int32Array;
  /** The accesses of step s are distinct[ids[i]] for i in [stepStart[s], stepStart[s + 1]). */
  stepStart: Int32Array;
  ids: Int32Array;
  /** Of each distinct access, this thread's number for its location and for its object (numbered). */
  locs: Int32Array;
  objects: Int32Array;
}

/** Each CPU's accesses, indexed (computed once per CPU's steps, which a profile shares with the serial run it took them from). */
export function cpuAccesses(profile: Profile): CpuAccesses[] {
  if (profile.indexed) return profile.indexed;
  return profile.cpus.map((steps) => {
    let indexed = indexedOf.get(steps);
    if (indexed === undefined) indexedOf.set(steps, (indexed = indexAccesses(steps)));
    return indexed;
  });
}

/** The steps a CPU took in the profile. */
export const stepCount = (cpu: CpuAccesses): number => cpu.stepStart.length - 1;

/** A CPU's steps as lists of accesses, from its index. */
function stepsOf({ distinct, ids, stepStart }: CpuAccesses): Access[][] {
  const out: Access[][] = [];
  for (let s = 0; s + 1 < stepStart.length; s++) {
    const step: Access[] = [];
    for (let j = stepStart[s]!; j < stepStart[s + 1]!; j++) step.push(distinct[ids[j]!]!);
    out.push(step);
  }
  return out;
}

/** A profile made from its CPUs' indexes; its `cpus` are built from them when first read. */
export function indexedProfile(length: number, indexed: CpuAccesses[], rest: Pick<Profile, 'ops' | 'orders' | 'runs'> = {}): Profile {
  let cpus: Access[][][] | undefined;
  return {
    length,
    get cpus(): Access[][][] {
      return (cpus ??= indexed.map(stepsOf));
    },
    indexed,
    ...rest,
  };
}

const indexedOf = new WeakMap<readonly (readonly Access[])[], CpuAccesses>();

/**
 * Numbers for the locations and objects this thread has met, so that the tables of a profile are
 * typed arrays: a few thousand at most, since objects are named by slot or by (struct, CPU, ordinal).
 */
const numbered = { locs: new Map<number, number>(), objects: new Map<number, number>() };

function numberOf(numbers: Map<number, number>, x: number): number {
  let n = numbers.get(x);
  if (n === undefined) numbers.set(x, (n = numbers.size));
  return n;
}

/**
 * The distinct accesses this thread has met, numbered (bounded as locations and objects are), with
 * the numbers of their location and object: a step's access is looked up once, and indexing a
 * CPU's steps then needs no map of its own.
 */
const accesses = {
  count: 0,
  values: new Int32Array(1024),
  locs: new Int32Array(1024),
  objects: new Int32Array(1024),
  /** Per access number: the indexing (stamp) that last met it, and its place among that indexing's distinct accesses. */
  stamps: new Int32Array(1024),
  places: new Int32Array(1024),
  stamp: 0,
};

/**
 * Access numbers by access, open addressing with linear probing (Fibonacci hashing): a Map lookup
 * per access was most of what indexing a CPU's steps cost. A cell holds its access plus one, so 0
 * is an empty cell (no access is -1: its kind would be 3).
 */
const cells = { bits: 14, keys: new Int32Array(1 << 14), numbers: new Int32Array(1 << 14) };

function cellOf(a: Access): number {
  const { keys, bits } = cells;
  const mask = keys.length - 1;
  let h = Math.imul(a, 0x9e3779b1) >>> (32 - bits);
  while (keys[h] !== 0 && keys[h] !== a + 1) h = (h + 1) & mask;
  return h;
}

function accessNumber(a: Access): number {
  const cell = cellOf(a);
  if (cells.keys[cell] !== 0) return cells.numbers[cell]!;
  const n = accesses.count++;
  describe(a, n);
  cells.keys[cell] = a + 1;
  cells.numbers[cell] = n;
  if (accesses.count * 2 > cells.keys.length) rehash();
  return n;
}

function rehash(): void {
  cells.bits++;
  cells.keys = new Int32Array(1 << cells.bits);
  cells.numbers = new Int32Array(1 << cells.bits);
  for (let n = 0; n < accesses.count; n++) {
    const a = accesses.values[n]!;
    const cell = cellOf(a);
    cells.keys[cell] = a + 1;
    cells.numbers[cell] = n;
  }
}

/** Access number n's value and the numbers of its location and object. */
function describe(a: Access, n: number): void {
  if (n === accesses.values.length) {
    for (const table of ['values', 'locs', 'objects', 'stamps', 'places'] as const) {
      const grown = new Int32Array(n * 2);
      grown.set(accesses[table]);
      accesses[table] = grown;
    }
  }
  accesses.values[n] = a;
  accesses.locs[n] = numberOf(numbered.locs, accessLoc(a));
  accesses.objects[n] = numberOf(numbered.objects, accessObject(a));
}

function indexAccesses(steps: readonly (readonly Access[])[]): CpuAccesses {
  const from = new Int32Array(steps.length);
  const to = new Int32Array(steps.length);
  let total = 0;
  steps.forEach((accesses, s) => {
    from[s] = total;
    to[s] = total += accesses.length;
  });
  return indexSteps(Int32Array.from(steps.flat()), from, to);
}

/**
 * One CPU's steps from an access record's flat tables (steps `stepNumbers` of the record, in
 * order): the same index as of its steps as lists, without making the lists.
 */
export function indexRecord(record: { accesses: Int32Array; stepStart: Int32Array; count: number; steps: number }, stepNumbers: readonly number[]): CpuAccesses {
  const from = new Int32Array(stepNumbers.length);
  const to = new Int32Array(stepNumbers.length);
  for (let s = 0; s < stepNumbers.length; s++) {
    const t = stepNumbers[s]!;
    from[s] = record.stepStart[t]!;
    to[s] = t + 1 < record.steps ? record.stepStart[t + 1]! : record.count;
  }
  return indexSteps(record.accesses, from, to);
}

/** The index of one CPU's accesses: step s made source[from[s]] to source[to[s] - 1]. */
/** indexSteps' tables of the distinct accesses met, by place, and their counts: kept between calls. */
const scratch = { met: new Int32Array(1024), counts: new Int32Array(1024) };

function indexSteps(source: Int32Array, from: Int32Array, to: Int32Array): CpuAccesses {
  const stepStart = new Int32Array(from.length + 1);
  let total = 0;
  for (let s = 0; s < from.length; s++) {
    stepStart[s] = total;
    total += to[s]! - from[s]!;
  }
  stepStart[from.length] = total;
  if (accesses.stamp === 0x3fffffff) [accesses.stamp, accesses.stamps] = [0, new Int32Array(accesses.stamps.length)];
  const stamp = ++accesses.stamp;
  // A CPU's distinct accesses are at most its accesses: the scratch tables fit them all.
  if (scratch.met.length < total) [scratch.met, scratch.counts] = [new Int32Array(2 * total), new Int32Array(2 * total)];
  const { met, counts } = scratch;
  let n = 0;
  const ids = new Int32Array(total);
  let i = 0;
  for (let s = 0; s < from.length; s++) {
    for (let j = from[s]!; j < to[s]!; j++) {
      const a = accessNumber(source[j]!);
      if (accesses.stamps[a] !== stamp) {
        accesses.stamps[a] = stamp;
        accesses.places[a] = n;
        met[n] = a;
        counts[n++] = 0;
      }
      const id = accesses.places[a]!;
      counts[id]!++;
      ids[i++] = id;
    }
  }
  const out: CpuAccesses = { distinct: new Int32Array(n), counts: new Int32Array(n), stepStart, ids, locs: new Int32Array(n), objects: new Int32Array(n) };
  for (let j = 0; j < n; j++) {
    const m = met[j]!;
    out.distinct[j] = accesses.values[m]!;
    out.counts[j] = counts[j]!;
    out.locs[j] = accesses.locs[m]!;
    out.objects[j] = accesses.objects[m]!;
  }
  return out;
}

/**
 * Which CPUs touch each object and each location of a profile, as bit masks, in tables indexed by
 * the profile's own numbers for them.
 */
export interface Masks {
  /** Per CPU, per distinct access of it: the profile's number of its location, and of its object. */
  locOf: Int32Array[];
  objectOf: Int32Array[];
  /** Per location: the CPUs that read it, those that write or synchronise on it, and its accesses by all CPUs. */
  readers: Int32Array;
  writers: Int32Array;
  accesses: Int32Array;
  /** Per object: the object (accessObject). */
  objects: Int32Array;
  /** Per object: the CPUs that touch it at all... */
  any: Int32Array;
  /** ...that allocate or free it... */
  whole: Int32Array;
  /** ...that write, synchronise on, allocate or free it... */
  written: Int32Array;
  /** ...and that free or unmap it, which another CPU (or the boot image) made. */
  frees: Int32Array;
}

/** The profile's number of each of this thread's numbers, valid where its stamp is the profile's. */
const local: { stamp: number; locs: Int32Array; locStamps: Int32Array; objects: Int32Array; objectStamps: Int32Array } = {
  stamp: 0,
  locs: new Int32Array(0),
  locStamps: new Int32Array(0),
  objects: new Int32Array(0),
  objectStamps: new Int32Array(0),
};

function localNumbers(numbers: Map<number, number>, table: Int32Array, stamps: Int32Array): [Int32Array, Int32Array] {
  if (table.length >= numbers.size) return [table, stamps];
  const size = Math.max(1024, numbers.size * 2);
  return [new Int32Array(size), new Int32Array(size)];
}

export function objectMasks(profile: Profile, indexed: readonly CpuAccesses[] = cpuAccesses(profile)): Masks {
  [local.locs, local.locStamps] = localNumbers(numbered.locs, local.locs, local.locStamps);
  [local.objects, local.objectStamps] = localNumbers(numbered.objects, local.objects, local.objectStamps);
  const stamp = ++local.stamp;
  const locCount = { n: 0 };
  const objectCount = { n: 0 };
  const locOf = indexed.map(({ locs }) => renumber(locs, local.locStamps, local.locs, stamp, locCount));
  const objectOf = indexed.map(({ objects }) => renumber(objects, local.objectStamps, local.objects, stamp, objectCount));
  const nlocs = locCount.n;
  const nobjects = objectCount.n;
  const masks: Masks = {
    locOf,
    objectOf,
    readers: new Int32Array(nlocs),
    writers: new Int32Array(nlocs),
    accesses: new Int32Array(nlocs),
    objects: new Int32Array(nobjects),
    any: new Int32Array(nobjects),
    whole: new Int32Array(nobjects),
    written: new Int32Array(nobjects),
    frees: new Int32Array(nobjects),
  };
  indexed.forEach(({ distinct, counts }, cpu) => {
    const bit = 1 << cpu;
    for (let i = 0; i < distinct.length; i++) {
      const a = distinct[i]!;
      const o = objectOf[cpu]![i]!;
      const loc = locOf[cpu]![i]!;
      const object = accessObject(a);
      masks.objects[o] = object;
      masks.any[o]! |= bit;
      if (accessField(a) === WHOLE) {
        masks.whole[o]! |= bit;
        if (accessKind(a) === WRITE && allocatorOf(object) !== cpu) masks.frees[o]! |= bit;
      }
      if (accessKind(a) === READ) masks.readers[loc]! |= bit;
      else {
        masks.writers[loc]! |= bit;
        masks.written[o]! |= bit;
      }
      masks.accesses[loc]! += counts[i]!;
    }
  });
  return masks;
}

/** Thread-wide numbers `from` as the profile's own: each new one (by `stamp`) takes the next of `count`. */
function renumber(from: Int32Array, stamps: Int32Array, own: Int32Array, stamp: number, count: { n: number }): Int32Array {
  const out = new Int32Array(from.length);
  for (let i = 0; i < from.length; i++) {
    const n = from[i]!;
    if (stamps[n] !== stamp) {
      stamps[n] = stamp;
      own[n] = count.n++;
    }
    out[i] = own[n]!;
  }
  return out;
}

/**
 * Of each distinct access of `cpu`, the CPUs of `among` (default all) with an access that conflicts
 * with it (its own included, if one does).
 */
export function conflictMasks(masks: Masks, indexed: readonly CpuAccesses[], cpu: number, among = -1): Int32Array {
  const { distinct } = indexed[cpu]!;
  const locOf = masks.locOf[cpu]!;
  const objectOf = masks.objectOf[cpu]!;
  const out = new Int32Array(distinct.length);
  for (let i = 0; i < distinct.length; i++) {
    const a = distinct[i]!;
    const o = objectOf[i]!;
    let m: number;
    if (accessField(a) === WHOLE) m = masks.any[o]!;
    else {
      const writers = masks.writers[locOf[i]!]! | masks.whole[o]!;
      m = accessKind(a) === READ ? writers : writers | masks.readers[locOf[i]!]!;
    }
    out[i] = m & among;
  }
  return out;
}

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}
