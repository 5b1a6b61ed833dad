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
// runnable CPU (FG05's conservative choice). CPUs that could still run when a fatal finding ended
// the run race it with a step of unknown accesses, i.e. with the last step of every other CPU that
// does not happen before theirs: the crash ends the trace before the steps that would show their
// races (the free of what the crashing CPU had just read).
//
// Preemption bounding (Musuvathi and Qadeer, "Iterative context bounding for systematic testing of
// multithreaded programs", PLDI 2007) makes DPOR unsound: the bound adds dependences between
// independent steps (Coons, Musuvathi and McKinley, "Bounded partial-order reduction", OOPSLA
// 2013). BPOR's remedy, taken here: every backtrack point for CPU q at state i is also added at
// the last context switch at or before i (the last state whose chosen CPU is not the one that ran
// before it), where running q costs no preemption more than the switch already made there.

import { accessField, accessKind, accessLoc, accessObject, READ, WHOLE, type Access } from '../kernel/access.js';

export interface Step {
  cpu: number;
  acc: readonly Access[];
}

/** A race: the state before step `i` should also run `cpu`. */
export interface Race {
  i: number;
  cpu: number;
}

/**
 * Per location: at [c], the last step of CPU c that wrote (or synced) it; at [ncpus + c], the last
 * that read it; -1 when none. An object's table has these for any of its fields, then at
 * [2 * ncpus ...] the same for the object as a whole (its allocation and free).
 */
type Last = Int32Array;

interface Tables {
  object: Last;
  loc: Last | undefined;
  /** The stamp of the last step whose distinct accesses included this access. */
  seen: number;
}

/** An Int32Array at least `n` long, keeping what `a` holds. */
function grown(a: Int32Array<ArrayBuffer>, n: number): Int32Array<ArrayBuffer> {
  if (a.length >= n) return a;
  const b = new Int32Array(Math.max(n, 2 * a.length));
  b.set(a);
  return b;
}

/**
 * The race analysis of the runs of one exploration, kept from run to run. Per location (and per
 * object, for allocations and frees, which touch every field) only the last writing and the last
 * reading step of each CPU are kept: an earlier step of the same CPU happens before it, so it neither
 * adds to a clock nor is the last race. A run replays the prefix of the one before and then
 * branches: `truncate` undoes the steps past the branch (each step logs what it overwrote), so
 * that only the new steps are analysed, not the whole trace again. Clocks live in one array, step
 * j's at j * ncpus.
 */
export class RaceAnalysis {
  private steps = 0;
  private cpus = new Int32Array(64);
  private clocks: Int32Array<ArrayBuffer>;
  /** Per CPU, its last step: its clock is that step's (all zero before its first). */
  private readonly lastOf: Int32Array;
  /** Per step: its CPU's last step before it, and where its entries begin in the undo log. */
  private lastBefore = new Int32Array(64);
  private undoFrom = new Int32Array(64);
  private readonly byLoc = new Map<number, Last>();
  private readonly byObject = new Map<number, Last>();
  /** The same tables by access, so that an access met again costs one lookup. */
  private readonly byAccess = new Map<Access, Tables>();
  /**
   * The undo log, `undone` entries long: the table a step set an entry of, the entry, the value it
   * had. Typed and never shortened, so that a run's steps allocate nothing once the log is grown.
   */
  private undone = 0;
  private readonly undoTable: Last[] = [];
  private undoEntry = new Int32Array(256);
  private undoValue = new Int32Array(256);

  constructor(private readonly ncpus: number) {
    this.clocks = new Int32Array(64 * ncpus);
    this.lastOf = new Int32Array(ncpus).fill(-1);
  }

  /** Forget the steps from `n` on. */
  truncate(n: number): void {
    for (let j = this.steps - 1; j >= n; j--) {
      const from = this.undoFrom[j]!;
      for (let u = this.undone - 1; u >= from; u--) this.undoTable[u]![this.undoEntry[u]!] = this.undoValue[u]!;
      this.undone = from;
      this.lastOf[this.cpus[j]!] = this.lastBefore[j]!;
    }
    this.steps = Math.min(n, this.steps);
  }

  /** CPU c's entry in the clock of CPU p before p's next step. */
  private clockOf(p: number, c: number): number {
    const last = this.lastOf[p]!;
    return last < 0 ? 0 : this.clocks[last * this.ncpus + c]!;
  }

