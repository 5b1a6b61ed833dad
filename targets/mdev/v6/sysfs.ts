// A dynamic kobject as 6.1-rc7 has it (v6-local): kobject_create_and_add / kobject_put
// (lib/kobject.c 773, 714, 647, 726): the last put deletes its directory and frees it, leaving the
// holder's pointer dangling. sysfs links are the shared harness/kernel/kernfs.ts.

import { kfn, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import { kernfs_create, kernfs_remove, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { kobject_v6, type KobjectV6 } from './structs.js';

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

/**
 * kset_create_and_add (kobject.c 973-989): a kset whose kobject's kref is `kref` and whose
 * directory is `sd`. Simplified: the kzalloc of the kset is not a fault site (its directory is, as
 * before), and the kset's reference on its parent device (kobject_add_internal 208) is left out:
 * it is balanced on every path the model takes up to the kset's release.
 */
export const kset_create_and_add = kfn('kset_create_and_add', function* (k: Kernel, parent_sd: KernfsNode, name: string) {
  const sd = yield* kernfs_create(k, parent_sd, name, 'kset_create_and_add');
  if (sd === 0) return 0 as KobjectV6;
  const kset = k.alloc(kobject_v6, k.at('kset_create'));
  k.set(kset, 'kref', 1);
  k.set(kset, 'sd', sd);
  return kset;
});

/** kset_get (kobj_kset_join 162, and kobject_get of the kset as a member's parent, 211-215). */
export function kset_get(k: Kernel, kset: KobjectV6): void {
  k.set(kset, 'kref', k.get(kset, 'kref') + 1);
}

/**
 * kset_put (kobj_kset_leave 177, kobject_del's parent put 612, kset_unregister 863) → kobject_put
 * (714-723) → kobject_cleanup (647-683): a kset still in sysfs is deleted (its directory goes,
 * 661-664), then kset_release kfrees it.
 */
export function* kset_put(k: Kernel, kset: KobjectV6): Gen {
  const n = k.get(kset, 'kref') - 1;
  k.set(kset, 'kref', n);
  if (n !== 0) return;
  const sd = k.get(kset, 'sd') as KernfsNode;
  k.set(kset, 'sd', 0);
  if (sd !== 0) yield* kernfs_remove(k, sd, 'kobject_cleanup');
  k.free(kset, k.at('kset_release'));
}

/** kobject_del(&kset->kobj) (603-613): reads the kset (kobj->parent, 610) and removes its directory. */
const kobject_del_kset = kfn('kobject_del', function* (k: Kernel, kset: KobjectV6) {
  const sd = k.get(kset, 'sd') as KernfsNode;
  k.set(kset, 'sd', 0);
  yield* kernfs_remove(k, sd, 'kset_unregister');
});

/** kset_unregister (858-864): kobject_del, then the put that releases it. */
export const kset_unregister = kfn('kset_unregister', function* (k: Kernel, kset: KobjectV6) {
  if (kset === 0) return;
  yield* kobject_del_kset(k, kset);
  yield* kset_put(k, kset);
});
