// A target of the user's own, passed with --target-file: every hint the tool prints for it (the
// replay command of each finding, the repeat command of run and merge, the repro runs of coverage)
// names the file, since `--target NAME` cannot find it.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cli } from './fixtures/cli.js';
import type { RunSummary } from '../harness/report/summary.js';

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

  test('coverage: the run that reaches an undeclared transition is given with the file', async () => {
    const r = await cli(['coverage', '--target-file', TARGET, '--seed', '1', '--execs', '20', '--workers', '0']);
    assert.equal(r.code, 1, `an undeclared transition exits 1\n${r.stderr}`);
    assert.match(r.stdout, /box: held --drop--> dropped/);
    assert.match(r.stdout, new RegExp(`first at index \\d+: mdevfuzz run --target-file ${quoted(TARGET)} --seed 1 --execs \\d+\\)`));
    assert.doesNotMatch(r.stdout, /--target boxes/);
  });
});
