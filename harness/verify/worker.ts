// The worker thread `mdevfuzz verify` runs its search on, under the watchdog of the main thread
// (harness/cli/verify.ts): every step goes to the heartbeat, so a target that never reaches its next
// preemption point is a stall there, and the state (saved every 2 s, as inline) is what a rerun
// resumes from. Progress goes back after each program; a stop request ends the search after the
// program in hand.

import { parentPort, workerData } from 'node:worker_threads';
import { Heartbeat } from '../engine/heartbeat.js';
import { loadTarget, type TargetRef } from '../engine/load.js';
import { restrictTarget } from './restrict.js';
import { loadState, saveState } from './state.js';
import { enumerationFor, runVerify, type VerifyConfig, type VerifyState } from './verify.js';

export interface VerifyWorkerData {
  ref: TargetRef;
  ops?: string;
  domain?: string;
  cfg: VerifyConfig;
  key: string;
  file: string;
  deadline?: number;
  heartbeat: SharedArrayBuffer;
}

export type VerifyWorkerMessage = { kind: 'progress'; state: VerifyState } | { kind: 'done'; state: VerifyState };

const d = workerData as VerifyWorkerData;
const target = restrictTarget(await loadTarget(d.ref), d.ops, d.domain);
const beat = new Heartbeat(d.heartbeat);
const post = (m: VerifyWorkerMessage): void => parentPort!.postMessage(m);
let lastPost = 0;
const final = runVerify(target, d.cfg, enumerationFor(target, d.cfg), loadState(d.file, d.key).state, {
  deadline: d.deadline,
  save: (s) => saveState(d.file, s),
  progress: (s) => {
    if (Date.now() - lastPost > 1000) {
      lastPost = Date.now();
      post({ kind: 'progress', state: s });
    }
    return beat.stopRequested();
  },
  heartbeat: beat,
});
post({ kind: 'done', state: final });
