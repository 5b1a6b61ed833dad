// mdev-v6: the VFIO mdev core of Linux v6.1-rc7 (tianrenz2/linux-6.1.0, tree 7c210bc387c3; the
// closest v6.1 tree found): the vendor is the mdev driver, vfio registration refcount, module
// pinned per fd. docs/fidelity.md maps every modelled function to its lines.

import type { Kernel } from '../../../harness/kernel/kernel.js';
import { driver_code } from '../legacy/base.js';
import type { DeviceDriver, MdevDevice } from '../legacy/structs.js';
import { V6_EXPECTATIONS } from './expectations.js';
import { V6_OBJECTS } from './states.js';
import { mdevTarget } from '../target.js';
import { makeUserspace } from '../userspace.js';
import { mlx5_core_v6 } from '../vendors/modern/mlx5.js';
import { mtty_v6 } from '../vendors/modern/mtty.js';
import { vfio_ap_v6 } from '../vendors/modern/vfio_ap.js';
import { core_v6, type CoreV6 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';
import { V6_LAYOUT } from './structs.js';
import { vfio_device_fops_release, vfio_device_fops_unl_ioctl, vfio_group_ioctl_get_device_fd } from './vfio.js';

const VENDORS = [mtty_v6, vfio_ap_v6, mlx5_core_v6];

/**
 * The other start state of v6.1-rc7: "no-vendors", no vendor module loaded yet, so that their
 * first mdev_register_parent calls (the compat class created once, mdev_core.c 75-79, with no lock)
 * race with each other and with creates, as module loads do at boot. There is no "no-modules" or
 * "<driver>-first": mdev.ko and vfio.ko are not modules in the model (mdev_init is only
 * bus_register, mdev_core.c 252-255, and a vendor cannot load before them: it links to their
 * symbols, so modprobe loads them first), and the order of vendor loads decides no binding
 * (mdev_match never matches, mdev_driver.c 34-41; each mdev is attached to its parent's own
 * driver, mdev_core.c 196).
 */
export const V6_START_STATES = [{ name: 'no-vendors', modules: [] }] as const;

const user = makeUserspace<CoreV6>({
  core: core_v6,
  modules: VENDORS,
  boot: VENDORS,
  starts: V6_START_STATES,
  parents: VENDORS.map((v) => ({ driver: v.driver_name, dev: v.parent_dev })),
  create_store,
  remove_store,
  open: vfio_group_ioctl_get_device_fd,
  ioctl: vfio_device_fops_unl_ioctl,
  release: vfio_device_fops_release,
  attr(k: Kernel, mdev: MdevDevice) {
    const drv = k.get(mdev, 'dev_driver') as DeviceDriver;
    const code = drv === 0 ? undefined : driver_code(k, drv);
    const name = code?.dev_groups?.attrs[0];
    if (!code?.show || name === undefined) return null;
    return { name, show: () => code.show!(k, mdev, name) };
  },
});

export default {
  ...mdevTarget({
    name: 'mdev-v6',
    description: 'VFIO mdev core of Linux v6.1-rc7: mdev_driver probe builds vendor state, vfio registration refcount, module pinned per fd',
    kernelVersion: 'v6.1-rc7',
    user,
    expectations: V6_EXPECTATIONS,
    objects: V6_OBJECTS,
  }),
  layout: V6_LAYOUT,
};
