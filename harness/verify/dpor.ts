// The race analysis of dynamic partial-order reduction over the access record (issue 15, item 2):
// after each execution, which earlier choice points must also try another CPU.
//
// Follows Flanagan and Godefroid, "Dynamic partial-order reduction for model checking software"
// (POPL 2005), in its trace form: happens-before by vector clocks, where two steps are ordered when
// they are on one CPU or conflict (harness/kernel/access.ts conflicts(): one location, one of
// them not a read; a lock, kref or completion is a sync access, so a blocked lock attempt
// conflicts with the unlock that wakes it). For each step j, the last earlier step i of another
// CPU that conflicts with j and does not happen before j's CPU reaches j is a race; at the state
// before i, j's CPU joins the backtrack set, or, if it was not runnable there (blocked), every
// runnable CPU (FG05's conservative choice). CPUs asleep at the end of a run cut by sleep sets race
// the trace with the step they would take (known from when they ran from that state).
//
// Preemption bounding (Musuvathi and Qadeer, "Iterative context bounding for systematic testing of
// multithreaded programs", PLDI 2007) makes DPOR unsound: the bound adds dependences between
// independent steps (Coons, Musuvathi and McKinley, "Bounded partial-order reduction", OOPSLA
// 2013). BPOR's remedy, taken here: every backtrack point for CPU q at state i is also added at
// the last context switch at or before i (the last state whose chosen CPU is not the one that ran
// before it), where running q costs no preemption more than the switch already made there.

import { conflicts, accessObject, type Access } from '../kernel/access.js';

export interface Step {
  cpu: number;
  acc: readonly Access[];
}

/** A race: the state before step `i` should also run `cpu`. */
export interface Race {
  i: number;
  cpu: number;
}

/** Whether two steps (of different CPUs) are dependent: some pair of their accesses conflicts. */
export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  for (const x of a) for (const y of b) if (conflicts(x, y)) return true;
  return false;
}

/**
 * The races of a trace whose steps from `from` on are new. `pending` are next steps that did not
 * run (CPUs asleep where the run stopped): they race with the trace as a step at its end would.
 */
export function races(steps: readonly Step[], ncpus: number, from: number, pending: readonly Step[] = []): Race[] {
  const out: Race[] = [];
  const clocks: Int32Array[] = [];
  const cpuClock = Array.from({ length: ncpus }, () => new Int32Array(ncpus));
  const byObject = new Map<number, { step: number; acc: Access }[]>();
  const all = [...steps, ...pending];
  for (let j = 0; j < all.length; j++) {
    const { cpu: p, acc } = all[j]!;
    const isPending = j >= steps.length;
    const before = cpuClock[p]!;
    const deps = new Set<number>();
    for (const a of acc) {
      for (const e of byObject.get(accessObject(a)) ?? []) if (all[e.step]!.cpu !== p && conflicts(a, e.acc)) deps.add(e.step);
    }
    if (j >= from || isPending) {
      let last = -1;
      for (const i of deps) {
        const ci = all[i]!.cpu;
        if (before[ci]! < clocks[i]![ci]! && i > last) last = i;
      }
      if (last >= 0) out.push({ i: last, cpu: p });
    }
    if (isPending) continue;
    const clock = before.slice();
    for (const i of deps) {
      const ci = clocks[i]!;
      for (let c = 0; c < ncpus; c++) if (ci[c]! > clock[c]!) clock[c] = ci[c]!;
    }
    clock[p] = before[p]! + 1;
    clocks.push(clock);
    cpuClock[p] = clock;
    for (const a of acc) {
      const o = accessObject(a);
      let list = byObject.get(o);
      if (!list) byObject.set(o, (list = []));
      list.push({ step: j, acc: a });
    }
  }
  return out;
}
