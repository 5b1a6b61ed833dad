// drivers/vfio/group.c and vfio_main.c as of v6.x (reference A.3.6, C.3): a vfio_device with a
// lifetime kref and a registration refcount; lookup by name takes the registration only while it
// is above zero; first open pins the driver's module and last close unpins it; unregistration
// unlinks the device, drops its own registration and waits for the completion the last user fires.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOENT, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_put, module_text, try_module_get, type Module } from '../../../harness/kernel/module.js';
import { complete, kref_put, mutex_lock, mutex_unlock, refcount_inc_not_zero, wait_for_completion } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { dev_uuid, vfio_group_fops_open, vfio_group_put } from '../vfio_group.js';
import { file, globals, vfio_device, vfio_group, type DeviceDriver, type File, type MdevDevice, type VfioDevice, type VfioGroup } from '../legacy/structs.js';

/** struct vfio_device_ops of a vendor; the functions live in the vendor module's text. */
export interface VfioDeviceOps {
  init(k: Kernel, device: VfioDevice): Gen<number>;
  release(k: Kernel, device: VfioDevice): Gen;
  open_device?(k: Kernel, device: VfioDevice): Gen<number>;
  close_device?(k: Kernel, device: VfioDevice): Gen;
  ioctl(k: Kernel, device: VfioDevice): Gen<number>;
}

function g(k: Kernel) {
  return k.nth(globals, 0);
}

/** The module whose driver is bound to the device: dev->driver->owner. */
function driver_owner(k: Kernel, device: VfioDevice): Module {
  const drv = k.get(k.get(device, 'dev') as MdevDevice, 'dev_driver') as DeviceDriver;
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

/** `mod` is the module whose vfio_device_ops the device uses. */
export const vfio_alloc_device = kfn('vfio_alloc_device', function* (k: Kernel, mdev: MdevDevice, mod: Module) {
  const device: VfioDevice = yield* kzalloc(k, vfio_device);
  if (device === 0) return device;
  k.set(device, 'kref', 1);
  k.set(device, 'dev', mdev);
  k.set(device, 'ops', mod);
  // vfio_init_device
  const ret = yield* ops_of(k, device, 'init').init(k, device);
  if (ret !== 0) {
    yield* kfree(k, device);
    return ret;
  }
  return device;
});

const vfio_device_release = kfn('vfio_device_release', function* (k: Kernel, device: VfioDevice) {
  yield* ops_of(k, device, 'release').release(k, device);
  yield* kfree(k, device);
});

export const vfio_put_device = kfn('vfio_put_device', function* (k: Kernel, device: VfioDevice) {
  yield* kref_put(k, device, 'kref', () => vfio_device_release(k, device));
});

/** vfio_register_emulated_iommu_dev: a single-device emulated group; the device is openable after it. */
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
  yield k.at('vfio_device_add');
  // vfio_device_group_register
  yield* mutex_lock(k, group, 'device_lock');
  list_add(k, k.get(group, 'device_list'), device);
  yield* mutex_unlock(k, group, 'device_lock');
  return 0;
});

const vfio_device_put_registration = kfn('vfio_device_put_registration', function* (k: Kernel, device: VfioDevice) {
  yield k.at('refcount_dec_and_test');
  const n = k.get(device, 'refcount') - 1;
  k.set(device, 'refcount', n);
  if (n === 0) yield* complete(k, device, 'comp');
});

/** Unlink (no new opens), drop the registration, wait for the last user; mtty has no ->request. */
export const vfio_unregister_group_dev = kfn('vfio_unregister_group_dev', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  // vfio_device_group_unregister
  yield* mutex_lock(k, group, 'device_lock');
  list_del(k, k.get(group, 'device_list'), device);
  yield* mutex_unlock(k, group, 'device_lock');
  yield k.at('vfio_device_del');
  yield* vfio_device_put_registration(k, device);
  yield* wait_for_completion(k, device, 'comp');
  // vfio_device_remove_group
  yield* vfio_group_put(k, group);
});

// ---- the user's side: open, ioctl, close ----

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

/** vfio_df_open under group_lock and dev_set->lock: the first open pins the driver's module. */
const vfio_df_open = kfn('vfio_df_open', function* (k: Kernel, device: VfioDevice) {
  const n = k.get(device, 'open_count') + 1;
  k.set(device, 'open_count', n);
  if (n !== 1) return 0;
  if (!(yield* try_module_get(k, driver_owner(k, device)))) {
    k.set(device, 'open_count', n - 1);
    return -ENODEV;
  }
  const ops = ops_of(k, device, 'open_device');
  const ret = ops.open_device ? yield* ops.open_device(k, device) : 0;
  if (ret !== 0) {
    yield* module_put(k, driver_owner(k, device));
    k.set(device, 'open_count', n - 1);
  }
  return ret;
});

const vfio_df_close = kfn('vfio_df_close', function* (k: Kernel, device: VfioDevice) {
  const n = k.get(device, 'open_count') - 1;
  k.set(device, 'open_count', n);
  if (n !== 0) return;
  const ops = ops_of(k, device, 'close_device');
  if (ops.close_device) yield* ops.close_device(k, device);
  yield* module_put(k, driver_owner(k, device));
});

const vfio_df_group_open = kfn('vfio_df_group_open', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  yield* mutex_lock(k, group, 'group_lock');
  yield* mutex_lock(k, device, 'dev_set_lock');
  const ret = yield* vfio_df_open(k, device);
  yield* mutex_unlock(k, device, 'dev_set_lock');
  yield* mutex_unlock(k, group, 'group_lock');
  return ret;
});

const vfio_df_group_close = kfn('vfio_df_group_close', function* (k: Kernel, device: VfioDevice) {
  const group = k.get(device, 'group') as VfioGroup;
  yield* mutex_lock(k, group, 'group_lock');
  yield* mutex_lock(k, device, 'dev_set_lock');
  yield* vfio_df_close(k, device);
  yield* mutex_unlock(k, device, 'dev_set_lock');
  yield* mutex_unlock(k, group, 'group_lock');
});

/** VFIO_GROUP_GET_DEVICE_FD: the new file, or a negative errno. */
export const vfio_group_ioctl_get_device_fd = kfn('vfio_group_ioctl_get_device_fd', function* (k: Kernel, uuid: number) {
  const group = yield* vfio_group_fops_open(k, uuid);
  if (group === 0) return -ENOENT;
  const device = yield* vfio_device_get_from_name(k, group, uuid);
  // The group fd is closed again once the device fd is had.
  yield* vfio_group_put(k, group);
  if (device === 0) return -ENODEV;
  const f: File = yield* kzalloc(k, file);
  if (f === 0) {
    yield* vfio_device_put_registration(k, device);
    return -ENOMEM;
  }
  const ret = yield* vfio_df_group_open(k, device);
  if (ret !== 0) {
    yield* kfree(k, f);
    yield* vfio_device_put_registration(k, device);
    return ret;
  }
  k.set(f, 'private_data', device);
  return f;
});

export const vfio_device_fops_release = kfn('vfio_device_fops_release', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  yield* vfio_df_group_close(k, device);
  yield* vfio_device_put_registration(k, device);
  yield* kfree(k, f);
  return 0;
});

export const vfio_device_fops_unl_ioctl = kfn('vfio_device_fops_unl_ioctl', function* (k: Kernel, f: File) {
  const device = k.get(f, 'private_data') as VfioDevice;
  const ops = ops_of(k, device, 'ioctl');
  return ops.ioctl ? yield* ops.ioctl(k, device) : -EINVAL;
});
