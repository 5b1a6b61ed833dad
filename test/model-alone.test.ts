// The throughput benchmark's "model alone" (bench/model-alone.ts): stepping the recorded runs along
// their CPUs is the engine's execution again, step for step and finding for finding, minus what
// only the engine adds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driveRun, recordModelRuns, stepModelAlone } from '../bench/model-alone.js';
import { profileFor } from '../harness/engine/profile-run.js';
import { runIndex, strategyAt, type CampaignConfig } from '../harness/engine/runner.js';
import type { Finding } from '../harness/types.js';
import { findTarget } from '../targets/index.js';

const EXECS = 60;

/** Findings only the executor makes: no runnable CPU left, or the step budget spent. */
const EXECUTOR_KINDS = new Set(['hung-task', 'livelock']);
const titles = (fs: readonly Finding[]): string[] => fs.filter((f) => !EXECUTOR_KINDS.has(f.kind)).map((f) => f.title).sort();

for (const [name, strategy] of [
  ['mdev-v5.0', 'pct'],
  ['mdev-v6', 'race'],
] as const) {
  test(`${name} under ${strategy}: the model alone takes each execution's steps and makes its findings`, () => {
    const target = findTarget(name)!;
    const cfg: CampaignConfig = { seed: 'model-alone', strategy, depth: 3 };
    const runs = recordModelRuns(target, cfg, 0, EXECS);
    const buffer = new SharedArrayBuffer(target.layout.words * 4);
    let r = 0;
    let expectedSteps = 0;
    let found = 0;
    for (let i = 0; i < EXECS; i++) {
      const { program, faults, result } = runIndex(target, cfg, i);
      const profile = profileFor(strategyAt(target, cfg, i), target, program, faults)!;
      for (const length of profile.runs ? profile.runs.map((p) => p.length) : [profile.length]) {
        const run = runs[r++]!;
        assert.equal(run.teardown, false, 'a profiling run has no teardown');
        assert.equal(driveRun(target, run, buffer).step, length, `steps of a profiling run of execution ${i}`);
        expectedSteps += length;
      }
      const run = runs[r++]!;
      assert.deepEqual(run.program, program);
      const k = driveRun(target, run, buffer);
      assert.equal(k.step, result.steps, `steps of execution ${i}`);
      assert.deepEqual(titles(k.findings), titles(result.findings), `findings of execution ${i}`);
      expectedSteps += result.steps;
      found += result.findings.length;
    }
    assert.equal(r, runs.length);
    assert.ok(found > 0, 'some executions found something');
    assert.ok(runs.some((run) => run.teardown) && runs.some((run, i) => !run.teardown && runs[i + 1]?.program !== run.program), 'executions both with and without a teardown run');
    assert.equal(stepModelAlone(target, runs), expectedSteps);
  });
}
