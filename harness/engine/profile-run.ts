// The profiling runs of a program (harness/sched/profile.ts): the program alone, with the access
// record on and neither invariants nor teardown, which the strategies do not need, under two
// serial schedules: CPUs in order, then in reverse order. One serial order hides what a CPU does
// once the others have run (a remove of a device that a later CPU creates fails at once in
// order, and frees the device in reverse), so each CPU is profiled by the run in which it went
// further. Findings of the profiling runs are dropped: a profile is a map, not a result.

import type { Access } from '../kernel/access.js';
import { indexedProfile, indexRecord, stepCount, type Profile } from '../sched/profile.js';
import type { Strategy } from '../sched/strategy.js';
import type { Rng } from '../rng.js';
import type { Target } from '../target.js';
import type { ExecResult, Fault, Program } from '../types.js';
import type { Heartbeat } from './heartbeat.js';
import { execute } from './inline/inline.js';

export function profileProgram(target: Target, program: Program, faults: readonly Fault[] = [], maxSteps?: number, heartbeat?: Heartbeat): Profile {
  const forward = serialRun(target, program, FORWARD, faults, maxSteps, true, heartbeat);
  if (!reversed(program)) return forward;
  const backward = serialRun(target, program, BACKWARD, faults, maxSteps, true, heartbeat);
  const [f, b] = [forward.indexed!, backward.indexed!];
  const longer = f.map((cpu, c) => (stepCount(b[c]!) > stepCount(cpu) ? backward : forward));
  return indexedProfile(
    Math.max(forward.length, backward.length),
    longer.map((run, c) => run.indexed![c]!),
    { ops: longer.map((run, c) => run.ops![c]!), orders: longer.map((run) => run.orders![0]!), runs: [forward, backward] },
  );
}

/**
 * The profile a strategy asks for, if it asks: for the length alone, one serial run without the
 * access record. With a heartbeat, the steps of the profiling runs are published too (with their
 * phase), so that a watchdog stops a program that never yields in them as in the execution itself.
 */
export function profileFor(strategy: Strategy, target: Target, program: Program, faults: readonly Fault[] = [], maxSteps?: number, heartbeat?: Heartbeat): Profile | undefined {
  if (strategy.needsProfile === undefined) return undefined;
  const profile =
    strategy.needsProfile === 'accesses' ? profileProgram(target, program, faults, maxSteps, heartbeat) : serialRun(target, program, FORWARD, faults, maxSteps, false, heartbeat);
  heartbeat?.phase(0);
  return profile;
}

/**
 * The random numbers of a profiling run: none, as its serial schedule draws none; were one drawn,
 * this says so instead of making a stream (seeding one costs more than a short step).
 */
export const SERIAL_RNG: Rng = { next: undrawn, int: undrawn, pick: undrawn };

function undrawn(): never {
  throw new Error('a serial profiling run drew a random number');
}

/** The profiling runs, by their heartbeat phase: CPUs in order, then in reverse order. */
export const FORWARD = 1;
export const BACKWARD = 2;

/** Whether the access profile of a program has a reverse run: with one CPU both orders are one. */
const reversed = (program: Program): boolean => program.cpus.length >= 2;

/** The phases of the profiling runs a strategy has run for a program, in order (none without a profile). */
export function profilePhases(strategy: Strategy, program: Program): number[] {
  if (strategy.needsProfile === undefined) return [];
  return strategy.needsProfile === 'accesses' && reversed(program) ? [FORWARD, BACKWARD] : [FORWARD];
}

/**
 * Profiling run `phase` again, with its events, halted before step `haltAt` if given (the step a
 * watchdog found stalled: its schedule replays the stall exactly, with no profile to run first).
 */
export function replayProfileRun(target: Target, program: Program, faults: readonly Fault[], phase: number, haltAt?: number, maxSteps?: number): ExecResult {
  return execute(target, program, serial(orderOf(program, phase)), SERIAL_RNG, { faults, maxSteps, profiling: true, events: true, haltAt }).result;
}

/** The schedule of profiling run `phase`, as a strategy. */
export const serialStrategy = (program: Program, phase: number): Strategy => serial(orderOf(program, phase));

const orderOf = (program: Program, phase: number): number[] => {
  const n = program.cpus.length;
  return Array.from({ length: n }, (_, c) => (phase === BACKWARD ? n - 1 - c : c));
};

/**
 * The buffer of the profiling runs of each layout: they run to the end before the execution they
 * profile takes its first step, and nothing keeps their kernel, so one buffer serves them all
 * (allocating a SharedArrayBuffer costs more than a short execution).
 */
const buffers = new WeakMap<Target['layout'], SharedArrayBuffer>();

function bufferFor(target: Target): SharedArrayBuffer {
  let sab = buffers.get(target.layout);
  if (!sab) buffers.set(target.layout, (sab = new SharedArrayBuffer(target.layout.words * 4)));
  return sab;
}

/** The accesses of a step of a run without the access record: none. */
const NONE = Object.freeze([]) as unknown as Access[];

/** A serial run; without the access record its steps are counted per CPU but carry no accesses. */
function serialRun(target: Target, program: Program, phase: number, faults: readonly Fault[], maxSteps: number | undefined, accesses: boolean, heartbeat?: Heartbeat): Profile {
  heartbeat?.phase(phase);
  const order = orderOf(program, phase);
  const buffer = bufferFor(target);
  if (!accesses) {
    const { result, cpuSteps } = execute(target, program, serial(order), SERIAL_RNG, { faults, maxSteps, profiling: true, heartbeat, buffer });
    return { length: result.steps, cpus: cpuSteps!.map((n) => new Array<Access[]>(n).fill(NONE)) };
  }
  const { kernel, result } = execute(target, program, serial(order), SERIAL_RNG, { faults, maxSteps, profiling: true, accesses, heartbeat, buffer });
  const stepsOfCpu: number[][] = program.cpus.map(() => []);
  const ops: number[][] = program.cpus.map(() => []);
  const log = kernel.access!;
  // Not a step an oops cut short: it has begun in the record, but it is no step of the execution.
  for (let t = 0; t < result.steps; t++) {
    const cpu = log.cpuOf(t);
    stepsOfCpu[cpu]!.push(t);
    ops[cpu]!.push(log.opOf(t));
  }
  const record = log.flat();
  const indexed = stepsOfCpu.map((steps) => indexRecord(record, steps));
  log.release();
  return indexedProfile(result.steps, indexed, { ops, orders: program.cpus.map(() => order) });
}

/** Each CPU runs until it blocks or ends; then the first runnable one in `order`. */
function serial(order: readonly number[]): Strategy {
  let started = false;
  return {
    name: 'serial',
    start() {
      started = false;
    },
    pick(runnable, current) {
      if (started && runnable.includes(current)) return current;
      started = true;
      for (const c of order) if (runnable.includes(c)) return c;
      return runnable[0]!;
    },
  };
}
