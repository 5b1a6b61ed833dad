// drivers/vfio/mdev/mdev_core.c of v5.0.1 (reference A.1). The device is registered on the bus,
// and so can be probed and opened, before the vendor's create runs; remove calls the vendor first,
// while the device is still bound and open; parent unregistration walks the children under
// parent_list_lock and stops at the first child that is busy; nothing pins the vendor module.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { EAGAIN, EBUSY, EEXIST, EINVAL, ENODEV, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries } from '../../../harness/kernel/list.js';
import type { Module } from '../../../harness/kernel/module.js';
import { kref_init, mutex_lock, mutex_unlock } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { device_add_groups, device_remove_groups, device_register, device_unregister, device_for_each_child, get_device, put_device, put_mdev_device } from '../legacy/base.js';
import { legacy_mdev_bus } from '../legacy/mdev_driver.js';
import type { MdevCore } from '../legacy/ops.js';
import { __find_parent_device, mdev_get_parent, mdev_put_parent } from '../legacy/mdev_parent.js';
import { parent_ops } from '../legacy/registry.js';
import { globals, mdev_device, mdev_parent, type Device, type MdevDevice, type MdevParent, type MdevType, type VfioDevice } from '../legacy/structs.js';
import { check_no_orphans, remover_begins, remover_ends } from '../legacy/oracles.js';
import {
  mdev_create_sysfs_files,
  mdev_remove_sysfs_files,
  parent_create_sysfs_files,
  parent_remove_sysfs_files,
} from './mdev_sysfs.js';

const mdev_bus = legacy_mdev_bus((k, mdev) => mdev_device_release(k, mdev), 'v5.0.1');
const mdev_bus_type = mdev_bus.type;

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** mdev_register_device (mdev_core.c 167-229): on a duplicate `parent` still points at the existing one (184-187, 222-228). Simplified: no ops sanity check (173), no parent dev_attr_groups (sysfs 211-219). */
export const mdev_register_device = kfn('mdev_register_device', function* (k: Kernel, dev: Device, ops: Module) {
  yield* get_device(k, dev);
  yield* mutex_lock(k, g(k), 'parent_list_lock');
  let ret = 0;
  // Check for duplicate
  let parent = __find_parent_device(k, dev);
  if (parent !== 0) {
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
  // add_dev_err: in v5.0 `parent` still points at the existing parent after a duplicate.
  yield* mutex_unlock(k, g(k), 'parent_list_lock');
  if (parent !== 0) yield* mdev_put_parent(k, parent);
  else yield* put_device(k, dev);
  return ret;
});

/** mdev_device_remove_cb (151-157): any error stops device_for_each_child (core.c 2244). */
const mdev_device_remove_cb = kfn('mdev_device_remove_cb', function* (k: Kernel, dev: MdevDevice, force_remove: boolean) {
  return yield* mdev_device_remove(k, dev, force_remove);
});

/** mdev_unregister_device (240-264): parent_list_lock held across the children walk and the types' removal. */
export const mdev_unregister_device = kfn('mdev_unregister_device', function* (k: Kernel, dev: Device) {
  yield* mutex_lock(k, g(k), 'parent_list_lock');
  const parent = __find_parent_device(k, dev);
  if (parent === 0) {
    yield* mutex_unlock(k, g(k), 'parent_list_lock');
    return;
  }
  list_del(k, k.get(g(k), 'parent_list'), parent);
  yield k.at('class_compat_remove_link');
  yield* device_for_each_child(k, mdev_bus_type, dev, (k, child) => mdev_device_remove_cb(k, child, true));
  yield* parent_remove_sysfs_files(k, parent);
  yield* mutex_unlock(k, g(k), 'parent_list_lock');
  yield* mdev_put_parent(k, parent);
  check_no_orphans(k, dev);
});

/** mdev_device_release (267-277): dev->release. */
export const mdev_device_release = kfn('mdev_device_release', function* (k: Kernel, mdev: MdevDevice) {
  yield* mutex_lock(k, g(k), 'mdev_list_lock');
  list_del(k, k.get(g(k), 'mdev_list'), mdev);
  yield* mutex_unlock(k, g(k), 'mdev_list_lock');
  yield* kfree(k, mdev);
});

/** mdev_device_create_ops (106-124): vendor create, then its groups; a group error undoes the create, ignoring the result (119). */
const mdev_device_create_ops = kfn('mdev_device_create_ops', function* (k: Kernel, kobj: MdevType, mdev: MdevDevice) {
  const parent = k.get(mdev, 'parent') as MdevParent;
  const ops = parent_ops(k, parent);
  if (k.shouldFail('vendor_create')) return -ENOMEM;
  let ret = yield* ops.create(k, kobj, mdev);
  if (ret !== 0) return ret;
  ret = yield* sysfs_create_groups(k, mdev, ops.mdev_attr_groups);
  if (ret !== 0) yield* parent_ops(k, parent).remove(k, mdev);
  return ret;
});

/**
 * mdev_device_remove_ops (134-149): the vendor remove (143), refused only when not forced; then its
 * groups (147). A static helper the compiler inlines into its callers (mdev_device_remove, 380, and
 * mdev_device_create's error path, 332): Parav's P5 oops names mdev_device_remove, so it has no
 * frame of its own and a report in it names the caller.
 */
function* mdev_device_remove_ops(k: Kernel, mdev: MdevDevice, force_remove: boolean): Gen<number> {
  const parent = k.get(mdev, 'parent') as MdevParent;
  const ops = parent_ops(k, parent);
  check_remove_mirrors_create(k, mdev);
  // Vendor driver's remove() callback can fail only if the device is in use and force is false.
  const ret = yield* ops.remove(k, mdev);
  if (ret !== 0 && !force_remove) return -EBUSY;
  yield* sysfs_remove_groups(k, mdev);
  return 0;
}

/** sysfs_create_groups(&mdev->dev.kobj, parent->ops->mdev_attr_groups) */
const sysfs_create_groups = kfn('sysfs_create_groups', function* (k: Kernel, mdev: MdevDevice, attrs: readonly string[]) {
  return attrs.length === 0 ? 0 : yield* device_add_groups(k, mdev, { dir: 'vendor', attrs });
});

const sysfs_remove_groups = kfn('sysfs_remove_groups', function* (k: Kernel, mdev: MdevDevice) {
  if (k.get(mdev, 'dev_groups_kn') !== 0) yield* device_remove_groups(k, mdev);
});

/** mdev_device_create (279-347): device_register (320) before the vendor create (326), then the sysfs files (330), active (337) without a lock. */
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
  kref_init(k, mdev, 'ref');
  k.set(mdev, 'dev_parent', dev);

  let ret = yield* device_register(k, mdev_bus_type, mdev);
  if (ret !== 0) {
    yield* put_mdev_device(k, mdev_bus_type, mdev);
    yield* mdev_put_parent(k, parent);
    return ret;
  }

  ret = yield* mdev_device_create_ops(k, kobj, mdev);
  if (ret === 0) {
    ret = yield* mdev_create_sysfs_files(k, mdev, kobj);
    if (ret !== 0) yield* mdev_device_remove_ops(k, mdev, true);
  }
  if (ret !== 0) {
    // create_fail: unbinding vfio waits for any fd a fast open already has.
    yield* device_unregister(k, mdev_bus_type, mdev);
    yield* mdev_put_parent(k, parent);
    return ret;
  }

  k.set(mdev, 'type_kobj', kobj);
  yield k.at('mdev->active');
  k.set(mdev, 'active', 1);
  return 0;
});

