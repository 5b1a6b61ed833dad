// The inline executor (harness/engine/inline/inline.ts) and the strategies (harness/sched): budget and
// hang oracles, exact replay of the canonical schedule, its robustness to deleting a CPU's
// operations, determinism of the strategies for a given PRNG seed, and the teardown memo of verify.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execute } from '../harness/engine/inline/inline.js';
import { TeardownMemo } from '../harness/engine/inline/teardown-memo.js';
import { programFor, replayExecution, runIndex } from '../harness/engine/runner.js';
import type { Kernel } from '../harness/kernel/kernel.js';
import { defineStruct } from '../harness/kernel/layout.js';
import { mutex_lock, mutex_unlock } from '../harness/kernel/sync.js';
import { makeRng } from '../harness/rng.js';
import { makeStrategy, STRATEGIES } from '../harness/sched/index.js';
import type { Program, Schedule, TraceStep } from '../harness/types.js';
import { findTarget, TARGETS } from '../targets/index.js';
import { miniTarget, op, prog, resolveCuts, rets, runWith, titles } from './fixtures/mini.js';

const mdev = findTarget('mdev-v5.0')!;

const globals = defineStruct('globals', ['a', 'b']);
const g = (k: Kernel) => k.nth(globals, 0);

const kit = miniTarget({
  name: 'engine-kit',
  pools: [{ def: globals, capacity: 1 }],
  *setup(k) {
    k.alloc(globals, 'setup');
  },
  ops: {
    *spin(k) {
      for (;;) yield k.at('cpu_relax');
    },
    *boom(k) {
      yield k.at('before');
      throw new Error('boom');
    },
    *ab(k) {
      yield* mutex_lock(k, g(k), 'a');
      yield* mutex_lock(k, g(k), 'b');
      yield* mutex_unlock(k, g(k), 'b');
      yield* mutex_unlock(k, g(k), 'a');
      return 0;
    },
    *ba(k) {
      yield* mutex_lock(k, g(k), 'b');
      yield* mutex_lock(k, g(k), 'a');
      yield* mutex_unlock(k, g(k), 'a');
      yield* mutex_unlock(k, g(k), 'b');
      return 0;
    },
  },
});

describe('executor oracles', () => {
  test('an operation that yields forever is a livelock at the step budget, and execute returns', () => {
    const { result } = runWith(kit, prog(['spin'], ['ab']), [], { maxSteps: 50 });
    assert.deepEqual(titles(result), ['livelock: step budget exceeded in spin']);
    assert.equal(result.findings[0]!.kind, 'livelock');
    assert.equal(result.steps, 50);
    assert.equal(result.trace!.length, 50);
  });

  test('a JavaScript exception in target code is a target-error finding with its stack, and execute returns', () => {
    const { result } = runWith(kit, prog(['boom'], ['ab']));
    assert.deepEqual(titles(result), ['target error: Error: boom in boom']);
    assert.equal(result.findings[0]!.kind, 'target-error');
    assert.ok(result.findings[0]!.detail.some((l) => l.startsWith('at ')), result.findings[0]!.detail.join('\n'));
    assert.equal(result.findings[0]!.cpu, 0);
    assert.ok(result.findings[0]!.detail.some((l) => l.includes('boom')), result.findings[0]!.detail.join('\n'));
  });

  test('two CPUs each waiting for the other is a hung task, and execute returns', () => {
    // cpu0 holds a and is about to take b; cpu1 takes b and waits for a; cpu0 then waits for b.
    const { result } = runWith(kit, prog(['ab'], ['ba']), [{ cpu: 0, step: 2, to: 1 }]);
    const hung = result.findings.find((f) => f.kind === 'hung-task');
    assert.ok(hung, JSON.stringify(result.findings));
    assert.equal(hung.title, 'INFO: task hung in ab');
    assert.ok(hung.detail.includes('cpu0 blocked in ab'), hung.detail.join('\n'));
    assert.ok(hung.detail.includes('cpu1 blocked in ba'), hung.detail.join('\n'));
    assert.deepEqual(rets(result, 2), [[], []], 'neither operation returned');
    // The same program without the preemption runs to the end.
    const { result: serial } = runWith(kit, prog(['ab'], ['ba']));
    assert.equal(serial.findings.some((f) => f.kind === 'hung-task'), false);
    assert.deepEqual(rets(serial, 2), [[0], [0]]);
  });
});

