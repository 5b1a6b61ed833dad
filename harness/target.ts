// What a target plug-in exports (design.md section 11). Targets are the systems under test; the
// harness knows nothing of mdev beyond this interface.

import type { Gen, Kernel } from './kernel/kernel.js';
import type { Layout, Ref, StructDef } from './kernel/layout.js';
import type { Rng } from './rng.js';
import type { Op, Program } from './types.js';

/** Argument values by argument name (see Target.focus). */
export type Focus = Record<string, number | string>;

export interface OpSpec {
  name: string;
  /** Relative weight when drawing programs. */
  weight: number;
  /** The domain of each argument; the first value is the simplest (the minimizer's choice). */
  args: Record<string, readonly (number | string)[]>;
  /**
   * The operation whose result this one uses (ioctl uses what open returned): right after that
   * operation on the same CPU, the generator draws this one half of the time, as syzkaller
   * prefers calls that consume a resource just produced.
   */
  after?: string;
}

export interface Expectation {
  /** The finding's title, exactly. */
  title: string;
  /** 'known': a bug of the modelled kernel the target should show; 'by-design': accepted behaviour. */
  status: 'known' | 'by-design';
  reason: string;
  /** One of the five seed problems of the 2019 thread ('P1'..'P5'), where it is one. */
  problem?: string;
}

export function expectationOf(target: Target, title: string): Expectation | undefined {
  return target.expectations.find((e) => e.title === title);
}

/**
 * A declared transition of an object kind: `from` and `to` are states, `event` the user operation
 * of the CPU that made the change (create, remove, ..., `exit` for a process exit, `teardown`).
 * Several events may share one row.
 */
export type TransitionDecl = readonly [from: string, events: string | readonly string[], to: string];

/** The state an object has before its slot is allocated, and after it is freed. */
export const STATE_NONE = 'none';
export const STATE_FREED = 'freed';

/**
 * The state machine of one kind of object (design.md section 10): which slots are its objects,
 * the state of a live one, the declared states and transitions. `none` and `freed` are implicit.
 */
export interface ObjectKind {
  kind: string;
  structs: readonly StructDef[];
  /**
   * The state of a live object, read from its own fields only: the harness re-reads it after a
   * step that wrote to the slot. It must not change anything.
   */
  state(k: Kernel, ref: Ref): string;
  states: readonly string[];
  transitions: readonly TransitionDecl[];
}

export interface Target {
  name: string;
  description: string;
  kernelVersion: string;
  layout: Layout;
  ops: readonly OpSpec[];
  /**
   * Boot: load what is loaded before the programs run, for the given start state (one of
   * startStates; undefined is the default). Runs alone, with no preemption.
   */
  setup(k: Kernel, start?: string): Gen;
  /**
   * The states an execution may start from, by name; the first is the default (Program.start
   * absent). The engine draws one per execution (runner.startFor); a target without it has one.
   */
  startStates?: readonly string[];
  /** One operation of the current CPU; returns its result (0 or a negative errno, or an fd). */
  run(k: Kernel, op: Op): Gen<number>;
  /** The current CPU's process exits: its fds are closed. */
  exitCpu(k: Kernel): Gen;
  /** After all CPUs: close, remove, unregister, unload. Runs alone. */
  teardown(k: Kernel): Gen;
  /** Whole-state invariants, checked after every step; they report through k.warn/k.oops. */
  invariants: readonly ((k: Kernel) => void)[];
  /** After teardown: what is still allocated is a leak. */
  leakCheck(k: Kernel): void;
  expectations: readonly Expectation[];
  /** The fallible calls fault injection may fail (Kernel.shouldFail names), e.g. 'kmalloc'. */
  faultCalls: readonly string[];
  /** The state machines whose transitions coverage counts (design.md section 10). */
  objects?: readonly ObjectKind[];
  /** Draws a program; the harness's generic generator is used when absent. */
  generate?(rng: Rng): Program;
  /**
   * The generic generator's focus for one program: a value per argument name that most of its
   * operations then use, so that its CPUs work on the same objects. Absent: a value of each
   * argument's domain, drawn independently; a target whose arguments are related (a device type
   * and the module of its vendor) draws them together here. `start` is the program's start state
   * (absent: the default): a state set up for some objects has its programs work on those.
   */
  focus?(rng: Rng, start?: string): Focus;
  /**
   * generate returns the same program every time (defineTarget's `program`): the program is the
   * test, only the interleaving and faults vary. The minimizer then keeps its shape (every CPU and
   * operation, its arguments and CPU order) and shrinks only the faults and the schedule, and
   * coverage-guided search does not mutate it.
   */
  fixedProgram?: boolean;
  /**
   * CPUs of the (fixed) program that are threads: each begins only when another CPU starts it with
   * thread_start (harness/kernel/thread.ts); until then it is idle, neither runnable nor blocked.
   * They are named by index, so a target with threads keeps its program's shape as a fixed one does.
   */
  threads?: readonly number[];
}

/** Whether the minimizer and guided search must keep the target's programs as they are (CPUs, operations, order). */
export function keepsShape(target: Target): boolean {
  return target.fixedProgram === true || (target.threads?.length ?? 0) > 0;
}
