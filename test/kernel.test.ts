// The model kernel's primitives (harness/kernel/*): slots and KASAN-style checks on a bare Kernel,
// and the blocking primitives driven through the real inline executor under explicit schedules.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel, type Gen } from '../harness/kernel/kernel.js';
import {
  EBUSY,
  ENOENT,
  kernfs_create,
  kernfs_create_root,
  kernfs_find,
  kernfs_remove,
  kernfs_remove_self,
  kernfs_node,
  sysfs_write,
  type KernfsNode,
} from '../harness/kernel/kernfs.js';
import { defineStruct, makeLayout, POISON, type Ref } from '../harness/kernel/layout.js';
import { delete_module, find_module, load_module, module, module_put, module_text, try_module_get, MODULE_STATE_GONE } from '../harness/kernel/module.js';
import { down_read, down_read_trylock, down_write, kref_init, kref_put, mutex_lock, mutex_unlock, up_read, up_write } from '../harness/kernel/sync.js';
import { drain, miniTarget, oopsOf, prog, rets, runWith, titles } from './fixtures/mini.js';

// ---- a bare kernel over a small layout ----

const thing = defineStruct('thing', ['a', 'b', 'ref']);
const small = makeLayout([
  { def: thing, capacity: 4 },
  { def: module, capacity: 4 },
]);

function bareKernel(): Kernel {
  return new Kernel(small, new SharedArrayBuffer(small.words * 4), { ncpus: 2 });
}

/** Run `body` as if inside kernel function `fn` on `cpu`, at execution step `step`. */
function inside<T>(k: Kernel, fn: string, body: () => T, cpu = 0, step = 0): T {
  k.cpu = cpu;
  k.step = step;
  k.enter(fn);
  try {
    return body();
  } finally {
    k.stacks[cpu]!.pop();
  }
}

