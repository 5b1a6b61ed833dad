// samples/vfio-mdev/mtty.c as of v5.0: a virtual serial port. Its remove never refuses, even while
// the device is open, and frees the state under any fd; its file ops check drvdata for NULL but
// nothing orders them against remove. Module init registers the parent before initialising its
// own list and lock.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_entries, list_new } from '../../../harness/kernel/list.js';
import { module_data, type Module } from '../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { parent_device_register, parent_device_unregister } from '../legacy/base.js';
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

/** mtty's static data: mdev_devices_list and its mdev_list_lock. */
function mtty_data(k: Kernel) {
  return module_data(k, mtty_globals);
}

function mtty_dev(k: Kernel): Device {
  const h = k.intern('mtty');
  return k.live(device).find((d) => k.get(d, 'name') === h)!;
}

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

const mtty_open = kfn('mtty_open', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('pr_info');
  return 0;
});

const mtty_close = kfn('mtty_close', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('pr_info');
});

const mtty_get_device_info = kfn('mtty_get_device_info', function* (k: Kernel, _mdev: MdevDevice) {
  yield k.at('info->num_regions');
  return 0;
});

/** VFIO_DEVICE_GET_INFO: copy the request in, fill it, keep a copy in mdev_state->dev_info. */
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

/** The vendor attribute "vendor/sample_mdev_dev": prints the device name only. */
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

const mtty_dev_init = kfn('mtty_dev_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  // Static data exists, zeroed, from load; the list is set up only after registration.
  k.alloc(mtty_globals, k.at('static'));
  const dev = yield* parent_device_register(k, 'mtty');
  const ret = yield* core.mdev_register_device(k, dev, mod);
  if (ret !== 0) {
    yield* parent_device_unregister(k, dev);
    k.free(mtty_data(k), k.at('static'));
    return ret;
  }
  yield k.at('INIT_LIST_HEAD');
  const data = mtty_data(k);
  k.set(data, 'mdev_devices_list', list_new(k, k.at('INIT_LIST_HEAD')));
  return 0;
});

const mtty_dev_exit = kfn('mtty_dev_exit', function* (k: Kernel, core: MdevCore, _mod: Module) {
  const dev = mtty_dev(k);
  yield* core.mdev_unregister_device(k, dev);
  yield* parent_device_unregister(k, dev);
  const data = mtty_data(k);
  if (k.get(data, 'mdev_devices_list') !== 0) k.free(k.get(data, 'mdev_devices_list'), k.at('kfree'));
  k.free(data, k.at('static'));
});

export const mtty: ModuleDef = {
  name: 'mtty',
  init: mtty_dev_init,
  exit: mtty_dev_exit,
  parent_ops: mtty_parent_ops,
  driver_name: 'mtty',
  parent_dev: 'mtty',
};
