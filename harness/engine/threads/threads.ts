// The threads engine: each CPU of an execution is a Piscina worker, all on the execution's one
// SharedArrayBuffer, where the model's locks are the same Atomics words as inline. This thread is
// the scheduler: at every preemption point it picks the next CPU with the very code of the inline
// executor (the same strategy, the same runnable set read from the CPU table), sets that CPU's
// grant word, and waits on the reply word while the CPU runs one step. So exactly one CPU runs at
// a time, and the trace, the findings and the model's final bytes are those of inline.
// Teardown and the leak check run here after the CPUs, as inline runs them after its loop.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CPU, CPU_BLOCKED, CPU_RUNNABLE, CPU_WORDS, MAX_CPUS, USUAL_CPUS } from '../../kernel/layout.js';
import { startCpus } from '../../kernel/thread.js';
import type { Rng } from '../../rng.js';
import { defaultNext, type Strategy } from '../../sched/strategy.js';
import type { Target } from '../../target.js';
import { TARGET_ERROR, type ExecResult, type Finding, type Program, type Schedule, type TraceEvent, type TraceStep } from '../../types.js';
import { DEFAULT_MAX_STEPS, fault, hung, runSolo, startOf, type ExecOptions, type Execution } from '../inline/inline.js';
import type { TargetRef } from '../load.js';
import { profileFor } from '../profile-run.js';
import { countOps } from '../program.js';
import { CTL, othersRunnable, prepareThread, SharedKernel, signal, threadsWords, TIMED_OUT, waitChange, type WaitPolicy } from './threads-kernel.js';
import { sitesBuffer } from './threads-sites.js';
import { heartbeatBuffer, readBeat } from '../heartbeat.js';
import { oomTitle, stallTitle } from '../watched-kernel.js';
import { DEFAULT_MEMORY_MB, isOutOfMemory, resourceLimitsOf } from '../pool/guarded-pool.js';
import { FAULTED, GRANT_FINISH, GRANT_RUN, STEPPED, type CpuResult, type CpuTask } from './threads-worker.js';

export type SpinMode = 'auto' | 'always' | 'never';

export interface ThreadsEngineOptions {
  /**
   * 'auto' (default): spin briefly before sleeping while the scheduler, the running CPU and the
   * runnable threads of other processes fit the cores; 'always' ignores other processes.
   */
  spin?: SpinMode;
  /** A step that does not hand back within this long is a hung worker (default 10 s). */
  stepTimeoutMs?: number;
  /** Workers must attach within this long (default 60 s: the first ones start and warm up). */
  startTimeoutMs?: number;
  /** Each CPU worker's heap cap, in MiB (resourceLimits; default DEFAULT_MEMORY_MB). */
  memoryMb?: number;
}

/** What the scheduling loop did: the CPU and the interned label of each step, and why it stopped. */
interface Run {
  end: End;
  order: number[];
  labels: number[];
  schedule: Schedule;
  current: number;
}

/** Why the scheduling loop stopped. */
type End =
  | { kind: 'done' }
  | { kind: 'faulted' }
  | { kind: 'hung'; blocked: number[] }
  | { kind: 'livelock' }
  | { kind: 'timeout'; cpu: number; ms: number }
  /** A step still running after SLICE_MS: call schedule() again. */
  | { kind: 'slow' }
  /** shouldStop() said so while a step was slow: the execution does not count. */
  | { kind: 'cancelled'; cpu: number }
  /** The CPU's worker died during its step: out of heap (`oom`), or otherwise. */
  | { kind: 'died'; cpu: number; error: unknown };

/** The scheduling loop's state, kept across the 'slow' returns of schedule(). */
interface SchedState {
  k: SharedKernel;
  ncpus: number;
  strategy: Strategy;
  maxSteps: number;
  firstStepMs: number;
  policy: WaitPolicy;
  schedule: Schedule;
  order: number[];
  labels: number[];
  steps: number[];
  /** A CPU's first step may wait for its worker to attach. */
  attached: boolean[];
  runnable: number[];
  current: number;
  t: number;
  /** The step granted and not yet handed back. */
  pending?: { cpu: number; waited: number; budget: number };
}

/** How long the scheduler blocks its thread waiting for one step before it lets the event loop run. */
const SLICE_MS = 200;

/** Thrown by execute() when shouldStop() ended an execution whose step was still running. */
export class ExecutionCancelled extends Error {
  constructor() {
    super('threads engine: execution cancelled');
  }
}

export class ThreadsEngine {
  private readonly pool: Piscina;
  private readonly spinMode: SpinMode;
  private readonly cores = os.availableParallelism();
  private readonly stepTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly memoryMb: number;
  private readonly buffers = new Map<Target, SharedArrayBuffer>();
  private readonly started = new WeakSet<Target>();
  private busy = false;
  /** Grants and replies exchanged so far: two per step. */
  handoffs = 0;
  /** Polled while a step is slow: true cancels the execution (a signal, a deadline). */
  shouldStop: (() => boolean) | undefined;

