// Coverage-guided search (--guide coverage): deterministic whatever the number of workers, its
// first epoch is the unguided campaign, and later epochs mutate a queue that grows from coverage.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCampaign, type CampaignResult } from '../harness/engine/campaign.js';
import { EPOCH, QUEUE_CAP } from '../harness/guided/queue.js';
import { FRESH_SHARE } from '../harness/guided/plan.js';
import { findingExecution } from '../harness/corpus/capture.js';
import { programFor } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
const cfg = { seed: 'guided-1', strategy: 'pct' as const, depth: 3 };
const run = (workers: number, execs: number, guide: 'off' | 'coverage' = 'coverage'): Promise<CampaignResult> =>
  runCampaign({ target: { name: target.name }, ...cfg, guide, execs, workers, batchSize: 100, coverage: true });
const view = (r: CampaignResult) => ({
  findings: r.findings.map((f) => ({ title: f.title, index: f.index, hits: f.hits, repro: f.repro })),
  coverage: r.coverage,
  keys: r.keys,
  guide: r.guide,
  steps: r.steps,
  executions: r.executions,
});

describe('guided campaign', () => {
  const execs = 3 * EPOCH;
  let inline: CampaignResult;

  test('the same seed and --execs give identical findings, hits, coverage and queue inline, with 1 and with 2 workers', async () => {
    inline = await run(0, execs);
    const [one, two] = [await run(1, execs), await run(2, execs)];
    assert.equal(inline.executions, execs);
    assert.ok(inline.findings.length >= 5, 'it found things to compare');
    assert.deepEqual(view(one), view(inline));
    assert.deepEqual(view(two), view(inline));
  });

  test('it mutates queue entries, the queue grows, and mutations find things', async () => {
    inline ??= await run(0, execs);
    const g = inline.guide!;
    assert.equal(g.epochs, 3);
    assert.ok(g.added > 0 && g.queue > 0 && g.queue <= QUEUE_CAP, JSON.stringify(g));
    // No queue in the first epoch; afterwards all but FRESH_SHARE of the executions are mutations.
    const share = g.mutated / (execs - EPOCH);
    assert.ok(Math.abs(share - (1 - FRESH_SHARE)) < 0.1, `${g.mutated} mutated`);
    const unguided = await run(0, execs, 'off');
    assert.notDeepEqual(view(inline).findings, view(unguided).findings, 'guidance changes what runs');
    // Every finding carries the repro of its first execution; a mutation's program is not its index's fresh one.
    assert.ok(inline.findings.every((f) => f.repro), 'every finding has its repro');
    const mutant = inline.findings.find((f) => JSON.stringify(f.repro!.program) !== JSON.stringify(programFor(target, cfg.seed, f.index)));
    assert.ok(mutant, 'some finding was first made by a mutated program');
    assert.ok(mutant.index >= EPOCH);
    const again = findingExecution(target, cfg, mutant);
    assert.ok(again.result.findings.some((f) => f.title === mutant.title), 'its repro replays it');
  });

  test('the first epoch, with an empty queue, is exactly the unguided campaign', async () => {
    const [g, u] = [await run(0, EPOCH), await run(0, EPOCH, 'off')];
    assert.equal(g.guide!.mutated, 0);
    assert.ok(g.findings.length > 0);
    assert.deepEqual(view(g).findings, view(u).findings);
    assert.deepEqual(g.coverage, u.coverage);
    assert.equal(g.steps, u.steps);
    assert.equal(u.guide, undefined);
  });

  test('every key reached is in the coverage, with its first index', async () => {
    inline ??= await run(0, execs);
    const keys = inline.keys!;
    assert.equal(keys.filter((k) => k.key.startsWith('label:')).length, inline.coverage!.labels.length);
    assert.equal(keys.filter((k) => k.key.startsWith('pair:')).length, inline.coverage!.pairs.length);
    assert.ok(keys.every((k, i) => i === 0 || keys[i - 1]!.index <= k.index), 'in the order first reached');
  });
});
