// Batches of executions on worker threads that cannot hang or crash the campaign: a Piscina pool
// whose workers run with a heap cap (resourceLimits), and a watchdog that reads each batch's
// heartbeat. A CPU that does not reach its next preemption point within the stall budget is a
// `stall` finding of the execution it was in; its worker is terminated (Piscina's abort signal)
// and replaced. A worker killed for its heap is an `oom` finding of the execution it was running,
// or, outside any execution, a target error. Either way the batch's other indices did not run:
// the caller runs them again (BatchOutcome says which), so that the same indices give the same
// findings whatever happened to the workers.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { BatchFinding, BatchResult } from '../batch.js';
import { heartbeatBuffer, readBeat, requestStop, type Beat } from '../heartbeat.js';
import { workerYoungGenerationMb } from './gc-flags.js';
import type { MinimizedEntry } from '../../corpus/minimize-entry.js';
import { slotCandidate } from '../../minimize/executor.js';
import type { BatchTask, MinimizeTask, PoolTask, ReplayTask } from './pool-worker.js';
import type { ExecResult, Finding } from '../../types.js';
import { oomTitle, stallTitle } from '../watched-kernel.js';

export interface ExecutionLimits {
  /** A CPU that runs longer than this between two preemption points is stalled. */
  stallMs: number;
  /** Each worker's heap cap (V8 old generation), in MiB. */
  memoryMb: number;
}

export const DEFAULT_STALL_MS = 5_000;
export const DEFAULT_MEMORY_MB = 1_024;
export const DEFAULT_LIMITS: ExecutionLimits = { stallMs: DEFAULT_STALL_MS, memoryMb: DEFAULT_MEMORY_MB };

/** How a batch ended. */
export type BatchOutcome =
  | { kind: 'done'; result: BatchResult }
  /** The execution at `index` stalled or ran out of heap: `finding` is its; the batch's other indices did not run. */
  | { kind: 'killed'; index: number; steps: number; finding: BatchFinding }
  /** Its worker ran out of heap outside any execution (loading the target, between executions). */
  | { kind: 'lost'; finding: BatchFinding }
  /** Aborted because the campaign stops: none of its indices count. */
  | { kind: 'stopped' };

/** What runs batches: the guarded pool, or a fake in tests. */
export interface BatchExecutor {
  run(task: BatchTask): Promise<BatchOutcome>;
  /** Ask every batch in flight to end after its current execution, returning what it ran. */
  requestStop?(): void;
  /** Abort every batch in flight: they end 'stopped'. */
  stopAll(): void;
  /** Abort the batches in flight whose execution has not reached a preemption point for `quietMs`. */
  stopStuck(quietMs: number): void;
  close(): Promise<void>;
}

interface Watched {
  hb: SharedArrayBuffer;
  abort: AbortController;
  seq: number;
  since: number;
  /** Why this thread aborted it. */
  reason?: 'stall' | 'stop';
  beat?: Beat;
}

/** How many candidates of one minimization may stall (or pass the heap cap) before it gives up. */
export const MAX_KILLED_CANDIDATES = 8;

/** How a guarded minimization ended. */
export type MinimizeOutcome =
  | { kind: 'done'; value: MinimizedEntry; /** Candidates that stalled or passed the heap cap, skipped. */ killed: string[] }
  | { kind: 'stopped' };

