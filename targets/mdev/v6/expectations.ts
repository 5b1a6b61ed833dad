// What mdev-v6 (v6.1-rc7) is expected to show: none of the five seed problems; each entry below is
// a claim about that kernel, with the lines that allow its interleaving. Files: mdev_core.c,
// mdev_sysfs.c (drivers/vfio/mdev), vfio_main.c (drivers/vfio), drivers/base/class.c, fs/kernfs/dir.c, fs/sysfs.

import type { Expectation } from '../../../harness/target.js';

export const V6_EXPECTATIONS: readonly Expectation[] = [
  {
    title: 'KASAN: use-after-free Read in mdev_device_remove',
    status: 'known',
    reason:
      'mdev_device_create: device_add (mdev_core.c 192) creates "remove" from dev.groups (173; mdev_sysfs.c 259-273); the probe then fails ' +
      '(mtty -ENOSPC, mtty.c 729-734, or any error of vfio_register_emulated_iommu_dev) and out_del/out_put_device (210-216) run ' +
      'device_del and the last put_device, whose release kfrees the mdev (116-131). A writer already in remove_store has broken its ' +
      'active reference in device_remove_file_self (mdev_sysfs.c 248; kernfs_remove_self breaks it and unlinks the node itself, fs/kernfs/dir.c 1557-1577), so nothing ' +
      'waits for it and nothing pins the mdev: mdev_device_remove reads mdev->type->parent (222) from the freed mdev',
  },
  {
    title: 'KASAN: use-after-free Read in mdev_device_remove_common',
    status: 'known',
    reason:
      'remove_store: mdev_device_remove clears active and drops mdev_list_lock (240-241), then is preempted before down_read_trylock ' +
      '(244). mdev_unregister_parent takes unreg_sem for write (106), and its child walk removes the same mdev ignoring active ' +
      '(108, 38-43, 27-36): device_del and the last put_device free it (116-131); up_write (110) follows. The remover\'s trylock ' +
      'now succeeds (the vendor module is not yet freed, kernel/module/main.c 753-765) and mdev_device_remove_common (247) reads ' +
      'mdev->type->parent (29; kept by lockdep_assert_held at 33) from the freed mdev',
  },
  {
    title: 'BUG: unable to handle page fault in down_read_trylock',
    status: 'known',
    reason:
      'the same window when the vendor\'s parent is static module data (mtty_dev.parent, mtty.c 69-76): mdev_device_remove has read ' +
      'parent (222), cleared active (240-241) and is preempted before down_read_trylock (244); mdev_unregister_parent (106-110) ' +
      'removes and frees the mdev, mtty_dev_exit returns (mtty.c 1355-1368) and free_module unmaps the module (kernel/module/main.c ' +
      '753-765, 1149); nothing pins the vendor, since "remove" is the core\'s attribute and its writer broke its active reference ' +
      '(mdev_sysfs.c 248). down_read_trylock(&parent->unreg_sem) then reads unmapped memory',
  },
  {
    title: 'BUG: unable to handle page fault in mdev_device_release',
    status: 'known',
    reason:
      'insmod of another vendor: mdev_register_driver → driver_register → driver_attach (drivers/base/dd.c 1205) walks the mdev bus ' +
      'with bus_for_each_dev (bus.c 288-306), whose klist node holds a device reference (klist_devices_get, bus.c 742, 830); ' +
      '__driver_attach binds nothing (mdev_match returns 0, mdev_driver.c 34-41). Meanwhile rmmod of the mdev\'s vendor removes it ' +
      '(mdev_core.c 106-110, 27-36) and returns; free_module unmaps the static mtty_types[] (mtty.c 146-159; module/main.c 765). ' +
      'The walker\'s put is the last: mdev_device_release reads mdev->type->parent (119) in the unmapped type',
  },
  {
    title: 'BUG: kernel NULL pointer dereference in class_compat_remove_link',
    status: 'known',
    reason:
      'two vendors load at once with no vendor loaded before (start state no-vendors): mdev_register_parent creates the compat ' +
      'class on first use with no lock (mdev_core.c 75-79). vfio_ap (vfio_ap_ops.c 1818) and mtty (mtty.c 1336) both read ' +
      'mdev_bus_compat_class as NULL (75); mtty\'s class_compat_register (76; drivers/base/class.c 497-510) makes /sys/class/mdev_bus ' +
      'and its registration completes (81-91); vfio_ap\'s kobject_create_and_add (class.c 504) then fails with -EEXIST ' +
      '(fs/sysfs/dir.c 62-63: sysfs_warn_dup, a console line, no WARNING), class_compat_register returns NULL (505-508), and the ' +
      'store at 76 overwrites mtty\'s class with NULL; vfio_ap fails with -ENOMEM (77-78). rmmod mtty: mdev_unregister_parent calls ' +
      'class_compat_remove_link(NULL, ...) (107), whose sysfs_remove_link(cls->kobj, ...) reads the NULL pointer (class.c 569)',
  },
  {
    title: 'BUG: kernel NULL pointer dereference in class_compat_create_link',
    status: 'known',
    reason:
      'the same race as class_compat_remove_link, with vfio_ap\'s NULL landing earlier: mtty has stored its class (mdev_core.c 76) ' +
      'and is in parent_create_sysfs_files (81) when vfio_ap\'s class_compat_register fails with -EEXIST (class.c 504-508) and ' +
      'stores NULL (76); mtty then reads mdev_bus_compat_class again for class_compat_create_link (85), whose ' +
      'sysfs_create_link(cls->kobj, ...) reads the NULL pointer (drivers/base/class.c 536)',
  },
  {
    title: 'KASAN: use-after-free Read in sysfs_create_link',
    status: 'known',
    reason:
      'insmod mtty with a later mdev_type_add failing (fault injection: mtty-2\'s devices kobject, mdev_sysfs.c 186-190): ' +
      'out_err removes mtty-1 again (233-235), and mdev_type_remove puts devices_kobj (202, freed by kobject.c 714-723, 726) ' +
      'before kobject_del (203) drains mtty-1\'s "create". A create_store already in mtty-1\'s "create" (61-86) runs ' +
      'mdev_device_create up to mdev_create_sysfs_files (mdev_core.c 200), whose sysfs_create_link(type->devices_kobj, ...) ' +
      '(mdev_sysfs.c 281) reads kobj->sd of the freed kobject (fs/sysfs/symlink.c 75)',
  },
  {
    title: 'WARNING in kernfs_remove_by_name_ns',
    status: 'known',
    reason:
      'insmod mtty whose first mdev_type_add fails (fault injection: the devices kobject, mdev_sysfs.c 186-190, 194-197, or ' +
      'kobject_init_and_add, 178-184): parent_create_sysfs_files returns 0 from out_err (233-236), so mdev_register_parent and ' +
      'the load succeed (mdev_core.c 81-91). rmmod mtty: parent_remove_sysfs_files removes every type again (212-213): the ' +
      'kobject_del (203) of mtty-1, whose directory is gone, reaches sysfs_remove_groups (lib/kobject.c 578-579) with kobj->sd ' +
      'NULL; mdev_type_core_group has no name (144-147), so remove_files passes the NULL directory (fs/sysfs/group.c 272, ' +
      '284-288, 26-28) to kernfs_remove_by_name_ns, which WARNs (fs/kernfs/dir.c 1624-1627)',
  },
  {
    title: 'refcount_t: underflow; use-after-free in kobject_put',
    status: 'known',
    reason:
      'the same unload: mdev_type_remove\'s kobject_put(&type->kobj) (mdev_sysfs.c 204) of mtty-1, released already by the ' +
      'failed mdev_type_add (196 or 182), and of mtty-2, never added, takes a kref at 0 (lib/kobject.c 721): refcount_t underflow',
  },
  {
    title: 'WARNING in kobject_put',
    status: 'known',
    reason:
      'the same unload: out_err stopped the loop at mtty-1 (mdev_sysfs.c 226-229), so mtty-2 was never initialized; ' +
      'mdev_type_remove (212-213, 200-205) puts its kobject, and kobject_put WARNs that it is not initialized (lib/kobject.c 717-720)',
  },
  {
    title: 'KASAN: use-after-free Read in kobject_del',
    status: 'known',
    reason:
      'the same unload: every kobject_del of a type leaves the kset (kobj_kset_leave, lib/kobject.c 592, 169-177, a kset_put), ' +
      'and a type holds the kset twice while added (join and parent, 208-215; the first kobject_del drops both, 610-612). ' +
      'mtty-1\'s second kobject_del (mdev_sysfs.c 203) is one put too many: the kset\'s count ends and kobject_cleanup frees ' +
      'it (647-683). kset_unregister(parent->mdev_types_kset) (214; kobject.c 858-864) then reads the freed kset in kobject_del (610)',
  },
  {
    title: 'KASAN: use-after-free Read in kobject_put',
    status: 'known',
    reason:
      'insmod mtty whose second mdev_type_add fails (fault injection: mtty-2\'s devices kobject, mdev_sysfs.c 186-190): out_err ' +
      'removes mtty-1 (233-235), whose mdev_type_remove puts and frees its devices_kobj (202) and leaves the pointer, and returns ' +
      '0 (236). rmmod mtty: parent_remove_sysfs_files (212-213) removes mtty-1 again, and kobject_put(type->devices_kobj) (202) ' +
      'reads the freed kobject (lib/kobject.c 717)',
  },
  {
    title: 'KASAN: use-after-free Read in sysfs_remove_link',
    status: 'known',
    reason:
      'insmod mtty whose second mdev_type_add fails (fault injection in mtty-2\'s kobject_init_and_add, mdev_sysfs.c 178-184) while ' +
      'a create on mtty-1, writable since its kobject_init_and_add (178), completes: the mdev holds the type (mdev_core.c 176) ' +
      'and links itself into devices_kobj (mdev_sysfs.c 281). out_err removes mtty-1 (233-235): mdev_type_remove frees its ' +
      'devices_kobj (202), and the load succeeds (236). rmmod mtty: mdev_unregister_parent removes the mdev (mdev_core.c 108, ' +
      '38-43, 27-36 → 31), and mdev_remove_sysfs_files calls sysfs_remove_link(mdev->type->devices_kobj, ...) (mdev_sysfs.c 300), ' +
      'which reads kobj->sd of the freed kobject (fs/sysfs/symlink.c 150)',
  },
  {
    title: 'INFO: task hung in vfio_unregister_group_dev',
    status: 'by-design',
    reason:
      'a process removes an mdev it holds open: remove_store → mdev_device_remove_common → device_del → mtty_remove (mtty.c 790-796) → ' +
      'vfio_unregister_group_dev waits for the last fd (vfio_main.c 641-663); mtty has no ->request. The kernel prints nothing: it ' +
      'waits in 10 s slices (wait_for_completion_*_timeout, 652-661), so khungtaskd does not fire; the title is the harness\'s label ' +
      'for a wait that never ends',
  },
  {
    title: 'INFO: task hung in kernfs_remove_self',
    status: 'by-design',
    reason:
      'two processes write "remove" of one mdev (mdev_sysfs.c 248): the loser of device_remove_file_self waits in ' +
      'TASK_UNINTERRUPTIBLE with no timeout until the winner\'s whole store has returned (kernfs/dir.c 1578-1592, schedule at ' +
      '1591), so khungtaskd reports it after 120 s; the winner\'s mdev_device_remove (251) unbinds through device_del, whose ' +
      'vfio_unregister_group_dev waits for the last fd (vfio_main.c 641-663), an fd the blocked loser\'s process holds',
  },
];
