// The kernel rules of targets/mdev/v6 (6.1-rc7): module static data valid until free_module and a
// page fault after, and driver_detach over the driver's own bound devices. sysfs_create_link is the
// shared one (test/fidelity-rules.test.ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel, type Gen } from '../harness/kernel/kernel.js';
import { list_new } from '../harness/kernel/list.js';
import { delete_module, find_module, load_module, module_static, type Module } from '../harness/kernel/module.js';
import { register_driver_code, type BusType } from '../targets/mdev/legacy/base.js';
import { globals, mdev_device, type DeviceDriver, type MdevDevice } from '../targets/mdev/legacy/structs.js';
import { driver_register, driver_unregister } from '../targets/mdev/v6/driver_core.js';
import { device_driver_v6, device_v6, V6_LAYOUT, type DeviceV6, type DriverV6 } from '../targets/mdev/v6/structs.js';
import { drain, op, oopsOf, rets, runWith, titles } from './fixtures/mini.js';
import { V6_EXPECTATIONS } from '../targets/mdev/v6/expectations.js';
import v6 from '../targets/mdev/v6/index.js';
import { replayExecution } from '../harness/engine/runner.js';

function v6Kernel(): Kernel {
  const k = new Kernel(V6_LAYOUT, new SharedArrayBuffer(V6_LAYOUT.words * 4), { ncpus: 2 });
  const g = k.alloc(globals, 'test:globals');
  k.set(g, 'bus_drivers', list_new(k, 'test:bus_drivers'));
  k.set(g, 'mdev_list', list_new(k, 'test:mdev_list'));
  return k;
}

describe('v6 module memory (module/main.c 753-765)', () => {
  test('static data stays valid through exit and faults only after free_module', () => {
    const k = v6Kernel();
    let dev = 0 as DeviceV6;
    let duringExit = 'not run';
    drain(
      load_module(k, 'vendor', function* (mod: Module): Gen<number> {
        dev = module_static(k, device_v6, mod, 'test:static');
        return 0;
      }),
    );
    assert.equal(find_module(k, 'vendor') !== 0, true);
    drain(
      delete_module(k, 'vendor', function* (): Gen {
        k.get(dev, 'refcount');
        duringExit = 'ok';
      }),
    );
    assert.equal(duringExit, 'ok');
    k.enter('late_user');
    const f = oopsOf(() => k.get(dev, 'refcount'));
    assert.equal(f.title, 'BUG: unable to handle page fault in late_user', 'module memory is not a slab object: no KASAN');
  });
});

describe('v6 driver_detach (dd.c 1318-1341)', () => {
  test('unbinds the driver\'s own devices, also one already off the bus, and frees nothing', () => {
    const k = v6Kernel();
    const removed: number[] = [];
    const bus: BusType = {
      driver_core: 'v6.1-rc7',
      probe: function* () {
        return 0;
      },
      remove: function* (_k: Kernel, mdev: MdevDevice) {
        removed.push(mdev);
      },
      release: function* (kk: Kernel, mdev: MdevDevice) {
        kk.free(mdev, 'test:release');
      },
    };
    const code = register_driver_code({ name: 'v6-test', match: () => false, probe: bus.probe as never, remove: bus.remove as never });
    let d = 0 as DriverV6;
    let other = 0 as DriverV6;
    drain(
      load_module(k, 'vendor', function* (mod: Module): Gen<number> {
        d = module_static(k, device_driver_v6, mod, 'test:static') as DriverV6;
        other = module_static(k, device_driver_v6, mod, 'test:static') as DriverV6;
        return yield* driver_register(k, bus, d, code, mod);
      }),
    );
    const mine = k.alloc(mdev_device, 'test:mdev');
    const gone = k.alloc(mdev_device, 'test:mdev');
    const theirs = k.alloc(mdev_device, 'test:mdev');
    for (const m of [mine, gone, theirs]) k.set(m, 'dev_refcount', 1);
    k.set(mine, 'dev_on_bus', 1);
    k.set(mine, 'dev_driver', d);
    // device_del has taken it off the bus klist but not yet unbound it
    k.set(gone, 'dev_driver', d);
    k.set(theirs, 'dev_on_bus', 1);
    k.set(theirs, 'dev_driver', other);
    drain(driver_unregister(k, bus, d));
    assert.deepEqual(removed.sort(), [mine, gone].sort());
    assert.equal(k.get(mine, 'dev_driver'), 0);
    assert.equal(k.get(gone, 'dev_driver'), 0);
    assert.equal(k.get(theirs, 'dev_driver'), other as unknown as DeviceDriver);
    assert.equal(k.isLive(d), true);
    assert.equal(k.get(mine, 'dev_refcount'), 1, 'the reference driver_detach took is put back');
  });
});

