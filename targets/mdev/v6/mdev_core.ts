// drivers/vfio/mdev/mdev_core.c as of v6.x (reference A.3): struct mdev_parent is embedded in the
// vendor's data; the device is added to the bus with no driver (it cannot be opened), then the
// vendor's mdev_driver is attached explicitly and builds its state in probe; the mdev holds a
// reference on its type; available_instances is counted by the core.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EAGAIN, EEXIST, ENODEV, ENOMEM, EUSERS } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries } from '../../../harness/kernel/list.js';
import { down_read_trylock, down_write, kref_get, mutex_lock, mutex_unlock, up_read, up_write } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { device_add, device_del, device_driver_attach, device_for_each_child, device_initialize, put_mdev_device } from '../legacy/base.js';
import { check_no_orphans } from '../legacy/oracles.js';
import { globals, mdev_device, type Device, type DeviceDriver, type MdevDevice, type MdevParent, type MdevType } from '../legacy/structs.js';
import { v6_mdev_bus } from './mdev_driver.js';
import {
  mdev_create_sysfs_files,
  mdev_remove_sysfs_files,
  mdev_type_put,
  parent_create_sysfs_files,
  parent_remove_sysfs_files,
} from './mdev_sysfs.js';

const mdev_bus = v6_mdev_bus((k, mdev) => mdev_device_release(k, mdev));
const mdev_bus_type = mdev_bus.type;

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** mdev_device_groups: the core's "remove" attribute. */
const MDEV_DEVICE_GROUPS = { dir: null, attrs: ['remove'] } as const;

/** `parent` is the vendor's; its type_list already holds the vendor's types. */
export const mdev_register_parent = kfn(
  'mdev_register_parent',
  function* (k: Kernel, parent: MdevParent, dev: Device, drv: DeviceDriver, drv_name: string, max_instances: number) {
    yield k.at('init_rwsem');
    k.set(parent, 'unreg_sem', 0);
    k.set(parent, 'dev', dev);
    k.set(parent, 'mdev_driver', drv);
    k.set(parent, 'available_instances', max_instances);
    yield k.at('mdev_bus_compat_class');
    const ret = yield* parent_create_sysfs_files(k, parent, drv_name);
    if (ret !== 0) return ret;
    yield k.at('class_compat_create_link');
    return 0;
  },
);

const mdev_device_remove_cb = kfn('mdev_device_remove_cb', function* (k: Kernel, mdev: MdevDevice) {
  yield* mdev_device_remove_common(k, mdev);
  return 0;
});

/** After it returns the vendor may free the parent and the types. */
export const mdev_unregister_parent = kfn('mdev_unregister_parent', function* (k: Kernel, parent: MdevParent) {
  yield* down_write(k, parent, 'unreg_sem');
  yield k.at('class_compat_remove_link');
  const dev = k.get(parent, 'dev') as Device;
  yield* device_for_each_child(k, mdev_bus_type, dev, mdev_device_remove_cb);
  yield* parent_remove_sysfs_files(k, parent);
  yield* up_write(k, parent, 'unreg_sem');
  check_no_orphans(k, dev);
});

/** dev->release */
const mdev_device_release = kfn('mdev_device_release', function* (k: Kernel, mdev: MdevDevice) {
  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  list_del(k, k.get(g(k), 'mdev_list'), mdev);
  const type = k.get(mdev, 'type') as MdevType;
  const parent = k.get(type, 'parent') as MdevParent;
  k.set(parent, 'available_instances', k.get(parent, 'available_instances') + 1);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');
  yield* mdev_type_put(k, type);
  yield* kfree(k, mdev);
});

/** Caller must hold parent unreg_sem read or write lock. */
const mdev_device_remove_common = kfn('mdev_device_remove_common', function* (k: Kernel, mdev: MdevDevice) {
  yield* mdev_remove_sysfs_files(k, mdev);
  yield* device_del(k, mdev_bus_type, mdev);
  // Balances with device_initialize()
  yield* put_mdev_device(k, mdev_bus_type, mdev);
});

export const mdev_device_create = kfn('mdev_device_create', function* (k: Kernel, type: MdevType, uuid: number) {
  yield k.at('type->parent');
  const parent = k.get(type, 'parent') as MdevParent;

  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  // Check for duplicate
  for (const tmp of list_entries<MdevDevice>(k, k.get(g(k), 'mdev_list'))) {
    if (k.get(tmp, 'uuid') === uuid) {
      yield* mutex_unlock(k, g(k), 'mdev_list_lock');
      return -EEXIST;
    }
  }
  const avail = k.get(parent, 'available_instances');
  if (avail === 0) {
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    return -EUSERS;
  }
  k.set(parent, 'available_instances', avail - 1);
  const mdev: MdevDevice = yield* kzalloc(k, mdev_device);
  if (mdev === 0) {
    k.set(parent, 'available_instances', k.get(parent, 'available_instances') + 1);
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    return -ENOMEM;
  }
  yield* device_initialize(k, mdev);
  k.set(mdev, 'dev_parent', k.get(parent, 'dev'));
  k.set(mdev, 'type', type);
  yield* kref_get(k, type, 'kref');
  k.set(mdev, 'uuid', uuid);
  list_add(k, k.get(g(k), 'mdev_list'), mdev);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');

  yield k.at('dev_set_name');
  if (k.shouldFail('dev_set_name')) {
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return -ENOMEM;
  }

  if (!(yield* down_read_trylock(k, parent, 'unreg_sem'))) {
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return -ENODEV;
  }

  let ret = yield* device_add(k, mdev_bus_type, mdev, MDEV_DEVICE_GROUPS);
  if (ret !== 0) {
    yield* up_read(k, parent, 'unreg_sem');
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return ret;
  }

  yield k.at('parent->mdev_driver');
  ret = yield* device_driver_attach(k, mdev_bus_type, k.get(parent, 'mdev_driver') as DeviceDriver, mdev);
  if (ret === 0) ret = yield* mdev_create_sysfs_files(k, mdev);
  if (ret !== 0) {
    yield* device_del(k, mdev_bus_type, mdev);
    yield* up_read(k, parent, 'unreg_sem');
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    return ret;
  }

  yield k.at('mdev->active');
  k.set(mdev, 'active', 1);
  yield* up_read(k, parent, 'unreg_sem');
  return 0;
});

export const mdev_device_remove = kfn('mdev_device_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type->parent');
  const parent = k.get(k.get(mdev, 'type') as MdevType, 'parent') as MdevParent;

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
  if (!(yield* down_read_trylock(k, parent, 'unreg_sem'))) return -ENODEV;

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
