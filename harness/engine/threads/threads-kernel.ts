// What the threads and stress engines add to the kernel: a control region after the model's words
// in the same SharedArrayBuffer, and a Kernel whose per-execution state that CPUs share lives
// there too. Fault counts are a small table in the buffer; the lockdep graph stays a Map per
// thread, kept identical everywhere through a journal of the edges each thread adds.

import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { KernelOptions } from '../../kernel/kernel.js';
import { WatchedKernel } from '../watched-kernel.js';
import { MAX_CPUS, type Layout } from '../../kernel/layout.js';
import { replay } from '../../sched/replay.js';
import type { Target } from '../../target.js';
import { makeRng } from '../../rng.js';
import type { Fault, Op } from '../../types.js';
import { bootImage, execute, type BootImage } from '../inline/inline.js';
import { attachSites } from './threads-sites.js';

const FAULT_SLOTS = 16;
const JOURNAL_CAP = 1024;
/** Stress: trace ring entries (ticket -> cpu, label); more than any step budget, so nothing wraps. */
export const RING_CAP = 1 << 13;

/** Word offsets in the control region, which starts at layout.words. */
export const CTL = {
  /** threads: the status of the step just run, 0 while it runs. */
  reply: 0,
  /** threads: the index of the step granted. */
  step: 1,
  /** Workers attached to this execution. */
  ready: 2,
  /** Threads spinning now (spinning is allowed while they and the running one fit the cores). */
  hot: 3,
  /** stress: why the execution stops (0 while it runs). */
  abort: 4,
  /** stress: the next ticket. */
  ticket: 5,
  /** stress: CPUs sleeping on the ticket word. */
  sleepers: 6,
  /** threads: the interned label of the step just run. */
  label: 7,
  /** One word per CPU: threads, the grant to run one step; stress, unused. */
  grant: 8,
  /** threads: one word per CPU, set once the CPU has posted its result of this execution. */
  done: 8 + MAX_CPUS,
  faults: 8 + 2 * MAX_CPUS,
  journal: 8 + 2 * MAX_CPUS + 2 * FAULT_SLOTS,
  ring: 8 + 2 * MAX_CPUS + 2 * FAULT_SLOTS + 1 + 2 * JOURNAL_CAP,
  /**
   * threads: one word per CPU, the number of the execution its worker is to run next (QUIT: none,
   * leave). The only words kept from one execution to the next: everything before them is zeroed.
   */
  start: 8 + 2 * MAX_CPUS + 2 * FAULT_SLOTS + 1 + 2 * JOURNAL_CAP + 2 * RING_CAP,
} as const;
export const CTL_WORDS = CTL.start + MAX_CPUS;

/** Words of a buffer for one execution on threads: the model, then the control region. */
export function threadsWords(layout: Layout): number {
  return layout.words + CTL_WORDS;
}

export class SharedKernel extends WatchedKernel {
  /** Word index of the control region. */
  readonly ctl: number;
  private readonly injected: readonly Fault[];
  private edgesSeen = 0;
  /** Per lock class, how many of its out-edges (in insertion order) the journal has. */
  private readonly published = new Map<string, number>();

  constructor(layout: Layout, sab: SharedArrayBuffer, opts: KernelOptions, bootOrder: ReadonlyMap<string, ReadonlySet<string>>) {
    super(layout, sab, opts);
    this.ctl = layout.words;
    this.injected = opts.faults ?? [];
    for (const [from, to] of bootOrder) {
      this.lockOrder.set(from, new Set(to));
      this.published.set(from, to.size);
    }
  }

  // ---- fault injection: occurrences counted in the buffer, across all CPUs ----

  private faultSlot(call: string): number {
    const h = this.intern(call);
    const base = this.ctl + CTL.faults;
    for (let i = 0; i < FAULT_SLOTS; i++) {
      const a = base + (((h >>> 0) + i) % FAULT_SLOTS) * 2;
      const there = Atomics.compareExchange(this.mem, a, 0, h);
      if (there === 0 || there === h) return a;
    }
    throw new Error('fault-count table full');
  }

  override shouldFail(call: string): boolean {
    const n = Atomics.add(this.mem, this.faultSlot(call) + 1, 1) + 1;
    return this.injected.length > 0 && this.injected.some((f) => f.call === call && f.nth === n);
  }

  override faultSites(): Map<string, number> {
    const out = new Map<string, number>();
    const base = this.ctl + CTL.faults;
    for (let i = 0; i < FAULT_SLOTS; i++) {
      const h = this.mem[base + 2 * i]!;
      if (h !== 0) out.set(this.siteName(h), this.mem[base + 2 * i + 1]!);
    }
    return out;
  }

  override resetFaultCounts(): void {
    this.mem.fill(0, this.ctl + CTL.faults, this.ctl + CTL.faults + 2 * FAULT_SLOTS);
  }

  // ---- the lockdep graph, through the journal ----

