// A dynamic kobject as 6.1-rc7 has it (v6-local): kobject_create_and_add / kobject_put
// (lib/kobject.c 773, 714, 647, 726): the last put deletes its directory and frees it, leaving the
// holder's pointer dangling. sysfs links are the shared harness/kernel/kernfs.ts.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
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
