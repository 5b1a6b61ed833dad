// drivers/vfio/mdev/mdev_sysfs.c of v5.0.1: the parent's mdev_supported_types with a "create"
// file per type, and the device's links and "remove" file. Note add_mdev_supported_type sets
// type->parent only after "create" is live, and type->devices_kobj is a kobject of its own, freed
// by the kobject_put of remove_mdev_supported_type while the type still points at it.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import {
  ENOMEM,
  kernfs_create,
  kernfs_remove,
  kernfs_remove_self,
  sysfs_create_file_ns,
  sysfs_create_link,
  sysfs_remove_link,
  type KernfsNode,
  type KobjSd,
} from '../../../harness/kernel/kernfs.js';
import { kobject_create_and_add, kobject_put, type Kobject } from '../../../harness/kernel/kobject.js';
import { list_add, list_entries, list_new } from '../../../harness/kernel/list.js';
import { kref_put } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import type { ParentOps } from '../legacy/ops.js';
import { uuid_name } from '../legacy/base.js';
import { device, kobject_name, mdev_device, mdev_type, type Device, type MdevDevice, type MdevParent, type MdevType } from '../legacy/structs.js';
import type { Module } from '../../../harness/kernel/module.js';
import { parent_ops, VENDORS } from '../legacy/registry.js';
import { mdev_device_create, mdev_device_remove } from './mdev_core.js';

function driver_name(k: Kernel, parent: MdevParent): string {
  const mod = k.get(parent, 'ops') as Module;
  const name = k.siteName(k.get(mod, 'name'));
  return VENDORS.find((v) => v.name === name)?.driver_name ?? name;
}

/** kobject_init_and_add: the name is allocated first (kobject_set_name), so a failing add leaves it set. */
const kobject_init_and_add = kfn('kobject_init_and_add', function* (k: Kernel, type: MdevType, parent_kn: KernfsNode, name: string) {
  const kname = yield* kzalloc(k, kobject_name);
  if (kname === 0) return -ENOMEM;
  k.set(type, 'kobj_name', kname);
  k.set(type, 'kref', 1);
  const kn = k.shouldFail('kobject_init_and_add') ? 0 : yield* kernfs_create(k, parent_kn, name, 'kobject_add_internal');
  if (kn === 0) return -ENOMEM;
  k.set(type, 'kn', kn);
  return 0;
});

/** kobject_put(&type->kobj): the last reference frees the name, then mdev_type_release frees the type. */
const mdev_type_put = kfn('kobject_put', function* (k: Kernel, type: MdevType) {
  yield* kref_put(k, type, 'kref', function* () {
    yield* kfree(k, k.get(type, 'kobj_name'));
    yield* kfree(k, type);
  });
});

/** add_mdev_supported_type (mdev_sysfs.c 95-149, v5.0.1): "create" (120) before "devices" (124), type->parent last (138). */
const add_mdev_supported_type = kfn('add_mdev_supported_type', function* (k: Kernel, parent: MdevParent, group: string) {
  const type: MdevType = yield* kzalloc(k, mdev_type);
  if (type === 0) return -ENOMEM;
  const name = `${driver_name(k, parent)}-${group}`;
  k.set(type, 'name', k.intern(name));
  let ret = yield* kobject_init_and_add(k, type, k.get(parent, 'mdev_types_kset') as KernfsNode, name);
  if (ret !== 0) {
    // Until v5.8 (aa8ba13cae31) the type is freed directly, so the kobject's name leaks.
    yield* kfree(k, type);
    return ret;
  }
  const kn = k.get(type, 'kn') as KernfsNode;
  ret = -ENOMEM;
  const create = yield* kernfs_create(k, kn, 'create', 'sysfs_create_file');
  if (create !== 0) {
    k.set(type, 'create_kn', create);
    const devices = yield* kobject_create_and_add(k, 'devices', kn);
    if (devices !== 0) {
      k.set(type, 'devices_kobj', devices);
      const attrs = yield* kernfs_create(k, kn, 'available_instances', 'sysfs_create_files');
      if (attrs !== 0) {
        k.set(type, 'attr_kn', attrs);
        yield k.at('type->parent');
        k.set(type, 'parent', parent);
        list_add(k, k.get(parent, 'type_list'), type);
        return 0;
      }
      yield* kobject_put(k, devices);
    }
    yield* kernfs_remove(k, create, 'sysfs_remove_file');
  }
  yield* kernfs_remove(k, kn, 'kobject_del');
  yield* mdev_type_put(k, type);
  return ret;
});

