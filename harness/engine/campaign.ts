// A campaign: execution indices [0, N) (or until a time budget runs out) in batches, inline in
// this thread or fanned out to a Piscina pool, merged in index order: whatever the number of
// workers, the same indices give the same findings, with the same first index and hit counts.
// Guided (--guide coverage), the indices run in epochs of EPOCH: every batch of an epoch gets the
// queue as it stood at the epoch's start, and the queue grows only between epochs (harness/guided).

import os from 'node:os';
import { CoverageCounter, type Coverage } from '../coverage/coverage.js';
import type { FindingKind } from '../types.js';
import { EPOCH, Guide } from '../guided/queue.js';
import type { QueueEntry } from '../guided/entry.js';
import { runBatch, type BatchConfig, type BatchResult, type Repro } from './batch.js';
import { loadTarget, type TargetRef } from './load.js';
import type { BatchTask } from './pool/pool-worker.js';
import { DEFAULT_LIMITS, GuardedPool, type BatchExecutor, type BatchOutcome, type ExecutionLimits } from './pool/guarded-pool.js';
import { DEADLINE_GRACE_MS, killedResult, STOP_GRACE_MS } from './redo.js';
import { notAlone, OomConfirmer } from './pool/oom-confirm.js';
import type { CampaignConfig } from './runner.js';
import type { Target } from '../target.js';
import { compareText } from '../text.js';

export interface CampaignOptions extends CampaignConfig {
  /** What workers load (plain data); or the target itself, for a campaign that runs inline (workers 0, no limits). */
  target: TargetRef | Target;
  /** Stop after this many executions... */
  execs?: number;
  /** ...or when this much time has passed (whichever comes first; at least one is given). */
  timeMs?: number;
  /** 0: inline in this thread; otherwise a pool of this many worker threads. */
  workers: number;
  /** The first execution index (default 0): the campaign runs indices [startIndex, startIndex + execs). */
  startIndex?: number;
  batchSize?: number;
  /** Collect label and concurrent-pair coverage (CampaignResult.coverage). */
  coverage?: boolean;
  /** Record the first index that reached each coverage key (CampaignResult.keys); always so when guided. */
  trackKeys?: boolean;
  /** Called after every merged batch. */
  onProgress?(p: CampaignProgress): void;
  /** Stops dispatching new batches when it returns true (e.g. after SIGINT). */
  shouldStop?(): boolean;
  /**
   * Called once per signature, as soon as this thread learns of it (its batch merged), with the
   * finding as first seen; a later batch may still lower its index. For saving first sightings.
   */
  onNewFinding?(f: Readonly<CampaignFinding>): void;
  /**
   * The watchdog's budgets. Given, even `workers: 0` runs its batches on a worker thread (one),
   * under the watchdog, so that no target code can hang or crash the campaign; pools always do.
   */
  limits?: ExecutionLimits;
  /** Runs the batches instead of a guarded pool (tests fake it). */
  executor?: BatchExecutor;
}

export interface CampaignFinding {
  title: string;
  kind: FindingKind;
  index: number;
  detail: string[];
  hits: number;
  /** Milliseconds from the start of the campaign to the batch that first found it. */
  timeToFindMs: number;
  /** What replays the execution at `index`: its schedule (and, guided, a mutation's program that (seed, index) alone would not rebuild). */
  repro?: Repro;
  /** A watchdog's finding (stall, oom): the step of `index` that never finished. */
  step?: number;
  /** ... when that step was one of a profiling run of `index` (profile-run.ts FORWARD, BACKWARD). */
  phase?: number;
}

export interface GuideStats {
  epochs: number;
  /** Entries in the queue at the end, and ever appended to it. */
  queue: number;
  added: number;
  /** Executions that were mutations of queue entries. */
  mutated: number;
}

export interface CampaignProgress {
  executions: number;
  steps: number;
  elapsedMs: number;
  findings: number;
}

export interface CampaignResult {
  executions: number;
  steps: number;
  elapsedMs: number;
  /** In order of first index. */
  findings: CampaignFinding[];
  /** Present when asked: summed over batches, so the same indices give the same coverage. */
  coverage?: Coverage;
  /** Guided: how the queue went. */
  guide?: GuideStats;
  /** With trackKeys or guided: every coverage key reached, with the first index that reached it, in that order. */
  keys?: { key: string; index: number }[];
}

