// The parent helpers of mdev_core.c that v5.0 and v5.2 share unchanged: the lookup on parent_list
// and the parent kref (registration + one per live mdev), whose release frees the parent and puts
// its struct device.

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { list_entries } from '../../../harness/kernel/list.js';
import { kref_get, kref_put } from '../../../harness/kernel/sync.js';
import { kfree } from './alloc.js';
import { put_device } from './base.js';
import { globals, type Device, type MdevParent } from './structs.js';

/** __find_parent_device, with parent_list_lock held. */
export function __find_parent_device(k: Kernel, dev: Device): MdevParent {
  for (const parent of list_entries<MdevParent>(k, k.get(k.nth(globals, 0), 'parent_list'))) {
    if (k.get(parent, 'dev') === dev) return parent;
  }
  return 0 as MdevParent;
}

/** mdev_release_parent (mdev_core.c 81-89 (v5.0.1), 78-86 (v5.2.1)). */
const mdev_release_parent = kfn('mdev_release_parent', function* (k: Kernel, parent: MdevParent) {
  const dev = k.get(parent, 'dev') as Device;
  yield* kfree(k, parent);
  yield* put_device(k, dev);
});

/** mdev_get_parent (mdev_core.c 92-98 (v5.0.1), 88-94 (v5.2.1)). */
export const mdev_get_parent = kfn('mdev_get_parent', function* (k: Kernel, parent: MdevParent) {
  if (parent !== 0) yield* kref_get(k, parent, 'ref');
  return parent;
});

/** mdev_put_parent (mdev_core.c 100-104 (v5.0.1), 96-100 (v5.2.1)). */
export const mdev_put_parent = kfn('mdev_put_parent', function* (k: Kernel, parent: MdevParent) {
  if (parent !== 0) yield* kref_put(k, parent, 'ref', () => mdev_release_parent(k, parent));
});
