// The five problems of the 2019 thread on the bundled mdev-v5.0 model, each from a hand-written
// program and an explicit canonical schedule. Every cut names the label its CPU is stopped at, so
// a change of the model that moves a window fails here with the label it now finds instead.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FindingKind, Op } from '../harness/types.js';
import { findTarget } from '../targets/index.js';
import { assertCuts, findingTitled, op, resolveCuts, rets, runWith, schedule, titles, type LabelCut } from './fixtures/mini.js';

const target = findTarget('mdev-v5.0')!;

const create = (type: string, uuid: number) => op('create', { type, uuid });
const remove = (uuid: number) => op('remove', { uuid });
const open = (uuid: number) => op('open', { uuid });
const ioctl = (fd: number) => op('ioctl', { fd });
const insmod = (module: string) => op('insmod', { module });
const rmmod = (module: string) => op('rmmod', { module });

interface Problem {
  id: string;
  title: string;
  kind: FindingKind;
  /** The CPU the finding fires on. */
  cpu: number;
  cpus: Op[][];
  cuts: LabelCut[];
  /** A race needs its preemptions; an ordering bug fires in program order. */
  race: boolean;
  /** Return values of the operations in program order, without preemption. */
  serialRets: number[][];
  detail?: string[];
}

const problems: Problem[] = [
  {
    id: 'P1',
    title: 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open',
    kind: 'null-deref',
    cpu: 1,
    cpus: [[create('vfio_ap-passthrough', 0)], [open(0)]],
    // device_register has returned (the device is bound to vfio_mdev and openable); the vendor's
    // create has not yet run past its first step, so drvdata is still NULL.
    cuts: [{ cpu: 0, to: 1, at: 'vfio_ap_mdev_create:atomic_dec_if_positive' }],
    race: true,
    serialRets: [[0], [0]],
  },
  {
    id: 'P2',
    title: 'KASAN: use-after-free Write in mtty_ioctl',
    kind: 'use-after-free',
    cpu: 0,
    cpus: [[create('mtty-1', 0), open(0), ioctl(0)], [remove(0)]],
    // mtty_ioctl has read drvdata and not yet used it; the remove frees mdev_state, then waits
    // in vfio_del_group_dev for the open fd.
    cuts: [{ cpu: 0, to: 1, at: 'mtty_ioctl:copy_from_user' }],
    race: true,
    serialRets: [[0, 0, 0], [0]],
    detail: ['The buggy address belongs to an object of type mdev_state', 'Allocated at mtty_create:kzalloc(mdev_state)', 'Freed at mtty_remove:kfree'],
  },
  {
    id: 'P3',
    title: 'BUG: kernel NULL pointer dereference in mlx5_sf_probe',
    kind: 'null-deref',
    cpu: 0,
    // mlx5_sf probes inside device_register, before the vendor's create has set drvdata.
    cpus: [[insmod('mlx5_sf'), create('mlx5_core-sf', 0)]],
    cuts: [],
    race: false,
    serialRets: [[0]],
  },
  {
    id: 'P4',
    title: 'memory leak: mdev_device orphaned by mdev_unregister_device',
    kind: 'leak',
    cpu: 1,
    cpus: [[create('mtty-1', 0)], [rmmod('mtty')]],
    cuts: [
      // The create holds an active reference on "create" (it passed the kernfs check)...
      { cpu: 0, to: 1, at: 'create_store:kobj->parent->parent' },
      // ...unregistration has walked the parent's (still empty) children and is about to remove
      // the types; the create then completes, and the new mdev outlives its parent.
      { cpu: 1, to: 0, at: 'remove_mdev_supported_type:sysfs_remove_files' },
    ],
    race: true,
    serialRets: [[0], [0]],
  },
  {
    id: 'P5',
    title: 'BUG: unable to handle page fault in mdev_device_remove_ops',
    kind: 'unloaded-module',
    cpu: 0,
    cpus: [[create('mtty-1', 0), remove(0)], [rmmod('mtty')]],
    // The remove has set active = false and dropped mdev_list_lock; unregistration then skips the
    // inactive child (-EAGAIN) and mtty is unloaded before the remove calls parent->ops.
    cuts: [{ cpu: 0, to: 1, at: 'mdev_device_remove:mdev->type_kobj' }],
    race: true,
    serialRets: [[0, 0], [0]],
    detail: ['mdev_device_remove_ops calls parent->ops in module mtty, which has been unloaded'],
  },
];

describe('mdev-v5.0 seed problems', () => {
  for (const p of problems) {
    const program = { cpus: p.cpus };

    test(`${p.id} reproduces: ${p.title}`, () => {
      const cuts = resolveCuts(target, program, p.cuts);
      const { result } = runWith(target, program, schedule(cuts));
      assertCuts(result.trace!, cuts);
      const f = findingTitled(result, p.title);
      assert.equal(f.kind, p.kind);
      assert.equal(f.cpu, p.cpu);
      for (const line of p.detail ?? []) assert.ok(f.detail.some((d) => d.startsWith(line)), `no '${line}' in\n${f.detail.join('\n')}`);
      // It replays exactly from the schedule the execution recorded.
      const again = runWith(target, program, result.schedule).result;
      assert.deepEqual(again.trace, result.trace);
      assert.deepEqual(titles(again), titles(result));
    });

    if (p.race) {
      test(`${p.id} needs its preemptions: in program order the operations succeed`, () => {
        const { result } = runWith(target, program, []);
        assert.equal(titles(result).includes(p.title), false, JSON.stringify(titles(result)));
        assert.deepEqual(rets(result, p.cpus.length), p.serialRets);
      });
    } else {
      test(`${p.id} is an ordering bug: it fires with no preemption at all`, () => {
        const { result } = runWith(target, program, []);
        assert.deepEqual(result.schedule, []);
        assert.equal(findingTitled(result, p.title).kind, p.kind);
        assert.deepEqual(rets(result, p.cpus.length), p.serialRets, 'insmod returned; create never did');
      });
    }

    test(`${p.id} is a known expectation of the target`, () => {
      const e = target.expectations.find((x) => x.title === p.title);
      assert.equal(e?.status, 'known');
    });
  }

  test('P3 needs mlx5_sf: without the bus driver the sub-function is created cleanly', () => {
    const { result } = runWith(target, { cpus: [[create('mlx5_core-sf', 0)]] }, []);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(rets(result, 1), [[0]]);
  });
});
