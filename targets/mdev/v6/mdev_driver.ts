// drivers/vfio/mdev/mdev_driver.c as of v6.x (reference A.3.5): no iommu code; probe and remove call
// the mdev_driver's own; mdev_match never matches, so a driver binds only through
// device_driver_attach from mdev_device_create.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import type { Module } from '../../../harness/kernel/module.js';
import { driver_register, driver_text, driver_unregister, type BusType } from '../legacy/base.js';
import type { MdevDriver } from '../legacy/ops.js';
import type { DeviceDriver, MdevDevice } from '../legacy/structs.js';

const mdev_probe = kfn('mdev_probe', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  return yield* driver_text(k, drv, 'probe').probe(k, mdev);
});

const mdev_remove = kfn('mdev_remove', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  yield* driver_text(k, drv, 'remove').remove(k, mdev);
});

export const mdev_bus_type: BusType = { probe: mdev_probe, remove: mdev_remove };

export const mdev_register_driver = kfn('mdev_register_driver', function* (k: Kernel, drv: MdevDriver, owner: Module) {
  return yield* driver_register(k, mdev_bus_type, drv, owner);
});

export const mdev_unregister_driver = kfn('mdev_unregister_driver', function* (k: Kernel, drv: DeviceDriver) {
  yield* driver_unregister(k, mdev_bus_type, drv);
});

/** mdev_match: binding is explicit. */
export function mdev_match(_k: Kernel, _mdev: MdevDevice): boolean {
  return false;
}
