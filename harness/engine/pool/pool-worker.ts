// The Piscina task: load the target (once per worker) and run one batch of indices inline
// (guided: over the queue it was sent), one exact replay, or the minimization of a corpus entry.
// With a heartbeat, every execution (every replay of a minimization) publishes its progress there
// for the watchdog of the guarded pool.

import type { CorpusEntry } from '../../corpus/entry.js';
import { minimizeEntry, type MinimizedEntry } from '../../corpus/minimize-entry.js';
import type { QueueEntry } from '../../guided/entry.js';
import { watchedExecutor } from '../../minimize/executor.js';
import { replayExecution } from '../runner.js';
import type { ExecResult, Fault, Program, Schedule } from '../../types.js';
import { runBatch, type BatchConfig, type BatchResult } from '../batch.js';
import { Heartbeat } from '../heartbeat.js';
import { bootImage, type ExecOptions } from '../inline/inline.js';
import { loadTarget, type TargetRef } from '../load.js';

export interface BatchTask {
  target: TargetRef;
  cfg: BatchConfig;
  start: number;
  count: number;
  /** Guided: the queue as it stood at the start of the batch's epoch. */
  queue?: QueueEntry[];
  /** Where the watchdog reads the progress of the batch. */
  heartbeat?: SharedArrayBuffer;
}

/** One exact replay of a saved repro (`mdevfuzz replay` under the watchdog). */
export interface ReplayTask {
  target: TargetRef;
  replay: { program: Program; faults: Fault[]; schedule: Schedule; maxSteps?: number };
  opts: Pick<ExecOptions, 'events' | 'trace' | 'accesses' | 'accessText'>;
  heartbeat?: SharedArrayBuffer;
}

/**
 * The minimization of an entry's original repro. `stalled` lists the candidates (by candidateId)
 * not to run again; `slot` (two Int32) holds the id of the candidate being replayed.
 */
export interface MinimizeTask {
  target: TargetRef;
  minimize: { entry: CorpusEntry; timeMs: number; maxReplays?: number; stalled: string[]; slot: SharedArrayBuffer };
  heartbeat?: SharedArrayBuffer;
}

export type PoolTask = BatchTask | ReplayTask | MinimizeTask;

export default async function run(task: PoolTask): Promise<BatchResult | ExecResult | MinimizedEntry> {
  const target = await loadTarget(task.target);
  bootImage(target); // the target's setup, before the heartbeat says an execution runs
  const hb = task.heartbeat ? new Heartbeat(task.heartbeat) : undefined;
  if ('minimize' in task) {
    const { entry, timeMs, maxReplays, stalled, slot } = task.minimize;
    return minimizeEntry(target, entry, { timeMs, maxReplays, executor: watchedExecutor(target, hb, new Int32Array(slot), new Set(stalled)) });
  }
  if ('replay' in task) {
    const { program, faults, schedule, maxSteps } = task.replay;
    hb?.begin(0);
    const { result } = replayExecution(target, program, faults, schedule, { ...task.opts, heartbeat: hb, maxSteps });
    hb?.end();
    return result;
  }
  return runBatch(target, task.cfg, task.start, task.count, task.queue, hb);
}
