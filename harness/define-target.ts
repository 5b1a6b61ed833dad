// defineTarget: a Target from the parts a plug-in actually has (its structs, a table of named
// operations, maybe a fixed program), with every other part of the Target interface defaulted:
// nothing to boot or tear down, no invariants, expectations, fallible calls or leak check.

import { kfn, type Gen, type Kernel } from './kernel/kernel.js';
import { makeLayout, type PoolSpec } from './kernel/layout.js';
import type { Rng } from './rng.js';
import type { Expectation, ObjectKind, OpSpec, Target } from './target.js';
import type { Op, Program } from './types.js';

/** One operation: runs as a kernel function named after it; returns 0, a negative errno, or nothing (0). */
export type OperationFn = (k: Kernel, args: Op['args']) => Gen<number | void>;

/** An operation with its drawing parameters (see OpSpec); a bare function has weight 1 and no arguments. */
export interface Operation extends Partial<Omit<OpSpec, 'name'>> {
  run: OperationFn;
}

export interface TargetSpec {
  name: string;
  description?: string;
  kernelVersion?: string;
  /** The struct pools of the model's memory: each struct and how many objects of it may be live. */
  pools: readonly PoolSpec[];
  /** The operations a CPU may run, by name. */
  ops: Readonly<Record<string, OperationFn | Operation>>;
  /**
   * A fixed program: per CPU, the operations it runs (names, or ops with arguments). Every
   * execution then runs it (Target.generate) and only the interleaving varies.
   */
  program?: readonly (readonly (string | Op)[])[];
  setup?(k: Kernel, start?: string): Gen;
  startStates?: readonly string[];
  exitCpu?(k: Kernel): Gen;
  teardown?(k: Kernel): Gen;
  invariants?: readonly ((k: Kernel) => void)[];
  leakCheck?(k: Kernel): void;
  expectations?: readonly Expectation[];
  faultCalls?: readonly string[];
  objects?: readonly ObjectKind[];
  /** Draws a program; the harness's generic generator is used when neither this nor `program` is given. */
  generate?(rng: Rng): Program;
}

function* nothing(): Gen {}

/** The fixed program as a Program, fresh each time (callers may change what they get). */
function fixedProgram(cpus: NonNullable<TargetSpec['program']>): () => Program {
  return () => ({ cpus: cpus.map((ops) => ops.map((o): Op => (typeof o === 'string' ? { op: o, args: {} } : { op: o.op, args: { ...o.args } }))) });
}

export function defineTarget(spec: TargetSpec): Target {
  if (spec.program && spec.generate) throw new Error(`target ${spec.name}: give either program or generate, not both`);
  const operations = Object.entries(spec.ops).map(([name, o]) => (typeof o === 'function' ? { name, run: o } : { ...o, name }));
  const table = new Map(operations.map((o) => [o.name, kfn(o.name, o.run)]));
  for (const cpu of spec.program ?? []) {
    for (const o of cpu) {
      const name = typeof o === 'string' ? o : o.op;
      if (!table.has(name)) throw new Error(`target ${spec.name}: its program runs '${name}', which is not one of its ops`);
    }
  }
  const target: Target = {
    name: spec.name,
    description: spec.description ?? `plug-in target ${spec.name}`,
    kernelVersion: spec.kernelVersion ?? 'none (a model of its own)',
    layout: makeLayout(spec.pools),
    ops: operations.map(({ name, weight, args, after }) => ({ name, weight: weight ?? 1, args: args ?? {}, ...(after !== undefined ? { after } : {}) })),
    setup: spec.setup ?? nothing,
    *run(k, op) {
      const f = table.get(op.op);
      if (!f) throw new Error(`target ${spec.name} has no op ${op.op}`);
      return (yield* f(k, op.args)) ?? 0;
    },
    exitCpu: spec.exitCpu ?? nothing,
    teardown: spec.teardown ?? nothing,
    invariants: spec.invariants ?? [],
    leakCheck: spec.leakCheck ?? (() => {}),
    expectations: spec.expectations ?? [],
    faultCalls: spec.faultCalls ?? [],
  };
  if (spec.startStates) target.startStates = spec.startStates;
  if (spec.objects) target.objects = spec.objects;
  if (spec.program) target.generate = fixedProgram(spec.program);
  else if (spec.generate) target.generate = spec.generate;
  return target;
}
