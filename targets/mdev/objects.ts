// The states of the mdev objects, read from their own fields, for transition coverage (design.md
// section 10). Each version's states.ts declares the transitions between them that its code makes.

import type { Kernel } from '../../harness/kernel/kernel.js';
import { kernfs_node } from '../../harness/kernel/kernfs.js';
import type { Ref } from '../../harness/kernel/layout.js';
import { module, MODULE_STATE_COMING, MODULE_STATE_GOING, MODULE_STATE_LIVE } from '../../harness/kernel/module.js';
import type { ObjectKind, TransitionDecl } from '../../harness/target.js';
import {
  ap_matrix_mdev,
  file,
  mdev_device,
  mdev_parent,
  mdev_state,
  mdev_type,
  mlx5_sf,
  vfio_device,
  type ApMatrixMdev,
  type MdevDevice,
  type MdevParent,
  type MdevType,
  type Mlx5Sf,
  type VfioDevice,
} from './legacy/structs.js';

/** The writer and waiting-writer bits of a rw_semaphore word (harness/kernel/sync.ts). */
const RWSEM_WRITE_SIDE = ~0xffff;

/** The transitions of each kind of one version, by kind name. */
export type Declarations = Record<'parent' | 'type' | 'mdev' | 'vendor state' | 'vfio device' | 'fd' | 'sysfs node' | 'module', readonly TransitionDecl[]>;

/**
 * A parent: registering until its mdev_supported_types directory exists; in use while creates or
 * children hold references (v5.x); unregistering while unregistration holds unreg_sem (v5.2, v6).
 */
function parentState(k: Kernel, ref: Ref): string {
  const parent = ref as MdevParent;
  if ((k.get(parent, 'unreg_sem') & RWSEM_WRITE_SIDE) !== 0) return 'unregistering';
  if (k.get(parent, 'mdev_types_kset') === 0) return 'registering';
  return k.get(parent, 'ref') > 1 ? 'in use' : 'registered';
}

/** A type: a kobject being added, then a directory, live once its "create" file exists. */
function typeState(k: Kernel, ref: Ref): string {
  const type = ref as MdevType;
  if (k.get(type, 'kn') === 0) return 'initialized';
  return k.get(type, 'create_kn') === 0 ? 'added' : 'live';
}

/** An mdev: allocated, added to sysfs, on the bus, bound to a driver, active, deleted. */
function mdevState(k: Kernel, ref: Ref): string {
  const mdev = ref as MdevDevice;
  if (k.get(mdev, 'dev_deleted') !== 0) return 'deleted';
  if (k.get(mdev, 'active') !== 0) return k.get(mdev, 'dev_driver') !== 0 ? 'active' : 'active unbound';
  if (k.get(mdev, 'dev_on_bus') !== 0) return k.get(mdev, 'dev_driver') !== 0 ? 'bound' : 'registered';
  return k.get(mdev, 'dev_kn') !== 0 ? 'added' : 'allocated';
}

/** Vendor state: mtty's mdev_state is live; vfio_ap's matrix has a KVM while open; an mlx5 SF has a netdev once probed. */
function vendorState(k: Kernel, ref: Ref): string {
  const def = k.structOf(ref);
  if (def === ap_matrix_mdev) return k.get(ref as ApMatrixMdev, 'kvm') !== 0 ? 'in use' : 'live';
  if (def === mlx5_sf) return k.get(ref as Mlx5Sf, 'netdev') !== 0 ? 'probed' : 'live';
  return 'live';
}

/** A legacy vfio_device: registered with the one kref of the group, open while fds hold more. */
function legacyVfioState(k: Kernel, ref: Ref): string {
  return k.get(ref as VfioDevice, 'kref') > 1 ? 'open' : 'registered';
}

/** A v6 vfio_device: registered while its registration refcount is up, open while open_count is. */
function v6VfioState(k: Kernel, ref: Ref): string {
  const device = ref as VfioDevice;
  if (k.get(device, 'open_count') > 0) return 'open';
  return k.get(device, 'refcount') > 0 ? 'registered' : 'unregistered';
}

/** An open file of a VFIO device: allocated and filled in one step, so it is never seen empty. */
function fileState(): string {
  return 'open';
}

/** A sysfs node: active, busy while a store runs in it, deactivated and draining, removed. */
function kernfsState(k: Kernel, ref: Ref): string {
  const active = k.get(ref as Ref<'active'>, 'active') > 0;
  switch (k.get(ref as Ref<'deactivated'>, 'deactivated')) {
    case 0:
      return active ? 'busy' : 'active';
    case 1:
      return active ? 'draining' : 'deactivated';
    default:
      return active ? 'removed, writer inside' : 'removed';
  }
}

function moduleState(k: Kernel, ref: Ref): string {
  const state = k.get(ref as Ref<'state'>, 'state');
  if (state === MODULE_STATE_COMING) return 'coming';
  if (state === MODULE_STATE_GOING) return 'going';
  if (state === MODULE_STATE_LIVE) return k.get(ref as Ref<'refcnt'>, 'refcnt') > 0 ? 'pinned' : 'live';
  return 'gone';
}

export function mdevObjects(d: Declarations, vfio: 'legacy' | 'v6'): ObjectKind[] {
  const kind = (name: keyof Declarations, structs: ObjectKind['structs'], states: readonly string[], state: ObjectKind['state']): ObjectKind => ({
    kind: name,
    structs,
    state,
    states,
    transitions: d[name],
  });
  return [
    kind('parent', [mdev_parent], ['registering', 'registered', 'in use', 'unregistering'], parentState),
    kind('type', [mdev_type], ['initialized', 'added', 'live'], typeState),
    kind('mdev', [mdev_device], ['allocated', 'added', 'registered', 'bound', 'active', 'active unbound', 'deleted'], mdevState),
    kind('vendor state', [mdev_state, ap_matrix_mdev, mlx5_sf], ['live', 'in use', 'probed'], vendorState),
    vfio === 'legacy'
      ? kind('vfio device', [vfio_device], ['registered', 'open'], legacyVfioState)
      : kind('vfio device', [vfio_device], ['unregistered', 'registered', 'open'], v6VfioState),
    kind('fd', [file], ['open'], fileState),
    kind('sysfs node', [kernfs_node], ['active', 'busy', 'deactivated', 'draining', 'removed', 'removed, writer inside'], kernfsState),
    kind('module', [module], ['coming', 'live', 'pinned', 'going', 'gone'], moduleState),
  ];
}
