// drivers/vfio/vfio.c and drivers/vfio/mdev/vfio_mdev.c of v5.0.1 (lines cited; v5.2.1 has the same
// code, see docs/fidelity.md for its lines): the vfio_device with its
// kref (registration + one per open fd), lookup by name that still finds a device being removed,
// the unbind that waits until every fd is closed, and vfio_mdev relaying to parent->ops with no
// lock and no reference on the vendor module.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOENT, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_put, try_module_get, type Module } from '../../../harness/kernel/module.js';
import { kref_get, kref_put, mutex_lock, mutex_unlock, wait_event_zero } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from './alloc.js';
import { device_driver, file, globals, vfio_device, vfio_group, type DeviceDriver, type File, type MdevDevice, type MdevParent, type VfioDevice, type VfioGroup } from './structs.js';
import type { MdevCore, MdevDriver, ModuleDef } from './ops.js';
import { parent_ops } from './registry.js';
import { dev_uuid, vfio_group_fops_open, vfio_group_get, vfio_group_put } from '../vfio_group.js';
import { register_driver_code } from './base.js';

function g(k: Kernel) {
  return k.nth(globals, 0);
}

// ---- vfio groups ----

/** vfio_create_group (vfio.c 325-399). */
const vfio_create_group = kfn('vfio_create_group', function* (k: Kernel, iommu_group: number) {
  const group: VfioGroup = yield* kzalloc(k, vfio_group);
  if (group === 0) return group;
  k.set(group, 'kref', 1);
  k.set(group, 'iommu_group', iommu_group);
  k.set(group, 'device_list', list_new(k, k.at('INIT_LIST_HEAD')));
  yield* mutex_lock(k, g(k), 'vfio_group_lock');
  list_add(k, k.get(g(k), 'vfio_group_list'), group);
  yield* mutex_unlock(k, g(k), 'vfio_group_lock');
  return group;
});

// ---- vfio devices ----

/**
 * vfio_device_release (vfio.c 565-580 v5.0.1, 563-578 v5.2.1), the release of kref_put_mutex: called
 * with group->device_lock held, it takes the device off the group's list and drops the lock
 * (572/570) before it clears the mdev's drvdata (574/572), kfrees the device and wakes the waiters.
 * A remover in vfio_del_group_dev finds the device gone as soon as the lock is dropped (its lookup,
 * vfio_group_get_device, takes that lock: 968/952, or its wait re-checks after 10 s): `ndevices`
 * counts the listed devices and drops with the unlock, so the remover may go on, and free the mdev,
 * before this function writes its drvdata.
 */
const vfio_device_release = kfn('vfio_device_release', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  list_del(k, k.get(group, 'device_list'), device);
  yield* mutex_unlock(k, group, 'device_lock');
  k.set(group, 'ndevices', k.get(group, 'ndevices') - 1);
  yield k.at('dev_set_drvdata');
  k.set(k.get(device, 'dev') as MdevDevice, 'dev_drvdata', 0);
  yield* kfree(k, device);
  yield k.at('wake_up(release_q)');
});

/**
 * vfio_device_put (vfio.c 583-588 v5.0.1, 581-586 v5.2.1): kref_put_mutex(&device->kref,
 * vfio_device_release, &group->device_lock), then the group reference. The model takes the lock for
 * every put, not only the last (kref_put_mutex's fast path takes none); the release drops it.
 */
export const vfio_device_put = kfn('vfio_device_put', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  yield* mutex_lock(k, group, 'device_lock');
  const released = yield* kref_put(k, device, 'kref', () => vfio_device_release(k, device));
  if (!released) yield* mutex_unlock(k, group, 'device_lock');
  yield* vfio_group_put(k, group);
});

/** vfio_device_get (vfio.c 591-595). */
const vfio_device_get = kfn('vfio_device_get', function* (k: Kernel, device: VfioDevice) {
  yield* vfio_group_get(k, k.get(device, 'group') as VfioGroup);
  yield* kref_get(k, device, 'kref');
});

