// The engines on real threads against inline, on the same executions in the same run: handoffs/s of
// the threads engine (a grant and a reply per step) without and with spinning, and preemption
// points/s of free-running stress. Each is given with inline's steps/s on those very executions.

import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { formatTable } from '../harness/cli/format.js';
import { signal, TIMED_OUT, waitChange } from '../harness/engine/threads/threads-kernel.js';
import { runIndex, type CampaignConfig } from '../harness/engine/runner.js';
import { runStress } from '../harness/engine/stress/stress.js';
import { runIndexThreads } from '../harness/engine/threads/threads-run.js';
import { ThreadsEngine, type SpinMode } from '../harness/engine/threads/threads.js';
import { findTarget } from '../targets/index.js';
import { num, paragraph, writeResult, type Benchmark, type BenchOptions } from './common.js';
import { GO, HOT, PING, PONG, STOP, WORDS, type PingPongData } from './ping-pong-worker.js';

const TARGET = 'mdev-v5.0';
const THREADS_EXECS = 300;
const STRESS_EXECS = 3_000;
const ROUNDS = 2;
const cfg: CampaignConfig = { seed: 'bench', strategy: 'pct', depth: 3 };

const rate = (n: number, ms: number): number => (n / ms) * 1000;

/** Inline over indices [0, n): steps and milliseconds. */
function inline(n: number): { steps: number; ms: number } {
  const target = findTarget(TARGET)!;
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  const t0 = performance.now();
  let steps = 0;
  for (let i = 0; i < n; i++) steps += runIndex(target, cfg, i, { buffer }).result.steps;
  return { steps, ms: performance.now() - t0 };
}

async function threads(n: number, spin: SpinMode): Promise<{ steps: number; handoffs: number; ms: number }> {
  const target = findTarget(TARGET)!;
  const engine = new ThreadsEngine({ spin });
  try {
    await runIndexThreads(engine, { name: TARGET }, target, cfg, 0); // workers started and warm
    const h0 = engine.handoffs;
    const t0 = performance.now();
    let steps = 0;
    for (let i = 0; i < n; i++) steps += (await runIndexThreads(engine, { name: TARGET }, target, cfg, i)).result.steps;
    return { steps, handoffs: engine.handoffs - h0, ms: performance.now() - t0 };
  } finally {
    await engine.close();
  }
}

/**
 * The bare handoff between two threads (the baseline of the threads engine): this thread pings a
 * worker thread through a word of a SharedArrayBuffer and waits for its pong, both with the
 * engine's own waitChange and signal, under the same spinning policy, and nothing else: no
 * Piscina, no step, no scheduling. Two handoffs per round trip, as the engine counts a grant and
 * a reply.
 */
async function pingPong(handoffs: number, spin: boolean): Promise<{ handoffs: number; ms: number }> {
  const sab = new SharedArrayBuffer(WORDS * 4);
  const mem = new Int32Array(sab);
  const cores = os.availableParallelism();
  const data: PingPongData = { sab, spin, cores };
  const worker = new Worker(new URL('./ping-pong-worker.js', import.meta.url), { workerData: { pingPong: data } });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    const policy = { spin, cores, hot: HOT };
    const trips = Math.max(1, Math.round(handoffs / 2));
    const t0 = performance.now();
    for (let i = 0; i < trips; i++) {
      Atomics.store(mem, PONG, 0);
      signal(mem, PING, GO);
      if (waitChange(mem, PONG, 0, 10_000, policy) === TIMED_OUT) throw new Error('ping-pong: the other thread did not answer');
    }
    const ms = performance.now() - t0;
    signal(mem, PING, STOP);
    return { handoffs: 2 * trips, ms };
  } finally {
    await worker.terminate();
  }
}

async function stress(n: number): Promise<{ steps: number; ms: number }> {
  const totals = await runStress({ target: { name: TARGET }, seed: cfg.seed, execs: n }, () => {});
  return { steps: totals.steps, ms: totals.elapsedMs };
}

