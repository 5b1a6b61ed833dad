// A batch of consecutive execution indices, run inline: the unit of work of every engine, and
// the task a pool worker runs. Its result keeps, per title, the first index that found it.

import { CoverageCounter, type Coverage } from '../coverage/coverage.js';
import type { Target } from '../target.js';
import type { FindingKind } from '../types.js';
import { runIndex, type CampaignConfig } from './runner.js';

export interface BatchFinding {
  title: string;
  kind: FindingKind;
  /** The first execution index in the batch that found it. */
  index: number;
  detail: string[];
  /** How many executions of the batch found it. */
  hits: number;
}

export interface BatchResult {
  start: number;
  count: number;
  steps: number;
  findings: BatchFinding[];
  /** Labels and concurrent pairs reached, when the config asks for coverage. */
  coverage?: Coverage;
}

/** A campaign's config as a batch sees it: plain data, passed to pool workers as is. */
export interface BatchConfig extends CampaignConfig {
  coverage?: boolean;
}

export function runBatch(target: Target, cfg: BatchConfig, start: number, count: number): BatchResult {
  const byTitle = new Map<string, BatchFinding>();
  let steps = 0;
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  const cov = cfg.coverage ? new CoverageCounter() : undefined;
  const opts = cov ? { buffer, labels: true, pairs: true, transitions: true } : { buffer };
  for (let i = start; i < start + count; i++) {
    const { result, execution } = runIndex(target, cfg, i, opts);
    steps += result.steps;
    cov?.addExecution(result.labels ?? [], execution.pairs, execution.transitions, i);
    for (const f of result.findings) {
      const seen = byTitle.get(f.title);
      if (seen) seen.hits++;
      else byTitle.set(f.title, { title: f.title, kind: f.kind, index: i, detail: f.detail, hits: 1 });
    }
  }
  const out: BatchResult = { start, count, steps, findings: [...byTitle.values()] };
  if (cov) out.coverage = cov.toJSON();
  return out;
}