/** A worker's error when its heap passed its resourceLimits. */
export const isOutOfMemory = (e: unknown): boolean => (e as { code?: string } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';

/**
 * The resourceLimits of every worker thread that runs target code: old generation `memoryMb`, and a
 * young generation of 6 MiB under poolGcFlags() (the CLI's), else 12 (V8 makes those semi-spaces of
 * 2 and 4 MiB): an execution's garbage dies young. 30 s `run --target mdev-v5.0` campaigns, pool of
 * 2 (issue 17, session 16): 12 MiB (8 gives the same) peaked at 152-157 MiB, 6 MiB at 140-145 MiB.
 * With V8's parallel scavenges, 6 MiB ran 11% fewer executions (47,716, 46,994 and 48,346 against
 * 54,733, 51,858 and 55,133); without them, as many as 12 MiB with them (50,285, 51,282, 55,208,
 * 49,026 against 49,586, 51,992, 51,507, 51,618).
 */
export function resourceLimitsOf(memoryMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  return { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: workerYoungGenerationMb() };
}

export class GuardedPool implements BatchExecutor {
  private readonly pool: Piscina;
  private readonly watched = new Set<Watched>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    threads: number,
    readonly limits: ExecutionLimits = DEFAULT_LIMITS,
  ) {
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./pool-worker.js', import.meta.url)),
      minThreads: threads,
      maxThreads: threads,
      resourceLimits: resourceLimitsOf(limits.memoryMb),
    });
    this.timer = setInterval(() => this.check(), Math.max(20, Math.min(250, limits.stallMs / 4)));
    this.timer.unref();
  }

  /** The watchdog: a batch whose heartbeat is running and has not moved for the stall budget is aborted. */
  private check(): void {
    const now = performance.now();
    for (const w of this.watched) {
      if (w.reason) continue;
      const beat = readBeat(w.hb);
      if (beat.seq !== w.seq) {
        w.seq = beat.seq;
        w.since = now;
      } else if (beat.running && now - w.since > this.limits.stallMs) {
        w.reason = 'stall';
        w.beat = beat;
        w.abort.abort();
      }
    }
  }

  private async guarded<T>(task: PoolTask): Promise<{ ok: true; value: T } | { ok: false; w: Watched; error: unknown }> {
    const w: Watched = { hb: heartbeatBuffer(), abort: new AbortController(), seq: 0, since: performance.now() };
    this.watched.add(w);
    try {
      return { ok: true, value: (await this.pool.run({ ...task, heartbeat: w.hb }, { signal: w.abort.signal })) as T };
    } catch (error) {
      return { ok: false, w, error };
    } finally {
      this.watched.delete(w);
    }
  }

  async run(task: BatchTask): Promise<BatchOutcome> {
    const r = await this.guarded<BatchResult>(task);
    if (r.ok) return { kind: 'done', result: r.value };
    const killed = this.killed(r.w, r.error);
    if (killed === 'stopped') return { kind: 'stopped' };
    const { beat, finding } = killed;
    const bf: BatchFinding = { title: finding.title, kind: finding.kind, index: beat.index, detail: finding.detail, hits: 1, step: beat.step };
    if (beat.phase !== 0) bf.phase = beat.phase;
    if (finding.kind === 'target-error') return { kind: 'lost', finding: { ...bf, index: task.start } };
    return { kind: 'killed', index: beat.index, steps: beat.step, finding: bf };
  }

  /** One exact replay (program, faults, schedule) in a guarded worker: a stall or an oom is its finding. */
  async replay(task: Omit<ReplayTask, 'heartbeat'>): Promise<{ result: ExecResult; killed?: { beat: Beat; finding: Finding } }> {
    const r = await this.guarded<ExecResult>(task);
    if (r.ok) return { result: r.value };
    const killed = this.killed(r.w, r.error);
    if (killed === 'stopped') throw new Error('replay stopped');
    return { result: { findings: [killed.finding], steps: killed.beat.step, schedule: [] }, killed };
  }

  /**
   * Minimize an entry on a guarded worker within `budgetMs`. A candidate that stalls or passes the
   * heap cap kills the worker; the minimization then starts again with that candidate skipped,
   * which gives the same candidates up to it and goes on past it, as if it had not shown the signature.
   */
  async minimize(task: Omit<MinimizeTask, 'heartbeat' | 'minimize'> & { minimize: Pick<MinimizeTask['minimize'], 'entry' | 'maxReplays'> }, budgetMs: number): Promise<MinimizeOutcome> {
    const t0 = performance.now();
    const stalled: string[] = [];
    const killed: string[] = [];
    const slot = new SharedArrayBuffer(8);
    for (;;) {
      const timeMs = Math.max(1, budgetMs - (performance.now() - t0));
      const r = await this.guarded<MinimizedEntry>({ ...task, minimize: { ...task.minimize, timeMs, stalled: [...stalled], slot } });
      if (r.ok) return { kind: 'done', value: r.value, killed };
      const k = this.killed(r.w, r.error);
      if (k === 'stopped') return { kind: 'stopped' };
      if (k.finding.kind === 'target-error') throw new Error(k.finding.title);
      killed.push(`replay ${k.beat.index}: ${k.finding.title}`);
      if (killed.length >= MAX_KILLED_CANDIDATES) throw new Error(`${killed.length} of its candidates stalled or passed the heap cap (the last: ${k.finding.title})`);
      stalled.push(slotCandidate(new Int32Array(slot)));
    }
  }

  /** What ended a batch that did not come back: the watchdog, a stop, or the heap cap. Anything else is rethrown. */
  private killed(w: Watched, error: unknown): 'stopped' | { beat: Beat; finding: Finding } {
    if (w.reason === 'stop') return 'stopped';
    if (w.reason === 'stall') {
      const beat = w.beat!;
      const detail = [
        `cpu${beat.cpu} did not reach a preemption point within ${this.limits.stallMs} ms (step ${beat.step} of execution ${beat.index})`,
        'its worker was terminated and replaced',
      ];
      return { beat, finding: { kind: 'stall', title: stallTitle(beat.fn), cpu: beat.cpu, step: beat.step, detail } };
    }
    if (isOutOfMemory(error)) {
      const beat = readBeat(w.hb);
      const limit = `the worker's heap passed its cap of ${this.limits.memoryMb} MiB (--worker-memory)`;
      if (!beat.running) {
        return { beat, finding: { kind: 'target-error', title: 'target error: worker heap limit reached outside an execution', cpu: 0, step: 0, detail: [limit] } };
      }
      const detail = [`${limit} on cpu${beat.cpu} at step ${beat.step} of execution ${beat.index}`, 'its worker was terminated and replaced'];
      return { beat, finding: { kind: 'oom', title: oomTitle(beat.fn), cpu: beat.cpu, step: beat.step, detail } };
    }
    throw error;
  }

  requestStop(): void {
    for (const w of this.watched) requestStop(w.hb);
  }

  stopAll(): void {
    for (const w of this.watched) this.stop(w);
  }

  stopStuck(quietMs: number): void {
    this.check();
    const now = performance.now();
    for (const w of this.watched) if (readBeat(w.hb).running && now - w.since > quietMs) this.stop(w);
  }

  private stop(w: Watched): void {
    if (w.reason) return;
    w.reason = 'stop';
    w.abort.abort();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.stopAll();
    await this.pool.destroy();
  }
}
