// The Piscina task of time-to-bug: one (seed, strategy) campaign on a target, index by index from 0,
// until every wanted title has appeared or the budget is spent. Each index is timed, so the first
// find of a title is exact in executions and in milliseconds.

import { runIndex, type CampaignConfig } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';
import { SCTBENCH } from './sctbench/index.js';

export interface HuntTask {
  target: string;
  cfg: CampaignConfig;
  titles: string[];
  budget: number;
}

export interface FirstFind {
  /** Executions up to and including the first that found the title. */
  execs: number;
  ms: number;
}

export interface HuntResult {
  /** Per wanted title, in order; null: not found within the budget. */
  found: (FirstFind | null)[];
  execs: number;
  ms: number;
}

export function hunt(task: HuntTask): HuntResult {
  const target = findTarget(task.target) ?? SCTBENCH.find((p) => p.target.name === task.target)?.target;
  if (!target) throw new Error(`unknown target ${task.target}`);
  const found: (FirstFind | null)[] = task.titles.map(() => null);
  let missing = task.titles.length;
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  const t0 = performance.now();
  let i = 0;
  for (; i < task.budget && missing > 0; i++) {
    const { result } = runIndex(target, task.cfg, i, { buffer });
    for (const f of result.findings) {
      const w = task.titles.indexOf(f.title);
      if (w >= 0 && found[w] === null) {
        found[w] = { execs: i + 1, ms: performance.now() - t0 };
        missing--;
      }
    }
  }
  return { found, execs: i, ms: performance.now() - t0 };
}

// Warm the JIT once per worker thread, so that the first task is not timed cold.
for (const strategy of ['pct', 'random'] as const) {
  const target = findTarget('mdev-v5.0')!;
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  for (let i = 0; i < 300; i++) runIndex(target, { seed: 'warm-up', strategy, depth: 2 }, i, { buffer });
}

export default function run(task: HuntTask): HuntResult {
  return hunt(task);
}
