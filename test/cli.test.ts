import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEntry, serializeEntry } from '../harness/corpus/entry.js';
import { countOps } from '../harness/engine/program.js';
import { replayExecution } from '../harness/engine/runner.js';
import { renderLadder } from '../harness/report/ladder.js';
import type { RunSummary } from '../harness/cli/run.js';
import { findTarget } from '../targets/index.js';
import { cli, type CliResult, snapshot } from './fixtures/cli.js';
import { DEFAULT_STRATEGY } from '../harness/sched/index.js';





let tmp: string;
let corpus: string;
let results: string;
let first: CliResult;
let summary: RunSummary;

const runArgs = (corpusDir: string, execs = 3000): string[] =>
  ['run', '--target', 'mdev-v5.0', '--execs', String(execs), '--seed', '1', '--workers', '1', '--corpus', corpusDir, '--results', results, '--json'];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-cli-'));
  corpus = path.join(tmp, 'corpus');
  results = path.join(tmp, 'results');
  first = await cli(runArgs(corpus));
  summary = JSON.parse(first.stdout) as RunSummary;
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mdevfuzz run', () => {
  test('--json prints exactly the summary, which is also written to results/<run-id>/summary.json', () => {
    assert.equal(summary.target, 'mdev-v5.0');
    assert.equal(summary.seed, '1');
    assert.equal(summary.executions, 3000);
    assert.equal(summary.workers, 1);
    assert.equal(summary.strategy, DEFAULT_STRATEGY);
    assert.equal(summary.depth, 3);
    for (const key of ['steps', 'elapsedMs', 'execsPerSec'] as const) assert.equal(typeof summary[key], 'number', key);
    assert.ok(summary.findings.length >= 3, `found ${summary.findings.length}`);
    assert.equal(path.dirname(path.dirname(summary.summaryFile)), results);
    assert.equal(readFileSync(summary.summaryFile, 'utf8'), first.stdout);
  });

  test('on an empty corpus, a finding is new exactly when the target does not expect it, and the exit code says so', () => {
    const target = findTarget('mdev-v5.0')!;
    for (const f of summary.findings) {
      const expectation = target.expectations.find((e) => e.title === f.signature);
      assert.equal(f.expected, expectation?.status ?? null, f.signature);
      assert.equal(f.new, expectation === undefined, f.signature);
    }
    assert.equal(summary.newFindings, summary.findings.filter((f) => f.new).length);
    assert.equal(first.code, summary.newFindings > 0 ? 1 : 0);
  });

  test('every finding has its own corpus file, holding its signature', () => {
    const files = readdirSync(path.join(corpus, 'mdev-v5.0')).sort();
    assert.equal(files.length, summary.findings.length);
    for (const f of summary.findings) {
      assert.ok(f.corpusFile, f.signature);
      assert.equal(f.execIndex >= 0 && f.hits >= 1 && f.timeToFindMs >= 0, true);
      const entry = parseEntry(readFileSync(f.corpusFile, 'utf8'), f.corpusFile);
      assert.equal(entry.signature, f.signature);
      assert.equal(entry.index, f.execIndex);
      assert.equal(entry.minimizePending, false, 'its minimization finished');
    }
  });

  test('new entries are minimized before they are written, with the ladder of the minimized repro and the figures in summary.json', () => {
    const target = findTarget('mdev-v5.0')!;
    assert.equal(summary.minimize, true);
    let shrank = 0;
    for (const f of summary.findings) {
      const entry = parseEntry(readFileSync(f.corpusFile!, 'utf8'), f.corpusFile!);
      const m = f.minimize;
      assert.ok(m && m.outcome !== 'failed', `${f.signature}: ${JSON.stringify(m)}`);
      assert.ok(m.budgetMs >= 3000 && m.budgetMs <= 10_000, 'with --execs, about 10 s per finding');
      if (m.outcome === 'budget') {
        assert.equal(entry.minimized, null, 'the budget ran out: saved as found');
        continue;
      }
      const r = entry.minimized!;
      assert.deepEqual(r.stats.before, m.before);
      assert.deepEqual(r.stats.after, m.after);
      assert.deepEqual([m.before.cpus, m.before.ops, m.before.preemptions], [entry.program.cpus.length, countOps(entry.program), entry.schedule.length]);
      assert.deepEqual([m.after.cpus, m.after.ops, m.after.preemptions], [r.program.cpus.length, countOps(r.program), r.schedule.length]);
      assert.ok(m.after.ops <= m.before.ops && m.after.cpus <= m.before.cpus && m.after.preemptions <= m.before.preemptions, f.signature);
      const { result } = replayExecution(target, r.program, r.faults, r.schedule, { events: true });
      assert.ok(result.findings.some((x) => x.title === f.signature), `${f.signature}: the minimized repro replays`);
      assert.equal(entry.ladder, renderLadder(result.events ?? [], r.program.cpus.length, { start: r.program.start }));
      if (m.after.ops < m.before.ops) shrank++;
    }
    assert.ok(shrank > 0, 'some repro got smaller');
  });

  test('--no-minimize saves new entries as found', async () => {
    const dir = path.join(tmp, 'corpus-unminimized');
    const r = await cli([...runArgs(dir, 200), '--no-minimize']);
    const s = JSON.parse(r.stdout) as RunSummary;
    assert.equal(s.minimize, false);
    assert.ok(s.findings.length > 0);
    for (const f of s.findings) {
      assert.equal(f.minimize, null);
      assert.equal(parseEntry(readFileSync(f.corpusFile!, 'utf8'), f.corpusFile!).minimized, null);
    }
  });

  test('replay of every produced entry exits 0 and says the signature recurred', async () => {
    const replays = await Promise.all(summary.findings.map((f) => cli(['replay', f.corpusFile!, '--json'])));
    replays.forEach((r, i) => {
      assert.equal(r.code, 0, `${summary.findings[i]!.signature}: ${r.stderr}`);
      assert.equal((JSON.parse(r.stdout) as { reproduced: boolean }).reproduced, true);
    });
  });

  test('the same run again finds nothing new, exits 0, leaves the entries byte for byte and adds its hits to the history', async () => {
    const copy = path.join(tmp, 'corpus-again');
    cpSync(corpus, copy, { recursive: true });
    const bytes = snapshot(copy);
    const again = await cli(runArgs(copy));
    const s = JSON.parse(again.stdout) as RunSummary;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(s.newFindings, 0);
    assert.equal(s.corpusCreated, 0);
    assert.notEqual(s.summaryFile, summary.summaryFile, 'each run has its own results directory');
    assert.deepEqual(snapshot(copy), bytes, 'a run that finds nothing new writes nothing to the corpus');
    const history = JSON.parse(readFileSync(path.join(results, 'history.json'), 'utf8')) as { runs: Record<string, unknown>; findings: Record<string, Record<string, { hits: number }>> };
    assert.ok(summary.runId in history.runs && s.runId in history.runs);
    const perRun = Object.keys(history.runs).map((id) => JSON.parse(readFileSync(path.join(results, id, 'hits.json'), 'utf8')) as { findings: { signature: string; hits: number }[] });
    for (const f of s.findings) {
      const sum = perRun.reduce((n, r) => n + (r.findings.find((x) => x.signature === f.signature)?.hits ?? 0), 0);
      assert.equal(history.findings['mdev-v5.0']![f.signature]!.hits, sum, f.signature);
      assert.ok(sum >= 2 * f.hits, f.signature);
    }
  });

  test('a corrupt entry is reported by name, left as it was, and its finding is not saved', async () => {
    const copy = path.join(tmp, 'corpus-corrupt');
    cpSync(corpus, copy, { recursive: true });
    const victim = summary.findings.find((f) => f.execIndex < 200)!;
    const file = path.join(copy, 'mdev-v5.0', path.basename(victim.corpusFile!));
    writeFileSync(file, '{"schemaVersion": 1, "signature": ');
    const before = snapshot(copy);
    const r = await cli(runArgs(copy, 200));
    const s = JSON.parse(r.stdout) as RunSummary;
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.deepEqual(s.corpusErrors.map((e) => e.split(': ')[0]), [file]);
    const row = s.findings.find((f) => f.signature === victim.signature)!;
    assert.equal(row.corpusFile, null);
    assert.ok(row.corpusError?.startsWith(file));
    const afterRun = snapshot(copy);
    assert.equal(afterRun.get(path.join('mdev-v5.0', path.basename(file))), before.get(path.join('mdev-v5.0', path.basename(file))));
    assert.deepEqual([...afterRun.keys()], [...before.keys()]);
  });
});