describe('slots', () => {
  test('alloc gives a live, zeroed slot; set and get round-trip per field', () => {
    const k = bareKernel();
    const x = k.alloc(thing, 'test:alloc');
    const y = k.alloc(thing, 'test:alloc');
    assert.notEqual(x, 0);
    assert.notEqual(x, y);
    assert.ok(k.isLive(x));
    assert.equal(k.structOf(x)?.name, 'thing');
    assert.equal(k.get(x, 'a'), 0);
    k.set(x, 'a', 41);
    k.set(x, 'b', -7);
    k.set(y, 'a', 5);
    assert.equal(k.get(x, 'a'), 41);
    assert.equal(k.get(x, 'b'), -7);
    assert.equal(k.get(y, 'a'), 5);
    assert.deepEqual(k.live(thing), [x, y]);
  });

  test('free poisons the slot and takes it out of the live set; slots are not reused', () => {
    const k = bareKernel();
    const x = k.alloc(thing, 'test:alloc');
    k.set(x, 'a', 1);
    k.free(x, 'test:free');
    assert.equal(k.isLive(x), false);
    assert.deepEqual(k.live(thing), []);
    const z = k.alloc(thing, 'test:alloc');
    assert.notEqual(z, x);
    // The freed slot's fields hold the slab poison.
    const p = small.byName.get('thing')!;
    assert.equal(k.mem[p.base + 6], POISON);
  });

  test('reading a freed slot is KASAN use-after-free with its allocation and free sites', () => {
    const k = bareKernel();
    const x = inside(k, 'thing_new', () => k.alloc(thing, 'thing_new:kzalloc'), 0, 3);
    inside(k, 'thing_del', () => k.free(x, 'thing_del:kfree'), 1, 9);
    const f = oopsOf(() => inside(k, 'thing_show', () => k.get(x, 'a')));
    assert.equal(f.kind, 'use-after-free');
    assert.equal(f.title, 'KASAN: use-after-free Read in thing_show');
    assert.ok(f.detail.includes('The buggy address belongs to an object of type thing'), f.detail.join('\n'));
    assert.ok(f.detail.includes('Allocated at thing_new:kzalloc (cpu0 step 3)'), f.detail.join('\n'));
    assert.ok(f.detail.includes('Freed at thing_del:kfree (cpu1 step 9)'), f.detail.join('\n'));
    assert.deepEqual(k.findings, [f]);
  });

  test('writing a freed slot is a use-after-free Write', () => {
    const k = bareKernel();
    const x = k.alloc(thing, 'a');
    k.free(x, 'b');
    const f = oopsOf(() => inside(k, 'thing_store', () => k.set(x, 'b', 1)));
    assert.equal(f.kind, 'use-after-free');
    assert.equal(f.title, 'KASAN: use-after-free Write in thing_store');
  });

  test('a NULL reference read is a NULL pointer dereference', () => {
    const k = bareKernel();
    const f = oopsOf(() => inside(k, 'thing_open', () => k.get(0 as Ref<'a'>, 'a')));
    assert.equal(f.kind, 'null-deref');
    assert.equal(f.title, 'BUG: kernel NULL pointer dereference in thing_open');
  });

  test('a second free is a double-free report', () => {
    const k = bareKernel();
    const x = k.alloc(thing, 'thing_new:kzalloc');
    inside(k, 'thing_put', () => k.free(x, 'thing_put:kfree'));
    const f = oopsOf(() => inside(k, 'thing_put', () => k.free(x, 'thing_put:kfree')));
    assert.equal(f.kind, 'use-after-free');
    assert.equal(f.title, 'KASAN: double-free or invalid-free in thing_put');
    assert.ok(f.detail.some((l) => l.startsWith('Freed at thing_put:kfree')), f.detail.join('\n'));
  });

  test('kref_put releases on the last reference; one more put is a refcount underflow warning', () => {
    const k = bareKernel();
    const x = k.alloc(thing, 'a');
    kref_init(k, x, 'ref');
    let released = 0;
    const release = function* (): Gen {
      released++;
    };
    k.enter('thing_put');
    assert.equal(drain(kref_put(k, x, 'ref', release)), true);
    assert.equal(released, 1);
    assert.equal(k.findings.length, 0);
    // A warning, not an oops: the call returns.
    assert.equal(drain(kref_put(k, x, 'ref', release)), false);
    assert.equal(released, 1);
    assert.equal(k.findings.length, 1);
    assert.equal(k.findings[0]!.kind, 'refcount');
    assert.equal(k.findings[0]!.title, 'refcount_t: underflow; use-after-free in thing_put');
  });
});

describe('modules', () => {
  function* noInit(): Gen<number> {
    yield 'vend_init';
    return 0;
  }
  function* noExit(): Gen {
    yield 'vend_exit';
  }

  test('module_text on a loaded module is fine, on an unloaded one a page fault', () => {
    const k = bareKernel();
    assert.equal(drain(load_module(k, 'vend', noInit)), 0);
    const mod = find_module(k, 'vend');
    assert.notEqual(mod, 0);
    inside(k, 'core_call', () => module_text(k, mod, 'ops->create'));
    assert.equal(k.findings.length, 0);
    assert.equal(drain(delete_module(k, 'vend', noExit)), 0);
    assert.equal(k.get(mod, 'state'), MODULE_STATE_GONE);
    assert.equal(find_module(k, 'vend'), 0);
    const f = oopsOf(() => inside(k, 'core_call', () => module_text(k, mod, 'ops->create')));
    assert.equal(f.kind, 'unloaded-module');
    assert.equal(f.title, 'BUG: unable to handle page fault in core_call');
    assert.ok(f.detail[0]!.includes('module vend'), f.detail[0]);
  });

  test('try_module_get pins a module: rmmod is refused until module_put', () => {
    const k = bareKernel();
    drain(load_module(k, 'vend', noInit));
    const mod = find_module(k, 'vend');
    assert.equal(drain(try_module_get(k, mod)), true);
    assert.equal(drain(delete_module(k, 'vend', noExit)), -EBUSY);
    drain(module_put(k, mod));
    assert.equal(drain(delete_module(k, 'vend', noExit)), 0);
    assert.equal(drain(try_module_get(k, mod)), false, 'an unloaded module cannot be pinned');
  });
});

