// drivers/s390/crypto/vfio_ap_ops.c and vfio_ap_drv.c of v5.0.1 (v5.2.1 has the same code): create
// sets drvdata before listing matrix_mdev; open uses drvdata unchecked (the group notifier) and pins
// the module; remove vetoes with -EBUSY while a guest's KVM holds the device; ioctl takes no lock.
// matrix_dev is kzalloc'd, reached through the static pointer `matrix_dev` (vfio_ap_drv.c 31), and
// never freed: its device's release kfrees the device's drvdata, which nothing sets. Simplified:
// the KVM notifier is taken to fire inside open (a guest is attached to the group, so
// vfio_register_notifier calls it at once) and sets kvm; the AP bus driver, root device and queue
// reset instructions are not modelled.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EBUSY, ENODEV, ENOMEM, EPERM } from '../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_new } from '../../../harness/kernel/list.js';
import { find_module, module_put, module_static, module_static_data, try_module_get, type Module } from '../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../harness/kernel/sync.js';
import { kzalloc, kfree } from '../legacy/alloc.js';
import { device_register_parent, parent_device_unregister, register_device_release } from '../legacy/base.js';
import type { MdevCore, ModuleDef, ParentOps } from '../legacy/ops.js';
import { ap_matrix_dev, ap_matrix_mdev, device, vfio_ap_statics, type ApMatrixMdev, type Device, type MdevDevice, type MdevType } from '../legacy/structs.js';
import { mdev_get_drvdata, mdev_set_drvdata } from './drvdata.js';
import type { Ref } from '../../../harness/kernel/layout.js';

const MAX_INSTANCES = 2;

type ApMatrixDev = Ref<(typeof ap_matrix_dev.fields)[number]>;

/** The static pointer `matrix_dev`; the object it points to is heap. */
function matrix_dev(k: Kernel, mod?: Module): ApMatrixDev {
  return k.get(module_static_data(k, vfio_ap_statics, mod), 'matrix_dev') as ApMatrixDev;
}

/**
 * vfio_ap_matrix_dev_release (vfio_ap_drv.c 58-63 v5.0.1, 53-58 v5.2.1): kfree(dev_get_drvdata(dev)).
 * Nothing in vfio_ap_*.c sets the matrix device's drvdata, so this is kfree(NULL): matrix_dev and the
 * struct device inside it are never freed (a leak, fixed upstream later; not leak-checked here, as
 * every unload of vfio_ap would report it).
 */
const RELEASE_MATRIX_DEV = register_device_release(() => {}, { leaks: true });

/** vfio_ap_mdev_create (vfio_ap_ops.c 35-55, v5.0.1): drvdata (49) before the list_add (50-52). */
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
  yield* mdev_set_drvdata(k, mdev, matrix_mdev);
  yield* mutex_lock(k, md, 'lock');
  list_add(k, k.get(md, 'mdev_list'), matrix_mdev);
  yield* mutex_unlock(k, md, 'lock');
  return 0;
});

/** vfio_ap_mdev_remove (vfio_ap_ops.c 57-73): the kvm veto, list_del, kfree (68) before drvdata = NULL (69). */
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

/** vfio_ap_mdev_open (vfio_ap_ops.c 841-862): drvdata unchecked, the notifier written (851). */
const vfio_ap_mdev_open = kfn('vfio_ap_mdev_open', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  if (!(yield* try_module_get(k, yield* this_module(k)))) return -ENODEV;
  yield k.at('group_notifier.notifier_call');
  k.set(matrix_mdev, 'group_notifier', 1);
  yield k.at('vfio_register_notifier');
  k.set(matrix_mdev, 'kvm', 1);
  return 0;
});

/** vfio_ap_mdev_reset_queues (816-839): reads drvdata and its matrix, no lock. */
const vfio_ap_mdev_reset_queues = kfn('vfio_ap_mdev_reset_queues', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('matrix_mdev->matrix');
  return k.get(matrix_mdev, 'matrix') > 0 ? 0 : -ENODEV;
});

/** vfio_ap_mdev_release (864-877): reads kvm (868), resets the queues, clears kvm, module_put. */
const vfio_ap_mdev_release = kfn('vfio_ap_mdev_release', function* (k: Kernel, mdev: MdevDevice) {
  const matrix_mdev = yield* mdev_get_drvdata<ApMatrixMdev>(k, mdev);
  yield k.at('matrix_mdev->kvm');
  k.get(matrix_mdev, 'kvm');
  yield* vfio_ap_mdev_reset_queues(k, mdev);
  yield k.at('vfio_unregister_notifier');
  k.set(matrix_mdev, 'group_notifier', 0);
  k.set(matrix_mdev, 'kvm', 0);
  yield* module_put(k, yield* this_module(k));
});

/** vfio_ap_mdev_ioctl (898-915), VFIO_DEVICE_RESET: reset_queues without any lock. */
const vfio_ap_mdev_ioctl = kfn('vfio_ap_mdev_ioctl', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('cmd');
  return yield* vfio_ap_mdev_reset_queues(k, mdev);
});

/** matrix_show (vfio_ap_ops.c 659-700): reads drvdata's matrix before taking matrix_dev->lock. */
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

/**
 * vfio_ap_init (vfio_ap_drv.c 116-148): vfio_ap_matrix_dev_create (65-108: kzalloc matrix_dev,
 * its lock and list, device_register with release = vfio_ap_matrix_dev_release; on failure
 * put_device) → vfio_ap_mdev_register (vfio_ap_ops.c 929-934) → on failure matrix_dev_destroy.
 */
const vfio_ap_init = kfn('vfio_ap_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  const statics = module_static(k, vfio_ap_statics, mod, k.at('static'));
  const md = yield* kzalloc(k, ap_matrix_dev);
  if (md === 0) return -ENOMEM;
  k.set(statics, 'matrix_dev', md);
  k.set(md, 'mdev_list', list_new(k, k.at('INIT_LIST_HEAD')));
  // struct device embedded in matrix_dev; its release frees nothing (above).
  const dev = k.alloc(device, k.at('kzalloc'));
  k.set(dev, 'release', RELEASE_MATRIX_DEV);
  k.set(md, 'device', dev);
  yield* device_register_parent(k, dev, 'matrix');
  k.set(md, 'available_instances', MAX_INSTANCES);
  const ret = yield* core.mdev_register_device(k, dev, mod);
  if (ret !== 0) yield* vfio_ap_matrix_dev_destroy(k, dev);
  return ret;
});

/** vfio_ap_matrix_dev_destroy (vfio_ap_drv.c 110-114): device_unregister (the last put frees nothing). */
const vfio_ap_matrix_dev_destroy = kfn('vfio_ap_matrix_dev_destroy', function* (k: Kernel, dev: Device) {
  yield* parent_device_unregister(k, dev);
});

/** vfio_ap_exit (vfio_ap_drv.c 150-155): mdev_unregister_device(&matrix_dev->device), then destroy. */
const vfio_ap_exit = kfn('vfio_ap_exit', function* (k: Kernel, core: MdevCore, mod: Module) {
  const dev = k.get(matrix_dev(k, mod), 'device') as Device;
  yield* core.mdev_unregister_device(k, dev);
  yield* vfio_ap_matrix_dev_destroy(k, dev);
});

export const vfio_ap: ModuleDef = {
  name: 'vfio_ap',
  init: vfio_ap_init,
  exit: vfio_ap_exit,
  parent_ops: vfio_ap_parent_ops,
  driver_name: 'vfio_ap',
  parent_dev: 'matrix',
};
