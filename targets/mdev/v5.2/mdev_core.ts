// drivers/vfio/mdev/mdev_core.c of v5.2.1 (reference A.2, Parav Pandit's merged fixes): the
// vendor creates its state before device_add, so nothing can probe or open a half-made device;
// removal is sysfs files, device_del (which waits for the last fd), then the vendor's remove; and
// parent->unreg_sem orders create and remove (read, trylock) against unregistration (write).

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EAGAIN, EEXIST, EINVAL, ENODEV, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries } from '../../../harness/kernel/list.js';
import type { Module } from '../../../harness/kernel/module.js';
import { down_read_trylock, down_write, kref_init, mutex_lock, mutex_unlock, up_read, up_write } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { device_add, device_del, device_for_each_child, device_initialize, get_device, put_device, put_mdev_device } from '../legacy/base.js';
import { legacy_mdev_bus } from '../legacy/mdev_driver.js';
import type { MdevCore } from '../legacy/ops.js';
import { check_no_orphans, remover_begins } from '../legacy/oracles.js';
import { __find_parent_device, mdev_get_parent, mdev_put_parent } from '../legacy/mdev_parent.js';
import { parent_ops } from '../legacy/registry.js';
import { globals, mdev_parent, mdev_device, type Device, type MdevDevice, type MdevParent, type MdevType } from '../legacy/structs.js';
import { parent_create_sysfs_files, parent_remove_sysfs_files, mdev_create_sysfs_files } from '../v5.0/mdev_sysfs.js';
import { mdev_remove_sysfs_files } from './mdev_sysfs.js';

const mdev_bus = legacy_mdev_bus((k, mdev) => mdev_device_release(k, mdev), 'v5.2.1');
const mdev_bus_type = mdev_bus.type;

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** mdev_device_remove_common (103-121): caller must hold parent unreg_sem read or write lock. */
const mdev_device_remove_common = kfn('mdev_device_remove_common', function* (k: Kernel, mdev: MdevDevice) {
  remover_begins(k, mdev);
  yield k.at('mdev->type_kobj');
  const type = k.get(mdev, 'type_kobj') as MdevType;
  yield* mdev_remove_sysfs_files(k, mdev, type);
  yield* device_del(k, mdev_bus_type, mdev);
  const parent = k.get(mdev, 'parent') as MdevParent;
  const ret = yield* parent_ops(k, parent).remove(k, mdev);
  if (ret !== 0) yield k.at('dev_err(Remove failed)');
  // Balances with device_initialize()
  yield* put_mdev_device(k, mdev_bus_type, mdev);
  yield* mdev_put_parent(k, parent);
});

/** mdev_device_remove_cb (123-132): ignores `active`, never stops the walk. */
const mdev_device_remove_cb = kfn('mdev_device_remove_cb', function* (k: Kernel, mdev: MdevDevice) {
  yield* mdev_device_remove_common(k, mdev);
  return 0;
});

/** mdev_register_device (142-207): a duplicate clears `parent` (160) before add_dev_err. */
export const mdev_register_device = kfn('mdev_register_device', function* (k: Kernel, dev: Device, ops: Module) {
  yield* get_device(k, dev);
  yield* mutex_lock(k, g(k), 'parent_list_lock');
  let ret = 0;
  let parent = __find_parent_device(k, dev);
  if (parent !== 0) {
    parent = 0 as MdevParent;
    ret = -EEXIST;
  } else {
    parent = yield* kzalloc(k, mdev_parent);
    if (parent === 0) {
      ret = -ENOMEM;
    } else {
      kref_init(k, parent, 'ref');
      k.set(parent, 'dev', dev);
      k.set(parent, 'ops', ops);
      yield k.at('class_compat_register');
      if (k.get(g(k), 'mdev_bus_compat_class') === 0) k.set(g(k), 'mdev_bus_compat_class', 1);
      ret = yield* parent_create_sysfs_files(k, parent);
      if (ret === 0) {
        yield k.at('class_compat_create_link');
        list_add(k, k.get(g(k), 'parent_list'), parent);
        yield* mutex_unlock(k, g(k), 'parent_list_lock');
        return 0;
      }
    }
  }
  yield* mutex_unlock(k, g(k), 'parent_list_lock');
  if (parent !== 0) yield* mdev_put_parent(k, parent);
  else yield* put_device(k, dev);
  return ret;
});

