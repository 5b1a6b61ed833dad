// A bare worker thread for the scaling baseline of bench/throughput.ts: it warms up on a batch of
// its own, says so, then on 'go' runs its range of executions with runBatch (what a pool worker
// runs, with nothing around it: no Piscina, no watchdog, no merging) and answers with the time.

import { parentPort, workerData } from 'node:worker_threads';
import { runBatch } from '../harness/engine/batch.js';
import type { BatchConfig } from '../harness/engine/batch.js';
import { findTarget } from '../targets/index.js';

export interface ScalingData {
  target: string;
  cfg: BatchConfig;
  start: number;
  count: number;
  batch: number;
  warm: number;
}

if (parentPort && workerData && (workerData as { scaling?: ScalingData }).scaling) {
  const port = parentPort;
  const d = (workerData as { scaling: ScalingData }).scaling;
  const target = findTarget(d.target)!;
  runBatch(target, d.cfg, 1_000_000_000, d.warm); // indices no measurement runs
  port.postMessage('ready');
  port.once('message', () => {
    const t0 = performance.now();
    let steps = 0;
    for (let i = d.start; i < d.start + d.count; i += d.batch) steps += runBatch(target, d.cfg, i, Math.min(d.batch, d.start + d.count - i)).steps;
    port.postMessage({ ms: performance.now() - t0, steps });
  });
}
