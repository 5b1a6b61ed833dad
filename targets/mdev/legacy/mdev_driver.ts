// drivers/vfio/mdev/mdev_driver.c of v5.0.1 (v5.2.1: the same code 3 lines earlier): the mdev bus. Probe gives the device its own iommu
// group and calls the bus driver's probe under device_lock; remove undoes both.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { kref_get, kref_put } from '../../../harness/kernel/sync.js';
import { ENOMEM } from '../../../harness/kernel/kernfs.js';
import { kzalloc, kfree } from './alloc.js';
import { driver_text, mdev_bus, type DriverCore, type MdevBus } from './base.js';
import { iommu_group, type DeviceDriver, type IommuGroup, type MdevDevice } from './structs.js';

/** iommu_group_put (drivers/iommu/iommu.c (a kref put)). */
const iommu_group_put = kfn('iommu_group_put', function* (k: Kernel, group: IommuGroup) {
  yield* kref_put(k, group, 'refcount', () => kfree(k, group));
});

/** mdev_attach_iommu (mdev_driver.c 19-35). */
export const mdev_attach_iommu = kfn('mdev_attach_iommu', function* (k: Kernel, mdev: MdevDevice) {
  const group = yield* kzalloc(k, iommu_group);
  if (group === 0) return -ENOMEM;
  k.set(group, 'refcount', 1);
  yield k.at('iommu_group_add_device');
  yield* kref_get(k, group, 'refcount');
  k.set(mdev, 'iommu_group', group);
  yield* iommu_group_put(k, group);
  return 0;
});

/** mdev_detach_iommu (mdev_driver.c 37-41). */
export const mdev_detach_iommu = kfn('mdev_detach_iommu', function* (k: Kernel, mdev: MdevDevice) {
  const group = k.get(mdev, 'iommu_group') as IommuGroup;
  yield k.at('iommu_group_remove_device');
  k.set(mdev, 'iommu_group', 0);
  if (group !== 0) yield* iommu_group_put(k, group);
});

/** mdev_probe (mdev_driver.c 43-60). */
export const mdev_probe = kfn('mdev_probe', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  let ret = yield* mdev_attach_iommu(k, mdev);
  if (ret !== 0) return ret;
  ret = yield* driver_text(k, drv, 'probe').probe(k, mdev);
  if (ret !== 0) yield* mdev_detach_iommu(k, mdev);
  return ret;
});

/** mdev_remove (mdev_driver.c 62-73). */
export const mdev_remove = kfn('mdev_remove', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  yield* driver_text(k, drv, 'remove').remove(k, mdev);
  yield* mdev_detach_iommu(k, mdev);
});

/** The legacy mdev bus, with the core's mdev_device_release as dev->release, in its release's driver core. */
export function legacy_mdev_bus(release: (k: Kernel, mdev: MdevDevice) => Gen, driver_core: DriverCore): MdevBus {
  return mdev_bus({ probe: mdev_probe, remove: mdev_remove, release, driver_core });
}
