// The Piscina task of the guided benchmark: one campaign of a seed, guided or not, inline from
// index 0 for the whole budget, with the first index of every title and of every coverage key.

import { runCampaign } from '../harness/engine/campaign.js';
import type { GuideMode } from '../harness/engine/runner.js';

export interface GuidedTask {
  target: string;
  seed: string;
  guide: GuideMode;
  budget: number;
  batchSize: number;
}

export interface GuidedResult {
  /** By title: 1-based executions to its first find, and ms from the start to the batch that found it. */
  found: Record<string, { execs: number; ms: number }>;
  /** Every coverage key reached, with the 0-based index that first reached it. */
  keys: { key: string; index: number }[];
  executions: number;
  ms: number;
  mutated: number;
}

export default async function run(task: GuidedTask): Promise<GuidedResult> {
  const t0 = performance.now();
  const r = await runCampaign({
    target: { name: task.target }, seed: task.seed, strategy: 'pct', depth: 3, guide: task.guide,
    execs: task.budget, workers: 0, batchSize: task.batchSize, trackKeys: true,
  });
  const found: GuidedResult['found'] = {};
  for (const f of r.findings) found[f.title] = { execs: f.index + 1, ms: f.timeToFindMs };
  return { found, keys: r.keys ?? [], executions: r.executions, ms: performance.now() - t0, mutated: r.guide?.mutated ?? 0 };
}

// Warm the JIT once per worker thread, so that the first task is not timed cold.
await runCampaign({ target: { name: 'mdev-v5.0' }, seed: 'warm-up', strategy: 'pct', depth: 3, guide: 'coverage', execs: 1500, workers: 0, trackKeys: true });
