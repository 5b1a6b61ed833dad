// The order of the steps of create and remove in each version, from a scripted single-CPU run
// (create, open, close, remove), checked against reference sections A.1.3-A.1.4, A.2.3-A.2.4 and
// A.3.3-A.3.4: the kernel functions that matter, in the order they are entered.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replayExecution } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';
import { op } from './fixtures/mini.js';

const program = {
  cpus: [[op('create', { type: 'mtty-1', uuid: 0 }), op('open', { uuid: 0 }), op('close', { fd: 0 }), op('remove', { uuid: 0 })]],
};

/** The milestones of each operation, in the order the target entered them. */
function milestones(target: string, keep: ReadonlySet<string>): Record<string, string[]> {
  const { result } = replayExecution(findTarget(target)!, program, [], [], { events: true });
  assert.deepEqual(result.findings, [], 'the scripted run is clean');
  const out: Record<string, string[]> = {};
  let current = '';
  for (const e of result.events!) {
    if (e.e === 'op') out[(current = e.op.op)] = [];
    else if (e.e === 'ret') assert.equal(e.ret >= 0, true, `${e.op} returned ${e.ret}`);
    else if (e.e === 'enter' && e.cpu === 0 && keep.has(e.fn)) out[current]!.push(e.fn);
  }
  return out;
}

describe('create and remove, step by step', () => {
  test('v5.0: the device is registered and bound before vendor create; vendor remove runs before unbinding', () => {
    const keep = new Set([
      'mdev_device_create', 'device_register', 'vfio_mdev_probe', 'mtty_create', 'mdev_create_sysfs_files',
      'mdev_device_remove', 'mtty_remove', 'mdev_remove_sysfs_files', 'device_unregister', 'vfio_del_group_dev', 'mdev_device_release',
    ]);
    const m = milestones('mdev-v5.0', keep);
    assert.deepEqual(m.create, ['mdev_device_create', 'device_register', 'vfio_mdev_probe', 'mtty_create', 'mdev_create_sysfs_files']);
    assert.deepEqual(m.remove, ['mdev_device_remove', 'mtty_remove', 'mdev_remove_sysfs_files', 'device_unregister', 'vfio_del_group_dev', 'mdev_device_release']);
  });

  test('v5.2: vendor create before device_add; remove is sysfs, device_del (wait for fds), vendor remove, put', () => {
    const keep = new Set([
      'mdev_device_create', 'mtty_create', 'device_add', 'vfio_mdev_probe', 'mdev_create_sysfs_files',
      'mdev_device_remove', 'mdev_remove_sysfs_files', 'device_del', 'vfio_del_group_dev', 'mtty_remove', 'mdev_device_release',
    ]);
    const m = milestones('mdev-v5.2', keep);
    assert.deepEqual(m.create, ['mdev_device_create', 'mtty_create', 'device_add', 'vfio_mdev_probe', 'mdev_create_sysfs_files']);
    assert.deepEqual(m.remove, ['mdev_device_remove', 'mdev_remove_sysfs_files', 'device_del', 'vfio_del_group_dev', 'mtty_remove', 'mdev_device_release']);
  });

  test('v6: device_add unbound, then the vendor driver attached builds its state in probe; remove unregisters vfio inside the driver remove', () => {
    const keep = new Set([
      'mdev_device_create', 'device_add', 'device_driver_attach', 'mtty_probe', 'mtty_init_dev', 'vfio_register_emulated_iommu_dev', 'mdev_create_sysfs_files',
      'mdev_device_remove', 'mdev_remove_sysfs_files', 'device_del', 'mtty_remove', 'vfio_unregister_group_dev', 'mtty_release_dev', 'mdev_device_release',
    ]);
    const m = milestones('mdev-v6', keep);
    assert.deepEqual(m.create, ['mdev_device_create', 'device_add', 'device_driver_attach', 'mtty_probe', 'mtty_init_dev', 'vfio_register_emulated_iommu_dev', 'mdev_create_sysfs_files']);
    assert.deepEqual(m.remove, ['mdev_device_remove', 'mdev_remove_sysfs_files', 'device_del', 'mtty_remove', 'vfio_unregister_group_dev', 'mtty_release_dev', 'mdev_device_release']);
  });
});
