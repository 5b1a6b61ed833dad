// The inline executor: all CPUs of one execution interleaved in this thread. CPUs are generators;
// the strategy picks which one takes the next step among those that are runnable (not finished,
// and not blocked on a word that still forbids them). No runnable CPU while some are blocked is a
// hung task; a step budget overrun is a livelock; an exception escaping target code is a finding.

import { Kernel, KernelOops, type Gen } from '../../kernel/kernel.js';
import { CPU, CPU_BLOCKED, CPU_DONE, CPU_RUNNABLE, CPU_WORDS, MAX_CPUS } from '../../kernel/layout.js';
import { startCpus } from '../../kernel/thread.js';
import type { Rng } from '../../rng.js';
import type { Strategy } from '../../sched/strategy.js';
import { defaultNext } from '../../sched/strategy.js';
import type { Target } from '../../target.js';
import type { ExecResult, Fault, Finding, Op, Program, Schedule, TraceEvent, TraceStep } from '../../types.js';
import { pairKey } from '../../coverage/coverage.js';
import { bootStates, TransitionTracker } from '../../coverage/transitions.js';
import { countOps } from '../program.js';
import { profileFor } from '../profile-run.js';
import { describeAccess } from '../../kernel/access.js';
import { lockCycle } from '../../kernel/lock-cycle.js';
import { lockCycleLine } from '../../kernel/lockdep.js';
import type { Heartbeat } from '../heartbeat.js';
import { WatchedKernel } from '../watched-kernel.js';
import type { TeardownMemo } from './teardown-memo.js';

export const DEFAULT_MAX_STEPS = 4000;
/** Setup and teardown run alone; they get their own budget. */
const SOLO_MAX_STEPS = 20000;

export interface ExecOptions {
  faults?: readonly Fault[];
  maxSteps?: number;
  /** Record the (cpu, label) of every step. */
  trace?: boolean;
  /** Record call/return events for the ladder. */
  events?: boolean;
  /** Collect the set of labels reached. */
  labels?: boolean;
  /**
   * Count the concurrent pairs, keyed by pairKey: (label of the step after which a CPU that has
   * not exited is switched out, label of the next step, on the CPU switched in).
   */
  pairs?: boolean;
  /** Record the transitions of the target's declared object kinds (Execution.transitions). */
  transitions?: boolean;
  /**
   * Run in this buffer (of target.layout.words int32s) instead of a new one: allocating a
   * SharedArrayBuffer costs more than a short execution, so batches reuse one.
   */
  buffer?: SharedArrayBuffer;
  /** Keep the access record: Execution.kernel.access. */
  accesses?: boolean;
  /** With trace and accesses: ExecResult.accesses, each step's accesses as text. */
  accessText?: boolean;
  /** A profiling run (harness/engine/profile-run.ts): no invariants, no teardown. */
  profiling?: boolean;
  /** Publish each step and each function entered here, for a watchdog in another thread. */
  heartbeat?: Heartbeat;
  /**
   * Stop after the strategy picks the CPU of step `haltAt`, without running that step: the
   * schedule and events of an execution up to the step a watchdog found stalled, taken safely.
   */
  haltAt?: number;
  /**
   * Skip a teardown that already ran from the same state (teardown-memo.ts) and would add no
   * finding, applying what it did instead. Not with events, which would miss the teardown's.
   */
  teardowns?: TeardownMemo;
}

export interface Execution {
  result: ExecResult;
  kernel: Kernel;
  /** Context switches per concurrent pair, when asked. */
  pairs?: Map<string, number>;
  /** The transitions observed, as transitionKey()s, when asked. */
  transitions?: Set<string>;
  /** The steps each CPU ran (ExecResult.steps is their sum); the inline executor gives it. */
  cpuSteps?: number[];
}

export const EXIT_LABEL = 'do_exit';

/** pairKey()s by their two labels, built once each: a context switch then costs two lookups of strings already hashed. */
const pairKeys = new Map<string, Map<string, string>>();

function pairKeyOf(out: string, into: string): string {
  let ins = pairKeys.get(out);
  if (ins === undefined) pairKeys.set(out, (ins = new Map()));
  let key = ins.get(into);
  if (key === undefined) ins.set(into, (key = pairKey(out, into)));
  return key;
}

