// What mdev-v5.0 is expected to show, each with the kernel path it follows. The five seed problems
// of the March 2019 thread come first; the rest are the same design faults reached through other
// vendor functions, the v5.0 bugs of reference B.6, and the hangs the legacy design accepts.

import type { Expectation } from '../../../harness/target.js';

const known = (title: string, reason: string, problem?: string): Expectation => ({ title, status: 'known', reason, ...(problem ? { problem } : {}) });
const byDesign = (title: string, reason: string): Expectation => ({ title, status: 'by-design', reason });

export const V5_0_EXPECTATIONS: readonly Expectation[] = [
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_open', 'P1 (B.1): device_register binds vfio_mdev before vendor create, so an open reaches vfio_ap_mdev_open with drvdata still NULL', 'P1'),
  known('KASAN: use-after-free Write in mtty_ioctl', 'P2 (B.2): remove calls mtty_remove, which frees mdev_state, while the device is bound and an ioctl holds the state it read', 'P2'),
  known('BUG: kernel NULL pointer dereference in mlx5_sf_probe', 'P3 (B.3): a second mdev bus driver probes inside device_register, before vendor create', 'P3'),
  known('memory leak: mdev_device orphaned by mdev_unregister_device', 'P4 (B.4 A): a create_store past the kernfs check finishes while mdev_unregister_device drains "create"; the child survives its parent', 'P4'),
  known('BUG: unable to handle page fault in mdev_device_remove_ops', 'P5 (B.5): remove_store set active=false; unregistration skipped the busy child and the vendor module unloaded; parent->ops->remove runs in freed module text', 'P5'),

  known('invariant: openable implies vendor state in vfio_mdev_open', 'D.2.1 broken by B.1 and B.2: vfio_mdev_open reaches the vendor before create or after remove cleared drvdata'),
  known('invariant: remove mirrors create in mdev_device_remove_ops', 'D.2.3 broken by B.2: the vendor remove runs while an fd is open'),
  known('WARNING in sysfs_create_link', 'B.4 B: create links <type>/devices/<uuid> after unregistration removed the devices kobject'),
  known('WARNING in sysfs_create_file_ns', 'B.6.5: remove_store re-creates "remove" on a device that was removed meanwhile'),
  known('memory leak: mdev_device', 'B.4: the orphan of P4 is never removed, so teardown leaves it and its parent allocated'),
  known('memory leak: kobject_name', 'B.6.7: add_mdev_supported_type kfree()s the type when kobject_init_and_add fails, leaking the name (fault injection; fixed in v5.8)'),
  known('BUG: kernel NULL pointer dereference in mtty_create', 'B.6.15: mtty registers its parent before initialising mdev_devices_list; a create in that window uses the NULL list (fixed in v5.14)'),
  known('BUG: kernel NULL pointer dereference in mlx5_sf_remove', 'B.2 for bus drivers: vendor remove clears drvdata before device_unregister unbinds mlx5_sf'),
  known('KASAN: use-after-free Read in mlx5_sf_probe', 'B.2/B.3: mlx5_sf probes a device whose state the vendor remove has just freed'),
  known('KASAN: use-after-free Write in mtty_remove', 'B.2: two removers (a forced one from unregistration and remove_store) race to free the same mdev_state'),
  known('BUG: unable to handle page fault in mtty_remove', 'B.5: mtty_remove runs after the mtty module is gone'),
  known('KASAN: use-after-free Read in mdev_remove_sysfs_files', 'B.4: removing an orphan reads its type, freed by parent unregistration (no reference held until v5.13)'),
  known('KASAN: use-after-free Read in device_create_file', 'B.6.5: remove_store re-creates "remove" on a device freed by a concurrent forced removal'),
  known('KASAN: use-after-free Write in device_create_file', 'B.6.5: as above, the write of the re-created file into the freed device'),
  known('BUG: unable to handle page fault in vfio_mdev_open', 'B.5: vfio_mdev relays open to parent->ops of an unloaded vendor (the vendor module is never pinned)'),
  known('BUG: unable to handle page fault in vfio_mdev_release', 'B.5: vfio_mdev relays release to parent->ops of an unloaded vendor'),
  known('BUG: unable to handle page fault in vfio_mdev_ioctl', 'B.5: vfio_mdev relays ioctl to parent->ops of an unloaded vendor'),
  known('memory leak: ap_matrix_mdev', 'C.1: a forced removal ignores the vendor\'s -EBUSY (vfio_ap refuses while a guest holds it), so the device goes and its matrix_mdev stays'),
  known('KASAN: use-after-free Write in vfio_ap_mdev_open', 'B.2: vfio_ap remove frees matrix_mdev between the open reading drvdata and using it (the -EBUSY veto checks kvm before the open sets it)'),
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_release', 'B.1/B.2: release on a device whose matrix_mdev is not yet set or already cleared'),
  known('KASAN: use-after-free Write in vfio_ap_mdev_release', 'B.2: release uses matrix_mdev freed by a concurrent remove'),
  known('KASAN: use-after-free Write in vfio_ap_mdev_remove', 'B.2: two removers race to free matrix_mdev'),
  known('KASAN: use-after-free Read in vfio_ap_mdev_remove', 'B.2: two removers race to free matrix_mdev'),
  known('BUG: unable to handle page fault in vfio_ap_mdev_remove', 'B.5: vfio_ap remove runs after the vfio_ap module is gone'),
  known('BUG: kernel NULL pointer dereference in matrix_show', 'B.1: the matrix attribute of a device whose vendor create has not run'),
  known('KASAN: use-after-free Read in matrix_show', 'B.2: the matrix attribute shows matrix_mdev freed by remove (vendor groups outlive vendor state)'),
  known('KASAN: use-after-free Read in vfio_ap_mdev_ioctl', 'B.2: an ioctl uses matrix_mdev freed by remove'),
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_ioctl', 'B.1/B.2: an ioctl on a device whose matrix_mdev is not set or already cleared'),

  byDesign('INFO: task hung in vfio_del_group_dev', 'C.4.2: a process removes (or unregisters the parent of) a device it holds open; vfio_mdev has no ->request and the wait never ends'),
  byDesign('INFO: task hung in mdev_unregister_device', 'C.4.4: parent_list_lock is held while a child removal waits for an fd whose owner is itself waiting for parent_list_lock'),
  byDesign('INFO: task hung in mdev_register_device', 'C.4.4: a vendor registering waits for parent_list_lock, held by an unregistration blocked on an fd'),
  byDesign('INFO: task hung in remove_mdev_supported_type', 'C.4.4/B.1: unregistration drains "create" while that create_store waits in create_fail for an fd held by the unregistering process'),
];