// ---- blocking primitives through the inline executor ----

const globals = defineStruct('globals', ['a', 'b', 'sem', 'dir', 'file']);
const g = (k: Kernel) => k.nth(globals, 0);
const FILE = 'devices/d/store';

/** The kernel function's label at a point, as the primitives make them. */
function* point(k: Kernel, what: string): Gen {
  yield k.at(what);
}

const kit = miniTarget({
  name: 'kernel-kit',
  pools: [
    { def: globals, capacity: 1 },
    { def: kernfs_node, capacity: 8 },
  ],
  *setup(k) {
    const gl = k.alloc(globals, 'setup');
    const dir = yield* kernfs_create_root(k, 'devices/d', 'setup');
    k.set(gl, 'dir', dir);
    k.set(gl, 'file', yield* kernfs_create(k, dir, 'store', 'setup'));
  },
  ops: {
    *hold(k) {
      yield* mutex_lock(k, g(k), 'a');
      yield* point(k, 'critical');
      yield* point(k, 'critical');
      yield* mutex_unlock(k, g(k), 'a');
      return 0;
    },
    *take(k) {
      yield* mutex_lock(k, g(k), 'a');
      yield* point(k, 'got');
      yield* mutex_unlock(k, g(k), 'a');
      return 0;
    },
    *reader(k) {
      yield* down_read(k, g(k), 'sem');
      yield* point(k, 'reading');
      yield* up_read(k, g(k), 'sem');
      return 0;
    },
    *writer(k) {
      yield* down_write(k, g(k), 'sem');
      yield* point(k, 'writing');
      yield* up_write(k, g(k), 'sem');
      return 0;
    },
    *trylock(k) {
      const ok = yield* down_read_trylock(k, g(k), 'sem', 'read');
      if (ok) yield* up_read(k, g(k), 'sem');
      return ok ? 1 : 0;
    },
    *ab(k) {
      yield* mutex_lock(k, g(k), 'a');
      yield* mutex_lock(k, g(k), 'b');
      yield* mutex_unlock(k, g(k), 'b');
      yield* mutex_unlock(k, g(k), 'a');
      return 0;
    },
    *ba(k) {
      yield* mutex_lock(k, g(k), 'b');
      yield* mutex_lock(k, g(k), 'a');
      yield* mutex_unlock(k, g(k), 'a');
      yield* mutex_unlock(k, g(k), 'b');
      return 0;
    },
    *write(k) {
      return yield* sysfs_write(k, FILE, function* () {
        yield* point(k, 'store_begin');
        yield* point(k, 'store_end');
        return 7;
      });
    },
    *unlink(k) {
      yield* kernfs_remove(k, kernfs_find(k, FILE), 'device_remove_file');
      return 0;
    },
    *remove_self(k) {
      return yield* sysfs_write(k, FILE, function* (node) {
        return (yield* kernfs_remove_self(k, node)) ? 1 : 0;
      });
    },
  },
});

function fileNode(k: Kernel): KernfsNode {
  return k.get(g(k), 'file') as KernfsNode;
}

describe('mutex', () => {
  test('a second CPU blocks on a held mutex until the owner unlocks', () => {
    // cpu0 takes the lock and is preempted inside its critical section.
    const { result, kernel } = runWith(kit, prog(['hold'], ['take']), [{ cpu: 0, step: 2, to: 1 }]);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(result.trace, [
      [0, 'hold:mutex_lock(a)'],
      [0, 'hold:critical'],
      [1, 'take:mutex_lock(a)'],
      [1, 'take:mutex_lock(a)'], // tried, blocked
      [0, 'hold:critical'],
      [0, 'hold:mutex_unlock(a)'],
      [0, 'do_exit'],
      [1, 'take:got'], // only after the unlock
      [1, 'take:mutex_unlock(a)'],
      [1, 'do_exit'],
    ]);
    assert.equal(kernel.get(g(kernel), 'a'), 0, 'the lock word is free at the end');
  });

  test('preempted at mutex_lock before taking it, the first CPU is the one that waits', () => {
    // cpu1 takes the lock while cpu0 is stopped before its acquisition, then cpu0 runs and tries.
    const schedule = [
      { cpu: 0, step: 1, to: 1 },
      { cpu: 1, step: 2, to: 0 },
    ];
    const { result } = runWith(kit, prog(['hold'], ['take']), schedule);
    assert.deepEqual(result.findings, []);
    const order = result.trace!.map(([c, l]) => `${c}:${l}`);
    assert.equal(order.filter((l) => l === '0:hold:mutex_lock(a)').length, 2, order.join('\n'));
    assert.ok(order.indexOf('0:hold:critical') > order.indexOf('1:take:mutex_unlock(a)'), order.join('\n'));
  });
});

