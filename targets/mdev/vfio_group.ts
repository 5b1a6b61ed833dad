// The vfio_group pieces every modelled version shares: its reference count under
// vfio.group_lock, and opening /dev/vfio/<group> for the device the user names.

import { kfn, type Kernel } from '../../harness/kernel/kernel.js';
import { list_del, list_entries } from '../../harness/kernel/list.js';
import { kref_get, kref_put, mutex_lock, mutex_unlock } from '../../harness/kernel/sync.js';
import { kfree } from './legacy/alloc.js';
import { globals, type MdevDevice, type VfioDevice, type VfioGroup } from './legacy/structs.js';

function g(k: Kernel) {
  return k.nth(globals, 0);
}

export const vfio_group_get = kfn('vfio_group_get', function* (k: Kernel, group: VfioGroup) {
  yield* kref_get(k, group, 'kref');
});

/** kref_put_mutex(&group->kref, vfio_group_release, &vfio.group_lock) */
export const vfio_group_put = kfn('vfio_group_put', function* (k: Kernel, group: VfioGroup) {
  yield* mutex_lock(k, g(k), 'vfio_group_lock');
  yield* kref_put(k, group, 'kref', function* () {
    list_del(k, k.get(g(k), 'vfio_group_list'), group);
    k.free(k.get(group, 'device_list'), k.at('kfree'));
    yield* kfree(k, group);
  });
  yield* mutex_unlock(k, g(k), 'vfio_group_lock');
});

export function dev_uuid(k: Kernel, device: VfioDevice): number {
  return k.get(k.get(device, 'dev') as MdevDevice, 'uuid');
}

/**
 * Opening /dev/vfio/<group>: the group of the device the user names, with a reference. The kernel
 * lets one open of the group file at a time (vfio_group_fops_open: atomic_cmpxchg(&group->opened)
 * and -EBUSY while a container is set, vfio.c 1598-1610 in 5.0.1 and 1582-1594 in 5.2.1;
 * group->opened_file, vfio_main.c 950-956 in 6.1), but VFIO_GROUP_GET_DEVICE_FD on that one file
 * has no such limit (vfio_group_get_device_fd, vfio.c 1446-1506 in 5.0.1 and 1430-1490 in 5.2.1;
 * vfio_group_ioctl_get_device_fd, vfio_main.c 835-873 in 6.1): threads of one process, or
 * processes sharing the group fd by fork, get device fds of one device at once. The CPUs here
 * stand for those: each reaches the group without the exclusive open, so two CPUs opening one
 * device are a reachable kernel interleaving, not a second open of the group file.
 */
export const vfio_group_fops_open = kfn('vfio_group_fops_open', function* (k: Kernel, uuid: number) {
  yield* mutex_lock(k, g(k), 'vfio_group_lock');
  let found = 0 as VfioGroup;
  for (const group of list_entries<VfioGroup>(k, k.get(g(k), 'vfio_group_list'))) {
    if (list_entries<VfioDevice>(k, k.get(group, 'device_list')).some((d) => dev_uuid(k, d) === uuid)) found = group;
  }
  if (found !== 0) yield* vfio_group_get(k, found);
  yield* mutex_unlock(k, g(k), 'vfio_group_lock');
  return found;
});
