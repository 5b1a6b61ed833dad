// A Piscina task of the stress engine: one CPU slot for a batch of executions, each on its own
// SharedArrayBuffer. The slots of a batch meet at a barrier before each execution, then run their
// CPUs free, with no token: at every preemption point a CPU takes a ticket from a shared counter,
// records (ticket -> cpu, label) in the execution's trace ring and perturbs its timing with a
// seeded short spin. A blocked CPU sleeps until its wait is satisfied; every wait has a timeout.
// Crash oracles fire here, in the CPU's own thread; the coordinator does the rest at quiescence.

import { CPU, CPU_BLOCKED, CPU_DONE, CPU_RUNNABLE, CPU_WORDS } from '../../kernel/layout.js';
import { makeRng, type Rng } from '../../rng.js';
import type { Target } from '../../target.js';
import type { Fault, Finding, Program } from '../../types.js';
import { bootImage, cpuBody, EXIT_LABEL, fault, startOf } from '../inline/inline.js';
import { loadTarget, type TargetRef } from '../load.js';
import { CTL, prepareThread, RING_CAP, SharedKernel } from '../threads/threads-kernel.js';

/** Why an execution stopped early (the abort word); 0 while it runs, and when it ran to the end. */
export const STOP_FAULT = 1;
export const STOP_HUNG = 2;
export const STOP_LIVELOCK = 3;
export const STOP_TIMEOUT = 4;
/** Batch word: a slot gave up waiting at a barrier; everyone skips what is left. */
const BATCH_DEAD = 0;
/** Control word: slots done with this execution (the threads engine's label word). */
export const CTL_LEFT = CTL.label;

/** Chances per preemption point of a short spin, a yield of the core, and a pause of 0.2-1.2 ms. */
const P_SPIN = 0.1;
const P_YIELD = 0.05;
const P_PAUSE = 0.005;

export interface StressExec {
  sab: SharedArrayBuffer;
  program: Program;
  faults: Fault[];
  /** Seeds this execution's perturbations. */
  key: string;
}

export interface StressTask {
  target: TargetRef;
  sites: SharedArrayBuffer;
  batch: SharedArrayBuffer;
  slot: number;
  slots: number;
  execs: StressExec[];
  maxSteps: number;
  /** All CPUs blocked this long is a hang. */
  hungMs: number;
  /** An execution running this long is abandoned. */
  execMs: number;
}

export interface StressCpuResult {
  findings: Finding[];
  stack: string[];
  /** The lock classes it held when it stopped (the hung-task oracle names a lock cycle from them). */
  held: string[];
}

/**
 * Per preemption point: mostly nothing; sometimes a short spin; now and then a short sleep, which
 * hands the core to another thread; rarely a long one, which holds this CPU inside a window while
 * the others run through theirs (what PCT's priority changes do inline).
 */
function perturb(rng: Rng, mem: Int32Array, quiet: number): void {
  const x = rng.next();
  const sleep = (ms: number): void => void Atomics.wait(mem, quiet, 0, ms);
  if (x < P_SPIN) for (let n = rng.int(3000); n > 0; n--) Atomics.load(mem, quiet);
  else if (x < P_SPIN + P_YIELD) sleep(0.02);
  else if (x < P_SPIN + P_YIELD + P_PAUSE) sleep(0.2 + rng.next());
}

