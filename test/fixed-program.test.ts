// A fixed program per test (Target.fixedProgram, set by defineTarget's `program` or declared with
// `fixedProgram: true` beside a `generate`): every execution runs it, the minimizer keeps its shape
// (CPUs, operations, arguments, CPU order) and shrinks only the schedule and faults, and guided
// search mutates only schedules and faults. The same program drawn without the declaration is
// minimized to fewer CPUs, so the shape kept is the declaration's doing.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defineStruct, defineTarget, makeRng, minimize, run, type Kernel, type Program, type Target } from '../harness/api.js';
import { keepsShape } from '../harness/target.js';
import { planFor } from '../harness/guided/plan.js';

const counter = defineStruct('counter', ['n']);
const LOST = 'WARNING: lost update in check';

const spec = {
  name: 'counter',
  pools: [{ def: counter, capacity: 1 }],
  *setup(k: Kernel) {
    k.alloc(counter, 'counter_init');
  },
  ops: {
    // A read-modify-write in two steps: two incs interleaved lose one.
    *inc(k: Kernel) {
      const c = k.nth(counter, 0);
      yield k.at('tmp = n');
      const tmp = k.get(c, 'n');
      yield k.at('n = tmp + 1');
      k.set(c, 'n', tmp + 1);
    },
    *noise(k: Kernel) {
      yield k.at('noise');
    },
    *check(k: Kernel) {
      yield k.at('n == 2?');
      if (k.get(k.nth(counter, 0), 'n') === 1) k.warn('invariant', LOST);
    },
  },
};
// CPU 1 checks after its own inc (n is 2 unless CPU 0's inc was cut in two); CPU 2 does nothing that matters.
const PROGRAM = [['inc'], ['inc', 'check'], ['noise', 'noise']];
const shape = (p: Program): string[][] => p.cpus.map((ops) => ops.map((o) => o.op));

describe('the minimizer keeps a fixed program', () => {
  const fixed = defineTarget({ ...spec, program: PROGRAM });
  const drawnSame = defineTarget({ ...spec, name: 'counter-drawn', generate: () => fixed.generate!(makeRng('0')) });
  const declared = defineTarget({ ...spec, name: 'counter-declared', generate: () => fixed.generate!(makeRng('0')), fixedProgram: true });

  test('program and fixedProgram: true declare it; a generate alone does not', () => {
    assert.equal(fixed.fixedProgram, true);
    assert.equal(declared.fixedProgram, true);
    assert.equal(drawnSame.fixedProgram, undefined);
    assert.throws(() => defineTarget({ ...spec, fixedProgram: true }), /fixedProgram needs program or generate/);
  });

  for (const target of [fixed, declared]) {
    test(`${target.name}: found, minimized with every CPU and operation kept, the schedule no longer`, async () => {
      const r = await run({ target, seed: 'fixed', execs: 300 });
      const lost = r.findings.find((f) => f.title === LOST);
      assert.ok(lost, r.findings.map((f) => f.title).join('\n'));
      assert.deepEqual(shape(lost.repro!.program), PROGRAM);
      const m = minimize(target, lost.repro!, LOST);
      assert.deepEqual(shape(m.repro.program), PROGRAM, 'the fixed shape');
      assert.ok(m.repro.schedule.length <= lost.repro!.schedule.length);
      assert.ok(m.repro.schedule.length >= 1, 'a lost update needs a preemption');
      assert.deepEqual(m.stats.stages.map((s) => s.name), ['defaultStart', 'dropFaults', 'dropPreemptions', 'normalizeSchedule']);
    });
  }

  test('a target with threads keeps its shape too (its threads are CPU indices), declared fixed or not', async () => {
    const threaded: Target = { ...drawnSame, name: 'counter-threaded', threads: [2] }; // CPU 2 never starts: it only idles
    assert.equal(keepsShape(threaded), true);
    assert.equal(keepsShape(drawnSame), false);
    const r = await run({ target: threaded, seed: 'fixed', execs: 300 });
    const lost = r.findings.find((f) => f.title === LOST)!;
    const m = minimize(threaded, lost.repro!, LOST);
    assert.deepEqual(shape(m.repro.program), PROGRAM);
  });

  test('the same program, not declared fixed, loses its idle CPU', async () => {
    const r = await run({ target: drawnSame, seed: 'fixed', execs: 300 });
    const lost = r.findings.find((f) => f.title === LOST)!;
    const m = minimize(drawnSame, lost.repro!, LOST);
    assert.ok(m.repro.program.cpus.length < PROGRAM.length, JSON.stringify(shape(m.repro.program)));
  });
});

test('guided search mutates only the schedule and faults of a fixed program', () => {
  const target = defineTarget({ ...spec, program: PROGRAM });
  const program = target.generate!(makeRng('0'));
  const queue = [{ index: 0, program, faults: [], schedule: [{ cpu: 0, step: 1, to: 1 }], steps: 9 }];
  const cfg = { seed: 'g', strategy: 'pct' as const, depth: 3, guide: 'on' as never };
  let mutated = 0;
  for (let i = 0; i < 300; i++) {
    const plan = planFor(target, cfg, i, queue);
    assert.deepEqual(shape(plan.program), PROGRAM, `${plan.source} at ${i}`);
    if (plan.source !== 'fresh') mutated++;
  }
  assert.ok(mutated > 100, `${mutated} mutated plans`);
});
