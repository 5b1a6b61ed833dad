// The driver core as the mdev lifecycle sees it (drivers/base/{core,dd,bus,driver}.c and lib/klist.c of
// v5.0.1, lines cited; v5.2.1 and v6.1-rc7 differ in dev->p->dead and in who takes the device lock
// to attach a driver, BusType.driver_core): device registration
// with its sysfs directory and the parent's klist of children, synchronous bus probing under
// device_lock, and unbinding on device_del.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { kernfs_create, kernfs_create_root, kernfs_remove, EBUSY, ENODEV, ENOMEM, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { list_add, list_contains, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_text, type Module } from '../../../harness/kernel/module.js';
import { kref_get, kref_put, mutex_lock, mutex_unlock, wait_event_zero } from '../../../harness/kernel/sync.js';
import type { AttrGroup, MdevDriver } from './ops.js';
import { memoize } from '../../../harness/text.js';
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

/** The index (from 1) that a struct device_driver's `code` holds for `drv`, registering it if new. */
export function driver_code_id(drv: MdevDriver): number {
  return driverCode.indexOf(register_driver_code(drv)) + 1;
}

export function driver_code(k: Kernel, drv: DeviceDriver): MdevDriver {
  const d = driverCode[k.get(drv, 'code') - 1];
  if (!d) throw new Error('unknown mdev driver');
  return d;
}

/** The mdev bus: probe and remove of bound drivers, and dev->release of its devices (the core's). */
export interface BusType {
  /** bus->match; absent on the v5.0/v5.2 mdev bus (mdev_driver.c 75-79 v5.0.1, 72-76 v5.2.1). */
  match?(k: Kernel, mdev: MdevDevice, drv: DeviceDriver): boolean;
  /** The release of drivers/base the bus lives in (see DriverCore). */
  driver_core: DriverCore;
  probe(k: Kernel, mdev: MdevDevice, drv: DeviceDriver): Gen<number>;
  remove(k: Kernel, mdev: MdevDevice, drv: DeviceDriver): Gen;
  release(k: Kernel, mdev: MdevDevice): Gen;
}

/**
 * The releases of drivers/base that the models need, as far as they differ for the mdev bus:
 * v5.0.1 has no dev->p->dead and __driver_attach locks the device itself (dd.c 870-907); v5.1
 * added the dead flag (v5.2.1 core.c 2240-2242) and device_driver_attach, which __driver_attach
 * calls (dd.c 1021 → 933-947); by v6.1-rc7 __driver_attach locks the device itself again
 * (dd.c 1189-1191) and __driver_probe_device checks dead, registered and bound (757-764).
 */
export type DriverCore = 'v5.0.1' | 'v5.2.1' | 'v6.1-rc7';

