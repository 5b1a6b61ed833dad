// The threads engine: each CPU of an execution is a Piscina worker, all on the execution's one
// SharedArrayBuffer, where the model's locks are the same Atomics words as inline. This thread is
// the scheduler: at every preemption point it picks the next CPU with the very code of the inline
// executor (the same strategy, the same runnable set read from the CPU table), sets that CPU's
// grant word, and waits on the reply word while the CPU runs one step. So exactly one CPU runs at
// a time, and the trace, the findings and the model's final bytes are those of inline.
// Teardown and the leak check run here after the CPUs, as inline runs them after its loop.
// The workers stay from one execution to the next (a session per target, on one buffer): each
// CPU's task sleeps on its start word between executions and is handed the next one on its port.
// An execution that does not end cleanly (a stall, a death, a cancellation) ends the session.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
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
import { CTL, othersRunnable, prepareThread, SharedKernel, signal, SLEEP, threadsWords, TIMED_OUT, waitChange, type WaitPolicy } from './threads-kernel.js';
import { sitesBuffer } from './threads-sites.js';
import { heartbeatBuffer, readBeat } from '../heartbeat.js';
import { oomTitle, stallTitle } from '../watched-kernel.js';
import { DEFAULT_MEMORY_MB, isOutOfMemory, resourceLimitsOf } from '../pool/guarded-pool.js';
import { FAULTED, GRANT_FINISH, GRANT_RUN, QUIT, STEPPED, type CpuResult, type CpuSession, type CpuTask } from './threads-worker.js';

export type SpinMode = 'auto' | 'always' | 'never';

export interface ThreadsEngineOptions {
  /**
   * 'auto' (default): spin briefly before sleeping while the scheduler, the running CPU, a CPU
   * being woken and the runnable threads of other processes fit the cores; 'always' ignores
   * other processes and that third thread.
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

/** A CPU's session task, from this side: its worker runs that CPU of the session's target in every execution. */
interface SessionCpu {
  /** This end of the task's port: executions out, results in. */
  port: MessagePort;
  heartbeat: SharedArrayBuffer;
  abort: AbortController;
  task: Promise<void>;
  /** Set when the task has ended: returned (QUIT), aborted, or failed with `error`. */
  ended?: { failed: boolean; error?: unknown };
}

/** The session tasks of one target, all on one buffer, kept from one execution to the next. */
interface Session {
  target: Target;
  sab: SharedArrayBuffer;
  cpus: (SessionCpu | undefined)[];
  /** The number of the last execution started (the start words' value). */
  seq: number;
}

export class ThreadsEngine {
  private readonly pool: Piscina;
  private readonly spinMode: SpinMode;
  private readonly cores = os.availableParallelism();
  private readonly stepTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly memoryMb: number;
  private session: Session | undefined;
  private busy = false;
  /** Grants and replies exchanged so far: two per step. */
  handoffs = 0;
  /** Worker tasks posted so far: one per CPU of a session, and again for one that ended. */
  tasksStarted = 0;
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
    await this.endSession(this.busy);
    await this.pool.destroy();
  }

  /**
   * One execution, as inline's execute() (opts.buffer aside: the engine keeps its own buffer, the
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
    const session = await this.sessionFor(target);
    const k = new SharedKernel(target.layout, session.sab, { ncpus, faults: opts.faults, events: opts.events }, img.lockOrder);
    k.mem.set(img.words);
    k.mem.fill(0, k.ctl, k.ctl + CTL.start);
    startCpus(target.threads, k.mem, ncpus);

    // A switch to another CPU wakes a third thread while the last one still spins: with no core
    // for it, it waits for one, and the coordinator's spin then outlasts its budget (2 cores:
    // 1.2-2x slower than sleeping, on the Xeon and the AMD machine alike, session 18).
    const spin = this.spinMode === 'always' || (this.spinMode === 'auto' && othersRunnable() + 3 <= this.cores);
    // A CPU without a running task gets one; its first execution waits for the worker to attach.
    let fresh = false;
    const cpus = program.cpus.map((_, c) => {
      let cpu = session.cpus[c];
      if (!cpu || cpu.ended) {
        cpu?.port.close();
        session.cpus[c] = cpu = this.startCpu(ref, session, c, sites);
        fresh = true;
      }
      return cpu;
    });
    const task: CpuTask = { program, faults: opts.faults ? [...opts.faults] : [], events: opts.events ?? false, spin, cores: this.cores, waitMs: this.startTimeoutMs + this.stepTimeoutMs, profiling: opts.profiling ?? false };
    session.seq++;
    cpus.forEach((cpu, c) => {
      cpu.port.postMessage(task);
      signal(k.mem, k.ctl + CTL.start + c, session.seq);
    });
    // A worker that dies (its heap cap, a crash) ends the execution at once, as a finding of it.
    const died = (): { cpu: number; error: unknown } | undefined => {
      const c = cpus.findIndex((cpu) => cpu.ended?.failed === true && !cpu.abort.signal.aborted);
      return c < 0 ? undefined : { cpu: c, error: cpus[c]!.ended!.error };
    };
    const failure = (): Error | undefined => {
      const d = died();
      return d && new Error(`threads engine: a worker failed: ${d.error instanceof Error ? d.error.message : String(d.error)}`);
    };
    let run: Run;
    try {
      // The strategy's profiling runs (this thread, their own buffer) while the workers set up.
      strategy.start({ ncpus, ops: countOps(program), rng, profile: profileFor(strategy, target, program, opts.faults, opts.maxSteps) });
      if (fresh && !(await this.attached(k, ncpus, Promise.race(cpus.map((cpu) => cpu.task))))) {
        throw failure() ?? new Error('threads engine: the workers did not start');
      }
      run = await this.scheduleAll({
        k, ncpus, strategy, maxSteps: opts.maxSteps ?? DEFAULT_MAX_STEPS, firstStepMs: fresh ? this.stepTimeoutMs : this.startTimeoutMs,
        policy: { spin, cores: this.cores, hot: k.ctl + CTL.hot },
        schedule: [], order: [], labels: [], steps: new Array<number>(ncpus).fill(0), attached: new Array<boolean>(ncpus).fill(false), runnable: [], current: 0, t: 0,
      }, died);
    } catch (e) {
      await this.endSession(true); // its workers are in an execution that goes no further
      throw e;
    }
    // A worker that did not hand back is terminated; the others finish and report.
    if (run.end.kind === 'timeout' || run.end.kind === 'cancelled') cpus[run.end.cpu]!.abort.abort();
    for (let c = 0; c < ncpus; c++) signal(k.mem, k.ctl + CTL.grant + c, GRANT_FINISH);
    const results = await this.collect(k, cpus);
    const finished = results.every((r) => r !== undefined) && run.end.kind !== 'timeout' && run.end.kind !== 'cancelled' && run.end.kind !== 'died';
    // The buffer is kept only when every worker is known to have let go of it.
    if (!finished) await this.endSession(true);
    if (run.end.kind === 'cancelled') throw new ExecutionCancelled();
    const failed = failure();
    if (failed && run.end.kind !== 'died') throw failed;
    const beats = cpus.map((cpu) => cpu.heartbeat);
    return { kernel: k, result: this.finish(target, k, run, results, opts, finished, beats) };
  }

  /** schedule() until the execution ends, letting this thread's event loop run while a step is slow. */
  private async scheduleAll(st: SchedState, died: () => { cpu: number; error: unknown } | undefined): Promise<Run> {
    let run = this.schedule(st);
    while (run.end.kind === 'slow') {
      await yieldToEvents(); // a slow step: let signals be heard
      const d = died();
      if (d) return { ...run, end: { kind: 'died', cpu: d.cpu, error: d.error } };
      if (this.shouldStop?.()) return { ...run, end: { kind: 'cancelled', cpu: st.pending!.cpu } };
      run = this.schedule(st);
    }
    return run;
  }

