// The Piscina task: load the target (once per worker) and run one batch of indices inline
// (guided: over the queue it was sent).

import type { QueueEntry } from '../guided/entry.js';
import { runBatch, type BatchConfig, type BatchResult } from './batch.js';
import { loadTarget, type TargetRef } from './load.js';

export interface BatchTask {
  target: TargetRef;
  cfg: BatchConfig;
  start: number;
  count: number;
  /** Guided: the queue as it stood at the start of the batch's epoch. */
  queue?: QueueEntry[];
}

export default async function run(task: BatchTask): Promise<BatchResult> {
  const target = await loadTarget(task.target);
  return runBatch(target, task.cfg, task.start, task.count, task.queue);
}
