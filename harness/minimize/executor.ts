// What the minimizer runs candidates on: an exact replay behind a one-method interface, so that
// tests can put a fake in its place.

import type { Heartbeat } from '../engine/heartbeat.js';
import { hashLabel } from '../kernel/kernel.js';
import { countOps } from '../engine/program.js';
import { replayExecution } from '../engine/runner.js';
import type { Target } from '../target.js';
import type { ExecResult, Fault, Program, Schedule } from '../types.js';

/** Everything an execution depends on besides the target. */
export interface Repro {
  program: Program;
  faults: Fault[];
  schedule: Schedule;
}

export interface RunOptions {
  /** Record trace events (the minimizer reads where each operation began). */
  events?: boolean;
}

export interface ReproExecutor {
  run(repro: Repro, opts?: RunOptions): ExecResult;
}

export function replayExecutor(target: Target, opts: { maxSteps?: number } = {}): ReproExecutor {
  return {
    run: (r, o = {}) => replayExecution(target, r.program, r.faults, r.schedule, { maxSteps: opts.maxSteps, events: o.events }).result,
  };
}

/** What names a candidate across attempts of one minimization: its FNV-1a hash and length. */
export function candidateId(r: Repro): string {
  const key = JSON.stringify([r.program, r.faults, r.schedule]);
  return `${hashLabel(key)}:${key.length}`;
}

/**
 * The executor of a minimization on a guarded worker. Before each replay it writes the candidate's
 * id to `slot` (hash, length), so that a watchdog which kills the worker knows which candidate never
 * reached its next preemption point (or passed the heap cap). The candidates in `skip`, those that
 * did so in an earlier attempt, are not run again: they show nothing, so the minimizer does not keep
 * them, and every other candidate is the same as in that attempt.
 */
export function watchedExecutor(target: Target, hb: Heartbeat | undefined, slot: Int32Array | undefined, skip: ReadonlySet<string>, opts: { maxSteps?: number } = {}): ReproExecutor {
  let replays = 0;
  return {
    run: (r, o = {}) => {
      const id = candidateId(r);
      if (skip.has(id)) return { findings: [], steps: 0, schedule: r.schedule };
      if (slot) {
        const [hash, length] = id.split(':').map(Number);
        Atomics.store(slot, 0, hash!);
        Atomics.store(slot, 1, length!);
      }
      hb?.begin(replays++);
      try {
        return replayExecution(target, r.program, r.faults, r.schedule, { maxSteps: opts.maxSteps, events: o.events, heartbeat: hb }).result;
      } finally {
        hb?.end();
      }
    },
  };
}

/** The id `watchedExecutor` wrote last to `slot`. */
export const slotCandidate = (slot: Int32Array): string => `${Atomics.load(slot, 0)}:${Atomics.load(slot, 1)}`;

export function hasSignature(result: ExecResult, signature: string): boolean {
  return result.findings.some((f) => f.title === signature);
}

export interface ReproSize {
  cpus: number;
  ops: number;
  preemptions: number;
  faults: number;
  /** Steps of its replay. */
  steps: number;
}

export function reproSize(r: Repro, steps: number): ReproSize {
  return { cpus: r.program.cpus.length, ops: countOps(r.program), preemptions: r.schedule.length, faults: r.faults.length, steps };
}

/**
 * Where each CPU's operations began, from a replay with events: `start[cpu][j]` is the number of
 * steps `cpu` had run when operation j began (Infinity if it never did), `total[cpu]` its steps.
 */
export interface OpSpans {
  start: number[][];
  total: number[];
}

export function opSpans(result: ExecResult, program: Program): OpSpans | undefined {
  if (!result.events) return undefined;
  const total = program.cpus.map(() => 0);
  const start = program.cpus.map((ops) => ops.map(() => Infinity));
  const began = program.cpus.map(() => 0);
  for (const ev of result.events) {
    if (ev.cpu >= total.length) continue; // teardown
    if (ev.e === 'step') total[ev.cpu]!++;
    else if (ev.e === 'op') start[ev.cpu]![began[ev.cpu]!++] = total[ev.cpu]!;
  }
  return { start, total };
}
