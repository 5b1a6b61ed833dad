// Thread start and join for plug-in targets. A CPU the target names in `threads` is a thread of
// the program: it begins only when another CPU starts it (thread_start: wake_up_process on a
// kthread created stopped, or pthread_create), and thread_join blocks until a CPU has exited
// (kthread_stop's wait, pthread_join). Until started a thread's CPU is idle, neither runnable nor
// blocked: a thread never started is no hang, while a join of it is one. Each CPU's exit is
// recorded in a task_struct of its own, which defineTarget adds to the target's memory, so that a
// join sleeps on a word as every other wait does and works in every engine.

import type { Gen, Kernel } from './kernel.js';
import { CPU, CPU_IDLE, CPU_RUNNABLE, CPU_WORDS, defineStruct, MAX_CPUS, WAIT_NONZERO, type PoolSpec } from './layout.js';

/** One per program CPU, allocated at boot: task c is CPU c's. */
export const task_struct = defineStruct('task_struct', ['exited']);

/** The pool defineTarget adds for the tasks of a target that declares threads. */
export const TASK_POOL: PoolSpec = { def: task_struct, capacity: MAX_CPUS - 1 };

/** At boot, before the target's own setup: a task per CPU a program may have. */
export function fork_tasks(k: Kernel): void {
  for (let c = 0; c < MAX_CPUS - 1; c++) k.alloc(task_struct, 'fork_tasks');
}

/** At the end of each CPU's exit (defineTarget's exitCpu): joiners of this CPU may go on. */
export function task_exited(k: Kernel): void {
  if (k.cpu < MAX_CPUS - 1) Atomics.store(k.mem, k.addr(k.nth(task_struct, k.cpu), 'exited'), 1);
}

/** A CPU of this execution's program (not the CPU running, which can neither start nor join itself). */
function otherCpu(k: Kernel, cpu: number, what: string): void {
  const ncpus = k.stacks.length - 1;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= ncpus) throw new Error(`${what}(cpu${cpu}): the program has CPUs 0 to ${ncpus - 1}`);
  if (cpu === k.cpu) throw new Error(`${what}(cpu${cpu}) on cpu${cpu} itself`);
}

/** Start thread `cpu`: from now on it may be scheduled. A CPU that is not a thread waiting to start is a target error. */
export function* thread_start(k: Kernel, cpu: number): Gen {
  yield k.at(`thread_start(cpu${cpu})`);
  otherCpu(k, cpu, 'thread_start');
  if (Atomics.compareExchange(k.mem, cpu * CPU_WORDS + CPU.state, CPU_IDLE, CPU_RUNNABLE) !== CPU_IDLE) {
    throw new Error(`thread_start(cpu${cpu}): cpu${cpu} is not a thread waiting to start (started twice, or not in the target's threads)`);
  }
}

/** Wait until CPU `cpu` has exited (run its operations and its exit). */
export function* thread_join(k: Kernel, cpu: number): Gen {
  const label = k.at(`thread_join(cpu${cpu})`);
  yield label;
  otherCpu(k, cpu, 'thread_join');
  if (!k.layout.byName.has(task_struct.name)) throw new Error(`thread_join needs a target made by defineTarget with threads`);
  const t = k.nth(task_struct, cpu);
  while (Atomics.load(k.mem, k.addr(t, 'exited')) === 0) {
    k.block(t, 'exited', -1, WAIT_NONZERO);
    yield label;
  }
}

/** The CPUs of a program at its start: runnable, but a thread of the target idle until started. */
export function startCpus(threads: readonly number[] | undefined, mem: Int32Array, ncpus: number): void {
  for (let c = 0; c < ncpus; c++) mem[c * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
  if (threads) for (const c of threads) if (c < ncpus) mem[c * CPU_WORDS + CPU.state] = CPU_IDLE;
}
