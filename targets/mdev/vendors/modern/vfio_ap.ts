// The vfio_ap-like vendor as of v6.x: probe allocates matrix_mdev inside its vfio_device, registers
// it and sets drvdata last; open_device takes the guest (KVM) and close_device gives it back; every
// op reaches matrix_mdev through the vfio_device, and the "matrix" attribute (a driver dev_group)
// exists only while the driver is bound.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { ENODEV, ENOMEM } from '../../../../harness/kernel/kernfs.js';
import { list_add, list_del } from '../../../../harness/kernel/list.js';
import { find_module } from '../../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import type { MdevDriver } from '../../legacy/ops.js';
import { ap_matrix_mdev, type ApMatrixMdev, type MdevDevice, type VfioDevice } from '../../legacy/structs.js';
import { register_vfio_ops, vfio_alloc_device, vfio_put_device, vfio_register_emulated_iommu_dev, vfio_unregister_group_dev } from '../../v6/vfio.js';
import { modernModule, vendor_data } from './common.js';
import { register_driver_code } from '../../legacy/base.js';

function matrix_of(k: Kernel, vdev: VfioDevice): ApMatrixMdev {
  return k.get(vdev, 'device_data') as ApMatrixMdev;
}

const vfio_ap_mdev_init_dev = kfn('vfio_ap_mdev_init_dev', function* (k: Kernel, vdev: VfioDevice) {
  const matrix_mdev: ApMatrixMdev = yield* kzalloc(k, ap_matrix_mdev);
  if (matrix_mdev === 0) return -ENOMEM;
  k.set(matrix_mdev, 'mdev', k.get(vdev, 'dev'));
  k.set(matrix_mdev, 'matrix', 1);
  k.set(vdev, 'device_data', matrix_mdev);
  return 0;
});

const vfio_ap_mdev_release_dev = kfn('vfio_ap_mdev_release_dev', function* (k: Kernel, vdev: VfioDevice) {
  yield* kfree(k, matrix_of(k, vdev));
});

const vfio_ap_mdev_open_device = kfn('vfio_ap_mdev_open_device', function* (k: Kernel, vdev: VfioDevice) {
  yield k.at('vfio_ap_mdev_set_kvm');
  k.set(matrix_of(k, vdev), 'kvm', 1);
  return 0;
});

const vfio_ap_mdev_close_device = kfn('vfio_ap_mdev_close_device', function* (k: Kernel, vdev: VfioDevice) {
  yield k.at('vfio_ap_mdev_unset_kvm');
  k.set(matrix_of(k, vdev), 'kvm', 0);
});

/** VFIO_DEVICE_RESET: resets the queues of matrix_mdev->matrix. */
const vfio_ap_mdev_ioctl = kfn('vfio_ap_mdev_ioctl', function* (k: Kernel, vdev: VfioDevice) {
  const data = vendor_data(k, 'vfio_ap');
  yield* mutex_lock(k, data, 'lock');
  yield k.at('vfio_ap_mdev_reset_queues');
  const matrix = k.get(matrix_of(k, vdev), 'matrix');
  yield* mutex_unlock(k, data, 'lock');
  return matrix > 0 ? 0 : -ENODEV;
});

register_vfio_ops('vfio_ap', {
  init: vfio_ap_mdev_init_dev,
  release: vfio_ap_mdev_release_dev,
  open_device: vfio_ap_mdev_open_device,
  close_device: vfio_ap_mdev_close_device,
  ioctl: vfio_ap_mdev_ioctl,
});

const vfio_ap_mdev_probe = kfn('vfio_ap_mdev_probe', function* (k: Kernel, mdev: MdevDevice) {
  const vdev = yield* vfio_alloc_device(k, mdev, find_module(k, 'vfio_ap'));
  if (vdev <= 0) return vdev === 0 ? -ENOMEM : vdev;
  const ret = yield* vfio_register_emulated_iommu_dev(k, vdev);
  if (ret !== 0) {
    yield* vfio_put_device(k, vdev);
    return ret;
  }
  const data = vendor_data(k, 'vfio_ap');
  yield* mutex_lock(k, data, 'lock');
  list_add(k, k.get(data, 'mdev_list'), matrix_of(k, vdev));
  yield* mutex_unlock(k, data, 'lock');
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', vdev);
  return 0;
});

const vfio_ap_mdev_remove = kfn('vfio_ap_mdev_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  yield* vfio_unregister_group_dev(k, vdev);
  const data = vendor_data(k, 'vfio_ap');
  yield* mutex_lock(k, data, 'lock');
  list_del(k, k.get(data, 'mdev_list'), matrix_of(k, vdev));
  yield* mutex_unlock(k, data, 'lock');
  yield* vfio_put_device(k, vdev);
});

/** The "matrix" attribute: matrix_mdev from drvdata, present while bound. */
const matrix_show = kfn('matrix_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  yield k.at('matrix_mdev->matrix');
  return k.get(matrix_of(k, vdev), 'matrix') > 0 ? 0 : -ENODEV;
});

const vfio_ap_matrix_driver: MdevDriver = register_driver_code({
  name: 'vfio_ap_mdev',
  match: () => false,
  probe: vfio_ap_mdev_probe,
  remove: vfio_ap_mdev_remove,
  dev_groups: { dir: 'vendor', attrs: ['matrix'] },
  show: matrix_show,
});

export const vfio_ap_v6 = modernModule({
  name: 'vfio_ap',
  parent_dev: 'matrix',
  types: ['passthrough'],
  max_instances: 2,
  driver: vfio_ap_matrix_driver,
});
