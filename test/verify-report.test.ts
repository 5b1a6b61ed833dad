// verify (and merge of its shards) leave results/<run-id>/summary.json, junit.xml and report.html as
// run does (issue 15, item 4): the summary is what --json prints, the report shows the verdict line,
// the table per bound and the expected findings, junit.xml has a testcase per bound, and an
// unexpected finding brings its ladder into the report and a failure into junit.xml.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ladderHtml } from '../harness/report/ladder-html.js';
import { esc } from '../harness/report/page.js';
import type { BoundStats, VerifySummary } from '../harness/verify/verify.js';
import { cli } from './fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-verify-report-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const TWO_STEP_FILE = fileURLToPath(new URL('./fixtures/verify-two-step.js', import.meta.url));
/** 218 programs, bounds 0 and 1, six expected findings at bound 1: about 3 s. */
const SMALL = ['--target', 'mdev-v5.0', '--max-ops', '2', '--preemptions', '1', '--no-faults', '--starts', 'default'];

function verify(name: string, ...args: string[]) {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return cli(['verify', '--results', path.join(dir, 'results'), '--corpus', path.join(dir, 'corpus'), ...args], { cwd: dir });
}

const read = (file: string): string => readFileSync(file, 'utf8');
const n = (x: number): string => x.toLocaleString('en-US');