  /** Take in the edges other threads added since the last pull (call before running a step). */
  pullLockOrder(): void {
    const base = this.ctl + CTL.journal;
    const n = Math.min(Atomics.load(this.mem, base), JOURNAL_CAP);
    for (; this.edgesSeen < n; this.edgesSeen++) {
      const a = base + 1 + 2 * this.edgesSeen;
      const to = Atomics.load(this.mem, a + 1);
      if (to === 0) break; // reserved by a free-running thread, not yet written
      const from = this.siteName(this.mem[a]!);
      let out = this.lockOrder.get(from);
      if (!out) this.lockOrder.set(from, (out = new Set()));
      out.add(this.siteName(to));
      this.published.set(from, out.size);
    }
  }

  /** Append the edges this thread added since the last push (call after running a step). */
  pushLockOrder(): void {
    for (const [from, out] of this.lockOrder) {
      const seen = this.published.get(from) ?? 0;
      if (out.size === seen) continue;
      let i = 0;
      for (const to of out) if (i++ >= seen) this.appendEdge(from, to);
      this.published.set(from, out.size);
    }
  }

  private appendEdge(from: string, to: string): void {
    const base = this.ctl + CTL.journal;
    const i = Atomics.add(this.mem, base, 1);
    if (i >= JOURNAL_CAP) throw new Error('lock-order journal full');
    this.mem[base + 1 + 2 * i] = this.intern(from);
    Atomics.store(this.mem, base + 2 + 2 * i, this.intern(to));
  }
}

// ---- waiting ----

export const TIMED_OUT = Number.MIN_SAFE_INTEGER;
/** Atomics.load polls before sleeping, when spinning is allowed: about 0.2 ms (11 ns a poll on the AMD machine). */
const SPIN_POLLS = 20_000;

export interface WaitPolicy {
  /** Spin before sleeping, while the spinners and the running thread fit in `cores`. */
  spin: boolean;
  cores: number;
  /** Word index of the count of spinning threads. */
  hot: number;
}

/** No spinning: sleep at once (between executions, and for results). */
export const SLEEP: WaitPolicy = { spin: false, cores: 1, hot: 0 };

/**
 * Wait until mem[i] is no longer `value` and return what it became, or TIMED_OUT after
 * `timeoutMs`. Spins first when the policy allows it and a spinning slot is free.
 */
export function waitChange(mem: Int32Array, i: number, value: number, timeoutMs: number, policy: WaitPolicy): number {
  let v = Atomics.load(mem, i);
  if (v !== value) return v;
  if (policy.spin) {
    if (Atomics.add(mem, policy.hot, 1) < policy.cores - 1) {
      for (let n = 0; n < SPIN_POLLS && v === value; n++) v = Atomics.load(mem, i);
    }
    Atomics.sub(mem, policy.hot, 1);
    if (v !== value) return v;
  }
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    v = Atomics.load(mem, i);
    if (v !== value) return v;
    const left = deadline - performance.now();
    if (left <= 0) return TIMED_OUT;
    Atomics.wait(mem, i, value, left);
  }
}

let sampledAt = -Infinity;
let othersNow = 0;

/**
 * Threads of other processes runnable now (Linux's /proc/loadavg, sampled at most every 100 ms;
 * elsewhere the load average): spinning only pays while they leave our threads their cores.
 */
export function othersRunnable(): number {
  const now = performance.now();
  if (now - sampledAt < 100) return othersNow;
  sampledAt = now;
  try {
    othersNow = Math.max(0, Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[3]!.split('/')[0]) - 1);
  } catch {
    othersNow = Math.round(os.loadavg()[0]!);
  }
  return othersNow;
}

/** Store and wake one waiter. */
export function signal(mem: Int32Array, i: number, value: number): void {
  Atomics.store(mem, i, value);
  Atomics.notify(mem, i, 1);
}

// ---- a thread that runs CPUs of a target ----

const warmed = new WeakSet<Target>();

export function* argCombos(args: Record<string, readonly (number | string)[]>): Generator<Op['args']> {
  const names = Object.keys(args);
  const at = new Array<number>(names.length).fill(0);
  for (;;) {
    yield Object.fromEntries(names.map((n, i) => [n, args[n]![at[i]!]!]));
    let i = 0;
    while (i < names.length && ++at[i]! >= args[names[i]!]!.length) at[i++] = 0;
    if (i === names.length) return;
  }
}

/**
 * Make this thread ready to run CPUs of `target`: the shared string table, the boot image, and a
 * warm-up that runs every operation with every argument once, inline (from the default start state;
 * the image returned is that of `start`). Target code may register
 * JavaScript-side state by name as it runs (the mdev bus drivers registered by insmod); after the
 * warm-up this thread has all of it, whichever thread ran the registration in an execution.
 */
export function prepareThread(target: Target, sites: SharedArrayBuffer, start?: string): BootImage {
  attachSites(sites);
  const img = bootImage(target, start);
  if (!warmed.has(target)) {
    warmed.add(target);
    const buffer = new SharedArrayBuffer(target.layout.words * 4);
    for (const spec of target.ops) {
      for (const args of argCombos(spec.args)) execute(target, { cpus: [[{ op: spec.name, args }]] }, replay([]), makeRng('warm-up'), { buffer });
    }
  }
  return img;
}
