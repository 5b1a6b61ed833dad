// defineTarget: a Target from the parts a plug-in actually has (its structs, a table of named
// operations, maybe a fixed program and its threads), with every other part of the Target
// interface defaulted: nothing to boot or tear down, no invariants, expectations, fallible calls
// or leak check. A target with threads gets a task_struct per CPU (harness/kernel/thread.ts).

import { kfn, type Gen, type Kernel } from './kernel/kernel.js';
import { makeLayout, type PoolSpec } from './kernel/layout.js';
import { fork_tasks, task_exited, TASK_POOL } from './kernel/thread.js';
import type { Rng } from './rng.js';
import type { Expectation, Focus, ObjectKind, OpSpec, Target } from './target.js';
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
  /** Argument values that most operations of one drawn program share (Target.focus). */
  focus?(rng: Rng): Focus;
  /** Draws a program; the harness's generic generator is used when neither this nor `program` is given. */
  generate?(rng: Rng): Program;
  /**
   * `generate` returns the same program every time (Target.fixedProgram): the minimizer keeps its
   * shape. Implied by `program`.
   */
  fixedProgram?: boolean;
  /**
   * CPUs of `program` that are threads: each begins only when another CPU calls thread_start(k, cpu);
   * thread_join(k, cpu) waits for a CPU's exit. Needs `program` (a fixed program names its CPUs).
   */
  threads?: readonly number[];
}

function* nothing(): Gen {}

/** Boot with a task_struct per CPU first (thread_join waits on them), then the target's own setup. */
function withTasks(setup: (k: Kernel, start?: string) => Gen): (k: Kernel, start?: string) => Gen {
  return function* (k, start) {
    fork_tasks(k);
    yield* setup(k, start);
  };
}

/** The target's exit, then the CPU's task marked exited. */
function exitingTask(exit: (k: Kernel) => Gen): (k: Kernel) => Gen {
  return function* (k) {
    yield* exit(k);
    task_exited(k);
  };
}

/** The fixed program as a Program, fresh each time (callers may change what they get). */
function fixedProgram(cpus: NonNullable<TargetSpec['program']>): () => Program {
  return () => ({ cpus: cpus.map((ops) => ops.map((o): Op => (typeof o === 'string' ? { op: o, args: {} } : { op: o.op, args: { ...o.args } }))) });
}

/** The `threads` of a spec, checked: CPUs of its fixed program, at least one of which is not a thread. */
function checkThreads(spec: TargetSpec): readonly number[] | undefined {
  const threads = spec.threads;
  if (threads === undefined) return undefined;
  const n = spec.program?.length;
  if (n === undefined) throw new Error(`target ${spec.name}: threads name CPUs of a fixed program; give program too`);
  for (const c of threads) {
    if (!Number.isInteger(c) || c < 0 || c >= n) throw new Error(`target ${spec.name}: thread ${c} is not a CPU of its program (0 to ${n - 1})`);
  }
  if (new Set(threads).size >= n) throw new Error(`target ${spec.name}: every CPU is a thread; one at least must run from the start`);
  return [...new Set(threads)].sort((a, b) => a - b);
}

export function defineTarget(spec: TargetSpec): Target {
  if (spec.program && spec.generate) throw new Error(`target ${spec.name}: give either program or generate, not both`);
  if (spec.fixedProgram && !spec.program && !spec.generate) throw new Error(`target ${spec.name}: fixedProgram needs program or generate`);
  const threads = checkThreads(spec);
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
    layout: makeLayout(threads ? [...spec.pools, TASK_POOL] : spec.pools),
    ops: operations.map(({ name, weight, args, after }) => ({ name, weight: weight ?? 1, args: args ?? {}, ...(after !== undefined ? { after } : {}) })),
    setup: threads ? withTasks(spec.setup ?? nothing) : (spec.setup ?? nothing),
    *run(k, op) {
      const f = table.get(op.op);
      if (!f) throw new Error(`target ${spec.name} has no op ${op.op}`);
      return (yield* f(k, op.args)) ?? 0;
    },
    exitCpu: threads ? exitingTask(spec.exitCpu ?? nothing) : (spec.exitCpu ?? nothing),
    teardown: spec.teardown ?? nothing,
    invariants: spec.invariants ?? [],
    leakCheck: spec.leakCheck ?? (() => {}),
    expectations: spec.expectations ?? [],
    faultCalls: spec.faultCalls ?? [],
  };
  if (spec.startStates) target.startStates = spec.startStates;
  if (spec.objects) target.objects = spec.objects;
  if (spec.focus) target.focus = spec.focus;
  if (spec.program) target.generate = fixedProgram(spec.program);
  else if (spec.generate) target.generate = spec.generate;
  if (spec.program || spec.fixedProgram) target.fixedProgram = true;
  if (threads) target.threads = threads;
  return target;
}
