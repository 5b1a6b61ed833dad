// A plug-in target with a use-after-free between a lookup and a release. A table holds at most one
// session under a mutex; a session is reference-counted and freed with its last reference.
// `use` looks the session up under the lock but takes no reference before dropping the lock, so a
// `close` in between drops the last reference and frees the session that `use` then reads (KASAN:
// use-after-free). The fix: kref_get under the lock in `use`, and kref_put when done with it.
//
// The programs are drawn by the harness: 2-4 CPUs, each a few of the operations below.

import { defineStruct, defineTarget, ENOENT, EBUSY, kref_init, kref_put, mutex_lock, mutex_unlock, type Kernel, type Ref } from 'mdevfuzz';

const table = defineStruct('session_table', ['lock', 'session']);
const session = defineStruct('session', ['refcount', 'data']);
type Session = Ref<(typeof session.fields)[number]>;

const theTable = (k: Kernel) => k.nth(table, 0);

function newSession(k: Kernel, site: string): Session {
  const s = k.alloc(session, site);
  kref_init(k, s, 'refcount');
  k.set(s, 'data', 42);
  return s;
}

export default defineTarget({
  name: 'session-table',
  description: 'a table of one reference-counted session; use looks it up without taking a reference',
  // Every open allocates; a program has at most 16 operations.
  pools: [
    { def: table, capacity: 1 },
    { def: session, capacity: 20 },
  ],
  *setup(k) {
    const t = k.alloc(table, 'table_init');
    k.set(t, 'session', newSession(k, 'table_init'));
  },
  ops: {
    *open(k) {
      const t = theTable(k);
      yield* mutex_lock(k, t, 'lock');
      const busy = k.get(t, 'session') !== 0;
      if (!busy) k.set(t, 'session', newSession(k, 'session_open'));
      yield* mutex_unlock(k, t, 'lock');
      return busy ? -EBUSY : 0;
    },
    *use(k) {
      const t = theTable(k);
      yield* mutex_lock(k, t, 'lock');
      const s = k.ref(t, 'session', session); // the bug: no kref_get before the unlock
      yield* mutex_unlock(k, t, 'lock');
      if (s === 0) return -ENOENT;
      yield k.at('s->data');
      return k.get(s, 'data') === 42 ? 0 : -ENOENT;
    },
    *close(k) {
      const t = theTable(k);
      yield* mutex_lock(k, t, 'lock');
      const s = k.ref(t, 'session', session);
      k.set(t, 'session', 0);
      yield* mutex_unlock(k, t, 'lock');
      if (s === 0) return -ENOENT;
      yield* kref_put(k, s, 'refcount', function* () {
        k.free(s, 'session_release');
      });
      return 0;
    },
  },
});
