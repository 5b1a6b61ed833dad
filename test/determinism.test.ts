import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runIndex } from '../harness/engine/runner.js';
import { batchSizeOf, DEFAULT_BATCH, runCampaign } from '../harness/engine/campaign.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
const cfg = { seed: 'determinism', strategy: 'pct' as const, depth: 3 };

test('same seed and index give the same trace and the same final buffer, byte for byte', () => {
  for (const index of [0, 1, 7, 42, 99]) {
    const a = runIndex(target, cfg, index, { trace: true });
    const b = runIndex(target, cfg, index, { trace: true });
    assert.ok(a.result.trace!.length > 10, 'the execution ran');
    assert.equal(JSON.stringify(a.result.trace), JSON.stringify(b.result.trace));
    assert.deepEqual(a.result.findings, b.result.findings);
    assert.deepEqual(Buffer.from(a.execution.kernel.sab), Buffer.from(b.execution.kernel.sab));
  }
});

test('different indices give different programs or schedules', () => {
  const traces = new Set<string>();
  for (let i = 0; i < 20; i++) traces.add(JSON.stringify(runIndex(target, cfg, i, { trace: true }).result.trace));
  assert.ok(traces.size > 15, `only ${traces.size} distinct traces out of 20`);
});

test('--execs 5000 gives identical findings inline, with 1 worker and with 2 workers', async () => {
  const run = (workers: number) =>
    runCampaign({ target: { name: 'mdev-v5.0' }, seed: '1', strategy: 'pct', depth: 3, execs: 5000, workers });
  const [inline, one, two] = [await run(0), await run(1), await run(2)];
  const view = (r: Awaited<ReturnType<typeof run>>) => r.findings.map((f) => ({ title: f.title, index: f.index, hits: f.hits }));
  assert.equal(inline.executions, 5000);
  assert.ok(inline.findings.length >= 3, 'the campaign found something to compare');
  assert.deepEqual(view(one), view(inline));
  assert.deepEqual(view(two), view(inline));
  assert.equal(two.steps, inline.steps);
});

test('batches of DEFAULT_BATCH executions, but at least two per worker in a range; a given size is kept', async () => {
  assert.equal(batchSizeOf(Number.MAX_SAFE_INTEGER, 2), DEFAULT_BATCH); // a time-boxed campaign
  assert.equal(batchSizeOf(1000, 2), 250); // a guided epoch on 2 workers
  assert.equal(batchSizeOf(3, 4), 1);
  assert.equal(batchSizeOf(20_000, 2, 100), 100);
  // And the batch size changes nothing: 1,200 executions in batches of 500 (the last one 200) and of 100.
  const run = (batchSize?: number) => runCampaign({ target: { name: 'mdev-v5.0' }, seed: 'batches', strategy: 'race', depth: 3, execs: 1200, workers: 0, coverage: true, batchSize });
  const [big, small] = [await run(), await run(100)];
  assert.equal(big.executions, 1200);
  assert.ok(big.findings.length >= 3, 'the campaign found something to compare');
  assert.deepEqual(big.findings.map((f) => [f.title, f.index, f.hits]), small.findings.map((f) => [f.title, f.index, f.hits]));
  assert.deepEqual(big.coverage, small.coverage);
});