describe('mdevfuzz replay', () => {
  test('an entry whose schedule was edited so that it no longer reproduces exits 1', async () => {
    const target = findTarget('mdev-v5.0')!;
    const candidates = summary.findings.map((f) => parseEntry(readFileSync(f.corpusFile!, 'utf8'), f.corpusFile!)).filter((e) => e.schedule.length > 0);
    const edited = candidates.find((e) => !replayExecution(target, e.program, e.faults, []).result.findings.some((f) => f.title === e.signature));
    assert.ok(edited, 'some entry needs its preemptions to reproduce');
    const file = path.join(tmp, 'edited.json');
    writeFileSync(file, serializeEntry({ ...edited, schedule: [], minimized: null }));
    const r = await cli(['replay', file]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^did NOT reproduce: /);
    const json = await cli(['replay', file, '--json']);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { reproduced: boolean }).reproduced, false);
  });

  test('--ladder prints the ladder of the replay', async () => {
    // P1 takes two CPUs even minimized (create | open), so its ladder has two columns.
    const p1 = summary.findings.find((f) => f.signature === 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open');
    assert.ok(p1?.corpusFile, 'the run found P1');
    const r = await cli(['replay', p1.corpusFile, '--ladder']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^reproduced: /);
    assert.match(r.stdout, /CPU0 +CPU1/);
    assert.match(r.stdout, /\^\^\^ /);
  });
});

