// A vfio_ap-like vendor (drivers/s390/crypto/vfio_ap_ops.c as of v5.0): create sets drvdata last,
// open uses it unchecked (the matrix_mdev group notifier), remove vetoes with -EBUSY while a guest
// (KVM) holds the device, and open pins the vendor module.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EBUSY, ENODEV, ENOMEM, EPERM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_new } from '../../../harness/kernel/list.js';
import { find_module, module_data, module_put, try_module_get, type Module } from '../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { parent_device_register, parent_device_unregister } from '../legacy/base.js';
import type { MdevCore, ModuleDef, ParentOps } from '../legacy/ops.js';
import { ap_matrix_dev, ap_matrix_mdev, device, type ApMatrixMdev, type Device, type MdevDevice, type MdevType } from '../legacy/structs.js';
import { mdev_get_drvdata, mdev_set_drvdata } from './drvdata.js';

const MAX_INSTANCES = 2;

function matrix_dev(k: Kernel) {
  return module_data(k, ap_matrix_dev);
}

function matrix_device(k: Kernel): Device {
  const h = k.intern('matrix');
  return k.live(device).find((d) => k.get(d, 'name') === h)!;
}

const vfio_ap_mdev_create = kfn('vfio_ap_mdev_create', function* (k: Kernel, _kobj: MdevType, mdev: MdevDevice) {
  const md = matrix_dev(k);
  yield k.at('atomic_dec_if_positive');
  const avail = k.get(md, 'available_instances');
  if (avail <= 0) return -EPERM;
  k.set(md, 'available_instances', avail - 1);
  const matrix_mdev: ApMatrixMdev = yield* kzalloc(k, ap_matrix_mdev);
  if (matrix_mdev === 0) {
    yield k.at('atomic_inc');
    k.set(md, 'available_instances', k.get(md, 'available_instances') + 1);
    return -ENOMEM;
  }
  k.set(matrix_mdev, 'mdev', mdev);
  k.set(matrix_mdev, 'matrix', 1);
  yield* mutex_lock(k, md, 'lock');
  list_add(k, k.get(md, 'mdev_list'), matrix_mdev);
  yield* mutex_unlock(k, md, 'lock');
  yield* mdev_set_drvdata(k, mdev, matrix_mdev);
  return 0;
});

const vfio_ap_mdev_remove = kfn('vfio_ap_mdev_remove', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('matrix_mdev->kvm');
  if (k.get(matrix_mdev, 'kvm') !== 0) return -EBUSY;
  const md = matrix_dev(k);
  yield* mutex_lock(k, md, 'lock');
  list_del(k, k.get(md, 'mdev_list'), matrix_mdev);
  yield* mutex_unlock(k, md, 'lock');
  yield* kfree(k, matrix_mdev);
  yield* mdev_set_drvdata(k, mdev, 0);
  yield k.at('atomic_inc');
  k.set(md, 'available_instances', k.get(md, 'available_instances') + 1);
  return 0;
});

function* this_module(k: Kernel) {
  yield k.at('THIS_MODULE');
  return find_module(k, 'vfio_ap');
}

const vfio_ap_mdev_open = kfn('vfio_ap_mdev_open', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  if (!(yield* try_module_get(k, yield* this_module(k)))) return -ENODEV;
  yield k.at('group_notifier.notifier_call');
  k.set(matrix_mdev, 'group_notifier', 1);
  yield k.at('vfio_register_notifier');
  k.set(matrix_mdev, 'kvm', 1);
  return 0;
});

const vfio_ap_mdev_release = kfn('vfio_ap_mdev_release', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('vfio_ap_mdev_reset_queues');
  k.set(matrix_mdev, 'kvm', 0);
  k.set(matrix_mdev, 'group_notifier', 0);
  yield* module_put(k, yield* this_module(k));
});

/** VFIO_DEVICE_RESET: resets the queues of matrix_mdev->matrix. */
const vfio_ap_mdev_ioctl = kfn('vfio_ap_mdev_ioctl', function* (k: Kernel, mdev: MdevDevice) {
  const md = matrix_dev(k);
  yield* mutex_lock(k, md, 'lock');
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('vfio_ap_mdev_reset_queues');
  const matrix = k.get(matrix_mdev, 'matrix');
  yield* mutex_unlock(k, md, 'lock');
  return matrix > 0 ? 0 : -ENODEV;
});

/** The "matrix" attribute: prints matrix_mdev->matrix. */
const matrix_show = kfn('matrix_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('matrix_mdev->matrix');
  return k.get(matrix_mdev, 'matrix') > 0 ? 0 : -ENODEV;
});

export const vfio_ap_parent_ops: ParentOps = {
  supported_type_groups: ['passthrough'],
  mdev_attr_groups: ['matrix'],
  create: vfio_ap_mdev_create,
  remove: vfio_ap_mdev_remove,
  open: vfio_ap_mdev_open,
  release: vfio_ap_mdev_release,
  ioctl: vfio_ap_mdev_ioctl,
  show: matrix_show,
};

const vfio_ap_init = kfn('vfio_ap_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  const md = yield* kzalloc(k, ap_matrix_dev);
  if (md === 0) return -ENOMEM;
  k.set(md, 'available_instances', MAX_INSTANCES);
  k.set(md, 'mdev_list', list_new(k, k.at('INIT_LIST_HEAD')));
  const dev = yield* parent_device_register(k, 'matrix');
  const ret = yield* core.mdev_register_device(k, dev, mod);
  if (ret !== 0) {
    yield* parent_device_unregister(k, dev);
    k.free(k.get(md, 'mdev_list'), k.at('kfree'));
    yield* kfree(k, md);
  }
  return ret;
});

const vfio_ap_exit = kfn('vfio_ap_exit', function* (k: Kernel, core: MdevCore, _mod: Module) {
  const dev = matrix_device(k);
  yield* core.mdev_unregister_device(k, dev);
  yield* parent_device_unregister(k, dev);
  const md = matrix_dev(k);
  k.free(k.get(md, 'mdev_list'), k.at('kfree'));
  yield* kfree(k, md);
});

export const vfio_ap: ModuleDef = {
  name: 'vfio_ap',
  init: vfio_ap_init,
  exit: vfio_ap_exit,
  parent_ops: vfio_ap_parent_ops,
  driver_name: 'vfio_ap',
  parent_dev: 'matrix',
};
