// The cheap paths of the executor (issue 17): a length-only profiling run (PCT's) records no trace
// and shares one buffer, yet gives the length and per-CPU step counts of the serial run in CPU
// order; labels and call steps are built once and handed out again with the same text.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execute } from '../harness/engine/inline/inline.js';
import { FORWARD, profileFor, serialStrategy } from '../harness/engine/profile-run.js';
import { programFor, runIndex } from '../harness/engine/runner.js';
import { callStep, Kernel } from '../harness/kernel/kernel.js';
import { execRng } from '../harness/rng.js';
import { makeStrategy } from '../harness/sched/index.js';
import { findTarget } from '../targets/index.js';

const mdev = findTarget('mdev-v5.0')!;

describe('length-only profiling runs', () => {
  test('give the length and the per-CPU steps of the serial run in CPU order, run after run', () => {
    for (let i = 0; i < 40; i++) {
      const program = programFor(mdev, 'profile-run', i);
      const traced = execute(mdev, program, serialStrategy(program, FORWARD), execRng('profile', 0, 'schedule'), { profiling: true, trace: true }).result;
      const perCpu = program.cpus.map((_, c) => traced.trace!.filter(([cpu]) => cpu === c).length);
      // Twice: the second run reuses the buffer the first one left behind.
      for (let again = 0; again < 2; again++) {
        const p = profileFor(makeStrategy('pct', 3), mdev, program)!;
        assert.equal(p.length, traced.steps, `index ${i}`);
        assert.deepEqual(
          p.cpus.map((s) => s.length),
          perCpu,
          `index ${i}`,
        );
        assert.ok(p.cpus.every((s) => s.every((a) => a.length === 0)), 'a length-only profile records no accesses');
      }
    }
  });

  test('an execution gives the steps of each CPU, summing to its steps', () => {
    for (let i = 0; i < 20; i++) {
      const { execution, result } = runIndex(mdev, { seed: 'cpu-steps', strategy: 'pct', depth: 3 }, i, { trace: true });
      assert.deepEqual(
        execution.cpuSteps,
        execution.cpuSteps!.map((_, c) => result.trace!.filter(([cpu]) => cpu === c).length),
      );
      assert.equal(execution.cpuSteps!.reduce((a, b) => a + b, 0), result.steps);
    }
  });
});

describe('labels built once', () => {
  test('callStep and at() return one string per call and argument, with the text they always had', () => {
    const s = callStep('mutex_lock', 'mdev_list_lock');
    assert.equal(s, 'mutex_lock(mdev_list_lock)');
    assert.equal(callStep('mutex_lock', 'mdev_list_lock'), s);
    assert.notEqual(callStep('mutex_lock', 'parent_list_lock'), s);
    const k = new Kernel(mdev.layout, new SharedArrayBuffer(mdev.layout.words * 4), { ncpus: 1 });
    assert.equal(k.at('x'), 'cpu_idle:x');
    k.enter('mdev_device_create');
    assert.equal(k.at(s), 'mdev_device_create:mutex_lock(mdev_list_lock)');
    assert.equal(k.at('type->parent'), 'mdev_device_create:type->parent');
    k.exit('mdev_device_create', 0);
    assert.equal(k.at('x'), 'cpu_idle:x');
  });
});
