// Assembles an mdev target from the userspace of one version: boot allocates the globals and one
// task per CPU, then loads the modules of the execution's start state (all of them by default); teardown unloads every module; whatever is still
// allocated afterwards is a leak.

import type { Gen, Kernel } from '../../harness/kernel/kernel.js';
import { list_new } from '../../harness/kernel/list.js';
import { MAX_CPUS } from '../../harness/kernel/layout.js';
import type { Expectation, ObjectKind, Target } from '../../harness/target.js';
import { uuid_unique } from './legacy/oracles.js';
import { leaked_by_release } from './legacy/base.js';
import { device, globals, LEAK_CHECKED, LEGACY_LAYOUT, task } from './legacy/structs.js';
import { MDEV_OPS, type Userspace } from './userspace.js';

/** Fallible calls of the models: allocation, sysfs and kobject creation, vendor create, probe, registration. */
export const FAULT_CALLS = [
  'kmalloc',
  'sysfs_create',
  'kobject_add',
  'kobject_init_and_add',
  'vendor_create',
  'probe',
  'vfio_register',
  'dev_set_name',
] as const;

export interface MdevTargetSpec {
  name: string;
  description: string;
  kernelVersion: string;
  user: Userspace;
  expectations: readonly Expectation[];
  /** The state machines of its objects, for transition coverage. */
  objects: readonly ObjectKind[];
}

export function mdevTarget(spec: MdevTargetSpec): Target {
  const { user } = spec;

  function* setup(k: Kernel, start?: string): Gen {
    yield 'start_kernel:mdev_init';
    const g = k.alloc(globals, 'start_kernel:globals');
    k.set(g, 'parent_list', list_new(k, 'start_kernel:LIST_HEAD(parent_list)'));
    k.set(g, 'mdev_list', list_new(k, 'start_kernel:LIST_HEAD(mdev_list)'));
    k.set(g, 'bus_drivers', list_new(k, 'start_kernel:bus_register'));
    k.set(g, 'vfio_group_list', list_new(k, 'start_kernel:vfio_init'));
    for (let c = 0; c < MAX_CPUS; c++) k.alloc(task, 'start_kernel:fork');
    yield* user.boot(k, start);
  }

  /**
   * One report per execution: the first leaked type in LEAK_CHECKED order, with the others listed.
   * A device whose release frees nothing (vfio_ap's matrix device) is the kernel's own leak on
   * every unload, not one of the lifecycle: it is not counted.
   */
  function leakCheck(k: Kernel): void {
    const live = (def: (typeof LEAK_CHECKED)[number]) => (def === device ? k.live(device).filter((d) => !leaked_by_release(k, d)) : k.live(def));
    const leaked = LEAK_CHECKED.map((def) => ({ def, n: live(def).length })).filter((x) => x.n > 0);
    if (leaked.length === 0) return;
    k.warn('leak', `memory leak: ${leaked[0]!.def.name}`, leaked.map((x) => `unreferenced after teardown: ${x.n} x ${x.def.name}`));
  }

  return {
    name: spec.name,
    description: spec.description,
    kernelVersion: spec.kernelVersion,
    layout: LEGACY_LAYOUT,
    ops: MDEV_OPS,
    focus: user.focus,
    setup,
    startStates: user.startStates,
    run: user.run,
    exitCpu: user.exitCpu,
    teardown: user.teardown,
    invariants: [uuid_unique],
    leakCheck,
    expectations: spec.expectations,
    objects: spec.objects,
    faultCalls: FAULT_CALLS,
  };
}