/** remove_mdev_supported_type (151-159): the put frees devices_kobj; removing "create" drains the create_store calls in flight. */
const remove_mdev_supported_type = kfn('remove_mdev_supported_type', function* (k: Kernel, type: MdevType) {
  yield* kernfs_remove(k, k.get(type, 'attr_kn') as KernfsNode, 'sysfs_remove_files');
  yield* kobject_put(k, k.get(type, 'devices_kobj') as Kobject);
  yield* kernfs_remove(k, k.get(type, 'create_kn') as KernfsNode, 'sysfs_remove_file');
  yield* kernfs_remove(k, k.get(type, 'kn') as KernfsNode, 'kobject_del');
  yield* mdev_type_put(k, type);
});

export const parent_create_sysfs_files = kfn('parent_create_sysfs_files', function* (k: Kernel, parent: MdevParent) {
  const dev = k.get(parent, 'dev') as Device;
  const kset = yield* kernfs_create(k, k.get(dev, 'kn') as KernfsNode, 'mdev_supported_types', 'kset_create_and_add');
  if (kset === 0) return -ENOMEM;
  k.set(parent, 'mdev_types_kset', kset);
  k.set(parent, 'type_list', list_new(k, k.at('INIT_LIST_HEAD')));
  const ops: ParentOps = parent_ops(k, parent);
  for (const group of ops.supported_type_groups) {
    const ret = yield* add_mdev_supported_type(k, parent, group);
    if (ret !== 0) {
      for (const type of list_entries<MdevType>(k, k.get(parent, 'type_list'))) yield* remove_mdev_supported_type(k, type);
      k.free(k.get(parent, 'type_list'), k.at('kfree'));
      k.set(parent, 'type_list', 0);
      yield* kernfs_remove(k, kset, 'kset_unregister');
      return ret;
    }
  }
  return 0;
});

export const parent_remove_sysfs_files = kfn('parent_remove_sysfs_files', function* (k: Kernel, parent: MdevParent) {
  for (const type of list_entries<MdevType>(k, k.get(parent, 'type_list'))) yield* remove_mdev_supported_type(k, type);
  k.free(k.get(parent, 'type_list'), k.at('kfree'));
  k.set(parent, 'type_list', 0);
  yield* kernfs_remove(k, k.get(parent, 'mdev_types_kset') as KernfsNode, 'kset_unregister');
});

/** type->devices_kobj as sysfs sees it: NULL is the sysfs root. */
export function devices_kobj(k: Kernel, type: MdevType): KobjSd | null {
  const kobj = k.get(type, 'devices_kobj');
  return kobj === 0 ? null : [kobj, 'sd'];
}

const dev_kobj = (mdev: MdevDevice): KobjSd => [mdev, 'dev_kn'];

/** mdev_create_sysfs_files (mdev_sysfs.c 256-279, v5.0.1): <type>/devices/<uuid>, mdev_type, then "remove". */
export const mdev_create_sysfs_files = kfn('mdev_create_sysfs_files', function* (k: Kernel, mdev: MdevDevice, type: MdevType) {
  const name = uuid_name(k.get(mdev, 'uuid'));
  yield k.at('type->devices_kobj');
  let ret = yield* sysfs_create_link(k, devices_kobj(k, type), dev_kobj(mdev), name);
  if (ret < 0) return ret;
  ret = yield* sysfs_create_link(k, dev_kobj(mdev), [type, 'kn'], 'mdev_type');
  if (ret >= 0) {
    ret = yield* sysfs_create_files(k, mdev);
    if (ret >= 0) return 0;
    yield* sysfs_remove_link(k, dev_kobj(mdev), 'mdev_type');
  }
  yield k.at('type->devices_kobj');
  yield* sysfs_remove_link(k, devices_kobj(k, type), name);
  return ret;
});

