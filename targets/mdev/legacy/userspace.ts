// The legacy (v5.0, v5.2) kernel entry points behind the userspace operations: VFIO through
// vfio.c and vfio_mdev, vendor attributes from parent->ops, and the modules of that era.

import type { Kernel } from '../../../harness/kernel/kernel.js';
import { makeUserspace, type StartState, type Userspace } from '../userspace.js';
import { mlx5_sf } from '../vendors/mlx5.js';
import type { MdevCore, ModuleDef, Store } from './ops.js';
import { parent_ops, VENDORS } from './registry.js';
import type { MdevDevice, MdevParent } from './structs.js';
import { vfio_device_fops_release, vfio_device_fops_unl_ioctl, vfio_group_get_device_fd, vfio_mdev } from './vfio.js';

/** Every module a program may load or unload, in teardown order (bus drivers first). */
export const MODULES: readonly ModuleDef[] = [mlx5_sf, ...VENDORS, vfio_mdev];
/** Loaded at boot (the default start state); mlx5_sf is left for programs to load. */
export const BOOT_MODULES: readonly ModuleDef[] = [vfio_mdev, ...VENDORS];

/**
 * The other start states. With no bus match (D7 resolved: mdev_driver.c 75-79 of v5.0.1 has no
 * .match), the first registered driver whose probe succeeds binds: "mlx5_sf-first" has mlx5_sf
 * registered before vfio_mdev, so it binds every mdev of an mlx5 parent (it refuses the others),
 * and its programs work on mlx5 sub-functions; "no-vendors" leaves the parents' first
 * registrations to the program; "no-modules" leaves out vfio_mdev too (programs cannot load it).
 */
export const START_STATES: readonly StartState<MdevCore>[] = [
  { name: 'mlx5_sf-first', modules: [mlx5_sf, vfio_mdev, ...VENDORS], focus: { type: 'mlx5_core-sf' } },
  { name: 'no-vendors', modules: [vfio_mdev] },
  { name: 'no-modules', modules: [] },
];

export interface Stores {
  create_store: (k: Kernel, node: Parameters<Store>[1], uuid: number) => ReturnType<Store>;
  remove_store: Store;
}

export function legacyUserspace(core: MdevCore, stores: Stores): Userspace {
  return makeUserspace<MdevCore>({
    core,
    modules: MODULES,
    boot: BOOT_MODULES,
    starts: START_STATES,
    parents: VENDORS.map((v) => ({ driver: v.driver_name!, dev: v.parent_dev! })),
    create_store: stores.create_store,
    remove_store: stores.remove_store,
    open: vfio_group_get_device_fd,
    ioctl: vfio_device_fops_unl_ioctl,
    release: vfio_device_fops_release,
    attr(k: Kernel, mdev: MdevDevice) {
      const parent = k.get(mdev, 'parent') as MdevParent;
      const ops = parent_ops(k, parent);
      const name = ops.mdev_attr_groups[0];
      if (name === undefined || !ops.show) return null;
      return { name, show: () => parent_ops(k, parent).show!(k, mdev, name) };
    },
  });
}