describe('rw_semaphore', () => {
  const tryResult = (program: ReturnType<typeof prog>, schedule: { cpu: number; step: number; to: number }[]): number => {
    const { result } = runWith(kit, program, schedule);
    assert.deepEqual(result.findings, []);
    const r = rets(result, program.cpus.length);
    const cpu = program.cpus.findIndex((ops) => ops[0]?.op === 'trylock');
    assert.equal(r[cpu]!.length, 1, 'the trylock ran');
    return r[cpu]![0]!;
  };

  test('down_read_trylock succeeds on a free semaphore and beside other readers', () => {
    assert.equal(tryResult(prog(['trylock']), []), 1);
    // cpu0 holds it for reading (stopped at 'reading'), then cpu1 tries.
    assert.equal(tryResult(prog(['reader'], ['trylock']), [{ cpu: 0, step: 2, to: 1 }]), 1);
  });

  test('down_read_trylock fails while a writer holds the semaphore', () => {
    assert.equal(tryResult(prog(['writer'], ['trylock']), [{ cpu: 0, step: 2, to: 1 }]), 0);
  });

  test('down_read_trylock fails while a writer waits, even though only readers hold it', () => {
    // cpu0 reads; cpu1 queues as a writer and blocks; cpu2 then tries for reading.
    const schedule = [{ cpu: 0, step: 2, to: 1 }];
    const { result } = runWith(kit, prog(['reader'], ['writer'], ['trylock']), schedule);
    const trace = result.trace!;
    const writerBlocked = trace.filter(([c, l]) => c === 1 && l === 'writer:down_write(sem)').length;
    assert.equal(writerBlocked, 2, `the writer tried and waited: ${JSON.stringify(trace)}`);
    assert.equal(tryResult(prog(['reader'], ['writer'], ['trylock']), schedule), 0);
    // The same without the waiting writer succeeds.
    assert.equal(tryResult(prog(['reader'], [], ['trylock']), [{ cpu: 0, step: 2, to: 2 }]), 1);
  });

  test('down_read waits for a writer, and the writer waits for the reader', () => {
    const { result } = runWith(kit, prog(['writer'], ['reader']), [{ cpu: 0, step: 2, to: 1 }]);
    assert.deepEqual(result.findings, []);
    const order = result.trace!.map(([c, l]) => `${c}:${l}`);
    assert.ok(order.indexOf('1:reader:reading') > order.indexOf('0:writer:up_write(sem)'), order.join('\n'));
  });
});

