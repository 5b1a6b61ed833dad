// The model kernel: all state in one SharedArrayBuffer, reached only through accessors that
// check every reference (NULL, freed, wrong generation) the way KASAN would, plus the per-CPU
// context the oracles need (call stacks, held locks). Kernel functions are generators; every
// `yield` is a preemption point whose value is its label, `function:step`.

import type { Fault, Finding, FindingKind, TraceEvent } from '../types.js';
import { AccessLog, faultCounter, poolMembers, READ, SYNC, WHOLE, WRITE } from './access.js';
import { FATAL_KINDS } from '../types.js';
import {
  CPU,
  CPU_BLOCKED,
  CPU_WORDS,
  HDR,
  POISON,
  SLOT_FREED,
  SLOT_LIVE,
  SLOT_UNMAPPED,
  WAIT_NONE,
  WAIT_NONZERO,
  WAIT_ZERO,
  makeRef,
  refGen,
  refPool,
  refSlot,
  type Layout,
  type Pool,
  type Ref,
  type StructDef,
} from './layout.js';

/** A kernel function: yields labels at its preemption points, returns T. */
export type Gen<T = void> = Generator<string, T, void>;

/**
 * Thrown out of target code when a fatal oracle fires; the execution ends there. Its finding has
 * the model's own backtrace, so it captures no JavaScript stack, which through the generators of
 * a deep call chain costs more than the rest of a step.
 */
export class KernelOops extends Error {
  readonly finding: Finding;

  constructor(finding: Finding) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(finding.title);
    Error.stackTraceLimit = limit;
    this.finding = finding;
  }
}

