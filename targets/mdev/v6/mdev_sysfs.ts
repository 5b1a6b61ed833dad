// drivers/vfio/mdev/mdev_sysfs.c of v6.1-rc7. The types are the vendor's memory (mtty: static
// mtty_types[], mtty.c 146-159; vfio_ap: embedded in kzalloc'd matrix_dev), so an access to a
// type or parent of a freed module faults (module_static, harness/kernel/module.ts). The type's kobject refcount is
// `kref`, its sysfs directory `kn`; "devices" is a kobject of its own (devices_kobj).

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { ENOMEM, kernfs_create, kernfs_remove, kernfs_remove_self, sysfs_create_link, sysfs_remove_link, type KernfsNode, type KobjSd } from '../../../harness/kernel/kernfs.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { uuid_name } from '../legacy/base.js';
import { kobject_name, mdev_device, type MdevDevice } from '../legacy/structs.js';
import { get_device, put_device } from './driver_core.js';
import { mdev_device_create, mdev_device_remove } from './mdev_core.js';
import { kobject_create_and_add, kobject_put, kset_create_and_add, kset_get, kset_put, kset_unregister } from './sysfs.js';
import { mdev_type_v6, type DeviceV6, type KobjectV6, type ParentV6, type TypeV6 } from './structs.js';

/** mdev_type_release (154-161): put_device(type->parent->dev), pairing with mdev_type_add's get. */
const mdev_type_release = kfn('mdev_type_release', function* (k: Kernel, type: TypeV6) {
  yield k.at('type->parent->dev');
  const parent = k.get(type, 'parent') as ParentV6;
  yield* put_device(k, k.get(parent, 'dev') as DeviceV6);
});

export const kobject_get_type = kfn('kobject_get', function* (k: Kernel, type: TypeV6) {
  yield k.at('kref_get(kref)');
  const old = k.get(type, 'kref');
  if (old <= 0) k.warn('refcount', `refcount_t: addition on 0; use-after-free in ${k.fn()}`, ['type kobj.kref']);
  k.set(type, 'kref', old + 1);
});

/**
 * kobject_put(&type->kobj) (lib/kobject.c 714-723, 647): the last put frees the name and calls the
 * release. A type whose kobject was never initialized (parent_remove_sysfs_files after out_err
 * stopped before it: mdev_type_add sets type->parent, 174, right before kobject_init_and_add, 178)
 * WARNs first (717-720), then kref_put underflows.
 */
export const kobject_put_type = kfn('kobject_put', function* (k: Kernel, type: TypeV6) {
  yield k.at('kref_put(kref)');
  if (k.get(type, 'parent') === 0) {
    k.warn('refcount', 'WARNING in kobject_put', ["kobject: '(null)': is not initialized, yet kobject_put() is being called."]);
  }
  const old = k.get(type, 'kref');
  if (old <= 0) {
    k.warn('refcount', `refcount_t: underflow; use-after-free in ${k.fn()}`, ['type kobj.kref']);
    return;
  }
  k.set(type, 'kref', old - 1);
  if (old !== 1) return;
  // kobject_cleanup: remove from sysfs if the caller did not (it has, 203), free the name, release
  yield* kfree(k, k.get(type, 'kobj_name'));
  k.set(type, 'kobj_name', 0);
  yield* mdev_type_release(k, type);
});

/**
 * kobject_del(&type->kobj) (lib/kobject.c 603-616 → __kobject_del 570-594): the directory goes,
 * draining the stores in flight. A type without a directory (never added, or deleted before:
 * parent_create_sysfs_files's out_err and a later parent_remove_sysfs_files delete it twice)
 * with its ktype reaches sysfs_remove_groups (579) with kobj->sd NULL: mdev_type_core_group has no name
 * (mdev_sysfs.c 144-147), so remove_files passes the NULL directory to kernfs_remove_by_name_ns
 * (group.c 272, 284-288, 26-28), which WARNs (kernfs/dir.c 1624-1627). Every kobject_del of a type
 * in the kset leaves it (kobj_kset_leave, 592, 177: a kset_put, also on a second kobject_del) and
 * the first drops the parent reference too (610-612); the put that ends the kset's count frees it.
 */
