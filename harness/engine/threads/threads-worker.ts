// A Piscina task of the threads engine: one CPU of one execution. It waits for its grant word,
// runs its generator one step (and the per-step invariants, as inline does after each step),
// reports the step's status in the reply word (and its label, interned, in the label word), and
// waits again. What is not in the buffer (findings, events, its call stack) it returns at the end,
// for the coordinator to merge.

import { CPU, CPU_DONE, CPU_WORDS } from '../../kernel/layout.js';
import type { Fault, Finding, Program, TraceEvent } from '../../types.js';
import { cpuBody, EXIT_LABEL, fault, startOf, stepEvent } from '../inline/inline.js';
import { loadTarget, type TargetRef } from '../load.js';
import { Heartbeat } from '../heartbeat.js';
import { CTL, prepareThread, SharedKernel, signal, TIMED_OUT, waitChange } from './threads-kernel.js';

/** Grant word values. */
export const GRANT_RUN = 1;
export const GRANT_FINISH = 2;
/** Reply word bits: the step completed (it counts), the CPU is done, a fatal report ended it. */
export const STEPPED = 1;
export const DONE = 2;
export const FAULTED = 4;

export interface CpuTask {
  target: TargetRef;
  sites: SharedArrayBuffer;
  sab: SharedArrayBuffer;
  cpu: number;
  program: Program;
  faults: Fault[];
  events: boolean;
  spin: boolean;
  cores: number;
  /** Give up waiting for a grant after this long (the coordinator is gone). */
  waitMs: number;
  /** Where this CPU publishes the function it runs, for the coordinator to name a stall. */
  heartbeat?: SharedArrayBuffer;
}

export interface CpuResult {
  cpu: number;
  findings: Finding[];
  events: TraceEvent[];
  /** The step during which each event happened. */
  eventSteps: number[];
  /** Its call stack when it stopped. */
  stack: string[];
  /** The lock classes it held then (the hung-task oracle names a lock cycle from them). */
  held: string[];
  ended: 'done' | 'faulted' | 'finished' | 'abandoned';
}

export default async function runCpu(task: CpuTask): Promise<CpuResult> {
  const target = await loadTarget(task.target);
  const img = prepareThread(target, task.sites, startOf(target, task.program));
  const { cpu } = task;
  const ncpus = task.program.cpus.length;
  const k = new SharedKernel(target.layout, task.sab, { ncpus, faults: task.faults, events: task.events }, img.lockOrder);
  k.cpu = cpu;
  if (task.heartbeat) k.hb = new Heartbeat(task.heartbeat);
  const mem = k.mem;
  const gen = cpuBody(target, k, cpu, task.program);
  const eventSteps: number[] = [];
  const policy = { spin: task.spin, cores: task.cores, hot: k.ctl + CTL.hot };
  const grant = k.ctl + CTL.grant + cpu;

  const result = (ended: CpuResult['ended']): CpuResult => ({
    cpu,
    findings: k.findings,
    events: k.events ?? [],
    eventSteps,
    stack: k.stacks[cpu]!,
    held: k.held[cpu]!,
    ended,
  });

  /** One step and the invariants after it: the body of inline's loop for this CPU. */
  const step = (): number => {
    let status: number;
    try {
      k.stepping(cpu, k.step);
      const r = gen.next();
      const label = r.done ? EXIT_LABEL : r.value;
      if (r.done) mem[cpu * CPU_WORDS + CPU.state] = CPU_DONE;
      mem[k.ctl + CTL.label] = k.intern(label);
      k.events?.push(stepEvent(k, cpu, label));
      status = STEPPED | (r.done ? DONE : 0);
    } catch (e) {
      fault(k, e);
      return FAULTED;
    }
    try {
      for (const inv of target.invariants) inv(k);
    } catch (e) {
      fault(k, e);
      return status | FAULTED;
    }
    return status;
  };

  Atomics.add(mem, k.ctl + CTL.ready, 1);
  Atomics.notify(mem, k.ctl + CTL.ready);
  for (;;) {
    const g = waitChange(mem, grant, 0, task.waitMs, policy);
    if (g === TIMED_OUT) return result('abandoned');
    Atomics.store(mem, grant, 0);
    if (g === GRANT_FINISH) return result('finished');
    k.step = mem[k.ctl + CTL.step]!;
    k.pullLockOrder();
    const before = k.events?.length ?? 0;
    let status = step();
    try {
      k.pushLockOrder();
    } catch (e) {
      fault(k, e);
      status |= FAULTED;
    }
    for (let i = before; i < (k.events?.length ?? 0); i++) eventSteps.push(k.step);
    signal(mem, k.ctl + CTL.reply, status);
    if (status & FAULTED) return result('faulted');
    if (status & DONE) return result('done');
  }
}
