// Label and concurrent-pair coverage: the same indices give the same coverage whatever the number
// of workers; a pair is counted only across a context switch; `mdevfuzz coverage` prints its table.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { byFunction, CoverageCounter, pairKey, topPairs } from '../harness/coverage/coverage.js';
import { runCampaign } from '../harness/engine/campaign.js';
import { miniTarget, prog, runWith } from './fixtures/mini.js';
import { cli } from './fixtures/cli.js';


const kit = miniTarget({
  name: 'coverage-kit',
  pools: [],
  ops: {
    *two(k) {
      yield k.at('x');
      yield k.at('y');
      return 0;
    },
    *one(k) {
      yield k.at('z');
      return 0;
    },
  },
});


describe('concurrent pairs', () => {
  const program = prog(['two'], ['one']);

  test('a pair appears only where a context switch happened', () => {
    const plain = runWith(kit, program, [], { labels: true, pairs: true });
    assert.deepEqual(plain.result.trace!.map(([, l]) => l), ['two:x', 'two:y', 'do_exit', 'one:z', 'do_exit']);
    assert.deepEqual([...plain.pairs!], [], 'a CPU that exits is not switched out');

    const switched = runWith(kit, program, [{ cpu: 0, step: 1, to: 1 }], { labels: true, pairs: true });
    assert.deepEqual(switched.result.trace!.map(([c, l]) => `${c}:${l}`), ['0:two:x', '1:one:z', '1:do_exit', '0:two:y', '0:do_exit']);
    assert.deepEqual([...switched.pairs!], [[pairKey('two:x', 'one:z'), 1]]);
    assert.deepEqual([...switched.result.labels!].sort(), ['do_exit', 'one:z', 'two:x', 'two:y']);
  });

  test('nothing is collected when not asked', () => {
    const e = runWith(kit, program, [{ cpu: 0, step: 1, to: 1 }]);
    assert.equal(e.pairs, undefined);
    assert.equal(e.result.labels, undefined);
  });

  test('counts sum, sorted by label, with top pairs and labels per function', () => {
    const c = new CoverageCounter();
    c.addExecution(['b:1', 'a:1'], new Map([[pairKey('a:1', 'b:1'), 2]]));
    c.add({ labels: [{ label: 'a:2', count: 1 }, { label: 'a:1', count: 3 }], pairs: [{ out: 'a:1', in: 'b:1', count: 1 }, { out: 'b:1', in: 'a:2', count: 1 }], transitions: [] });
    const cov = c.toJSON();
    assert.deepEqual(cov.labels, [{ label: 'a:1', count: 4 }, { label: 'a:2', count: 1 }, { label: 'b:1', count: 1 }]);
    assert.deepEqual(topPairs(cov, 1), [{ out: 'a:1', in: 'b:1', count: 3 }]);
    assert.deepEqual(byFunction(cov), [{ fn: 'a', labels: 2 }, { fn: 'b', labels: 1 }]);
  });

  test('a batch’s coverage packed for the main thread adds back to the same counts and first indices', () => {
    const batch = new CoverageCounter();
    batch.addExecution(['b:1', 'a:1'], new Map([[pairKey('a:1', 'b:1'), 2]]), ['mdev\nadded\ncreate\nbound'], 7);
    batch.addExecution(['a:1'], undefined, ['mdev\nadded\ncreate\nbound', 'fd\nnone\nopen\nopen'], 3);
    const main = new CoverageCounter();
    main.addExecution(['a:1'], new Map([[pairKey('a:1', 'b:1'), 1]]), ['fd\nnone\nopen\nopen'], 5);
    const expected = new CoverageCounter();
    expected.add(main.toJSON());
    expected.add(batch.toJSON());
    main.addPacked(batch.pack());
    assert.deepEqual(main.toJSON(), expected.toJSON());
    assert.deepEqual(main.toJSON().transitions.map((t) => [t.kind, t.count, t.first]), [['fd', 2, 3], ['mdev', 2, 3]]);
    // Nothing reached packs to nothing.
    const empty = new CoverageCounter();
    empty.addPacked(new CoverageCounter().pack());
    assert.deepEqual(empty.toJSON(), { labels: [], pairs: [], transitions: [] });
  });
});

describe('campaign coverage', () => {
  test('the same --execs give identical coverage inline, with 1 and with 2 workers', async () => {
    const run = (workers: number) =>
      runCampaign({ target: { name: 'mdev-v5.0' }, seed: 'cov', strategy: 'pct', depth: 3, execs: 600, batchSize: 100, workers, coverage: true });
    const [inline, one, two] = [await run(0), await run(1), await run(2)];
    assert.ok(inline.coverage!.labels.length > 20 && inline.coverage!.pairs.length > 20, 'a campaign reaches labels and pairs');
    assert.deepEqual(one.coverage, inline.coverage);
    assert.deepEqual(two.coverage, inline.coverage);
    assert.equal(JSON.stringify(JSON.parse(JSON.stringify(two.coverage))), JSON.stringify(two.coverage), 'plain JSON');
  });

  test('a campaign without the flag has no coverage', async () => {
    const r = await runCampaign({ target: { name: 'mdev-v5.0' }, seed: 'cov', strategy: 'pct', depth: 3, execs: 50, workers: 0 });
    assert.equal(r.coverage, undefined);
  });
});

describe('mdevfuzz coverage', () => {
  test('prints the table', async () => {
    const r = await cli(['coverage', '--target', 'mdev-v6', '--execs', '300', '--workers', '0', '--seed', 'c']);
    assert.equal(r.code, 0, r.stderr);
    for (const s of ['coverage of mdev-v6: seed c, 300 executions', 'labels reached:', 'concurrent pairs reached:', 'switched out', 'labels reached per kernel function:', 'mdev_device_create']) {
      assert.ok(r.stdout.includes(s), `stdout has '${s}':\n${r.stdout}`);
    }
    const json = await cli(['coverage', '--target', 'mdev-v6', '--execs', '300', '--workers', '0', '--seed', 'c', '--json']);
    const report = JSON.parse(json.stdout) as { labelsReached: number; coverage: { labels: unknown[] } };
    assert.equal(report.labelsReached, report.coverage.labels.length);
    assert.ok(r.stdout.includes(`labels reached:            ${report.labelsReached}`));
  });

  for (const args of [['--target', 'mdev-v6', '--bogus'], ['--target', 'mdev-v6', '--execs', '0'], ['--target', 'nope', '--execs', '5'], ['--execs', '5']]) {
    test(`exits 2 with one line on ${args.join(' ')}`, async () => {
      const r = await cli(['coverage', ...args]);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/);
    });
  }
});
