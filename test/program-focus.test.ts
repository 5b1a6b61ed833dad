// The generic generator's focus (harness/engine/program.ts, Target.focus): most arguments of a
// program take one value per name, so that its CPUs meet on the same device and vendor.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateProgram } from '../harness/engine/program.js';
import { execRng, makeRng } from '../harness/rng.js';
import type { Program } from '../harness/types.js';
import { mdevFocus, vendorModule } from '../targets/mdev/userspace.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;

/** A create on one CPU and an rmmod of its vendor's module on another: P4's operations. */
function createMeetsRmmod(p: Program): boolean {
  const ops = p.cpus.flatMap((list, cpu) => list.map((op) => ({ ...op, cpu })));
  return ops.some((c) => c.op === 'create' && ops.some((r) => r.op === 'rmmod' && r.cpu !== c.cpu && r.args['module'] === vendorModule(String(c.args['type']))));
}

describe('program focus', () => {
  test('an mdev focus is one type, its vendor module, a device and fd 0', () => {
    for (let i = 0; i < 50; i++) {
      const f = mdevFocus(makeRng(`focus-${i}`));
      assert.equal(f['module'], String(f['type']).split('-')[0]);
      assert.ok(f['uuid'] === 0 || f['uuid'] === 1);
      assert.equal(f['fd'], 0);
    }
  });

  test('focused programs hold a create and an rmmod of its vendor on another CPU far more often', () => {
    const share = (rate: number) => {
      let n = 0;
      for (let i = 0; i < 1000; i++) n += createMeetsRmmod(generateProgram(target, execRng('focus', i, 'program'), rate)) ? 1 : 0;
      return n;
    };
    const focused = share(0.75);
    const unfocused = share(0);
    assert.ok(focused > 1.5 * unfocused, `${focused} vs ${unfocused} of 1000`);
  });

  test('from mlx5_sf-first, the state that binds mlx5 sub-functions to mlx5_sf, programs focus on mlx5_core-sf; their shape is the same', () => {
    const mlx5Creates = (p: Program) => p.cpus.flat().filter((op) => op.op === 'create' && op.args['type'] === 'mlx5_core-sf').length;
    let fromBoot = 0;
    let fromMlx5 = 0;
    for (let i = 0; i < 300; i++) {
      const boot = generateProgram(target, execRng('start-focus', i, 'program'));
      const mlx5 = generateProgram(target, execRng('start-focus', i, 'program'), 0.75, 'mlx5_sf-first');
      assert.equal(mlx5.start, 'mlx5_sf-first');
      assert.equal(boot.start, undefined);
      assert.deepEqual(mlx5.cpus.map((ops) => ops.map((op) => op.op)), boot.cpus.map((ops) => ops.map((op) => op.op)));
      fromBoot += mlx5Creates(boot);
      fromMlx5 += mlx5Creates(mlx5);
    }
    assert.ok(fromMlx5 > 2.5 * fromBoot, `${fromMlx5} vs ${fromBoot} mlx5_core-sf creates in 300 programs`);
  });

  test('the same seed draws the same program, and a focus rate of 1 gives every argument its focus value', () => {
    const a = generateProgram(target, execRng('focus', 3, 'program'));
    const b = generateProgram(target, execRng('focus', 3, 'program'));
    assert.deepEqual(a, b);
    const all = generateProgram(target, execRng('focus', 4, 'program'), 1);
    const values = new Map<string, Set<unknown>>();
    for (const op of all.cpus.flat()) for (const [k, v] of Object.entries(op.args)) values.set(k, (values.get(k) ?? new Set()).add(v));
    for (const [k, v] of values) assert.equal(v.size, 1, `${k}: ${[...v].join(', ')}`);
  });
});
