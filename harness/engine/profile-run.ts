// The profiling runs of a program (harness/sched/profile.ts): the program alone, with the access
// record on and neither invariants nor teardown, which the strategies do not need, under two
// serial schedules: CPUs in order, then in reverse order. One serial order hides what a CPU does
// once the others have run (a remove of a device that a later CPU creates fails at once in
// order, and frees the device in reverse), so each CPU is profiled by the run in which it went
// further. Findings of the profiling runs are dropped: a profile is a map, not a result.

import type { Profile } from '../sched/profile.js';
import type { Strategy } from '../sched/strategy.js';
import { execRng } from '../rng.js';
import type { Target } from '../target.js';
import type { Fault, Program } from '../types.js';
import { execute } from './inline.js';

export function profileProgram(target: Target, program: Program, faults: readonly Fault[] = [], maxSteps?: number): Profile {
  const n = program.cpus.length;
  const forward = serialRun(target, program, Array.from({ length: n }, (_, c) => c), faults, maxSteps, true);
  if (n < 2) return forward;
  const backward = serialRun(target, program, Array.from({ length: n }, (_, c) => n - 1 - c), faults, maxSteps, true);
  const cpus = forward.cpus.map((steps, c) => (backward.cpus[c]!.length > steps.length ? backward.cpus[c]! : steps));
  return { length: Math.max(forward.length, backward.length), cpus };
}

/** The profile a strategy asks for, if it asks: for the length alone, one serial run without the access record. */
export function profileFor(strategy: Strategy, target: Target, program: Program, faults: readonly Fault[] = [], maxSteps?: number): Profile | undefined {
  if (strategy.needsProfile === 'accesses') return profileProgram(target, program, faults, maxSteps);
  if (strategy.needsProfile === 'length') return serialRun(target, program, program.cpus.map((_, c) => c), faults, maxSteps, false);
  return undefined;
}

/** A serial run; without the access record its steps are counted per CPU but carry no accesses. */
function serialRun(target: Target, program: Program, order: number[], faults: readonly Fault[], maxSteps: number | undefined, accesses: boolean): Profile {
  const { kernel, result } = execute(target, program, serial(order), execRng('profile', 0, 'schedule'), { faults, maxSteps, profiling: true, accesses, trace: true });
  const cpus: Profile['cpus'] = program.cpus.map(() => []);
  result.trace!.forEach(([cpu], t) => cpus[cpu]!.push(kernel.access?.of(t) ?? []));
  return { length: result.steps, cpus };
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
      return order.find((c) => runnable.includes(c))!;
    },
  };
}