/**
 * Executions per batch. Each batch's result carries its coverage, about as large for 500
 * executions as for 200 (the keys repeat), and the main thread's heap grows with what it
 * deserializes: 40 s campaigns of mdev-v5.0 (pool of 2) peaked at 187 MiB with batches of 200,
 * 172 MiB with 500 and 164 MiB with 1,000, with about as many executions (issue 17, session 13).
 * A range is still cut into at least two batches per worker (batchSizeOf), so that a short
 * campaign or a guided epoch keeps every worker busy.
 */
export const DEFAULT_BATCH = 500;

/** The size of the batches of a range of `length` indices on `threads` workers, unless one is given. */
export function batchSizeOf(length: number, threads: number, given?: number): number {
  return given ?? Math.max(1, Math.min(DEFAULT_BATCH, Math.ceil(length / (2 * threads))));
}

export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism());
}

class Merger {
  readonly byTitle = new Map<string, CampaignFinding>();
  executions = 0;
  steps = 0;

  constructor(
    private readonly t0: number,
    private readonly coverage?: CoverageCounter,
    private readonly onNew?: (f: Readonly<CampaignFinding>) => void,
  ) {}

  add(b: BatchResult): void {
    this.executions += b.count;
    if (b.coverage) this.coverage?.addPacked(b.coverage);
    this.steps += b.steps;
    const now = performance.now() - this.t0;
    for (const f of b.findings) {
      const seen = this.byTitle.get(f.title);
      if (!seen) {
        const first = { ...f, timeToFindMs: Math.round(now) };
        this.byTitle.set(f.title, first);
        this.onNew?.({ ...first });
        continue;
      }
      seen.hits += f.hits;
      if (f.index < seen.index) {
        seen.index = f.index;
        seen.detail = f.detail;
        if (f.step !== undefined) seen.step = f.step;
        else delete seen.step;
        if (f.phase !== undefined) seen.phase = f.phase;
        else delete seen.phase;
        seen.timeToFindMs = Math.min(seen.timeToFindMs, Math.round(now));
        if (f.repro) seen.repro = f.repro;
        else delete seen.repro;
      }
    }
  }

  result(): CampaignResult {
    const findings = [...this.byTitle.values()].sort((a, b) => a.index - b.index || compareText(a.title, b.title));
    const r: CampaignResult = { executions: this.executions, steps: this.steps, elapsedMs: Math.round(performance.now() - this.t0), findings };
    if (this.coverage) r.coverage = this.coverage.toJSON();
    return r;
  }
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  if (opts.execs === undefined && opts.timeMs === undefined) throw new Error('a campaign needs --execs or --time');
  const given = opts.target;
  const target = 'layout' in given ? given : await loadTarget(given);
  const guided = opts.guide === 'coverage';
  const cfg: BatchConfig = { seed: opts.seed, strategy: opts.strategy, depth: opts.depth, maxSteps: opts.maxSteps, faults: opts.faults };
  if (opts.coverage) cfg.coverage = true;
  if (guided) cfg.guide = 'coverage';
  else if (opts.trackKeys) cfg.novelty = true;
  const guide = guided || opts.trackKeys ? new Guide() : undefined;
  const first = opts.startIndex ?? 0;
  const limit = opts.execs === undefined ? Number.MAX_SAFE_INTEGER : first + opts.execs;
  const t0 = performance.now();
  const deadline = opts.timeMs === undefined ? Infinity : t0 + opts.timeMs;
  const merger = new Merger(t0, opts.coverage ? new CoverageCounter() : undefined, opts.onNewFinding);
  const progress = (): void =>
    opts.onProgress?.({ executions: merger.executions, steps: merger.steps, elapsedMs: performance.now() - t0, findings: merger.byTitle.size });
  const more = (next: number): boolean => next < limit && performance.now() < deadline && !(opts.shouldStop?.() ?? false);
  const threads = Math.max(1, opts.workers);
  const pooled = opts.executor !== undefined || opts.workers > 0 || opts.limits !== undefined;
  if (pooled && 'layout' in given) throw new Error(`target ${given.name} is an object, which runs inline only (workers 0, no limits); workers load a module: { file }`);
  const pool: BatchExecutor | undefined = opts.executor ?? (pooled ? new GuardedPool(threads, opts.limits ?? DEFAULT_LIMITS) : undefined);
  const ref = given as TargetRef;
  const stopping = (): boolean => performance.now() >= deadline || (opts.shouldStop?.() ?? false);
  const confirmer = new OomConfirmer(opts.limits ?? DEFAULT_LIMITS);
  const stats: GuideStats = { epochs: 0, queue: 0, added: 0, mutated: 0 };

