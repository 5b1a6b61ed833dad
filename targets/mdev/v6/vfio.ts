// drivers/vfio/vfio_main.c of v6.1-rc7 (and include/linux/vfio.h): a vfio_device with a lifetime
// reference (its struct device, put by vfio_put_device) and a registration refcount; lookup by name
// takes the registration only while it is above zero; every device fd pins the driver's module
// (760, 1046); the first open calls open_device under dev_set->lock then group_lock (766-772);
// unregistration drops its registration, waits for the last fd, and only then unlinks (634-672).
// Simplified: no container or IOMMU (vfio_device_assign_container 756-759 always succeeds), no
// device_add of the vfio_device's own struct device, the group is ../vfio_group.ts's.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOENT, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_put, module_text, try_module_get, type Module } from '../../../harness/kernel/module.js';
import { complete, kref_put, mutex_lock, mutex_unlock, refcount_inc_not_zero, wait_for_completion } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { dev_uuid, vfio_group_fops_open, vfio_group_put } from '../vfio_group.js';
import { file, globals, vfio_device, vfio_group, type File, type MdevDevice, type VfioDevice, type VfioGroup } from '../legacy/structs.js';
import type { DriverV6 } from './structs.js';

/** struct vfio_device_ops of a vendor; the functions live in the vendor module's text. */
export interface VfioDeviceOps {
  init(k: Kernel, device: VfioDevice): Gen<number>;
  release(k: Kernel, device: VfioDevice): Gen;
  open_device?(k: Kernel, device: VfioDevice): Gen<number>;
  close_device?(k: Kernel, device: VfioDevice): Gen;
  ioctl?(k: Kernel, device: VfioDevice): Gen<number>;
}

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** device->dev->driver->owner: the driver is static data of its module. */
function driver_owner(k: Kernel, device: VfioDevice): Module {
  const drv = k.get(k.get(device, 'dev') as MdevDevice, 'dev_driver') as DriverV6;
  return drv === 0 ? (0 as Module) : (k.get(drv, 'owner') as Module);
}

/** The vfio_device_ops tables of vendor modules, by module name (static data of those modules). */
const vendorOps = new Map<string, VfioDeviceOps>();

export function register_vfio_ops(module: string, ops: VfioDeviceOps): VfioDeviceOps {
  vendorOps.set(module, ops);
  return ops;
}

/** device->ops: reading the table checks that its module is still loaded. */
function ops_of(k: Kernel, device: VfioDevice, what: string): VfioDeviceOps {
  const mod = k.get(device, 'ops') as Module;
  module_text(k, mod, what);
  const ops = vendorOps.get(k.siteName(k.get(mod, 'name')));
  if (!ops) throw new Error('vfio_device without ops');
  return ops;
}

/**
 * vfio_alloc_device → _vfio_alloc_device (376-400) → vfio_init_device (405-437): kvzalloc, then
 * ops->init; on failure kvfree. `mod` is the module whose vfio_device_ops the device uses.
 */
export const vfio_alloc_device = kfn('vfio_alloc_device', function* (k: Kernel, mdev: MdevDevice, mod: Module) {
  const device: VfioDevice = yield* kzalloc(k, vfio_device);
  if (device === 0) return -ENOMEM;
  k.set(device, 'dev', mdev);
  k.set(device, 'ops', mod);
  const ret = yield* ops_of(k, device, 'init').init(k, device);
  if (ret !== 0) {
    yield* kfree(k, device);
    return ret;
  }
  // device_initialize(&device->device)
  k.set(device, 'kref', 1);
  return device;
});

/** vfio_free_device (445-449), called by the vendor's release. */
export const vfio_free_device = kfn('vfio_free_device', function* (k: Kernel, device: VfioDevice) {
  yield* kfree(k, device);
});

/** vfio_device_release (347-361): device->ops->release, which frees the device. */
const vfio_device_release = kfn('vfio_device_release', function* (k: Kernel, device: VfioDevice) {
  yield* ops_of(k, device, 'release').release(k, device);
});

