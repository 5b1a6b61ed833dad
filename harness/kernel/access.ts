import type { Layout, Pool } from './layout.js';

// The access record: which object fields each step read, wrote or synchronised on, taken in the
// kernel's accessors (Kernel.get/set/addr, alloc, free), never from annotations in the models.
//
// Objects are named so that the same object has the same name in another schedule of the same
// program: an object of the boot image by its slot word (the boot image is the same in every
// execution), an object allocated by the program by (its struct, the CPU that allocated it, how
// many of that struct the CPU had allocated before). Slots are handed out in allocation order, so
// they differ between schedules; these names do not, as long as each CPU takes the same path.

/** read: a plain load; write: a store, kzalloc or kfree; sync: an atomic read-modify-write (locks, krefs, completions). */
export const ACCESS_KINDS = ['read', 'write', 'sync'] as const;
export type AccessKind = (typeof ACCESS_KINDS)[number];
export const READ = 0;
export const WRITE = 1;
export const SYNC = 2;

/** The field index that stands for the whole object (its allocation and its free). */
export const WHOLE = 127;
const FIELD_SPAN = 128;
/** Room for the CPUs of a program (and the setup/teardown CPU). */
const CPUS_SPAN = 32;
/**
 * Allocations of one struct by one CPU that get names of their own; later ones share the last name,
 * which only adds dependences. Small enough that an access of the bundled layouts (up to 32 pools)
 * stays a small integer for V8, which hashes those fastest as Map and Set keys.
 */
const ORDINAL_SPAN = 1 << 10;

/**
 * The object that stands for the occurrence counters of fault injection (fail_nth), one field per
 * fault of the execution: a word past every slot of the layout, so it names no real object.
 */
export const faultCounter = (layout: Layout): number => layout.words;

/**
 * The object that stands for which slots of each pool are live, one field per pool: an allocation
 * or free writes it, and a walk over the live slots (Kernel.walk) reads it, so that the walk and an
 * allocation it did not see are dependent (the walk read no field of an object not yet allocated).
 */
export const poolMembers = (layout: Layout): number => layout.words + 1;

/** One access, as a number: (object * 128 + field) * 4 + kind. Objects allocated by the program are negative. */
export type Access = number;

export const accessLoc = (a: Access): number => Math.floor(a / 4);
export const accessKind = (a: Access): number => ((a % 4) + 4) % 4;
/** The object an access touches. */
export const accessObject = (a: Access): number => Math.floor(a / (4 * FIELD_SPAN));
/** The field an access touches, WHOLE for an allocation or free. */
export const accessField = (a: Access): number => accessLoc(a) - accessObject(a) * FIELD_SPAN;
/** The CPU that allocated an object of the program; -1 for an object of the boot image. */
export const allocatorOf = (object: number): number => (object < 0 ? Math.floor((-object - 1) / ORDINAL_SPAN) % CPUS_SPAN : -1);

/**
 * Two accesses conflict when they touch the same field of the same object (an allocation or free
 * touches every field) and one of them is not a read.
 */
export function conflicts(a: Access, b: Access): boolean {
  if (accessKind(a) === READ && accessKind(b) === READ) return false;
  if (accessObject(a) !== accessObject(b)) return false;
  const fa = accessField(a);
  const fb = accessField(b);
  return fa === fb || fa === WHOLE || fb === WHOLE;
}

/**
 * Whether every access of a layout is an int32, as the access record stores them: boot-image
 * objects are named by their word, the program's by (pool, CPU, ordinal). At most 127 pools and
 * about 4 million words.
 */
export function accessesFit(layout: Pick<Layout, 'words' | 'pools'>): boolean {
  const highest = (layout.words + 2) * FIELD_SPAN * 4 - 1; // past the last field of poolMembers, words + 1
  const lastKey = layout.pools.length * CPUS_SPAN + CPUS_SPAN - 1;
  const lowest = -(1 + lastKey * ORDINAL_SPAN + ORDINAL_SPAN - 1) * FIELD_SPAN * 4;
  return highest <= 0x7fffffff && lowest >= -0x80000000;
}

/** The growing tables of an access record. */
interface Tables {
  accesses: Int32Array;
  stepStart: Int32Array;
  stepOp: Int32Array;
  stepCpu: Int32Array;
}

/**
 * The tables of the last record released on this thread, for the next one. A profiling run's
 * record lives only until its profile is copied out; grown anew in every run, its arrays were half
 * of what a race execution had survive V8's minor collections.
 */
let spare: Tables | undefined;

const newTables = (): Tables => ({ accesses: new Int32Array(4096), stepStart: new Int32Array(512), stepOp: new Int32Array(512), stepCpu: new Int32Array(512) });
const EMPTY: Tables = { accesses: new Int32Array(0), stepStart: new Int32Array(0), stepOp: new Int32Array(0), stepCpu: new Int32Array(0) };

