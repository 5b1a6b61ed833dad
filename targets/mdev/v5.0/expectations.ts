// What mdev-v5.0 is expected to show: claims about Linux v5.0.1, each with the lines of that release
// that allow its interleaving (mdev_core.c, mdev_sysfs.c, mdev_driver.c and vfio_mdev.c under
// drivers/vfio/mdev/, vfio.c, samples/vfio-mdev/mtty.c, drivers/s390/crypto/vfio_ap_{ops,drv}.c,
// fs/sysfs, fs/kernfs, lib/kobject.c, drivers/base, kernel/module.c) and the title that kernel
// prints. The five seed problems of the March 2019 thread come first.

import type { Expectation } from '../../../harness/target.js';

const known = (title: string, reason: string, problem?: string): Expectation => ({ title, status: 'known', reason, ...(problem ? { problem } : {}) });
const byDesign = (title: string, reason: string): Expectation => ({ title, status: 'by-design', reason });

export const V5_0_EXPECTATIONS: readonly Expectation[] = [
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_open', 'P1: mdev_device_create registers the device (mdev_core.c 320; the bus probe binds vfio_mdev, vfio_mdev.c 114-119) before the vendor create (326 → 112); an open (vfio_mdev.c 27-39) reaches vfio_ap_mdev_open, which writes matrix_mdev->group_notifier (vfio_ap_ops.c 851) while drvdata (set at 49) is NULL', 'P1'),
  known('KASAN: use-after-free Write in mtty_ioctl', 'P2: mdev_device_remove calls the vendor remove (mdev_core.c 380 → 143; mtty.c 791-792 kfree) before device_unregister (387) unbinds; mtty_ioctl read drvdata (mtty.c 1163) and memcpy()s into it after copy_from_user (1184)', 'P2'),
  known('BUG: kernel NULL pointer dereference in mlx5_sf_probe', 'P3 (hypothetical driver): a bus driver probes inside device_register (mdev_core.c 320) before the vendor create (326) sets drvdata', 'P3'),
  known('memory leak: mdev_device orphaned by mdev_unregister_device', 'P4: the children walk is done (mdev_core.c 257); a create_store that holds an active reference on "create" completes (320-337) while remove_mdev_supported_type drains "create" (mdev_sysfs.c 156); the mdev outlives its parent', 'P4'),
  known('BUG: unable to handle page fault in mdev_device_remove_ops', 'P5: remove_store sets active = false (mdev_core.c 374); the unregistration callback gets -EAGAIN (369-372, 151-157), which ends device_for_each_child (core.c 2244); unregistration returns (260-263) and the module is freed (module.c 1018-1029); parent->ops->remove (143, inlined into mdev_device_remove in the thread\'s oops) reads the unmapped ops', 'P5'),

  known('invariant: openable implies vendor state in vfio_mdev_open', 'D.2.1, by the orders of P1 and P2: device_register (mdev_core.c 320) before create (326); vendor remove (380) before device_unregister (387)'),
  known('invariant: remove mirrors create in mdev_device_remove_ops', 'D.2.3: the vendor remove (mdev_core.c 143) runs before device_unregister (387) waits for the fds (vfio.c 923-1009)'),
  known('KASAN: use-after-free Read in sysfs_create_link', 'remove_mdev_supported_type\'s kobject_put (mdev_sysfs.c 155) frees type->devices_kobj (kobject.c 701-717) while a create_store past type->parent (mdev_core.c 286) holds "create" active (drained only at mdev_sysfs.c 156); mdev_create_sysfs_files (mdev_core.c 330 → mdev_sysfs.c 260) → sysfs_create_link reads kobj->sd of the freed kobject (symlink.c 75)'),
  known('KASAN: use-after-free Read in sysfs_remove_link', 'a remover past the active gate (mdev_core.c 374) stops the unregistration walk with -EAGAIN (151-157, core.c 2244); parent_remove_sysfs_files (260) frees type->devices_kobj (mdev_sysfs.c 155); before the vendor module is freed, the remover reaches mdev_remove_sysfs_files (386 → mdev_sysfs.c 284) and sysfs_remove_link reads the freed kobj->sd (symlink.c 148-150)'),
  known('WARNING in kernfs_remove_by_name_ns', 'the window of the previous one, one step earlier: kobject_cleanup has run kobject_del (kobject.c 656; sysfs/dir.c 96-98 sets kobj->sd = NULL) and not yet freed the kobject; the remover\'s sysfs_remove_link (symlink.c 143-152) passes the NULL sd to kernfs_remove_by_name_ns, which WARNs (kernfs/dir.c 1502-1506)'),
  known('WARNING in sysfs_create_file_ns', 'remove_store\'s mdev_device_remove fails and it re-creates "remove" (mdev_sysfs.c 241) on a device whose forced removal already ran device_del (kobject_del clears kobj->sd, sysfs/dir.c 96-98) while the walk\'s reference keeps it allocated (core.c 1830); WARN_ON(!kobj->sd) (file.c 328)'),
  known('KASAN: use-after-free Read in sysfs_create_file_ns', 'remove_store won kernfs_remove_self; the forced removal freed the mdev and mdev_device_remove returns -ENODEV (mdev_core.c 364-367); device_create_file (mdev_sysfs.c 241 → core.c 1414) reads the freed kobj->sd (file.c 328)'),
  known('memory leak: mdev_device', 'the orphan of P4 is never removed, so teardown leaves it and its parent allocated (mdev_core.c 257-263)'),
  known('memory leak: kobject_name', 'add_mdev_supported_type kfree()s the type after a failed kobject_init_and_add (mdev_sysfs.c 112-118), leaking the name set by kobject_set_name (fault injection; fixed in v5.8)'),
  known('BUG: kernel NULL pointer dereference in mtty_create', 'mtty_dev_init registers the parent (mtty.c 1473) before INIT_LIST_HEAD(&mdev_devices_list) (1478); a create in that window list_add()s (774) on the zeroed static list_head (151)'),
  known('BUG: kernel NULL pointer dereference in mlx5_sf_remove', 'hypothetical driver: the vendor remove clears drvdata (mdev_core.c 380 → 143) before device_unregister (387) unbinds mlx5_sf'),
  known('KASAN: use-after-free Read in mlx5_sf_probe', 'hypothetical driver: __driver_attach probes under device_lock (dd.c 899-902) a device whose vendor remove (mdev_core.c 143, no device_lock) has freed its state'),
  known('BUG: unable to handle page fault in mtty_remove', 'nothing pins mtty (vfio_mdev.c 36 pins vfio_mdev only); a removal that entered mtty_remove (mdev_core.c 143) runs on after free_module (module.c 1029) and takes mtty\'s static mdev_list_lock (mtty.c 786)'),
  known('KASAN: use-after-free Read in mdev_remove_sysfs_files', 'the type is freed by remove_mdev_supported_type (mdev_sysfs.c 157-158 → mdev_type_release 82-88) while a removal holds only the raw pointer mdev->type_kobj (mdev_core.c 377) and reads type->devices_kobj (mdev_sysfs.c 284)'),
  known('BUG: unable to handle page fault in kobject_put', 'mtty_dev is static in mtty.c (81; release 1430-1433): after rmmod mtty (module.c 1029) a surviving child\'s device_del puts its parent (core.c 2127), or mdev_release_parent puts it (mdev_core.c 88), and kobject_put (kobject.c 701-711) reads the unmapped struct device'),
  known('BUG: unable to handle page fault in vfio_mdev_open', 'vfio_mdev_open reads parent->ops of an unloaded vendor (vfio_mdev.c 33): only vfio_mdev is pinned (36) and the device stays findable by name while its kref is above 0 (vfio.c 880-896)'),
  known('BUG: unable to handle page fault in vfio_mdev_release', 'vfio_mdev_release reads parent->ops of an unloaded vendor (vfio_mdev.c 51)'),
  known('BUG: unable to handle page fault in vfio_mdev_ioctl', 'vfio_mdev_unlocked_ioctl reads parent->ops of an unloaded vendor (vfio_mdev.c 63)'),
  known('memory leak: ap_matrix_mdev', 'vfio_ap_mdev_remove refuses while a guest holds the device (vfio_ap_ops.c 61-62); a forced removal ignores that (mdev_core.c 143-145) and a failed create ignores the remove result (119), so matrix_mdev stays'),
  known('KASAN: use-after-free Write in vfio_ap_mdev_open', 'vfio_ap_mdev_open read drvdata (vfio_ap_ops.c 843); remove (kvm not yet set, 61) frees it (68); open writes group_notifier (851)'),
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_release', 'remove frees matrix_mdev and clears drvdata (vfio_ap_ops.c 68-69) while the device is open (mdev_core.c 380 before 387); the last close reads matrix_mdev->kvm (868) from NULL'),
  known('KASAN: use-after-free Read in vfio_ap_mdev_release', 'as above, with release having read drvdata (866) before remove freed it (68): the read of kvm (868)'),
  known('BUG: unable to handle page fault in vfio_ap_mdev_remove', 'nothing pins vfio_ap while no fd is open; a removal inside vfio_ap_mdev_remove runs on after free_module (module.c 1029) and reads the static matrix_dev pointer (vfio_ap_drv.c 31)'),
  known('BUG: kernel NULL pointer dereference in matrix_show', 'the vendor attributes are removed (mdev_core.c 147) only after the vendor remove cleared drvdata (vfio_ap_ops.c 69); matrix_show reads matrix_mdev->matrix (662-668)'),
  known('KASAN: use-after-free Read in matrix_show', 'kfree(matrix_mdev) (vfio_ap_ops.c 68) comes before drvdata is cleared (69) and the attribute is removed (mdev_core.c 147); matrix_show reads the freed matrix (662-668)'),
  known('BUG: kernel NULL pointer dereference in vfio_ap_mdev_reset_queues', 'VFIO_DEVICE_RESET (vfio_ap_ops.c 898-915) calls vfio_ap_mdev_reset_queues (816-839), which reads drvdata (821) with no lock, after remove cleared it (69); reset_queues has two callers (ioctl, release), so the oops names it'),
  known('KASAN: use-after-free Read in vfio_ap_mdev_reset_queues', 'as above, between the kfree (vfio_ap_ops.c 68) and the drvdata clear (69)'),

  byDesign('INFO: task hung in vfio_del_group_dev', 'a process removes (or unregisters the parent of) a device it holds open: vfio_del_group_dev waits for the fd (vfio.c 923-1009) and vfio_mdev has no ->request (vfio_mdev.c 104-112); the kernel waits in 10 s slices (977-992), so this title is the harness\'s label'),
  byDesign('INFO: task hung in mdev_unregister_device', 'parent_list_lock is held across the children walk (mdev_core.c 245-262) while a child\'s device_unregister waits for an fd whose owner waits for parent_list_lock'),
  byDesign('INFO: task hung in mdev_register_device', 'a vendor registering waits for parent_list_lock (mdev_core.c 180), held by an unregistration blocked on an fd (245-262)'),
  byDesign('INFO: task hung in remove_mdev_supported_type', 'unregistration drains "create" (mdev_sysfs.c 156, kernfs dir.c) while that create_store waits in create_fail\'s device_unregister (mdev_core.c 343) for an fd held by the unregistering process'),
  byDesign('INFO: task hung in kernfs_remove_self', 'a losing remove_store writer waits uninterruptibly until the winner\'s whole store has returned (dir.c 1458-1476); the winner\'s device_unregister waits for an fd (vfio.c 923-1009) that the loser\'s process holds'),
];