/** vfio_put_device (vfio.h 182-185): put_device(&device->device). */
export const vfio_put_device = kfn('vfio_put_device', function* (k: Kernel, device: VfioDevice) {
  yield* kref_put(k, device, 'kref', () => vfio_device_release(k, device));
});

/**
 * vfio_register_emulated_iommu_dev (595-599) → __vfio_register_dev (527-580) with
 * vfio_noiommu_group_alloc (451-481): a single-device group, then refcount_set (569) and onto the
 * group's device_list under device_lock (571-573): openable from here on.
 */
export const vfio_register_emulated_iommu_dev = kfn('vfio_register_emulated_iommu_dev', function* (k: Kernel, device: VfioDevice) {
  if (k.shouldFail('vfio_register')) return -ENOMEM;
  const group: VfioGroup = yield* kzalloc(k, vfio_group);
  if (group === 0) return -ENOMEM;
  k.set(group, 'kref', 1);
  k.set(group, 'device_list', list_new(k, k.at('INIT_LIST_HEAD')));
  yield* mutex_lock(k, g(k), 'vfio_group_lock');
  list_add(k, k.get(g(k), 'vfio_group_list'), group);
  yield* mutex_unlock(k, g(k), 'vfio_group_lock');
  k.set(device, 'group', group);
  yield k.at('refcount_set(registration)');
  k.set(device, 'refcount', 1);
  k.set(device, 'comp', 0);
  yield* mutex_lock(k, group, 'device_lock');
  list_add(k, k.get(group, 'device_list'), device);
  yield* mutex_unlock(k, group, 'device_lock');
  return 0;
});

/** vfio_device_put_registration (315-319). */
const vfio_device_put_registration = kfn('vfio_device_put_registration', function* (k: Kernel, device: VfioDevice) {
  yield k.at('refcount_dec_and_test');
  const n = k.get(device, 'refcount') - 1;
  k.set(device, 'refcount', n);
  if (n === 0) yield* complete(k, device, 'comp');
});

/**
 * vfio_unregister_group_dev (634-672): drop the registration (641), wait for the completion the
 * last fd fires (642-663; mtty and vfio_ap have no ->request; the kernel waits in 10 s slices, the
 * model in one wait), then list_del under device_lock (665-667), device_del (670) and
 * vfio_device_remove_group (672). Until the list_del a lookup still finds the device, and takes a
 * registration while fds keep the count above zero.
 */
export const vfio_unregister_group_dev = kfn('vfio_unregister_group_dev', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  yield* vfio_device_put_registration(k, device);
  yield* wait_for_completion(k, device, 'comp');
  yield* mutex_lock(k, group, 'device_lock');
  list_del(k, k.get(group, 'device_list'), device);
  yield* mutex_unlock(k, group, 'device_lock');
  yield k.at('device_del');
  yield* vfio_group_put(k, group);
});

// ---- the user's side: open, ioctl, close ----

/** vfio_device_get_from_name (602-628): the name matches and the registration is taken, under device_lock. */
const vfio_device_get_from_name = kfn('vfio_device_get_from_name', function* (k: Kernel, group: VfioGroup, uuid: number) {
  yield* mutex_lock(k, group, 'device_lock');
  let found = 0 as VfioDevice;
  for (const device of list_entries<VfioDevice>(k, k.get(group, 'device_list'))) {
    if (dev_uuid(k, device) === uuid && (yield* refcount_inc_not_zero(k, device, 'refcount'))) {
      found = device;
      break;
    }
  }
  yield* mutex_unlock(k, group, 'device_lock');
  return found;
});

/**
 * vfio_device_open (750-833): try_module_get(device->dev->driver->owner) for every fd (760-763);
 * dev_set->lock, open_count++ (766-767); on the first open group_lock, device->kvm = group->kvm
 * (the model's processes have no KVM: NULL) and ops->open_device (771-782); then the file
 * (anon_inode_getfile, 792-798). Errors unwind in reverse (err_close_device 816, err_undo_count 824).
 */