/** Whether struct device_private has `dead` (added in v5.1). */
export function has_dead_flag(bus: BusType): boolean {
  return bus.driver_core !== 'v5.0.1';
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

export const uuid_name = memoize((uuid: number): string => `83b8f4f2-509f-382f-3c1e-e6bfe0fa100${uuid}`);

// ---- parent devices (plain struct device registered by a vendor module) ----

/**
 * dev->release of parent devices, registered when the vendor's module file is evaluated (the same
 * order in every thread); a device's `release` is its index + 1, 0 being a plain kfree.
 */
const releases: ((k: Kernel, dev: Device) => void)[] = [];
/** Releases that free nothing of a kzalloc'd device: the kernel leaks it (vfio_ap's matrix device). */
const leaking = new Set<number>();

export function register_device_release(fn: (k: Kernel, dev: Device) => void, opts: { leaks?: boolean } = {}): number {
  if (!releases.includes(fn)) releases.push(fn);
  const id = releases.indexOf(fn) + 1;
  if (opts.leaks) leaking.add(id);
  return id;
}

/** Whether the kernel itself never frees this device, its release freeing nothing (not a leak of the lifecycle). */
export function leaked_by_release(k: Kernel, dev: Device): boolean {
  return leaking.has(k.peek(dev, 'release'));
}

/**
 * device_register (core.c 2031-2035 → device_initialize 1515, device_add 1858) of a parent
 * device the caller allocated (static or kzalloc'd): the refcount, the klist of children (in
 * device_private) and its directory, here at the sysfs root.
 * device_register: core.c 2031-2035.
 */
export const device_register_parent = kfn('device_register', function* (k: Kernel, dev: Device, name: string) {
  k.set(dev, 'name', k.intern(name));
  k.set(dev, 'refcount', 1);
  k.set(dev, 'children', list_new(k, k.at('klist_init')));
  k.set(dev, 'kn', yield* kernfs_create_root(k, `devices/${name}`, 'sysfs_create_dir_ns'));
  return 0;
});

/** device_register (core.c 2031-2035): A kzalloc'd parent device registered at once (the mlx5 PCI function, the v6 vendors'). */
export const parent_device_register = kfn('device_register', function* (k: Kernel, name: string) {
  yield k.at('kzalloc');
  const dev = k.alloc(device, k.at('kzalloc'));
  yield* device_register_parent(k, dev, name);
  return dev;
});

/** get_device (core.c 2046-2049). */
export const get_device = kfn('get_device', function* (k: Kernel, dev: Device) {
  yield* kref_get(k, dev, 'refcount');
});

/** put_device (core.c 2056-2061): the last put is device_release (898-924): dev->release, then kfree(p). */
export const put_device = kfn('put_device', function* (k: Kernel, dev: Device) {
  yield* kobject_put_device(k, dev);
});

/** kobject_put(&dev->kobj) (kobject.c 701-711): its first read of the kobject is here. */
const kobject_put_device = kfn('kobject_put', function* (k: Kernel, dev: Device) {
  yield* kref_put(k, dev, 'refcount', function* () {
    yield k.at('device_release');
    const p = k.get(dev, 'children');
    const release = k.get(dev, 'release');
    if (release === 0) k.free(dev, k.at('kfree'));
    else releases[release - 1]!(k, dev);
    k.free(p, k.at('kfree'));
  });
});

/** device_unregister (core.c 2142-2147): device_del's kobject_del clears kobj->sd (sysfs/dir.c 96-98), then the put. */
export const parent_device_unregister = kfn('device_unregister', function* (k: Kernel, dev: Device) {
  yield* kernfs_remove(k, k.get(dev, 'kn') as KernfsNode, 'kobject_del');
  k.set(dev, 'kn', 0);
  yield* put_device(k, dev);
});

// ---- mdev devices on the mdev bus ----

/** device_initialize (core.c 1515-1532). */
export const device_initialize = kfn('device_initialize', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('kobject_init');
  k.set(mdev, 'dev_refcount', 1);
});

/** get_device (core.c 2046-2049). */
export const get_mdev_device = kfn('get_device', function* (k: Kernel, mdev: MdevDevice) {
  yield* kref_get(k, mdev, 'dev_refcount');
});

/** put_device on an mdev: the last one calls dev->release, the core's mdev_device_release. */
export const put_mdev_device = kfn('put_device', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* kref_put(k, mdev, 'dev_refcount', () => bus.release(k, mdev));
});

/**
 * klist_next (lib/klist.c 376-408 v5.0.1, 375 v5.2.1 and v6.1-rc7) over a klist of devices whose get/put are get_device/put_device
 * (core.c 1830 children, bus.c 898 the bus's devices): a live walk, so a node added at the tail
 * during the walk is visited, and the node is pinned (a device reference) until the walk moves
 * on. `listed` is the list as it is now; the caller drops the reference after its callback.
 */
export function* klist_next(k: Kernel, visited: Set<number>, listed: () => readonly MdevDevice[]): Gen<MdevDevice> {
  yield k.at('klist_next');
  const next = listed().find((m) => !visited.has(m));
  if (next === undefined) return 0 as MdevDevice;
  visited.add(next);
  Atomics.add(k.mem, k.addr(next, 'dev_refcount'), 1);
  return next;
}

/**
 * device_lock (include/linux/device.h: static inline, mutex_lock(&dev->mutex)). Inline, so it has
 * no frame: a report in it (a task hung on the mutex) names its caller, as the kernel's does.
 */
export function* device_lock(k: Kernel, mdev: MdevDevice): Gen {
  yield* mutex_lock(k, mdev, 'dev_lock');
}

/** device_unlock (include/linux/device.h: static inline); no frame, as device_lock. */
export function* device_unlock(k: Kernel, mdev: MdevDevice): Gen {
  yield* mutex_unlock(k, mdev, 'dev_lock');
}