  /** Add the next step; its race (the last earlier step of another CPU it races with), if any. */
  push(step: Step): Race | undefined {
    const j = this.steps;
    const n = this.ncpus;
    const p = step.cpu;
    const accesses = this.dependences(step);
    const race = this.lastRace(p);
    this.cpus = grown(this.cpus, j + 1);
    this.lastBefore = grown(this.lastBefore, j + 1);
    this.undoFrom = grown(this.undoFrom, j + 1);
    this.clocks = grown(this.clocks, (j + 1) * n);
    const clock = j * n;
    for (let c = 0; c < n; c++) this.clocks[clock + c] = this.clockOf(p, c);
    for (const i of this.deps) {
      for (let c = 0; c < n; c++) if (this.clocks[i * n + c]! > this.clocks[clock + c]!) this.clocks[clock + c] = this.clocks[i * n + c]!;
    }
    this.clocks[clock + p] = this.clockOf(p, p) + 1;
    this.cpus[j] = p;
    this.lastBefore[j] = this.lastOf[p]!;
    this.undoFrom[j] = this.undone;
    this.lastOf[p] = j;
    this.steps = j + 1;
    for (let k = 0; k < accesses.length; k++) {
      const entry = accessKind(accesses[k]!) !== READ ? p : n + p;
      const object = this.objectTables[k]!;
      this.record(object, entry, j);
      const loc = this.locTables[k];
      if (loc) this.record(loc, entry, j);
      else this.record(object, 2 * n + entry, j);
    }
    return race;
  }

  /**
   * The race of CPU p's next step when its accesses are unknown (a fatal finding ended the run
   * before p took it): taken to conflict with everything, it races with the last step of another
   * CPU that does not happen before p goes on.
   */
  unknown(p: number): Race | undefined {
    let last = -1;
    for (let c = 0; c < this.ncpus; c++) {
      const i = this.lastOf[c]!;
      if (c !== p && i > last && this.clockOf(p, c) < this.clocks[i * this.ncpus + c]!) last = i;
    }
    return last >= 0 ? { i: last, cpu: p } : undefined;
  }

  // Scratch of dependences(), reused from step to step: the steps found (marked with the stamp of
  // the step being analysed, so that each is listed once) and the step's distinct accesses.
  private readonly deps: number[] = [];
  private mark = new Int32Array(64);
  private stamp = 0;
  private readonly distinct: Access[] = [];
  /** Per distinct access: its object's table, and its location's (none for the whole object). */
  private readonly objectTables: Last[] = [];
  private readonly locTables: (Last | undefined)[] = [];

  /** Set an entry of a table to step j, logging the value it had (once per step: another access of the step may have set it). */
  private record(t: Last, entry: number, j: number): void {
    if (t[entry] === j) return;
    const u = this.undone++;
    this.undoEntry = grown(this.undoEntry, u + 1);
    this.undoValue = grown(this.undoValue, u + 1);
    this.undoTable[u] = t;
    this.undoEntry[u] = entry;
    this.undoValue[u] = t[entry]!;
    t[entry] = j;
  }

  /**
   * Into `deps`, the steps of other CPUs that `step` conflicts with (the last of each per location);
   * returns its distinct accesses, their tables in objectTables and locTables.
   */
  private dependences({ cpu: p, acc }: Step): readonly Access[] {
    const n = this.ncpus;
    this.deps.length = 0;
    this.distinct.length = 0;
    if (this.mark.length < this.steps) this.mark = new Int32Array(2 * this.steps);
    this.stamp++;
    for (const a of acc) {
      const tables = this.tablesOf(a);
      if (tables.seen === this.stamp) continue;
      tables.seen = this.stamp;
      const k = this.distinct.push(a) - 1;
      const writes = accessKind(a) !== READ;
      const { object, loc } = tables;
      this.objectTables[k] = object;
      this.locTables[k] = loc;
      if (loc === undefined) this.addFrom(object, 0, writes, p);
      else {
        this.addFrom(loc, 0, writes, p);
        this.addFrom(object, 2 * n, writes, p);
      }
    }
    return this.distinct;
  }

  /** The tables of an access: its object's, and its location's unless it is of the whole object. */
  private tablesOf(a: Access): Tables {
    let t = this.byAccess.get(a);
    if (!t) {
      const object = table(this.byObject, accessObject(a), 4 * this.ncpus);
      const loc = accessField(a) === WHOLE ? undefined : table(this.byLoc, accessLoc(a), 2 * this.ncpus);
      this.byAccess.set(a, (t = { object, loc, seen: 0 }));
    }
    return t;
  }

  /** The steps of t (from `at`) that an access of CPU p conflicts with. */
  private addFrom(t: Last, at: number, writes: boolean, p: number): void {
    for (let c = 0; c < this.ncpus; c++) {
      if (c === p) continue;
      this.addDep(t[at + c]!);
      if (writes) this.addDep(t[at + this.ncpus + c]!);
    }
  }

  private addDep(i: number): void {
    if (i < 0 || this.mark[i] === this.stamp) return;
    this.mark[i] = this.stamp;
    this.deps.push(i);
  }

  /** The last of `deps` that does not happen before CPU p reaches its next step. */
  private lastRace(p: number): Race | undefined {
    let last = -1;
    for (const i of this.deps) {
      const ci = this.cpus[i]!;
      if (this.clockOf(p, ci) < this.clocks[i * this.ncpus + ci]! && i > last) last = i;
    }
    return last >= 0 ? { i: last, cpu: p } : undefined;
  }
}

function table(m: Map<number, Last>, key: number, length: number): Last {
  let t = m.get(key);
  if (!t) m.set(key, (t = new Int32Array(length).fill(-1)));
  return t;
}
