// A bare kobject as lib/kobject.c (v5.0.1) makes one with kobject_create_and_add: a refcounted heap
// object with a sysfs directory (kobj->sd). Its last kobject_put runs kobject_cleanup, which deletes
// the directory (sd = NULL) and frees the object, so a pointer kept to it dangles.

import { kfn, type Gen, type Kernel } from './kernel.js';
import { kernfs_create, kernfs_remove, type KernfsNode } from './kernfs.js';
import { defineStruct, type Ref } from './layout.js';
import { kref_put } from './sync.js';

export const kobject = defineStruct('kobject', ['sd', 'kref']);
export type Kobject = Ref<(typeof kobject.fields)[number]>;

/**
 * kobject_create_and_add (kobject.c 760-776): kobject_create (735-747, kzalloc) then kobject_add;
 * a failing add is a kobject_put that frees it. Returns the kobject or 0.
 */
export const kobject_create_and_add = kfn('kobject_create_and_add', function* (k: Kernel, name: string, parent: KernfsNode): Gen<Kobject> {
  yield k.at('kobject_create');
  if (k.shouldFail('kmalloc')) return 0 as Kobject;
  const kobj = k.alloc(kobject, k.at('kobject_create'));
  k.set(kobj, 'kref', 1);
  const sd = yield* kernfs_create(k, parent, name, 'kobject_add_internal');
  if (sd === 0) {
    yield* kobject_put(k, kobj);
    return 0 as Kobject;
  }
  k.set(kobj, 'sd', sd);
  return kobj;
});

/**
 * kobject_del (kobject.c 584-599): sysfs_remove_dir sets kobj->sd = NULL (fs/sysfs/dir.c 96-98)
 * and removes the directory; on a kobject never added (sd NULL) it does nothing.
 */
export const kobject_del = kfn('kobject_del', function* (k: Kernel, kobj: Kobject) {
  yield k.at('kobj->sd');
  const sd = k.get(kobj, 'sd') as KernfsNode;
  k.set(kobj, 'sd', 0);
  if (sd !== 0) yield* kernfs_remove(k, sd, 'sysfs_remove_dir');
});

/** kobject_put (701-710) → kobject_release → kobject_cleanup (633-670): del if in sysfs, then dynamic_kobj_release's kfree (713-717). */
export const kobject_put = kfn('kobject_put', function* (k: Kernel, kobj: Kobject) {
  yield* kref_put(k, kobj, 'kref', function* () {
    if (k.get(kobj, 'sd') !== 0) yield* kobject_del(k, kobj);
    yield k.at('kfree');
    k.free(kobj, k.at('dynamic_kobj_release'));
  });
});
