// drivers/vfio/mdev/mdev_sysfs.c of v5.2.1: the parent's types are as in v5.0.1; device files are
// removed in the mirror order of their creation ("remove" first, a6d6f4f160f7), and remove_store
// no longer re-creates "remove" when the removal fails (it may be a stale device).

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { sysfs_remove_link, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { uuid_name } from '../legacy/base.js';
import type { MdevDevice, MdevType } from '../legacy/structs.js';
import { create_store_of, device_remove_file_self, devices_kobj, mdev_of_remove, sysfs_remove_files } from '../v5.0/mdev_sysfs.js';
import { mdev_device_create, mdev_device_remove } from './mdev_core.js';

/** mdev_remove_sysfs_files (mdev_sysfs.c 276-281, v5.2.1): "remove", the mdev_type link, then devices/<uuid>. */
export const mdev_remove_sysfs_files = kfn('mdev_remove_sysfs_files', function* (k: Kernel, mdev: MdevDevice, type: MdevType) {
  yield* sysfs_remove_files(k, mdev);
  yield* sysfs_remove_link(k, [mdev, 'dev_kn'], 'mdev_type');
  yield k.at('type->devices_kobj');
  yield* sysfs_remove_link(k, devices_kobj(k, type), uuid_name(k.get(mdev, 'uuid')));
});

export const create_store = create_store_of((k, kobj, dev, uuid) => mdev_device_create(k, kobj, dev, uuid));

/** remove_store (mdev_sysfs.c 225-242, v5.2.1): no device_create_file on failure. */
export const remove_store = kfn('remove_store', function* (k: Kernel, node: KernfsNode) {
  const mdev = mdev_of_remove(k, node);
  if (yield* device_remove_file_self(k, node)) {
    const ret = yield* mdev_device_remove(k, mdev);
    if (ret !== 0) return ret;
  }
  return 0;
});
