// The fast-check adapter of the vs-fast-check benchmark: the mdev-v5.0 model driven by
// fc.scheduler(). It finds a seed problem on a fixed seed, the same seed gives the same run, a
// process that waits on itself is the inline engine's hung task, and where there is no choice to
// make it steps exactly as the inline engine does.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { replayExecution } from '../harness/engine/runner.js';
import type { Program } from '../harness/types.js';
import { findTarget } from '../targets/index.js';
import { noProblem, runScheduled } from '../bench/fast-check-adapter.js';
import runTask from '../bench/vs-fast-check-worker.js';
import type { HuntResult } from '../bench/time-to-bug-worker.js';
import { SEED_PROBLEMS } from './fixtures/seed-problems.js';

const v50 = findTarget('mdev-v5.0')!;
const P3 = SEED_PROBLEMS.find((p) => p.id === 'P3')!;
const SEED = 2;

const check = (title: string) => fc.check(noProblem(v50, title), { seed: SEED, numRuns: 300 });

test('on a fixed seed, fast-check driving the model finds P3, and its shrunk counterexample replays it', async () => {
  const r = await check(P3.title);
  assert.equal(r.failed, true, 'P3 not found in 300 runs of seed 2');
  assert.match(String(r.errorInstance), /returning false/, 'the property threw instead of returning false');
  const [s, program] = r.counterexample!;
  const again = await runScheduled(v50, (s as unknown as { [fc.cloneMethod](): fc.Scheduler })[fc.cloneMethod](), program);
  assert.ok(again.findings.some((f) => f.title === P3.title), 'the counterexample does not show P3 again');
  assert.ok(program.cpus.flat().some((op) => op.op === 'create' && op.args.type === 'mlx5_core-sf'), 'P3 needs a create of an mlx5_core-sf device');
});

test('the same fast-check seed gives the same runs, counterexample and schedule', async () => {
  const a = await check(P3.title);
  const b = await check(P3.title);
  assert.equal(a.failed, true);
  assert.equal(a.numRuns, b.numRuns);
  assert.equal(a.numShrinks, b.numShrinks);
  assert.deepEqual(a.counterexample![1], b.counterexample![1]);
  assert.equal(String(a.counterexample![0]), String(b.counterexample![0]), 'the scheduler reports differ');
});

test("the benchmark's one pass per seed finds each title at the run where fc.check of its property fails", async () => {
  const titles = SEED_PROBLEMS.map((p) => p.title);
  const pass = (await runTask({ kind: 'fc-hunt', target: 'mdev-v5.0', seed: SEED, titles, budget: 300 })) as HuntResult;
  const w = titles.indexOf(P3.title);
  assert.ok(pass.found[w], 'the pass did not find P3');
  assert.equal(pass.found[w]!.execs, (await check(P3.title)).numRuns);
});

test('a process that removes the device it holds open hangs: the hung task of the inline engine', async () => {
  const program: Program = { cpus: [[{ op: 'create', args: { type: 'mtty-1', uuid: 0 } }, { op: 'open', args: { uuid: 0 } }, { op: 'remove', args: { uuid: 0 } }]] };
  const inline = replayExecution(v50, program, [], []).result;
  const ours = await fc.assert(
    fc.asyncProperty(fc.scheduler(), async (s) => {
      const run = await runScheduled(v50, s, program);
      assert.deepEqual(run.findings.map((f) => f.title), inline.findings.map((f) => f.title));
    }),
    { seed: SEED, numRuns: 3 },
  );
  assert.equal(ours, undefined);
  assert.ok(inline.findings.some((f) => f.title === 'INFO: task hung in vfio_del_group_dev'), 'the inline engine no longer reports this hang');
});

test('with one CPU (no choice to make) the adapter steps exactly as the inline engine', async () => {
  for (const cpus of [P3.cpus, [[{ op: 'create', args: { type: 'mtty-1', uuid: 1 } }, { op: 'read_attr', args: { uuid: 1 } }, { op: 'remove', args: { uuid: 1 } }]]]) {
    const program: Program = { cpus };
    const inline = replayExecution(v50, program, [], []).result;
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), async (s) => {
        const run = await runScheduled(v50, s, program);
        assert.equal(run.steps, inline.steps);
        assert.equal(run.preemptions, 0);
        assert.deepEqual(run.findings.map((f) => [f.kind, f.title]), inline.findings.map((f) => [f.kind, f.title]));
      }),
      { seed: SEED, numRuns: 2 },
    );
  }
});