async function run(opts: BenchOptions): Promise<void> {
  const nThreads = opts.execs ?? THREADS_EXECS;
  const nStress = opts.execs ? opts.execs * 10 : STRESS_EXECS;
  const best = { inlineT: Infinity, inlineS: Infinity, never: { handoffsPerS: 0, stepsPerS: 0 }, always: { handoffsPerS: 0, stepsPerS: 0 }, stress: 0 };
  const bare = { never: 0, always: 0 };
  let inlineSteps = { threads: 0, stress: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const a = inline(nThreads);
    best.inlineT = Math.min(best.inlineT, a.ms);
    inlineSteps.threads = a.steps;
    for (const spin of ['never', 'always'] as const) {
      const t = await threads(nThreads, spin);
      if (rate(t.handoffs, t.ms) > best[spin].handoffsPerS) best[spin] = { handoffsPerS: rate(t.handoffs, t.ms), stepsPerS: rate(t.steps, t.ms) };
      const p = await pingPong(t.handoffs, spin === 'always');
      bare[spin] = Math.max(bare[spin], rate(p.handoffs, p.ms));
    }
    const b = inline(nStress);
    best.inlineS = Math.min(best.inlineS, b.ms);
    inlineSteps = { ...inlineSteps, stress: b.steps };
    const s = await stress(nStress);
    best.stress = Math.max(best.stress, rate(s.steps, s.ms));
  }
  const inlineRateT = rate(inlineSteps.threads, best.inlineT);
  const inlineRateS = rate(inlineSteps.stress, best.inlineS);
  const ofBare = (spin: 'never' | 'always'): string => `${((100 * best[spin].handoffsPerS) / bare[spin]).toFixed(1)}%`;
  const rows = [
    ['threads, no spinning', `${num(nThreads)} execs`, num(best.never.handoffsPerS), ofBare('never'), num(best.never.stepsPerS), num(inlineRateT), `${num(inlineRateT / best.never.stepsPerS, 1)}x`],
    ['threads, spinning', `${num(nThreads)} execs`, num(best.always.handoffsPerS), ofBare('always'), num(best.always.stepsPerS), num(inlineRateT), `${num(inlineRateT / best.always.stepsPerS, 1)}x`],
    ['ping-pong, no spinning', 'as many handoffs', num(bare.never), '100%', '', '', ''],
    ['ping-pong, spinning', 'as many handoffs', num(bare.always), '100%', '', '', ''],
    ['stress (free-running)', `${num(nStress)} execs`, '', '', num(best.stress), num(inlineRateS), `${num(inlineRateS / best.stress, 1)}x`],
  ];
  console.log(`threads: ${TARGET}, seed '${cfg.seed}', best of ${ROUNDS} rounds\n`);
  console.log(
    formatTable(
      [{ header: 'engine' }, { header: 'on', right: true }, { header: 'handoffs/s', right: true }, { header: 'of ping-pong', right: true }, { header: 'steps/s', right: true }, { header: 'inline steps/s', right: true }, { header: 'inline is', right: true }],
      rows,
    ),
  );
  console.log(
    `\n${paragraph(
      'A handoff is one grant or one reply through the buffer: the threads engine makes two per step, so its steps/s is half its handoffs/s. ' +
        'Spinning polls the word for up to a few hundred microseconds before sleeping; it pays only while the engine\'s threads have ' +
        'the cores to themselves with one to spare for a CPU being woken (the default mode, auto, checks /proc/loadavg for that, and ' +
        'so never spins on 2 cores; the spinning row spins regardless). Stress steps are preemption points taken ' +
        'free-running by all CPUs at once, perturbations included. The inline column is inline on the same indices, in this run. ' +
        'The ping-pong rows are the baseline of the threads engine, measured in the same rounds: this thread and one worker thread ' +
        'hand a word back and forth as many times as the engine did, with its own wait and wake (and spinning policy) and nothing ' +
        'else; "of ping-pong" is the engine\'s handoffs/s over it.',
    )}`,
  );
  console.log(`\nwritten: ${writeResult('threads', { target: TARGET, threadsExecs: nThreads, stressExecs: nStress, inlineStepsPerS: { threads: inlineRateT, stress: inlineRateS }, threadsNoSpin: best.never, threadsSpin: best.always, pingPongHandoffsPerS: bare, stressStepsPerS: best.stress })}`);
}

export const threadsBench: Benchmark = {
  name: 'threads',
  description: 'handoffs/s of the threads engine (with and without spinning), steps/s of stress, each against inline',
  run,
};