/** The report's row of a bound, as its cells read. */
function boundRow(html: string, bound: number): string[] {
  const row = new RegExp(`<tr id="bound-${bound}">(.*?)</tr>`).exec(html);
  assert.ok(row, `report.html has a row for bound ${bound}`);
  return [...row[1]!.matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((m) => m[1]!);
}

const counts = (b: BoundStats): string[] => [String(b.bound), n(b.programs), n(b.cases), n(b.runs), n(b.pruned)];

/** The testcases of junit.xml: name and what is inside (failure, skipped, system-out). */
function testcases(xml: string): { name: string; body: string }[] {
  return [...xml.matchAll(/<testcase classname="[^"]*" name="([^"]*)" time="[^"]*"(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => ({ name: m[1]!, body: (m[2] ?? '').trim() }));
}

describe('verify writes summary.json, junit.xml and report.html', () => {
  test('verified: the files agree with --json, the human output ends with their paths, and a taken --run-id is refused', async () => {
    const r = await verify('small', ...SMALL, '--json', '--run-id', 'small');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as VerifySummary;
    const dir = path.join(tmp, 'small', 'results', 'small');
    assert.equal(s.summaryFile, path.join(dir, 'summary.json'));
    assert.deepEqual(JSON.parse(read(s.summaryFile)), s, 'summary.json is the --json output');
    assert.equal(s.kind, 'verify');
    assert.equal(s.verdict, 'verified');
    assert.deepEqual(s.bounds.map((b) => [b.bound, b.programs, b.cases, b.complete]), [[0, 218, 218, true], [1, 218, 218, true]]);
    const expected = s.findings.filter((f) => f.expected !== null);
    assert.ok(expected.length > 0 && expected.some((f) => f.problem === 'P1'), 'P1 is among the expected findings');

    const html = read(s.reportFile);
    assert.ok(html.includes(`<p class="verdict ok" id="verdict">${esc(s.verdictLine)}</p>`), 'the verdict line, prominent');
    for (const b of s.bounds) assert.deepEqual(boundRow(html, b.bound).slice(0, 5), counts(b), `bound ${b.bound}'s row`);
    const table = /<table id="expected-table">(.*?)<\/table>/s.exec(html)?.[1] ?? '';
    for (const f of expected) {
      const row = [...table.matchAll(/<tr>(.*?)<\/tr>/g)].map((m) => m[1]!).find((x) => x.includes(`<td>${esc(f.title)}</td>`));
      assert.ok(row, `${f.title} is listed`);
      assert.ok(row.includes(`<td class="num">${f.bound}</td><td class="num">${f.rank}</td>`), `${f.title}: its bound and rank`);
      for (const [i, ops] of f.program.cpus.entries()) assert.ok(row.includes(`cpu${i}: ${ops[0]!.op}(`), `${f.title}: its program, cpu${i}`);
      assert.ok(row.includes(`, ${f.preemptions} preemption`), `${f.title}: its preemptions`);
    }

    const xml = read(s.junitFile);
    assert.match(xml, /<testsuite name="mdev-v5\.0" tests="2" failures="0" errors="0" skipped="0"/);
    const cases = testcases(xml);
    assert.deepEqual(cases.map((c) => c.name), ['bound 0', 'bound 1']);
    for (const [i, b] of s.bounds.entries()) assert.ok(cases[i]!.body.includes(`${b.programs} of 218 programs, ${b.cases} cases, ${b.runs} schedules run, ${b.pruned} pruned`), cases[i]!.body);
    assert.match(cases[1]!.body, /P1 BUG: kernel NULL pointer dereference in vfio_ap_mdev_open \[known\] rank \d+/, 'bound 1 names the expected findings first seen at it');

    // The same command again finds the state verified: a new run directory, the paths printed last.
    const again = await verify('small', ...SMALL);
    assert.equal(again.code, 0, again.stderr);
    const tail = again.stdout.trimEnd().split('\n').slice(-3);
    assert.match(tail[0]!, /^summary: {2}\S+summary\.json$/);
    assert.match(tail[1]!, /^junit: {4}\S+junit\.xml$/);
    const report = /^report: {3}(\S+report\.html)$/.exec(tail[2]!)?.[1];
    assert.ok(report && report !== s.reportFile && existsSync(report), again.stdout);
    assert.ok(read(report).includes(esc(s.verdictLine)));

    const taken = await verify('small', ...SMALL, '--run-id', 'small');
    assert.equal(taken.code, 2);
    assert.match(taken.stderr, /^mdevfuzz: .*small already exists: choose another --run-id\n$/);
  });

  test('a merge of two shards writes the three files, the counts summed', async () => {
    const shards: VerifySummary[] = [];
    for (const shard of ['0/2', '1/2']) {
      const r = await verify('shards', ...SMALL, '--shard', shard, '--json');
      assert.equal(r.code, 0, r.stderr);
      shards.push(JSON.parse(r.stdout) as VerifySummary);
    }
    const results = path.join(tmp, 'shards', 'results');
    const m = await cli(['merge', 'both', ...shards.map((s) => s.stateFile!), '--results', results, '--json']);
    assert.equal(m.code, 0, m.stderr);
    const s = JSON.parse(m.stdout) as VerifySummary;
    assert.equal(s.reportFile, path.join(results, 'both', 'report.html'));
    assert.deepEqual(JSON.parse(read(s.summaryFile)), s, 'summary.json is the --json output');
    assert.deepEqual(s.mergedFrom, shards.map((x) => x.stateFile));
    assert.equal(s.verdict, 'verified');
    const sum = (bound: number, key: 'programs' | 'cases' | 'runs' | 'pruned' | 'ms'): number => shards.reduce((t, x) => t + x.bounds[bound]![key], 0);
    for (const b of s.bounds) {
      const summed = { bound: b.bound, programs: sum(b.bound, 'programs'), cases: sum(b.bound, 'cases'), runs: sum(b.bound, 'runs'), pruned: sum(b.bound, 'pruned'), ms: sum(b.bound, 'ms'), complete: true };
      assert.deepEqual(b, summed, `bound ${b.bound}`);
    }
    assert.equal(s.bounds[1]!.programs, 218, 'the shards cover the whole');

    const html = read(s.reportFile);
    assert.ok(html.includes(`<p class="verdict ok" id="verdict">${esc(s.verdictLine)}</p>`));
    assert.match(s.verdictLine, /\(2 shards\)$/);
    for (const b of s.bounds) assert.deepEqual(boundRow(html, b.bound).slice(0, 5), counts(b), `bound ${b.bound}'s row`);
    assert.deepEqual(testcases(read(s.junitFile)).map((c) => c.name), ['bound 0', 'bound 1']);
  });

  test('an unexpected finding: its ladder in report.html, a failure at its bound in junit.xml', async () => {
    const r = await verify('planted', '--target-file', TWO_STEP_FILE, '--max-ops', '2', '--preemptions', '2', '--json');
    assert.equal(r.code, 1, r.stderr);
    const s = JSON.parse(r.stdout) as VerifySummary;
    assert.deepEqual(JSON.parse(read(s.summaryFile)), s);
    assert.equal(s.verdict, 'unexpected');
    assert.equal(s.exitCode, 1);
    const entry = JSON.parse(read(path.resolve(tmp, 'planted', s.corpusFile!))) as { ladder: string };
    assert.equal(s.ladder, entry.ladder, "the summary carries the corpus entry's ladder");
    assert.match(entry.ladder, /\^\^\^ invariant: x seen at 1 then 2 in watch/);

    const html = read(s.reportFile);
    assert.ok(html.includes(`<p class="verdict bad" id="verdict">${esc(s.verdictLine)}</p>`));
    const section = /<section id="unexpected">(.*?)<\/section>/s.exec(html)?.[1] ?? '';
    assert.ok(section.includes(ladderHtml(entry.ladder)), 'the ladder, drawn as run draws its findings');
    assert.ok(section.includes(esc(s.replay!)), 'the replay command');

    const xml = read(s.junitFile);
    assert.match(xml, /<testsuite name="two-step" tests="3" failures="1" errors="0" skipped="0"/);
    const cases = testcases(xml);
    assert.deepEqual(cases.map((c) => c.name), ['bound 0', 'bound 1', 'bound 2']);
    assert.ok(!cases[0]!.body.includes('<failure') && !cases[1]!.body.includes('<failure'), 'bounds 0 and 1 pass');
    assert.ok(cases[2]!.body.startsWith(`<failure message="${s.verdictLine}" type="invariant">`), cases[2]!.body);
    assert.ok(cases[2]!.body.includes('^^^ invariant: x seen at 1 then 2 in watch'), 'the failure carries the ladder');
  });

  test('stopped by --time: not verified, the bounds it did not finish skipped', async () => {
    const r = await verify('stopped', ...SMALL, '--time', '1ms', '--json');
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as VerifySummary;
    assert.deepEqual(JSON.parse(read(s.summaryFile)), s);
    assert.equal(s.verdict, 'incomplete');
    assert.match(s.verdictLine, /^not verified: mdev-v5\.0, stopped by --time: no bound complete, bound 0: \d+ of 218 programs of <= 2 ops on 2 CPUs done: nothing unexpected so far$/);
    assert.ok(read(s.reportFile).includes(`<p class="verdict stop" id="verdict">${esc(s.verdictLine)}</p>`));
    const cases = testcases(read(s.junitFile));
    assert.deepEqual(cases.map((c) => c.name), ['bound 0', 'bound 1']);
    assert.match(cases[0]!.body, /^<skipped message="not complete: \d+ of 218 programs/);
    assert.match(cases[1]!.body, /^<skipped message="not reached: the search stopped before this bound"/);
  });
});
