// drivers/s390/crypto/vfio_ap_{drv,ops}.c of v6.1-rc7. struct ap_matrix_dev is kzalloc'd
// (vfio_ap_drv.c 91) with the parent struct device, struct mdev_parent and struct mdev_type
// embedded; it is never freed: the device's release (55-60) kfrees the device's drvdata, which
// nothing sets (v6/driver_core.ts). The `matrix_dev` pointer (vfio_ap_drv.c 26) and
// vfio_ap_matrix_driver (ops.c 1794-1805) are static module data. probe registers the vfio_device and sets drvdata before list_add (ops.c
// 701-723); open_device needs a KVM (1666-1675): the model's processes have none, so it returns
// -EINVAL, as 6.1 does for a process that has not attached the group to a VM.
// Simplified: the AP bus, queues, debug feature and root device are left out.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { EINVAL, ENOMEM } from '../../../../harness/kernel/kernfs.js';
import { list_add, list_del, list_new } from '../../../../harness/kernel/list.js';
import { module_static, type Module } from '../../../../harness/kernel/module.js';
import { mutex_lock, mutex_unlock } from '../../../../harness/kernel/sync.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import { register_driver_code } from '../../legacy/base.js';
import { ap_matrix_mdev, type ApMatrixMdev, type MdevDevice, type VfioDevice } from '../../legacy/structs.js';
import { device_register, device_unregister, put_device } from '../../v6/driver_core.js';
import type { CoreV6 } from '../../v6/mdev_core.js';
import type { MdevDriverV6 } from '../../v6/mdev_driver.js';
import { device_v6, mdev_parent_v6, mdev_type_v6, vendor_v6, type DeviceV6, type DriverV6, type ParentV6, type TypeV6, type VendorV6 } from '../../v6/structs.js';
import { register_vfio_ops, vfio_alloc_device, vfio_free_device, vfio_put_device, vfio_register_emulated_iommu_dev, vfio_unregister_group_dev } from '../../v6/vfio.js';
import { driver_module, new_static, set_types, vendor_static, type ModernModule } from './common.js';
import { device_driver_v6 } from '../../v6/structs.js';

/** MAX_ZDEV_ENTRIES_EXT (ops.c 1796; arch/s390/include/asm/pci.h, outside the extracted tree). */
const MAX_ZDEV_ENTRIES_EXT = 4096;

/** The kzalloc'd matrix_dev, read through the module's static `matrix_dev` pointer. */
function matrix_dev(k: Kernel, mod: Module): VendorV6 {
  return k.get(vendor_static(k, mod), 'matrix_dev') as VendorV6;
}

function matrix_of(k: Kernel, vdev: VfioDevice): ApMatrixMdev {
  return k.get(vdev, 'device_data') as ApMatrixMdev;
}

/** vfio_ap_mdev_init_dev (687-699). */
const vfio_ap_mdev_init_dev = kfn('vfio_ap_mdev_init_dev', function* (k: Kernel, vdev: VfioDevice) {
  // the model keeps ap_matrix_mdev (the container of vdev) as a slot of its own
  const matrix_mdev: ApMatrixMdev = yield* kzalloc(k, ap_matrix_mdev);
  if (matrix_mdev === 0) return -ENOMEM;
  k.set(matrix_mdev, 'mdev', k.get(vdev, 'dev'));
  k.set(matrix_mdev, 'matrix', 1);
  k.set(vdev, 'device_data', matrix_mdev);
  return 0;
});

/** vfio_ap_mdev_release_dev (768-771): vfio_free_device. */
const vfio_ap_mdev_release_dev = kfn('vfio_ap_mdev_release_dev', function* (k: Kernel, vdev: VfioDevice) {
  yield* kfree(k, matrix_of(k, vdev));
  yield* vfio_free_device(k, vdev);
});

/** vfio_ap_mdev_open_device (1666-1675): no vdev->kvm, -EINVAL. */
const vfio_ap_mdev_open_device = kfn('vfio_ap_mdev_open_device', function* (k: Kernel, _vdev: VfioDevice) {
  yield k.at('vdev->kvm');
  return -EINVAL;
});

/** vfio_ap_mdev_close_device (1677-1683): never reached without a successful open_device. */
const vfio_ap_mdev_close_device = kfn('vfio_ap_mdev_close_device', function* (k: Kernel, vdev: VfioDevice) {
  yield k.at('vfio_ap_mdev_unset_kvm');
  k.set(matrix_of(k, vdev), 'kvm', 0);
});

/** vfio_ap_mdev_ioctl (1705-1727): under matrix_dev->mdevs_lock. */
const vfio_ap_mdev_ioctl = kfn('vfio_ap_mdev_ioctl', function* (k: Kernel, vdev: VfioDevice) {
  const md = matrix_dev(k, k.get(vdev, 'ops') as Module);
  yield* mutex_lock(k, md, 'lock');
  yield k.at('vfio_ap_mdev_reset_queues');
  const matrix = k.get(matrix_of(k, vdev), 'matrix');
  yield* mutex_unlock(k, md, 'lock');
  return matrix > 0 ? 0 : -EINVAL;
});

register_vfio_ops('vfio_ap', {
  init: vfio_ap_mdev_init_dev,
  release: vfio_ap_mdev_release_dev,
  open_device: vfio_ap_mdev_open_device,
  close_device: vfio_ap_mdev_close_device,
  ioctl: vfio_ap_mdev_ioctl,
});