export function hashLabel(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/** Labels by function and step (Kernel.at). */
const labelCache = new Map<string, Map<string, string>>();

const callCache = new Map<string, Map<string, string>>();

/**
 * The step `call(arg)`, e.g. `mutex_lock(mdev_list_lock)`, as one string built once: k.at() then
 * finds its label at the cost of two lookups (a string built anew at every call would have to be
 * flattened and hashed for each).
 */
export function callStep(call: string, arg: string): string {
  let args = callCache.get(call);
  if (args === undefined) callCache.set(call, (args = new Map()));
  let step = args.get(arg);
  if (step === undefined) args.set(arg, (step = `${call}(${arg})`));
  return step;
}

/** Interned strings by hash: shared by every execution, so names survive the boot image. */
const sites = new Map<number, string>();
/**
 * The hash of every string interned so far (the same strings as `sites`, a few hundred): paths
 * are interned again at every lookup, and the engine's own string hashing is cheaper than FNV.
 */
const hashes = new Map<string, number>();

/**
 * A table of interned strings shared between threads: the threads and stress engines install one
 * so that a name interned by the thread of one CPU can be read back by the others.
 */
export interface SiteTable {
  added(h: number, s: string): void;
  lookup(h: number): string | undefined;
}

let sharedSites: SiteTable | undefined;

/** Install the shared table of this thread; the strings interned so far go into it. */
export function shareSites(table: SiteTable): void {
  sharedSites = table;
  for (const [h, s] of sites) table.added(h, s);
}

export interface KernelOptions {
  ncpus: number;
  faults?: readonly Fault[];
  /** Record enter/exit/step events for the ladder. */
  events?: boolean;
  /** Keep the access record (Kernel.access). */
  accesses?: boolean;
}

/** Fields of a struct that Tracking.fields can tell apart. */
export const TRACKED_FIELDS = 64;

export interface Tracking {
  /** By pool id: 1 for the pools whose slots are objects of a declared kind. */
  pools: Uint8Array;
  /**
   * By pool id * TRACKED_FIELDS + field index: 1 for a field that a state function has read. A
   * write to any other field cannot change an object's state (transitions.ts), so it is not touched.
   */
  fields: Uint8Array;
  /** Set while a state function runs: the fields it reads are marked in `fields`. */
  reading: boolean;
  /**
   * The header word of each watched slot allocated, freed or written, with the user operation of
   * the CPU that last did (one step may end an operation and begin the next).
   */
  touched: Map<number, string>;
}

export class Kernel {
  readonly mem: Int32Array;
  /** The CPU whose code runs now; set by the executor before each step. */
  cpu = 0;
  /** Index of the current step in the execution, for reports. */
  step = 0;
  readonly stacks: string[][];
  readonly held: string[][];
  readonly findings: Finding[] = [];
  /** Console lines that are not reports (pr_warn, dump_stack): no oracle fires on them. */
  readonly log: string[] = [];
  readonly events: TraceEvent[] | undefined;
  private readonly titles = new Set<string>();
  /** When set, the title of every report made is pushed here, those a title already reported absorbs included. */
  reporting: string[] | undefined;
  /** The faults this execution injects. */
  readonly faults: readonly Fault[];
  private readonly faultCounts = new Map<string, number>();
  /** Lock-order graph of lock classes, for the lockdep oracle. */
  readonly lockOrder = new Map<string, Set<string>>();
  /** The user operation each CPU is running: the event of the transitions its steps make. */
  readonly doing: string[];
  /** Which of its program's operations each CPU is running (0 for the first). */
  readonly opIndex: number[];
  /** When transition coverage is on: which pools to watch, and what was touched since last cleared. */
  tracking: Tracking | undefined;
  /** The access record, when asked for: what each step read, wrote and synchronised on. */
  readonly access: AccessLog | undefined;

  constructor(
    readonly layout: Layout,
    readonly sab: SharedArrayBuffer,
    opts: KernelOptions,
  ) {
    this.mem = new Int32Array(sab);
    this.stacks = Array.from({ length: opts.ncpus + 1 }, () => []);
    this.held = Array.from({ length: opts.ncpus + 1 }, () => []);
    this.doing = new Array<string>(opts.ncpus + 1).fill('');
    this.opIndex = new Array<number>(opts.ncpus + 1).fill(0);
    this.faults = opts.faults ?? [];
    this.events = opts.events ? [] : undefined;
    this.access = opts.accesses ? new AccessLog() : undefined;
  }

  // ---- call stacks and labels ----

  enter(fn: string): void {
    this.stacks[this.cpu]!.push(fn);
    this.events?.push({ e: 'enter', cpu: this.cpu, fn });
  }

  exit(fn: string, ret: unknown): void {
    this.stacks[this.cpu]!.pop();
    if (this.events) this.events.push(typeof ret === 'number' ? { e: 'exit', cpu: this.cpu, fn, ret } : { e: 'exit', cpu: this.cpu, fn });
  }

  /** The kernel function now running on this CPU. */
  fn(): string {
    const s = this.stacks[this.cpu]!;
    return s.length > 0 ? s[s.length - 1]! : 'cpu_idle';
  }

  /**
   * The label of a preemption point in the current function. Labels are few (the model's
   * preemption points), so each is built once and handed out again: coverage keeps them in sets
   * and maps, where a string already hashed costs nothing to look up.
   */
  at(step: string): string {
    const fn = this.fn();
    let steps = labelCache.get(fn);
    if (steps === undefined) labelCache.set(fn, (steps = new Map()));
    let label = steps.get(step);
    if (label === undefined) steps.set(step, (label = `${fn}:${step}`));
    return label;
  }

  /** A string (label, path, module name) as an int32 for the buffer; siteName() reverses it. */
  intern(s: string): number {
    const known = hashes.get(s);
    if (known !== undefined) return known;
    const h = hashLabel(s);
    hashes.set(s, h);
    if (!sites.has(h)) {
      sites.set(h, s);
      sharedSites?.added(h, s);
    }
    return h;
  }

  siteName(h: number): string {
    let s = sites.get(h);
    if (s === undefined && sharedSites) {
      s = sharedSites.lookup(h);
      if (s !== undefined) sites.set(h, s);
    }
    return s ?? `site#${h >>> 0}`;
  }

  // ---- oracles ----

  /** A fatal report: recorded, then thrown so the execution stops here. */
  oops(kind: FindingKind, title: string, detail: string[] = []): never {
    throw new KernelOops(this.report(kind, title, detail));
  }

  /** pr_warn/pr_info: a console line and nothing more (syzkaller reports no title for it). */
  printk(line: string): void {
    if (this.log.length < 64) this.log.push(line);
  }

  /** A warning (WARN, lockdep, invariant): recorded once per title, and the execution goes on. */
  warn(kind: FindingKind, title: string, detail: string[] = []): void {
    if (FATAL_KINDS.has(kind)) this.oops(kind, title, detail);
    this.record(kind, title, detail);
  }

  /** Record a finding (once per title) without stopping; returns the recorded one. */
  report(kind: FindingKind, title: string, detail: string[] = []): Finding {
    return this.record(kind, title, detail) ?? this.findings.find((f) => f.title === title)!;
  }

  private record(kind: FindingKind, title: string, detail: string[]): Finding | undefined {
    this.reporting?.push(title);
    if (this.titles.has(title)) return undefined;
    this.titles.add(title);
    const finding: Finding = { kind, title, cpu: this.cpu, step: this.step, detail: [...detail, ...this.backtrace()] };
    this.findings.push(finding);
    this.events?.push({ e: 'finding', cpu: this.cpu, title });
    return finding;
  }

  /** Whether a finding of this title has been recorded. */
  reported(title: string): boolean {
    return this.titles.has(title);
  }

  backtrace(cpu = this.cpu): string[] {
    const s = this.stacks[cpu] ?? [];
    return s.length === 0 ? [] : [`Call trace (cpu${cpu}):`, ...[...s].reverse().map((f) => ` ${f}`)];
  }

  // ---- slots ----

  private pool(def: StructDef): Pool {
    const p = this.layout.byName.get(def.name);
    if (!p) throw new Error(`no pool for struct ${def.name}`);
    return p;
  }

  /** Allocate a zeroed slot (the non-failing core of kzalloc). */
  alloc<F extends string>(def: StructDef<F>, site: string): Ref<F> {
    const p = this.pool(def);
    const slot = Atomics.add(this.mem, p.cursor, 1);
    if (slot >= p.capacity) throw new Error(`pool ${def.name} exhausted (${p.capacity} slots)`);
    const base = p.base + slot * p.slotWords;
    const gen = 1;
    this.mem[base + HDR.state] = SLOT_LIVE;
    this.mem[base + HDR.gen] = gen;
    this.mem[base + HDR.allocSite] = this.intern(site);
    this.mem[base + HDR.allocAt] = (this.cpu << 24) | (this.step & 0xffffff);
    this.mem[base + HDR.freeSite] = 0;
    this.touch(p, base);
    if (this.access) {
      this.access.allocate(base, p.id, this.cpu);
      this.access.note(base, WHOLE, WRITE);
      this.access.note(poolMembers(this.layout), p.id, WRITE);
    }
    return makeRef(p.id, gen, slot) as Ref<F>;
  }

  /**
   * Static data of a module (a global of its .data/.bss): a live slot owned by `owner` (kept in the
   * header's free-site word while live) until free_module unmaps it; it is never kfree'd.
   */
  allocStatic<F extends string>(def: StructDef<F>, site: string, owner: Ref): Ref<F> {
    const ref = this.alloc(def, site);
    const p = this.pool(def);
    this.mem[p.base + refSlot(ref) * p.slotWords + HDR.freeSite] = owner;
    return ref;
  }

  /** The static slot of `def` owned by `owner` (or the newest of any owner), mapped or not, or 0. */
  staticOf<F extends string>(def: StructDef<F>, owner?: Ref): Ref<F> {
    const p = this.pool(def);
    const n = Math.min(Atomics.load(this.mem, p.cursor), p.capacity);
    for (let slot = n - 1; slot >= 0; slot--) {
      const base = p.base + slot * p.slotWords;
      const st = this.mem[base + HDR.state];
      const own = this.mem[base + HDR.freeSite]!;
      if ((st === SLOT_LIVE || st === SLOT_UNMAPPED) && own !== 0 && (owner === undefined || own === owner)) {
        return makeRef(p.id, this.mem[base + HDR.gen]!, slot) as Ref<F>;
      }
    }
    return 0 as Ref<F>;
  }

  /**
   * free_module: unmap every static slot of `owner`; a later access is a page fault. The module's
   * memory, struct module included, is freed: a free of each for the access record.
   */
  unmapStatic(owner: Ref): void {
    this.access?.note(this.base(owner, 'Free'), WHOLE, WRITE);
    for (const p of this.layout.pools) {
      const n = Math.min(Atomics.load(this.mem, p.cursor), p.capacity);
      for (let slot = 0; slot < n; slot++) {
        const base = p.base + slot * p.slotWords;
        if (this.mem[base + HDR.state] === SLOT_LIVE && this.mem[base + HDR.freeSite] === owner) {
          this.mem[base + HDR.state] = SLOT_UNMAPPED;
          this.touch(p, base);
          this.access?.note(base, WHOLE, WRITE);
        }
      }
    }
  }

  /** Free a slot: poison it and remember where; a second free is a KASAN report. */
  free(ref: Ref, site: string): void {
    const base = this.base(ref, 'Free');
    const p = this.layout.pools[refPool(ref) - 1]!;
    this.mem[base + HDR.state] = SLOT_FREED;
    this.mem[base + HDR.freeSite] = this.intern(site);
    this.mem[base + HDR.freeAt] = (this.cpu << 24) | (this.step & 0xffffff);
    this.mem.fill(POISON, base + 6, base + p.slotWords);
    this.touch(p, base);
    this.access?.note(base, WHOLE, WRITE);
    this.access?.note(poolMembers(this.layout), p.id, WRITE);
  }

  /** A watched slot allocated, freed or unmapped, or its field `field` written (-1: the whole slot). */
  private touch(p: Pool, base: number, field = -1): void {
    const t = this.tracking;
    if (t !== undefined && t.pools[p.id] === 1 && (field < 0 || t.fields[p.id * TRACKED_FIELDS + field] === 1)) t.touched.set(base, this.doing[this.cpu]!);
  }

  isLive(ref: Ref): boolean {
    if (ref === 0) return false;
    const p = this.layout.pools[refPool(ref) - 1];
    if (!p) return false;
    return this.mem[p.base + refSlot(ref) * p.slotWords + HDR.state] === SLOT_LIVE;
  }

  structOf(ref: Ref): StructDef | undefined {
    return this.layout.pools[refPool(ref) - 1]?.def;
  }

  /** Word index of a live slot's header; every access goes through here. */
  private base(ref: Ref, access: 'Read' | 'Write' | 'Free'): number {
    if (ref === 0) {
      this.oops('null-deref', `BUG: kernel NULL pointer dereference in ${this.fn()}`, [`${access} of a NULL pointer`]);
    }
    const p = this.layout.pools[refPool(ref) - 1];
    const slot = refSlot(ref);
    if (!p || slot < 0 || slot >= p.capacity) {
      this.oops('null-deref', `BUG: unable to handle page fault in ${this.fn()}`, [`wild pointer ${ref >>> 0}`]);
    }
    const base = p.base + slot * p.slotWords;
    const state = this.mem[base + HDR.state];
    if (state === SLOT_UNMAPPED) {
      this.oops('unloaded-module', `BUG: unable to handle page fault in ${this.fn()}`, [`${access} of ${p.def.name}, static data of a module that has been freed (free_module)`]);
    }
    if (state !== SLOT_LIVE || this.mem[base + HDR.gen] !== refGen(ref)) {
      const what = access === 'Free' ? 'double-free or invalid-free' : `use-after-free ${access}`;
      this.oops('use-after-free', `KASAN: ${what} in ${this.fn()}`, this.slotHistory(base, p));
    }
    return base;
  }

  private slotHistory(base: number, p: Pool): string[] {
    const where = (at: number): string => `cpu${at >>> 24} step ${at & 0xffffff}`;
    const lines = [`The buggy address belongs to an object of type ${p.def.name}`];
    lines.push(`Allocated at ${this.siteName(this.mem[base + HDR.allocSite]!)} (${where(this.mem[base + HDR.allocAt]!)})`);
    if (this.mem[base + HDR.state] === SLOT_FREED) {
      lines.push(`Freed at ${this.siteName(this.mem[base + HDR.freeSite]!)} (${where(this.mem[base + HDR.freeAt]!)})`);
    }
    return lines;
  }

  private field(ref: Ref, name: string, access: 'Read' | 'Write', kind: number): number {
    // The checks of base() inline, for the common case of a live slot; any other goes through
    // base(), which reports it.
    const p = ref === 0 ? undefined : this.layout.pools[refPool(ref) - 1];
    const slot = refSlot(ref);
    let base = p === undefined || slot < 0 || slot >= p.capacity ? -1 : p.base + slot * p.slotWords;
    if (base < 0 || this.mem[base + HDR.state] !== SLOT_LIVE || this.mem[base + HDR.gen] !== refGen(ref)) base = this.base(ref, access);
    const i = p!.def.index.get(name);
    if (i === undefined) throw new Error(`struct ${p!.def.name} has no field ${name}`);
    if (access === 'Write') this.touch(p!, base, i);
    else if (this.tracking?.reading === true) this.tracking.fields[p!.id * TRACKED_FIELDS + i] = 1;
    this.access?.note(base, i, kind);
    return base + 6 + i;
  }

  /**
   * A field read that is no kernel access (no oracle fires): for the model's own bookkeeping, e.g.
   * a stand-in rule the kernel does not have. 0 for NULL.
   */
  peek<F extends string>(ref: Ref<F>, name: F): number {
    if (ref === 0) return 0;
    const p = this.layout.pools[refPool(ref) - 1];
    const i = p?.def.index.get(name);
    if (!p || i === undefined) return 0;
    return this.mem[p.base + refSlot(ref) * p.slotWords + 6 + i]!;
  }

  get<F extends string>(ref: Ref<F>, name: F): number {
    return this.mem[this.field(ref, name, 'Read', READ)]!;
  }

  set<F extends string>(ref: Ref<F>, name: F, value: number): void {
    this.mem[this.field(ref, name, 'Write', WRITE)] = value;
  }

  /** A field that holds a reference, typed by the struct it points to. */
  ref<F extends string, G extends string>(ref: Ref<F>, name: F, _def: StructDef<G>): Ref<G> {
    return this.get(ref, name) as Ref<G>;
  }

  /** Word index of a field, for the Atomics-based primitives: a synchronising access. */
  addr<F extends string>(ref: Ref<F>, name: F): number {
    return this.field(ref, name, 'Write', SYNC);
  }

  /** The ref of slot `i` of a pool, for per-CPU and singleton structs allocated in order at boot. */
  nth<F extends string>(def: StructDef<F>, i: number): Ref<F> {
    const p = this.pool(def);
    return makeRef(p.id, this.mem[p.base + i * p.slotWords + HDR.gen]!, i) as Ref<F>;
  }

  /** The first live slot of a struct type (in allocation order) that satisfies `pred`, or 0. */
  find<F extends string>(def: StructDef<F>, pred: (ref: Ref<F>) => boolean): Ref<F> {
    const p = this.pool(def);
    // A search stands for a walk of a kernel structure (a kernfs path, the module list): it also
    // read which slots are live, so that an object allocated after it is dependent on it (walk()).
    this.access?.note(poolMembers(this.layout), p.id, READ);
    const n = Math.min(Atomics.load(this.mem, p.cursor), p.capacity);
    for (let slot = 0; slot < n; slot++) {
      const base = p.base + slot * p.slotWords;
      if (this.mem[base + HDR.state] !== SLOT_LIVE) continue;
      const ref = makeRef(p.id, this.mem[base + HDR.gen]!, slot) as Ref<F>;
      if (pred(ref)) return ref;
    }
    return 0 as Ref<F>;
  }

  /**
   * find() for the common search, `field` equal to `value` (and `pred`, if given): the same reads
   * in the same order, without a checked accessor per slot (searches of every kernfs node made half
   * of an execution's field reads).
   */
  findBy<F extends string>(def: StructDef<F>, field: F, value: number, pred?: (ref: Ref<F>) => boolean): Ref<F> {
    const p = this.pool(def);
    this.access?.note(poolMembers(this.layout), p.id, READ);
    const i = p.def.index.get(field);
    if (i === undefined) throw new Error(`struct ${p.def.name} has no field ${field}`);
    const n = Math.min(Atomics.load(this.mem, p.cursor), p.capacity);
    for (let slot = 0; slot < n; slot++) {
      const base = p.base + slot * p.slotWords;
      if (this.mem[base + HDR.state] !== SLOT_LIVE) continue;
      this.access?.note(base, i, READ);
      if (this.mem[base + 6 + i] !== value) continue;
      const ref = makeRef(p.id, this.mem[base + HDR.gen]!, slot) as Ref<F>;
      if (pred === undefined || pred(ref)) return ref;
    }
    return 0 as Ref<F>;
  }

  /**
   * The live slots of `def` as a walk of a kernel list of them sees them (the bus's klist of
   * devices): for the access record a read of which slots are live, so that an allocation the walk
   * did not see is dependent on it. live() is for lookups that stand for a pointer (no such read).
   */
  walk<F extends string>(def: StructDef<F>): Ref<F>[] {
    this.access?.note(poolMembers(this.layout), this.pool(def).id, READ);
    return this.live(def);
  }

  /** Every live slot of a struct type, in allocation order. */
  live<F extends string>(def: StructDef<F>): Ref<F>[] {
    const p = this.pool(def);
    const n = Math.min(Atomics.load(this.mem, p.cursor), p.capacity);
    const out: Ref<F>[] = [];
    for (let slot = 0; slot < n; slot++) {
      const base = p.base + slot * p.slotWords;
      if (this.mem[base + HDR.state] === SLOT_LIVE) out.push(makeRef(p.id, this.mem[base + HDR.gen]!, slot) as Ref<F>);
    }
    return out;
  }

  // ---- blocking ----

  /**
   * Mark the current CPU blocked until a field of `ref` satisfies a condition; the CPU then
   * yields. If the slot is freed meanwhile the CPU is woken, to find that out on its next access.
   */
  block<F extends string>(ref: Ref<F>, field: F, mask: number, op: typeof WAIT_ZERO | typeof WAIT_NONZERO): void {
    const c = this.cpu * CPU_WORDS;
    this.mem[c + CPU.state] = CPU_BLOCKED;
    this.mem[c + CPU.waitAddr] = this.addr(ref, field);
    this.mem[c + CPU.waitRef] = ref;
    this.mem[c + CPU.waitMask] = mask;
    this.mem[c + CPU.waitOp] = op;
  }

  /** Whether a CPU's wait (if any) is satisfied now. */
  waitSatisfied(cpu: number): boolean {
    const c = cpu * CPU_WORDS;
    const op = this.mem[c + CPU.waitOp];
    if (op === WAIT_NONE) return true;
    if (!this.isLive(this.mem[c + CPU.waitRef]! as Ref)) return true;
    const v = Atomics.load(this.mem, this.mem[c + CPU.waitAddr]!) & this.mem[c + CPU.waitMask]!;
    return op === WAIT_ZERO ? v === 0 : v !== 0;
  }

  clearWait(cpu: number): void {
    const c = cpu * CPU_WORDS;
    this.mem[c + CPU.waitOp] = WAIT_NONE;
  }

  // ---- fault injection ----

  /** Count an occurrence of a fallible call; true when the faults say this one fails. */
  shouldFail(call: string): boolean {
    const n = (this.faultCounts.get(call) ?? 0) + 1;
    this.faultCounts.set(call, n);
    if (this.faults.length === 0) return false;
    const named = this.faults.findIndex((f) => f.call === call);
    // With a fault on this call, which occurrence is the nth depends on the order of the CPUs'
    // calls: the counter is shared state, so each occurrence writes it (access.ts faultCounter).
    if (named >= 0) this.access?.note(faultCounter(this.layout), named, WRITE);
    return this.faults.some((f) => f.call === call && f.nth === n);
  }

  /** How often each fallible call was reached, for drawing faults. */
  faultSites(): Map<string, number> {
    return this.faultCounts;
  }

  /** Start counting fallible calls afresh: faults number the occurrences of the program alone. */
  resetFaultCounts(): void {
    this.faultCounts.clear();
  }
}

/**
 * Declare a kernel function: its name goes on the CPU's call stack while it runs. A call is the
 * body's generator inside a KfnCall, not a second generator around it: every step of a CPU passes
 * through each frame of its stack, and a plain method call there costs far less than resuming a
 * generator that only delegates.
 */
export function kfn<A extends unknown[], R>(name: string, body: (k: Kernel, ...args: A) => Gen<R>): (k: Kernel, ...args: A) => Gen<R> {
  const f = callerOf(name, body);
  Object.defineProperty(f, 'name', { value: name });
  return f;
}

/**
 * The function that calls `body` in a KfnCall, passing on as many arguments as it was given
 * without a rest parameter for the common counts (most kernel functions take one to three): a
 * rest parameter would allocate an array and spread it at every call.
 */
function callerOf<A extends unknown[], R>(name: string, body: (k: Kernel, ...args: A) => Gen<R>): (k: Kernel, ...args: A) => Gen<R> {
  const b = body as unknown as (...args: unknown[]) => Gen<R>;
  return function (k: Kernel, x?: unknown, y?: unknown, z?: unknown): Gen<R> {
    switch (arguments.length) {
      case 1:
        return new KfnCall(name, k, b(k));
      case 2:
        return new KfnCall(name, k, b(k, x));
      case 3:
        return new KfnCall(name, k, b(k, x, y));
      case 4:
        return new KfnCall(name, k, b(k, x, y, z));
      default:
        return new KfnCall(name, k, b(...(arguments as unknown as unknown[])));
    }
  } as unknown as (k: Kernel, ...args: A) => Gen<R>;
}

/**
 * One call of a kernel function, as a generator would run it: enter on the first step, exit when
 * the body returns (an oops thrown through it exits nothing, as it unwinds the whole CPU).
 */
class KfnCall<R> implements Gen<R> {
  private started = false;

  constructor(
    private readonly name: string,
    private readonly k: Kernel,
    private readonly body: Gen<R>,
  ) {}

  next(): IteratorResult<string, R> {
    if (!this.started) {
      this.started = true;
      this.k.enter(this.name);
    }
    return this.exited(this.body.next());
  }

  return(value: R): IteratorResult<string, R> {
    return this.body.return(value);
  }

  throw(e: unknown): IteratorResult<string, R> {
    return this.exited(this.body.throw(e));
  }

  [Symbol.iterator](): this {
    return this;
  }

  private exited(r: IteratorResult<string, R>): IteratorResult<string, R> {
    if (r.done === true) this.k.exit(this.name, r.value);
    return r;
  }
}
