// The kernel's own rules in the model's primitives (issue 12): sysfs links and files as
// fs/sysfs/{symlink,file}.c and kernfs_add_one do them, the losing kernfs_remove_self caller, kobject
// release, module memory until free_module, and driver_detach over the driver's bound devices.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel, type Gen } from '../harness/kernel/kernel.js';
import {
  EEXIST,
  EFAULT,
  EINVAL,
  ENOENT,
  kernfs_create_root,
  kernfs_node,
  kernfs_path,
  kernfs_remove,
  kernfs_remove_self,
  sysfs_create_file_ns,
  sysfs_create_link,
  sysfs_write,
  type KernfsNode,
} from '../harness/kernel/kernfs.js';
import { kobject, kobject_create_and_add, kobject_del, kobject_put, type Kobject } from '../harness/kernel/kobject.js';
import { defineStruct, makeLayout } from '../harness/kernel/layout.js';
import { delete_module, load_module, module, module_put, module_static, module_static_data, try_module_get, type Module } from '../harness/kernel/module.js';
import { findTarget } from '../targets/index.js';
import { drain, miniTarget, oopsOf, op, prog, resolveCuts, rets, runWith, schedule, titles } from './fixtures/mini.js';

const obj = defineStruct('obj', ['sd', 'x']);
const layout = makeLayout([
  { def: obj, capacity: 8 },
  { def: kernfs_node, capacity: 16 },
  { def: kobject, capacity: 4 },
  { def: module, capacity: 4 },
]);

function bare(): Kernel {
  const k = new Kernel(layout, new SharedArrayBuffer(layout.words * 4), { ncpus: 2 });
  k.enter('test');
  return k;
}

/** An object with a directory at the sysfs root. */
function withDir(k: Kernel, name: string) {
  const o = k.alloc(obj, 'test');
  k.set(o, 'sd', drain(kernfs_create_root(k, name, 'test')));
  return o;
}

describe('sysfs_create_link (fs/sysfs/symlink.c 20-93, v5.0.1)', () => {
  test('a NULL kobject is the sysfs root: the link is made there, silently', () => {
    const k = bare();
    const target = withDir(k, 'devices/t');
    const ret = drain(sysfs_create_link(k, null, [target, 'sd'], 'uuid0'));
    assert.ok(ret > 0);
    assert.equal(kernfs_path(k, ret as KernfsNode), 'uuid0');
    assert.deepEqual(k.findings, []);
  });

  test('kobj->sd NULL is -EFAULT; a target without a directory is -ENOENT; neither WARNs', () => {
    const k = bare();
    const target = withDir(k, 'devices/t');
    const noDir = k.alloc(obj, 'test');
    assert.equal(drain(sysfs_create_link(k, [noDir, 'sd'], [target, 'sd'], 'l')), -EFAULT);
    const parent = withDir(k, 'devices/p');
    assert.equal(drain(sysfs_create_link(k, [parent, 'sd'], [noDir, 'sd'], 'l')), -ENOENT);
    assert.deepEqual(k.findings, []);
  });

  test('a directory being removed is -ENOENT from kernfs_add_one, with no WARN', () => {
    const k = bare();
    const target = withDir(k, 'devices/t');
    const parent = withDir(k, 'devices/p');
    drain(kernfs_remove(k, k.get(parent, 'sd') as KernfsNode, 'test'));
    assert.equal(drain(sysfs_create_link(k, [parent, 'sd'], [target, 'sd'], 'l')), -ENOENT);
    assert.deepEqual(k.findings, []);
  });

  test("a duplicate name is -EEXIST with sysfs_warn_dup's console line, which is no report", () => {
    const k = bare();
    const target = withDir(k, 'devices/t');
    const parent = withDir(k, 'devices/p');
    assert.ok(drain(sysfs_create_link(k, [parent, 'sd'], [target, 'sd'], 'l')) > 0);
    assert.equal(drain(sysfs_create_link(k, [parent, 'sd'], [target, 'sd'], 'l')), -EEXIST);
    assert.deepEqual(k.log, ["sysfs: cannot create duplicate filename '/devices/p/l'"]);
    assert.deepEqual(k.findings, []);
  });

  test('the directory of a freed kobject is read from freed memory: KASAN, in sysfs_create_link', () => {
    const k = bare();
    const target = withDir(k, 'devices/t');
    const dir = drain(kernfs_create_root(k, 'devices/type', 'test'));
    const devices = drain(kobject_create_and_add(k, 'devices', dir));
    drain(kobject_put(k, devices));
    const f = oopsOf(() => drain(sysfs_create_link(k, [devices, 'sd'], [target, 'sd'], 'uuid0')));
    assert.equal(f.title, 'KASAN: use-after-free Read in sysfs_create_link');
  });
});

