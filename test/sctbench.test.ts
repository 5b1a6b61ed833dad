// The SCTBench ports of bench/sctbench: fixed programs of up to 16 CPUs that every strategy must
// break on every seed, replayed exactly from what the campaign saved.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { replayExecution, runIndex } from '../harness/engine/runner.js';
import { STRATEGIES } from '../harness/sched/index.js';
import { SCTBENCH } from '../bench/sctbench/index.js';

const SEEDS = 10;
const BUDGET = 3000;

describe('SCTBench ports', () => {
  for (const { target, bug } of SCTBENCH) {
    test(`${target.name}: every strategy finds the assert on every seed, and its replay fails the same way`, () => {
      const cpus = target.generate!({ next: () => 0, int: () => 0, pick: (xs) => xs[0]! }).cpus.length;
      for (const strategy of STRATEGIES) {
        for (let k = 0; k < SEEDS; k++) {
          const cfg = { seed: `port-${k}`, strategy, depth: 3, faults: false };
          let i = 0;
          let hit: ReturnType<typeof runIndex> | undefined;
          for (; i < BUDGET && !hit; i++) {
            const x = runIndex(target, cfg, i, { trace: true });
            if (x.result.findings.some((f) => f.title === bug)) hit = x;
          }
          assert.ok(hit, `${strategy}, seed ${k}: no assert in ${BUDGET} executions`);
          assert.equal(hit.program.cpus.length, cpus);
          const again = replayExecution(target, hit.program, [], hit.result.schedule, { trace: true }).result;
          assert.deepEqual(again.trace, hit.result.trace, `${strategy}, seed ${k}: replay`);
        }
      }
    });
  }
});
