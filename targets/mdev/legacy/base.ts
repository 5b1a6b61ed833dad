// The driver core as the mdev lifecycle sees it (drivers/base/core.c, dd.c): device registration
// with its sysfs directory and the parent's klist of children, synchronous bus probing under
// device_lock, and unbinding on device_del.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { kernfs_create, kernfs_create_root, kernfs_remove, ENODEV, ENOMEM, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { list_add, list_contains, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_text, type Module } from '../../../harness/kernel/module.js';
import { kref_get, kref_put, mutex_lock, mutex_unlock, wait_event_zero } from '../../../harness/kernel/sync.js';
import type { AttrGroup, MdevDriver } from './ops.js';
import {
  device,
  device_driver,
  globals,
  mdev_device,
  type Device,
  type DeviceDriver,
  type MdevDevice,
} from './structs.js';

/**
 * The code of every mdev bus driver, registered when its module file is evaluated (the same order
 * in every thread), so a struct device_driver in the buffer names its code by index. Names alone
 * would not do: the legacy and v6 mlx5_sf drivers share one.
 */
const driverCode: MdevDriver[] = [];

export function register_driver_code<D extends MdevDriver>(drv: D): D {
  if (!driverCode.includes(drv)) driverCode.push(drv);
  return drv;
}

export function driver_code(k: Kernel, drv: DeviceDriver): MdevDriver {
  const d = driverCode[k.get(drv, 'code') - 1];
  if (!d) throw new Error('unknown mdev driver');
  return d;
}

/** The mdev bus: probe and remove of bound drivers, and dev->release of its devices (the core's). */
export interface BusType {
  probe(k: Kernel, mdev: MdevDevice, drv: DeviceDriver): Gen<number>;
  remove(k: Kernel, mdev: MdevDevice, drv: DeviceDriver): Gen;
  release(k: Kernel, mdev: MdevDevice): Gen;
}

/** A version's mdev bus with the driver registration that goes through it. */
export interface MdevBus {
  type: BusType;
  mdev_register_driver(k: Kernel, drv: MdevDriver, owner: Module): Gen<DeviceDriver>;
  mdev_unregister_driver(k: Kernel, drv: DeviceDriver): Gen;
}

export function mdev_bus(type: BusType): MdevBus {
  return {
    type,
    mdev_register_driver: kfn('mdev_register_driver', function* (k: Kernel, drv: MdevDriver, owner: Module) {
      return yield* driver_register(k, type, drv, owner);
    }),
    mdev_unregister_driver: kfn('mdev_unregister_driver', function* (k: Kernel, drv: DeviceDriver) {
      yield* driver_unregister(k, type, drv);
    }),
  };
}

export function uuid_name(uuid: number): string {
  return `83b8f4f2-509f-382f-3c1e-e6bfe0fa100${uuid}`;
}

// ---- parent devices (plain struct device registered by a vendor module) ----

export const parent_device_register = kfn('device_register', function* (k: Kernel, name: string) {
  yield k.at('kzalloc');
  const dev = k.alloc(device, k.at('kzalloc'));
  k.set(dev, 'name', k.intern(name));
  k.set(dev, 'refcount', 1);
  k.set(dev, 'children', list_new(k, k.at('klist_init')));
  k.set(dev, 'kn', yield* kernfs_create_root(k, `devices/${name}`, 'sysfs_create_dir_ns'));
  return dev;
});

export const get_device = kfn('get_device', function* (k: Kernel, dev: Device) {
  yield* kref_get(k, dev, 'refcount');
});

export const put_device = kfn('put_device', function* (k: Kernel, dev: Device) {
  yield* kref_put(k, dev, 'refcount', function* () {
    yield k.at('device_release');
    k.free(k.get(dev, 'children'), k.at('kfree'));
    k.free(dev, k.at('kfree'));
  });
});

export const parent_device_unregister = kfn('device_unregister', function* (k: Kernel, dev: Device) {
  yield* kernfs_remove(k, k.get(dev, 'kn') as KernfsNode, 'kobject_del');
  yield* put_device(k, dev);
});

