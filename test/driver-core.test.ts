// The driver core's attach path in each release the targets model (targets/mdev/legacy/base.ts):
// which devices a driver is probed on, and what device_driver_attach returns. The kernel lines are
// those the model cites: driver_probe_device (dd.c 649-676 v5.0.1), device_driver_attach (dd.c
// 933-947 v5.2.1, 1100-1115 v6.1-rc7), __driver_probe_device (757-764 v6.1-rc7).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel } from '../harness/kernel/kernel.js';
import { EBUSY, ENODEV, ENOMEM, kernfs_create_root, type KernfsNode } from '../harness/kernel/kernfs.js';
import { list_new } from '../harness/kernel/list.js';
import { device_driver_attach, driver_attach, driver_code_id, type BusType, type DriverCore } from '../targets/mdev/legacy/base.js';
import { device_driver, globals, LEGACY_LAYOUT, mdev_device, type DeviceDriver, type MdevDevice } from '../targets/mdev/legacy/structs.js';
import { drain } from './fixtures/mini.js';
import type { Fault } from '../harness/types.js';
import type { AttrGroup } from '../targets/mdev/legacy/ops.js';

/** A device in one of the states the attach path tells apart. */
type State = 'live' | 'dead' | 'unregistered' | 'bound';

function setup(driver_core: DriverCore, opts: { faults?: Fault[]; dev_groups?: AttrGroup } = {}) {
  const k = new Kernel(LEGACY_LAYOUT, new SharedArrayBuffer(LEGACY_LAYOUT.words * 4), { ncpus: 1, faults: opts.faults });
  const g = k.alloc(globals, 'test:globals');
  k.set(g, 'bus_drivers', list_new(k, 'test:bus_drivers'));
  const probed: MdevDevice[] = [];
  const removed: MdevDevice[] = [];
  const bus: BusType = {
    driver_core,
    probe: function* (_k, mdev) {
      probed.push(mdev);
      return 0;
    },
    remove: function* (_k, mdev) {
      removed.push(mdev);
    },
    release: function* () {},
  };
  const drv = k.alloc(device_driver, 'test:driver');
  const name = opts.dev_groups ? 'driver-core-test-groups' : 'driver-core-test';
  k.set(drv, 'code', driver_code_id({ name, probe: bus.probe as never, remove: bus.remove as never, dev_groups: opts.dev_groups }));
  const other = k.alloc(device_driver, 'test:driver');
  /** A device on the bus, its sysfs directory present unless unregistered (kobject_del cleared it). */
  const device = (state: State): MdevDevice => {
    const m = k.alloc(mdev_device, 'test:mdev');
    k.set(m, 'dev_refcount', 1);
    k.set(m, 'dev_on_bus', 1);
    k.set(m, 'dev_kn', state === 'unregistered' ? 0 : 1);
    if (state === 'dead') k.set(m, 'dev_dead', 1);
    if (state === 'bound') k.set(m, 'dev_driver', other);
    return m;
  };
  return { k, bus, drv, device, probed, removed };
}

const states: State[] = ['live', 'dead', 'unregistered', 'bound'];

describe('driver_attach probes the devices its release allows', () => {
  const probedIn: Record<DriverCore, State[]> = {
    // v5.0.1 has no dev->p->dead: a device whose device_del has begun is probed while still registered.
    'v5.0.1': ['live', 'dead'],
    'v5.2.1': ['live'],
    'v6.1-rc7': ['live'],
  };
  for (const release of Object.keys(probedIn) as DriverCore[]) {
    test(`${release}: ${probedIn[release].join(', ')}`, () => {
      const { k, bus, drv, device, probed } = setup(release);
      if (release === 'v6.1-rc7') bus.match = () => true; // v6's mdev_match never matches; the driver core would
      const devs = states.map(device);
      drain(driver_attach(k, bus, drv));
      assert.deepEqual(
        probed.map((m) => states[devs.indexOf(m)]),
        probedIn[release],
      );
      for (const m of devs) assert.equal(k.get(m, 'dev_refcount'), 1, 'the walk puts back the reference it took');
      assert.equal(k.get(devs[0]!, 'dev_driver'), drv);
    });
  }
});

describe('device_driver_attach (absent in v5.0.1) returns what its release returns', () => {
  const returns: Record<'v5.2.1' | 'v6.1-rc7', Record<State, number>> = {
    // v5.2.1 skips a dead or bound device with 0 (dd.c 943); driver_probe_device refuses an unregistered one.
    'v5.2.1': { live: 0, dead: 0, unregistered: -ENODEV, bound: 0 },
    'v6.1-rc7': { live: 0, dead: -ENODEV, unregistered: -ENODEV, bound: -EBUSY },
  };
  for (const release of ['v5.2.1', 'v6.1-rc7'] as const) {
    for (const state of states) {
      test(`${release}, ${state} device: ${returns[release][state]}`, () => {
        const { k, bus, drv, device, probed } = setup(release);
        const m = device(state);
        assert.equal(drain(device_driver_attach(k, bus, drv as DeviceDriver, m)), returns[release][state]);
        assert.deepEqual(probed, state === 'live' ? [m] : []);
        assert.equal(k.get(m, 'dev_lock'), 0, 'the device lock is released');
      });
    }
  }
});

describe('really_probe (dd.c 658-662, 692-705 v6.1-rc7): the driver\'s dev_groups', () => {
  for (const fail of [false, true]) {
    test(fail ? 'a failure to add them removes the driver again and is the error of the attach' : 'added after the probe', () => {
      const faults = fail ? [{ call: 'sysfs_create', nth: 1 }] : [];
      const { k, bus, drv, device, probed, removed } = setup('v6.1-rc7', { faults, dev_groups: { dir: 'vendor', attrs: ['a'] } });
      const m = device('live');
      k.set(m, 'dev_kn', drain(kernfs_create_root(k, 'devices/m', 'test')) as KernfsNode);
      const ret = drain(device_driver_attach(k, bus, drv as DeviceDriver, m));
      assert.deepEqual(probed, [m]);
      assert.equal(ret, fail ? -ENOMEM : 0);
      assert.deepEqual(removed, fail ? [m] : []);
      assert.equal(k.get(m, 'dev_driver'), fail ? 0 : drv);
      assert.equal(k.get(m, 'dev_groups_kn') !== 0, !fail);
    });
  }
});
