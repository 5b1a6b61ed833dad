// drivers/vfio/mdev/mdev_core.c of v6.1-rc7 (tree tianrenz2/linux-6.1.0 @7c210bc387c3). struct
// mdev_parent is embedded in the vendor's data (static for mtty, kzalloc'd matrix_dev for vfio_ap);
// the mdev is added to the bus unbound, then the parent's mdev_driver is attached explicitly; the
// mdev holds a kobject reference on its type; the core counts instances only for drivers without
// get_available.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EAGAIN, EEXIST, ENODEV, ENOMEM, EUSERS } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries } from '../../../harness/kernel/list.js';
import { down_read_trylock, down_write, mutex_lock, mutex_unlock, up_read, up_write } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { device_driver_attach, device_initialize, put_mdev_device } from '../legacy/base.js';
import { check_no_orphans } from '../legacy/oracles.js';
import { globals, mdev_device, type Device, type DeviceDriver, type MdevDevice } from '../legacy/structs.js';
import { device_add, device_del, device_for_each_child } from './driver_core.js';
import { has_get_available, v6_mdev_bus } from './mdev_driver.js';
import {
  kobject_get_type,
  kobject_put_type,
  mdev_create_sysfs_files,
  mdev_remove_sysfs_files,
  parent_create_sysfs_files,
  parent_remove_sysfs_files,
} from './mdev_sysfs.js';
import type { ClassCompatV6, DeviceV6, DriverV6, ParentV6, TypeV6 } from './structs.js';
import { class_compat_create_link, class_compat_register, class_compat_remove_link } from './class.js';

export const mdev_bus = v6_mdev_bus((k, mdev) => mdev_device_release(k, mdev));
const mdev_bus_type = mdev_bus.type;

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** mdev_device_groups (mdev_sysfs.c 261-273): the core's "remove" attribute. */
const MDEV_DEVICE_GROUPS = { dir: null, attrs: ['remove'] } as const;

/**
 * mdev_register_parent (59-92): memset and init_rwsem (67-68), fields and available_instances
 * (69-73), the compat class once (75-79: read, class_compat_register, store, with no lock, so two
 * first registrations can both create it; the loser's -EEXIST stores NULL over the winner's class),
 * parent_create_sysfs_files (81), the compat link whose failure only warns (85-87) but which reads
 * the global again. `types` are the vendor's (parent->types, nr_types).
 */
export const mdev_register_parent = kfn(
  'mdev_register_parent',
  function* (k: Kernel, parent: ParentV6, dev: DeviceV6, drv: DriverV6, drv_name: string, max_instances: number) {
    yield k.at('init_rwsem');
    k.set(parent, 'unreg_sem', 0);
    k.set(parent, 'dev', dev);
    k.set(parent, 'mdev_driver', drv);
    k.set(parent, 'available_instances', max_instances);
    yield k.at('mdev_bus_compat_class');
    if (k.get(g(k), 'mdev_bus_compat_class') === 0) {
      // no lock: two first registrations may both get here (start state no-vendors)
      const cls = yield* class_compat_register(k, 'mdev_bus');
      k.set(g(k), 'mdev_bus_compat_class', cls);
      if (cls === 0) return -ENOMEM;
    }
    const ret = yield* parent_create_sysfs_files(k, parent, drv_name);
    if (ret !== 0) return ret;
    // its error only warns (86-87)
    yield* class_compat_create_link(k, k.get(g(k), 'mdev_bus_compat_class') as ClassCompatV6, dev);
    return 0;
  },
);

/** mdev_device_remove_cb (38-43). */
const mdev_device_remove_cb = kfn('mdev_device_remove_cb', function* (k: Kernel, mdev: MdevDevice) {
  yield* mdev_device_remove_common(k, mdev);
  return 0;
});

/** mdev_unregister_parent (99-113); after it returns the vendor may free the parent and types. */
export const mdev_unregister_parent = kfn('mdev_unregister_parent', function* (k: Kernel, parent: ParentV6) {
  yield* down_write(k, parent, 'unreg_sem');
  const dev = k.get(parent, 'dev') as DeviceV6;
  yield* class_compat_remove_link(k, k.get(g(k), 'mdev_bus_compat_class') as ClassCompatV6, dev);
  yield* device_for_each_child(k, mdev_bus_type, dev, mdev_device_remove_cb);
  yield* parent_remove_sysfs_files(k, parent);
  yield* up_write(k, parent, 'unreg_sem');
  check_no_orphans(k, dev as unknown as Device);
});

