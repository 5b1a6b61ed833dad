// `--guide coverage` on the command line: a guided run saves entries that replay exactly (also
// those a mutated execution found, which its seed and index alone do not rebuild); the flag's
// choices and what it cannot be combined with are one clear line and exit 2.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { programFor } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';
import { cli } from './fixtures/cli.js';

const target = findTarget('mdev-v5.0')!;
const SEED = 'guided-cli';
let tmp: string;
let summary: { guide: string; findings: { signature: string; execIndex: number; corpusFile: string | null }[]; results: { guide?: { mutated: number } }[] };
let entries: { file: string; entry: CorpusEntry }[];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-guided-cli-'));
  const r = await cli(['run', '--target', 'mdev-v5.0', '--guide', 'coverage', '--seed', SEED, '--execs', '3000', '--workers', '0',
    '--no-minimize', '--corpus', path.join(tmp, 'corpus'), '--results', path.join(tmp, 'results'), '--json']);
  assert.ok(r.code === 0 || r.code === 1, r.stderr); // 1 if something is neither expected nor in the (empty) corpus
  summary = JSON.parse(r.stdout) as typeof summary;
  const dir = path.join(tmp, 'corpus', 'mdev-v5.0');
  entries = readdirSync(dir).map((n) => ({ file: path.join(dir, n), entry: parseEntry(readFileSync(path.join(dir, n), 'utf8'), n) }));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mdevfuzz run --guide coverage', () => {
  test('the summary says it was guided, and how many executions were mutations', () => {
    assert.equal(summary.guide, 'coverage');
    assert.ok(summary.results[0]!.guide!.mutated > 0);
    assert.equal(entries.length, summary.findings.length, 'every finding saved');
  });

  test('an entry found by a mutated execution replays with mdevfuzz replay, and the whole corpus checks', async () => {
    const mutant = entries.find(({ entry }) => JSON.stringify(entry.program) !== JSON.stringify(programFor(target, SEED, entry.index)));
    assert.ok(mutant, 'some entry was found by a mutated execution');
    const r = await cli(['replay', mutant.file, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const check = await cli(['corpus', 'check', path.join(tmp, 'corpus')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
  });
});

describe('bad combinations', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown mode', ['run', '--target', 'mdev-v5.0', '--guide', 'afl', '--execs', '5'], /--guide/],
    ['shards', ['run', '--target', 'mdev-v5.0', '--guide', 'coverage', '--execs', '10', '--shard', '0/2'], /cannot be sharded/],
    ['the threads engine', ['run', '--target', 'mdev-v5.0', '--guide', 'coverage', '--execs', '5', '--engine', 'threads'], /inline engine/],
    ['coverage, an unknown mode', ['coverage', '--target', 'mdev-v5.0', '--guide', 'yes', '--execs', '5'], /--guide/],
  ];
  for (const [name, args, why] of cases) {
    test(`${name}: one line, exit 2`, async () => {
      const dirs = args[0] === 'run' ? ['--results', path.join(tmp, 'bad'), '--corpus', path.join(tmp, 'bad-corpus')] : [];
      const r = await cli([...args, ...dirs]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/);
      assert.match(r.stderr, why);
    });
  }

  test('mdevfuzz coverage --guide coverage prints that it was guided', async () => {
    const r = await cli(['coverage', '--target', 'mdev-v5.0', '--guide', 'coverage', '--execs', '1200', '--workers', '0', '--seed', 'g']);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('coverage of mdev-v5.0: seed g, 1,200 executions'), r.stdout);
    assert.ok(r.stdout.includes('coverage-guided'));
  });
});
