// What mdev-v5.2 is expected to show: claims about Linux v5.2.1, each with the lines of that release
// that allow its interleaving and the title that kernel prints. None of the five seed problems;
// what remains are real consequences of the merged sequence, the vendor bugs it kept, and hangs.

import type { Expectation } from '../../../harness/target.js';

const known = (title: string, reason: string): Expectation => ({ title, status: 'known', reason });
const byDesign = (title: string, reason: string): Expectation => ({ title, status: 'by-design', reason });

export const V5_2_EXPECTATIONS: readonly Expectation[] = [
  known('KASAN: use-after-free Read in mdev_device_remove', 'remove_store sets active = false and drops mdev_list_lock (mdev_core.c 367-368) before it reads mdev->parent (370); device_remove_file_self broke the writer\'s active reference (kernfs dir.c 1442), so nothing drains it: mdev_unregister_device takes unreg_sem for write (233), removes the child ignoring active (237 → 123-132 → 103-121, put_device 119 → mdev_device_release 256-261 frees it) and then mdev->parent is read from freed memory'),
  known('KASAN: use-after-free Write in down_read_trylock', 'the same window, with mdev->parent read (mdev_core.c 370) before the free: the unregistration puts the last parent reference (242 → mdev_release_parent 78-84) and down_read_trylock (372, out of line in rwsem.c) first touches the freed rwsem with its cmpxchg, a write'),
  known('KASAN: use-after-free Read in mdev_device_remove_common', 'remove_store read mdev->parent (mdev_core.c 370) before the unregistration freed the mdev (237 → 119); the unregistration\'s up_write (240) comes before its mdev_put_parent (242), so the parent is still alive and down_read_trylock (372) succeeds; mdev_device_remove_common (375) reads mdev->type_kobj (109) of the freed mdev'),
  known('memory leak: kobject_name', 'add_mdev_supported_type kfree()s the type after a failed kobject_init_and_add (mdev_sysfs.c 109-115), leaking the name (fault injection; fixed in v5.8 by aa8ba13cae31)'),
  known('BUG: kernel NULL pointer dereference in mtty_create', 'mtty_dev_init registers the parent (mtty.c 1470) before INIT_LIST_HEAD(&mdev_devices_list) (1475); a create in that window list_add()s (770) on the zeroed static list_head (147) (fixed in v5.14)'),
  byDesign('INFO: task hung in vfio_del_group_dev', 'remove cannot be vetoed: mdev_device_remove_common\'s device_del (mdev_core.c 111) unbinds vfio_mdev, and vfio_del_group_dev waits for the last close (vfio.c 905-998) with no ->request in vfio_mdev (vfio_mdev.c 101-109); the kernel waits in 10 s slices (962-964), so this title is the harness\'s label'),
  byDesign('INFO: task hung in mdev_unregister_device', 'down_write(unreg_sem) (mdev_core.c 233) waits for a remove_store that holds it for read (372-376) while its device_del waits for an fd owned by the unregistering process'),
  byDesign('INFO: task hung in device_driver_attach', 'hypothetical driver: insmod mlx5_sf walks the mdev bus (driver_attach, dd.c 1035 → bus.c 291) and __driver_attach (975-1024) calls device_driver_attach (1021), which waits uninterruptibly for an mdev\'s device_lock (__device_driver_lock 902-907: static and inline, so the report names device_driver_attach; the dead check at 943 comes after the lock), held by rmmod of its vendor: mdev_unregister_device (mdev_core.c 217-243) removes the child (237 → 123-132 → 103-121), whose device_del (111; core.c 2227-2286) unbinds vfio_mdev under that lock (bus_remove_device 2274 → dd.c 1105-1115), and vfio_del_group_dev waits for the last close (vfio.c 905-998) of an fd that the blocked insmod\'s process holds; khungtaskd reports the insmod'),
  byDesign('INFO: task hung in kernfs_remove_self', 'a losing remove_store writer waits uninterruptibly until the winner\'s whole store has returned (kernfs dir.c 1437-1486); the winner\'s device_del waits for an fd (vfio.c 905-998) that the loser\'s process holds'),
];