describe('canonical schedule', () => {
  const sameTrace = (a: readonly TraceStep[] | undefined, b: readonly TraceStep[] | undefined): boolean =>
    JSON.stringify(a) === JSON.stringify(b);

  for (const strategy of STRATEGIES) {
    test(`executions of mdev-v5.0 under ${strategy} replay to the identical trace from their schedule`, () => {
      const cfg = { seed: `canonical-${strategy}`, strategy, depth: 3 };
      let preempted = 0;
      let found = 0;
      for (let i = 0; i < 100; i++) {
        const run = runIndex(mdev, cfg, i, { trace: true });
        const again = replayExecution(mdev, run.program, run.faults, run.result.schedule, { trace: true }).result;
        assert.ok(sameTrace(again.trace, run.result.trace), `index ${i}: the replay diverged`);
        assert.deepEqual(titles(again), titles(run.result), `index ${i}`);
        assert.deepEqual(again.schedule, run.result.schedule, `index ${i}: the replay records the schedule it was given`);
        if (run.result.schedule.length > 0) preempted++;
        if (run.result.findings.length > 0) found++;
      }
      // Not vacuous: most executions have preemptions, and some find something.
      assert.ok(preempted >= 50, `only ${preempted} of 100 executions had a preemption`);
      assert.ok(found >= 1, 'no execution found anything');
    });
  }

  test('a schedule keyed by CPU and own step count survives deleting the operations of another CPU', () => {
    // P2 between cpu0 (remove) and cpu2 (create, open, ioctl); cpu1 runs first and does unrelated work.
    const withCpu1: Program = prog(
      [op('remove', { uuid: 0 })],
      [op('create', { type: 'mtty-2', uuid: 1 }), op('open', { uuid: 1 })],
      [op('create', { type: 'mtty-1', uuid: 0 }), op('open', { uuid: 0 }), op('ioctl', { fd: 0 })],
    );
    const withoutCpu1: Program = { cpus: [withCpu1.cpus[0]!, [], withCpu1.cpus[2]!] };
    // cpu1 first; then cpu2 stopped inside mtty_ioctl, between mdev_get_drvdata and the use.
    const schedule: Schedule = resolveCuts(mdev, withCpu1, [
      { cpu: 0, to: 1, at: null },
      { cpu: 2, to: 0, at: 'mtty_ioctl:copy_from_user' },
    ]).map(({ cpu, step, to }) => ({ cpu, step, to }));
    const cut = schedule[1]!.step;
    const a = runWith(mdev, withCpu1, schedule).result;
    const b = runWith(mdev, withoutCpu1, schedule).result;
    const cpu1Steps = (r: typeof a) => r.trace!.filter(([c]) => c === 1).length;
    assert.ok(cpu1Steps(a) > 20 && cpu1Steps(b) === 1, 'cpu1 did real work in one run and none in the other');
    const others = (r: typeof a) => r.trace!.filter(([c]) => c !== 1);
    assert.deepEqual(others(b), others(a), 'cpu0 and cpu2 interleave identically');
    assert.deepEqual(others(a)[cut - 1], [2, 'mtty_ioctl:copy_from_user']);
    for (const r of [a, b]) assert.ok(titles(r).includes('KASAN: use-after-free Write in mtty_ioctl'), JSON.stringify(titles(r)));
  });
});

describe('strategies', () => {
  for (const name of STRATEGIES) {
    test(`${name} makes the same choices for the same PRNG seed, and other choices for others`, () => {
      const traces = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const program = programFor(mdev, 'strategies', i);
        const run = (seed: string) => execute(mdev, program, makeStrategy(name, 3), makeRng(seed), { trace: true }).result;
        const a = run('seed-a');
        const b = run('seed-a');
        assert.deepEqual(b.trace, a.trace, `program ${i}`);
        assert.deepEqual(b.schedule, a.schedule, `program ${i}`);
        assert.deepEqual(b.findings, a.findings, `program ${i}`);
        traces.add(JSON.stringify(a.trace));
        for (const seed of ['seed-b', 'seed-c', 'seed-d']) traces.add(JSON.stringify(run(seed).trace));
      }
      // Four seeds over ten programs: the seed must change at least some of the interleavings.
      assert.ok(traces.size > 10, `the seed changed nothing: ${traces.size} distinct traces`);
    });
  }
});