const kobject_del_type = kfn('kobject_del', function* (k: Kernel, type: TypeV6) {
  const kn = k.get(type, 'kn') as KernfsNode;
  if (kn === 0) {
    yield k.at('sysfs_remove_groups');
    // never initialized (type->parent unset, see kobject_put_type): no ktype, so no groups (576-579)
    if (k.get(type, 'parent') === 0) return;
    k.warn('sysfs-warn', 'WARNING in kernfs_remove_by_name_ns', ["kernfs: can not remove 'create', no directory"]);
  } else {
    yield* kernfs_remove(k, kn, 'kobject_del');
    k.set(type, 'kn', 0);
  }
  const kset = k.get(type, 'kset') as KobjectV6;
  if (kset !== 0) yield* kset_put(k, kset);
  if (k.get(type, 'kobj_parent') !== 0) {
    k.set(type, 'kobj_parent', 0);
    yield* kset_put(k, kset);
  }
});

/**
 * mdev_type_add (169-198): type->parent and get_device(parent->dev) (173-176); kobject_init_and_add
 * (178) creates the directory with its default group (create, available_instances, ...: 126-152),
 * so "create" is writable before devices_kobj exists (186).
 */
const mdev_type_add = kfn('mdev_type_add', function* (k: Kernel, parent: ParentV6, type: TypeV6, drv_name: string) {
  const kset = k.get(parent, 'mdev_types_kset') as KobjectV6;
  k.set(type, 'kset', kset);
  k.set(type, 'parent', parent);
  yield* get_device(k, k.get(parent, 'dev') as DeviceV6);
  yield k.at('kobject_init_and_add');
  k.set(type, 'kref', 1);
  const name = `${drv_name}-${k.siteName(k.get(type, 'name'))}`;
  k.set(type, 'kobj_name', yield* kzalloc(k, kobject_name));
  let kn = k.get(type, 'kobj_name') === 0 || k.shouldFail('kobject_init_and_add') ? 0 : yield* kernfs_create(k, k.get(kset, 'sd') as KernfsNode, name, 'kobject_add');
  // "create" is writable from here on; its store finds the type by container_of (mdev_sysfs.c 48)
  const create = kn === 0 ? 0 : yield* kernfs_create(k, kn as KernfsNode, 'create', 'sysfs_create_groups');
  k.set(type, 'create_kn', create);
  const attrs = create === 0 ? 0 : yield* kernfs_create(k, kn as KernfsNode, 'available_instances', 'sysfs_create_groups');
  if (kn !== 0 && attrs === 0) {
    yield* kernfs_remove(k, kn as KernfsNode, 'kobject_add_internal');
    kn = 0;
  }
  if (kn === 0) {
    yield* kobject_put_type(k, type);
    return -ENOMEM;
  }
  k.set(type, 'kn', kn);
  k.set(type, 'attr_kn', attrs);
  // kobject_add_internal succeeded: the type joined the kset and holds it as its parent (208-215);
  // on a failed create_dir both were undone (224-227)
  kset_get(k, kset);
  kset_get(k, kset);
  k.set(type, 'kobj_parent', 1);
  yield k.at('kobject_create_and_add');
  const devices = yield* kobject_create_and_add(k, kn as KernfsNode, 'devices');
  if (devices === 0) {
    yield* kobject_del_type(k, type);
    yield* kobject_put_type(k, type);
    return -ENOMEM;
  }
  k.set(type, 'devices_kobj', devices);
  return 0;
});

/** mdev_type_remove (200-205). */
const mdev_type_remove = kfn('mdev_type_remove', function* (k: Kernel, type: TypeV6) {
  yield* kobject_put(k, k.get(type, 'devices_kobj') as KobjectV6);
  yield* kobject_del_type(k, type);
  yield* kobject_put_type(k, type);
});

export function parent_types(k: Kernel, parent: ParentV6): TypeV6[] {
  const n = k.get(parent, 'nr_types');
  return [k.get(parent, 'types0'), k.get(parent, 'types1')].slice(0, n) as TypeV6[];
}

/**
 * parent_create_sysfs_files (217-237). On a failed mdev_type_add, out_err removes the types added
 * before it (233-235) and returns 0 (236), not the error: the kset stays and the registration goes
 * on as a success, so a later mdev_unregister_parent removes every type again (212-213): a put of
 * each removed type's freed devices_kobj (202), a second kobject_del (203) whose kset leave is one
 * put too many, so kset_unregister (214) meets a freed kset. 6.1-rc7's bug, kept.
 */