describe('sysfs_create_file_ns (fs/sysfs/file.c 322-335)', () => {
  test('WARN_ON(!kobj->sd) is the only warning; a removed directory is a silent -ENOENT', () => {
    const k = bare();
    const gone = k.alloc(obj, 'test');
    assert.equal(drain(sysfs_create_file_ns(k, [gone, 'sd'], 'remove')), -EINVAL);
    assert.deepEqual(titles({ findings: k.findings } as never), ['WARNING in sysfs_create_file_ns']);
    const k2 = bare();
    const dying = withDir(k2, 'devices/d');
    drain(kernfs_remove(k2, k2.get(dying, 'sd') as KernfsNode, 'test'));
    assert.equal(drain(sysfs_create_file_ns(k2, [dying, 'sd'], 'remove')), -ENOENT);
    assert.deepEqual(k2.findings, []);
  });
});

describe('kobjects (lib/kobject.c 584-717)', () => {
  test('the last kobject_put deletes the directory (sd = NULL) and frees the kobject', () => {
    const k = bare();
    const dir = drain(kernfs_create_root(k, 'devices/type', 'test'));
    const devices = drain(kobject_create_and_add(k, 'devices', dir));
    const sd = k.get(devices, 'sd') as KernfsNode;
    drain(kobject_put(k, devices));
    assert.equal(k.isLive(devices), false, 'freed by dynamic_kobj_release');
    assert.equal(k.get(sd, 'deactivated'), 2, 'its directory is removed');
  });

  test('kobject_del of a kobject never added does nothing', () => {
    const k = bare();
    const never = k.alloc(kobject, 'test') as Kobject;
    drain(kobject_del(k, never));
    assert.deepEqual(k.findings, []);
    assert.equal(k.isLive(never), true);
  });
});

describe('module memory (kernel/module.c 1017-1029)', () => {
  test("static data stays mapped through exit() and faults (never KASAN) after free_module", () => {
    const k = bare();
    let data = 0 as ReturnType<typeof module_static<'sd' | 'x'>>;
    let mod = 0 as Module;
    drain(load_module(k, 'm', function* (m): Gen<number> {
      mod = m;
      data = module_static(k, obj, m, 'm:static');
      return 0;
    }));
    drain(delete_module(k, 'm', function* (): Gen {
      // Inside exit() the module's own data is still there.
      k.set(data, 'x', 1);
      assert.equal(module_static_data(k, obj, mod), data);
    }));
    const f = oopsOf(() => k.get(data, 'x'));
    assert.equal(f.title, 'BUG: unable to handle page fault in test');
    assert.equal(f.kind, 'unloaded-module');
  });

  test('try_module_get (module.c 1114-1130) pins a module in its init and refuses one that is going', () => {
    const k = bare();
    const got: boolean[] = [];
    drain(load_module(k, 'm', function* (m): Gen<number> {
      got.push(yield* try_module_get(k, m)); // coming: module_is_live is state != GOING (module.h 505-508)
      yield* module_put(k, m);
      return 0;
    }));
    drain(delete_module(k, 'm', function* (m): Gen {
      got.push(yield* try_module_get(k, m)); // going
    }));
    assert.deepEqual(got, [true, false]);
  });
});

