// What a target plug-in exports (design.md section 11). Targets are the systems under test; the
// harness knows nothing of mdev beyond this interface.

import type { Gen, Kernel } from './kernel/kernel.js';
import type { Layout } from './kernel/layout.js';
import type { Rng } from './rng.js';
import type { Op, Program } from './types.js';

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

export interface Target {
  name: string;
  description: string;
  kernelVersion: string;
  layout: Layout;
  ops: readonly OpSpec[];
  /** Boot: load what is loaded before the programs run. Runs alone, with no preemption. */
  setup(k: Kernel): Gen;
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
  /** Draws a program; the harness's generic generator is used when absent. */
  generate?(rng: Rng): Program;
}