/**
 * really_probe (dd.c 449-587 v5.0.1, 453-590 v5.2.1, 584-705 v6.1-rc7): bind, call the bus probe,
 * then add the driver's dev_groups (v6 drivers only); a failing probe unbinds, and so does a
 * failure to add the groups, after the driver's remove.
 */
const really_probe = kfn('really_probe', function* (k: Kernel, bus: BusType, mdev: MdevDevice, drv: DeviceDriver) {
  yield k.at('dev->driver');
  k.set(mdev, 'dev_driver', drv);
  const ret = k.shouldFail('probe') ? -ENOMEM : yield* bus.probe(k, mdev, drv);
  if (ret !== 0) {
    k.set(mdev, 'dev_driver', 0);
    return ret;
  }
  const groups = driver_code(k, drv).dev_groups;
  if (groups && (yield* device_add_groups(k, mdev, groups)) !== 0) {
    // dev_groups_failed (dd.c 658-662 → 692-705 v6.1-rc7): device_remove calls the driver's
    // remove, device_unbind_cleanup clears dev->driver, and the error is returned.
    yield* bus.remove(k, mdev, drv);
    k.set(mdev, 'dev_driver', 0);
    return -ENOMEM;
  }
  return 0;
});

/**
 * driver_match_device (drivers/base/base.h; called at dd.c 743 and 885 of v5.0.1, 757 and 990 of
 * v5.2.1): drv->bus->match ? drv->bus->match(dev, drv) : 1. With no bus match every driver
 * matches every device.
 */
function driver_match_device(k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice): boolean {
  return bus.match ? bus.match(k, mdev, drv) : true;
}

/**
 * device_is_registered (include/linux/device.h): dev->kobj.state_in_sysfs, which kobject_add sets
 * and device_del's kobject_del clears; the model's dev_kn is set and cleared with it.
 */
function device_is_registered(k: Kernel, mdev: MdevDevice): boolean {
  return k.get(mdev, 'dev_kn') !== 0;
}

/**
 * driver_probe_device (dd.c 649-676 v5.0.1, 652-679 v5.2.1), called with the device lock held: a
 * device that kobject_del has taken out of sysfs is not probed. v6.1-rc7 moved the checks into
 * __driver_probe_device (757-764), which also refuses a dead device and a bound one.
 */
const driver_probe_device = kfn('driver_probe_device', function* (k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice) {
  if (bus.driver_core === 'v6.1-rc7') return yield* __driver_probe_device(k, bus, drv, mdev);
  if (!device_is_registered(k, mdev)) return -ENODEV;
  return yield* really_probe(k, bus, mdev, drv);
});

/** __driver_probe_device (dd.c 757-786 v6.1-rc7). */
const __driver_probe_device = kfn('__driver_probe_device', function* (k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice) {
  if (k.get(mdev, 'dev_dead') !== 0 || !device_is_registered(k, mdev)) return -ENODEV;
  if (k.get(mdev, 'dev_driver') !== 0) return -EBUSY;
  return yield* really_probe(k, bus, mdev, drv);
});

/**
 * device_driver_attach (dd.c 933-947 v5.2.1, 1100-1115 v6.1-rc7; absent in v5.0.1): bind this
 * driver under __device_driver_lock (inline: device_lock, the mdev bus has no need_parent_lock).
 * v5.2.1 skips a dead or bound device (943); v6.1-rc7 leaves that to __driver_probe_device.
 * v5.2's __driver_attach binds through it, v6's mdev_device_create explicitly (mdev_match never binds).
 */
export const device_driver_attach = kfn('device_driver_attach', function* (k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice) {
  yield* device_lock(k, mdev);
  let ret: number;
  if (bus.driver_core === 'v6.1-rc7') ret = yield* __driver_probe_device(k, bus, drv, mdev);
  else ret = k.get(mdev, 'dev_dead') === 0 && k.get(mdev, 'dev_driver') === 0 ? yield* driver_probe_device(k, bus, drv, mdev) : 0;
  yield* device_unlock(k, mdev);
  return ret;
});