/** dev->release of an mdev: mdev_device_release (116-132). */
const mdev_device_release = kfn('mdev_device_release', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type->parent');
  const type = k.get(mdev, 'type') as TypeV6;
  const parent = k.get(type, 'parent') as ParentV6;
  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  list_del(k, k.get(g(k), 'mdev_list'), mdev);
  if (!has_get_available(k, k.get(parent, 'mdev_driver') as DriverV6)) {
    k.set(parent, 'available_instances', k.get(parent, 'available_instances') + 1);
  }
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');
  // Pairs with the get in mdev_device_create()
  yield* kobject_put_type(k, k.get(mdev, 'type') as TypeV6);
  yield* kfree(k, mdev);
});

/** mdev_device_remove_common (27-36); caller holds parent->unreg_sem read or write. */
const mdev_device_remove_common = kfn('mdev_device_remove_common', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type->parent');
  k.get(k.get(mdev, 'type') as TypeV6, 'parent');
  yield* mdev_remove_sysfs_files(k, mdev);
  yield* device_del(k, mdev_bus_type, mdev);
  // Balances with device_initialize()
  yield* put_mdev_device(k, mdev_bus_type, mdev);
});

/**
 * mdev_device_create (134-217). The kzalloc failure (163-167) does not give the instance back: the
 * release's bug, kept.
 */
export const mdev_device_create = kfn('mdev_device_create', function* (k: Kernel, type: TypeV6, uuid: number) {
  yield k.at('type->parent');
  const parent = k.get(type, 'parent') as ParentV6;
  const drv = k.get(parent, 'mdev_driver') as DriverV6;

  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  // Check for duplicate
  for (const tmp of list_entries<MdevDevice>(k, k.get(g(k), 'mdev_list'))) {
    if (k.get(tmp, 'uuid') === uuid) {
      yield* mutex_unlock(k, g(k), 'mdev_list_lock');
      return -EEXIST;
    }
  }
  if (!has_get_available(k, drv)) {
    const avail = k.get(parent, 'available_instances');
    if (avail === 0) {
      yield* mutex_unlock(k, g(k), 'mdev_list_lock');
      return -EUSERS;
    }
    k.set(parent, 'available_instances', avail - 1);
  }
  const mdev: MdevDevice = yield* kzalloc(k, mdev_device);
  if (mdev === 0) {
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    return -ENOMEM;
  }
  yield* device_initialize(k, mdev);
  k.set(mdev, 'dev_parent', k.get(parent, 'dev'));
  k.set(mdev, 'type', type);
  // Pairs with the put in mdev_device_release()
  yield* kobject_get_type(k, type);
  k.set(mdev, 'uuid', uuid);
  list_add(k, k.get(g(k), 'mdev_list'), mdev);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');

  yield k.at('dev_set_name');
  if (k.shouldFail('dev_set_name')) {
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return -ENOMEM;
  }

  // Check if parent unregistration has started
  if (!(yield* down_read_trylock(k, parent, 'unreg_sem', 'read'))) {
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return -ENODEV;
  }

  let ret = yield* device_add(k, mdev_bus_type, mdev, MDEV_DEVICE_GROUPS);
  if (ret === 0) {
    yield k.at('device_driver_attach');
    ret = yield* device_driver_attach(k, mdev_bus_type, drv as unknown as DeviceDriver, mdev);
    if (ret === 0) ret = yield* mdev_create_sysfs_files(k, mdev);
    if (ret === 0) {
      k.set(mdev, 'active', 1);
      yield* up_read(k, parent, 'unreg_sem');
      return 0;
    }
    // out_del
    yield* device_del(k, mdev_bus_type, mdev);
  }
  // out_unlock
  yield* up_read(k, parent, 'unreg_sem');
  // out_put_device
  yield* put_mdev_device(k, mdev_bus_type, mdev);
  return ret;
});

/** mdev_device_remove (219-250): mdev->type->parent is read first (222), before any check. */
export const mdev_device_remove = kfn('mdev_device_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type->parent');
  const parent = k.get(k.get(mdev, 'type') as TypeV6, 'parent') as ParentV6;

  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  const found = list_entries<MdevDevice>(k, k.get(g(k), 'mdev_list')).includes(mdev);
  if (!found) {
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    return -ENODEV;
  }
  if (k.get(mdev, 'active') === 0) {
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    return -EAGAIN;
  }
  k.set(mdev, 'active', 0);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');

  // Check if parent unregistration has started
  if (!(yield* down_read_trylock(k, parent, 'unreg_sem', 'read'))) return -ENODEV;

  yield* mdev_device_remove_common(k, mdev);
  yield* up_read(k, parent, 'unreg_sem');
  return 0;
});

export const core_v6 = {
  mdev_register_parent,
  mdev_unregister_parent,
  mdev_register_driver: mdev_bus.mdev_register_driver,
  mdev_unregister_driver: mdev_bus.mdev_unregister_driver,
};
export type CoreV6 = typeof core_v6;
