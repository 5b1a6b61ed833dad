// mdev-v5.0: the legacy core that Parav Pandit's March 2019 series set out to fix.

import { legacyTarget } from '../legacy/target.js';
import { core_v5_0 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';

export default legacyTarget({
  name: 'mdev-v5.0',
  description: 'VFIO mdev core of Linux v5.0: device_register before vendor create, vendor remove before unbind, no unreg_sem',
  kernelVersion: 'v5.0',
  core: core_v5_0,
  stores: { create_store, remove_store },
  expectations: [
    {
      title: 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open',
      status: 'known',
      reason: 'P1: open reaches the vendor between device_register and vendor create (reference B.1)',
    },
    {
      title: 'KASAN: use-after-free Write in mtty_ioctl',
      status: 'known',
      reason: 'P2: mtty_remove frees mdev_state under an open fd; remove is not the mirror of create (B.2)',
    },
    {
      title: 'BUG: kernel NULL pointer dereference in mlx5_sf_probe',
      status: 'known',
      reason: 'P3: a bus driver probes inside device_register, before vendor create (B.3)',
    },
    {
      title: 'memory leak: mdev_device orphaned by mdev_unregister_device',
      status: 'known',
      reason: 'P4: a create that passed the kernfs check survives parent unregistration (B.4)',
    },
    {
      title: 'BUG: unable to handle page fault in mdev_device_remove_ops',
      status: 'known',
      reason: 'P5: remove_store racing unregistration calls parent->ops of an unloaded vendor (B.5)',
    },
  ],
});
