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
import { CPU, CPU_BLOCKED, CPU_RUNNABLE, CPU_WORDS, MAX_CPUS } from '../kernel/layout.js';
import type { Rng } from '../rng.js';
import { defaultNext, type Strategy } from '../sched/strategy.js';
import type { Target } from '../target.js';
import type { ExecResult, Finding, Program, Schedule, TraceEvent, TraceStep } from '../types.js';
import { DEFAULT_MAX_STEPS, fault, hung, runSolo, startOf, type ExecOptions, type Execution } from './inline.js';
import type { TargetRef } from './load.js';
import { countOps } from './program.js';
import { CTL, othersRunnable, prepareThread, SharedKernel, signal, threadsWords, TIMED_OUT, waitChange, type WaitPolicy } from './threads-kernel.js';
import { sitesBuffer } from './threads-sites.js';
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
  | { kind: 'timeout'; cpu: number; ms: number };

export class ThreadsEngine {
  private readonly pool: Piscina;
  private readonly spinMode: SpinMode;
  private readonly cores = os.availableParallelism();
  private readonly stepTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly buffers = new Map<Target, SharedArrayBuffer>();
  private readonly started = new WeakSet<Target>();
  private busy = false;
  /** Grants and replies exchanged so far: two per step. */
  handoffs = 0;

  constructor(opts: ThreadsEngineOptions = {}) {
    this.spinMode = opts.spin ?? 'auto';
    this.stepTimeoutMs = opts.stepTimeoutMs ?? 10_000;
    this.startTimeoutMs = opts.startTimeoutMs ?? 60_000;
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./threads-worker.js', import.meta.url)),
      minThreads: MAX_CPUS - 1,
      maxThreads: MAX_CPUS - 1,
      idleTimeout: Infinity,
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
    for (let c = 0; c < ncpus; c++) k.mem[c * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
    strategy.start({ ncpus, ops: countOps(program), rng });

    const spin = this.spinMode === 'always' || (this.spinMode === 'auto' && othersRunnable() + 2 <= this.cores);
    const aborts = program.cpus.map(() => new AbortController());
    const tasks = program.cpus.map((_, cpu) => {
      const task: CpuTask = { target: ref, sites, sab, cpu, program, faults: opts.faults ? [...opts.faults] : [], events: opts.events ?? false, spin, cores: this.cores, waitMs: this.startTimeoutMs + this.stepTimeoutMs };
      return this.pool.run(task, { signal: aborts[cpu]!.signal }) as Promise<CpuResult>;
    });
    const abortAll = (): void => aborts.forEach((a) => a.abort());
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
    const run = this.schedule(k, ncpus, strategy, opts.maxSteps ?? DEFAULT_MAX_STEPS, posted ? this.startTimeoutMs : this.stepTimeoutMs, spin);
    // A worker that did not hand back is terminated; the others finish and report.
    if (run.end.kind === 'timeout') aborts[run.end.cpu]!.abort();
    for (let c = 0; c < ncpus; c++) signal(k.mem, k.ctl + CTL.grant + c, GRANT_FINISH);
    const finished = (await within(settled, this.stepTimeoutMs)) && run.end.kind !== 'timeout';
    if (!finished) abortAll();
    await settled;
    if (failure) throw failure;
    if (finished) this.buffers.set(target, sab);
    const results = await Promise.all(tasks.map((p) => p.catch(() => undefined)));
    return { kernel: k, result: this.finish(target, k, run, results, opts, finished) };
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

  /** The inline executor's loop, with each step run by the CPU's worker. */
  private schedule(k: SharedKernel, ncpus: number, strategy: Strategy, maxSteps: number, firstStepMs: number, spin: boolean): Run {
    const mem = k.mem;
    const policy: WaitPolicy = { spin, cores: this.cores, hot: k.ctl + CTL.hot };
    const schedule: Schedule = [];
    const order: number[] = [];
    const labels: number[] = [];
    const steps = new Array<number>(ncpus).fill(0);
    /** A CPU's first step may wait for its worker to attach. */
    const attached = new Array<boolean>(ncpus).fill(false);
    const runnable: number[] = [];
    let current = 0;
    let t = 0;
    const stop = (end: End): Run => ({ end, order, labels, schedule, current });
    for (;;) {
      runnable.length = 0;
      const blocked: number[] = [];
      for (let c = 0; c < ncpus; c++) {
        const s = mem[c * CPU_WORDS + CPU.state];
        if (s === CPU_RUNNABLE || (s === CPU_BLOCKED && k.waitSatisfied(c))) runnable.push(c);
        else if (s === CPU_BLOCKED) blocked.push(c);
      }
      if (runnable.length === 0) return stop(blocked.length > 0 ? { kind: 'hung', blocked } : { kind: 'done' });
      if (t >= maxSteps) return stop({ kind: 'livelock' });
      const cpu = strategy.pick(runnable, current, steps, t);
      if (cpu !== defaultNext(runnable, current)) schedule.push({ cpu: current, step: steps[current]!, to: cpu });
      current = cpu;
      k.cpu = cpu;
      k.step = t;
      mem[cpu * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
      k.clearWait(cpu);
      mem[k.ctl + CTL.step] = t;
      Atomics.store(mem, k.ctl + CTL.reply, 0);
      signal(mem, k.ctl + CTL.grant + cpu, GRANT_RUN);
      const ms = attached[cpu] ? this.stepTimeoutMs : firstStepMs;
      attached[cpu] = true;
      const status = waitChange(mem, k.ctl + CTL.reply, 0, ms, policy);
      this.handoffs += 2;
      if (status === TIMED_OUT) return stop({ kind: 'timeout', cpu, ms });
      if (status & STEPPED) {
        steps[cpu]!++;
        t++;
        order.push(cpu);
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
  ): ExecResult {
    const ncpus = results.length;
    const t = run.order.length;
    const byCpu = results.map((r, c) => r ?? { cpu: c, findings: [], events: [], eventSteps: [], stack: [], ended: 'abandoned' as const });
    for (const r of byCpu) k.stacks[r.cpu]!.splice(0, Infinity, ...r.stack);
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
        k.cpu = end.cpu;
        k.oops('harness-error', `harness-error: threads worker of cpu${end.cpu} hung`, [`no hand-back within ${end.ms} ms at step ${t}; the worker was terminated`]);
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