/** vfio_ap_mdev_probe (701-723): register, drvdata, then list_add under mdevs_lock. */
const vfio_ap_mdev_probe = kfn('vfio_ap_mdev_probe', function* (k: Kernel, mdev: MdevDevice) {
  const mod = driver_module(k, k.get(mdev, 'dev_driver') as DriverV6);
  const vdev = yield* vfio_alloc_device(k, mdev, mod);
  if (vdev < 0) return vdev;
  const ret = yield* vfio_register_emulated_iommu_dev(k, vdev);
  if (ret !== 0) {
    yield* vfio_put_device(k, vdev);
    return ret;
  }
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', vdev);
  const md = matrix_dev(k, mod);
  yield* mutex_lock(k, md, 'lock');
  list_add(k, k.get(md, 'mdev_list'), matrix_of(k, vdev));
  yield* mutex_unlock(k, md, 'lock');
  return 0;
});

/** vfio_ap_mdev_remove (773-787). */
const vfio_ap_mdev_remove = kfn('vfio_ap_mdev_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  yield* vfio_unregister_group_dev(k, vdev);
  const md = matrix_dev(k, k.get(vdev, 'ops') as Module);
  yield* mutex_lock(k, md, 'guests_lock');
  yield* mutex_lock(k, md, 'lock');
  yield k.at('vfio_ap_mdev_reset_queues');
  list_del(k, k.get(md, 'mdev_list'), matrix_of(k, vdev));
  yield* mutex_unlock(k, md, 'lock');
  yield* mutex_unlock(k, md, 'guests_lock');
  yield* vfio_put_device(k, vdev);
});

/** matrix_show (1449-1460): drvdata, then matrix_mdev->matrix under mdevs_lock. */
const matrix_show = kfn('matrix_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  const md = matrix_dev(k, driver_module(k, k.get(mdev, 'dev_driver') as DriverV6));
  yield* mutex_lock(k, md, 'lock');
  yield k.at('matrix_mdev->matrix');
  const matrix = k.get(matrix_of(k, vdev), 'matrix');
  yield* mutex_unlock(k, md, 'lock');
  return matrix > 0 ? 0 : -EINVAL;
});

const vfio_ap_matrix_driver: MdevDriverV6 = register_driver_code({
  name: 'vfio_ap_mdev',
  probe: vfio_ap_mdev_probe,
  remove: vfio_ap_mdev_remove,
  dev_groups: { dir: 'vendor', attrs: ['matrix'] },
  show: matrix_show,
});

/**
 * vfio_ap_init (159-190): vfio_ap_matrix_dev_create (78-133: kzalloc 91, device_register 114, a
 * failure puts the device 127), then vfio_ap_mdev_register (ops.c 1807-1828).
 */
const vfio_ap_init = kfn('vfio_ap_init', function* (k: Kernel, core: CoreV6, mod: Module) {
  const data = new_static(k, mod);
  const drv = module_static(k, device_driver_v6, mod, k.at('static')) as DriverV6;
  k.set(data, 'driver', drv);
  // vfio_ap_matrix_dev_create
  const md: VendorV6 = yield* kzalloc(k, vendor_v6);
  if (md === 0) return -ENOMEM;
  const dev = k.alloc(device_v6, k.at('kzalloc(matrix_dev)')) as DeviceV6;
  const parent = k.alloc(mdev_parent_v6, k.at('kzalloc(matrix_dev)')) as ParentV6;
  const type = k.alloc(mdev_type_v6, k.at('kzalloc(matrix_dev)')) as TypeV6;
  k.set(md, 'module', mod);
  k.set(md, 'dev', dev);
  k.set(md, 'parent', parent);
  k.set(md, 'type_count', 1);
  k.set(parent, 'types0', type);
  k.set(md, 'mdev_list', list_new(k, k.at('INIT_LIST_HEAD')));
  k.set(dev, 'release_data', md);
  k.set(data, 'matrix_dev', md);
  let ret = yield* device_register(k, dev, 'matrix');
  if (ret !== 0) {
    yield* put_device(k, dev);
    return ret;
  }
  // vfio_ap_mdev_register
  ret = yield* core.mdev_register_driver(k, drv, vfio_ap_matrix_driver, mod);
  if (ret === 0) {
    k.set(type, 'name', k.intern('passthrough'));
    set_types(k, parent, [type]);
    ret = yield* core.mdev_register_parent(k, parent, dev, drv, 'vfio_ap', MAX_ZDEV_ENTRIES_EXT);
    if (ret === 0) return 0;
    yield* core.mdev_unregister_driver(k, drv);
  }
  // vfio_ap_matrix_dev_destroy (135-143)
  yield* device_unregister(k, dev);
  return ret;
});

/** vfio_ap_exit (192-198): vfio_ap_mdev_unregister (ops.c 1830-1834), then vfio_ap_matrix_dev_destroy (135-143). */
const vfio_ap_exit = kfn('vfio_ap_exit', function* (k: Kernel, core: CoreV6, mod: Module) {
  const md = matrix_dev(k, mod);
  yield* core.mdev_unregister_parent(k, k.get(md, 'parent') as ParentV6);
  yield* core.mdev_unregister_driver(k, k.get(vendor_static(k, mod), 'driver') as DriverV6);
  yield* device_unregister(k, k.get(md, 'dev') as DeviceV6);
});

export const vfio_ap_v6: ModernModule = {
  name: 'vfio_ap',
  driver_name: 'vfio_ap',
  parent_dev: 'matrix',
  driver: vfio_ap_matrix_driver,
  init: vfio_ap_init,
  exit: vfio_ap_exit,
};
