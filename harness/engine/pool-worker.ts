// The Piscina task: load the target (once per worker) and run one batch of indices inline.

import type { CampaignConfig } from './runner.js';
import { runBatch, type BatchResult } from './batch.js';
import { loadTarget, type TargetRef } from './load.js';

export interface BatchTask {
  target: TargetRef;
  cfg: CampaignConfig;
  start: number;
  count: number;
}

export default async function run(task: BatchTask): Promise<BatchResult> {
  const target = await loadTarget(task.target);
  return runBatch(target, task.cfg, task.start, task.count);
}