  constructor(opts: ThreadsEngineOptions = {}) {
    this.spinMode = opts.spin ?? 'auto';
    this.stepTimeoutMs = opts.stepTimeoutMs ?? 10_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.memoryMb = opts.memoryMb ?? DEFAULT_MEMORY_MB;
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./threads-worker.js', import.meta.url)),
      minThreads: USUAL_CPUS,
      maxThreads: MAX_CPUS - 1,
      idleTimeout: Infinity,
      // Capped like the guarded pool's workers: a CPU that allocates without bound dies alone (an oom of its execution).
      resourceLimits: resourceLimitsOf(this.memoryMb),
    });
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /**
   * One execution, as inline's execute() (opts.buffer aside: the engine keeps its own buffers, the
   * model's words followed by the control region). One execution at a time per engine.
   */
  async execute(ref: TargetRef, target: Target, program: Program, strategy: Strategy, rng: Rng, opts: ExecOptions = {}): Promise<Execution> {
    const ncpus = program.cpus.length;
    if (ncpus < 1 || ncpus > MAX_CPUS - 1) throw new Error(`a program has 1 to ${MAX_CPUS - 1} CPUs, not ${ncpus}`);
    if (this.busy) throw new Error('threads engine: one execution at a time');
    this.busy = true;
    try {
      return await this.executeOne(ref, target, program, strategy, rng, opts);
    } finally {
      this.busy = false;
    }
  }

  private async executeOne(ref: TargetRef, target: Target, program: Program, strategy: Strategy, rng: Rng, opts: ExecOptions): Promise<Execution> {
    const ncpus = program.cpus.length;
    const sites = sitesBuffer();
    const img = prepareThread(target, sites, startOf(target, program));
    const sab = this.buffers.get(target) ?? new SharedArrayBuffer(threadsWords(target.layout) * 4);
    this.buffers.delete(target); // given back only when every worker is known to have let go of it
    const k = new SharedKernel(target.layout, sab, { ncpus, faults: opts.faults, events: opts.events }, img.lockOrder);
    k.mem.set(img.words);
    k.mem.fill(0, target.layout.words);
    startCpus(target.threads, k.mem, ncpus);
    strategy.start({ ncpus, ops: countOps(program), rng, profile: profileFor(strategy, target, program, opts.faults, opts.maxSteps) });

    const spin = this.spinMode === 'always' || (this.spinMode === 'auto' && othersRunnable() + 2 <= this.cores);
    const aborts = program.cpus.map(() => new AbortController());
    const beats = program.cpus.map(() => heartbeatBuffer());
    const tasks = program.cpus.map((_, cpu) => {
      const task: CpuTask = {
        target: ref, sites, sab, cpu, program, faults: opts.faults ? [...opts.faults] : [], events: opts.events ?? false, spin, cores: this.cores,
        waitMs: this.startTimeoutMs + this.stepTimeoutMs, heartbeat: beats[cpu]!,
      };
      return this.pool.run(task, { signal: aborts[cpu]!.signal }) as Promise<CpuResult>;
    });
    const abortAll = (): void => aborts.forEach((a) => a.abort());
    // A worker that dies (its heap cap, a crash) ends the execution at once, as a finding of it.
    let died: { cpu: number; error: unknown } | undefined;
    tasks.forEach((p, cpu) => p.catch((error: unknown) => void (aborts[cpu]!.signal.aborted || (died ??= { cpu, error }))));
    let failure: Error | undefined;
    const settled = Promise.allSettled(tasks).then((all) => {
      const bad = all.find((r, c) => r.status === 'rejected' && !aborts[c]!.signal.aborted) as PromiseRejectedResult | undefined;
      if (bad) failure = new Error(`threads engine: a worker failed: ${bad.reason instanceof Error ? bad.reason.message : String(bad.reason)}`);
    });

    // Tasks already posted to running workers need nothing more from this thread's event loop; the
    // first execution of a target waits for its workers asynchronously (they may still be starting).
    const posted = this.pool.queueSize === 0 && this.started.has(target);
    if (!posted && !(await this.attached(k, ncpus, settled))) {
      abortAll();
      await settled;
      throw failure ?? new Error('threads engine: the workers did not start');
    }
    this.started.add(target);
    const st: SchedState = {
      k, ncpus, strategy, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, firstStepMs: posted ? this.startTimeoutMs : this.stepTimeoutMs,
      policy: { spin, cores: this.cores, hot: k.ctl + CTL.hot },
      schedule: [], order: [], labels: [], steps: new Array<number>(ncpus).fill(0), attached: new Array<boolean>(ncpus).fill(false), runnable: [], current: 0, t: 0,
    };
    let run = this.schedule(st);
    while (run.end.kind === 'slow') {
      await new Promise<void>((resolve) => setImmediate(resolve)); // a slow step: let signals be heard
      if (died) {
        run = { ...run, end: { kind: 'died', cpu: died.cpu, error: died.error } };
        break;
      }
      if (this.shouldStop?.()) {
        run = { ...run, end: { kind: 'cancelled', cpu: st.pending!.cpu } };
        break;
      }
      run = this.schedule(st);
    }
    // A worker that did not hand back is terminated; the others finish and report.
    if (run.end.kind === 'timeout' || run.end.kind === 'cancelled') aborts[run.end.cpu]!.abort();
    for (let c = 0; c < ncpus; c++) signal(k.mem, k.ctl + CTL.grant + c, GRANT_FINISH);
    const finished = (await within(settled, this.stepTimeoutMs)) && run.end.kind !== 'timeout' && run.end.kind !== 'cancelled' && run.end.kind !== 'died';
    if (!finished) abortAll();
    await settled;
    if (run.end.kind === 'cancelled') throw new ExecutionCancelled();
    if (failure && run.end.kind !== 'died') throw failure;
    if (finished) this.buffers.set(target, sab);
    const results = await Promise.all(tasks.map((p) => p.catch(() => undefined)));
    return { kernel: k, result: this.finish(target, k, run, results, opts, finished, beats) };
  }

  /** Wait (without blocking this thread's event loop) until every worker has attached. */
  private async attached(k: SharedKernel, ncpus: number, settled: Promise<void>): Promise<boolean> {
    const deadline = performance.now() + this.startTimeoutMs;
    let gone = false;
    void settled.then(() => (gone = true));
    for (;;) {
      const n = Atomics.load(k.mem, k.ctl + CTL.ready);
      if (n >= ncpus) return true;
      const left = deadline - performance.now();
      if (gone || left <= 0) return false;
      const w = waitAsync(k.mem, k.ctl + CTL.ready, n, Math.min(left, 50));
      if (w.async) await Promise.race([w.value, settled]);
    }
  }

  /**
   * The inline executor's loop, with each step run by the CPU's worker. A step waited on for
   * SLICE_MS comes back as 'slow', for the caller to let this thread's event loop run (signals)
   * and call again: the loop resumes waiting for the same step, until its budget is spent.
   */
  private schedule(st: SchedState): Run {
    const { k, ncpus, strategy, maxSteps, steps, attached, runnable, schedule, order, labels } = st;
    const mem = k.mem;
    const stop = (end: End): Run => ({ end, order, labels, schedule, current: st.current });
    for (;;) {
      if (!st.pending) {
        runnable.length = 0;
        const blocked: number[] = [];
        for (let c = 0; c < ncpus; c++) {
          const s = mem[c * CPU_WORDS + CPU.state];
          if (s === CPU_RUNNABLE || (s === CPU_BLOCKED && k.waitSatisfied(c))) runnable.push(c);
          else if (s === CPU_BLOCKED) blocked.push(c);
        }
        if (runnable.length === 0) return stop(blocked.length > 0 ? { kind: 'hung', blocked } : { kind: 'done' });
        if (st.t >= maxSteps) return stop({ kind: 'livelock' });
        const cpu = strategy.pick(runnable, st.current, steps, st.t);
        if (cpu !== defaultNext(runnable, st.current)) schedule.push({ cpu: st.current, step: steps[st.current]!, to: cpu });
        st.current = cpu;
        k.cpu = cpu;
        k.step = st.t;
        mem[cpu * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
        k.clearWait(cpu);
        mem[k.ctl + CTL.step] = st.t;
        Atomics.store(mem, k.ctl + CTL.reply, 0);
        signal(mem, k.ctl + CTL.grant + cpu, GRANT_RUN);
        st.pending = { cpu, waited: 0, budget: attached[cpu] ? this.stepTimeoutMs : st.firstStepMs };
        attached[cpu] = true;
      }
      const p = st.pending;
      const slice = Math.min(SLICE_MS, p.budget - p.waited);
      const status = waitChange(mem, k.ctl + CTL.reply, 0, slice, st.policy);
      if (status === TIMED_OUT) {
        p.waited += slice;
        // A first step may wait for its worker to attach; once every worker has, it has a step's budget.
        if (p.budget > this.stepTimeoutMs && Atomics.load(mem, k.ctl + CTL.ready) >= ncpus) p.budget = Math.max(p.waited, Math.min(p.budget, p.waited + this.stepTimeoutMs));
        if (p.waited < p.budget) return stop({ kind: 'slow' });
        return stop({ kind: 'timeout', cpu: p.cpu, ms: p.budget });
      }
      st.pending = undefined;
      this.handoffs += 2;
      if (status & STEPPED) {
        steps[p.cpu]!++;
        st.t++;
        order.push(p.cpu);
        labels.push(mem[k.ctl + CTL.label]!);
      }
      if (status & FAULTED) return stop({ kind: 'faulted' });
    }
  }

  /** Merge what the workers kept, then what inline does after its loop, into inline's result. */
  private finish(
    target: Target,
    k: SharedKernel,
    run: Run,
    results: (CpuResult | undefined)[],
    opts: ExecOptions,
    finished: boolean,
    beats: readonly SharedArrayBuffer[],
  ): ExecResult {
    const ncpus = results.length;
    const t = run.order.length;
    const byCpu = results.map((r, c) => r ?? { cpu: c, findings: [], events: [], eventSteps: [], stack: [], held: [], ended: 'abandoned' as const });
    for (const r of byCpu) k.stacks[r.cpu]!.splice(0, Infinity, ...r.stack);
    for (const r of byCpu) k.held[r.cpu]!.splice(0, Infinity, ...r.held);
    const trace: TraceStep[] = opts.trace || opts.labels ? run.order.map((cpu, i) => [cpu, k.siteName(run.labels[i]!)]) : [];
    const labels = opts.labels ? new Set(trace.map(([, label]) => label)) : undefined;

    const end = run.end;
    try {
      if (end.kind === 'hung') hung(k, end.blocked);
      if (end.kind === 'livelock') {
        k.cpu = run.current;
        k.oops('livelock', `livelock: step budget exceeded in ${k.fn()}`, [`${opts.maxSteps ?? DEFAULT_MAX_STEPS} steps`]);
      }
      if (end.kind === 'timeout') {
        // The CPU's worker never reached its next preemption point: a stall, in the function its heartbeat names.
        k.cpu = end.cpu;
        k.oops('stall', stallTitle(readBeat(beats[end.cpu]!).fn), [`cpu${end.cpu} did not reach a preemption point within ${end.ms} ms (step ${t})`, 'its worker was terminated and replaced']);
      }
      if (end.kind === 'died') {
        // Its heartbeat names the function it died in; the worker is gone, and Piscina starts another.
        k.cpu = end.cpu;
        const fn = readBeat(beats[end.cpu]!).fn;
        if (isOutOfMemory(end.error)) {
          k.oops('oom', oomTitle(fn), [`the worker's heap passed its cap of ${this.memoryMb} MiB (--worker-memory) on cpu${end.cpu} at step ${t}`, 'its worker was terminated and replaced']);
        }
        const why = end.error instanceof Error ? end.error.message.split('\n')[0]! : String(end.error);
        k.oops(TARGET_ERROR, `target error: the worker of a CPU died in ${fn}: ${why}`, [`cpu${end.cpu} at step ${t}`]);
      }
      if (!finished) {
        k.oops('harness-error', 'harness-error: threads workers did not finish', [`no result within ${this.stepTimeoutMs} ms after step ${t}; they were terminated`]);
      }
      if (end.kind === 'done') {
        k.step = t;
        k.pullLockOrder();
        runSolo(k, ncpus, target.teardown(k), labels);
        target.leakCheck(k);
      }
    } catch (e) {
      fault(k, e);
    }

    const findings = firstByTitle([...byCpu.flatMap((r) => r.findings).sort((a, b) => a.step - b.step), ...k.findings]);
    k.findings.splice(0, Infinity, ...findings);
    const result: ExecResult = { findings, steps: t, schedule: run.schedule };
    if (opts.trace) result.trace = trace;
    if (opts.events) result.events = mergeEvents(byCpu, k.events ?? []);
    if (labels) result.labels = [...labels];
    return result;
  }
}

/** Atomics.waitAsync (Node 16+; not in the ES2023 lib this project compiles against). */
const waitAsync = (Atomics as unknown as {
  waitAsync(ta: Int32Array, i: number, v: number, ms: number): { async: false; value: string } | { async: true; value: Promise<string> };
}).waitAsync;

function firstByTitle(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => !seen.has(f.title) && seen.add(f.title));
}

/** Worker events in step order, then the coordinator's; a finding's event only where it was first. */
function mergeEvents(results: CpuResult[], after: TraceEvent[]): TraceEvent[] {
  const tagged = results.flatMap((r) => r.events.map((e, i) => ({ e, step: r.eventSteps[i]! })));
  tagged.sort((a, b) => a.step - b.step);
  const seen = new Set<string>();
  return [...tagged.map((x) => x.e), ...after].filter((e) => e.e !== 'finding' || (!seen.has(e.title) && seen.add(e.title)));
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