/** vfio_add_group_dev (vfio.c 805-854). */
export const vfio_add_group_dev = kfn('vfio_add_group_dev', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('iommu_group_get');
  const iommu_group = k.get(mdev, 'iommu_group');
  if (iommu_group === 0) return -EINVAL;
  const group = yield* vfio_create_group(k, iommu_group);
  if (group === 0) return -ENOMEM;
  const device: VfioDevice = yield* kzalloc(k, vfio_device);
  if (device === 0) {
    yield* vfio_group_put(k, group);
    return -ENOMEM;
  }
  k.set(device, 'kref', 1);
  k.set(device, 'group', group);
  k.set(device, 'dev', mdev);
  k.set(device, 'device_data', mdev);
  yield* vfio_group_get(k, group);
  yield* mutex_lock(k, group, 'device_lock');
  list_add(k, k.get(group, 'device_list'), device);
  k.set(group, 'ndevices', k.get(group, 'ndevices') + 1);
  yield* mutex_unlock(k, group, 'device_lock');
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', device);
  // Drop all but the vfio_device's reference to the group.
  yield* vfio_group_put(k, group);
  return 0;
});

/** vfio_del_group_dev (vfio.c 923-1015): Unbind: drop the registration reference and wait until every fd has let go of the device. */
export const vfio_del_group_dev = kfn('vfio_del_group_dev', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const device = k.get(mdev, 'dev_drvdata') as VfioDevice;
  const group = k.get(device, 'group') as VfioGroup;
  yield* vfio_group_get(k, group);
  yield* vfio_device_put(k, device);
  // vfio_mdev has no ->request before v5.11: nobody asks the user to close.
  yield* wait_event_zero(k, group, 'ndevices', 'vfio.release_q');
  yield* vfio_group_put(k, group);
});

/** vfio_device_get_from_name (vfio.c 880-896): vfio_device_get_from_name: a device being removed is still found while its kref is above 0. */
const vfio_device_get_from_name = kfn('vfio_device_get_from_name', function* (k: Kernel, group: VfioGroup, uuid: number) {
  yield* mutex_lock(k, group, 'device_lock');
  let found = 0 as VfioDevice;
  for (const device of list_entries<VfioDevice>(k, k.get(group, 'device_list'))) {
    if (dev_uuid(k, device) === uuid) found = device;
  }
  if (found !== 0) yield* vfio_device_get(k, found);
  yield* mutex_unlock(k, group, 'device_lock');
  return found;
});

/** vfio_group_get_device_fd (vfio.c 1446-1506): VFIO_GROUP_GET_DEVICE_FD: returns the new file, or a negative errno. */
export const vfio_group_get_device_fd = kfn('vfio_group_get_device_fd', function* (k: Kernel, uuid: number) {
  const group = yield* vfio_group_fops_open(k, uuid);
  if (group === 0) return -ENOENT;
  const device = yield* vfio_device_get_from_name(k, group, uuid);
  // The group fd is closed again once the device fd is had: the device fd keeps the group.
  yield* vfio_group_put(k, group);
  if (device === 0) return -ENODEV;
  const mdev = k.get(device, 'device_data') as MdevDevice;
  const ret = yield* vfio_mdev_open(k, mdev);
  if (ret !== 0) {
    yield* vfio_device_put(k, device);
    return ret;
  }
  const f: File = yield* kzalloc(k, file);
  if (f === 0) {
    yield* vfio_mdev_release(k, mdev);
    yield* vfio_device_put(k, device);
    return -ENOMEM;
  }
  k.set(f, 'private_data', device);
  return f;
});

/** vfio_device_fops_release (vfio.c 1649-1660). */
export const vfio_device_fops_release = kfn('vfio_device_fops_release', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  yield* vfio_mdev_release(k, k.get(device, 'device_data') as MdevDevice);
  yield* vfio_device_put(k, device);
  yield* kfree(k, f);
  return 0;
});

