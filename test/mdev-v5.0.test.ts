// The five problems of the 2019 thread on the bundled mdev-v5.0 model, each from a hand-written
// program and an explicit canonical schedule. Every cut names the label its CPU is stopped at, so
// a change of the model that moves a window fails here with the label it now finds instead.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findTarget } from '../targets/index.js';
import { assertCuts, findingTitled, op, resolveCuts, rets, runWith, schedule, titles } from './fixtures/mini.js';
import { SEED_PROBLEMS as problems } from './fixtures/seed-problems.js';

const target = findTarget('mdev-v5.0')!;
const create = (type: string, uuid: number) => op('create', { type, uuid });


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
