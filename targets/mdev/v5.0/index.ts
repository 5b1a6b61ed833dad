// mdev-v5.0: the legacy core that Parav Pandit's March 2019 series set out to fix, as in Linux v5.0.1
// (the v5.0.1 stable tree, repository VVvector/linux-5.0.1 at commit 9422dd5e01df).

import { V5_0_EXPECTATIONS } from './expectations.js';
import { V5_0_OBJECTS } from './states.js';
import { legacyTarget } from '../legacy/target.js';
import { core_v5_0 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';

export default legacyTarget({
  name: 'mdev-v5.0',
  description: 'VFIO mdev core of Linux v5.0.1 (VVvector/linux-5.0.1 @9422dd5e01df): device_register before vendor create, vendor remove before unbind, no unreg_sem',
  kernelVersion: 'v5.0.1',
  core: core_v5_0,
  stores: { create_store, remove_store },
  expectations: V5_0_EXPECTATIONS,
  objects: V5_0_OBJECTS,
});
