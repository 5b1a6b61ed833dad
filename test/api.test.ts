// The public entry (harness/api.ts): defineTarget's defaults and fixed programs, and run, replay
// and minimize as a test suite would call them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineStruct, defineTarget, minimize, mutex_lock, mutex_unlock, replay, run, type Kernel, type TargetSpec } from '../harness/api.js';
import { makeRng } from '../harness/rng.js';

const locks = defineStruct('locks', ['a', 'b', 'spare']);
const theLocks = (k: Kernel) => k.nth(locks, 0);

const spec = {
  name: 'api-abba',
  pools: [{ def: locks, capacity: 1 }],
  *setup(k) {
    k.alloc(locks, 'setup');
  },
  ops: {
    *ab(k) {
      yield* mutex_lock(k, theLocks(k), 'a');
      yield* mutex_lock(k, theLocks(k), 'b');
      yield* mutex_unlock(k, theLocks(k), 'b');
      yield* mutex_unlock(k, theLocks(k), 'a');
    },
    ba: {
      weight: 3,
      args: { n: [1, 2] },
      *run(k, args) {
        yield* mutex_lock(k, theLocks(k), 'b');
        yield* mutex_lock(k, theLocks(k), 'a');
        yield* mutex_unlock(k, theLocks(k), 'a');
        yield* mutex_unlock(k, theLocks(k), 'b');
        return Number(args.n);
      },
    },
    *idle(k) {
      yield k.at('idle');
    },
  },
} satisfies TargetSpec;

/** Programs drawn by the harness. */
const abba = defineTarget(spec);
/** One fixed program of three CPUs. */
const fixed = defineTarget({ ...spec, program: [['idle', 'ab'], ['idle', { op: 'ba', args: { n: 2 } }], ['idle']] });

const LOCKDEP = 'WARNING: possible circular locking dependency detected in ba';
const HUNG = /^INFO: task hung in (ab|ba)$/;

describe('defineTarget', () => {
  test('fills the parts a target leaves out, and keeps what it gives', () => {
    assert.equal(abba.description, 'plug-in target api-abba');
    assert.deepEqual([abba.invariants, abba.expectations, abba.faultCalls], [[], [], []]);
    assert.deepEqual(abba.ops, [
      { name: 'ab', weight: 1, args: {} },
      { name: 'ba', weight: 3, args: { n: [1, 2] } },
      { name: 'idle', weight: 1, args: {} },
    ]);
    assert.equal(abba.startStates, undefined);
    assert.equal(abba.generate, undefined);
  });

  test('a fixed program becomes generate, a fresh copy each time', () => {
    const p = fixed.generate!(makeRng('x'));
    assert.deepEqual(p.cpus.map((ops) => ops.map((o) => o.op)), [['idle', 'ab'], ['idle', 'ba'], ['idle']]);
    p.cpus[1]![1]!.args.n = 7;
    assert.equal(fixed.generate!(makeRng('y')).cpus[1]![1]!.args.n, 2);
  });

  test('a program naming an op the target lacks is refused', () => {
    assert.throws(() => defineTarget({ name: 'bad', pools: [], ops: { a: function* () {} }, program: [['b']] }), /runs 'b', which is not one of its ops/);
  });
});

describe('run, replay, minimize', () => {
  test('run finds the inversion and returns a repro of each finding that replay reproduces', async () => {
    const r = await run({ target: abba, seed: 'api', execs: 200 });
    assert.equal(r.executions, 200);
    const titles = r.findings.map((f) => f.title);
    assert.ok(titles.includes(LOCKDEP), titles.join('\n'));
    assert.ok(titles.some((t) => HUNG.test(t)), titles.join('\n'));
    for (const f of r.findings) {
      const again = replay(abba, f.repro!.program, f.repro!.faults, f.repro!.schedule);
      assert.ok(again.findings.some((x) => x.title === f.title), `${f.title} on replay`);
      assert.match(again.ladder, /CPU0 +CPU1/);
    }
  });

  test('the same seed and budget give the same findings', async () => {
    const a = await run({ target: abba, seed: 'same', execs: 100 });
    const b = await run({ target: abba, seed: 'same', execs: 100 });
    assert.deepEqual(a.findings, b.findings);
  });

  test('the fixed program runs every execution: each finding replays with its three CPUs', async () => {
    const r = await run({ target: fixed, seed: 'api', execs: 100 });
    assert.ok(r.findings.some((f) => f.title === LOCKDEP), r.findings.map((f) => f.title).join('\n'));
    for (const f of r.findings) assert.equal(f.repro!.program.cpus.length, 3, f.title);
  });

  test('minimize drops operations and CPUs the deadlock does not need', async () => {
    const r = await run({ target: abba, seed: 'api', execs: 200 });
    const hang = r.findings.find((f) => HUNG.test(f.title))!;
    const m = minimize(abba, hang.repro!, hang.title);
    assert.deepEqual(m.repro.program.cpus.map((ops) => ops.map((o) => o.op)).sort(), [['ab'], ['ba']]);
    assert.ok(m.stats.after.ops < m.stats.before.ops, JSON.stringify(m.stats));
    assert.match(m.ladder, new RegExp(`\\^\\^\\^ ${hang.title}`));
  });

  test('a target object runs inline only: asking for workers is refused', async () => {
    await assert.rejects(run({ target: abba, execs: 10, workers: 2 }), /runs inline only/);
  });
});