/** mdev_device_remove (349-391): the active gate under mdev_list_lock (369-375), vendor remove (380) before device_unregister (387). */
export const mdev_device_remove = kfn('mdev_device_remove', function* (k: Kernel, mdev: MdevDevice, force_remove: boolean) {
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
  remover_begins(k, mdev);

  yield k.at('mdev->type_kobj');
  const type = k.get(mdev, 'type_kobj') as MdevType;
  const parent = k.get(mdev, 'parent') as MdevParent;

  const ret = yield* mdev_device_remove_ops(k, mdev, force_remove);
  if (ret !== 0) {
    yield k.at('mdev->active');
    k.set(mdev, 'active', 1);
    remover_ends(k, mdev);
    return ret;
  }

  yield* mdev_remove_sysfs_files(k, mdev, type);
  yield* device_unregister(k, mdev_bus_type, mdev);
  yield* mdev_put_parent(k, parent);
  return 0;
});

/** The invariant of reference D.2.3, checked where v5.0 calls the vendor's remove. */
function check_remove_mirrors_create(k: Kernel, mdev: MdevDevice): void {
  const device = k.get(mdev, 'dev_drvdata');
  if (device !== 0 && k.isLive(device) && k.get(device as VfioDevice, 'kref') > 1) {
    k.warn('invariant', `invariant: remove mirrors create in ${k.fn()}`, ['reference D.2.3: vendor teardown runs while an fd is open']);
  }
}

export const core_v5_0: MdevCore = {
  mdev_register_device,
  mdev_unregister_device,
  mdev_register_driver: mdev_bus.mdev_register_driver,
  mdev_unregister_driver: mdev_bus.mdev_unregister_driver,
};
