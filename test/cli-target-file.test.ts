// A target of the user's own, passed with --target-file: every hint the tool prints for it (the
// replay command of each finding, the repeat command of run and merge, the repro runs of coverage)
// names the file, since `--target NAME` cannot find it; and mdev's seed problems (P1-P5) stay out
// of its summary, report and compare table.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli } from './fixtures/cli.js';
import type { RunSummary } from '../harness/report/summary.js';
import type { CompareSummary } from '../harness/cli/compare.js';
import { seedProblems } from '../harness/cli/run.js';
import { defineTarget } from '../harness/define-target.js';
import { findTarget } from '../targets/index.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-target-file-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const API = pathToFileURL(fileURLToPath(new URL('../harness/api.js', import.meta.url))).href;
const TARGET = path.join(tmp, 'boxes.mjs');
const TITLE = 'WARNING: box dropped twice in drop';
// Two drops of the same box warn; a box's states are declared, its transitions not (so coverage reports them).
writeFileSync(
  TARGET,
  `import { defineStruct, defineTarget } from '${API}';
const box = defineStruct('box', ['dropped']);
export default defineTarget({
  name: 'boxes',
  pools: [{ def: box, capacity: 1 }],
  *setup(k) { k.alloc(box, 'setup'); },
  ops: {
    *drop(k) {
      const b = k.nth(box, 0);
      yield k.at('read dropped');
      if (k.get(b, 'dropped') === 1) k.warn('invariant', ${JSON.stringify(TITLE)});
      yield k.at('write dropped');
      k.set(b, 'dropped', 1);
    },
  },
  objects: [{ kind: 'box', structs: [box], states: ['held', 'dropped'], transitions: [], state: (k, b) => (k.get(b, 'dropped') ? 'dropped' : 'held') }],
});
`,
);

const quoted = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('every command that takes --target (or --targets) takes --target-file', async () => {
  for (const command of [['run'], ['replay'], ['minimize'], ['corpus', 'check'], ['compare'], ['coverage'], ['stress']]) {
    const help = await cli([...command, '--help']);
    assert.match(help.stdout, /--target-file <file>/, command.join(' '));
  }
});

describe('--target-file hints', () => {
  const results = path.join(tmp, 'results');
  const corpus = path.join(tmp, 'corpus');

  test('run: the replay command of a finding and the repeat command name the file', async () => {
    const r = await cli(['run', '--target-file', TARGET, '--seed', '1', '--execs', '50', '--workers', '0', '--results', results, '--corpus', corpus, '--run-id', 'a']);
    assert.notEqual(r.code, 2, r.stderr);
    const summary = JSON.parse(readFileSync(path.join(results, 'a', 'summary.json'), 'utf8')) as RunSummary;
    const f = summary.findings.find((x) => x.signature === TITLE);
    assert.ok(f?.corpusFile, JSON.stringify(summary.findings.map((x) => x.signature)));
    assert.equal(f.replay, `mdevfuzz replay ${f.corpusFile} --target-file ${TARGET} --ladder`);
    assert.equal(summary.results[0]!.targetFile, TARGET);
    assert.match(r.stdout, new RegExp(`replay: +mdevfuzz replay \\S+ --target-file ${quoted(TARGET)} --ladder`));
    assert.match(r.stdout, new RegExp(`repeat: +mdevfuzz run --target-file ${quoted(TARGET)} --seed 1 `));
  });

  test('merge: the replay commands and the repeat command still name the file', async () => {
    const r = await cli(['merge', 'm', path.join(results, 'a'), '--results', results]);
    assert.notEqual(r.code, 2, r.stderr);
    const summary = JSON.parse(readFileSync(path.join(results, 'm', 'summary.json'), 'utf8')) as RunSummary;
    const f = summary.findings.find((x) => x.signature === TITLE)!;
    assert.match(f.replay, new RegExp(`^mdevfuzz replay \\S+ --target-file ${quoted(TARGET)} --ladder$`));
    assert.match(r.stdout, new RegExp(`repeat: +mdevfuzz run --target-file ${quoted(TARGET)} --seed 1 `));
  });

  test('stress: the replay command names the file; no problem column for a target without seed problems', async () => {
    const r = await cli(['stress', '--target-file', TARGET, '--seed', '1', '--execs', '20', '--workers', '1', '--results', path.join(tmp, 'stress'), '--corpus', path.join(tmp, 'stress-corpus')]);
    assert.notEqual(r.code, 2, r.stderr);
    assert.match(r.stdout, new RegExp(`replay: +mdevfuzz replay \\S+ --target-file ${quoted(TARGET)} --ladder`));
    assert.match(r.stdout, /signature +hits +confirmed/);
    assert.doesNotMatch(r.stdout, /problem/);
  });

  test('coverage: the run that reaches an undeclared transition is given with the file', async () => {
    const r = await cli(['coverage', '--target-file', TARGET, '--seed', '1', '--execs', '20', '--workers', '0']);
    assert.equal(r.code, 1, `an undeclared transition exits 1\n${r.stderr}`);
    assert.match(r.stdout, /box: held --drop--> dropped/);
    assert.match(r.stdout, new RegExp(`first at index \\d+: mdevfuzz run --target-file ${quoted(TARGET)} --seed 1 --execs \\d+\\)`));
    assert.doesNotMatch(r.stdout, /--target boxes/);
  });
});

describe('seed problems only for targets that declare them', () => {
  const plain = defineTarget({ name: 'plain', pools: [], ops: { *nop() {} } });
  const declaring = defineTarget({ name: 'declaring', pools: [], ops: { *nop() {} }, expectations: [{ title: 'X', status: 'known', reason: 'r', problem: 'Q1' }] });

  test('a plug-in target has none; one that declares some has its own; a bundled one brings the five of the mdev family', () => {
    assert.deepEqual(seedProblems([plain]), []);
    assert.deepEqual(seedProblems([declaring]), [{ problem: 'Q1', title: 'X' }]);
    const mdev = seedProblems([findTarget('mdev-v6')!, plain]);
    assert.deepEqual(mdev.map((p) => p.problem), ['P1', 'P2', 'P3', 'P4', 'P5']);
  });

  // Reads the run of the first suite.
  test("a target file's run: no seed problems in the summary, no problem column or P1-P5 legend in report.html", () => {
    const dir = path.join(tmp, 'results', 'a');
    const summary = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(summary.seedProblems, []);
    const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.match(html, /<table id="compare-table">/);
    assert.doesNotMatch(html, /P1-P5|<td class="problem">/);
  });

  test('compare of a target file alone: its findings and no seed-problem rows', async () => {
    const r = await cli(['compare', '--target-file', TARGET, '--seed', '1', '--execs', '20', '--workers', '0', '--results', path.join(tmp, 'compare'), '--json']);
    assert.notEqual(r.code, 2, r.stderr);
    const c = JSON.parse(r.stdout) as CompareSummary;
    assert.deepEqual(c.rows.map((row) => [row.signature, row.seedProblem]), [[TITLE, false]]);
  });
});