/** mdev_unregister_device (217-243): off the list, then unreg_sem for write across the walk and the types. */
export const mdev_unregister_device = kfn('mdev_unregister_device', function* (k: Kernel, dev: Device) {
  yield* mutex_lock(k, g(k), 'parent_list_lock');
  const parent = __find_parent_device(k, dev);
  if (parent === 0) {
    yield* mutex_unlock(k, g(k), 'parent_list_lock');
    return;
  }
  list_del(k, k.get(g(k), 'parent_list'), parent);
  yield* mutex_unlock(k, g(k), 'parent_list_lock');

  yield* down_write(k, parent, 'unreg_sem');
  yield k.at('class_compat_remove_link');
  yield* device_for_each_child(k, mdev_bus_type, dev, mdev_device_remove_cb);
  yield* parent_remove_sysfs_files(k, parent);
  yield* up_write(k, parent, 'unreg_sem');
  yield* mdev_put_parent(k, parent);
  check_no_orphans(k, dev);
});

/** mdev_device_free (246-254). */
const mdev_device_free = kfn('mdev_device_free', function* (k: Kernel, mdev: MdevDevice) {
  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  list_del(k, k.get(g(k), 'mdev_list'), mdev);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');
  yield* kfree(k, mdev);
});

/** mdev_device_release (256-261): dev->release. */
const mdev_device_release = kfn('mdev_device_release', function* (k: Kernel, mdev: MdevDevice) {
  yield* mdev_device_free(k, mdev);
});

/** mdev_device_create (263-342): trylock (300), vendor create (314) before device_add (318), sysfs files, active; unwinds 332-341. */
export const mdev_device_create = kfn('mdev_device_create', function* (k: Kernel, kobj: MdevType, dev: Device, uuid: number) {
  yield k.at('type->parent');
  const parent = yield* mdev_get_parent(k, k.get(kobj, 'parent') as MdevParent);
  if (parent === 0) return -EINVAL;

  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  // Check for duplicate
  for (const tmp of list_entries<MdevDevice>(k, k.get(g(k), 'mdev_list'))) {
    if (k.get(tmp, 'uuid') === uuid) {
      yield* mutex_unlock(k, g(k), 'mdev_list_lock');
      yield* mdev_put_parent(k, parent);
      return -EEXIST;
    }
  }
  const mdev: MdevDevice = yield* kzalloc(k, mdev_device);
  if (mdev === 0) {
    yield* mutex_unlock(k, g(k), 'mdev_list_lock');
    yield* mdev_put_parent(k, parent);
    return -ENOMEM;
  }
  k.set(mdev, 'uuid', uuid);
  list_add(k, k.get(g(k), 'mdev_list'), mdev);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');

  k.set(mdev, 'parent', parent);

  // Check if parent unregistration has started
  if (!(yield* down_read_trylock(k, parent, 'unreg_sem', 'cmpxchg'))) {
    yield* mdev_device_free(k, mdev);
    yield* mdev_put_parent(k, parent);
    return -ENODEV;
  }

  yield* device_initialize(k, mdev);
  k.set(mdev, 'dev_parent', dev);
  const ops = parent_ops(k, parent);
  k.set(mdev, 'type_kobj', kobj);

  let ret = yield* ops.create(k, kobj, mdev);
  if (ret === 0) {
    ret = yield* device_add(k, mdev_bus_type, mdev, { dir: 'vendor', attrs: ops.mdev_attr_groups });
    if (ret === 0) {
      ret = yield* mdev_create_sysfs_files(k, mdev, kobj);
      if (ret === 0) {
        yield k.at('mdev->active');
        k.set(mdev, 'active', 1);
        yield* up_read(k, parent, 'unreg_sem');
        return 0;
      }
      // sysfs_fail:
      yield* device_del(k, mdev_bus_type, mdev);
    }
    // add_fail:
    yield* parent_ops(k, parent).remove(k, mdev);
  }
  // ops_create_fail:
  yield* up_read(k, parent, 'unreg_sem');
  yield* put_mdev_device(k, mdev_bus_type, mdev);
  yield* mdev_put_parent(k, parent);
  return ret;
});

/** mdev_device_remove (344-378): active gate (361-368), mdev->parent read after the unlock (370), trylock (372). */
export const mdev_device_remove = kfn('mdev_device_remove', function* (k: Kernel, mdev: MdevDevice) {
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

  yield k.at('mdev->parent');
  const parent = k.get(mdev, 'parent') as MdevParent;
  // Check if parent unregistration has started
  if (!(yield* down_read_trylock(k, parent, 'unreg_sem', 'cmpxchg'))) return -ENODEV;

  yield* mdev_device_remove_common(k, mdev);
  yield* up_read(k, parent, 'unreg_sem');
  return 0;
});

export const core_v5_2: MdevCore = {
  mdev_register_device,
  mdev_unregister_device,
  mdev_register_driver: mdev_bus.mdev_register_driver,
  mdev_unregister_driver: mdev_bus.mdev_unregister_driver,
};