/** sysfs_create_files(&dev->kobj, mdev_device_attrs): "remove"; the node is kept for container_of. */
const sysfs_create_files = kfn('sysfs_create_files', function* (k: Kernel, mdev: MdevDevice) {
  const ret = yield* sysfs_create_file_ns(k, dev_kobj(mdev), 'remove');
  if (ret > 0) k.set(mdev, 'remove_kn', ret);
  return ret;
});

/** sysfs_remove_files(&dev->kobj, mdev_device_attrs): kernfs_remove_by_name of "remove". */
export const sysfs_remove_files = kfn('sysfs_remove_files', function* (k: Kernel, mdev: MdevDevice) {
  yield* sysfs_remove_link(k, dev_kobj(mdev), 'remove');
});

/** mdev_remove_sysfs_files (281-286, v5.0.1): mdev_type link, devices/<uuid> link, then "remove" (not the mirror of creation). */
export const mdev_remove_sysfs_files = kfn('mdev_remove_sysfs_files', function* (k: Kernel, mdev: MdevDevice, type: MdevType) {
  yield* sysfs_remove_link(k, dev_kobj(mdev), 'mdev_type');
  yield k.at('type->devices_kobj');
  yield* sysfs_remove_link(k, devices_kobj(k, type), uuid_name(k.get(mdev, 'uuid')));
  yield* sysfs_remove_files(k, mdev);
});

/** device_remove_file_self(dev, &dev_attr_remove): true only for the writer that removed it. */
export const device_remove_file_self = kfn('device_remove_file_self', function* (k: Kernel, node: KernfsNode) {
  return yield* kernfs_remove_self(k, node);
});

/**
 * device_create_file (drivers/base/core.c 1402-1418, v5.0.1) → sysfs_create_file: it only reads
 * kobj->sd. The new node is not written back into the device (the model finds it by its parent).
 */
export const device_create_file = kfn('device_create_file', function* (k: Kernel, mdev: MdevDevice) {
  const ret = yield* sysfs_create_file_ns(k, dev_kobj(mdev), 'remove');
  return ret < 0 ? ret : 0;
});

// ---- the stores of "create" and "remove" ----

/** The mdev_type whose "create" file this is (container_of). */
function type_of_create(k: Kernel, node: KernfsNode): MdevType {
  return k.live(mdev_type).find((t) => k.get(t, 'create_kn') === node) ?? (0 as MdevType);
}

/** The mdev whose "remove" file this is (container_of via the file's directory, kobj->sd). */
export function mdev_of_remove(k: Kernel, node: KernfsNode): MdevDevice {
  const dir = k.get(node, 'parent');
  return k.live(mdev_device).find((m) => k.get(m, 'dev_kn') === dir) ?? (0 as MdevDevice);
}

/**
 * The store of a type's "create" file around a version's mdev_device_create: mdev_type_attr_store
 * (mdev_sysfs.c 36-47 v5.0.1, 33-44 v5.2.1), the sysfs_ops store of every type attribute, calls
 * attr->store(&type->kobj, type->parent->dev, ...), create_store (54-78 v5.0.1, 51-75 v5.2.1).
 * add_mdev_supported_type makes "create" live (120, 117) before it sets type->parent (138, 135):
 * a write in that window reads ->dev of a NULL parent.
 */
export function create_store_of(mdev_device_create: (k: Kernel, kobj: MdevType, dev: Device, uuid: number) => Gen<number>) {
  const create_store = kfn('create_store', function* (k: Kernel, kobj: MdevType, dev: Device, uuid: number) {
    return yield* mdev_device_create(k, kobj, dev, uuid);
  });
  return kfn('mdev_type_attr_store', function* (k: Kernel, node: KernfsNode, uuid: number) {
    const type = type_of_create(k, node);
    yield k.at('type->parent->dev');
    const dev = k.get(k.get(type, 'parent') as MdevParent, 'dev') as Device;
    return yield* create_store(k, type, dev, uuid);
  });
}

export const create_store = create_store_of((k, kobj, dev, uuid) => mdev_device_create(k, kobj, dev, uuid));

export const remove_store = kfn('remove_store', function* (k: Kernel, node: KernfsNode) {
  const mdev = mdev_of_remove(k, node);
  if (yield* device_remove_file_self(k, node)) {
    const ret = yield* mdev_device_remove(k, mdev, false);
    if (ret !== 0) {
      yield* device_create_file(k, mdev);
      return ret;
    }
  }
  return 0;
});
