// mdev-v5.2: the core with Parav Pandit's fixes merged for v5.2, as in Linux v5.2.1 (the v5.2.1
// stable tree, repository wangliang-cs/linux-5.2.1 at commit 6759af640c6e).

import { V5_2_EXPECTATIONS } from './expectations.js';
import { V5_2_OBJECTS } from './states.js';
import { legacyTarget } from '../legacy/target.js';
import { core_v5_2 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';

export default legacyTarget({
  name: 'mdev-v5.2',
  description: 'VFIO mdev core of Linux v5.2.1 (wangliang-cs/linux-5.2.1 @6759af640c6e): vendor create before device_add, remove mirrors create, unreg_sem',
  kernelVersion: 'v5.2.1',
  core: core_v5_2,
  stores: { create_store, remove_store },
  expectations: V5_2_EXPECTATIONS,
  objects: V5_2_OBJECTS,
});
