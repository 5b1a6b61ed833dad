// `mdevfuzz verify`'s search on a worker thread (harness/verify/worker.ts) under a watchdog, so that
// target code never runs on the main thread: a program whose CPU does not reach its next preemption
// point within the stall budget (or passes the heap cap) ends the search as that finding, and the
// first SIGINT or SIGTERM ends it after the program in hand (or, past a grace period, at once; the
// state file was saved at most 2 s before), for a rerun to resume. A second signal exits at once.

import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { heartbeatBuffer, readBeat, requestStop, type Beat } from '../engine/heartbeat.js';
import { isOutOfMemory, resourceLimitsOf, type ExecutionLimits } from '../engine/pool/guarded-pool.js';
import { oomTitle, stallTitle } from '../engine/watched-kernel.js';
import type { VerifyState } from '../verify/verify.js';
import type { VerifyWorkerData, VerifyWorkerMessage } from '../verify/worker.js';
import { Interrupt } from './interrupt.js';

/** After a stop request, how long the program in hand may take before the worker is terminated. */
const GRACE_MS = 1_500;

export type VerifyOutcome =
  | { kind: 'done'; state: VerifyState }
  | { kind: 'stopped'; signal: NodeJS.Signals; state: VerifyState }
  /** A stall or an oom in program `beat.index`; `state` is the last progress the worker sent. */
  | { kind: 'killed'; finding: 'stall' | 'oom'; beat: Beat; title: string; state: VerifyState };

export function verifyOnWorker(data: Omit<VerifyWorkerData, 'heartbeat'>, initial: VerifyState, limits: ExecutionLimits, onProgress: (s: VerifyState) => void): Promise<VerifyOutcome> {
  const heartbeat = heartbeatBuffer();
  const worker = new Worker(fileURLToPath(new URL('../verify/worker.js', import.meta.url)), {
    workerData: { ...data, heartbeat } satisfies VerifyWorkerData,
    resourceLimits: resourceLimitsOf(limits.memoryMb),
  });
  let state = initial;
  let stall: Beat | undefined;
  let signal: NodeJS.Signals | undefined;
  return new Promise<VerifyOutcome>((resolve, reject) => {
    let seq = -1;
    let since = performance.now();
    const watchdog = setInterval(() => {
      const beat = readBeat(heartbeat);
      if (beat.seq !== seq) {
        seq = beat.seq;
        since = performance.now();
      } else if (beat.running && performance.now() - since > limits.stallMs && !stall) {
        stall = beat;
        void worker.terminate();
      }
    }, Math.max(20, Math.min(250, limits.stallMs / 4)));
    const interrupt = new Interrupt((s) => {
      signal = s;
      requestStop(heartbeat);
      setTimeout(() => void worker.terminate(), GRACE_MS).unref();
    });
    let settled = false;
    const finish = (o: VerifyOutcome | Error): void => {
      if (settled) return;
      settled = true;
      clearInterval(watchdog);
      interrupt.dispose();
      if (o instanceof Error) reject(o);
      else resolve(o);
    };
    worker.on('message', (m: VerifyWorkerMessage) => {
      state = m.state;
      if (m.kind === 'progress') onProgress(m.state);
      else finish(signal ? { kind: 'stopped', signal, state } : { kind: 'done', state });
    });
    worker.on('error', (e) => {
      if (isOutOfMemory(e)) {
        const beat = readBeat(heartbeat);
        finish({ kind: 'killed', finding: 'oom', beat, title: oomTitle(beat.fn), state });
      } else finish(e);
    });
    worker.on('exit', () => {
      if (stall) finish({ kind: 'killed', finding: 'stall', beat: stall, title: stallTitle(stall.fn), state });
      else if (signal) finish({ kind: 'stopped', signal, state });
      else finish(new Error('the verify worker exited without a verdict'));
    });
  });
}
