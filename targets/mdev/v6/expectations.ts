// What mdev-v6 is expected to show: none of the five seed problems; what remains are real
// consequences of the modern sequence (each with its path) and the accepted hang.

import type { Expectation } from '../../../harness/target.js';

export const V6_EXPECTATIONS: readonly Expectation[] = [
  {
    title: 'KASAN: use-after-free Read in mdev_device_remove',
    status: 'known',
    reason: 'mdev_device_remove reads mdev->type->parent up front; the parent is embedded in the vendor module\'s data and the "remove" attribute belongs to mdev.ko, so nothing pins the vendor: a concurrent rmmod unregisters, the module is freed, and the mdev or parent is read after free',
  },
  {
    title: 'KASAN: use-after-free Write in mdev_device_remove',
    status: 'known',
    reason: 'the same window: down_read_trylock(&parent->unreg_sem) on the vendor\'s freed static mdev_parent',
  },
  {
    title: 'KASAN: use-after-free Read in mdev_remove_sysfs_files',
    status: 'known',
    reason: 'the same window in mdev_device_remove: unregistration removes and frees the child (it ignores active) and releases unreg_sem before the remover\'s down_read_trylock, which then succeeds, and mdev_device_remove_common runs on the freed mdev',
  },
  {
    title: 'KASAN: use-after-free Read in mdev_device_release',
    status: 'known',
    reason: 'the mdev\'s kobject reference on its type cannot keep vendor-static memory alive: when a bus walk holds the last device reference past module unload, mdev_device_release reads type->parent after free',
  },
  {
    title: 'WARNING in sysfs_create_link',
    status: 'known',
    reason: 'mdev_type_add: the type\'s default "create" attribute is live when kobject_init_and_add returns, before devices_kobj exists; a create in that window links into a missing devices directory',
  },
  {
    title: 'INFO: task hung in vfio_unregister_group_dev',
    status: 'by-design',
    reason: 'C.3/C.4.1: mtty has no ->request, so vfio_unregister_group_dev waits silently for the last close; a process removing a device it holds open waits forever',
  },
];
