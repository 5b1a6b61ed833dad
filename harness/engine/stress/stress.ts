// The stress engine: the model's CPUs free-running on real threads, no token. Executions go out in
// batches to CPU slots of a Piscina pool (stress-worker.ts); each comes back as the findings its
// CPUs' crash oracles reported and the trace ring of (ticket -> cpu, label). This thread then does
// what needs the whole state at rest: the hang report, the invariants once every CPU has finished,
// teardown and the leak check. Whether a failure recurs inline is stress-confirm.ts's business.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CPU, CPU_BLOCKED, CPU_RUNNABLE, CPU_WORDS, MAX_CPUS, USUAL_CPUS } from '../../kernel/layout.js';
import type { Target } from '../../target.js';
import { TARGET_ERROR, type Fault, type Finding, type Program, type TraceStep } from '../../types.js';
import { DEFAULT_MEMORY_MB, isOutOfMemory, resourceLimitsOf } from '../pool/guarded-pool.js';
import { bootImage, DEFAULT_MAX_STEPS, fault, hung, runSolo, startOf } from '../inline/inline.js';
import { loadTarget, UsageError, type TargetRef } from '../load.js';
import { faultsFor, programFor } from '../runner.js';
import { CTL, prepareThread, RING_CAP, SharedKernel, threadsWords } from '../threads/threads-kernel.js';
import { sitesBuffer } from '../threads/threads-sites.js';
import { CTL_LEFT, STOP_FAULT, STOP_HUNG, STOP_LIVELOCK, STOP_TIMEOUT, type StressCpuResult, type StressExec, type StressTask } from './stress-worker.js';

export interface StressOptions {
  target: TargetRef;
  seed: string;
  /** Stop after this many executions, or when this much time has passed (at least one is given). */
  execs?: number;
  timeMs?: number;
  /** Batches in flight at once, each on its own CPU threads (default: one per two cores). */
  workers?: number;
  /** Fault injection as in `run` (default on). */
  faults?: boolean;
  maxSteps?: number;
  batchSize?: number;
  /** Every CPU blocked this long is a hang (default 50 ms). */
  hungMs?: number;
  /** An execution still running after this long is abandoned and reported (default 3 s). */
  execMs?: number;
  /** Each CPU worker's heap cap, in MiB (resourceLimits; default DEFAULT_MEMORY_MB). */
  memoryMb?: number;
  shouldStop?(): boolean;
}

/** 'oom': a CPU's worker passed its heap cap; 'died': it died otherwise. Neither is replayed inline. */
export type StressEnd = 'done' | 'faulted' | 'hung' | 'livelock' | 'stuck' | 'oom' | 'died';

export interface StressExecution {
  index: number;
  program: Program;
  faults: Fault[];
  findings: Finding[];
  /** The preemption points in ticket order: which CPU reached which label. */
  tickets: TraceStep[];
  end: StressEnd;
}

export interface StressTotals {
  executions: number;
  /** Preemption points (tickets) taken by all CPUs. */
  steps: number;
  elapsedMs: number;
}

export const DEFAULT_STRESS_BATCH = 64;
const HUNG_MS = 50;
const EXEC_MS = 3000;
/** A stuck stress execution: its CPUs run free, so no one function can be named. */
export const STRESS_STALL_TITLE = 'INFO: rcu_sched self-detected stall on CPU';
/** A stress CPU whose worker passed its heap cap (no heartbeat there either, so no function). */
export const STRESS_OOM_TITLE = 'Out of memory: heap limit reached';

const ENDS: Record<number, StressEnd> = { 0: 'done', [STOP_FAULT]: 'faulted', [STOP_HUNG]: 'hung', [STOP_LIVELOCK]: 'livelock', [STOP_TIMEOUT]: 'stuck' };

export function defaultStressWorkers(): number {
  return Math.max(1, Math.floor(os.availableParallelism() / 2));
}