/** vfio_device_fops_unl_ioctl (vfio.c 1662-1671). */
export const vfio_device_fops_unl_ioctl = kfn('vfio_device_fops_unl_ioctl', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  return yield* vfio_mdev_unlocked_ioctl(k, k.get(device, 'device_data') as MdevDevice);
});

// ---- vfio_mdev: the vfio bus driver for mdevs, relaying to parent->ops ----

function this_module(k: Kernel, mdev: MdevDevice): Module {
  return k.get(k.get(mdev, 'dev_driver') as DeviceDriver, 'owner') as Module;
}

/** vfio_mdev_open (vfio_mdev.c 27-44). */
export const vfio_mdev_open = kfn('vfio_mdev_open', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->parent');
  const parent = k.get(mdev, 'parent') as MdevParent;
  const ops = parent_ops(k, parent);
  if (!ops.open) return -EINVAL;
  if (!(yield* try_module_get(k, this_module(k, mdev)))) return -ENODEV;
  if (k.get(mdev, 'driver_data') === 0) {
    k.warn('invariant', 'invariant: openable implies vendor state in vfio_mdev_open', ['reference D.2.1: the vendor is opened while its state is absent (not yet created, or already removed)']);
  }
  const ret = yield* ops.open(k, mdev);
  if (ret !== 0) yield* module_put(k, this_module(k, mdev));
  return ret;
});

/** vfio_mdev_release (vfio_mdev.c 46-55). */
export const vfio_mdev_release = kfn('vfio_mdev_release', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->parent');
  const ops = parent_ops(k, k.get(mdev, 'parent') as MdevParent);
  if (ops.release) yield* ops.release(k, mdev);
  yield* module_put(k, this_module(k, mdev));
});

/** vfio_mdev_unlocked_ioctl (vfio_mdev.c 57-67; v5.2.1 54-64), vfio_mdev_dev_ops.ioctl. */
export const vfio_mdev_unlocked_ioctl = kfn('vfio_mdev_unlocked_ioctl', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('mdev->parent');
  const ops = parent_ops(k, k.get(mdev, 'parent') as MdevParent);
  if (!ops.ioctl) return -EINVAL;
  return yield* ops.ioctl(k, mdev);
});

/** vfio_mdev_probe (vfio_mdev.c 114-119). */
const vfio_mdev_probe = kfn('vfio_mdev_probe', function* (k: Kernel, mdev: MdevDevice) {
  return yield* vfio_add_group_dev(k, mdev);
});

/** vfio_mdev_remove (vfio_mdev.c 121-124). */
const vfio_mdev_remove = kfn('vfio_mdev_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield* vfio_del_group_dev(k, mdev);
});

export const vfio_mdev_driver: MdevDriver = register_driver_code({
  name: 'vfio_mdev',
  probe: vfio_mdev_probe,
  remove: vfio_mdev_remove,
});

/** vfio_mdev_init (vfio_mdev.c 132-135). */
const vfio_mdev_init = kfn('vfio_mdev_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  yield* core.mdev_register_driver(k, vfio_mdev_driver, mod);
  return 0;
});

/** vfio_mdev_exit (vfio_mdev.c 137-140). */
const vfio_mdev_exit = kfn('vfio_mdev_exit', function* (k: Kernel, core: MdevCore, mod: Module) {
  const h = k.intern(vfio_mdev_driver.name);
  const drv = k.live(device_driver).find((d) => k.get(d, 'name') === h && k.get(d, 'owner') === mod) as DeviceDriver;
  yield* core.mdev_unregister_driver(k, drv);
});

export const vfio_mdev: ModuleDef = { name: 'vfio_mdev', init: vfio_mdev_init, exit: vfio_mdev_exit, mdev_driver: vfio_mdev_driver };