describe('mdev-v6 target', () => {
  test('names its release, and every expectation cites lines of it', () => {
    assert.equal(v6.kernelVersion, 'v6.1-rc7');
    assert.ok(V6_EXPECTATIONS.length > 0);
    for (const e of V6_EXPECTATIONS) assert.match(e.reason, /\b[a-z_]+\.[ch] \d+/, e.title);
    for (const p of ['P1', 'P2', 'P3', 'P4', 'P5']) assert.equal(V6_EXPECTATIONS.some((e) => e.problem === p), false, p);
  });
});

describe('mdev-v6 start states and the compat class (mdev_core.c 75-79, drivers/base/class.c 497-569)', () => {
  const create = op('create', { type: 'mtty-1', uuid: 0 });

  test('no-vendors starts with no parent registered, boot with all three', () => {
    assert.deepEqual(v6.startStates, ['boot', 'no-vendors']);
    const fromBoot = runWith(v6, { cpus: [[create]] }).result;
    const bare = runWith(v6, { start: 'no-vendors', cpus: [[create]] }).result;
    assert.ok(rets(fromBoot, 1)[0]![0]! >= 0, 'mtty-1 exists at boot');
    assert.deepEqual(rets(bare, 1), [[-2]], 'no mtty-1/create before insmod mtty (-ENOENT)');
    const loaded = runWith(v6, { start: 'no-vendors', cpus: [[op('insmod', { module: 'mtty' }), create]] }).result;
    assert.equal(rets(loaded, 1)[0]![0], 0);
    assert.ok(rets(loaded, 1)[0]![1]! >= 0);
    assert.deepEqual(titles(loaded), []);
  });

  test('first registrations one after the other share one class and unload cleanly', () => {
    const seq = [op('insmod', { module: 'vfio_ap' }), op('insmod', { module: 'mtty' }), op('rmmod', { module: 'mtty' }), op('rmmod', { module: 'vfio_ap' })];
    const { result } = runWith(v6, { start: 'no-vendors', cpus: [seq] });
    assert.deepEqual(rets(result, 1), [[0, 0, 0, 0]]);
    assert.deepEqual(titles(result), []);
  });

  test('racing first registrations: the loser stores NULL over the winner\'s class; the winner\'s unregistration dereferences it', () => {
    // vfio_ap is preempted inside class_compat_register; mtty reads the class NULL too, creates
    // /sys/class/mdev_bus and registers; vfio_ap's kobject_add then fails with -EEXIST.
    const program = { start: 'no-vendors', cpus: [[op('insmod', { module: 'vfio_ap' })], [op('insmod', { module: 'mtty' })]] };
    const { result } = runWith(v6, program, [{ cpu: 0, step: 10, to: 1 }]);
    assert.deepEqual(rets(result, 2), [[-12], [0]], 'vfio_ap fails with -ENOMEM (mdev_core.c 77-78), mtty loads');
    assert.deepEqual(titles(result), ['BUG: kernel NULL pointer dereference in class_compat_remove_link']);
    assert.match(result.findings[0]!.detail.join('\n'), /mdev_unregister_parent\s+mtty_dev_exit/, 'at rmmod mtty (mdev_core.c 107)');
  });
});

describe('mdev-v6 parent_create_sysfs_files returns 0 from out_err (mdev_sysfs.c 233-236)', () => {
  const insmod = { start: 'no-vendors', cpus: [[op('insmod', { module: 'mtty' }), op('create', { type: 'mtty-1', uuid: 0 }), op('create', { type: 'mtty-2', uuid: 1 })]] };

  test('a failed first type: the load succeeds with no type, and the unload deletes, puts and unregisters twice', () => {
    // kmalloc 1-2: the compat class; 3: mtty-1's name; 4: mtty-1's devices kobject (186-190)
    const { result } = replayExecution(v6, insmod, [{ call: 'kmalloc', nth: 4 }], [], { events: true });
    assert.deepEqual(rets(result, 1), [[0, -2, -2]], 'insmod succeeds; neither type has a "create"');
    assert.deepEqual(titles(result), [
      'WARNING in kernfs_remove_by_name_ns',
      'refcount_t: underflow; use-after-free in kobject_put',
      'WARNING in kobject_put',
      'KASAN: use-after-free Read in kobject_del',
    ]);
    assert.match(result.findings[3]!.detail.join('\n'), /kset_unregister/);
  });

  test('a failed second type: the first is removed, and the unload puts its freed devices kobject', () => {
    // kobject_add 1: the compat class; 2: mtty's device; 3, 4: the types' devices kobjects
    const { result } = replayExecution(v6, insmod, [{ call: 'kobject_add', nth: 4 }], [], { events: true });
    assert.deepEqual(rets(result, 1), [[0, -2, -2]], 'mtty-1 was removed again by out_err');
    assert.deepEqual(titles(result), ['KASAN: use-after-free Read in kobject_put']);
  });

  test('no fault: the kset\'s count balances and the unload is clean', () => {
    const { result } = replayExecution(v6, insmod, [], [], { events: true });
    assert.equal(rets(result, 1)[0]![0], 0);
    assert.ok(rets(result, 1)[0]![1]! >= 0 && rets(result, 1)[0]![2]! >= 0);
    assert.deepEqual(titles(result), []);
  });
});
