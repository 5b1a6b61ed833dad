// drivers/vfio/mdev/mdev_driver.c as of v6.x (reference A.3.5): no iommu code; probe and remove call
// the mdev_driver's own; mdev_match never matches, so a driver binds only through
// device_driver_attach from mdev_device_create.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { driver_text, mdev_bus, type MdevBus } from '../legacy/base.js';
import type { DeviceDriver, MdevDevice } from '../legacy/structs.js';

const mdev_probe = kfn('mdev_probe', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  return yield* driver_text(k, drv, 'probe').probe(k, mdev);
});

const mdev_remove = kfn('mdev_remove', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  yield* driver_text(k, drv, 'remove').remove(k, mdev);
});

/** The v6 mdev bus, with the core's mdev_device_release as dev->release. */
export function v6_mdev_bus(release: (k: Kernel, mdev: MdevDevice) => Gen): MdevBus {
  return mdev_bus({ probe: mdev_probe, remove: mdev_remove, release });
}

/** mdev_match: binding is explicit. */
export function mdev_match(_k: Kernel, _mdev: MdevDevice): boolean {
  return false;
}