// ---- mdev devices on the mdev bus ----

export const device_initialize = kfn('device_initialize', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('kobject_init');
  k.set(mdev, 'dev_refcount', 1);
});

export const get_mdev_device = kfn('get_device', function* (k: Kernel, mdev: MdevDevice) {
  yield* kref_get(k, mdev, 'dev_refcount');
});

/** put_device on an mdev: the last one calls dev->release, the core's mdev_device_release. */
export const put_mdev_device = kfn('put_device', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* kref_put(k, mdev, 'dev_refcount', () => bus.release(k, mdev));
});

/**
 * klist_next: the next device of a klist walk, with a reference taken atomically with finding it
 * (under the klist's lock), or false when it has left the list since the walk began.
 */
function* klist_next(k: Kernel, mdev: MdevDevice, still_listed: (m: MdevDevice) => boolean): Gen<boolean> {
  yield k.at('klist_next');
  if (!k.isLive(mdev) || !still_listed(mdev)) return false;
  Atomics.add(k.mem, k.addr(mdev, 'dev_refcount'), 1);
  return true;
}

export const device_lock = kfn('device_lock', function* (k: Kernel, mdev: MdevDevice) {
  yield* mutex_lock(k, mdev, 'dev_lock');
});

export const device_unlock = kfn('device_unlock', function* (k: Kernel, mdev: MdevDevice) {
  yield* mutex_unlock(k, mdev, 'dev_lock');
});

/** really_probe: bind, call the bus probe, then add the driver's dev_groups; a failing probe unbinds. */
const really_probe = kfn('really_probe', function* (k: Kernel, bus: BusType, mdev: MdevDevice, drv: DeviceDriver) {
  yield k.at('dev->driver');
  k.set(mdev, 'dev_driver', drv);
  const ret = k.shouldFail('probe') ? -ENOMEM : yield* bus.probe(k, mdev, drv);
  if (ret !== 0) {
    k.set(mdev, 'dev_driver', 0);
    return ret;
  }
  const groups = driver_code(k, drv).dev_groups;
  if (groups) yield* device_add_groups(k, mdev, groups);
  return 0;
});

/** device_driver_attach: bind this driver explicitly (v6: mdev_match never binds on its own). */
export const device_driver_attach = kfn('device_driver_attach', function* (k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice) {
  yield* device_lock(k, mdev);
  let ret = -ENODEV;
  if (k.get(mdev, 'dev_driver') === 0) ret = yield* really_probe(k, bus, mdev, drv);
  yield* device_unlock(k, mdev);
  return ret;
});

/** device_attach: the first registered driver that matches and probes successfully binds. */
export const device_attach = kfn('device_attach', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_lock(k, mdev);
  if (k.get(mdev, 'dev_driver') === 0) {
    const drivers = k.get(k.nth(globals, 0), 'bus_drivers');
    for (const drv of list_entries<DeviceDriver>(k, drivers)) {
      // bus_for_each_drv: the klist node of each driver is pinned while it is looked at.
      yield k.at('klist_next');
      if (!k.isLive(drv) || !list_contains(k, drivers, drv)) continue;
      Atomics.add(k.mem, k.addr(drv, 'klist_refs'), 1);
      const bound = driver_code(k, drv).match(k, mdev) && (yield* really_probe(k, bus, mdev, drv)) === 0;
      Atomics.sub(k.mem, k.addr(drv, 'klist_refs'), 1);
      if (bound) break;
    }
  }
  yield* device_unlock(k, mdev);
});

export const device_release_driver = kfn('device_release_driver', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_lock(k, mdev);
  const drv = k.get(mdev, 'dev_driver') as DeviceDriver;
  if (drv !== 0) {
    if (driver_code(k, drv).dev_groups && k.get(mdev, 'dev_groups_kn') !== 0) yield* device_remove_groups(k, mdev);
    yield* bus.remove(k, mdev, drv);
    k.set(mdev, 'dev_driver', 0);
  }
  yield* device_unlock(k, mdev);
});

