// The driver core as mdev-v6 needs it, after drivers/base of 6.1-rc7: the parent device and the
// mdev_driver are static data of the vendor module for mtty and ours (mtty.c 69-76, 1275-1286),
// kzalloc'd matrix_dev->device for vfio_ap (vfio_ap_drv.c 91-111). The klist walks, driver_attach,
// driver_detach, probing, unbinding and dev_groups are the shared ../legacy/base.ts.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { kernfs_create, kernfs_create_root, kernfs_remove, ENOMEM, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { list_add, list_contains, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_text, type Module } from '../../../harness/kernel/module.js';
import { wait_event_zero } from '../../../harness/kernel/sync.js';
import {
  device_attach,
  device_add_groups,
  device_lock,
  device_release_driver,
  device_unlock,
  driver_attach,
  driver_code_id,
  driver_detach,
  klist_next,
  put_mdev_device,
  uuid_name,
  type BusType,
} from '../legacy/base.js';
import type { AttrGroup, MdevDriver } from '../legacy/ops.js';
import { globals, type DeviceDriver, type MdevDevice } from '../legacy/structs.js';
import type { DeviceV6, DriverV6, VendorV6 } from './structs.js';

function g(k: Kernel) {
  return k.nth(globals, 0);
}

// ---- parent devices: kobject refcount (lib/kobject.c), release through dev->release ----

/** device_register (core.c 3595) of a vendor's parent device, already allocated (static or in matrix_dev). */
export const device_register = kfn('device_register', function* (k: Kernel, dev: DeviceV6, name: string) {
  // device_initialize (2976)
  k.set(dev, 'refcount', 1);
  k.set(dev, 'name', k.intern(name));
  k.set(dev, 'children', list_new(k, k.at('klist_init')));
  if (k.shouldFail('kobject_add')) return -ENOMEM;
  k.set(dev, 'kn', yield* kernfs_create_root(k, `devices/${name}`, 'kobject_add'));
  return 0;
});

export const get_device = kfn('get_device', function* (k: Kernel, dev: DeviceV6) {
  yield k.at('kobject_get');
  k.set(dev, 'refcount', k.get(dev, 'refcount') + 1);
});

/**
 * put_device (core.c 3620) → kobject_put → device_release → dev->release: mtty_device_release does
 * nothing (mtty.c 1288-1291; the device is static), and so does vfio_ap_matrix_dev_release
 * (vfio_ap_drv.c 55-60, below). Either release is text of the vendor module.
 */
export const put_device = kfn('put_device', function* (k: Kernel, dev: DeviceV6) {
  yield k.at('kobject_put');
  const n = k.get(dev, 'refcount') - 1;
  if (n < 0) {
    k.warn('refcount', `refcount_t: underflow; use-after-free in ${k.fn()}`, ['device refcount']);
    return;
  }
  k.set(dev, 'refcount', n);
  if (n !== 0) return;
  yield* device_release(k, dev);
});

/** device_release (core.c 2307-2335): dev->release, code of the vendor module. */
const device_release = kfn('device_release', function* (k: Kernel, dev: DeviceV6) {
  yield k.at('dev->release');
  const data = k.get(dev, 'release_data') as VendorV6;
  if (data === 0) return; // mtty_device_release: nothing to free
  module_text(k, k.get(data, 'module') as Module, 'vfio_ap_matrix_dev_release');
  yield* vfio_ap_matrix_dev_release(k, data);
});

/**
 * vfio_ap_matrix_dev_release (vfio_ap_drv.c 55-60): kfree(dev_get_drvdata(dev)). Nothing sets the
 * matrix device's drvdata (the only dev_set_drvdata calls of vfio_ap_*.c are on mdevs, ops.c 714,
 * and AP queues, 1862), so this is kfree(NULL): matrix_dev, with the parent, type and device
 * embedded in it, is never freed (a leak of 6.1, fixed upstream later; not leak-checked here, as
 * every unload of vfio_ap would report it).
 */
const vfio_ap_matrix_dev_release = kfn('vfio_ap_matrix_dev_release', function* (k: Kernel, _data: VendorV6) {
  yield k.at('kfree');
});

/** device_unregister (core.c 3733): device_del (kobject_del) then put_device. */
export const device_unregister = kfn('device_unregister', function* (k: Kernel, dev: DeviceV6) {
  yield* kernfs_remove(k, k.get(dev, 'kn') as KernfsNode, 'kobject_del');
  yield* put_device(k, dev);
});

// ---- mdev devices ----

/**
 * device_add (core.c 3398-3548) of an mdev: get_device(parent) (~3429), kobject_add (3452),
 * dev->groups with device_add_attrs (3468), bus_add_device (3471), bus_probe_device (3517), then onto
 * the parent's klist of children (3527-3529).
 */
