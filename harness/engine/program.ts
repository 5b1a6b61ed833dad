// The generic program generator: 2-4 CPUs, each a short list of operations drawn by weight, with
// arguments from the target's small domains so that operations collide.

import type { Rng } from '../rng.js';
import type { OpSpec, Target } from '../target.js';
import type { Op, Program } from '../types.js';

/** CPUs a drawn program has (the layout's MAX_CPUS also counts the setup/teardown CPU). */
export const MIN_PROGRAM_CPUS = 2;
export const MAX_PROGRAM_CPUS = 4;
export const MAX_OPS_PER_CPU = 4;

export function drawOp(all: readonly OpSpec[], prev: Op | undefined, rng: Rng): Op {
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
  for (const [name, domain] of Object.entries(spec.args)) args[name] = rng.pick(domain);
  return { op: spec.name, args };
}

export function generateProgram(target: Target, rng: Rng): Program {
  if (target.generate) return target.generate(rng);
  const ncpus = MIN_PROGRAM_CPUS + rng.int(MAX_PROGRAM_CPUS - MIN_PROGRAM_CPUS + 1);
  const cpus: Op[][] = [];
  for (let c = 0; c < ncpus; c++) {
    const n = 1 + rng.int(MAX_OPS_PER_CPU);
    const ops: Op[] = [];
    for (let i = 0; i < n; i++) ops.push(drawOp(target.ops, ops[i - 1], rng));
    cpus.push(ops);
  }
  return { cpus };
}

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
