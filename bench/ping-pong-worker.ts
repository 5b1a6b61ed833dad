// The other thread of the bare ping-pong in bench/threads.ts: waits for the ping word with the
// threads engine's own waitChange (spinning as the engine's policy allows), clears it and answers
// on the pong word, as a CPU's worker clears its grant and answers on the reply word, with no step
// in between. A ping of STOP ends it.

import { parentPort, workerData } from 'node:worker_threads';
import { signal, TIMED_OUT, waitChange } from '../harness/engine/threads/threads-kernel.js';

export const PING = 0;
export const PONG = 1;
export const HOT = 2;
export const WORDS = 4;
export const GO = 1;
export const STOP = 2;

export interface PingPongData {
  sab: SharedArrayBuffer;
  spin: boolean;
  cores: number;
}

if (parentPort && workerData && (workerData as { pingPong?: PingPongData }).pingPong) {
  const { sab, spin, cores } = (workerData as { pingPong: PingPongData }).pingPong;
  const mem = new Int32Array(sab);
  const policy = { spin, cores, hot: HOT };
  parentPort.postMessage('ready');
  for (;;) {
    const v = waitChange(mem, PING, 0, 10_000, policy);
    if (v === TIMED_OUT || v === STOP) break;
    Atomics.store(mem, PING, 0);
    signal(mem, PONG, 1);
  }
}
