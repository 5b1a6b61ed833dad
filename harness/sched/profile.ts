// What a profiling run tells the conflict-aware strategies about a program before its schedule is
// drawn: how long it is, and what each step of each CPU touched. The profiling run is the program
// under the default schedule (each CPU runs until it blocks or ends, then the next one), with the
// access record on; it depends on the program alone, so every schedule drawn from it is
// deterministic from (seed, index). A CPU's n-th step in another schedule is taken to touch what
// its n-th step touched here: exact while the CPU takes the same path, a guess after it diverges.

import { accessField, accessKind, accessObject, allocatorOf, conflicts, READ, WHOLE, WRITE, type Access } from '../kernel/access.js';

export interface Profile {
  /** Steps of the profiling run. */
  length: number;
  /** Per CPU, per step of that CPU, the accesses it made. */
  cpus: Access[][][];
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
  const masks = objectMasks(profile);
  const out: CpuStep[] = [];
  profile.cpus.forEach((steps, cpu) => {
    const others = ~(1 << cpu);
    steps.forEach((accesses, step) => {
      if (accesses.some((a) => (conflictMask(masks, a) & others) !== 0)) out.push({ cpu, step });
    });
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
  const found = new Map<number, SharedObject>();
  const masks = objectMasks(profile);
  for (const [object, m] of masks) {
    if (popcount(m.any) < 2 || m.written === 0) continue;
    found.set(object, { object, steps: profile.cpus.map(() => []), accesses: 0 });
  }
  profile.cpus.forEach((steps, cpu) =>
    steps.forEach((accesses, step) => {
      for (const a of accesses) {
        const o = found.get(accessObject(a));
        if (!o) continue;
        o.accesses++;
        const s = o.steps[cpu]!;
        if (s[s.length - 1] !== step) s.push(step);
      }
    }),
  );
  return [...found.values()].sort((a, b) => a.object - b.object);
}

/** Per object, which CPUs touch it: per field as readers and as writers, and as a whole. */
export interface Masks {
  reads: Map<number, number>;
  writes: Map<number, number>;
  /** CPUs that allocate or free it. */
  whole: number;
  /** CPUs that touch it at all. */
  any: number;
  /** CPUs that write, synchronise on, allocate or free it. */
  written: number;
  /** CPUs that free or unmap it, which another CPU (or the boot image) made. */
  frees: number;
}

/**
 * Each CPU's distinct accesses in the profile, with how many times it made each, in the order of
 * their first occurrence: a step reads the same lock word or list head again and again, and what
 * the masks and rarities need is the set and the counts.
 */
export function accessCounts(profile: Profile): Map<Access, number>[] {
  return profile.cpus.map((steps) => {
    let counts = countsOf.get(steps);
    if (counts) return counts;
    countsOf.set(steps, (counts = new Map<Access, number>()));
    for (const accesses of steps) for (const a of accesses) counts.set(a, (counts.get(a) ?? 0) + 1);
    return counts;
  });
}

/** A CPU's counts by its steps, which a profile shares with the serial run it took them from. */
const countsOf = new WeakMap<readonly (readonly Access[])[], Map<Access, number>>();

export function objectMasks(profile: Profile, counts: readonly Map<Access, number>[] = accessCounts(profile)): Map<number, Masks> {
  const masks = new Map<number, Masks>();
  counts.forEach((distinct, cpu) => {
    const bit = 1 << cpu;
    for (const a of distinct.keys()) {
      const o = accessObject(a);
      let m = masks.get(o);
      if (!m) masks.set(o, (m = { reads: new Map(), writes: new Map(), whole: 0, any: 0, written: 0, frees: 0 }));
      m.any |= bit;
      const f = accessField(a);
      if (f === WHOLE) m.whole |= bit;
      if (f === WHOLE && accessKind(a) === WRITE && allocatorOf(o) !== cpu) m.frees |= bit;
      const byField = accessKind(a) === READ ? m.reads : m.writes;
      byField.set(f, (byField.get(f) ?? 0) | bit);
      if (accessKind(a) !== READ) m.written |= bit;
    }
  });
  return masks;
}

/** The CPUs with an access that conflicts with `a` (its own CPU included, if it does). */
export function conflictMask(masks: Map<number, Masks>, a: Access): number {
  const m = masks.get(accessObject(a));
  if (!m) return 0;
  const f = accessField(a);
  if (f === WHOLE) return m.any;
  const writers = (m.writes.get(f) ?? 0) | m.whole;
  return accessKind(a) === READ ? writers : writers | (m.reads.get(f) ?? 0);
}

function popcount(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}