export const parent_create_sysfs_files = kfn('parent_create_sysfs_files', function* (k: Kernel, parent: ParentV6, drv_name: string) {
  const dev = k.get(parent, 'dev') as DeviceV6;
  const kset = yield* kset_create_and_add(k, k.get(dev, 'kn') as KernfsNode, 'mdev_supported_types');
  if (kset === 0) return -ENOMEM;
  k.set(parent, 'mdev_types_kset', kset);
  const types = parent_types(k, parent);
  for (let i = 0; i < types.length; i++) {
    const ret = yield* mdev_type_add(k, parent, types[i]!, drv_name);
    if (ret !== 0) {
      // out_err
      for (let j = i - 1; j >= 0; j--) yield* mdev_type_remove(k, types[j]!);
      return 0;
    }
  }
  return 0;
});

/** parent_remove_sysfs_files (208-215). */
export const parent_remove_sysfs_files = kfn('parent_remove_sysfs_files', function* (k: Kernel, parent: ParentV6) {
  for (const type of parent_types(k, parent)) yield* mdev_type_remove(k, type);
  yield* kset_unregister(k, k.get(parent, 'mdev_types_kset') as KobjectV6);
});

/** &type->devices_kobj->kobj for sysfs: its `sd` read by the callee, or null for a NULL devices_kobj (the sysfs root). */
function devices_kobj(k: Kernel, type: TypeV6): KobjSd | null {
  const kobj = k.get(type, 'devices_kobj') as KobjectV6;
  return kobj === 0 ? null : [kobj, 'sd'];
}

/** mdev_create_sysfs_files (275-293): <type>/devices/<uuid>, then <mdev>/mdev_type. */
export const mdev_create_sysfs_files = kfn('mdev_create_sysfs_files', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->type');
  const type = k.get(mdev, 'type') as TypeV6;
  const name = uuid_name(k.get(mdev, 'uuid'));
  // the model's sysfs_create_link returns the link node on success
  let ret = yield* sysfs_create_link(k, devices_kobj(k, type), [mdev, 'dev_kn'], name);
  if (ret < 0) return ret;
  ret = yield* sysfs_create_link(k, [mdev, 'dev_kn'], [type, 'kn'], 'mdev_type');
  if (ret < 0) {
    // type_link_failed (290-291)
    yield* sysfs_remove_link(k, devices_kobj(k, k.get(mdev, 'type') as TypeV6), name);
    return ret;
  }
  return 0;
});

/** mdev_remove_sysfs_files (295-301). */
export const mdev_remove_sysfs_files = kfn('mdev_remove_sysfs_files', function* (k: Kernel, mdev: MdevDevice) {
  yield* sysfs_remove_link(k, [mdev, 'dev_kn'], 'mdev_type');
  yield k.at('mdev->type->devices_kobj');
  yield* sysfs_remove_link(k, devices_kobj(k, k.get(mdev, 'type') as TypeV6), uuid_name(k.get(mdev, 'uuid')));
});

// ---- the stores ----

function type_of_create(k: Kernel, node: KernfsNode): TypeV6 {
  return k.findBy(mdev_type_v6, 'create_kn', node);
}

function mdev_of_remove(k: Kernel, node: KernfsNode): MdevDevice {
  return k.findBy(mdev_device, 'remove_kn', node);
}

/** create_store (61-86) via mdev_type_attr_store (43-54); the UUID parsing (69-79) is left out. */
export const create_store = kfn('create_store', function* (k: Kernel, node: KernfsNode, uuid: number) {
  return yield* mdev_device_create(k, type_of_create(k, node), uuid);
});

/** remove_store (239-257); kstrtoul (245) is left out: the model always writes 1. */
export const remove_store = kfn('remove_store', function* (k: Kernel, node: KernfsNode) {
  const mdev = mdev_of_remove(k, node);
  if (yield* kernfs_remove_self(k, node)) {
    const ret = yield* mdev_device_remove(k, mdev);
    if (ret !== 0) return ret;
  }
  return 0;
});
