// The transitions of the mdev objects that the v6 code makes, from (state, user operation) to
// state; the states are read from the objects' fields in ../objects.ts. A transition observed and
// not declared here is reported by `mdevfuzz coverage`: a change of the model or a finding.

import { mdevObjects } from '../objects.js';
import { mdev_parent_v6, mdev_type_v6 } from './structs.js';

const OBJECTS = mdevObjects(
  {
    parent: [
      ['none', 'insmod', 'registering'],
      ['registering', 'insmod', 'registered'],
      ['registering', 'insmod', 'freed'],
      ['registering', 'insmod', 'none'],
      ['registered', ['rmmod', 'teardown'], 'unregistering'],
      ['registered', ['insmod', 'rmmod', 'teardown'], 'freed'],
      ['unregistering', ['rmmod', 'teardown'], 'registered'],
      // a static parent (mtty, mlx5) is unmapped by free_module (module_static): no object any more;
      // an insmod whose init fails after registering unregisters and is freed the same way
      ['registered', ['insmod', 'rmmod', 'teardown'], 'none'],
    ],
    type: [
      ['none', 'insmod', 'initialized'],
      ['initialized', 'insmod', 'live'],
      ['initialized', 'insmod', 'freed'],
      ['live', ['insmod', 'rmmod', 'teardown'], 'freed'],
      // kobject_del leaves a type without a directory, which reads as 'initialized'; mtty's and
      // mlx5's types are static and unmapped by free_module ('none'), vfio_ap's go with matrix_dev
      ['live', ['insmod', 'rmmod', 'teardown'], 'initialized'],
      ['initialized', ['rmmod', 'teardown'], 'freed'],
      ['initialized', ['insmod', 'rmmod', 'teardown'], 'none'],
    ],
    mdev: [
      ['none', 'create', 'allocated'],
      ['allocated', 'create', 'added'],
      ['allocated', 'create', 'freed'],
      ['added', 'create', 'allocated'],
      ['added', 'create', 'registered'],
      ['registered', 'create', 'bound'],
      ['registered', 'create', 'deleted'],
      ['bound', 'create', 'registered'],
      ['bound', 'create', 'active'],
      ['bound', ['create', 'remove', 'rmmod'], 'deleted'],
      ['active', 'remove', 'bound'],
      ['active', ['rmmod', 'teardown'], 'deleted'],
      ['deleted', ['create', 'remove', 'insmod', 'rmmod', 'teardown'], 'freed'],
    ],
    'vendor state': [
      ['none', 'create', 'live'],
      ['live', 'open', 'in use'],
      ['live', 'create', 'probed'],
      ['live', ['create', 'remove', 'rmmod', 'teardown'], 'freed'],
      ['in use', ['close', 'exit'], 'live'],
      ['probed', ['create', 'remove', 'rmmod', 'teardown'], 'live'],
    ],
    'vfio device': [
      ['none', 'create', 'unregistered'],
      ['unregistered', 'create', 'registered'],
      ['unregistered', ['create', 'remove', 'rmmod', 'teardown'], 'freed'],
      ['registered', ['create', 'remove', 'open', 'close', 'rmmod', 'exit', 'teardown'], 'unregistered'],
      ['registered', 'open', 'open'],
      ['open', ['open', 'close', 'exit'], 'registered'],
    ],
    fd: [
      ['none', 'open', 'open'],
      ['open', ['open', 'close', 'exit'], 'freed'],
    ],
    'sysfs node': [
      ['none', ['create', 'insmod'], 'active'],
      ['active', ['create', 'remove', 'read_attr'], 'busy'],
      // insmod: parent_create_sysfs_files's out_err removes the types added before a failed one
      // (mdev_sysfs.c 233-235), draining a create_store in flight
      ['active', ['create', 'remove', 'insmod', 'rmmod'], 'deactivated'],
      ['active', ['create', 'remove', 'insmod', 'rmmod', 'teardown'], 'removed'],
      ['active', 'remove', 'removed, writer inside'],
      ['busy', ['create', 'remove', 'read_attr'], 'active'],
      ['busy', ['create', 'remove', 'insmod', 'rmmod'], 'draining'],
      ['deactivated', ['create', 'remove', 'insmod', 'rmmod'], 'removed'],
      ['deactivated', 'remove', 'removed, writer inside'],
      ['draining', ['create', 'remove', 'read_attr'], 'deactivated'],
      ['removed', 'remove', 'removed, writer inside'],
      ['removed, writer inside', 'remove', 'removed'],
    ],
    module: [
      ['none', 'insmod', 'coming'],
      ['coming', 'insmod', 'live'],
      ['coming', 'insmod', 'gone'],
      // an open during init pins the module (try_module_get refuses only a going one, module.h
      // 505-508 v5.0.1); the end of init makes it live, pinned
      ['coming', 'insmod', 'pinned'],
      ['live', 'open', 'pinned'],
      ['live', ['rmmod', 'teardown'], 'going'],
      ['pinned', ['close', 'exit'], 'live'],
      // vfio_device_open pins per fd before open_device and unpins when it fails (vfio_main.c 760, 824-829)
      ['pinned', 'open', 'live'],
      ['going', ['rmmod', 'teardown'], 'gone'],
    ],
  },
  'v6',
);

/** v6 parents and types live in the v6 pools (static module data or matrix_dev). */
export const V6_OBJECTS = OBJECTS.map((o) =>
  o.kind === 'parent' ? { ...o, structs: [mdev_parent_v6] } : o.kind === 'type' ? { ...o, structs: [mdev_type_v6] } : o,
);
