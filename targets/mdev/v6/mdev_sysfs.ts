// drivers/vfio/mdev/mdev_sysfs.c as of v6.x: types are the vendor's memory, set up by
// mdev_type_add with a reference on the parent device; the device's links are made after probe
// and "remove" is a core group created by device_add.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { ENOMEM, kernfs_create, kernfs_remove, kernfs_remove_self, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { list_entries } from '../../../harness/kernel/list.js';
import { kref_init, kref_put } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { get_device, put_device, uuid_name } from '../legacy/base.js';
import { kobject_name, mdev_device, mdev_type, type Device, type MdevDevice, type MdevParent, type MdevType } from '../legacy/structs.js';
import { mdev_device_create, mdev_device_remove } from './mdev_core.js';

const mdev_type_release = kfn('mdev_type_release', function* (k: Kernel, type: MdevType) {
  yield k.at('type->parent->dev');
  const parent = k.get(type, 'parent') as MdevParent;
  yield* put_device(k, k.get(parent, 'dev') as Device);
});

/** kobject_put(&type->kobj): the last reference frees the kobject's name and calls the release. */
export const mdev_type_put = kfn('kobject_put', function* (k: Kernel, type: MdevType) {
  yield* kref_put(k, type, 'kref', function* () {
    yield* kfree(k, k.get(type, 'kobj_name'));
    k.set(type, 'kobj_name', 0);
    yield* mdev_type_release(k, type);
  });
});

const mdev_type_add = kfn('mdev_type_add', function* (k: Kernel, parent: MdevParent, type: MdevType, drv_name: string) {
  yield k.at('type->parent');
  k.set(type, 'parent', parent);
  yield* get_device(k, k.get(parent, 'dev') as Device);
  kref_init(k, type, 'kref');
  yield k.at('kobject_init_and_add');
  const name = `${drv_name}-${k.siteName(k.get(type, 'name'))}`;
  k.set(type, 'kobj_name', yield* kzalloc(k, kobject_name));
  // The type's default groups ("create", "available_instances", ...) come with the directory.
  let kn = k.get(type, 'kobj_name') === 0 || k.shouldFail('kobject_init_and_add') ? 0 : yield* kernfs_create(k, k.get(parent, 'mdev_types_kset') as KernfsNode, name, 'kobject_init_and_add');
  const create = kn === 0 ? 0 : yield* kernfs_create(k, kn as KernfsNode, 'create', 'sysfs_create_groups');
  k.set(type, 'create_kn', create);
  const attrs = create === 0 ? 0 : yield* kernfs_create(k, kn as KernfsNode, 'available_instances', 'sysfs_create_groups');
  if (kn !== 0 && attrs === 0) {
    yield* kernfs_remove(k, kn as KernfsNode, 'kobject_del');
    kn = 0;
  }
  if (kn === 0) {
    yield* mdev_type_put(k, type);
    return -ENOMEM;
  }
  k.set(type, 'kn', kn);
  k.set(type, 'attr_kn', attrs);
  const devices = yield* kernfs_create(k, kn as KernfsNode, 'devices', 'kobject_create_and_add');
  if (devices === 0) {
    yield* kernfs_remove(k, kn as KernfsNode, 'kobject_del');
    yield* mdev_type_put(k, type);
    return -ENOMEM;
  }
  k.set(type, 'devices_kn', devices);
  return 0;
});

const mdev_type_remove = kfn('mdev_type_remove', function* (k: Kernel, type: MdevType) {
  yield* kernfs_remove(k, k.get(type, 'devices_kn') as KernfsNode, 'kobject_put');
  // Removing the type's directory drains the create_store calls in flight.
  yield* kernfs_remove(k, k.get(type, 'kn') as KernfsNode, 'kobject_del');
  yield* mdev_type_put(k, type);
});

/** `types` is the vendor's list of its struct mdev_type. */
export const parent_create_sysfs_files = kfn('parent_create_sysfs_files', function* (k: Kernel, parent: MdevParent, drv_name: string) {
  const dev = k.get(parent, 'dev') as Device;
  const kset = yield* kernfs_create(k, k.get(dev, 'kn') as KernfsNode, 'mdev_supported_types', 'kset_create_and_add');
  if (kset === 0) return -ENOMEM;
  k.set(parent, 'mdev_types_kset', kset);
  const added: MdevType[] = [];
  for (const type of list_entries<MdevType>(k, k.get(parent, 'type_list'))) {
    const ret = yield* mdev_type_add(k, parent, type, drv_name);
    if (ret !== 0) {
      for (const t of added) yield* mdev_type_remove(k, t);
      yield* kernfs_remove(k, kset, 'kset_unregister');
      return ret;
    }
    added.push(type);
  }
  return 0;
});

export const parent_remove_sysfs_files = kfn('parent_remove_sysfs_files', function* (k: Kernel, parent: MdevParent) {
  for (const type of list_entries<MdevType>(k, k.get(parent, 'type_list'))) yield* mdev_type_remove(k, type);
  yield* kernfs_remove(k, k.get(parent, 'mdev_types_kset') as KernfsNode, 'kset_unregister');
});

/** <type>/devices/<uuid>, then <mdev>/mdev_type. */
export const mdev_create_sysfs_files = kfn('mdev_create_sysfs_files', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type');
  const type = k.get(mdev, 'type') as MdevType;
  const devices_link = yield* kernfs_create(k, k.get(type, 'devices_kn') as KernfsNode, uuid_name(k.get(mdev, 'uuid')), 'sysfs_create_link');
  if (devices_link === 0) return -ENOMEM;
  k.set(mdev, 'devices_link_kn', devices_link);
  const type_link = yield* kernfs_create(k, k.get(mdev, 'dev_kn') as KernfsNode, 'mdev_type', 'sysfs_create_link');
  if (type_link === 0) {
    yield* kernfs_remove(k, devices_link, 'sysfs_remove_link');
    return -ENOMEM;
  }
  k.set(mdev, 'type_link_kn', type_link);
  return 0;
});

export const mdev_remove_sysfs_files = kfn('mdev_remove_sysfs_files', function* (k: Kernel, mdev: MdevDevice) {
  yield* kernfs_remove(k, k.get(mdev, 'type_link_kn') as KernfsNode, 'sysfs_remove_link');
  yield* kernfs_remove(k, k.get(mdev, 'devices_link_kn') as KernfsNode, 'sysfs_remove_link');
});

// ---- the stores ----

function type_of_create(k: Kernel, node: KernfsNode): MdevType {
  return k.find(mdev_type, (t) => k.get(t, 'create_kn') === node);
}

function mdev_of_remove(k: Kernel, node: KernfsNode): MdevDevice {
  return k.find(mdev_device, (m) => k.get(m, 'remove_kn') === node);
}

export const create_store = kfn('create_store', function* (k: Kernel, node: KernfsNode, uuid: number) {
  return yield* mdev_device_create(k, type_of_create(k, node), uuid);
});

export const remove_store = kfn('remove_store', function* (k: Kernel, node: KernfsNode) {
  const mdev = mdev_of_remove(k, node);
  if (yield* kernfs_remove_self(k, node)) {
    const ret = yield* mdev_device_remove(k, mdev);
    if (ret !== 0) return ret;
  }
  return 0;
});
