// Each oracle fires on a small hand-made race and stays silent on its fixed twin under the same
// schedule (test/fixtures/twins.ts). The buggy twin also stays silent without the preemption, so
// each finding is the race's and not the code's alone.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EBUSY } from '../harness/kernel/kernfs.js';
import type { FindingKind } from '../harness/types.js';
import { assertCuts, prog, rets, runWith, schedule, titles, type Cut } from './fixtures/mini.js';
import { buggy, fixed } from './fixtures/twins.js';

interface Scenario {
  kind: FindingKind;
  title: string;
  cpus: string[][];
  cuts: Cut[];
  /** False when the bug shows in any order (lockdep reports the orders, not a deadlock). */
  race?: boolean;
  /** Further checks of the buggy run's finding or of the fixed run. */
  detail?: string[];
  fixedRets?: number[][];
}

const scenarios: Scenario[] = [
  {
    kind: 'use-after-free',
    title: 'KASAN: use-after-free Read in reader',
    cpus: [['reader'], ['freer']],
    cuts: [{ cpu: 0, step: 3, to: 1, at: 'reader:p->val' }],
    detail: ['The buggy address belongs to an object of type obj', 'Allocated at setup:victim', 'Freed at freer:kfree'],
  },
  {
    kind: 'null-deref',
    title: 'BUG: kernel NULL pointer dereference in use',
    cpus: [['publish'], ['use']],
    cuts: [{ cpu: 0, step: 0, to: 1, at: '' }],
    fixedRets: [[0], [-19]],
  },
  {
    kind: 'unloaded-module',
    title: 'BUG: unable to handle page fault in call',
    cpus: [['call'], ['rmmod']],
    cuts: [{ cpu: 0, step: 2, to: 1, at: 'call:mod->ops' }],
    detail: ['call calls vend_ops->call in module vend, which has been unloaded'],
    fixedRets: [[0], [-EBUSY]],
  },
  {
    kind: 'leak',
    title: 'memory leak: obj',
    cpus: [['init'], ['init']],
    cuts: [{ cpu: 0, step: 3, to: 1, at: 'init:kzalloc' }],
    detail: ['unreferenced after teardown: 1 x obj'],
  },
  {
    kind: 'sysfs-warn',
    title: 'WARNING in sysfs_create_file_ns',
    cpus: [['add_file'], ['del_dir']],
    cuts: [{ cpu: 0, step: 3, to: 1, at: 'add_file:sysfs_create_file_ns' }],
  },
  {
    kind: 'invariant',
    title: 'invariant: one owner in enter',
    cpus: [['enter'], ['enter']],
    cuts: [
      { cpu: 0, step: 3, to: 1, at: 'enter:g->owner = current' },
      { cpu: 1, step: 4, to: 0, at: 'enter:critical section' },
    ],
  },
  {
    kind: 'lockdep',
    title: 'WARNING: possible circular locking dependency detected in second',
    cpus: [['ab'], ['second']],
    cuts: [],
    race: false,
    detail: ['cpu1 takes a while holding b'],
  },
  {
    kind: 'refcount',
    title: 'refcount_t: underflow; use-after-free in drop',
    cpus: [['drop'], ['drop']],
    cuts: [{ cpu: 0, step: 3, to: 1, at: 'drop:g->released = 1' }],
  },
];

for (const s of scenarios) {
  describe(`${s.kind} oracle`, () => {
    const program = prog(...s.cpus);

    test(`fires on the race: ${s.title}`, () => {
      const { result } = runWith(buggy, program, schedule(s.cuts));
      assertCuts(result.trace!, s.cuts);
      assert.deepEqual(titles(result), [s.title]);
      const f = result.findings[0]!;
      assert.equal(f.kind, s.kind);
      for (const line of s.detail ?? []) assert.ok(f.detail.some((d) => d.startsWith(line)), `no '${line}' in\n${f.detail.join('\n')}`);
    });

    test('is silent on the fixed twin under the same schedule', () => {
      const { result } = runWith(fixed, program, schedule(s.cuts));
      // The fix is exercised: the first preemption lands in the same window.
      assertCuts(result.trace!, s.cuts.slice(0, 1));
      assert.deepEqual(result.findings, []);
      assert.deepEqual(rets(result, 2), s.fixedRets ?? [[0], [0]]);
    });

    if (s.race !== false) {
      test('is silent on the buggy twin without the preemption', () => {
        const { result } = runWith(buggy, program, []);
        assert.deepEqual(result.findings, []);
        assert.equal(rets(result, 2).flat().length, 2, 'both operations returned');
      });
    } else {
      test('needs no overlap: fires without any preemption', () => {
        const { result } = runWith(buggy, program, []);
        assert.deepEqual(titles(result), [s.title]);
      });
    }
  });
}