/** device_add: sysfs directory, the parent's klist of children, then the bus probes a driver. */
/** `groups` are dev->groups, created with the directory (v5.2: the vendor's; v6: the core's "remove"). */
/**
 * device_add, in the driver core's order: the parent's reference, the sysfs directory with
 * dev->groups, onto the bus, probe a driver, and only then onto the parent's klist of children.
 */
export const device_add = kfn('device_add', function* (k: Kernel, bus: BusType, mdev: MdevDevice, groups?: AttrGroup) {
  const parent = k.get(mdev, 'dev_parent') as Device;
  yield* get_device(k, parent);
  yield k.at('kobject_add');
  const kn = k.shouldFail('kobject_add') ? 0 : yield* kernfs_create(k, k.get(parent, 'kn') as KernfsNode, uuid_name(k.get(mdev, 'uuid')), 'sysfs_create_dir_ns');
  if (kn === 0) {
    yield* put_device(k, parent);
    return -ENOMEM;
  }
  k.set(mdev, 'dev_kn', kn);
  if (groups && groups.attrs.length > 0 && (yield* device_add_groups(k, mdev, groups)) !== 0) {
    yield* kernfs_remove(k, kn, 'kobject_del');
    k.set(mdev, 'dev_kn', 0);
    yield* put_device(k, parent);
    return -ENOMEM;
  }
  yield k.at('bus_add_device');
  k.set(mdev, 'dev_on_bus', 1);
  yield* device_attach(k, bus, mdev);
  yield k.at('klist_add_tail');
  list_add(k, k.get(parent, 'children'), mdev);
  return 0;
});

export const device_register = kfn('device_register', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_initialize(k, mdev);
  return yield* device_add(k, bus, mdev);
});

/**
 * Attribute groups of a device: a "vendor" directory (dev_groups_kn), or files in the device's own
 * directory, of which the model keeps the "remove" file (remove_kn).
 */
export const device_add_groups = kfn('device_add_groups', function* (k: Kernel, mdev: MdevDevice, group: AttrGroup) {
  const base = k.get(mdev, 'dev_kn') as KernfsNode;
  const dir = group.dir === null ? base : yield* kernfs_create(k, base, group.dir, 'sysfs_create_group');
  if (dir === 0) return -ENOMEM;
  const made: KernfsNode[] = [];
  for (const a of group.attrs) {
    const node = yield* kernfs_create(k, dir, a, 'sysfs_create_group');
    if (node === 0) {
      for (const n of group.dir === null ? made : [dir]) yield* kernfs_remove(k, n, 'sysfs_remove_group');
      return -ENOMEM;
    }
    made.push(node);
    if (group.dir === null && a === 'remove') k.set(mdev, 'remove_kn', node);
  }
  if (group.dir !== null) k.set(mdev, 'dev_groups_kn', dir);
  return 0;
});

export const device_remove_groups = kfn('device_remove_groups', function* (k: Kernel, mdev: MdevDevice) {
  const dir = k.get(mdev, 'dev_groups_kn') as KernfsNode;
  k.set(mdev, 'dev_groups_kn', 0);
  yield* kernfs_remove(k, dir, 'sysfs_remove_group');
});

/** device_del: off the parent's klist, dev->groups gone, unbind (which may wait), remove the directory. */
export const device_del = kfn('device_del', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  const parent = k.get(mdev, 'dev_parent') as Device;
  yield* device_lock(k, mdev);
  k.set(mdev, 'dev_dead', 1);
  yield* device_unlock(k, mdev);
  yield k.at('klist_del');
  list_del(k, k.get(parent, 'children'), mdev);
  k.set(mdev, 'dev_on_bus', 0);
  if (k.get(mdev, 'dev_groups_kn') !== 0) yield* device_remove_groups(k, mdev);
  yield* device_release_driver(k, bus, mdev);
  yield* kernfs_remove(k, k.get(mdev, 'dev_kn') as KernfsNode, 'kobject_del');
  k.set(mdev, 'dev_kn', 0);
  yield* put_device(k, parent);
});

