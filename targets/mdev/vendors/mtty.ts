// samples/vfio-mdev/mtty.c of v5.0.1 (the same in v5.2.1 but for line numbers): a virtual serial
// port. Its remove never refuses, even while the device is open, and frees the state under any fd;
// its file ops check drvdata for NULL but nothing orders them against remove. Module init registers
// the parent before initialising its own list and lock. mtty_dev (with its struct device) and the
// list are static module data: they stay mapped until free_module, and the device's release is a
// no-op. Simplified: the chrdev/class/idr setup of init and exit, which no race here touches.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries, list_head } from '../../../harness/kernel/list.js';
import { module_static, module_static_data, type Module } from '../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { device_register_parent, parent_device_unregister, register_device_release } from '../legacy/base.js';
import type { MdevCore, ModuleDef, ParentOps } from '../legacy/ops.js';
import {
  device,
  mdev_state,
  mtty_globals,
  mtty_vconfig,
  type Device,
  type MdevDevice,
  type MdevState,
  type MdevType,
} from '../legacy/structs.js';
import { mdev_get_drvdata, mdev_set_drvdata } from './drvdata.js';

/** mtty's static data: mdev_devices_list and its mdev_list_lock (mtty.c 150-151). */
function mtty_data(k: Kernel, mod?: Module) {
  return module_static_data(k, mtty_globals, mod);
}

/** mtty_create (mtty.c 730-778). */
const mtty_create = kfn('mtty_create', function* (k: Kernel, kobj: MdevType, mdev: MdevDevice) {
  if (mdev === 0) return -EINVAL;
  yield k.at('kobject_name');
  const name = k.siteName(k.get(kobj, 'name'));
  const nr_ports = name === 'mtty-1' ? 1 : name === 'mtty-2' ? 2 : 0;
  if (nr_ports === 0) return -EINVAL;
  const state: MdevState = yield* kzalloc(k, mdev_state);
  if (state === 0) return -ENOMEM;
  k.set(state, 'nr_ports', nr_ports);
  const vconfig = yield* kzalloc(k, mtty_vconfig);
  if (vconfig === 0) {
    yield* kfree(k, state);
    return -ENOMEM;
  }
  k.set(state, 'vconfig', vconfig);
  yield* mdev_set_drvdata(k, mdev, state);
  k.set(state, 'mdev', mdev);
  const data = mtty_data(k);
  yield* mutex_lock(k, data, 'mdev_list_lock');
  list_add(k, k.get(data, 'mdev_devices_list'), state);
  yield* mutex_unlock(k, data, 'mdev_list_lock');
  return 0;
});

/** mtty_remove (mtty.c 780-800). */
const mtty_remove = kfn('mtty_remove', function* (k: Kernel, mdev: MdevDevice) {
  const mdev_state = yield* mdev_get_drvdata<MdevState>(k, mdev);
  let ret = -EINVAL;
  const data = mtty_data(k);
  yield* mutex_lock(k, data, 'mdev_list_lock');
  for (const mds of list_entries<MdevState>(k, k.get(data, 'mdev_devices_list'))) {
    if (mds !== mdev_state) continue;
    list_del(k, k.get(data, 'mdev_devices_list'), mdev_state);
    yield* mdev_set_drvdata(k, mdev, 0);
    yield* kfree(k, k.get(mdev_state, 'vconfig'));
    yield* kfree(k, mdev_state);
    ret = 0;
    break;
  }
  yield* mutex_unlock(k, data, 'mdev_list_lock');
  return ret;
});

/** mtty_open (mtty.c 1275-1279). */
const mtty_open = kfn('mtty_open', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('pr_info');
  return 0;
});

/** mtty_close (mtty.c 1281-1284). */
const mtty_close = kfn('mtty_close', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('pr_info');
});

/** mtty_get_device_info (mtty.c 1143-1151). */
const mtty_get_device_info = kfn('mtty_get_device_info', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('info->num_regions');
  return 0;
});

/** mtty_ioctl (mtty.c 1153-1273): VFIO_DEVICE_GET_INFO: copy the request in, fill it, keep a copy in mdev_state->dev_info. */
const mtty_ioctl = kfn('mtty_ioctl', function* (k: Kernel, mdev: MdevDevice) {
  if (mdev === 0) return -EINVAL;
  const state = yield* mdev_get_drvdata<MdevState>(k, mdev);
  if (state === 0) return -ENODEV;
  yield k.at('copy_from_user');
  const ret = yield* mtty_get_device_info(k, mdev);
  if (ret !== 0) return ret;
  // memcpy(&mdev_state->dev_info, &info, sizeof(info))
  k.set(state, 'dev_info', 1);
  yield k.at('copy_to_user');
  return 0;
});

/** sample_mdev_dev_show (mtty.c 1311-1318): The vendor attribute "vendor/sample_mdev_dev": prints the device name only. */
const sample_mdev_dev_show = kfn('sample_mdev_dev_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  yield k.at('dev_name');
  return k.get(mdev, 'uuid') >= 0 ? 0 : -EINVAL;
});

export const mtty_parent_ops: ParentOps = {
  supported_type_groups: ['1', '2'],
  mdev_attr_groups: ['sample_mdev_dev'],
  create: mtty_create,
  remove: mtty_remove,
  open: mtty_open,
  release: mtty_close,
  ioctl: mtty_ioctl,
  show: sample_mdev_dev_show,
};

/** mtty_device_release (mtty.c 1430-1433): dev_dbg only; mtty_dev is static. */
const RELEASE_NONE = register_device_release(() => {});

/**
 * mtty_dev_init (mtty.c 1435-1494, v5.0.1): memset(&mtty_dev) → device_register(&mtty_dev.dev)
 * (1469) → mdev_register_device (1473) → mutex_init/INIT_LIST_HEAD (1477-1478) after it; failed3
 * is device_unregister (1484).
 */
const mtty_dev_init = kfn('mtty_dev_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  module_static(k, mtty_globals, mod, k.at('static'));
  const dev = module_static(k, device, mod, k.at('static'));
  k.set(dev, 'release', RELEASE_NONE);
  yield* device_register_parent(k, dev, 'mtty');
  const ret = yield* core.mdev_register_device(k, dev, mod);
  if (ret !== 0) {
    yield* parent_device_unregister(k, dev);
    return ret;
  }
  yield k.at('INIT_LIST_HEAD');
  k.set(mtty_data(k, mod), 'mdev_devices_list', module_static(k, list_head, mod, k.at('INIT_LIST_HEAD')));
  return 0;
});

/** mtty_dev_exit (mtty.c 1496-1508): its own &mtty_dev.dev, never looked up; static data stays until free_module. */
const mtty_dev_exit = kfn('mtty_dev_exit', function* (k: Kernel, core: MdevCore, mod: Module) {
  const dev = module_static_data(k, device, mod);
  yield* core.mdev_unregister_device(k, dev);
  yield* parent_device_unregister(k, dev);
});

export const mtty: ModuleDef = {
  name: 'mtty',
  init: mtty_dev_init,
  exit: mtty_dev_exit,
  parent_ops: mtty_parent_ops,
  driver_name: 'mtty',
  parent_dev: 'mtty',
};
