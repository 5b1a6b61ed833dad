// The five problems of the 2019 thread on the bundled mdev-v5.0 model, each from a hand-written
// program and an explicit canonical schedule. Every cut names the label its CPU is stopped at, so
// a change of the model that moves a window fails here with the label it now finds instead.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findTarget } from '../targets/index.js';
import type { ExecResult } from '../harness/types.js';
import { ENODEV } from '../harness/kernel/kernfs.js';
import { assertCuts, findingTitled, op, resolveCuts, rets, runWith, schedule, titles } from './fixtures/mini.js';
import { problemProgram, SEED_PROBLEMS as problems } from './fixtures/seed-problems.js';

const target = findTarget('mdev-v5.0')!;
const create = (type: string, uuid: number) => op('create', { type, uuid });
const insmod = (module: string) => op('insmod', { module });


describe('mdev-v5.0 seed problems', () => {
  for (const p of problems) {
    const program = problemProgram(p);

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
        assert.deepEqual(rets(result, p.cpus.length), p.serialRets, 'the create never returned');
      });
    }

    test(`${p.id} is a known expectation of the target`, () => {
      const e = target.expectations.find((x) => x.title === p.title);
      assert.equal(e?.status, 'known');
    });
  }

  test('P3 needs mlx5_sf registered before vfio_mdev: from the default start state vfio_mdev binds the sub-function, created cleanly', () => {
    const { result } = runWith(target, { cpus: [[create('mlx5_core-sf', 0)]] }, []);
    assert.deepEqual(result.findings, []);
    assert.deepEqual(rets(result, 1), [[0]]);
    // mlx5_sf loaded after vfio_mdev: vfio_mdev, first on the bus, binds and mlx5_sf never probes.
    const late = runWith(target, { cpus: [[insmod('mlx5_sf'), create('mlx5_core-sf', 0)]] }, []).result;
    assert.deepEqual(late.findings, []);
    assert.deepEqual(rets(late, 1), [[0, 0]]);
    const probes = labelsOf(late).filter((l) => l.startsWith('mlx5_sf_probe:') || l.startsWith('vfio_add_group_dev'));
    assert.ok(probes.some((l) => l.startsWith('vfio_add_group_dev')), 'vfio_mdev_probe ran');
    assert.ok(!probes.some((l) => l.startsWith('mlx5_sf_probe:')), 'mlx5_sf_probe did not run');
  });
});

/** The labels of an execution's steps, in order. */
function labelsOf(result: ExecResult): string[] {
  return (result.trace ?? []).map(([, label]) => label);
}

describe('mdev-v5.0 start states and the bus without .match (D7)', () => {
  test('the target declares its start states, the default first', () => {
    assert.deepEqual(target.startStates, ['boot', 'mlx5_sf-first', 'no-vendors', 'no-modules']);
  });

  test('the bus binds the first registered driver whose probe succeeds, whatever the mdev', () => {
    // mlx5_sf registered first: it is offered the mtty mdev too, rejects it (-ENODEV), and vfio_mdev binds it.
    const mtty = runWith(target, { start: 'mlx5_sf-first', cpus: [[create('mtty-1', 0), op('open', { uuid: 0 })]] }, []).result;
    assert.deepEqual(titles(mtty), []);
    assert.deepEqual(rets(mtty, 1), [[0, 0]], 'the mtty mdev is bound to vfio_mdev and opens');
    const probes = (mtty.events ?? []).flatMap((e) => (e.e === 'exit' && (e.fn === 'mlx5_sf_probe' || e.fn === 'vfio_mdev_probe') ? [`${e.fn} ${e.ret}`] : []));
    assert.deepEqual(probes, [`mlx5_sf_probe ${-ENODEV}`, 'vfio_mdev_probe 0'], 'mlx5_sf is offered the device first and rejects it');
    // vfio_mdev not loaded: mlx5_sf, the only driver, binds the sub-function before its create (P3).
    const alone = runWith(target, { start: 'no-modules', cpus: [[insmod('mlx5_core'), insmod('mlx5_sf'), create('mlx5_core-sf', 0)]] }, []).result;
    assert.equal(findingTitled(alone, 'BUG: kernel NULL pointer dereference in mlx5_sf_probe').kind, 'null-deref');
    // vfio_mdev not loaded and no other driver: the mtty mdev stays unbound, and cannot be opened.
    const unbound = runWith(target, { start: 'no-modules', cpus: [[insmod('mtty'), create('mtty-1', 0), op('open', { uuid: 0 })]] }, []).result;
    assert.deepEqual(titles(unbound), []);
    assert.equal(rets(unbound, 1)[0]![1], 0, 'created');
    assert.ok(rets(unbound, 1)[0]![2]! < 0, 'an unbound mdev has no vfio device to open');
  });

  test('from a start state without vendor modules, two first registrations race', () => {
    const program = { start: 'no-vendors', cpus: [[insmod('mtty')], [insmod('vfio_ap')]] };
    // CPU0 is preempted in the first mdev_register_device, about to create the mdev_bus compat
    // class (mdev_core.c 200-206) under parent_list_lock; CPU1's registration runs up to that lock.
    const cuts = resolveCuts(target, program, [{ cpu: 0, to: 1, at: 'mdev_register_device:class_compat_register' }]);
    const { result } = runWith(target, program, schedule(cuts));
    assertCuts(result.trace!, cuts);
    assert.deepEqual(titles(result), []);
    assert.deepEqual(rets(result, 2), [[0], [0]], 'both first registrations succeed');
    const steps = result.trace!.map(([c, l]) => `${c} ${l}`);
    const waits = steps.indexOf('1 mdev_register_device:mutex_lock(parent_list_lock)');
    const done0 = steps.indexOf('0 mdev_register_device:class_compat_create_link');
    assert.ok(waits > 0 && done0 > waits, 'CPU1 reaches parent_list_lock while CPU0 registers the first parent');
    // From the default start state both modules are loaded already: no first registration to race.
    const loaded = runWith(target, { cpus: program.cpus }, []).result;
    assert.ok(rets(loaded, 2).flat().every((r) => r < 0), 'insmod of a loaded module fails');
  });

  test('an unknown start state is refused', () => {
    assert.throws(() => runWith(target, { start: 'nowhere', cpus: [[create('mtty-1', 0)]] }, []), /no start state 'nowhere'/);
  });
});
