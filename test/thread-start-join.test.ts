// Thread start and join (harness/kernel/thread.ts): a CPU named in a target's `threads` runs
// nothing before another CPU starts it, thread_join returns only after the joined CPU exited, a
// thread never started is no hang while a join of one is, and misuse is a target error or a
// clear error from defineTarget.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineStruct, defineTarget, makeRng, replay, run, thread_join, thread_start, type Kernel, type TargetSpec } from '../harness/api.js';

const shared = defineStruct('shared', ['x', 'y']);
const theShared = (k: Kernel) => k.nth(shared, 0);

/** main publishes x, starts the worker, joins it (unless `join` is false) and reads what it wrote; the worker checks x. */
function pair(extra: Partial<TargetSpec> = {}, join = true) {
  return defineTarget({
    name: 'pair',
    pools: [{ def: shared, capacity: 1 }],
    *setup(k) {
      k.alloc(shared, 'shared_init');
    },
    ops: {
      *main(k) {
        const s = theShared(k);
        yield k.at('x = 1');
        k.set(s, 'x', 1);
        yield* thread_start(k, 1);
        if (join) yield* thread_join(k, 1);
        yield k.at('read y');
        if (k.get(s, 'y') !== 2) k.warn('invariant', 'WARNING: main read y before the worker wrote it');
      },
      *worker(k) {
        const s = theShared(k);
        yield k.at('read x');
        if (k.get(s, 'x') !== 1) k.warn('invariant', 'WARNING: worker ran before it was started');
        yield k.at('y = 2');
        k.set(s, 'y', 2);
      },
      *idle(k) {
        yield k.at('idle');
      },
    },
    program: [['main'], ['worker']],
    threads: [1],
    ...extra,
  });
}

describe('start and join', () => {
  test('a thread starts only when started, and join waits for its exit: 400 executions, no warning', async () => {
    const r = await run({ target: pair(), seed: 'threads', execs: 400 });
    assert.deepEqual(r.findings.map((f) => f.title), []);
  });

  test('without the join the early read is found (the search reaches the window)', async () => {
    const r = await run({ target: pair({}, false), seed: 'threads', execs: 400 });
    assert.deepEqual(r.findings.map((f) => f.title), ['WARNING: main read y before the worker wrote it']);
  });

  test('without threads the worker runs from the start and is found early', async () => {
    const r = await run({ target: pair({ threads: undefined }), seed: 'threads', execs: 400 });
    assert.ok(r.findings.some((f) => f.title === 'WARNING: worker ran before it was started'), r.findings.map((f) => f.title).join('\n'));
  });

  test('a preemption to a thread not yet started does not run it; the same schedule gives the same trace', () => {
    const t = pair();
    const p = t.generate!(makeRng('0'));
    const schedule = [{ cpu: 0, step: 0, to: 1 }];
    const a = replay(t, p, [], schedule);
    assert.deepEqual(a.findings, []);
    assert.deepEqual(a.schedule, [], 'cpu1 was not runnable: the preemption never took effect');
    const ops = (a.events ?? []).filter((e) => e.e === 'op').map((e) => (e as { cpu: number }).cpu);
    assert.deepEqual(ops, [0, 1], 'main began before the worker');
    assert.deepEqual(replay(t, p, [], schedule).events, a.events);
  });
});

describe('threads that never start', () => {
  test('a thread never started is not a hang; it runs nothing', () => {
    const t = pair({ program: [['idle'], ['worker']] });
    const r = replay(t, t.generate!(makeRng('0')));
    assert.deepEqual(r.findings, []);
    assert.ok(!(r.events ?? []).some((e) => e.e === 'op' && e.cpu === 1));
  });

  test('joining a thread never started is a hung task in the joiner', () => {
    const t = defineTarget({
      name: 'join-unstarted',
      pools: [{ def: shared, capacity: 1 }],
      ops: {
        *main(k) {
          yield* thread_join(k, 1);
        },
        *worker(k) {
          yield k.at('work');
        },
      },
      program: [['main'], ['worker']],
      threads: [1],
    });
    const r = replay(t, t.generate!(makeRng('0')));
    assert.deepEqual(r.findings.map((f) => [f.kind, f.title]), [['hung-task', 'INFO: task hung in main']]);
  });

  test('starting a thread twice is a target error', () => {
    const t = defineTarget({
      name: 'start-twice',
      pools: [{ def: shared, capacity: 1 }],
      ops: {
        *main(k) {
          yield* thread_start(k, 1);
          yield* thread_start(k, 1);
        },
        *worker(k) {
          yield k.at('work');
        },
      },
      program: [['main'], ['worker']],
      threads: [1],
    });
    const r = replay(t, t.generate!(makeRng('0')));
    assert.equal(r.findings[0]?.kind, 'target-error');
    assert.match(r.findings[0]!.title, /thread_start\(cpu1\): cpu1 is not a thread waiting to start/);
  });
});

test('defineTarget checks threads against the fixed program', () => {
  const base = { name: 't', pools: [{ def: shared, capacity: 1 }], ops: { *a(k: Kernel) { yield k.at('a'); } } };
  assert.throws(() => defineTarget({ ...base, threads: [1] }), /threads name CPUs of a fixed program; give program too/);
  assert.throws(() => defineTarget({ ...base, program: [['a'], ['a']], threads: [2] }), /thread 2 is not a CPU of its program \(0 to 1\)/);
  assert.throws(() => defineTarget({ ...base, program: [['a'], ['a']], threads: [0, 1] }), /every CPU is a thread/);
  assert.deepEqual(defineTarget({ ...base, program: [['a'], ['a'], ['a']], threads: [2, 1, 2] }).threads, [1, 2]);
});
