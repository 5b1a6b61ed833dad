// What the v6 vendor modules share. Their static data lives in module memory (module_static,
// harness/kernel/module.ts): allocated at load, never kfree'd, a page fault to touch after free_module.
// Each load tears down exactly what its own init created (no lookups by name).

import type { Gen, Kernel } from '../../../../harness/kernel/kernel.js';
import { module_static, module_static_data, type Module } from '../../../../harness/kernel/module.js';
import type { CoreV6 } from '../../v6/mdev_core.js';
import type { MdevDriverV6 } from '../../v6/mdev_driver.js';
import { device_driver_v6, mdev_parent_v6, mdev_type_v6, vendor_v6, type DriverV6, type ParentV6, type TypeV6, type VendorV6 } from '../../v6/structs.js';
import type { ModuleSpec } from '../../userspace.js';

/** A v6 vendor module for the userspace's module list, with its parent device for sysfs paths. */
export interface ModernModule extends ModuleSpec<CoreV6> {
  driver_name: string;
  parent_dev: string;
  /** Its mdev_driver, for code that needs the driver's table (dev_groups, show). */
  driver: MdevDriverV6;
}

/** The static variables of the instance `mod` of a vendor module; a page fault once it is freed. */
export function vendor_static(k: Kernel, mod: Module): VendorV6 {
  const data = module_static_data(k, vendor_v6, mod) as VendorV6;
  k.get(data, 'module');
  return data;
}

/** The module that owns a bound mdev's driver: dev->driver->owner. */
export function driver_module(k: Kernel, drv: DriverV6): Module {
  return k.get(drv, 'owner') as Module;
}

/** Static struct mdev_driver, struct mdev_parent and struct mdev_type[] of a module (mtty.c 69-76, 146-159, 1275). */
export function static_parent(k: Kernel, mod: Module, names: readonly string[], nr_ports: readonly number[]): { drv: DriverV6; parent: ParentV6; types: TypeV6[] } {
  const drv = module_static(k, device_driver_v6, mod, k.at('static')) as DriverV6;
  const parent = module_static(k, mdev_parent_v6, mod, k.at('static')) as ParentV6;
  const types = names.map((name, i) => {
    const t = module_static(k, mdev_type_v6, mod, k.at('static')) as TypeV6;
    k.set(t, 'name', k.intern(name));
    k.set(t, 'nr_ports', nr_ports[i] ?? 0);
    return t;
  });
  return { drv, parent, types };
}

/** parent->types = types; parent->nr_types = n (the pointer array the vendor hands to mdev_register_parent). */
export function set_types(k: Kernel, parent: ParentV6, types: readonly TypeV6[]): void {
  k.set(parent, 'types0', types[0] ?? 0);
  k.set(parent, 'types1', types[1] ?? 0);
  k.set(parent, 'nr_types', types.length);
}

export function new_static(k: Kernel, mod: Module): VendorV6 {
  const data = module_static(k, vendor_v6, mod, k.at('static')) as VendorV6;
  k.set(data, 'module', mod);
  return data;
}

export type Init = (k: Kernel, core: CoreV6, mod: Module) => Gen<number>;
export type Exit = (k: Kernel, core: CoreV6, mod: Module) => Gen;
