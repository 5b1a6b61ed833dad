// A Piscina task of the threads engine: one CPU of a target, for every execution the engine runs
// on that target until it ends the session. Between executions it sleeps on its start word; the
// coordinator posts an execution (CpuTask) on the task's port and bumps that word. In an execution
// it waits for its grant word, runs its generator one step (and the per-step invariants, as inline
// does after each step), reports the step's status in the reply word (and its label, interned, in
// the label word), and waits again. What is not in the buffer (findings, events, its call stack)
// it posts back on the port when the execution ends for it, and then sets its done word. One task
// for many executions: a task per CPU per execution cost about 0.65 ms an execution in Piscina's
// dispatch and settling alone (measured on mdev-v5.0, session 18).

import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { CPU, CPU_DONE, CPU_WORDS } from '../../kernel/layout.js';
import type { Target } from '../../target.js';
import type { Fault, Finding, Program, TraceEvent } from '../../types.js';
import { cpuBody, EXIT_LABEL, fault, startOf, stepEvent } from '../inline/inline.js';
import { loadTarget, type TargetRef } from '../load.js';
import { Heartbeat } from '../heartbeat.js';
import { CTL, prepareThread, SharedKernel, signal, SLEEP, TIMED_OUT, waitChange } from './threads-kernel.js';

/** Grant word values. */
export const GRANT_RUN = 1;
export const GRANT_FINISH = 2;
/** Reply word bits: the step completed (it counts), the CPU is done, a fatal report ended it. */
export const STEPPED = 1;
export const DONE = 2;
export const FAULTED = 4;

/** Start word value: no more executions, the task returns. */
export const QUIT = -1;

/** The Piscina task: CPU `cpu` of `target` on buffer `sab`, until QUIT. */
export interface CpuSession {
  target: TargetRef;
  sites: SharedArrayBuffer;
  sab: SharedArrayBuffer;
  cpu: number;
  /** Executions in (CpuTask), results out (CpuResult). */
  port: MessagePort;
  /** Where this CPU publishes the function it runs, for the coordinator to name a stall. */
  heartbeat: SharedArrayBuffer;
  /** The start word's value when the task was posted: the first execution is the next number. */
  since: number;
}

/** One execution of the CPU. */
export interface CpuTask {
  program: Program;
  faults: Fault[];
  events: boolean;
  spin: boolean;
  cores: number;
  /** Give up waiting for a grant after this long (the coordinator is gone). */
  waitMs: number;
  /** A profiling run's (ExecOptions.profiling): no invariants. */
  profiling: boolean;
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

export default async function runSession(session: CpuSession): Promise<void> {
  const target = await loadTarget(session.target);
  const mem = new Int32Array(session.sab);
  const start = target.layout.words + CTL.start + session.cpu;
  // One for the session: its table of function names lives in the buffer and only grows.
  const hb = new Heartbeat(session.heartbeat);
  let seen = session.since;
  for (;;) {
    seen = waitChange(mem, start, seen, Infinity, SLEEP);
    if (seen === QUIT) return;
    const task = receiveMessageOnPort(session.port)?.message as CpuTask | undefined;
    if (!task) throw new Error(`threads engine: cpu${session.cpu} was started without an execution`);
    session.port.postMessage(runCpu(target, session, hb, task));
    signal(mem, target.layout.words + CTL.done + session.cpu, 1);
  }
}

/** One execution of the CPU, until it is done, faulted, told to finish or abandoned. */
function runCpu(target: Target, session: CpuSession, hb: Heartbeat, task: CpuTask): CpuResult {
  const img = prepareThread(target, session.sites, startOf(target, task.program));
  const { cpu } = session;
  const ncpus = task.program.cpus.length;
  const k = new SharedKernel(target.layout, session.sab, { ncpus, faults: task.faults, events: task.events }, img.lockOrder);
  k.cpu = cpu;
  hb.begin(0); // no function yet in this execution
  k.hb = hb;
  const mem = k.mem;
  const gen = cpuBody(target, k, cpu, task.program);
  const eventSteps: number[] = [];
  const policy = { spin: task.spin, cores: task.cores, hot: k.ctl + CTL.hot };
  const grant = k.ctl + CTL.grant + cpu;
  const invariants = task.profiling ? [] : target.invariants;

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
      for (const inv of invariants) inv(k);
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
