// The v6 structures that are not slab objects, or whose lifetime the legacy pools do not give:
// a vendor module's static data (kernel/module/main.c 1149: freed by free_module, after exit()
// returns, 753-765), and vfio_ap's kzalloc'd matrix_dev with its embedded parent, type and device
// (vfio_ap_drv.c 91-111, freed by its device release, 55-60). Static slots are never kfree'd:
// free_module unmaps them (module_static, harness/kernel/module.ts).

import { defineStruct, makeLayout, type Ref } from '../../../harness/kernel/layout.js';
import { device, device_driver, LEGACY_LAYOUT, mdev_parent, mdev_type, vendor_dev } from '../legacy/structs.js';

type FieldsOf<S> = S extends { fields: readonly (infer F)[] } ? F & string : never;

/** struct mdev_parent (mdev.h): parent->types[] and nr_types instead of a list. */
export const mdev_parent_v6 = defineStruct('mdev_parent_v6', [...mdev_parent.fields, 'types0', 'types1', 'nr_types']);
/**
 * struct mdev_type with mtty's nr_ports around it (mtty.c 146-150); devices_kobj a kobject. `kset` is
 * kobj.kset (mdev_sysfs.c 173) and `kobj_parent` whether kobj.parent holds its reference on the kset
 * (lib/kobject.c 208-215, dropped by kobject_del 610-612).
 */
export const mdev_type_v6 = defineStruct('mdev_type_v6', [...mdev_type.fields, 'devices_kobj', 'nr_ports', 'kset', 'kobj_parent']);
/** A parent struct device: static mtty_dev.dev (mtty.c 69-76) or matrix_dev->device. */
export const device_v6 = defineStruct('device_v6', [...device.fields, 'release_data']);
/** struct mdev_driver / device_driver: static data of its module (mtty.c 1275-1286). */
export const device_driver_v6 = defineStruct('device_driver_v6', [...device_driver.fields, 'registered']);
/**
 * A vendor's own data: its module's static variables (module_static: struct mtty_dev and
 * mdev_avail_ports, mtty.c 69-76, 161; vfio_ap's `matrix_dev` pointer, vfio_ap_drv.c 26), or the
 * kzalloc'd struct ap_matrix_dev (vfio_ap_drv.c 91) that pointer holds.
 */
export const vendor_v6 = defineStruct('vendor_v6', [...vendor_dev.fields, 'module', 'type_count', 'matrix_dev', 'guests_lock']);
/** A plain kobject (kobject_create_and_add, lib/kobject.c): the type's "devices" directory. */
export const kobject_v6 = defineStruct('kobject_v6', ['sd', 'kref']);
/** struct class_compat (drivers/base/class.c 486-488): mdev's "mdev_bus" compatibility class. */
export const class_compat_v6 = defineStruct('class_compat_v6', ['kobj']);

export type ParentV6 = Ref<FieldsOf<typeof mdev_parent_v6>>;
export type TypeV6 = Ref<FieldsOf<typeof mdev_type_v6>>;
export type DeviceV6 = Ref<FieldsOf<typeof device_v6>>;
export type DriverV6 = Ref<FieldsOf<typeof device_driver_v6>>;
export type VendorV6 = Ref<FieldsOf<typeof vendor_v6>>;
export type KobjectV6 = Ref<FieldsOf<typeof kobject_v6>>;
export type ClassCompatV6 = Ref<FieldsOf<typeof class_compat_v6>>;

/** The legacy pools plus the v6 ones; static pools are not leak-checked (module memory is not slab). */
export const V6_LAYOUT = makeLayout([
  ...LEGACY_LAYOUT.pools.map((p) => ({ def: p.def, capacity: p.capacity })),
  { def: mdev_parent_v6, capacity: 48 },
  { def: mdev_type_v6, capacity: 96 },
  { def: device_v6, capacity: 48 },
  { def: device_driver_v6, capacity: 48 },
  { def: vendor_v6, capacity: 48 },
  { def: kobject_v6, capacity: 96 },
  { def: class_compat_v6, capacity: 8 },
]);