const vfio_device_open = kfn('vfio_device_open', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  const owner = driver_owner(k, device);
  if (!(yield* try_module_get(k, owner))) return -ENODEV;
  yield* mutex_lock(k, device, 'dev_set_lock');
  k.set(device, 'open_count', k.get(device, 'open_count') + 1);
  let ret = 0;
  if (k.get(device, 'open_count') === 1) {
    yield* mutex_lock(k, group, 'group_lock');
    const ops = ops_of(k, device, 'open_device');
    if (ops.open_device) ret = yield* ops.open_device(k, device);
    if (ret === 0) yield* mutex_unlock(k, group, 'group_lock');
  }
  if (ret === 0) {
    yield* mutex_unlock(k, device, 'dev_set_lock');
    const f: File = yield* kzalloc(k, file);
    if (f !== 0) {
      k.set(f, 'private_data', device);
      return f;
    }
    ret = -ENOMEM;
    // err_close_device
    yield* mutex_lock(k, device, 'dev_set_lock');
    yield* mutex_lock(k, group, 'group_lock');
    if (k.get(device, 'open_count') === 1) {
      const ops = ops_of(k, device, 'close_device');
      if (ops.close_device) yield* ops.close_device(k, device);
    }
  }
  // err_undo_count
  yield* mutex_unlock(k, group, 'group_lock');
  k.set(device, 'open_count', k.get(device, 'open_count') - 1);
  yield* mutex_unlock(k, device, 'dev_set_lock');
  yield* module_put(k, owner);
  return ret;
});

/** VFIO_GROUP_GET_DEVICE_FD: vfio_group_ioctl_get_device_fd (835-875); the file, or a negative errno. */
export const vfio_group_ioctl_get_device_fd = kfn('vfio_group_ioctl_get_device_fd', function* (k: Kernel, uuid: number) {
  const group = yield* vfio_group_fops_open(k, uuid);
  if (group === 0) return -ENOENT;
  const device = yield* vfio_device_get_from_name(k, group, uuid);
  // The group fd is closed again once the device fd is had.
  yield* vfio_group_put(k, group);
  if (device === 0) return -ENODEV;
  const f = yield* vfio_device_open(k, device);
  if (f < 0) {
    // err_put_device
    yield* vfio_device_put_registration(k, device);
    return f;
  }
  return f;
});

/**
 * vfio_device_fops_release (1027-1053): dev_set->lock then group_lock, close_device on the last
 * open (1032-1038), open_count-- (1040), module_put(device->dev->driver->owner) (1046), then the
 * registration (1050).
 */
export const vfio_device_fops_release = kfn('vfio_device_fops_release', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  const group = k.get(device, 'group') as VfioGroup;
  yield* mutex_lock(k, device, 'dev_set_lock');
  yield* mutex_lock(k, group, 'group_lock');
  if (k.get(device, 'open_count') === 1) {
    const ops = ops_of(k, device, 'close_device');
    if (ops.close_device) yield* ops.close_device(k, device);
  }
  yield* mutex_unlock(k, group, 'group_lock');
  k.set(device, 'open_count', k.get(device, 'open_count') - 1);
  yield* mutex_unlock(k, device, 'dev_set_lock');
  yield* module_put(k, driver_owner(k, device));
  yield* vfio_device_put_registration(k, device);
  yield* kfree(k, f);
  return 0;
});

/** vfio_device_fops_unl_ioctl (1511-1535): device->ops->ioctl, -EINVAL without one. */
export const vfio_device_fops_unl_ioctl = kfn('vfio_device_fops_unl_ioctl', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  const ops = ops_of(k, device, 'ioctl');
  return ops.ioctl ? yield* ops.ioctl(k, device) : -EINVAL;
});
