// The structures of the mdev core, driver core and VFIO, as slots of the model's SharedArrayBuffer,
// for every modelled version (a field a version does not have stays 0). Field names follow the
// kernel's; `dev_*` are the fields of the struct device embedded in struct mdev_device.

import { defineStruct, makeLayout, MAX_CPUS, type Ref } from '../../../harness/kernel/layout.js';
import { kernfs_node } from '../../../harness/kernel/kernfs.js';
import { list_head } from '../../../harness/kernel/list.js';
import { module } from '../../../harness/kernel/module.js';
import { kobject } from '../../../harness/kernel/kobject.js';

type FieldsOf<S> = S extends { fields: readonly (infer F)[] } ? F & string : never;

/** Globals of mdev_core.c, the driver core's mdev bus and vfio.c. */
export const globals = defineStruct('globals', [
  'parent_list',
  'parent_list_lock',
  'mdev_list',
  'mdev_list_lock',
  'mdev_bus_compat_class',
  'bus_drivers',
  'vfio_group_list',
  'vfio_group_lock',
]);

/**
 * A parent struct device (mtty_dev, the vfio_ap matrix device, the mlx5 PCI function): `children`
 * is the klist in its device_private (kfree'd by device_release), `release` which dev->release it
 * has (register_device_release, base.ts), `drvdata` dev_get_drvdata.
 */
export const device = defineStruct('device', ['name', 'refcount', 'kn', 'children', 'release', 'drvdata']);

export const mdev_parent = defineStruct('mdev_parent', [
  'dev',
  'ops',
  'ref',
  'type_list',
  'mdev_types_kset',
  'unreg_sem',
  // v6: struct mdev_parent embedded in the vendor's data
  'mdev_driver',
  'available_instances',
]);

export const mdev_type = defineStruct('mdev_type', ['kn', 'devices_kn', 'create_kn', 'attr_kn', 'parent', 'name', 'kref', 'kobj_name', 'devices_kobj']);
/** The string kobject_set_name allocates; freed when the kobject's last reference goes. */
export const kobject_name = defineStruct('kobject_name', ['len']);

export const mdev_device = defineStruct('mdev_device', [
  'dev_refcount',
  'dev_parent',
  /** The klist of dev->p->knode_parent: the parent's children. */
  'dev_klist',
  'dev_kn',
  'dev_on_bus',
  /** dev->p->dead (v5.1+ only, see has_dead_flag in base.ts). */
  'dev_dead',
  /** The model's record that device_del has begun, for the object states (no kernel field). */
  'dev_deleted',
  'dev_driver',
  'dev_drvdata',
  'dev_lock',
  'dev_groups_kn',
  'iommu_group',
  'parent',
  'uuid',
  'driver_data',
  'ref',
  'type_kobj',
  'active',
  'remove_kn',
  'type_link_kn',
  'devices_link_kn',
  // v6: the type, with a kobject reference held
  'type',
  /** The model's count of removers past the `active` gate (invariant D.2.9), no kernel field. */
  'removers',
]);

/** A registered mdev bus driver (vfio_mdev, the mlx5 sub-function driver). */
export const device_driver = defineStruct('device_driver', ['name', 'code', 'owner', 'klist_refs']);

export const iommu_group = defineStruct('iommu_group', ['refcount']);

export const vfio_group = defineStruct('vfio_group', ['kref', 'device_list', 'device_lock', 'ndevices', 'iommu_group', 'group_lock']);

export const vfio_device = defineStruct('vfio_device', [
  'kref',
  'group',
  'dev',
  'device_data',
  // v6: registration refcount with its completion, first-open/last-close count under dev_set->lock
  'refcount',
  'comp',
  'open_count',
  'dev_set_lock',
  'ops',
]);

/** An open VFIO device file. */
export const file = defineStruct('file', ['private_data']);

/** A process: one per virtual CPU, with its fd table. */
export const task = defineStruct('task', ['fd0', 'fd1', 'fd2', 'fd3']);
export const TASK_FDS = ['fd0', 'fd1', 'fd2', 'fd3'] as const;