  /** The session of `target`: the one running, or a new one (another target's is ended first). */
  private async sessionFor(target: Target): Promise<Session> {
    if (this.session?.target === target) return this.session;
    await this.endSession(false);
    this.session = { target, sab: new SharedArrayBuffer(threadsWords(target.layout) * 4), cpus: [], seq: 0 };
    return this.session;
  }

  /** Post CPU `c`'s session task. */
  private startCpu(ref: TargetRef, session: Session, c: number, sites: SharedArrayBuffer): SessionCpu {
    this.tasksStarted++;
    const { port1, port2 } = new MessageChannel();
    const heartbeat = heartbeatBuffer();
    const abort = new AbortController();
    const since = Atomics.load(new Int32Array(session.sab), session.target.layout.words + CTL.start + c);
    const task: CpuSession = { target: ref, sites, sab: session.sab, cpu: c, port: port2, heartbeat, since };
    const cpu: SessionCpu = { port: port1, heartbeat, abort, task: Promise.resolve() };
    cpu.task = (this.pool.run(task, { transferList: [port2], signal: abort.signal }) as Promise<void>).then(
      () => void (cpu.ended = { failed: false }),
      (error: unknown) => void (cpu.ended = { failed: true, error }),
    );
    return cpu;
  }

  /**
   * End the session: its workers leave between executions (QUIT), or, with `abort` (a worker may
   * still be in a step, or the buffer is not to be trusted), are terminated and replaced by the pool.
   */
  private async endSession(abort: boolean): Promise<void> {
    const s = this.session;
    if (!s) return;
    this.session = undefined;
    const mem = new Int32Array(s.sab);
    const start = s.target.layout.words + CTL.start;
    const cpus = s.cpus.filter((cpu): cpu is SessionCpu => cpu !== undefined);
    if (!abort) s.cpus.forEach((cpu, c) => cpu && signal(mem, start + c, QUIT));
    const ended = Promise.all(cpus.map((cpu) => cpu.task));
    if (abort || !(await within(ended, this.stepTimeoutMs))) cpus.forEach((cpu) => cpu.abort.abort());
    await ended;
    for (const cpu of cpus) cpu.port.close();
  }

  /**
   * Each CPU's result, once it has posted it (its done word): undefined for one terminated, gone,
   * or silent for a step's budget after the grants to finish.
   */
  private async collect(k: SharedKernel, cpus: readonly SessionCpu[]): Promise<(CpuResult | undefined)[]> {
    const deadline = performance.now() + this.stepTimeoutMs;
    const out: (CpuResult | undefined)[] = [];
    for (const [c, cpu] of cpus.entries()) {
      const done = k.ctl + CTL.done + c;
      for (;;) {
        if (Atomics.load(k.mem, done) !== 0) {
          out.push(receiveMessageOnPort(cpu.port)?.message as CpuResult | undefined);
          break;
        }
        const left = deadline - performance.now();
        if (cpu.ended || cpu.abort.signal.aborted || left <= 0) {
          out.push(undefined);
          break;
        }
        if (waitChange(k.mem, done, 0, Math.min(SLICE_MS, left), SLEEP) === TIMED_OUT) await yieldToEvents();
      }
    }
    return out;
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
      if (end.kind === 'done' && !opts.profiling) {
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

/** Let this thread's event loop run: signals, and the end of a task. */
function yieldToEvents(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
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