/** The ladder's event for a step just run, marked when the step left its CPU blocked in a wait. */
export function stepEvent(k: Kernel, cpu: number, label: string): TraceEvent {
  return k.mem[cpu * CPU_WORDS + CPU.state] === CPU_BLOCKED ? { e: 'step', cpu, label, blocked: true } : { e: 'step', cpu, label };
}

/**
 * A CPU of the program: its operations in turn, then its exit. Not a generator around the
 * operations' own: every step of a CPU resumes each generator on its stack, and this level is a
 * plain method call (as KfnCall is for a kernel function).
 */
export function cpuBody(target: Target, k: Kernel, cpu: number, program: Program): Gen {
  return new CpuRun(target, k, cpu, program.cpus[cpu]!);
}

class CpuRun implements Gen {
  /** The operation running (ops.length: the exit), and its generator once begun. */
  private i = -1;
  private op: Gen<number> | Gen | undefined;

  constructor(
    private readonly target: Target,
    private readonly k: Kernel,
    private readonly cpu: number,
    private readonly ops: readonly Op[],
  ) {}

  next(): IteratorResult<string, void> {
    const { k, cpu, ops } = this;
    for (;;) {
      if (this.op === undefined) {
        if (++this.i < ops.length) {
          const op = ops[this.i]!;
          k.doing[cpu] = op.op;
          k.opIndex[cpu] = this.i;
          k.events?.push({ e: 'op', cpu, op });
          this.op = this.target.run(k, op);
        } else if (this.i === ops.length) {
          k.doing[cpu] = 'exit';
          this.op = this.target.exitCpu(k);
        } else return DONE;
      }
      const r = this.op.next();
      if (r.done !== true) return r;
      this.op = undefined;
      if (this.i < ops.length) k.events?.push({ e: 'ret', cpu, op: ops[this.i]!.op, ret: r.value as number });
    }
  }

  return(): IteratorResult<string, void> {
    this.i = this.ops.length + 1;
    this.op = undefined;
    return DONE;
  }

  throw(e: unknown): IteratorResult<string, void> {
    throw e;
  }

  [Symbol.iterator](): this {
    return this;
  }
}

const DONE: IteratorResult<string, void> = Object.freeze({ done: true, value: undefined });

/**
 * Turn an exception out of target code into a finding; an oops is already recorded. Anything else
 * (a TypeError, a RangeError, ...) is a bug of the model: a target error, titled by its first line
 * and the kernel function it escaped from, with its whole stack as detail.
 */
export function fault(k: Kernel, e: unknown): Finding {
  if (e instanceof KernelOops) return e.finding;
  const first = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : `thrown ${oneLine(String(e))}`;
  const stack = e instanceof Error && e.stack ? e.stack.split('\n').slice(1).map((l) => l.trim()) : [];
  return k.report('target-error', `target error: ${first} in ${k.fn()}`, stack);
}

const oneLine = (s: string): string => s.split('\n')[0]!.slice(0, 200);

export function hung(k: Kernel, blocked: number[]): never {
  const first = blocked[0]!;
  k.cpu = first;
  const detail: string[] = [];
  for (const c of blocked) {
    detail.push(`cpu${c} blocked in ${k.stacks[c]!.join(' -> ') || '?'}`);
  }
  const cycle = lockCycle(k, blocked);
  if (cycle) detail.push(lockCycleLine(cycle));
  k.oops('hung-task', `INFO: task hung in ${k.fn()}`, detail);
}

/** Run a generator alone (setup, teardown) on the extra CPU; blocking there is a hang. */
export function runSolo(k: Kernel, cpu: number, gen: Gen, labels: Set<string> | undefined, transitions?: TransitionTracker): void {
  k.cpu = cpu;
  const watched = k instanceof WatchedKernel ? k : undefined;
  for (let n = 0; ; n++) {
    if (n > SOLO_MAX_STEPS) k.oops('livelock', `livelock: step budget exceeded in ${k.fn()}`);
    watched?.stepping(cpu, k.step + n);
    const r = gen.next();
    transitions?.observe();
    if (r.done) return;
    labels?.add(r.value);
    const c = cpu * CPU_WORDS;
    if (k.mem[c + CPU.state] === CPU_BLOCKED) {
      if (!k.waitSatisfied(cpu)) hung(k, [cpu]);
      k.mem[c + CPU.state] = CPU_RUNNABLE;
      k.clearWait(cpu);
    }
  }
}

