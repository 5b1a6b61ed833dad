// The generic program generator: 2-4 CPUs, each a short list of 2-5 operations drawn by weight,
// with arguments from the target's small domains so that operations collide.

import type { Rng } from '../rng.js';
import type { Focus, OpSpec, Target } from '../target.js';
import type { Op, Program } from '../types.js';

/** CPUs a drawn program has (the layout's MAX_CPUS also counts the setup/teardown CPU). */
export const MIN_PROGRAM_CPUS = 2;
export const MAX_PROGRAM_CPUS = 4;
/**
 * Operations per CPU. A race shows only in a program whose CPUs got that far in its serial
 * profiles (a remove of a device its creator made, an ioctl on an fd its open got), and longer
 * CPUs more often do: with 2-5 instead of 1-4, every race of 2,000 drawn mdev-v5.0 programs forced
 * once, the share of executions that show P2 went from 0.279% to 0.387%, P5 0.586% to 0.931%, P4
 * 1.28% to 1.58%, P3 1.07% to 1.51%, P1 0.416% to 0.475%, at 1.5x the races per program.
 */
export const MIN_OPS_PER_CPU = 2;
export const MAX_OPS_PER_CPU = 5;

/**
 * The share of arguments that take the program's focus value (Target.focus) rather than one drawn
 * from their domain: operations that name the same objects are what races need. Measured over
 * 20,000 drawn mdev-v5.0 programs (`npm run bench -- program-mix`): the programs that hold the
 * operations of P2 went from 3.2% without a focus to 8.7%, of P4 from 12% to 25%, of P5 from 6.7% to 16%.
 */
export const FOCUS_RATE = 0.75;

export function drawOp(all: readonly OpSpec[], prev: Op | undefined, rng: Rng, focus?: Focus, focusRate = FOCUS_RATE): Op {
  const consumers = prev === undefined ? [] : all.filter((o) => o.after === prev.op);
  const specs = consumers.length > 0 && rng.next() < 0.5 ? consumers : all;
  const total = specs.reduce((s, o) => s + o.weight, 0);
  let x = rng.next() * total;
  let spec = specs[specs.length - 1]!;
  for (const o of specs) {
    x -= o.weight;
    if (x < 0) {
      spec = o;
      break;
    }
  }
  const args: Record<string, number | string> = {};
  for (const [name, domain] of Object.entries(spec.args)) {
    const focused = focus?.[name];
    args[name] = focused !== undefined && rng.next() < focusRate ? focused : rng.pick(domain);
  }
  return { op: spec.name, args };
}

/** A value of each argument's domain, drawn independently: the focus of a target that has no `focus`. */
export function independentFocus(ops: readonly OpSpec[], rng: Rng): Focus {
  const focus: Focus = {};
  for (const spec of ops) for (const [name, domain] of Object.entries(spec.args)) focus[name] ??= rng.pick(domain);
  return focus;
}

/**
 * A program of the target's (its own generator's, if it has one), from start state `start` (absent:
 * the default); `focusRate` 0 draws every argument from its domain.
 */
export function generateProgram(target: Target, rng: Rng, focusRate = FOCUS_RATE, start?: string): Program {
  if (target.generate) return withStart(target.generate(rng), start);
  const focus = target.focus ? target.focus(rng, start) : independentFocus(target.ops, rng);
  const ncpus = MIN_PROGRAM_CPUS + rng.int(MAX_PROGRAM_CPUS - MIN_PROGRAM_CPUS + 1);
  const cpus: Op[][] = [];
  for (let c = 0; c < ncpus; c++) {
    const n = MIN_OPS_PER_CPU + rng.int(MAX_OPS_PER_CPU - MIN_OPS_PER_CPU + 1);
    const ops: Op[] = [];
    for (let i = 0; i < n; i++) ops.push(drawOp(target.ops, ops[i - 1], rng, focus, focusRate));
    cpus.push(ops);
  }
  return withStart({ cpus }, start);
}

const withStart = (p: Program, start: string | undefined): Program => (start === undefined ? p : { ...p, start });

/** The same program (its start state included) on other CPUs. */
export function withCpus(p: Program, cpus: Op[][]): Program {
  return p.start === undefined ? { cpus } : { cpus, start: p.start };
}

export function countOps(p: Program): number {
  return p.cpus.reduce((s, ops) => s + ops.length, 0);
}

export function formatOp(op: Op): string {
  return `${op.op}(${Object.values(op.args).join(', ')})`;
}
