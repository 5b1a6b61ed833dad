// The compatibility class of drivers/base/class.c (v6.1-rc7 tree, 486-571) that mdev_register_parent
// creates once (mdev_core.c 75-79, with no lock) and links each parent into (85, 107). mdev.ko is
// never unloaded in the model, so class_compat_unregister (517-521, mdev_exit 259-260) is not.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EEXIST, ENOMEM, kernfs_add_one, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { class_compat_v6, kobject_v6, type ClassCompatV6, type DeviceV6, type KobjectV6 } from './structs.js';

/**
 * class_compat_register (class.c 497-510): kmalloc the class_compat (501), then
 * kobject_create_and_add(name, &class_kset->kobj) (504; kobject.c 773-788): kobject_create,
 * kobject_add → kobject_add_internal → create_dir → sysfs_create_dir_ns → kernfs_add_one under
 * /sys/class. A name already there is -EEXIST: sysfs_warn_dup (sysfs/dir.c 62-63, 21-33: pr_warn
 * and dump_stack, no WARNING), pr_err (kobject.c 230-232) and pr_warn (784), then kobject_put frees
 * the kobject (785) and class.c 506 frees cls: NULL. Simplified: the kobject's name is not allocated.
 */
export const class_compat_register = kfn('class_compat_register', function* (k: Kernel, name: string) {
  const cls: ClassCompatV6 = yield* kzalloc(k, class_compat_v6);
  if (cls === 0) return cls;
  const kobj: KobjectV6 = yield* kzalloc(k, kobject_v6);
  if (kobj !== 0) {
    k.set(kobj, 'kref', 1);
    const ret = k.shouldFail('kobject_add') ? -ENOMEM : yield* kernfs_add_one(k, 0 as KernfsNode, `class/${name}`, 'kobject_add_internal');
    if (ret > 0) {
      k.set(kobj, 'sd', ret);
      k.set(cls, 'kobj', kobj);
      return cls;
    }
    if (ret === -EEXIST) {
      k.printk(`sysfs: cannot create duplicate filename '/class/${name}'`);
      k.printk(`kobject_add_internal failed for ${name} with -EEXIST, don't try to register things with the same name in the same directory.`);
    }
    // kobject_put (kobject.c 785): never added, so kobject_cleanup only frees it
    yield* kfree(k, kobj);
  }
  yield* kfree(k, cls);
  return 0 as ClassCompatV6;
});

/**
 * class_compat_create_link (class.c 531-554) with no device_link: sysfs_create_link(cls->kobj, ...)
 * (536) reads cls->kobj first, a NULL pointer dereference when cls is NULL. Simplified: the link
 * itself is not made (its failure only warns, mdev_core.c 85-87, and no race reads it).
 */
export const class_compat_create_link = kfn('class_compat_create_link', function* (k: Kernel, cls: ClassCompatV6, _dev: DeviceV6) {
  yield k.at('sysfs_create_link(cls->kobj)');
  k.get(cls, 'kobj');
  return 0;
});

/** class_compat_remove_link (class.c 564-570) with no device_link: sysfs_remove_link(cls->kobj, ...) (569) reads cls->kobj. */
export const class_compat_remove_link = kfn('class_compat_remove_link', function* (k: Kernel, cls: ClassCompatV6, _dev: DeviceV6) {
  yield k.at('sysfs_remove_link(cls->kobj)');
  k.get(cls, 'kobj');
});