describe('kernfs', () => {
  test('kernfs_remove drains a store in flight: the remover waits until the writer returns', () => {
    // cpu0 is inside the store (at store_begin) when cpu1 removes the file; while cpu1 waits,
    // cpu2 tries to write the deactivated file.
    const { result, kernel } = runWith(kit, prog(['write'], ['unlink'], ['write']), [{ cpu: 0, step: 2, to: 1 }]);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(
      result.trace!.map(([c, l]) => `${c}:${l}`),
      [
        '0:sysfs_write:store',
        '0:write:store_begin',
        '1:unlink:device_remove_file',
        '1:unlink:device_remove_file', // deactivated the file, now waits for the writer
        '2:sysfs_write:store',
        '2:do_exit',
        '0:write:store_end',
        '0:do_exit', // the store returned and dropped its active reference...
        '1:do_exit', // ...and only then does the removal finish
      ],
    );
    const returned = result.events!.flatMap((e) => (e.e === 'ret' ? [`${e.cpu}:${e.ret}`] : []));
    // The late writer finds nothing; the store completes with its own value; then the removal returns.
    assert.deepEqual(returned, [`2:${-ENOENT}`, '0:7', '1:0']);
    const node = fileNode(kernel);
    assert.equal(kernel.get(node, 'deactivated'), 2, 'removed');
    assert.equal(kernel.get(node, 'active'), 0);
  });

  test('kernfs_remove_self: of two concurrent writers only the first wins, and neither hangs', () => {
    // Both writers hold an active reference to "remove" before either breaks its own.
    const schedule = [
      { cpu: 0, step: 2, to: 1 },
      { cpu: 1, step: 2, to: 0 },
    ];
    const { result, kernel } = runWith(kit, prog(['remove_self'], ['remove_self']), schedule);
    assert.deepEqual(result.findings, [], 'no hung task');
    const r = rets(result, 2);
    assert.deepEqual(r, [[1], [0]], 'cpu0 removed the file; cpu1 did not');
    // cpu1 really was in flight: it entered its store before cpu0 removed the file.
    assert.ok(result.trace!.some(([c, l]) => c === 1 && l === 'remove_self:kernfs_remove_self'));
    const node = fileNode(kernel);
    assert.equal(kernel.get(node, 'deactivated'), 2);
    assert.equal(kernel.get(node, 'active'), 0);
  });

  test('kernfs_remove_self: the writer that gets there first wins, whichever CPU it is', () => {
    // cpu0 holds its active reference but cpu1 reaches the removal first.
    const { result } = runWith(kit, prog(['remove_self'], ['remove_self']), [{ cpu: 0, step: 2, to: 1 }]);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(rets(result, 2), [[0], [1]]);
  });
});

describe('lockdep', () => {
  test('A then B on one CPU and B then A on another is a circular locking dependency', () => {
    // No overlap is needed: the orders alone are the report, and both CPUs run to the end.
    const { result } = runWith(kit, prog(['ab'], ['ba']));
    assert.deepEqual(titles(result), ['WARNING: possible circular locking dependency detected in ba']);
    const f = result.findings[0]!;
    assert.equal(f.kind, 'lockdep');
    assert.equal(f.cpu, 1);
    assert.ok(f.detail.includes('cpu1 takes a while holding b'), f.detail.join('\n'));
    assert.deepEqual(rets(result, 2), [[0], [0]]);
  });

  test('the same order on every CPU is silent', () => {
    const { result } = runWith(kit, prog(['ab'], ['ab', 'ab']), [{ cpu: 0, step: 2, to: 1 }]);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(rets(result, 2), [[0], [0, 0]]);
  });
});

describe('findBy', () => {
  test('finds what find() finds, with the same reads in the same order', () => {
    const cases: [field: 'a' | 'b', value: number, pred?: (k: Kernel, r: Ref) => boolean][] = [
      ['a', 7],
      ['a', 7, (k, r) => k.get(r, 'b') === 2],
      ['a', 8],
      ['b', 2, (k, r) => k.get(r, 'a') !== 7],
    ];
    for (const [field, value, pred] of cases) {
      const runs = [false, true].map((fast) => {
        const k = new Kernel(small, new SharedArrayBuffer(small.words * 4), { ncpus: 2, accesses: true });
        const things = [1, 2, 3, 4].map(() => k.alloc(thing, 'test'));
        things.forEach((t, i) => {
          k.set(t, 'a', i < 3 ? 7 : 8);
          k.set(t, 'b', i);
        });
        k.free(things[1]!, 'test');
        k.access!.step(0, 0);
        const found = fast
          ? k.findBy(thing, field, value, pred && ((r) => pred(k, r)))
          : k.find(thing, (r) => k.get(r, field) === value && (pred === undefined || pred(k, r)));
        return { found, reads: k.access!.of(0) };
      });
      assert.deepEqual(runs[1], runs[0], `${field} = ${value}`);
      assert.ok(runs[0]!.reads.length > 1, 'the search read something');
    }
  });
});
