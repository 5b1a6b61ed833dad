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

import { accessField, accessKind, accessLoc, accessObject, READ, WHOLE, type Access } from '../kernel/access.js';

/** Fields per object in an access's location (harness/kernel/access.ts FIELD_SPAN). */
const FIELDS = 128;

export interface Step {
  cpu: number;
  acc: readonly Access[];
}

/** A race: the state before step `i` should also run `cpu`. */
export interface Race {
  i: number;
  cpu: number;
}

/** A step's accesses by location: true where it writes or syncs; and the objects it allocates or frees. */
interface Summary {
  locs: Map<number, boolean>;
  objects: Map<number, boolean>;
  whole: Set<number>;
}
const summaries = new WeakMap<readonly Access[], Summary>();
function summary(acc: readonly Access[]): Summary {
  let s = summaries.get(acc);
  if (s) return s;
  s = { locs: new Map(), objects: new Map(), whole: new Set() };
  for (const a of acc) {
    const w = accessKind(a) !== READ;
    const loc = accessLoc(a);
    const obj = accessObject(a);
    s.locs.set(loc, (s.locs.get(loc) ?? false) || w);
    s.objects.set(obj, (s.objects.get(obj) ?? false) || w);
    if (accessField(a) === WHOLE) s.whole.add(obj);
  }
  summaries.set(acc, s);
  return s;
}

/** Whether two steps (of different CPUs) are dependent: some pair of their accesses conflicts. */
export function dependent(a: readonly Access[], b: readonly Access[]): boolean {
  const x = summary(a);
  const y = summary(b);
  const [small, big] = x.locs.size <= y.locs.size ? [x, y] : [y, x];
  for (const [loc, w] of small.locs) {
    const v = big.locs.get(loc);
    if (v !== undefined && (v || w)) return true;
  }
  for (const obj of x.whole) if (y.objects.has(obj)) return true;
  for (const obj of y.whole) if (x.objects.has(obj)) return true;
  return false;
}

/** Per CPU, the last step that wrote (or synced) and the last that read a location: -1 when none. */
class Last {
  readonly w: Int32Array;
  readonly r: Int32Array;
  constructor(ncpus: number) {
    this.w = new Int32Array(ncpus).fill(-1);
    this.r = new Int32Array(ncpus).fill(-1);
  }
}

/**
 * The race analysis of the runs of one exploration, kept from run to run. Per location (and per
 * object, for allocations and frees, which touch every field) only the last writing and the last
 * reading step of each CPU are kept: an earlier step of the same CPU happens before it, so it neither
 * adds to a clock nor is the last race. A run replays the prefix of the one before and then
 * branches: `truncate` undoes the steps past the branch (each step logs what it overwrote), so
 * that only the new steps are analysed, not the whole trace again.
 */
export class RaceAnalysis {
  private readonly cpus: number[] = [];
  private readonly clocks: Int32Array[] = [];
  private readonly cpuClock: Int32Array[];
  private readonly byLoc = new Map<number, Last>();
  private readonly byObject = new Map<number, Last>();
  /** Per step: its CPU's clock before it, and where its entries begin in the undo log. */
  private readonly clockBefore: Int32Array[] = [];
  private readonly undoFrom: number[] = [];
  /** The undo log: the table entry a step set, the kind (1 write, 0 read), the value it had. */
  private readonly undoLast: Last[] = [];
  private readonly undoWrite: boolean[] = [];
  private readonly undoValue: number[] = [];

  constructor(private readonly ncpus: number) {
    this.cpuClock = Array.from({ length: ncpus }, () => new Int32Array(ncpus));
  }

  get length(): number {
    return this.clocks.length;
  }

  /** Forget the steps from `n` on. */
  truncate(n: number): void {
    for (let j = this.clocks.length - 1; j >= n; j--) {
      for (let u = this.undoLast.length - 1; u >= this.undoFrom[j]!; u--) (this.undoWrite[u] ? this.undoLast[u]!.w : this.undoLast[u]!.r)[this.cpus[j]!] = this.undoValue[u]!;
      const from = this.undoFrom[j]!;
      this.undoLast.length = this.undoWrite.length = this.undoValue.length = from;
      this.cpuClock[this.cpus[j]!] = this.clockBefore[j]!;
    }
    this.cpus.length = this.clocks.length = this.clockBefore.length = this.undoFrom.length = Math.min(n, this.clocks.length);
  }

  /** Add the next step; its race (the last earlier step of another CPU it races with), if any. */
  push(step: Step): Race | undefined {
    const j = this.clocks.length;
    const { deps, seen } = this.dependences(step);
    const race = this.lastRace(step.cpu, deps);
    const p = step.cpu;
    const before = this.cpuClock[p]!;
    const clock = before.slice();
    for (const i of deps) {
      const ci = this.clocks[i]!;
      for (let c = 0; c < this.ncpus; c++) if (ci[c]! > clock[c]!) clock[c] = ci[c]!;
    }
    clock[p] = before[p]! + 1;
    this.cpus.push(p);
    this.clocks.push(clock);
    this.clockBefore.push(before);
    this.undoFrom.push(this.undoLast.length);
    this.cpuClock[p] = clock;
    for (const a of seen) {
      const writes = accessKind(a) !== READ;
      for (const t of [table(this.byLoc, accessLoc(a), this.ncpus), table(this.byObject, accessObject(a), this.ncpus)]) {
        const entries = writes ? t.w : t.r;
        this.undoLast.push(t);
        this.undoWrite.push(writes);
        this.undoValue.push(entries[p]!);
        entries[p] = j;
      }
    }
    return race;
  }

  /** The race of a step that did not run (a CPU asleep where the run stopped), as a step at the end would race. */
  pending(step: Step): Race | undefined {
    return this.lastRace(step.cpu, this.dependences(step).deps);
  }

  /** The steps of other CPUs that `step` conflicts with (the last of each per location), and its distinct accesses. */
  private dependences({ cpu: p, acc }: Step): { deps: Set<number>; seen: Set<Access> } {
    const deps = new Set<number>();
    const addFrom = (t: Last | undefined, writes: boolean): void => {
      if (!t) return;
      for (let c = 0; c < this.ncpus; c++) {
        if (c === p) continue;
        if (t.w[c]! >= 0) deps.add(t.w[c]!);
        if (writes && t.r[c]! >= 0) deps.add(t.r[c]!);
      }
    };
    const seen = new Set<Access>();
    for (const a of acc) {
      if (seen.has(a)) continue;
      seen.add(a);
      const writes = accessKind(a) !== READ;
      const obj = accessObject(a);
      if (accessField(a) === WHOLE) addFrom(this.byObject.get(obj), writes);
      else {
        addFrom(this.byLoc.get(accessLoc(a)), writes);
        addFrom(this.byLoc.get(obj * FIELDS + WHOLE), writes);
      }
    }
    return { deps, seen };
  }

  /** The last dependence of a step of CPU p that does not happen before p reaches it. */
  private lastRace(p: number, deps: Set<number>): Race | undefined {
    const before = this.cpuClock[p]!;
    let last = -1;
    for (const i of deps) {
      const ci = this.cpus[i]!;
      if (before[ci]! < this.clocks[i]![ci]! && i > last) last = i;
    }
    return last >= 0 ? { i: last, cpu: p } : undefined;
  }
}

function table(m: Map<number, Last>, key: number, ncpus: number): Last {
  let t = m.get(key);
  if (!t) m.set(key, (t = new Last(ncpus)));
  return t;
}
