// The throughput benchmark's ceiling (bench/ceiling.ts): the shape it steps is every generator step
// of an execution, the profiling runs' included.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measureShape, plan, stepCeiling, stepKfnMachinery } from '../bench/ceiling.js';
import { profileFor } from '../harness/engine/profile-run.js';
import { campaignFaults, programFor, strategyAt, type CampaignConfig } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
const EXECS = 20;

/** The steps of the profiling runs of executions 0..EXECS-1, summed as the strategy ran them. */
function profiledSteps(cfg: CampaignConfig): number {
  let steps = 0;
  for (let i = 0; i < EXECS; i++) {
    const profile = profileFor(strategyAt(target, cfg, i), target, programFor(target, cfg.seed, i), campaignFaults(target, cfg, i));
    if (profile) steps += profile.runs ? profile.runs.reduce((n, run) => n + run.length, 0) : profile.length;
  }
  return steps;
}

for (const strategy of ['pct', 'race'] as const) {
  test(`under ${strategy}, the shape counts the profiling runs' steps`, () => {
    const cfg: CampaignConfig = { seed: 'ceiling', strategy, depth: 3 };
    const shape = measureShape(target, cfg, 0, EXECS);
    assert.ok(shape.profileSteps > 0);
    assert.equal(shape.profileSteps * EXECS, profiledSteps(cfg));
    assert.ok(shape.steps > shape.profileSteps + shape.cpuSteps, 'the teardown adds steps');
  });
}

test('under random, which profiles nothing, the shape has no profiling steps, and the ceiling steps the shape', () => {
  const shape = measureShape(target, { seed: 'ceiling', strategy: 'random', depth: 3 }, 0, EXECS);
  assert.equal(shape.profileSteps, 0);
  const chains = plan(shape);
  assert.equal(stepCeiling(chains, 2), 2 * Math.round(shape.steps));
});

test('the kfn machinery steps the same plan as the ceiling', () => {
  const chains: [number, number][] = [
    [3, 2],
    [1, 4],
    [5, 1],
  ];
  assert.equal(stepKfnMachinery(target, chains, 3), 3 * 7);
  assert.equal(stepKfnMachinery(target, chains, 1), stepCeiling(chains, 1));
});
