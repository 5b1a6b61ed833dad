// The mutators of coverage-guided search: each gives a program within the generator's bounds
// (2-4 CPUs, 1..MAX_OPS_PER_CPU operations: a drop may go below the generator's 2, arguments from the OpSpec domains), a normalized
// schedule over the program's CPUs, faults of the target's fallible calls; and each changes something.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { QueueEntry } from '../harness/guided/entry.js';
import { dropCpuFromSchedule, mutatePreemptions, normalize } from '../harness/guided/mutate-schedule.js';
import { MUTATORS, planFor } from '../harness/guided/plan.js';
import { capQueue } from '../harness/guided/queue.js';
import { executionPairs, KEY_OPTIONS } from '../harness/guided/keys.js';
import { entryPairs } from '../harness/guided/reads-from.js';
import { MAX_OPS_PER_CPU, MAX_PROGRAM_CPUS, MIN_PROGRAM_CPUS } from '../harness/engine/program.js';
import { faultsFor, programFor, runIndex } from '../harness/engine/runner.js';
import { makeRng } from '../harness/rng.js';
import type { Target } from '../harness/target.js';
import type { Fault, Program, Schedule } from '../harness/types.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
const cfg = { seed: 'mutators', strategy: 'pct' as const, depth: 3 };

/** Queue entries as a campaign makes them: fresh executions with their canonical schedules and reads-from pairs. */
const queue: QueueEntry[] = Array.from({ length: 40 }, (_, index) => {
  const r = runIndex(target, cfg, index, KEY_OPTIONS);
  const rf = entryPairs(executionPairs(r.execution), new Set());
  return { index, program: r.program, faults: r.faults, schedule: r.result.schedule, steps: r.result.steps, ...(rf.length > 0 ? { rf } : {}) };
});

function checkProgram(t: Target, p: Program): void {
  assert.ok(p.cpus.length >= MIN_PROGRAM_CPUS && p.cpus.length <= MAX_PROGRAM_CPUS, `${p.cpus.length} CPUs`);
  for (const ops of p.cpus) {
    assert.ok(ops.length >= 1 && ops.length <= MAX_OPS_PER_CPU, `${ops.length} operations`);
    for (const op of ops) {
      const spec = t.ops.find((s) => s.name === op.op);
      assert.ok(spec, `unknown op ${op.op}`);
      assert.deepEqual(Object.keys(op.args).sort(), Object.keys(spec.args).sort(), `arguments of ${op.op}`);
      for (const [name, v] of Object.entries(op.args)) assert.ok(spec.args[name]!.includes(v), `${op.op} ${name}=${v} out of its domain`);
    }
  }
}

function checkSchedule(s: Schedule, ncpus: number): void {
  for (const p of s) assert.ok(p.cpu >= 0 && p.cpu < ncpus && p.to >= 0 && p.to < ncpus && p.to !== p.cpu && p.step >= 0, JSON.stringify(p));
  assert.equal(new Set(s.map((p) => `${p.cpu}:${p.step}`)).size, s.length, 'one preemption per decision point');
}

function checkFaults(t: Target, f: readonly Fault[]): void {
  assert.ok(f.length <= 1);
  for (const x of f) assert.ok(t.faultCalls.includes(x.call) && x.nth >= 1, JSON.stringify(x));
}

describe('mutators', () => {
  for (const m of MUTATORS) {
    test(`${m.name}: valid programs, schedules and faults, and some change`, () => {
      let changed = 0;
      let applied = 0;
      for (let i = 0; i < 300; i++) {
        const rng = makeRng(`${m.name}:${i}`);
        const entry = queue[i % queue.length]!;
        const out = m.apply({ target, rng, entry, queue, faults: true });
        if (!out) continue;
        applied++;
        checkProgram(target, out.program);
        if (out.schedule) checkSchedule(out.schedule, out.program.cpus.length);
        checkFaults(target, out.faults);
        const same = JSON.stringify(out.program) === JSON.stringify(entry.program) && JSON.stringify(out.faults) === JSON.stringify(entry.faults);
        if (!same || JSON.stringify(out.schedule) !== JSON.stringify(entry.schedule)) changed++;
        // A mutation is plain data, and it runs.
        assert.deepEqual(JSON.parse(JSON.stringify(out)), out);
      }
      assert.ok(applied > 100, `${m.name} applied ${applied} times out of 300`);
      assert.ok(changed > applied / 2, `${m.name} changed ${changed} of ${applied}`);
    });
  }

  test('a plan draws every mutator, and fresh executions exactly as unguided', () => {
    const sources = new Map<string, number>();
    for (let i = 0; i < 600; i++) {
      const plan = planFor(target, cfg, i, queue);
      sources.set(plan.source, (sources.get(plan.source) ?? 0) + 1);
      checkProgram(target, plan.program);
      if (plan.source === 'fresh') {
        assert.deepEqual(plan.program, programFor(target, cfg.seed, i));
        assert.deepEqual(plan.faults, faultsFor(target, cfg.seed, i));
        assert.equal(plan.schedule, undefined);
      }
    }
    for (const m of ['fresh', ...MUTATORS.map((x) => x.name)]) assert.ok((sources.get(m) ?? 0) > 0, `${m} never drawn: ${JSON.stringify([...sources])}`);
    assert.deepEqual(planFor(target, cfg, 7, queue), planFor(target, cfg, 7, queue), 'the same index draws the same plan');
    assert.equal(planFor(target, cfg, 7, []).source, 'fresh', 'an empty queue gives fresh executions only');
  });
});

describe('schedule helpers and the cap', () => {
  test('adding, moving and dropping preemptions stay within the CPUs', () => {
    const rng = makeRng('preempt');
    let s: Schedule = [];
    for (let i = 0; i < 200; i++) {
      s = mutatePreemptions(rng, s, 3, 60);
      checkSchedule(s, 3);
      assert.deepEqual(s, normalize(s), 'sorted by (cpu, step)');
    }
  });

  test('dropping a CPU drops its preemptions and renumbers the CPUs above it', () => {
    const s: Schedule = [{ cpu: 0, step: 2, to: 1 }, { cpu: 1, step: 1, to: 2 }, { cpu: 2, step: 3, to: 0 }, { cpu: 2, step: 5, to: 1 }];
    assert.deepEqual(dropCpuFromSchedule(s, 1), [{ cpu: 1, step: 3, to: 0 }]);
  });

  test('the cap keeps the newest half, then the smallest older entries (the earliest on a tie), in index order', () => {
    const e = (index: number, ops: number): QueueEntry => ({ index, program: { cpus: [Array.from({ length: ops }, () => ({ op: 'x', args: {} }))] }, faults: [], schedule: [], steps: 1 });
    const kept = capQueue([e(0, 3), e(1, 1), e(2, 2), e(3, 1), e(4, 2), e(5, 4), e(6, 4), e(7, 9)], 5);
    assert.deepEqual(kept.map((x) => x.index), [1, 2, 3, 6, 7]);
  });
});