  /** Indices [from, to) in batches, each given `queue`; the next index not run, and the batches when kept. */
  const runRange = async (from: number, to: number, queue: readonly QueueEntry[], keep: boolean): Promise<{ next: number; results: BatchResult[] }> => {
    const results: BatchResult[] = [];
    const batch = batchSizeOf(to - from, threads, opts.batchSize);
    const take = (b: BatchResult): void => {
      merger.add(b);
      if (keep) results.push(b);
      progress();
    };
    /**
     * A killed execution's result. An oom is confirmed first (oom-confirm.ts): the execution alone
     * on a fresh worker; dying again, it is pinned (to whatever killed it alone), else it ran to the
     * end and its oom is a target error. A stop during the confirmation keeps the oom as found.
     */
    const killedOf = async (o: Extract<BatchOutcome, { kind: 'killed' }>, task: BatchTask): Promise<BatchResult> => {
      if (o.finding.kind !== 'oom') return killedResult(target, cfg, queue, o);
      const { start: _s, count: _c, ...rest } = task;
      const alone = await confirmer.alone(rest, o.index);
      if (alone.kind === 'killed') return killedResult(target, cfg, queue, alone);
      if (alone.kind === 'done') return { ...alone.result, findings: [...alone.result.findings, notAlone(o.finding)] };
      if (alone.kind === 'lost') return { start: o.index, count: 1, steps: o.steps, findings: [{ ...alone.finding, index: o.index }] };
      return killedResult(target, cfg, queue, o);
    };
    let next = from;
    if (!pool) {
      while (next < to && more(next)) {
        const count = Math.min(batch, to - next);
        take(runBatch(target, cfg, next, count, queue));
        next += count;
        await new Promise<void>((resolve) => setImmediate(resolve)); // lets signal handlers run between batches
      }
      return { next, results };
    }
    // Ranges to run again: the rest of a batch whose worker a stall or its heap killed, first.
    const redo: [start: number, count: number][] = [];
    const inFlight = new Set<Promise<void>>();
    let stopSince: number | undefined;
    for (;;) {
      while (inFlight.size < threads * 2 && !stopping()) {
        let range = redo.shift();
        if (!range && next < to && more(next)) {
          range = [next, Math.min(batch, to - next)];
          next += range[1];
        }
        if (!range) break;
        const [start, count] = range;
        const task: BatchTask = { target: ref, cfg, start, count };
        if (queue.length > 0) task.queue = queue as QueueEntry[];
        const p: Promise<void> = pool.run(task).then(async (o) => {
          if (o.kind === 'done') take(o.result);
          else if (o.kind === 'lost') take({ start, count: 0, steps: 0, findings: [o.finding] });
          else if (o.kind === 'killed') {
            if (o.index > start) redo.push([start, o.index - start]);
            if (o.index + 1 < start + count) redo.push([o.index + 1, start + count - o.index - 1]);
            take(await killedOf(o, task));
          }
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (inFlight.size === 0) break;
      // Wake at least every 100 ms: a stop (signal, deadline) gives the batches in flight a grace
      // to come back (redo.ts), then aborts them, whatever the target does.
      let tick: NodeJS.Timeout | undefined;
      await Promise.race([...inFlight, new Promise<void>((resolve) => (tick = setTimeout(resolve, 100)))]);
      clearTimeout(tick);
      if (stopping()) {
        if (stopSince === undefined) pool.requestStop?.();
        stopSince ??= performance.now();
        const waited = performance.now() - stopSince;
        const signalled = opts.shouldStop?.() ?? false;
        if (waited > (signalled ? STOP_GRACE_MS : DEADLINE_GRACE_MS)) {
          pool.stopAll();
          confirmer.stopAll();
        } else if (waited > STOP_GRACE_MS) pool.stopStuck(STOP_GRACE_MS);
      }
    }
    return { next, results };
  };

  try {
    let next = first;
    while (more(next)) {
      // Unguided and untracked, one range; otherwise epoch by epoch, the queue updated in between.
      const end = guide ? Math.min(limit, next + EPOCH) : limit;
      const r = await runRange(next, end, guided ? guide!.queue : [], guide !== undefined);
      next = r.next;
      if (!guide) continue;
      guide.absorb(r.results.flatMap((b) => b.novel ?? []));
      stats.epochs++;
      stats.mutated += r.results.reduce((n, b) => n + (b.mutated ?? 0), 0);
    }
  } finally {
    if (!opts.executor) await pool?.close();
  }
  const result = merger.result();
  if (guide) result.keys = [...guide.firstIndex].map(([key, index]) => ({ key, index }));
  if (guided) result.guide = { ...stats, queue: guide!.queue.length, added: guide!.added };
  return result;
}