/** device_attach (dd.c 793-868 (__device_attach, bus_for_each_drv bus.c 451-470)): device_attach: the first registered driver that matches and probes successfully binds. */
export const device_attach = kfn('device_attach', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_lock(k, mdev);
  if (k.get(mdev, 'dev_driver') === 0) {
    const drivers = k.get(k.nth(globals, 0), 'bus_drivers');
    for (const drv of list_entries<DeviceDriver>(k, drivers)) {
      // bus_for_each_drv: the klist node of each driver is pinned while it is looked at.
      yield k.at('klist_next');
      if (!k.isLive(drv) || !list_contains(k, drivers, drv)) continue;
      Atomics.add(k.mem, k.addr(drv, 'klist_refs'), 1);
      const bound = driver_match_device(k, bus, drv, mdev) && (yield* driver_probe_device(k, bus, drv, mdev)) === 0;
      Atomics.sub(k.mem, k.addr(drv, 'klist_refs'), 1);
      if (bound) break;
    }
  }
  yield* device_unlock(k, mdev);
});

/** device_release_driver (dd.c 1019-1027 → __device_release_driver 928-990). */
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
 * device_add: core.c 1858-2010.
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
  k.set(mdev, 'dev_klist', k.get(parent, 'children'));
  return 0;
});

/** device_register (core.c 2031-2035). */
export const device_register = kfn('device_register', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_initialize(k, mdev);
  return yield* device_add(k, bus, mdev);
});

/**
 * Attribute groups of a device: a "vendor" directory (dev_groups_kn), or files in the device's own
 * directory, of which the model keeps the "remove" file (remove_kn).
 * device_add_groups: core.c 1141-1144 (sysfs group.c).
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

/** device_remove_groups (core.c 1147-1151). */
export const device_remove_groups = kfn('device_remove_groups', function* (k: Kernel, mdev: MdevDevice) {
  const dir = k.get(mdev, 'dev_groups_kn') as KernfsNode;
  k.set(mdev, 'dev_groups_kn', 0);
  yield* kernfs_remove(k, dir, 'sysfs_remove_group');
});

/**
 * device_del (core.c 2077-2128 v5.0.1, 2227-2286 v5.2.1): from v5.1 the dead flag under
 * device_lock first; off the parent's klist, dev->groups gone, unbind (which may wait), remove the
 * directory (kobj->sd = NULL), put the parent.
 */
export const device_del = kfn('device_del', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  const parent = k.get(mdev, 'dev_parent') as Device;
  k.set(mdev, 'dev_deleted', 1);
  if (has_dead_flag(bus)) {
    yield* device_lock(k, mdev);
    k.set(mdev, 'dev_dead', 1);
    yield* device_unlock(k, mdev);
  }
  yield k.at('klist_del');
  // klist_del(&dev->p->knode_parent): the knode names its klist, the parent's struct is not read.
  if (k.get(mdev, 'dev_klist') !== 0) list_del(k, k.get(mdev, 'dev_klist'), mdev);
  k.set(mdev, 'dev_on_bus', 0);
  if (k.get(mdev, 'dev_groups_kn') !== 0) yield* device_remove_groups(k, mdev);
  yield* device_release_driver(k, bus, mdev);
  yield* kernfs_remove(k, k.get(mdev, 'dev_kn') as KernfsNode, 'kobject_del');
  k.set(mdev, 'dev_kn', 0);
  yield* put_device(k, parent);
});

/** device_unregister (core.c 2142-2147). */
export const device_unregister = kfn('device_unregister', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  yield* device_del(k, bus, mdev);
  yield* put_mdev_device(k, bus, mdev);
});

/** device_for_each_child (core.c 2233-2248): a live walk of the children; stops at the first callback that returns non-zero. */
export const device_for_each_child = kfn(
  'device_for_each_child',
  function* (k: Kernel, bus: BusType, parent: Device, fn: (k: Kernel, child: MdevDevice) => Gen<number>) {
    yield k.at('klist_iter_init');
    const children = k.get(parent, 'children');
    const visited = new Set<number>();
    for (;;) {
      const child = yield* klist_next(k, visited, () => list_entries<MdevDevice>(k, children));
      if (child === 0) return 0;
      const ret = yield* fn(k, child);
      yield* put_mdev_device(k, bus, child);
      if (ret !== 0) return ret;
    }
  },
);

// ---- drivers on the mdev bus ----

