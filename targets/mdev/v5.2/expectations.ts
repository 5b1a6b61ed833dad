// What mdev-v5.2 is expected to show: none of the five seed problems; what remains are real
// consequences of the merged sequence (each with its path), the vendor bugs it kept, and hangs.

import type { Expectation } from '../../../harness/target.js';

export const V5_2_EXPECTATIONS: readonly Expectation[] = [
  {
    title: 'KASAN: use-after-free Read in mdev_device_remove',
    status: 'known',
    reason: 'remove_store -> mdev_device_remove drops mdev_list_lock after active=false and only then takes unreg_sem; device_remove_file_self broke the writer\'s active reference, so a concurrent mdev_unregister_device removes and frees the mdev (and drops the last parent reference) in between',
  },
  {
    title: 'KASAN: use-after-free Write in mdev_device_remove',
    status: 'known',
    reason: 'the same window: down_read_trylock(&parent->unreg_sem) on a parent freed by the unregistration that removed the child',
  },
  {
    title: 'memory leak: kobject_name',
    status: 'known',
    reason: 'B.6.7: add_mdev_supported_type kfree()s the type when kobject_init_and_add fails (fault injection; fixed in v5.8 by aa8ba13cae31)',
  },
  {
    title: 'BUG: kernel NULL pointer dereference in mtty_create',
    status: 'known',
    reason: 'B.6.15: the mtty sample still registers its parent before initialising its list (fixed in v5.14)',
  },
  {
    title: 'INFO: task hung in vfio_del_group_dev',
    status: 'by-design',
    reason: 'C.2/C.4.2: remove cannot be vetoed and waits for the last close; a process that removes a device it holds open waits forever',
  },
  {
    title: 'INFO: task hung in mdev_unregister_device',
    status: 'by-design',
    reason: 'C.4.4: down_write(unreg_sem) waits for a remove_store that holds it for read while waiting for an fd owned by the unregistering process',
  },
];
