// mdev-v5.0: the legacy core that Parav Pandit's March 2019 series set out to fix.

import { V5_0_EXPECTATIONS } from './expectations.js';
import { V5_0_OBJECTS } from './states.js';
import { legacyTarget } from '../legacy/target.js';
import { core_v5_0 } from './mdev_core.js';
import { create_store, remove_store } from './mdev_sysfs.js';

export default legacyTarget({
  name: 'mdev-v5.0',
  description: 'VFIO mdev core of Linux v5.0: device_register before vendor create, vendor remove before unbind, no unreg_sem',
  kernelVersion: 'v5.0',
  core: core_v5_0,
  stores: { create_store, remove_store },
  expectations: V5_0_EXPECTATIONS,
  objects: V5_0_OBJECTS,
});