/** Run stress executions, handing each to `onExecution` as it is finished, in index order per batch. */
export async function runStress(opts: StressOptions, onExecution: (x: StressExecution) => void | Promise<void>): Promise<StressTotals> {
  if (opts.execs === undefined && opts.timeMs === undefined) throw new Error('stress needs an execution count or a time budget');
  const target = await loadTarget(opts.target);
  // Free-running CPUs have no scheduler to hold a thread back until thread_start: run it inline.
  if (target.threads?.length) throw new UsageError(`stress does not run ${target.name}: it has threads (use run)`);
  const sites = sitesBuffer();
  prepareThread(target, sites);
  const workers = opts.workers ?? defaultStressWorkers();
  const pool = new Piscina({
    filename: fileURLToPath(new URL('./stress-worker.js', import.meta.url)),
    minThreads: workers * USUAL_CPUS,
    maxThreads: workers * (MAX_CPUS - 1),
    idleTimeout: Infinity,
    resourceLimits: resourceLimitsOf(opts.memoryMb ?? DEFAULT_MEMORY_MB),
  });
  const t0 = performance.now();
  const deadline = opts.timeMs === undefined ? Infinity : t0 + opts.timeMs;
  const limit = opts.execs ?? Number.MAX_SAFE_INTEGER;
  const totals: StressTotals = { executions: 0, steps: 0, elapsedMs: 0 };
  const more = (): boolean => next < limit && performance.now() < deadline && !(opts.shouldStop?.() ?? false);
  let next = 0;
  let size = 4; // small batches first, so that a short budget is not spent on one large batch
  const execMs = opts.execMs ?? EXEC_MS;

  const runBatch = async (start: number, count: number): Promise<void> => {
    const execs = Array.from({ length: count }, (_, i) => prepare(target, opts, start + i));
    const batch = new SharedArrayBuffer(4);
    const slots = Math.max(...execs.map((x) => x.program.cpus.length));
    const abort = new AbortController();
    const tasks = Array.from({ length: slots }, (_, slot) => {
      const task: StressTask = { target: opts.target, sites, batch, slot, slots, execs, maxSteps: Math.min(opts.maxSteps ?? DEFAULT_MAX_STEPS, RING_CAP), hungMs: opts.hungMs ?? HUNG_MS, execMs };
      return pool.run(task, { signal: abort.signal }) as Promise<(StressCpuResult | null)[]>;
    });
    // A slot whose worker dies (its heap cap, a crash) ends the batch at once: the execution it was
    // in is reported as that, the ones after it did not run.
    let died: { slot: number; error: unknown } | undefined;
    tasks.forEach((p, slot) =>
      p.catch((error: unknown) => {
        if (abort.signal.aborted) return;
        died = { slot, error };
        abort.abort();
      }),
    );
    const watch = new Watchdog(execs, target.layout.words, slots, execMs);
    const watchdog = setInterval(() => watch.check(() => abort.abort()), 100);
    const results = await Promise.allSettled(tasks);
    clearInterval(watchdog);
    const perSlot = results.map((r) => (r.status === 'fulfilled' ? r.value : []));
    for (let j = 0; j < count; j++) {
      const x = execs[j]!;
      const ctl = new Int32Array(x.sab, target.layout.words * 4, CTL_LEFT + 1);
      const ran = perSlot.every((r) => r.length > j);
      // A slot that never left a started execution is stuck in it: report that one. Executions
      // that finished but whose results died with an aborted task, or that never started, are lost.
      const stuck = !ran && Atomics.load(ctl, CTL.ready) >= slots && Atomics.load(ctl, CTL_LEFT) < slots;
      if (!ran && !stuck) continue;
      const death = stuck && died ? { ...died, memoryMb: opts.memoryMb ?? DEFAULT_MEMORY_MB } : undefined;
      const done = finish(target, x, x.program.cpus.map((_, c) => perSlot[c]![j] ?? null), ran, execMs, death);
      totals.executions++;
      totals.steps += done.tickets.length;
      await onExecution(done);
    }
  };

  try {
    const inFlight = new Set<Promise<void>>();
    while (more() || inFlight.size > 0) {
      while (inFlight.size < workers && more()) {
        const count = Math.min(size, limit - next);
        const p: Promise<void> = runBatch(next, count).then(() => void inFlight.delete(p));
        inFlight.add(p);
        next += count;
        size = Math.min(size * 2, opts.batchSize ?? DEFAULT_STRESS_BATCH);
      }
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
  } finally {
    await pool.destroy();
  }
  totals.elapsedMs = Math.round(performance.now() - t0);
  return totals;
}

/**
 * Watches a batch from this thread: the first execution that some slot has not left, once all
 * slots arrived at it, must be left within execMs and a second; otherwise its threads are stuck
 * (in target code that never yields) and the batch's tasks are aborted, which terminates them.
 */
class Watchdog {
  private watched = -1;
  private since = 0;

  constructor(
    private readonly execs: readonly StressExec[],
    private readonly ctl: number,
    private readonly slots: number,
    private readonly execMs: number,
  ) {}

  check(kill: () => void): void {
    let j = 0;
    let mem: Int32Array | undefined;
    for (; j < this.execs.length; j++) {
      mem = new Int32Array(this.execs[j]!.sab);
      if (Atomics.load(mem, this.ctl + CTL_LEFT) < this.slots) break;
    }
    if (!mem || j === this.execs.length || Atomics.load(mem, this.ctl + CTL.ready) < this.slots) return;
    if (j !== this.watched) [this.watched, this.since] = [j, performance.now()];
    else if (performance.now() - this.since > this.execMs + 1000) kill();
  }
}

interface Prepared extends StressExec {
  index: number;
}

function prepare(target: Target, opts: StressOptions, index: number): Prepared {
  const program = programFor(target, opts.seed, index);
  const faults = opts.faults === false ? [] : faultsFor(target, opts.seed, index);
  const sab = new SharedArrayBuffer(threadsWords(target.layout) * 4);
  const mem = new Int32Array(sab);
  mem.set(bootImage(target, startOf(target, program)).words);
  for (let c = 0; c < program.cpus.length; c++) mem[c * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
  return { index, sab, program, faults, key: `${opts.seed}:${index}:stress` };
}

/** The rest of the execution, at rest: hang report, invariants, teardown, leak check. */
function finish(target: Target, x: Prepared, cpus: (StressCpuResult | null)[], ran: boolean, execMs: number, death?: { slot: number; error: unknown; memoryMb: number }): StressExecution {
  const ncpus = x.program.cpus.length;
  const k = new SharedKernel(target.layout, x.sab, { ncpus, faults: x.faults }, bootImage(target, startOf(target, x.program)).lockOrder);
  const mem = k.mem;
  const count = Math.min(Atomics.load(mem, k.ctl + CTL.ticket), RING_CAP);
  const tickets: TraceStep[] = [];
  for (let i = 0; i < count; i++) {
    const at = k.ctl + CTL.ring + 2 * i;
    const cpu = Atomics.load(mem, at) - 1;
    if (cpu < 0) break;
    tickets.push([cpu, k.siteName(mem[at + 1]!)]);
  }
  cpus.forEach((r, c) => k.stacks[c]!.splice(0, Infinity, ...(r?.stack ?? [])));
  cpus.forEach((r, c) => k.held[c]!.splice(0, Infinity, ...(r?.held ?? [])));
  const why = ran ? Atomics.load(mem, k.ctl + CTL.abort) : STOP_TIMEOUT;
  const end: StressEnd = death ? (isOutOfMemory(death.error) ? 'oom' : 'died') : (ENDS[why] ?? 'stuck');
  k.step = count;
  try {
    if (death) k.cpu = death.slot;
    if (end === 'oom') k.oops('oom', STRESS_OOM_TITLE, [`the worker of cpu${death!.slot} passed its heap cap of ${death!.memoryMb} MiB (--worker-memory) after ${count} steps; its threads were terminated`]);
    if (end === 'died') {
      const why = death!.error instanceof Error ? death!.error.message.split('\n')[0]! : String(death!.error);
      k.oops(TARGET_ERROR, `target error: the worker of a stress CPU died: ${why}`, [`cpu${death!.slot} after ${count} steps`]);
    }
    if (end === 'hung') {
      const blocked = [...Array(ncpus).keys()].filter((c) => mem[c * CPU_WORDS + CPU.state] === CPU_BLOCKED);
      hung(k, blocked);
    }
    // A CPU never came back to a preemption point (free-running, which one is not known): a stall.
    if (end === 'stuck') k.oops('stall', STRESS_STALL_TITLE, [`abandoned after ${execMs} ms with ${count} steps; its threads were terminated`]);
    if (end === 'done') {
      k.pullLockOrder();
      k.cpu = ncpus;
      for (const inv of target.invariants) inv(k);
      runSolo(k, ncpus, target.teardown(k), undefined);
      target.leakCheck(k);
    }
  } catch (e) {
    fault(k, e);
  }
  const seen = new Set<string>();
  const all = [...cpus.flatMap((r) => r?.findings ?? []).sort((a, b) => a.step - b.step), ...k.findings];
  const findings = all.filter((f) => !seen.has(f.title) && seen.add(f.title));
  return { index: x.index, program: x.program, faults: x.faults, findings, tickets, end };
}