/** driver_register (driver.c 146-181): the struct device_driver is static data of its module, not heap. */
const driver_register = kfn('driver_register', function* (k: Kernel, bus: BusType, drv: MdevDriver, owner: Module) {
  yield k.at('kzalloc');
  const d = owner === 0 ? k.alloc(device_driver, k.at('kzalloc')) : k.allocStatic(device_driver, k.at('static'), owner);
  k.set(d, 'code', driver_code_id(drv));
  k.set(d, 'name', k.intern(drv.name));
  k.set(d, 'owner', owner);
  const g = k.nth(globals, 0);
  list_add(k, k.get(g, 'bus_drivers'), d);
  yield* driver_attach(k, bus, d);
  return d;
});

/** Devices on the mdev bus's klist: added by device_add, taken off by device_del before unbinding. */
export function bus_devices(k: Kernel): MdevDevice[] {
  return k.walk(mdev_device).filter((m) => k.get(m, 'dev_on_bus') !== 0);
}

/**
 * driver_attach (dd.c 918 v5.0.1, 1035 v5.2.1, 1205 v6.1-rc7) → bus_for_each_dev (bus.c 301 v5.0.1,
 * 291 v5.2.1, 288 v6.1-rc7): a live walk of the bus's devices, calling __driver_attach on each.
 */
export const driver_attach = kfn('driver_attach', function* (k: Kernel, bus: BusType, drv: DeviceDriver) {
  const visited = new Set<number>();
  for (;;) {
    const mdev = yield* klist_next(k, visited, () => bus_devices(k));
    if (mdev === 0) return;
    yield* __driver_attach(k, bus, drv, mdev);
    yield* put_mdev_device(k, bus, mdev);
  }
});

/**
 * __driver_attach, bus_for_each_dev's callback (called through a pointer, so a frame of its own):
 * a matching device is probed under its device lock, taken here in v5.0.1 (dd.c 897-903, then
 * `if (!dev->driver)`) and v6.1-rc7 (1189-1191, __device_driver_lock 1069-1074 inline), and in v5.2.1 by
 * device_driver_attach (1021), so that a task waiting for the lock hangs in that function there.
 * v6's mdev_match never matches.
 */
const __driver_attach = kfn('__driver_attach', function* (k: Kernel, bus: BusType, drv: DeviceDriver, mdev: MdevDevice) {
  if (!driver_match_device(k, bus, drv, mdev)) return 0;
  if (bus.driver_core === 'v5.2.1') {
    yield* device_driver_attach(k, bus, drv, mdev);
    return 0;
  }
  yield* device_lock(k, mdev);
  if (bus.driver_core === 'v6.1-rc7' || k.get(mdev, 'dev_driver') === 0) yield* driver_probe_device(k, bus, drv, mdev);
  yield* device_unlock(k, mdev);
  return 0;
});

/**
 * driver_unregister (driver.c 190-198) → bus_remove_driver (bus.c 719-734): off the bus's driver
 * list first (klist_remove waits for the device_attach walks that hold the driver's node, i.e. for
 * probes in flight), then driver_detach (dd.c 1034-1057 v5.0.1, 1155 v5.2.1, 1318-1341 v6.1-rc7): while the driver's own klist of
 * bound devices is not empty, take its last device with a reference and release it. The driver
 * struct is static: it is not freed.
 */
const driver_unregister = kfn('driver_unregister', function* (k: Kernel, bus: BusType, drv: DeviceDriver) {
  yield k.at('bus_remove_driver');
  list_del(k, k.get(k.nth(globals, 0), 'bus_drivers'), drv);
  yield* wait_event_zero(k, drv, 'klist_refs', 'klist_remove');
  yield* driver_detach(k, bus, drv);
});

export const driver_detach = kfn('driver_detach', function* (k: Kernel, bus: BusType, drv: DeviceDriver) {
  for (;;) {
    yield k.at('klist_devices');
    const bound = k.walk(mdev_device).filter((m) => k.get(m, 'dev_driver') === drv);
    const mdev = bound[bound.length - 1];
    if (mdev === undefined) break;
    Atomics.add(k.mem, k.addr(mdev, 'dev_refcount'), 1);
    yield* device_release_driver(k, bus, mdev);
    yield* put_mdev_device(k, bus, mdev);
  }
});

/** Before running code of a driver's module: it must still be loaded. */
export function driver_text(k: Kernel, drv: DeviceDriver, what: string): MdevDriver {
  module_text(k, k.get(drv, 'owner') as Module, what);
  return driver_code(k, drv);
}
