// The vendor-facing interfaces of the legacy mdev core: struct mdev_parent_ops (called through the
// parent, from the vendor's module text) and mdev bus drivers. The mdev_core functions vendors call
// differ between v5.0 and v5.2, so each target hands its own MdevCore to the vendor modules.

import type { Gen, Kernel } from '../../../harness/kernel/kernel.js';
import type { Module } from '../../../harness/kernel/module.js';
import type { KernfsNode } from '../../../harness/kernel/kernfs.js';
import type { Device, DeviceDriver, MdevDevice, MdevType } from './structs.js';

/** struct mdev_parent_ops; absent members are NULL in the vendor's table. */
export interface ParentOps {
  /** Type groups: the type's sysfs name is "<driver>-<group>". */
  supported_type_groups: readonly string[];
  /** Names of the vendor's attributes in mdev_attr_groups ("vendor/<name>"), if any. */
  mdev_attr_groups: readonly string[];
  create(k: Kernel, kobj: MdevType, mdev: MdevDevice): Gen<number>;
  remove(k: Kernel, mdev: MdevDevice): Gen<number>;
  open?(k: Kernel, mdev: MdevDevice): Gen<number>;
  release?(k: Kernel, mdev: MdevDevice): Gen;
  ioctl?(k: Kernel, mdev: MdevDevice): Gen<number>;
  /** show() of a vendor attribute of mdev_attr_groups. */
  show?(k: Kernel, mdev: MdevDevice, attr: string): Gen<number>;
}

/** Attribute groups of a device: files in a subdirectory, or (dir null) in the device's own. */
export interface AttrGroup {
  dir: string | null;
  attrs: readonly string[];
}

/** An mdev bus driver (struct mdev_driver). */
export interface MdevDriver {
  name: string;
  probe(k: Kernel, mdev: MdevDevice): Gen<number>;
  remove(k: Kernel, mdev: MdevDevice): Gen;
  /** driver->dev_groups: added after a successful probe, removed before remove (v6 vendors). */
  dev_groups?: AttrGroup;
  show?(k: Kernel, mdev: MdevDevice, attr: string): Gen<number>;
}

/** What vendor modules call in the mdev core of one version. */
export interface MdevCore {
  mdev_register_device(k: Kernel, dev: Device, ops: Module): Gen<number>;
  mdev_unregister_device(k: Kernel, dev: Device): Gen;
  mdev_register_driver(k: Kernel, drv: MdevDriver, owner: Module): Gen<DeviceDriver>;
  mdev_unregister_driver(k: Kernel, drv: DeviceDriver): Gen;
}

/** A loadable module: its init and exit, and the tables in its text that the core calls through. */
export interface ModuleDef {
  name: string;
  init(k: Kernel, core: MdevCore, mod: Module): Gen<number>;
  exit(k: Kernel, core: MdevCore, mod: Module): Gen;
  /** Its mdev_parent_ops, for vendor drivers. */
  parent_ops?: ParentOps;
  /** Its name for sysfs type names ("mtty" in "mtty-1"). */
  driver_name?: string;
  /** The name of the parent device it registers ("mtty" for /sys/devices/virtual/mtty/mtty). */
  parent_dev?: string;
  /** Its mdev bus driver, for bus drivers. */
  mdev_driver?: MdevDriver;
}

/** A store() of a sysfs attribute, given the node that was written. */
export type Store = (k: Kernel, node: KernfsNode) => Gen<number>;