function runOne(target: Target, task: StressTask, x: StressExec): StressCpuResult {
  const cpu = task.slot;
  const ncpus = x.program.cpus.length;
  const k = new SharedKernel(target.layout, x.sab, { ncpus, faults: x.faults }, bootImage(target, startOf(target, x.program)).lockOrder);
  k.cpu = cpu;
  const mem = k.mem;
  const abort = k.ctl + CTL.abort;
  const ticket = k.ctl + CTL.ticket;
  const state = cpu * CPU_WORDS + CPU.state;
  const gen = cpuBody(target, k, cpu, x.program);
  const rng = makeRng(`${x.key}:cpu${cpu}`);
  const t0 = performance.now();
  const stop = (why: number): boolean => Atomics.compareExchange(mem, abort, 0, why) === 0;

  /** Every CPU is done or blocked on a word that still forbids it: nobody can wake anybody. */
  const allStuck = (): boolean => {
    for (let c = 0; c < ncpus; c++) {
      const s = Atomics.load(mem, c * CPU_WORDS + CPU.state);
      if (s !== CPU_DONE && (s !== CPU_BLOCKED || k.waitSatisfied(c))) return false;
    }
    return true;
  };

  const waitUnblocked = (): boolean => {
    let stuckSince = -1;
    for (;;) {
      if (k.waitSatisfied(cpu)) {
        Atomics.store(mem, state, CPU_RUNNABLE);
        k.clearWait(cpu);
        return true;
      }
      if (Atomics.load(mem, abort) !== 0) return false;
      const now = performance.now();
      if (!allStuck()) stuckSince = -1;
      else if (stuckSince < 0) stuckSince = now;
      else if (now - stuckSince > task.hungMs) {
        stop(STOP_HUNG);
        return false;
      }
      if (now - t0 > task.execMs) {
        stop(STOP_TIMEOUT);
        return false;
      }
      const seen = Atomics.load(mem, ticket);
      Atomics.add(mem, k.ctl + CTL.sleepers, 1);
      Atomics.wait(mem, ticket, seen, 0.2);
      Atomics.sub(mem, k.ctl + CTL.sleepers, 1);
    }
  };

  /** Record that this CPU reached `label` now: the next ticket, in the ring. */
  const take = (label: string): number => {
    const tk = Atomics.add(mem, ticket, 1);
    const at = k.ctl + CTL.ring + 2 * (tk % RING_CAP);
    mem[at + 1] = k.intern(label);
    Atomics.store(mem, at, cpu + 1);
    if (Atomics.load(mem, k.ctl + CTL.sleepers) > 0) Atomics.notify(mem, ticket);
    return tk;
  };

  for (let n = rng.int(20_000); n > 0; n--) Atomics.load(mem, ticket); // a seeded start offset
  for (;;) {
    if (Atomics.load(mem, abort) !== 0) break;
    k.step = Atomics.load(mem, ticket);
    let label: string;
    let done: boolean;
    try {
      k.pullLockOrder();
      const r = gen.next();
      done = r.done === true;
      label = r.done ? EXIT_LABEL : r.value;
      k.pushLockOrder();
    } catch (e) {
      // The step that oopsed takes a ticket too: the inline replay must run it at that point.
      fault(k, e);
      stop(STOP_FAULT);
      take(`oops:${k.fn()}`);
      break;
    }
    const tk = take(label);
    if (done) {
      Atomics.store(mem, state, CPU_DONE);
      break;
    }
    if (tk + 1 >= task.maxSteps) {
      if (stop(STOP_LIVELOCK)) {
        try {
          k.oops('livelock', `livelock: step budget exceeded in ${k.fn()}`, [`${task.maxSteps} steps`]);
        } catch (e) {
          fault(k, e);
        }
      }
      break;
    }
    if (Atomics.load(mem, state) === CPU_BLOCKED && !waitUnblocked()) break;
    perturb(rng, mem, k.ctl + CTL.reply); // a word nobody writes or wakes in stress
  }
  if (Atomics.load(mem, k.ctl + CTL.sleepers) > 0) Atomics.notify(mem, ticket);
  return { findings: k.findings, stack: k.stacks[cpu]!, held: k.held[cpu]! };
}

/** Arrive at an execution's start and wait for the other slots; false when the batch is dead. */
function barrier(mem: Int32Array, ctl: number, batch: Int32Array, slots: number, ms: number): boolean {
  Atomics.add(mem, ctl + CTL.ready, 1);
  Atomics.notify(mem, ctl + CTL.ready);
  const deadline = performance.now() + ms;
  for (;;) {
    const n = Atomics.load(mem, ctl + CTL.ready);
    if (n >= slots) return true;
    if (Atomics.load(batch, BATCH_DEAD) !== 0) return false;
    if (performance.now() > deadline) {
      Atomics.store(batch, BATCH_DEAD, 1);
      return false;
    }
    Atomics.wait(mem, ctl + CTL.ready, n, 5);
  }
}

export default async function runSlot(task: StressTask): Promise<(StressCpuResult | null)[]> {
  const target = await loadTarget(task.target);
  prepareThread(target, task.sites);
  const batch = new Int32Array(task.batch);
  const out: (StressCpuResult | null)[] = [];
  for (const x of task.execs) {
    const mem = new Int32Array(x.sab);
    const ctl = target.layout.words;
    if (!barrier(mem, ctl, batch, task.slots, task.execMs + 1000)) break;
    out.push(task.slot < x.program.cpus.length ? runOne(target, task, x) : null);
    Atomics.add(mem, ctl + CTL_LEFT, 1);
  }
  return out;
}
