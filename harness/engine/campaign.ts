// A campaign: execution indices [0, N) (or until a time budget runs out) in batches, inline in
// this thread or fanned out to a Piscina pool, merged in index order: whatever the number of
// workers, the same indices give the same findings, with the same first index and hit counts.

import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { CoverageCounter, type Coverage } from '../coverage/coverage.js';
import type { FindingKind } from '../types.js';
import { runBatch, type BatchConfig, type BatchResult } from './batch.js';
import { loadTarget, type TargetRef } from './load.js';
import type { BatchTask } from './pool-worker.js';
import type { CampaignConfig } from './runner.js';

export interface CampaignOptions extends CampaignConfig {
  target: TargetRef;
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
  /** Called after every merged batch. */
  onProgress?(p: CampaignProgress): void;
  /** Stops dispatching new batches when it returns true (e.g. after SIGINT). */
  shouldStop?(): boolean;
}

export interface CampaignFinding {
  title: string;
  kind: FindingKind;
  index: number;
  detail: string[];
  hits: number;
  /** Milliseconds from the start of the campaign to the batch that first found it. */
  timeToFindMs: number;
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
}

export const DEFAULT_BATCH = 200;

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
  ) {}

  add(b: BatchResult): void {
    this.executions += b.count;
    if (b.coverage) this.coverage?.add(b.coverage);
    this.steps += b.steps;
    const now = performance.now() - this.t0;
    for (const f of b.findings) {
      const seen = this.byTitle.get(f.title);
      if (!seen) {
        this.byTitle.set(f.title, { ...f, timeToFindMs: Math.round(now) });
        continue;
      }
      seen.hits += f.hits;
      if (f.index < seen.index) {
        seen.index = f.index;
        seen.detail = f.detail;
        seen.timeToFindMs = Math.min(seen.timeToFindMs, Math.round(now));
      }
    }
  }

  result(): CampaignResult {
    const findings = [...this.byTitle.values()].sort((a, b) => a.index - b.index || a.title.localeCompare(b.title));
    const r: CampaignResult = { executions: this.executions, steps: this.steps, elapsedMs: Math.round(performance.now() - this.t0), findings };
    if (this.coverage) r.coverage = this.coverage.toJSON();
    return r;
  }
}

export async function runCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  if (opts.execs === undefined && opts.timeMs === undefined) throw new Error('a campaign needs --execs or --time');
  const target = await loadTarget(opts.target);
  const cfg: BatchConfig = { seed: opts.seed, strategy: opts.strategy, depth: opts.depth, maxSteps: opts.maxSteps, faults: opts.faults };
  if (opts.coverage) cfg.coverage = true;
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  const first = opts.startIndex ?? 0;
  const limit = opts.execs === undefined ? Number.MAX_SAFE_INTEGER : first + opts.execs;
  const t0 = performance.now();
  const deadline = opts.timeMs === undefined ? Infinity : t0 + opts.timeMs;
  const merger = new Merger(t0, opts.coverage ? new CoverageCounter() : undefined);
  const progress = (): void =>
    opts.onProgress?.({ executions: merger.executions, steps: merger.steps, elapsedMs: performance.now() - t0, findings: merger.byTitle.size });
  const more = (next: number): boolean => next < limit && performance.now() < deadline && !(opts.shouldStop?.() ?? false);

  let next = first;
  if (opts.workers <= 0) {
    while (more(next)) {
      const count = Math.min(batch, limit - next);
      merger.add(runBatch(target, cfg, next, count));
      next += count;
      progress();
      await new Promise<void>((resolve) => setImmediate(resolve)); // lets signal handlers run between batches
    }
    return merger.result();
  }

  const pool = new Piscina({
    filename: fileURLToPath(new URL('./pool-worker.js', import.meta.url)),
    minThreads: opts.workers,
    maxThreads: opts.workers,
  });
  try {
    const inFlight = new Set<Promise<void>>();
    while (more(next) || inFlight.size > 0) {
      while (inFlight.size < opts.workers * 2 && more(next)) {
        const count = Math.min(batch, limit - next);
        const task: BatchTask = { target: opts.target, cfg, start: next, count };
        next += count;
        const p: Promise<void> = (pool.run(task) as Promise<BatchResult>).then((b) => {
          merger.add(b);
          progress();
          inFlight.delete(p);
        });
        inFlight.add(p);
      }
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
  } finally {
    await pool.destroy();
  }
  return merger.result();
}
