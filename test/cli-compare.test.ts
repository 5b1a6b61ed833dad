// `mdevfuzz compare` on two targets with a fixed seed and number of executions.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { CompareSummary } from '../harness/cli/compare.js';
import { runCampaign } from '../harness/engine/campaign.js';
import { findTarget } from '../targets/index.js';
import { cli } from './fixtures/cli.js';
import { DEFAULT_STRATEGY } from '../harness/sched/index.js';

const TARGETS = ['mdev-v5.0', 'mdev-v6'];
const EXECS = 2000;


let tmp: string;
let out: { code: number | null; stdout: string; stderr: string };
let summary: CompareSummary;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-compare-'));
  out = await cli(['compare', '--targets', TARGETS.join(','), '--execs', String(EXECS), '--seed', '1', '--workers', '1'], { cwd: tmp });
  const runs = readdirSync(path.join(tmp, 'results'));
  assert.equal(runs.length, 1, out.stderr);
  summary = JSON.parse(readFileSync(path.join(tmp, 'results', runs[0]!, 'compare.json'), 'utf8')) as CompareSummary;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mdevfuzz compare', () => {
  test('prints one table: the five seed problems first, in order, then the other signatures sorted', () => {
    const seeds = findTarget('mdev-v5.0')!
      .expectations.filter((e) => e.problem !== undefined)
      .sort((a, b) => a.problem!.localeCompare(b.problem!))
      .map((e) => e.title);
    assert.equal(seeds.length, 5);
    const lines = out.stdout.split('\n');
    const header = lines.findIndex((l) => /^ +signature +mdev-v5\.0 +mdev-v6$/.test(l));
    assert.ok(header >= 0, out.stdout);
    const legend = lines.findIndex((l) => l.startsWith('  found @N: '));
    const rows = lines.slice(header + 1, legend).filter((l) => l !== '');
    const signatures = summary.rows.map((r) => r.signature);
    assert.deepEqual(signatures.slice(0, 5), seeds);
    assert.deepEqual(signatures.slice(5), [...signatures.slice(5)].sort());
    assert.equal(rows.length, summary.rows.length);
    summary.rows.forEach((r, i) => {
      const cells = TARGETS.map((t) => r.cells[t]!);
      const text = cells.map((c) => (c.found ? `found @${c.firstIndex}${c.unexpected ? ' !' : ''}` : '-'));
      assert.match(rows[i]!, new RegExp(`^  ${r.signature.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +${text.join(' +')}$`));
    });
  });

  test('marks exactly the findings that are not in their target\'s expectations, and exits 1 when there is one', () => {
    let unexpected = 0;
    for (const r of summary.rows) {
      for (const t of TARGETS) {
        const c = r.cells[t]!;
        const listed = findTarget(t)!.expectations.some((e) => e.title === r.signature);
        assert.equal(c.unexpected, c.found && !listed, `${t}: ${r.signature}`);
        if (c.unexpected) unexpected++;
      }
    }
    assert.equal(summary.unexpected, unexpected);
    assert.equal(out.code, unexpected > 0 ? 1 : 0, out.stderr);
  });

  test('runs each target on the same campaign as run would, and prints executions and exec/s per target', async () => {
    assert.deepEqual(summary.runs.map((r) => [r.target, r.executions]), TARGETS.map((t) => [t, EXECS]));
    for (const t of TARGETS) assert.match(out.stdout, new RegExp(`^  ${t.replace('.', '\\.')}: 2,000 executions in \\S+ \\([\\d,]+ exec/s\\)$`, 'm'));
    const alone = await runCampaign({ target: { name: 'mdev-v6' }, seed: '1', strategy: DEFAULT_STRATEGY, depth: 3, execs: EXECS, workers: 0 });
    const found = summary.rows.filter((r) => r.cells['mdev-v6']!.found).map((r) => [r.signature, r.cells['mdev-v6']!.firstIndex]);
    assert.deepEqual(found.sort(), alone.findings.map((f) => [f.title, f.index]).sort());
  });

  test('writes no corpus', () => {
    assert.deepEqual(readdirSync(tmp), ['results']);
    assert.equal(existsSync(path.join(tmp, 'corpus')), false);
  });

  test('bad arguments: one line on stderr, exit 2', async () => {
    const cases = [
      ['compare'],
      ['compare', '--targets', 'mdev-v5.0,no-such-target', '--execs', '10'],
      ['compare', '--targets', '', '--execs', '10'],
      ['compare', '--targets', 'mdev-v5.0,,mdev-v6', '--execs', '10'],
      ['compare', '--targets', 'mdev-v5.0,mdev-v5.0', '--execs', '10'],
      ['compare', '--targets', 'mdev-v5.0', '--execs', '10', '--time', '1s'],
      ['compare', '--targets', 'mdev-v5.0', '--execs', 'lots'],
    ];
    const results = await Promise.all(cases.map((args) => cli(args, { cwd: tmp })));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, `${cases[i]!.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/, cases[i]!.join(' '));
      assert.equal(r.stdout, '', cases[i]!.join(' '));
    });
    assert.deepEqual(readdirSync(path.join(tmp, 'results')).length, 1, 'nothing written on a usage error');
  });
});
