// drivers/vfio/mdev/mdev_sysfs.c as of v5.2: the parent's types are as in v5.0; device files are
// removed in the mirror order of their creation ("remove" first, a6d6f4f160f7), and remove_store
// no longer re-creates "remove" when the removal fails (it may be a stale device).

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { kernfs_remove, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import type { MdevDevice, MdevType } from '../legacy/structs.js';
import { create_store_of, device_remove_file_self, mdev_of_remove } from '../v5.0/mdev_sysfs.js';
import { mdev_device_create, mdev_device_remove } from './mdev_core.js';

export const mdev_remove_sysfs_files = kfn('mdev_remove_sysfs_files', function* (k: Kernel, mdev: MdevDevice, type: MdevType) {
  yield* kernfs_remove(k, k.get(mdev, 'remove_kn') as KernfsNode, 'sysfs_remove_file');
  k.set(mdev, 'remove_kn', 0);
  yield* kernfs_remove(k, k.get(mdev, 'type_link_kn') as KernfsNode, 'sysfs_remove_link');
  yield k.at('type->devices_kobj');
  k.get(type, 'devices_kn');
  yield* kernfs_remove(k, k.get(mdev, 'devices_link_kn') as KernfsNode, 'sysfs_remove_link');
});

export const create_store = create_store_of((k, kobj, dev, uuid) => mdev_device_create(k, kobj, dev, uuid));

export const remove_store = kfn('remove_store', function* (k: Kernel, node: KernfsNode) {
  const mdev = mdev_of_remove(k, node);
  if (yield* device_remove_file_self(k, node)) {
    const ret = yield* mdev_device_remove(k, mdev);
    if (ret !== 0) return ret;
  }
  return 0;
});
