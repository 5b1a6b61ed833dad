// `mdevfuzz minimize FILE` on entries a short `run --no-minimize` wrote to a temp corpus.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { MinimizeReport } from '../harness/cli/minimize.js';
import { parseEntry, serializeEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { countOps } from '../harness/engine/program.js';
import { replayExecution } from '../harness/engine/runner.js';
import { renderLadder } from '../harness/report/ladder.js';
import { findTarget } from '../targets/index.js';
import { cli } from './fixtures/cli.js';



const target = findTarget('mdev-v5.0')!;
let tmp: string;
let files: string[];
const read = (file: string): CorpusEntry => parseEntry(readFileSync(file, 'utf8'), file);
const reproduces = (r: { program: CorpusEntry['program']; faults: CorpusEntry['faults']; schedule: CorpusEntry['schedule'] }, signature: string): boolean =>
  replayExecution(target, r.program, r.faults, r.schedule).result.findings.some((f) => f.title === signature);

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-minimize-'));
  const corpus = path.join(tmp, 'corpus');
  const r = await cli(['run', '--target', 'mdev-v5.0', '--seed', '1', '--execs', '1500', '--workers', '0', '--no-minimize', '--corpus', corpus, '--results', path.join(tmp, 'results'), '--json']);
  assert.notEqual(r.code, 2, r.stderr);
  const dir = path.join(corpus, 'mdev-v5.0');
  // The entries with the most operations: the most to shrink.
  files = readdirSync(dir).map((n) => path.join(dir, n)).sort((a, b) => countOps(read(b).program) - countOps(read(a).program) || a.localeCompare(b));
  assert.ok(files.length >= 3, `the run saved ${files.length} entries`);
  for (const f of files) assert.equal(read(f).minimized, null, '--no-minimize saves entries as found');
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mdevfuzz minimize', () => {
  test('stores a minimized repro no larger than the original that still replays, with its ladder, and keeps everything else', async () => {
    let shrank = 0;
    const chosen = files.slice(0, 3);
    const befores = chosen.map(read);
    const runs = await Promise.all(chosen.map((file) => cli(['minimize', file, '--json'])));
    for (const [i, file] of chosen.entries()) {
      const [before, r] = [befores[i]!, runs[i]!];
      assert.equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout) as MinimizeReport;
      const after = read(file);
      const m = after.minimized!;
      assert.ok(m, file);
      assert.deepEqual({ ...after, minimized: null, ladder: before.ladder }, before, 'only minimized and ladder change');
      assert.deepEqual(m.stats, { ...report.stats });
      assert.ok(m.program.cpus.length <= before.program.cpus.length);
      assert.ok(countOps(m.program) <= countOps(before.program));
      assert.ok(m.schedule.length <= before.schedule.length);
      assert.equal(report.stats!.after.ops, countOps(m.program));
      assert.ok(reproduces(m, after.signature), `${after.signature}: the minimized repro replays`);
      const { result } = replayExecution(target, m.program, m.faults, m.schedule, { events: true });
      assert.equal(after.ladder, renderLadder(result.events ?? [], m.program.cpus.length, { start: m.program.start }));
      if (countOps(m.program) < countOps(before.program)) shrank++;
    }
    assert.ok(shrank > 0, 'some entry got smaller');
  });

  test('prints a before/after table and the ladder', async () => {
    const r = await cli(['minimize', files[3] ?? files[0]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^minimized: /);
    assert.match(r.stdout, /^ +before +after$/m);
    for (const row of ['cpus', 'ops', 'preemptions', 'faults', 'steps']) assert.match(r.stdout, new RegExp(`^  ${row} +\\d+ +\\d+$`, 'm'));
    assert.match(r.stdout, /\^\^\^ /);
  });

  test('a budget too small for a fixed point still stores a repro that replays, marked exhausted', async () => {
    const file = files[0]!; // the most operations: far more than 1 ms of replays
    const r = await cli(['minimize', file, '--budget-ms', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = read(file).minimized!;
    assert.equal(m.stats.exhausted, true);
    assert.ok(reproduces(m, read(file).signature));
  });

  test('an entry that no longer reproduces exits 1 and is left byte for byte as it was', async () => {
    const needy = files.map(read).find((e) => e.schedule.length > 0 && !reproduces({ ...e, schedule: [] }, e.signature));
    assert.ok(needy, 'some entry needs its preemptions');
    const file = path.join(tmp, 'broken.json');
    writeFileSync(file, serializeEntry({ ...needy, schedule: [] }));
    const bytes = readFileSync(file);
    const r = await cli(['minimize', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^did NOT reproduce: /);
    assert.deepEqual(readFileSync(file), bytes);
  });

  test('a bad file or bad arguments: one line naming the problem, exit 2', async () => {
    const corrupt = path.join(tmp, 'corrupt.json');
    writeFileSync(corrupt, '{"schemaVersion": 1,');
    const cases = [['minimize', corrupt], ['minimize', path.join(tmp, 'missing.json')], ['minimize'], ['minimize', files[0]!, '--budget-ms', '0']];
    const results = await Promise.all(cases.map((args) => cli(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, cases[i]!.join(' '));
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/, cases[i]!.join(' '));
      assert.equal(r.stdout, '');
    });
    assert.ok(results[0]!.stderr.startsWith(`mdevfuzz: ${corrupt}: not valid JSON`), results[0]!.stderr);
  });
});