/** Vendor state: mtty's mdev_state, vfio_ap's ap_matrix_mdev, the mlx5 sub-function. */
export const mdev_state = defineStruct('mdev_state', ['mdev', 'nr_ports', 'ops_lock', 'vconfig', 'dev_info']);
export const mtty_vconfig = defineStruct('mtty_vconfig', ['pci_cfg']);
export const mtty_globals = defineStruct('mtty_globals', ['mdev_devices_list', 'mdev_list_lock', 'list_initialized']);
export const ap_matrix_mdev = defineStruct('ap_matrix_mdev', ['mdev', 'matrix', 'kvm', 'group_notifier']);
export const ap_matrix_dev = defineStruct('ap_matrix_dev', ['available_instances', 'lock', 'mdev_list', 'device']);
/** vfio_ap_drv.c's static `struct ap_matrix_dev *matrix_dev` (v5.0.1 line 31). */
export const vfio_ap_statics = defineStruct('vfio_ap_statics', ['matrix_dev']);
/** mlx5_core's static data: the PCI function it registered as the mdev parent. */
export const mlx5_statics = defineStruct('mlx5_statics', ['pdev']);
export const mlx5_sf = defineStruct('mlx5_sf', ['mdev', 'hw_id', 'netdev']);
/** v6 vendor modules' static data: struct mtty_dev / matrix_dev with the embedded mdev_parent. */
export const vendor_dev = defineStruct('vendor_dev', ['name', 'parent', 'dev', 'driver', 'avail_ports', 'types', 'mdev_list', 'lock']);

export type Globals = Ref<FieldsOf<typeof globals>>;
export type Device = Ref<FieldsOf<typeof device>>;
export type MdevParent = Ref<FieldsOf<typeof mdev_parent>>;
export type MdevType = Ref<FieldsOf<typeof mdev_type>>;
export type MdevDevice = Ref<FieldsOf<typeof mdev_device>>;
export type DeviceDriver = Ref<FieldsOf<typeof device_driver>>;
export type IommuGroup = Ref<FieldsOf<typeof iommu_group>>;
export type VfioGroup = Ref<FieldsOf<typeof vfio_group>>;
export type VfioDevice = Ref<FieldsOf<typeof vfio_device>>;
export type File = Ref<FieldsOf<typeof file>>;
export type Task = Ref<FieldsOf<typeof task>>;
export type MdevState = Ref<FieldsOf<typeof mdev_state>>;
export type ApMatrixMdev = Ref<FieldsOf<typeof ap_matrix_mdev>>;
export type Mlx5Sf = Ref<FieldsOf<typeof mlx5_sf>>;
export type VendorDev = Ref<FieldsOf<typeof vendor_dev>>;

export const LEGACY_LAYOUT = makeLayout([
  { def: globals, capacity: 1 },
  { def: task, capacity: MAX_CPUS },
  { def: module, capacity: 24 },
  { def: list_head, capacity: 96 },
  { def: kernfs_node, capacity: 320 },
  { def: device, capacity: 16 },
  { def: mdev_parent, capacity: 16 },
  { def: mdev_type, capacity: 32 },
  { def: kobject_name, capacity: 32 },
  { def: kobject, capacity: 32 },
  { def: mdev_device, capacity: 32 },
  { def: device_driver, capacity: 16 },
  { def: iommu_group, capacity: 32 },
  { def: vfio_group, capacity: 32 },
  { def: vfio_device, capacity: 32 },
  { def: file, capacity: 32 },
  { def: mdev_state, capacity: 32 },
  { def: mtty_vconfig, capacity: 32 },
  { def: mtty_globals, capacity: 8 },
  { def: ap_matrix_mdev, capacity: 32 },
  { def: ap_matrix_dev, capacity: 8 },
  { def: vfio_ap_statics, capacity: 8 },
  { def: mlx5_statics, capacity: 8 },
  { def: mlx5_sf, capacity: 32 },
  { def: vendor_dev, capacity: 16 },
]);

/** Structs whose live slots after teardown are leaks. */
export const LEAK_CHECKED = [
  mdev_device,
  mdev_parent,
  mdev_type,
  kobject_name,
  vfio_device,
  vfio_group,
  iommu_group,
  file,
  mdev_state,
  mtty_vconfig,
  ap_matrix_mdev,
  mlx5_sf,
  device,
] as const;