// ---- kernfs_remove_self through the executor ----

const glob = defineStruct('glob', ['file']);
const FILE = 'devices/d/remove';

function* point(k: Kernel, what: string): Gen {
  yield k.at(what);
}

const kit = miniTarget({
  name: 'remove-self-kit',
  pools: [
    { def: glob, capacity: 1 },
    { def: kernfs_node, capacity: 4 },
  ],
  *setup(k) {
    const g = k.alloc(glob, 'setup');
    const dir = yield* kernfs_create_root(k, 'devices/d', 'setup');
    k.set(g, 'file', k.alloc(kernfs_node, 'setup'));
    k.set(k.get(g, 'file') as KernfsNode, 'parent', dir);
    k.set(k.get(g, 'file') as KernfsNode, 'path', k.intern(FILE));
  },
  ops: {
    *winner(k) {
      return yield* sysfs_write(k, FILE, function* (node) {
        const won = yield* kernfs_remove_self(k, node);
        yield* point(k, 'store_rest');
        return won ? 1 : 0;
      });
    },
    *loser(k) {
      return yield* sysfs_write(k, FILE, function* (node) {
        const won = yield* kernfs_remove_self(k, node);
        yield* point(k, 'after_remove_self');
        return won ? 1 : 0;
      });
    },
  },
});

describe('kernfs_remove_self (fs/kernfs/dir.c 1437-1486)', () => {
  test("the losing writer returns only after the winner's whole store has returned", () => {
    // Both writers hold their active reference; cpu0 wins the removal, cpu1 loses and waits; cpu0
    // is preempted right after its kernfs_remove_self returned, with the rest of its store to run.
    const program = prog(['winner'], ['loser']);
    const cuts = resolveCuts(kit, program, [
      { cpu: 0, to: 1, at: 'winner:kernfs_remove_self' },
      { cpu: 1, to: 0, at: 'loser:kernfs_remove_self' },
      { cpu: 0, to: 1, at: 'winner:store_rest' },
    ]);
    const { result } = runWith(kit, program, schedule(cuts));
    assert.deepEqual(result.findings, []);
    assert.deepEqual(rets(result, 2), [[1], [0]]);
    const trace = result.trace!;
    const done = trace.findIndex(([c, l]) => c === 0 && l === 'do_exit');
    const after = trace.findIndex(([c, l]) => c === 1 && l === 'loser:after_remove_self');
    assert.ok(done >= 0 && after > done, JSON.stringify(trace));
  });
});

describe('driver_detach walks the driver\'s own bound devices (dd.c 1034-1057)', () => {
  test('rmmod mlx5_sf unbinds a device that device_del already took off the bus, and the driver struct is not freed', () => {
    const target = findTarget('mdev-v5.2')!;
    // mlx5_sf registered before vfio_mdev: the bus has no .match, so mlx5_sf binds the sub-function.
    const program = {
      start: 'mlx5_sf-first',
      cpus: [[op('create', { type: 'mlx5_core-sf', uuid: 0 }), op('remove', { uuid: 0 })], [op('rmmod', { module: 'mlx5_sf' })]],
    };
    // remove(0) is stopped inside device_del right after klist_del: off the bus, still bound.
    const cuts = resolveCuts(target, program, [
      { cpu: 1, to: 0, at: null },
      { cpu: 0, to: 1, at: 'device_del:klist_del' },
    ]);
    const { result } = runWith(target, program, schedule(cuts));
    assert.deepEqual(titles(result), []);
    assert.deepEqual(rets(result, 2), [[0, 0], [0]]);
    // The unbind ran on cpu1, in mlx5_sf's driver_detach, not later in cpu0's device_del.
    const unbind = result.events!.find((e) => e.e === 'enter' && e.fn === 'mlx5_sf_remove');
    assert.equal(unbind?.cpu, 1);
  });
});