describe('the teardown memo', () => {
  // A teardown that makes two fallible calls, and a leak check that reports when an op set `a`.
  const memoKit = miniTarget({
    name: 'memo-kit',
    pools: [{ def: globals, capacity: 1 }],
    *setup(k) {
      k.alloc(globals, 'setup');
    },
    ops: {
      *set(k) {
        yield k.at('set');
        k.set(g(k), 'a', 1);
        return 0;
      },
      *idle(k) {
        yield k.at('idle');
        return 0;
      },
      *leak(k) {
        yield k.at('leak');
        k.set(g(k), 'a', 1);
        k.warn('leak', 'memory leak: globals');
        return 0;
      },
    },
    *teardown(k) {
      yield 'teardown:kmalloc';
      k.shouldFail('kmalloc');
      k.shouldFail('kmalloc');
    },
    leakCheck(k) {
      if (k.get(g(k), 'a') === 1) k.warn('leak', 'memory leak: globals');
    },
  });
  const twice = (program: Program) => {
    const memo = new TeardownMemo();
    const runs = [0, 1].map(() => replayExecution(memoKit, program, [], [], { teardowns: memo }));
    return { memo, runs, plain: replayExecution(memoKit, program, [], []) };
  };

  test('a clean teardown from a state seen before is skipped, with the fault counts of one that runs', () => {
    const { memo, runs, plain } = twice(prog(['idle'], ['idle']));
    assert.equal(memo.hits, 1);
    assert.deepEqual([...plain.kernel.faultSites()], [['kmalloc', 2]]);
    for (const run of runs) {
      assert.deepEqual(run.result.findings, []);
      assert.deepEqual([...run.kernel.faultSites()], [['kmalloc', 2]]);
    }
  });

  test('a teardown that reported a new title is not skipped: the leak is reported by every run', () => {
    const { memo, runs, plain } = twice(prog(['set'], ['idle']));
    assert.equal(memo.hits, 0);
    assert.deepEqual(titles(plain.result), ['memory leak: globals']);
    for (const run of runs) assert.deepEqual(run.result.findings, plain.result.findings);
  });

  test('a teardown whose reports were all made already by the program is skipped', () => {
    const { memo, runs, plain } = twice(prog(['leak'], ['idle']));
    assert.equal(memo.hits, 1);
    assert.deepEqual(titles(plain.result), ['memory leak: globals']);
    for (const run of runs) {
      assert.deepEqual(run.result.findings, plain.result.findings);
      assert.deepEqual([...run.kernel.faultSites()], [...plain.kernel.faultSites()]);
    }
  });

  for (const target of TARGETS) {
    test(`on ${target.name} with coverage and faults, remembered teardowns give what running them gives`, () => {
      // The memo's key leaves out the state last seen of each object (teardown-memo.ts): were that
      // not the state the words give, some teardown replayed here would make other transitions.
      const memo = new TeardownMemo();
      const cfg = { seed: 'memo', strategy: 'pct', depth: 3 } as const;
      const cover = { labels: true, pairs: true, transitions: true };
      for (let i = 0; i < 300; i++) {
        const plain = runIndex(target, cfg, i, cover);
        const memoized = runIndex(target, cfg, i, { ...cover, teardowns: memo });
        assert.deepEqual(memoized.result, plain.result, `execution ${i}`);
        assert.deepEqual([...memoized.execution.transitions!].sort(), [...plain.execution.transitions!].sort(), `execution ${i}`);
        assert.deepEqual([...memoized.execution.kernel.faultSites()], [...plain.execution.kernel.faultSites()], `execution ${i}`);
      }
      assert.ok(memo.hits > 20, `${memo.hits} teardowns skipped`);
    });
  }

  test('the memo keeps at most its capacity, dropping the oldest', () => {
    const memo = new TeardownMemo(2);
    const cfg = { seed: 'memo', strategy: 'random', depth: 3 } as const;
    for (let i = 0; i < 20; i++) runIndex(mdev, cfg, i, { teardowns: memo });
    assert.equal(memo.size, 2);
  });
});
