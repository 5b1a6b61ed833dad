// What the v6 vendor modules share: their static data (struct mtty_dev and the like, with the
// embedded struct mdev_parent and the vendor's own struct mdev_type array), registered with the
// core at module init and torn down at exit.

import { kfn, type Gen, type Kernel } from '../../../../harness/kernel/kernel.js';
import { list_add, list_entries, list_new } from '../../../../harness/kernel/list.js';
import { module_data, type Module } from '../../../../harness/kernel/module.js';
import { parent_device_register, parent_device_unregister } from '../../legacy/base.js';
import type { MdevDriver } from '../../legacy/ops.js';
import { mdev_parent, mdev_type, vendor_dev, type Device, type DeviceDriver, type MdevParent, type MdevType, type VendorDev } from '../../legacy/structs.js';
import type { CoreV6 } from '../../v6/mdev_core.js';
import type { ModuleSpec } from '../../userspace.js';

export interface ModernVendor {
  /** Module name, also the type prefix ("mtty" in "mtty-1"). */
  name: string;
  parent_dev: string;
  types: readonly string[];
  max_instances: number;
  driver: MdevDriver;
  /** mtty's mdev_avail_ports at load. */
  ports?: number;
}

/** A v6 vendor module for the userspace's module list, with its parent device for sysfs paths. */
export interface ModernModule extends ModuleSpec<CoreV6> {
  driver_name: string;
  parent_dev: string;
}

export function modernModule(v: ModernVendor): ModernModule {
  return { name: v.name, driver_name: v.name, parent_dev: v.parent_dev, init: vendor_init(v), exit: vendor_exit(v) };
}

/** The static data of a vendor module (by module name) while it is loaded. */
export function vendor_data(k: Kernel, module: string): VendorDev {
  const h = k.intern(module);
  return module_data(k, vendor_dev, (v) => k.get(v, 'name') === h);
}

/** module_init: register the driver, the parent device, then the mdev parent with its types. */
export function vendor_init(v: ModernVendor) {
  return kfn(`${v.name}_dev_init`, function* (k: Kernel, core: CoreV6, mod: Module): Gen<number> {
    const data = k.alloc(vendor_dev, k.at('static'));
    k.set(data, 'name', k.intern(v.name));
    k.set(data, 'avail_ports', v.ports ?? 0);
    k.set(data, 'mdev_list', list_new(k, k.at('INIT_LIST_HEAD')));
    const drv: DeviceDriver = yield* core.mdev_register_driver(k, v.driver, mod);
    k.set(data, 'driver', drv);
    const dev = yield* parent_device_register(k, v.parent_dev);
    k.set(data, 'dev', dev);
    const parent = k.alloc(mdev_parent, k.at('static')) as MdevParent;
    const types = list_new(k, k.at('mdev_types[]'));
    k.set(parent, 'type_list', types);
    // static struct mdev_type mtty_types[]: the vendor's static data, not allocations.
    for (const name of v.types) {
      const type = k.alloc(mdev_type, k.at('static')) as MdevType;
      k.set(type, 'name', k.intern(name));
      list_add(k, types, type);
    }
    k.set(data, 'parent', parent);
    const ret = yield* core.mdev_register_parent(k, parent, dev, drv, v.name, v.max_instances);
    if (ret !== 0) yield* teardown(k, core, data);
    return ret;
  });
}

function* teardown(k: Kernel, core: CoreV6, data: VendorDev): Gen {
  const parent = k.get(data, 'parent') as MdevParent;
  yield* parent_device_unregister(k, k.get(data, 'dev') as Device);
  for (const type of list_entries<MdevType>(k, k.get(parent, 'type_list'))) k.free(type, k.at('static'));
  k.free(k.get(parent, 'type_list'), k.at('kfree'));
  k.free(parent, k.at('static'));
  yield* core.mdev_unregister_driver(k, k.get(data, 'driver') as DeviceDriver);
  k.free(k.get(data, 'mdev_list'), k.at('kfree'));
  k.free(data, k.at('static'));
}

/** module_exit: unregister the parent; then the vendor frees what it owns (parent, types). */
export function vendor_exit(v: ModernVendor) {
  return kfn(`${v.name}_dev_exit`, function* (k: Kernel, core: CoreV6, _mod: Module): Gen {
    const data = vendor_data(k, v.name);
    yield* core.mdev_unregister_parent(k, k.get(data, 'parent') as MdevParent);
    yield* teardown(k, core, data);
  });
}