export const device_add = kfn('device_add', function* (k: Kernel, bus: BusType, mdev: MdevDevice, groups: AttrGroup) {
  const parent = k.get(mdev, 'dev_parent') as DeviceV6;
  yield* get_device(k, parent);
  yield k.at('kobject_add');
  const kn = k.shouldFail('kobject_add') ? 0 : yield* kernfs_create(k, k.get(parent, 'kn') as KernfsNode, uuid_name(k.get(mdev, 'uuid')), 'kobject_add');
  if (kn === 0) {
    yield* put_device(k, parent);
    return -ENOMEM;
  }
  k.set(mdev, 'dev_kn', kn);
  if ((yield* device_add_groups(k, mdev, groups)) !== 0) {
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

/**
 * device_del (core.c 3659-3720): kill_device under device_lock (3666-3668), off the parent's klist
 * (3683), device_remove_attrs removes dev->groups (3703), bus_remove_device unbinds (3704),
 * kobject_del (3715), put_device(parent) (3718).
 */
export const device_del = kfn('device_del', function* (k: Kernel, bus: BusType, mdev: MdevDevice) {
  const parent = k.get(mdev, 'dev_parent') as DeviceV6;
  yield* device_lock(k, mdev);
  k.set(mdev, 'dev_dead', 1);
  k.set(mdev, 'dev_deleted', 1); // bookkeeping for the transition coverage's "deleted" state
  yield* device_unlock(k, mdev);
  yield k.at('klist_del');
  list_del(k, k.get(parent, 'children'), mdev);
  yield k.at('device_remove_attrs');
  yield* kernfs_remove(k, k.get(mdev, 'remove_kn') as KernfsNode, 'sysfs_remove_groups');
  // bus_remove_device: off the bus klist, then device_release_driver
  k.set(mdev, 'dev_on_bus', 0);
  yield* device_release_driver(k, bus, mdev);
  yield* kernfs_remove(k, k.get(mdev, 'dev_kn') as KernfsNode, 'kobject_del');
  k.set(mdev, 'dev_kn', 0);
  yield* put_device(k, parent);
});

/** device_for_each_child (core.c 3824-3839): a live walk of klist_children; stops at a non-zero return. */
export const device_for_each_child = kfn(
  'device_for_each_child',
  function* (k: Kernel, bus: BusType, parent: DeviceV6, fn: (k: Kernel, child: MdevDevice) => Gen<number>) {
    const children = k.get(parent, 'children');
    const seen = new Set<number>();
    for (;;) {
      const child = yield* klist_next(k, seen, () => list_entries<MdevDevice>(k, children));
      if (child === 0) return 0;
      const ret = yield* fn(k, child);
      // klist_next/klist_iter_exit drop the node's reference: put_device
      yield* put_mdev_device(k, bus, child);
      if (ret !== 0) return ret;
    }
  },
);

// ---- drivers ----

/**
 * driver_register (driver.c 222-262) → bus_add_driver (bus.c 590-640): onto the bus's klist of
 * drivers, then driver_attach (dd.c 1205) = bus_for_each_dev(__driver_attach): a live walk of the
 * bus's devices holding a reference on each (bus.c 288-306); mdev_match returns 0
 * (mdev_driver.c), so __driver_attach (dd.c 1134-1145) binds nothing, but the last put_device of a
 * device removed meanwhile runs its release here.
 */
export const driver_register = kfn('driver_register', function* (k: Kernel, bus: BusType, d: DriverV6, drv: MdevDriver, owner: Module) {
  yield k.at('bus_add_driver');
  k.set(d, 'code', driver_code_id(drv));
  k.set(d, 'name', k.intern(drv.name));
  k.set(d, 'owner', owner);
  k.set(d, 'registered', 1);
  list_add(k, k.get(g(k), 'bus_drivers'), d);
  yield* driver_attach(k, bus, d as unknown as DeviceDriver);
  return 0;
});

/**
 * driver_unregister (driver.c 267-275) → bus_remove_driver (bus.c 666-680): klist_remove off the
 * bus's drivers (waits for walkers holding the node), then driver_detach (dd.c 1318-1341): take
 * the last device of the driver's own klist_devices, get_device, device_release_driver_internal,
 * put_device, until the list is empty. The driver struct is static: nothing is freed.
 */
export const driver_unregister = kfn('driver_unregister', function* (k: Kernel, bus: BusType, d: DriverV6) {
  if (k.get(d, 'registered') === 0) {
    k.warn('refcount', 'WARNING in driver_unregister', ['Unexpected driver unregister!']);
    return;
  }
  yield k.at('klist_remove');
  list_del(k, k.get(g(k), 'bus_drivers'), d);
  yield* wait_event_zero(k, d, 'klist_refs', 'klist_remove');
  yield* driver_detach(k, bus, d as unknown as DeviceDriver);
  k.set(d, 'registered', 0);
});

/** The bus list of drivers as device_attach walks it (shared ../legacy/base.ts). */
export function bus_has_driver(k: Kernel, d: DriverV6): boolean {
  return list_contains(k, k.get(g(k), 'bus_drivers'), d);
}
