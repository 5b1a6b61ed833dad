// sysfs links and plain kobjects as 6.1-rc7 has them; v6-local (to fold into harness/kernel):
// - sysfs_create_link (fs/sysfs/symlink.c 89-93 → 67-81 → 20-53): a NULL kobj means the sysfs root
//   (72-73); kobj->sd NULL gives -EFAULT (77-78); a target without sd gives -ENOENT (41-42);
//   kernfs_add_one gives -ENOENT under a deactivated parent (fs/kernfs/dir.c 759-761) and -EEXIST
//   for a name already in the directory (kernfs_link_sibling, dir.c 360-377), which sysfs_warn_dup
//   reports with pr_warn + dump_stack (fs/sysfs/dir.c 21-33): no WARN.
// - sysfs_remove_link (symlink.c 143-153) → kernfs_remove_by_name_ns (dir.c 1618-1645): removes the
//   name if it is there; a NULL parent is a WARN (1624-1627).
// - kobject_create_and_add / kobject_put of a dynamic kobject (lib/kobject.c 773, 714, 647, 726):
//   the last put deletes its directory and frees it, leaving the holder's pointer dangling.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { ENOMEM, kernfs_create, kernfs_create_root, kernfs_node, kernfs_path, kernfs_remove, ENOENT, EEXIST, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { kobject_v6, type KobjectV6 } from './structs.js';

const EFAULT = 14;
const REMOVED = 2;

/** The node named `name` in `parent` (0: the sysfs root) that is still linked, or 0. */
function kernfs_find_ns(k: Kernel, parent: KernfsNode, name: string): KernfsNode {
  const h = k.intern(parent === 0 ? name : `${kernfs_path(k, parent)}/${name}`);
  return k.find(kernfs_node, (n) => k.get(n, 'path') === h && k.get(n, 'deactivated') !== REMOVED);
}

/** `kobj_sd` is kobj->sd, or null for a NULL kobj; `target_sd` is target_kobj->sd. */
export const sysfs_create_link = kfn('sysfs_create_link', function* (k: Kernel, kobj_sd: KernfsNode | null, target_sd: KernfsNode, name: string) {
  yield k.at('sysfs_do_create_link');
  const parent = kobj_sd === null ? (0 as KernfsNode) : kobj_sd;
  if (kobj_sd !== null && parent === 0) return -EFAULT;
  if (target_sd === 0) return -ENOENT;
  // kernfs_create_link → kernfs_new_node → kernfs_add_one
  if (parent !== 0 && (!k.isLive(parent) || k.get(parent, 'deactivated') !== 0)) return -ENOENT;
  if (kernfs_find_ns(k, parent, name) !== 0) {
    const path = parent === 0 ? `/${name}` : `/sys/${kernfs_path(k, parent)}/${name}`;
    k.warn('sysfs-warn', 'sysfs: cannot create duplicate filename', [`sysfs: cannot create duplicate filename '${path}'`, 'dump_stack (fs/sysfs/dir.c 29-30)']);
    return -EEXIST;
  }
  const kn = parent === 0 ? yield* kernfs_create_root(k, name, 'kernfs_create_link') : yield* kernfs_create(k, parent, name, 'kernfs_create_link');
  return kn === 0 ? -ENOMEM : 0;
});

/** `kobj_sd` is kobj->sd, or null for a NULL kobj. */
export const sysfs_remove_link = kfn('sysfs_remove_link', function* (k: Kernel, kobj_sd: KernfsNode | null, name: string) {
  yield k.at('kernfs_remove_by_name_ns');
  if (kobj_sd === 0) {
    k.warn('sysfs-warn', 'WARNING in kernfs_remove_by_name_ns', [`kernfs: can not remove '${name}', no directory`]);
    return;
  }
  const kn = kernfs_find_ns(k, kobj_sd ?? (0 as KernfsNode), name);
  if (kn !== 0) yield* kernfs_remove(k, kn, '__kernfs_remove');
});

/** kobject_create_and_add (kobject.c 773-788): NULL on failure. */
export const kobject_create_and_add = kfn('kobject_create_and_add', function* (k: Kernel, parent_sd: KernfsNode, name: string) {
  const kobj: KobjectV6 = yield* kzalloc(k, kobject_v6);
  if (kobj === 0) return kobj;
  k.set(kobj, 'kref', 1);
  const sd = k.shouldFail('kobject_add') ? 0 : yield* kernfs_create(k, parent_sd, name, 'kobject_add');
  if (sd === 0) {
    yield* kfree(k, kobj);
    return 0 as KobjectV6;
  }
  k.set(kobj, 'sd', sd);
  return kobj;
});

/** kobject_put (714) → kobject_cleanup (647): __kobject_del (sd = NULL) then dynamic_kobj_release → kfree. */
export const kobject_put = kfn('kobject_put', function* (k: Kernel, kobj: KobjectV6) {
  if (kobj === 0) return;
  yield k.at('kref_put');
  const n = k.get(kobj, 'kref') - 1;
  k.set(kobj, 'kref', n);
  if (n !== 0) return;
  yield* kernfs_remove(k, k.get(kobj, 'sd') as KernfsNode, 'kobject_del');
  k.set(kobj, 'sd', 0);
  yield* kfree(k, kobj);
});