export const device_unregister = kfn('device_unregister', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_del(k, bus, mdev);
  yield* put_mdev_device(k, bus, mdev);
});

/** device_for_each_child: stops at the first callback that returns non-zero, and returns that. */
export const device_for_each_child = kfn(
  'device_for_each_child',
  function* (k: Kernel, bus: BusType, parent: Device, fn: (k: Kernel, child: MdevDevice) => Gen<number>) {
    yield k.at('klist_iter_init');
    const children = k.get(parent, 'children');
    for (const child of list_entries<MdevDevice>(k, children)) {
      if (!(yield* klist_next(k, child, () => k.isLive(children) && list_contains(k, children, child)))) continue;
      const ret = yield* fn(k, child);
      yield* put_mdev_device(k, bus, child);
      if (ret !== 0) return ret;
    }
    return 0;
  },
);

// ---- drivers on the mdev bus ----

const driver_register = kfn('driver_register', function* (k: Kernel, bus: BusType, drv: MdevDriver, owner: Module) {
  yield k.at('kzalloc');
  const d = k.alloc(device_driver, k.at('kzalloc'));
  k.set(d, 'code', driverCode.indexOf(register_driver_code(drv)) + 1);
  k.set(d, 'name', k.intern(drv.name));
  k.set(d, 'owner', owner);
  const g = k.nth(globals, 0);
  list_add(k, k.get(g, 'bus_drivers'), d);
  yield* driver_attach(k, bus, d);
  return d;
});

/** Devices on the mdev bus's klist: added by device_add, taken off by device_del before unbinding. */
export function bus_devices(k: Kernel): MdevDevice[] {
  return k.live(mdev_device).filter((m) => k.get(m, 'dev_on_bus') !== 0);
}

const on_bus = (k: Kernel) => (m: MdevDevice) => k.get(m, 'dev_on_bus') !== 0;

/** driver_attach: probe the new driver on every unbound device it matches. */
const driver_attach = kfn('driver_attach', function* (k: Kernel, bus: BusType, drv: DeviceDriver) {
  for (const mdev of bus_devices(k)) {
    if (!(yield* klist_next(k, mdev, on_bus(k)))) continue;
    if (driver_code(k, drv).match(k, mdev)) {
      yield* device_lock(k, mdev);
      // dev->p->dead (v5.1+): device_del has begun, do not probe.
      if (k.get(mdev, 'dev_dead') === 0 && k.get(mdev, 'dev_driver') === 0) yield* really_probe(k, bus, mdev, drv);
      yield* device_unlock(k, mdev);
    }
    yield* put_mdev_device(k, bus, mdev);
  }
});

/**
 * bus_remove_driver: off the bus's driver list first (klist_remove waits for the device_attach
 * walks that hold the driver's node, i.e. for probes in flight), then unbind every bound device.
 */
const driver_unregister = kfn('driver_unregister', function* (k: Kernel, bus: BusType, drv: DeviceDriver) {
  yield k.at('bus_remove_driver');
  list_del(k, k.get(k.nth(globals, 0), 'bus_drivers'), drv);
  yield* wait_event_zero(k, drv, 'klist_refs', 'klist_remove');
  // driver_detach
  for (const mdev of bus_devices(k)) {
    if (!(yield* klist_next(k, mdev, on_bus(k)))) continue;
    if (k.get(mdev, 'dev_driver') === drv) yield* device_release_driver(k, bus, mdev);
    yield* put_mdev_device(k, bus, mdev);
  }
  k.free(drv, k.at('kfree'));
});

/** Before running code of a driver's module: it must still be loaded. */
export function driver_text(k: Kernel, drv: DeviceDriver, what: string): MdevDriver {
  module_text(k, k.get(drv, 'owner') as Module, what);
  return driver_code(k, drv);
}
