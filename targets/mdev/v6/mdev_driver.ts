// drivers/vfio/mdev/mdev_driver.c of v6.1-rc7: mdev_probe (15-23) and mdev_remove (25-32) call the
// mdev_driver's own, in the vendor module's text; mdev_match (34-41) returns 0, so a driver binds
// only through device_driver_attach from mdev_device_create; mdev_register_driver (56-65) and
// mdev_unregister_driver (71-75) are driver_register / driver_unregister of the static
// struct mdev_driver (driver_core.ts).

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import type { Module } from '../../../harness/kernel/module.js';
import { driver_code, driver_text, type BusType } from '../legacy/base.js';
import type { MdevDriver } from '../legacy/ops.js';
import type { DeviceDriver, MdevDevice } from '../legacy/structs.js';
import { driver_register, driver_unregister } from './driver_core.js';
import type { DriverV6 } from './structs.js';

/** struct mdev_driver of 6.1 (include/linux/mdev.h): get_available makes the core skip its count. */
export interface MdevDriverV6 extends MdevDriver {
  get_available?: true;
}

const mdev_probe = kfn('mdev_probe', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  return yield* driver_text(k, drv, 'probe').probe(k, mdev);
});

const mdev_remove = kfn('mdev_remove', function* (k: Kernel, mdev: MdevDevice, drv: DeviceDriver) {
  yield* driver_text(k, drv, 'remove').remove(k, mdev);
});

/** drv->get_available: a read of the vendor's static struct mdev_driver (mdev_core.c 123, 151). */
export function has_get_available(k: Kernel, drv: DriverV6): boolean {
  k.get(drv, 'code');
  return (driver_code(k, drv as unknown as DeviceDriver) as MdevDriverV6).get_available === true;
}

export interface MdevBusV6 {
  type: BusType;
  mdev_register_driver(k: Kernel, d: DriverV6, drv: MdevDriver, owner: Module): Gen<number>;
  mdev_unregister_driver(k: Kernel, d: DriverV6): Gen;
}

/** The v6 mdev bus (mdev_driver.c 43-48), with the core's mdev_device_release as dev->release. */
export function v6_mdev_bus(release: (k: Kernel, mdev: MdevDevice) => Gen): MdevBusV6 {
  // mdev_match (mdev_driver.c 34-41): no driver matches on its own; binding is by device_driver_attach.
  const type: BusType = { match: () => false, driver_core: 'v6.1-rc7', probe: mdev_probe, remove: mdev_remove, release };
  return {
    type,
    mdev_register_driver: kfn('mdev_register_driver', function* (k: Kernel, d: DriverV6, drv: MdevDriver, owner: Module) {
      return yield* driver_register(k, type, d, drv, owner);
    }),
    mdev_unregister_driver: kfn('mdev_unregister_driver', function* (k: Kernel, d: DriverV6) {
      yield* driver_unregister(k, type, d);
    }),
  };
}
