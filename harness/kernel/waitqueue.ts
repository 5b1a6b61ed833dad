// Wait queues with the kernel's semantics (include/linux/wait.h, kernel/sched/wait.c). A wait queue
// head is one word of a struct: the set of CPUs queued on it, bit c for CPU c. wake_up wakes every
// CPU queued at that moment and takes it off the queue (autoremove_wake_function); then it is
// forgotten. Unlike a completion, nothing remembers a wakeup, so a waiter that tests its condition
// and only then queues itself misses a wake_up that came in between and sleeps for ever: the lost
// wakeup. wait_event does what the kernel's ___wait_event does (prepare_to_wait, test again,
// schedule, finish_wait) and cannot miss one. A sleeping CPU is blocked (not runnable) on its bit of
// the head, so all CPUs asleep or blocked is the hung-task oracle. Every waiter is non-exclusive:
// wake_up wakes them all, as wake_up_all does.

import type { Gen, Kernel } from './kernel.js';
import { WAIT_ZERO, type Ref } from './layout.js';

/** The queue a CPU last prepared to wait on (its wait_queue_entry); read by schedule on that CPU. */
interface Prepared {
  ref: Ref;
  field: string;
}

/**
 * Per CPU, kept beside the kernel object: prepare_to_wait, schedule and finish_wait run on the CPU
 * they concern, so in every engine the same thread writes and reads an entry.
 */
const prepared = new WeakMap<Kernel, (Prepared | undefined)[]>();

function entries(k: Kernel): (Prepared | undefined)[] {
  let e = prepared.get(k);
  if (!e) prepared.set(k, (e = []));
  return e;
}

/** init_waitqueue_head: an empty queue. A slot's fields start at zero, so this is only needed to reuse a word. */
export function init_waitqueue_head<F extends string>(k: Kernel, wq: Ref<F>, field: F): void {
  k.set(wq, field, 0);
}

/**
 * prepare_to_wait(wq, &wait, TASK_UNINTERRUPTIBLE): queue this CPU on `wq` and mark it about to
 * sleep. A wake_up from now on takes it off the queue, and the schedule() that follows returns at
 * once. Reading the head first reports a freed queue (the kernel takes wq_head->lock).
 */
export function* prepare_to_wait<F extends string>(k: Kernel, wq: Ref<F>, field: F): Gen {
  yield k.at(`prepare_to_wait(${field})`);
  k.get(wq, field);
  Atomics.or(k.mem, k.addr(wq, field), 1 << k.cpu);
  entries(k)[k.cpu] = { ref: wq, field };
}

/**
 * schedule(): sleep until woken, if this CPU is still queued where it last prepared to wait; a CPU
 * that was woken meanwhile (or never prepared) goes on. Returns after one wakeup: like the kernel's
 * callers, test the condition again and loop.
 */
export function* schedule(k: Kernel): Gen {
  const label = k.at('schedule()');
  yield label;
  const e = entries(k)[k.cpu];
  if (e === undefined) return;
  const bit = 1 << k.cpu;
  if ((Atomics.load(k.mem, k.addr(e.ref, e.field)) & bit) === 0) return;
  k.block(e.ref, e.field, bit, WAIT_ZERO);
  yield label;
}

/**
 * finish_wait(wq, &wait): running again, and off the queue. Touches the head only when still on it
 * (not woken: the condition came true first), as list_empty_careful lets the kernel skip the lock.
 */
export function* finish_wait<F extends string>(k: Kernel, wq: Ref<F>, field: F): Gen {
  yield k.at(`finish_wait(${field})`);
  entries(k)[k.cpu] = undefined;
  const bit = 1 << k.cpu;
  if ((Atomics.load(k.mem, k.addr(wq, field)) & bit) === 0) return;
  k.get(wq, field);
  Atomics.and(k.mem, k.addr(wq, field), ~bit);
}

/** wake_up(wq): wake every CPU queued on `wq` now and empty the queue. With nobody queued it does nothing, and is not remembered. */
export function* wake_up<F extends string>(k: Kernel, wq: Ref<F>, field: F): Gen {
  yield k.at(`wake_up(${field})`);
  k.get(wq, field);
  Atomics.store(k.mem, k.addr(wq, field), 0);
}

/**
 * wait_event(wq, condition): return once `condition()` holds, sleeping on `wq` meanwhile. The
 * condition is tested again after queueing, so a wake_up between a test and the sleep is not
 * lost. `what` names the condition in the step's label, e.g. `wait_event(m->ready)`.
 */
export function* wait_event<F extends string>(k: Kernel, wq: Ref<F>, field: F, condition: () => boolean, what = 'condition'): Gen {
  yield k.at(`wait_event(${what})`);
  if (condition()) return;
  for (;;) {
    yield* prepare_to_wait(k, wq, field);
    if (condition()) break;
    yield* schedule(k);
  }
  yield* finish_wait(k, wq, field);
}
