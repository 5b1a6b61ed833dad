// Sleeping locks, reference counts and completions as words of the SharedArrayBuffer, changed with
// Atomics. A CPU that cannot proceed marks what it waits for and yields; the executor runs it again
// only once the word allows it.

import { callStep, kfn, Kernel, type Gen } from './kernel.js';
import { WAIT_NONZERO, WAIT_ZERO, type Ref } from './layout.js';
import { lockClass, lockdep_acquire, lockdep_acquired, lockdep_release } from './lockdep.js';

// ---- mutex: 0 when free, owner cpu + 1 when held ----

export function* mutex_lock<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  const label = k.at(callStep('mutex_lock', field));
  yield label;
  const cls = lockClass(k, ref, field);
  lockdep_acquire(k, cls);
  while (Atomics.compareExchange(k.mem, k.addr(ref, field), 0, k.cpu + 1) !== 0) {
    k.block(ref, field, -1, WAIT_ZERO);
    yield label;
  }
  lockdep_acquired(k, cls);
}

export function* mutex_unlock<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  yield k.at(callStep('mutex_unlock', field));
  lockdep_release(k, lockClass(k, ref, field));
  Atomics.store(k.mem, k.addr(ref, field), 0);
}

// ---- rw_semaphore: readers in the low 16 bits, a writer bit, waiting writers above ----

const RWSEM_READERS = 0xffff;
const RWSEM_WRITER = 0x10000;
const RWSEM_WAITER = 0x20000;
const RWSEM_WAITERS = ~(RWSEM_READERS | RWSEM_WRITER);

export function* down_read<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  const label = k.at(callStep('down_read', field));
  yield label;
  const cls = lockClass(k, ref, field);
  lockdep_acquire(k, cls, true);
  for (;;) {
    const a = k.addr(ref, field);
    const v = Atomics.load(k.mem, a);
    if ((v & (RWSEM_WRITER | RWSEM_WAITERS)) === 0 && Atomics.compareExchange(k.mem, a, v, v + 1) === v) break;
    k.block(ref, field, RWSEM_WRITER | RWSEM_WAITERS, WAIT_ZERO);
    yield label;
  }
  lockdep_acquired(k, cls);
}

/**
 * How __down_read_trylock first touches sem->count: v5.2.1 tries a cmpxchg from the unlocked
 * value (a Write for KASAN; "locking/rwsem: Optimize down_read_trylock()", v5.1), v6.1-rc7 reads
 * the count first (a Read).
 */
export type TrylockAccess = 'cmpxchg' | 'read';

/**
 * down_read_trylock (kernel/locking/rwsem.c, out of line in every release: include/linux/rwsem.h
 * 126 v5.0.1, 121 v5.2.1, 181 v6.1-rc7), so a freed semaphore is reported in down_read_trylock.
 * Fails while a writer holds it or waits for it.
 */
export const down_read_trylock = kfn('down_read_trylock', function* <F extends string>(k: Kernel, ref: Ref<F>, field: F, access: TrylockAccess) {
  yield k.at(callStep('down_read_trylock', field));
  if (access === 'read') k.get(ref, field); // tmp = atomic_long_read(&sem->count)
  const a = k.addr(ref, field);
  const v = Atomics.load(k.mem, a);
  if ((v & (RWSEM_WRITER | RWSEM_WAITERS)) !== 0) return false;
  Atomics.store(k.mem, a, v + 1);
  lockdep_acquired(k, lockClass(k, ref, field));
  return true;
});

/** up_read (rwsem.c, out of line: rwsem.h 142 v5.0.1, 137 v5.2.1, 197 v6.1-rc7). */
export const up_read = kfn('up_read', function* <F extends string>(k: Kernel, ref: Ref<F>, field: F) {
  yield k.at(callStep('up_read', field));
  lockdep_release(k, lockClass(k, ref, field));
  Atomics.sub(k.mem, k.addr(ref, field), 1);
});

export function* down_write<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  const label = k.at(callStep('down_write', field));
  yield label;
  const cls = lockClass(k, ref, field);
  lockdep_acquire(k, cls);
  Atomics.add(k.mem, k.addr(ref, field), RWSEM_WAITER);
  for (;;) {
    const a = k.addr(ref, field);
    const v = Atomics.load(k.mem, a);
    if ((v & (RWSEM_READERS | RWSEM_WRITER)) === 0 && Atomics.compareExchange(k.mem, a, v, v - RWSEM_WAITER + RWSEM_WRITER) === v) break;
    k.block(ref, field, RWSEM_READERS | RWSEM_WRITER, WAIT_ZERO);
    yield label;
  }
  lockdep_acquired(k, cls);
}

export function* up_write<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  yield k.at(callStep('up_write', field));
  lockdep_release(k, lockClass(k, ref, field));
  Atomics.sub(k.mem, k.addr(ref, field), RWSEM_WRITER);
}

// ---- kref / refcount_t ----

export function kref_init<F extends string>(k: Kernel, ref: Ref<F>, field: F): void {
  Atomics.store(k.mem, k.addr(ref, field), 1);
}

export function* kref_get<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  yield k.at(callStep('kref_get', field));
  const old = Atomics.add(k.mem, k.addr(ref, field), 1);
  if (old <= 0) k.warn('refcount', `refcount_t: addition on 0; use-after-free in ${k.fn()}`, [`${field} was ${old}`]);
}

/** refcount_inc_not_zero: false once the count has dropped to zero. */
export function* refcount_inc_not_zero<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen<boolean> {
  yield k.at(callStep('refcount_inc_not_zero', field));
  const a = k.addr(ref, field);
  const v = Atomics.load(k.mem, a);
  if (v <= 0) return false;
  Atomics.store(k.mem, a, v + 1);
  return true;
}

/** Drop a reference; runs `release` when it was the last. Returns whether it released. */
export function* kref_put<F extends string>(k: Kernel, ref: Ref<F>, field: F, release: () => Gen): Gen<boolean> {
  yield k.at(callStep('kref_put', field));
  const a = k.addr(ref, field);
  const old = Atomics.load(k.mem, a);
  if (old <= 0) {
    k.warn('refcount', `refcount_t: underflow; use-after-free in ${k.fn()}`, [`${field} was ${old}`]);
    return false;
  }
  Atomics.store(k.mem, a, old - 1);
  if (old !== 1) return false;
  yield* release();
  return true;
}

// ---- completions and plain waits ----

export function* complete<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  yield k.at(callStep('complete', field));
  Atomics.add(k.mem, k.addr(ref, field), 1);
}

export function* wait_for_completion<F extends string>(k: Kernel, ref: Ref<F>, field: F): Gen {
  const label = k.at(callStep('wait_for_completion', field));
  yield label;
  while (Atomics.load(k.mem, k.addr(ref, field)) === 0) {
    k.block(ref, field, -1, WAIT_NONZERO);
    yield label;
  }
  Atomics.sub(k.mem, k.addr(ref, field), 1);
}

/** wait_event(cond) where cond is "this field is zero", e.g. until the last reference is gone. */
export function* wait_event_zero<F extends string>(k: Kernel, ref: Ref<F>, field: F, what: string): Gen {
  const label = k.at(callStep('wait_event', what));
  yield label;
  while (Atomics.load(k.mem, k.addr(ref, field)) !== 0) {
    k.block(ref, field, -1, WAIT_ZERO);
    yield label;
  }
}