/** The CPUs of a bit mask, ascending. */
function cpusOf(mask: number, ncpus: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < ncpus; c++) if (mask & (1 << c)) out.push(c);
  return out;
}

/** The teardown on CPU `cpu` and the leak check, unless the memo knows one from this state that would add no finding. */
function tearDown(target: Target, k: Kernel, cpu: number, labels?: Set<string>, transitions?: TransitionTracker, memo?: TeardownMemo): void {
  const remembers = memo !== undefined && !k.events && k.held.every((h) => h.length === 0);
  if (!remembers) {
    runSolo(k, cpu, target.teardown(k), labels, transitions);
    target.leakCheck(k);
    return;
  }
  const key = memo.key(k);
  if (memo.replay(k, key, labels, transitions)) return;
  const counts = new Map(k.faultSites());
  const own = labels ? new Set<string>() : undefined;
  const recorded = transitions ? (transitions.recording = []) : undefined;
  const reports: string[] = (k.reporting = []);
  try {
    runSolo(k, cpu, target.teardown(k), own, transitions);
    target.leakCheck(k);
  } finally {
    k.reporting = undefined;
    if (transitions) transitions.recording = undefined;
    if (labels) for (const l of own!) labels.add(l);
  }
  memo.remember(k, key, { counts, labels: own, transitions: recorded, reports });
}

export interface BootImage {
  words: Int32Array;
  lockOrder: Map<string, Set<string>>;
  /** The state of each object of a declared kind after boot, by header word. */
  states: Map<number, string>;
}

const bootImages = new WeakMap<Target, Map<string, BootImage>>();

/** The start state a program names, checked against the target's: undefined is the default. */
export function startOf(target: Target, program: Program): string | undefined {
  const start = program.start;
  if (start === undefined || start === target.startStates?.[0]) return undefined;
  if (!target.startStates?.includes(start)) throw new Error(`${target.name} has no start state '${start}'`);
  return start;
}

