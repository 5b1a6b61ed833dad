// The transitions of the mdev objects that the v5.0 code makes, from (state, user operation) to
// state; the states are read from the objects' fields in ../objects.ts. A transition observed and
// not declared here is reported by `mdevfuzz coverage`: a change of the model or a finding.

import { mdevObjects } from '../objects.js';

export const V5_0_OBJECTS = mdevObjects(
  {
    parent: [
      ['none', 'insmod', 'registering'],
      ['registering', 'insmod', 'registered'],
      ['registering', 'insmod', 'freed'],
      ['registered', 'create', 'in use'],
      ['registered', ['remove', 'insmod', 'rmmod', 'teardown'], 'freed'],
      ['in use', ['create', 'remove', 'rmmod', 'teardown'], 'registered'],
    ],
    type: [
      ['none', 'insmod', 'initialized'],
      ['initialized', 'insmod', 'added'],
      ['initialized', 'insmod', 'freed'],
      ['added', 'insmod', 'live'],
      ['added', 'insmod', 'freed'],
      ['live', ['insmod', 'rmmod', 'teardown'], 'freed'],
    ],
    mdev: [
      ['none', 'create', 'allocated'],
      ['allocated', 'create', 'added'],
      ['allocated', 'create', 'freed'],
      ['added', 'create', 'registered'],
      ['registered', ['create', 'insmod'], 'bound'],
      ['registered', 'create', 'active unbound'],
      ['registered', ['create', 'remove', 'rmmod', 'teardown'], 'deleted'],
      ['bound', ['create', 'insmod', 'rmmod'], 'registered'],
      ['bound', ['create', 'remove'], 'active'],
      ['bound', ['create', 'remove', 'rmmod', 'teardown'], 'deleted'],
      ['active', ['remove', 'rmmod', 'teardown'], 'bound'],
      ['active', ['insmod', 'rmmod', 'teardown'], 'active unbound'],
      ['active unbound', ['remove', 'rmmod', 'teardown'], 'registered'],
      ['active unbound', 'insmod', 'active'],
      ['deleted', ['create', 'remove', 'insmod', 'rmmod', 'teardown'], 'freed'],
    ],
    'vendor state': [
      ['none', 'create', 'live'],
      ['live', 'open', 'in use'],
      ['live', 'insmod', 'probed'],
      ['live', ['create', 'remove', 'rmmod', 'teardown'], 'freed'],
      ['in use', ['open', 'close', 'exit'], 'live'],
      // remove (or create's error path) runs the vendor's remove on an open device: P2 through vfio_ap
      ['in use', ['create', 'remove'], 'freed'],
      ['probed', ['rmmod', 'teardown'], 'live'],
      ['probed', ['create', 'remove', 'rmmod'], 'freed'],
    ],
    'vfio device': [
      ['none', 'create', 'registered'],
      ['registered', 'open', 'open'],
      ['registered', ['create', 'remove', 'open', 'close', 'rmmod', 'exit', 'teardown'], 'freed'],
      ['open', ['create', 'remove', 'open', 'close', 'rmmod', 'exit'], 'registered'],
    ],
    fd: [
      ['none', 'open', 'open'],
      ['open', ['close', 'exit'], 'freed'],
    ],
    'sysfs node': [
      ['none', ['create', 'remove', 'insmod'], 'active'],
      ['active', ['create', 'remove', 'read_attr'], 'busy'],
      ['active', ['create', 'remove', 'rmmod'], 'deactivated'],
      ['active', ['create', 'remove', 'insmod', 'rmmod', 'teardown'], 'removed'],
      ['active', 'remove', 'removed, writer inside'],
      ['busy', ['create', 'remove', 'read_attr'], 'active'],
      ['busy', ['create', 'remove', 'rmmod'], 'draining'],
      ['deactivated', ['create', 'remove', 'rmmod'], 'removed'],
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
      ['pinned', ['open', 'close', 'exit'], 'live'],
      ['going', ['rmmod', 'teardown'], 'gone'],
    ],
  },
  'legacy',
);
