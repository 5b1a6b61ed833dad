// Each lifecycle invariant of reference D.2 that the harness checks, on a scenario that breaks it.
// The mdev scenarios come from the targets that break them (v5.0 mostly); D.2.8 is never broken
// by a modelled version, so its check is driven directly. Lock order (D.2.10) is lockdep, covered
// with its fixed twin in oracles.test.ts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Kernel } from '../harness/kernel/kernel.js';
import { list_add, list_new } from '../harness/kernel/list.js';
import { replayExecution } from '../harness/engine/runner.js';
import type { Fault, Op } from '../harness/types.js';
import { uuid_unique } from '../targets/mdev/legacy/oracles.js';
import { globals, LEGACY_LAYOUT, mdev_device } from '../targets/mdev/legacy/structs.js';
import { findTarget } from '../targets/index.js';
import { op, resolveCuts, schedule, titles, type LabelCut } from './fixtures/mini.js';

const create = (type: string, uuid: number) => op('create', { type, uuid });
const remove = (uuid: number) => op('remove', { uuid });
const open = (uuid: number) => op('open', { uuid });

interface Broken {
  invariant: string;
  target: string;
  /** Its start state (Program.start), when not the default. */
  start?: string;
  cpus: Op[][];
  cuts?: LabelCut[];
  faults?: Fault[];
  title: string;
}

const cases: Broken[] = [
  {
    invariant: 'D.2.1 openable implies vendor state present',
    target: 'mdev-v5.0',
    cpus: [[create('vfio_ap-passthrough', 0)], [open(0)]],
    cuts: [{ cpu: 0, to: 1, at: 'vfio_ap_mdev_create:atomic_dec_if_positive' }],
    title: 'invariant: openable implies vendor state in vfio_mdev_open',
  },
  {
    invariant: 'D.2.2 on the bus with a bound driver implies vendor state present',
    target: 'mdev-v5.0',
    // mlx5_sf registered before vfio_mdev: the bus has no .match, so mlx5_sf probes first.
    start: 'mlx5_sf-first',
    cpus: [[create('mlx5_core-sf', 0)]],
    title: 'BUG: kernel NULL pointer dereference in mlx5_sf_probe',
  },
  {
    invariant: 'D.2.3 remove mirrors create: no vendor teardown while an fd is open',
    target: 'mdev-v5.0',
    cpus: [[create('mtty-1', 0), open(0), remove(0)]],
    title: 'invariant: remove mirrors create in mdev_device_remove',
  },
  {
    invariant: 'D.2.4 no child survives parent unregistration',
    target: 'mdev-v5.0',
    cpus: [[create('mtty-1', 0)], [op('rmmod', { module: 'mtty' })]],
    cuts: [
      { cpu: 0, to: 1, at: 'mdev_type_attr_store:type->parent->dev' },
      { cpu: 1, to: 0, at: 'remove_mdev_supported_type:sysfs_remove_files' },
    ],
    title: 'memory leak: mdev_device orphaned by mdev_unregister_device',
  },
  {
    invariant: 'D.2.5 no vendor code after unregistration returns',
    target: 'mdev-v5.0',
    cpus: [[create('mtty-1', 0), remove(0)], [op('rmmod', { module: 'mtty' })]],
    cuts: [{ cpu: 0, to: 1, at: 'mdev_device_remove:mdev->type_kobj' }],
    title: 'BUG: unable to handle page fault in mdev_device_remove',
  },
  {
    invariant: 'D.2.6 every get has a put, on error unwinds too',
    target: 'mdev-v5.2',
    cpus: [[op('rmmod', { module: 'mtty' }), op('insmod', { module: 'mtty' })]],
    faults: [{ call: 'kobject_init_and_add', nth: 1 }],
    title: 'memory leak: kobject_name',
  },
  {
    invariant: 'D.2.7 no sysfs file outlives its object',
    target: 'mdev-v5.0',
    cpus: [[create('mtty-1', 0)], [op('rmmod', { module: 'mtty' })]],
    cuts: [{ cpu: 0, to: 1, at: 'mdev_type_attr_store:type->parent->dev' }],
    // remove_mdev_supported_type's kobject_put freed type->devices_kobj (mdev_sysfs.c 155, kobject.c
    // 633-717); the create's sysfs_create_link (mdev_sysfs.c 260) reads its sd (symlink.c 75).
    title: 'KASAN: use-after-free Read in sysfs_create_link',
  },
  {
    invariant: 'D.2.11 blocking is bounded or signalled (none of the wait has a ->request here)',
    target: 'mdev-v5.2',
    cpus: [[create('mtty-1', 0), open(0), remove(0)]],
    title: 'INFO: task hung in vfio_del_group_dev',
  },
];

describe('lifecycle invariants (reference D.2) on scenarios that break them', () => {
  for (const c of cases) {
    test(`${c.invariant}: ${c.title} on ${c.target}`, () => {
      const target = findTarget(c.target)!;
      const program = c.start === undefined ? { cpus: c.cpus } : { cpus: c.cpus, start: c.start };
      const cuts = schedule(resolveCuts(target, program, c.cuts ?? []));
      const broken = replayExecution(target, program, c.faults ?? [], cuts).result;
      assert.ok(titles(broken).includes(c.title), JSON.stringify(titles(broken)));
      // The same operations in program order (and without the fault) keep the invariant.
      const serial = replayExecution(target, program, [], []).result;
      const orderBug = c.cuts === undefined && c.faults === undefined;
      assert.equal(titles(serial).includes(c.title), orderBug, JSON.stringify(titles(serial)));
    });
  }

  test('D.2.8 at most one mdev per UUID in mdev_list: the per-step check reports a duplicate', () => {
    const k = new Kernel(LEGACY_LAYOUT, new SharedArrayBuffer(LEGACY_LAYOUT.words * 4), { ncpus: 1 });
    const g = k.alloc(globals, 'test');
    k.set(g, 'mdev_list', list_new(k, 'test'));
    const add = (uuid: number) => {
      const m = k.alloc(mdev_device, 'test');
      k.set(m, 'uuid', uuid);
      list_add(k, k.get(g, 'mdev_list'), m);
    };
    add(0);
    add(1);
    uuid_unique(k);
    assert.equal(k.findings.length, 0);
    add(1);
    uuid_unique(k);
    assert.deepEqual(k.findings.map((f) => f.title), ['invariant: uuid unique in mdev_list']);
  });
});