describe('bad arguments', () => {
  const cases: string[][] = [
    ['frobnicate'],
    [],
    ['run', '--target', 'mdev-v5.0', '--bogus'],
    ['run', '--target', 'mdev-v5.0', '--execs', 'many'],
    ['run', '--target', 'mdev-v5.0', '--execs', '-5'],
    ['run', '--target', 'mdev-v5.0', '--time', '5 minutes'],
    ['run', '--target', 'mdev-v5.0', '--strategy', 'dfs'],
    ['run', '--target', 'no-such-target'],
    ['run', '--target', 'mdev-v5.0', '--target-file', 'x.js'],
    ['run', '--shard', '0/2'],
    ['replay'],
    ['replay', 'no-such-entry.json'],
    ['targets', '--verbose'],
    ['run', '--target', 'mdev-v5.0', '--minimize'],
  ];

  test('each gets exactly one line on stderr, nothing on stdout, exit 2, and the corpus is untouched', async () => {
    const before = snapshot(corpus);
    for (const args of cases) {
      const withCorpus = args[0] === 'run' ? [...args, '--corpus', corpus, '--results', results] : args;
      const r = await cli(withCorpus);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    assert.deepEqual(snapshot(corpus), before);
  });

  test('a corrupt corpus file given to replay is named in the one line', async () => {
    const file = path.join(tmp, 'corrupt.json');
    writeFileSync(file, '[1, 2');
    const r = await cli(['replay', file]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1);
    assert.ok(r.stderr.startsWith(`mdevfuzz: ${file}: not valid JSON`), r.stderr);
  });
});

describe('mdevfuzz targets', () => {
  test('lists every bundled target with its kernel version', async () => {
    const r = await cli(['targets']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^mdev-v5\.0 +v5\.0\.1 +VFIO mdev core of Linux v5\.0\.1/m);
  });
});