/** The state after the target's setup for one start state, computed once and copied into every execution. */
export function bootImage(target: Target, start?: string): BootImage {
  let images = bootImages.get(target);
  if (!images) bootImages.set(target, (images = new Map()));
  const key = start ?? '';
  let img = images.get(key);
  if (img) return img;
  const k = new Kernel(target.layout, new SharedArrayBuffer(target.layout.words * 4), { ncpus: MAX_CPUS - 1 });
  const what = start === undefined ? target.name : `${target.name} (start ${start})`;
  try {
    runSolo(k, MAX_CPUS - 1, target.setup(k, start), undefined);
  } catch (e) {
    throw new Error(`setup of ${what} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (k.findings.length > 0) throw new Error(`setup of ${what} reported: ${k.findings[0]!.title}`);
  k.mem.fill(0, 0, MAX_CPUS * CPU_WORDS);
  img = { words: k.mem.slice(), lockOrder: k.lockOrder, states: bootStates(target, k) };
  images.set(key, img);
  return img;
}

/** Put a new kernel in the state after boot: its words and the lock order lockdep learned there. */
export function boot(k: Kernel, img: BootImage): void {
  k.mem.set(img.words);
  for (const [from, to] of img.lockOrder) k.lockOrder.set(from, new Set(to));
}

export function execute(target: Target, program: Program, strategy: Strategy, rng: Rng, opts: ExecOptions = {}): Execution {
  const ncpus = program.cpus.length;
  if (ncpus < 1 || ncpus > MAX_CPUS - 1) throw new Error(`a program has 1 to ${MAX_CPUS - 1} CPUs, not ${ncpus}`);
  const img = bootImage(target, startOf(target, program));
  // The profiling runs first: what this execution keeps then lives only through its own steps.
  const profile = profileFor(strategy, target, program, opts.faults, opts.maxSteps, opts.heartbeat);
  strategy.start({ ncpus, ops: countOps(program), rng, profile });
  const sab = opts.buffer ?? new SharedArrayBuffer(target.layout.words * 4);
  const k = new WatchedKernel(target.layout, sab, { ncpus, faults: opts.faults, events: opts.events, accesses: opts.accesses });
  k.hb = opts.heartbeat;
  boot(k, img);
  const maxSteps = opts.maxSteps ?? DEFAULT_MAX_STEPS;
  const trace: TraceStep[] | undefined = opts.trace ? [] : undefined;
  const labels = opts.labels ? new Set<string>() : undefined;
  const pairs = opts.pairs ? new Map<string, number>() : undefined;
  const transitions = opts.transitions && target.objects ? new TransitionTracker(target, k, img.states) : undefined;
  let lastCpu = -1;
  let lastLabel = '';
  const schedule: Schedule = [];
  const steps = new Array<number>(ncpus).fill(0);
  let t = 0;

  const gens = program.cpus.map((_, c) => cpuBody(target, k, c, program));
  startCpus(target.threads, k.mem, ncpus);
  const invariants = opts.profiling ? [] : target.invariants;

  let current = 0;
  // The runnable CPUs as a bit mask; the list the strategy reads is rebuilt only when it changes,
  // which most steps do not.
  const runnable: number[] = [];
  let listed = -1;
  try {
    for (;;) {
      let mask = 0;
      let blocked = 0;
      for (let c = 0; c < ncpus; c++) {
        const s = k.mem[c * CPU_WORDS + CPU.state];
        if (s === CPU_RUNNABLE || (s === CPU_BLOCKED && k.waitSatisfied(c))) mask |= 1 << c;
        else if (s === CPU_BLOCKED) blocked |= 1 << c;
      }
      if (mask === 0) {
        if (blocked !== 0) hung(k, cpusOf(blocked, ncpus));
        break;
      }
      if (mask !== listed) {
        runnable.length = 0;
        runnable.push(...cpusOf(mask, ncpus));
        listed = mask;
      }
      if (t >= maxSteps) {
        k.cpu = current;
        k.oops('livelock', `livelock: step budget exceeded in ${k.fn()}`, [`${maxSteps} steps`]);
      }
      const cpu = strategy.pick(runnable, current, steps, t);
      if (cpu !== defaultNext(runnable, current)) schedule.push({ cpu: current, step: steps[current]!, to: cpu });
      current = cpu;
      k.cpu = cpu;
      k.step = t;
      if (t === opts.haltAt) break;
      const c = cpu * CPU_WORDS;
      k.mem[c + CPU.state] = CPU_RUNNABLE;
      k.clearWait(cpu);
      k.stepping(cpu, t);
      k.access?.step(cpu, k.opIndex[cpu]!);
      const r = gens[cpu]!.next();
      // The last call of a CPU (its process exit) is a step too, so that decision points stay unique.
      const label = r.done ? EXIT_LABEL : r.value;
      if (r.done) k.mem[c + CPU.state] = CPU_DONE;
      steps[cpu]!++;
      t++;
      trace?.push([cpu, label]);
      labels?.add(label);
      if (pairs) {
        if (lastCpu >= 0 && cpu !== lastCpu) {
          const key = pairKeyOf(lastLabel, label);
          pairs.set(key, (pairs.get(key) ?? 0) + 1);
        }
        lastCpu = r.done ? -1 : cpu; // an exiting CPU is not switched out
        lastLabel = label;
      }
      k.events?.push(stepEvent(k, cpu, label));
      // What the observer and the invariants read, the kernel did not: it stays out of the access record.
      if (k.access) k.access.on = false;
      transitions?.observe();
      for (const inv of invariants) inv(k);
      if (k.access) k.access.on = true;
    }
    k.step = t;
    if (k.access) k.access.on = false;
    if (opts.haltAt === undefined && !opts.profiling) {
      k.doing[ncpus] = 'teardown';
      tearDown(target, k, ncpus, labels, transitions, opts.teardowns);
    }
  } catch (e) {
    fault(k, e);
  }

  const result: ExecResult = { findings: k.findings, steps: t, schedule };
  if (opts.haltAt !== undefined && t === opts.haltAt) result.haltedOn = current;
  if (trace) result.trace = trace;
  if (trace && opts.accesses && opts.accessText) result.accesses = trace.map((_, i) => k.access!.of(i).map((a) => describeAccess(a, target.layout)));
  if (k.events) result.events = k.events;
  if (labels) result.labels = [...labels];
  const execution: Execution = { kernel: k, result, cpuSteps: steps };
  if (pairs) execution.pairs = pairs;
  if (transitions) execution.transitions = transitions.keys();
  return execution;
}
