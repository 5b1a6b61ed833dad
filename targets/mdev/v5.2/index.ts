// mdev-v5.2: the core with Parav Pandit's fixes merged for v5.2.

import { V5_2_EXPECTATIONS } from './expectations.js';
import { V5_2_OBJECTS } from './states.js';
import { legacyTarget } from '../legacy/target.js';
import { core_v5_2 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';

export default legacyTarget({
  name: 'mdev-v5.2',
  description: 'VFIO mdev core of Linux v5.2: vendor create before device_add, remove mirrors create, unreg_sem',
  kernelVersion: 'v5.2',
  core: core_v5_2,
  stores: { create_store, remove_store },
  expectations: V5_2_EXPECTATIONS,
  objects: V5_2_OBJECTS,
});