function grown(table: Int32Array): Int32Array {
  const out = new Int32Array(Math.max(512, table.length * 2));
  out.set(table);
  return out;
}

export class AccessLog {
  /** The accesses of the execution step after step (the first `count`), and where each step's begin. */
  private tables: Tables;
  private count = 0;
  private steps = 0;
  /** Slot base -> object number, for the objects allocated during the execution. */
  private readonly allocated = new Map<number, number>();
  /** Allocations so far per (pool, cpu). */
  private readonly counts = new Map<number, number>();
  /** Off while the harness itself reads the state (invariants, teardown). */
  on = true;

  constructor() {
    this.tables = spare ?? newTables();
    spare = undefined;
  }

  /** Hand the tables to the next record made on this thread; this one is empty from now on. */
  release(): void {
    if (this.tables !== EMPTY) spare = this.tables;
    this.tables = EMPTY;
    this.count = this.steps = 0;
  }

  /** The next step begins, on `cpu`, in operation `op` of its program. */
  step(cpu: number, op: number): void {
    const t = this.tables;
    if (this.steps === t.stepStart.length) [t.stepStart, t.stepOp, t.stepCpu] = [grown(t.stepStart), grown(t.stepOp), grown(t.stepCpu)];
    t.stepStart[this.steps] = this.count;
    t.stepCpu[this.steps] = cpu;
    t.stepOp[this.steps++] = op;
  }

  /** Steps begun. */
  get length(): number {
    return this.steps;
  }

  /** An object of pool `pool` allocated now by `cpu`, at slot word `base`. */
  allocate(base: number, pool: number, cpu: number): void {
    const key = pool * CPUS_SPAN + cpu;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    this.allocated.set(base, -(1 + key * ORDINAL_SPAN + Math.min(n, ORDINAL_SPAN - 1)));
  }

  note(base: number, field: number, kind: number): void {
    if (!this.on || this.steps === 0) return;
    const obj = this.allocated.get(base) ?? base;
    const t = this.tables;
    if (this.count === t.accesses.length) t.accesses = grown(t.accesses);
    t.accesses[this.count++] = (obj * FIELD_SPAN + field) * 4 + kind;
  }

  /** The accesses of step `t`. */
  of(t: number): Access[] {
    if (t < 0 || t >= this.steps) return [];
    const { accesses, stepStart } = this.tables;
    const from = stepStart[t]!;
    const to = t + 1 < this.steps ? stepStart[t + 1]! : this.count;
    const out = new Array<Access>(to - from);
    for (let i = from; i < to; i++) out[i - from] = accesses[i]!;
    return out;
  }

  /** The record's flat tables as they stand (valid until it is released): step t's accesses are accesses[stepStart[t]...]. */
  flat(): { accesses: Int32Array; stepStart: Int32Array; count: number; steps: number } {
    return { accesses: this.tables.accesses, stepStart: this.tables.stepStart, count: this.count, steps: this.steps };
  }

  /** The index of the operation (of its CPU's program) that step `t` belongs to. */
  opOf(t: number): number {
    return t >= 0 && t < this.steps ? this.tables.stepOp[t]! : 0;
  }

  /** The CPU that ran step `t`. */
  cpuOf(t: number): number {
    return t >= 0 && t < this.steps ? this.tables.stepCpu[t]! : -1;
  }
}

/**
 * An access as text for traces: `write mdev_state@cpu0.1.active` (the second mdev_state that cpu0
 * allocated), `sync mdev_parent#1.lock` (slot 1 of the boot image), `write mdev_state@cpu1.0` (an
 * allocation or free of the whole object).
 */
export function describeAccess(a: Access, layout: Layout): string {
  const loc = accessLoc(a);
  const obj = Math.floor(loc / FIELD_SPAN);
  const field = loc - obj * FIELD_SPAN;
  const kind = ACCESS_KINDS[accessKind(a)]!;
  let pool: Pool | undefined;
  let name: string;
  if (obj < 0) {
    const n = -obj - 1;
    const key = Math.floor(n / ORDINAL_SPAN);
    pool = layout.pools[Math.floor(key / CPUS_SPAN) - 1];
    name = `${pool?.def.name ?? 'object'}@cpu${key % CPUS_SPAN}.${n % ORDINAL_SPAN}`;
  } else if (obj === faultCounter(layout)) {
    return `${kind} fail_nth${field === 0 ? '' : `.${field}`}`;
  } else if (obj === poolMembers(layout)) {
    return `${kind} live ${layout.pools[field - 1]?.def.name ?? `pool${field}`}`;
  } else {
    pool = layout.pools.find((p) => obj >= p.base && obj < p.base + p.capacity * p.slotWords);
    name = pool ? `${pool.def.name}#${(obj - pool.base) / pool.slotWords}` : `word${obj}`;
  }
  const fieldName = field === WHOLE ? '' : `.${pool?.def.fields[field] ?? `field${field}`}`;
  return `${kind} ${name}${fieldName}`;
}
