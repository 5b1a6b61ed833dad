// The kernel as the executors run it under a watchdog: a Kernel whose function entries and exits
// also go to the thread's heartbeat (so that a watchdog can name the function a stuck CPU is in),
// and which counts the kernel functions entered since the last preemption point. Past
// ENTER_BUDGET of them the CPU is stalled, found deterministically in the thread itself: the same
// execution gives the same title whatever the machine's speed. A CPU stuck without entering any
// function is found by the watchdog's time budget instead, with the same title.

import { Kernel } from '../kernel/kernel.js';
import type { Heartbeat } from './heartbeat.js';

/** Kernel-function entries between two preemption points that make a stall (no real step has more than a few dozen). */
export const ENTER_BUDGET = 100_000;

/** The titles of the watchdog's findings, in the kernel's words. */
export const stallTitle = (fn: string): string => `INFO: rcu_sched self-detected stall on CPU in ${fn}`;
export const oomTitle = (fn: string): string => `Out of memory: heap limit reached in ${fn}`;

export class WatchedKernel extends Kernel {
  /** Where entries and exits are published, when a watchdog watches this thread. */
  hb: Heartbeat | undefined;
  private enters = 0;

  /** The executor is about to run step `t` of `cpu`. */
  stepping(cpu: number, t: number): void {
    this.enters = 0;
    const hb = this.hb;
    if (hb === undefined) return;
    hb.step(cpu, t);
    const s = this.stacks[cpu]!;
    hb.fn(s.length > 0 ? s[s.length - 1]! : 'cpu_idle');
  }

  override enter(fn: string): void {
    super.enter(fn);
    this.hb?.fn(fn);
    if (++this.enters > ENTER_BUDGET) {
      this.oops('stall', stallTitle(fn), [`${ENTER_BUDGET} kernel-function calls on cpu${this.cpu} without reaching a preemption point`]);
    }
  }

  override exit(fn: string, ret: unknown): void {
    super.exit(fn, ret);
    this.hb?.fn(this.fn());
  }
}
