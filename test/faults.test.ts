// Issue 13, the execution half: faulty targets (a CPU that never yields, unbounded allocation, a
// TypeError in model code), signals and bad flags, each driven through the CLI in a child
// process, with a temporary corpus and results. Each asserts the exit code, the message, the time
// it took, and that what was saved before is still there.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEntry } from '../harness/corpus/entry.js';
import { loadTarget } from '../harness/engine/load.js';
import { programFor } from '../harness/engine/runner.js';
import { runBatch } from '../harness/engine/batch.js';
import { runCampaign } from '../harness/engine/campaign.js';
import type { BatchExecutor, BatchOutcome } from '../harness/engine/pool/guarded-pool.js';
import type { BatchTask } from '../harness/engine/pool/pool-worker.js';
import { findTarget } from '../targets/index.js';
import type { RunSummary } from '../harness/report/summary.js';
import { MAIN, snapshot } from './fixtures/cli.js';
import { DEFAULT_STRATEGY } from '../harness/sched/index.js';

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

/** Run the CLI; `signalAt` sends SIGTERM that many ms after the first line on stdout. A child alive after `killMs` is killed (and the test fails on its code). */
function run(args: readonly string[], o: { signalAt?: number; killMs?: number } = {}): Promise<Child & { signalledAt?: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalledAt: number | undefined;
    let armed = false;
    const hard = setTimeout(() => child.kill('SIGKILL'), o.killMs ?? 40_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (o.signalAt !== undefined && !armed) {
        armed = true;
        setTimeout(() => {
          signalledAt = performance.now();
          child.kill('SIGTERM');
        }, o.signalAt);
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hard);
      const end = performance.now();
      resolve({ code, stdout, stderr, ms: end - t0, ...(signalledAt !== undefined ? { signalledAt: end - signalledAt } : {}) });
    });
  });
}

let tmp: string;
const fixture = (name: string): string => path.join(tmp, `${name}.mjs`);

/**
 * A target whose programs are drawn by `generate`: two CPUs, cpu0 [nop, nop] and cpu1 [nop, X],
 * where X is the faulty operation with probability `rate` (else nop). The faulty operation
 * misbehaves on cpu1 only, so that the threads engine's warm-up (every operation alone, on cpu0)
 * does not; `bad` throws anywhere.
 */
function writeFixture(name: string, faulty: 'spin' | 'hog' | 'bad' | 'leak', rate: number): void {
  const kernel = new URL('../harness/kernel/kernel.js', import.meta.url).href;
  const layout = new URL('../harness/kernel/layout.js', import.meta.url).href;
  writeFileSync(
    fixture(name),
    `import { kfn } from ${JSON.stringify(kernel)};
import { makeLayout } from ${JSON.stringify(layout)};
const nop = kfn('mtty_nop', function* (k) { yield k.at('a'); yield k.at('b'); return 0; });
const faulty = {
  spin: kfn('mtty_spin', function* (k) { yield k.at('enter'); if (k.cpu === 1) for (;;) {} return 0; }),
  hog: kfn('mtty_hog', function* (k) { yield k.at('enter'); const keep = []; if (k.cpu === 1) for (;;) keep.push(new Array(1 << 20).fill(k.cpu + 0.5)); return 0; }),
  bad: kfn('mtty_bad', function* (k) { yield k.at('enter'); const parent = k.cpu > 5 ? {} : undefined; return parent.ops.length; }),
  leak: kfn('mtty_leak', function* (k) { yield k.at('enter'); if (k.cpu === 1) kept.push(new Array(3 << 20).fill(k.cpu + 0.5)); return 0; }),
};
/** What mtty_leak keeps across executions: 24 MiB a call, in the worker that runs it. */
const kept = [];
const X = ${JSON.stringify(faulty)};
const op = (name) => ({ op: name, args: {} });
export default {
  name: ${JSON.stringify(name)}, description: 'faulty fixture', kernelVersion: 'test', layout: makeLayout([]),
  ops: [{ name: 'nop', weight: 1, args: {} }, { name: X, weight: 1, args: {} }],
  generate(rng) { return { cpus: [[op('nop'), op('nop')], [op('nop'), op(rng.next() < ${rate} ? X : 'nop')]] }; },
  *setup() {},
  *run(k, o) { return o.op === X ? yield* faulty[X](k) : yield* nop(k); },
  *exitCpu() {}, *teardown() {}, invariants: [], leakCheck() {}, expectations: [], faultCalls: [],
};
`,
  );
}

/** The indices in [0, n) whose program runs the faulty operation. */
async function faultyIndices(name: string, seed: string, n: number): Promise<number[]> {
  const target = await loadTarget({ file: fixture(name) });
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (programFor(target, seed, i).cpus[1]![1]!.op !== 'nop') out.push(i);
  return out;
}

const summaryOf = (results: string): RunSummary => {
  // Run directories only: history.json and verified.json sit beside them.
  const runs = readdirSync(results, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  assert.equal(runs.length, 1, `one run directory in ${results}: ${runs.join(', ')}`);
  return JSON.parse(readFileSync(path.join(results, runs[0]!, 'summary.json'), 'utf8')) as RunSummary;
};

const dirs = (name: string): { corpus: string; results: string } => ({ corpus: path.join(tmp, name, 'corpus'), results: path.join(tmp, name, 'results') });
const STALL_TITLE = 'INFO: rcu_sched self-detected stall on CPU in mtty_spin';
const SEED = 'f2';
const EXECS = 40;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-faults-'));
  writeFixture('spin', 'spin', 0.05);
  writeFixture('spin-always', 'spin', 1);
  writeFixture('hog', 'hog', 0.05);
  writeFixture('bad', 'bad', 0.1);
  writeFixture('leak', 'leak', 0.3);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('a CPU that never reaches its next preemption point', () => {
  let spins: number[];
  let shared: { corpus: string; results: string };
  let entryFile: string;
  let entryBytes: string;

  before(async () => {
    spins = await faultyIndices('spin', SEED, EXECS);
    assert.ok(spins.length >= 1 && spins.length <= 4, `the seed gives a few stalls: ${spins.join(', ')}`);
    shared = dirs('spin');
  });

  const flags = (engine: string[], results: string, corpusDir: string): string[] =>
    ['run', '--target-file', fixture('spin'), '--seed', SEED, '--execs', String(EXECS), '--stall-timeout', '1s', ...engine, '--corpus', corpusDir, '--results', results, '--no-minimize'];

  test('pool: a stall finding at the first index that spins, hit by every one that does; the workers are replaced and the campaign goes on', async () => {
    const c = await run(flags(['--workers', '2'], path.join(shared.results, 'pool'), shared.corpus));
    assert.equal(c.code, 1, c.stderr);
    const s = summaryOf(path.join(shared.results, 'pool'));
    assert.equal(s.executions, EXECS, 'every index ran, those after a stall included');
    const f = s.findings.find((x) => x.kind === 'stall');
    assert.ok(f, JSON.stringify(s.findings.map((x) => x.signature)));
    assert.equal(f.signature, STALL_TITLE);
    assert.equal(f.execIndex, spins[0]);
    assert.equal(f.hits, spins.length);
    assert.ok(f.new && f.corpusCreated && f.corpusFile);
    assert.match(c.stdout, /NEW {2}spin: INFO: rcu_sched self-detected stall on CPU in mtty_spin/);
    assert.ok(c.ms < 8_000 + spins.length * 2_500, `took ${Math.round(c.ms)} ms`);
    entryFile = f.corpusFile;
    entryBytes = readFileSync(entryFile, 'utf8');
    const entry = parseEntry(entryBytes, entryFile);
    assert.equal(entry.kind, 'stall');
    assert.match(entry.ladder, /\^\^\^ INFO: rcu_sched self-detected stall on CPU in mtty_spin/);
  });

  test('inline (--workers 0): the same finding, first index and hits; the saved entry is kept', async () => {
    const c = await run(flags(['--workers', '0'], path.join(shared.results, 'inline'), shared.corpus));
    assert.equal(c.code, 0, `known now, nothing new: ${c.stderr}`);
    const f = summaryOf(path.join(shared.results, 'inline')).findings.find((x) => x.kind === 'stall');
    assert.deepEqual([f?.signature, f?.execIndex, f?.hits, f?.new], [STALL_TITLE, spins[0], spins.length, false]);
    assert.ok(c.ms < 8_000 + spins.length * 2_500, `took ${Math.round(c.ms)} ms`);
    const entry = parseEntry(readFileSync(entryFile, 'utf8'), entryFile);
    const before = parseEntry(entryBytes, entryFile);
    assert.deepEqual([entry.signature, entry.program, entry.schedule], [before.signature, before.program, before.schedule]);
  });

  test('threads: the stall is found in the function the stuck CPU is in, and the run ends', async () => {
    const { corpus, results } = dirs('spin-threads');
    const c = await run(flags(['--engine', 'threads'], results, corpus));
    assert.equal(c.code, 1, c.stderr);
    const f = summaryOf(results).findings.find((x) => x.kind === 'stall');
    assert.deepEqual([f?.signature, f?.execIndex, f?.hits], [STALL_TITLE, spins[0], spins.length]);
    assert.ok(c.ms < 12_000 + spins.length * 2_500, `took ${Math.round(c.ms)} ms`);
  });

  test('replay of the stall entry reports the stall instead of hanging', async () => {
    const c = await run(['replay', entryFile, '--target-file', fixture('spin'), '--stall-timeout', '1s', '--ladder']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stdout, /^reproduced: INFO: rcu_sched self-detected stall on CPU in mtty_spin/);
    assert.match(c.stdout, /\^\^\^ INFO: rcu_sched self-detected stall on CPU in mtty_spin/);
    assert.ok(c.ms < 10_000, `took ${Math.round(c.ms)} ms`);
  });

  test('corpus check replays on a guarded worker: the stall entry passes, an entry whose repro now stalls fails in one line, and the check ends', async () => {
    const dir = path.join(tmp, 'check-spin');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'stall.json'), entryBytes);
    // The same repro under another signature: its replay stalls instead of showing it.
    const other = { ...(JSON.parse(entryBytes) as Record<string, unknown>), signature: 'KASAN: use-after-free Read in mtty_spin', kind: 'use-after-free' };
    writeFileSync(path.join(dir, 'other.json'), `${JSON.stringify(other, null, 2)}\n`);
    const c = await run(['corpus', 'check', dir, '--target-file', fixture('spin'), '--stall-timeout', '1s', '--results', path.join(tmp, 'check-spin-results')], { killMs: 30_000 });
    assert.equal(c.code, 1, c.stderr);
    assert.match(c.stdout, /^ok {4}.*stall\.json {2}\(original\)$/m);
    assert.match(c.stdout, /^FAIL {2}.*other\.json: the original repro stalled \(INFO: rcu_sched self-detected stall on CPU in mtty_spin; its worker was terminated\)$/m);
    assert.match(c.stdout, /^2 entries checked: 1 passed, 1 failed$/m);
    assert.ok(c.ms < 12_000, `took ${Math.round(c.ms)} ms`);
  });

  test('compare and coverage with --workers 0 run the target on a guarded worker: the stall is a finding and the command ends', async () => {
    const common = ['--target-file', fixture('spin'), '--seed', SEED, '--execs', String(EXECS), '--workers', '0', '--stall-timeout', '1s', '--json'];
    const [cmp, cov] = await Promise.all([
      run(['compare', ...common, '--results', path.join(tmp, 'compare-spin')], { killMs: 30_000 }),
      run(['coverage', ...common], { killMs: 30_000 }),
    ]);
    assert.equal(cmp.code, 1, `the stall is not an expectation of the fixture: ${cmp.stderr}`);
    const table = JSON.parse(cmp.stdout) as { runs: { executions: number }[]; rows: { signature: string; cells: Record<string, { firstIndex: number; hits: number; kind: string }> }[] };
    assert.equal(table.runs[0]!.executions, EXECS, 'every index ran, those after a stall included');
    const row = table.rows.find((r) => r.signature === STALL_TITLE);
    assert.deepEqual([row?.cells['spin']?.firstIndex, row?.cells['spin']?.hits, row?.cells['spin']?.kind], [spins[0], spins.length, 'stall']);
    assert.ok(cmp.ms < 8_000 + spins.length * 2_500, `compare took ${Math.round(cmp.ms)} ms`);
    assert.equal(cov.code, 0, cov.stderr);
    assert.equal((JSON.parse(cov.stdout) as { executions: number }).executions, EXECS);
    assert.ok(cov.ms < 8_000 + spins.length * 2_500, `coverage took ${Math.round(cov.ms)} ms`);
  });

  test('minimize refuses a stall entry in one line (its candidates would stall the minimizer), and leaves it as it is', async () => {
    const before = readFileSync(entryFile, 'utf8');
    const c = await run(['minimize', entryFile, '--target-file', fixture('spin')], { killMs: 10_000 });
    assert.equal(c.code, 2);
    assert.match(c.stderr, /^mdevfuzz: .* is a stall entry: its repro already stops at the step that never finished, and it is not minimized\n$/);
    assert.equal(readFileSync(entryFile, 'utf8'), before);
  });

  test('--time ends the run near its deadline even when every worker is stuck', async () => {
    const { corpus, results } = dirs('deadline');
    const c = await run(['run', '--target-file', fixture('spin-always'), '--seed', SEED, '--time', '2s', '--stall-timeout', '60s', '--workers', '2', '--corpus', corpus, '--results', results]);
    assert.equal(c.code, 0, `nothing ran to the end, nothing found: ${c.stderr}`);
    assert.ok(c.ms < 2_000 + 6_000, `took ${Math.round(c.ms)} ms`);
    assert.equal(summaryOf(results).executions, 0);
  });

  test('SIGTERM while the workers are stuck: exit 130 within 2 s, the results written, the corpus kept', async () => {
    const before = snapshot(shared.corpus);
    const results = path.join(tmp, 'sigterm', 'results');
    const c = await run(
      ['run', '--target-file', fixture('spin-always'), '--seed', SEED, '--time', '60s', '--stall-timeout', '60s', '--workers', '2', '--corpus', shared.corpus, '--results', results],
      { signalAt: 1_500 },
    );
    assert.equal(c.code, 130, c.stderr);
    assert.ok(c.signalledAt! < 2_000, `exited ${Math.round(c.signalledAt!)} ms after SIGTERM`);
    const s = summaryOf(results);
    assert.equal(s.interrupted, true);
    assert.equal(s.exitCode, 130);
    assert.ok(existsSync(s.junitFile) && existsSync(s.reportFile));
    assert.deepEqual(snapshot(shared.corpus), before, 'the corpus is as it was');
  });
});

describe('a target that allocates without bound', () => {
  test('threads (--engine threads) under --worker-memory: the CPU worker that passes it is an oom finding of its execution, and the run goes on', async () => {
    const hogs = await faultyIndices('hog', SEED, EXECS);
    const { corpus, results } = dirs('hog-threads');
    const c = await run(['run', '--target-file', fixture('hog'), '--seed', SEED, '--execs', String(EXECS), '--engine', 'threads', '--worker-memory', '64', '--corpus', corpus, '--results', results, '--no-minimize'], { killMs: 60_000 });
    assert.equal(c.code, 1, c.stderr);
    const s = summaryOf(results);
    assert.equal(s.executions, EXECS, 'every index ran, those after an oom included');
    assert.deepEqual(s.findings.map((f) => [f.kind, f.signature, f.execIndex, f.hits]), [['oom', 'Out of memory: heap limit reached in mtty_hog', hogs[0], hogs.length]]);
    assert.equal(s.targetErrors, undefined);
    assert.ok(s.findings[0]!.corpusFile && existsSync(s.findings[0]!.corpusFile));
  });

  test('stress under --worker-memory: the CPU worker that passes it is an oom of its execution (unconfirmed, never replayed inline), and the run goes on', async () => {
    const hogs = await faultyIndices('hog', SEED, EXECS);
    const { corpus, results } = dirs('hog-stress');
    const c = await run(['stress', '--target-file', fixture('hog'), '--seed', SEED, '--execs', String(EXECS), '--workers', '1', '--worker-memory', '64', '--corpus', corpus, '--results', results, '--json'], { killMs: 60_000 });
    assert.equal(c.code, 0, `an unconfirmed finding is not new: ${c.stderr}`);
    const s = JSON.parse(c.stdout) as { executions: number; findings: { kind: string; signature: string; firstIndex: number; hits: number; confirmed: number; unconfirmedFile: string | null }[] };
    assert.deepEqual(s.findings.map((f) => [f.kind, f.signature, f.firstIndex, f.confirmed]), [['oom', 'Out of memory: heap limit reached', hogs[0], 0]]);
    assert.ok(s.findings[0]!.hits >= 1 && s.findings[0]!.hits <= hogs.length);
    assert.ok(s.findings[0]!.unconfirmedFile && existsSync(s.findings[0]!.unconfirmedFile));
    // The executions of a batch after the one that died did not run; every other did.
    assert.ok(s.executions > hogs[0]! && s.executions <= EXECS, `${s.executions} executions`);
    assert.ok(c.ms < 30_000, `took ${Math.round(c.ms)} ms`);
  });

  test('inline (--workers 0) under --worker-memory: an oom finding of the execution that did it, and the run goes on', async () => {
    const hogs = await faultyIndices('hog', SEED, EXECS);
    assert.ok(hogs.length >= 1, 'the seed allocates somewhere');
    const { corpus, results } = dirs('hog');
    const c = await run(['run', '--target-file', fixture('hog'), '--seed', SEED, '--execs', String(EXECS), '--workers', '0', '--worker-memory', '64', '--corpus', corpus, '--results', results, '--no-minimize']);
    assert.equal(c.code, 1, c.stderr);
    const s = summaryOf(results);
    assert.equal(s.executions, EXECS);
    const f = s.findings.find((x) => x.kind === 'oom');
    assert.ok(f, JSON.stringify(s.findings.map((x) => [x.kind, x.signature])));
    assert.equal(f.signature, 'Out of memory: heap limit reached in mtty_hog');
    assert.equal(f.execIndex, hogs[0]);
    assert.ok(f.corpusFile && existsSync(f.corpusFile));
  });
});

describe('a target that keeps memory across executions', () => {
  // Each mtty_leak keeps 24 MiB in its worker: under a 64 MiB cap, the second or third of a worker
  // passes it, but alone it runs to the end. So the oom is not that execution's: a target error.
  // The random walk runs each program once (a profiled strategy runs it again in its profiling runs).
  for (const [engine, flags] of [['pool', ['--workers', '1']], ['threads', ['--engine', 'threads']]] as const) {
    test(`${engine}: an oom that its execution, run again alone on a fresh worker, does not reproduce is a target error, not a finding`, async () => {
      const leaks = await faultyIndices('leak', SEED, EXECS);
      assert.ok(leaks.length >= 8, `enough leaking executions to fill a worker: ${leaks.length}`);
      const { corpus, results } = dirs(`leak-${engine}`);
      const c = await run(['run', '--target-file', fixture('leak'), '--seed', SEED, '--execs', String(EXECS), ...flags, '--strategy', 'random', '--worker-memory', '64', '--corpus', corpus, '--results', results, '--no-minimize'], { killMs: 90_000 });
      assert.equal(c.code, 2, c.stderr);
      const s = summaryOf(results);
      assert.equal(s.executions, EXECS, 'every index ran, the one that died alone again');
      assert.deepEqual(s.findings.filter((f) => f.kind === 'oom'), [], 'no oom finding');
      const e = s.targetErrors?.find((x) => x.title === 'target error: worker out of memory, not reproducible alone');
      assert.ok(e, JSON.stringify(s.targetErrors));
      assert.ok(leaks.includes(e.execIndex) && leaks.indexOf(e.execIndex) >= 1, `pinned to a leaking execution after another: ${e.execIndex} of ${leaks.join(', ')}`);
      assert.ok(e.stack.some((l) => /ran to the end/.test(l)), e.stack.join('\n'));
      assert.ok(c.stderr.includes(`mdevfuzz: target error in leak: ${e.title}`), c.stderr);
      assert.deepEqual(existsSync(corpus) ? readdirSync(corpus).filter((d) => readdirSync(path.join(corpus, d)).length > 0) : [], [], 'nothing in the corpus');
    });
  }

  test('stress: the same target error (its execution replayed alone on a fresh worker runs to the end), kept out of the corpus and of unconfirmed/', async () => {
    const leaks = await faultyIndices('leak', SEED, EXECS);
    const { corpus, results } = dirs('leak-stress');
    const c = await run(['stress', '--target-file', fixture('leak'), '--seed', SEED, '--execs', String(EXECS), '--workers', '1', '--worker-memory', '64', '--corpus', corpus, '--results', results, '--json'], { killMs: 60_000 });
    assert.equal(c.code, 2, c.stderr);
    const s = JSON.parse(c.stdout) as { findings: { kind: string }[]; targetErrors?: { title: string; execIndex: number; hits: number; stack: string[]; repro: string }[] };
    assert.deepEqual(s.findings.filter((f) => f.kind === 'oom'), [], 'no oom finding');
    const e = s.targetErrors?.find((x) => x.title === 'target error: worker out of memory, not reproducible alone');
    assert.ok(e, JSON.stringify(s.targetErrors));
    assert.ok(leaks.includes(e.execIndex) && leaks.indexOf(e.execIndex) >= 1, `a leaking execution after another: ${e.execIndex} of ${leaks.join(', ')}`);
    assert.ok(e.stack.some((l) => /passed its heap cap of 64 MiB/.test(l)) && e.stack.some((l) => /ran to the end/.test(l)), e.stack.join('\n'));
    assert.ok(c.stderr.includes(`mdevfuzz: target error in leak: ${e.title}`), c.stderr);
    assert.equal(existsSync(path.join(corpus, 'leak')) ? readdirSync(path.join(corpus, 'leak')).length : 0, 0, 'nothing in the corpus, nor in unconfirmed/');
  });
});

describe('an exception in model code', () => {
  test('is a target error: exit 2, its stack and repro command on stderr, nothing in the corpus', async () => {
    const bad = await faultyIndices('bad', SEED, EXECS);
    assert.ok(bad.length >= 1);
    const { corpus, results } = dirs('bad');
    const c = await run(['run', '--target-file', fixture('bad'), '--seed', SEED, '--execs', String(EXECS), '--workers', '1', '--corpus', corpus, '--results', results]);
    assert.equal(c.code, 2, c.stderr);
    const title = "target error: TypeError: Cannot read properties of undefined (reading 'ops') in mtty_bad";
    assert.ok(c.stderr.includes(`mdevfuzz: target error in bad: ${title} (first at index ${bad[0]}, ${bad.length} hit`), c.stderr);
    assert.match(c.stderr, /^ {4}at .*bad\.mjs/m, 'the stack, down to the fixture');
    const repro = /^ {2}repro: (mdevfuzz run .*)$/m.exec(c.stderr)?.[1];
    assert.equal(repro, `mdevfuzz run --target-file ${fixture('bad')} --seed ${SEED} --strategy ${DEFAULT_STRATEGY} --depth 3 --execs ${bad[0]! + 1} --workers 0`);
    const s = summaryOf(results);
    assert.equal(s.exitCode, 2);
    assert.equal(s.findings.length, 0, 'not a kernel finding');
    assert.deepEqual(s.targetErrors?.map((e) => [e.title, e.execIndex, e.hits]), [[title, bad[0], bad.length]]);
    assert.deepEqual(readdirSync(corpus), [], 'nothing written to the corpus');
    // junit.xml: an <error> testcase with its stack and repro command; report.html: a section of them.
    const junit = readFileSync(s.junitFile, 'utf8');
    const xml = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
    const caseAt = junit.indexOf(`<testcase classname="bad" name="${xml(title)}" time="0">\n      <error message="target error`);
    assert.ok(caseAt >= 0, junit);
    const errorBody = junit.slice(junit.indexOf('type="target-error">', caseAt), junit.indexOf('</error>', caseAt));
    assert.match(errorBody, / {4}at .*bad\.mjs/, 'the stack in the error');
    assert.ok(errorBody.includes(`repro: ${xml(repro!)}`), errorBody);
    assert.match(junit, /<testsuite name="bad" tests="1" failures="0" errors="1" skipped="0"/);
    const html = readFileSync(s.reportFile, 'utf8');
    const section = /<section id="target-errors"><h2>Target errors \(1\)<\/h2>([\s\S]*?)<\/section>/.exec(html);
    assert.ok(section, 'report.html has a target errors section');
    assert.ok(section[1]!.includes(`first index ${bad[0]} &middot; ${bad.length} hits`), section[1]);
    assert.ok(section[1]!.includes(repro!.replace(/'/g, '&#39;')), 'the repro command');
    assert.match(section[1]!, /<pre class="stack">[^<]*at [^<]*bad\.mjs/, 'the stack');
    assert.match(html, /<p class="verdict bad">1 target error<\/p>/);
    // A merge of the run keeps them, in its junit.xml and report.html too, and exits 2.
    const merged = await run(['merge', 'merged', path.dirname(s.summaryFile), '--results', results], { killMs: 20_000 });
    assert.equal(merged.code, 2, merged.stderr);
    assert.ok(merged.stderr.includes(`mdevfuzz: target error in bad: ${title}`), merged.stderr);
    const m = JSON.parse(readFileSync(path.join(results, 'merged', 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(m.targetErrors?.map((e) => [e.title, e.execIndex, e.hits]), [[title, bad[0], bad.length]]);
    assert.match(readFileSync(m.junitFile, 'utf8'), /errors="1"[\s\S]*type="target-error"/);
    assert.match(readFileSync(m.reportFile, 'utf8'), /<section id="target-errors">/);
    // The repro command throws it again.
    const again = await run([...repro!.split(' ').slice(1), '--corpus', corpus, '--results', path.join(tmp, 'bad', 'again')]);
    assert.equal(again.code, 2);
    assert.ok(again.stderr.includes(title), again.stderr);
  });
});

describe('bad flags', () => {
  for (const [flag, value, why] of [
    ['--workers', '1000', /argument '1000' is invalid\. At most \d+ \(4 per core/],
    ['--depth', '100000000', /argument '100000000' is invalid\. At most 4000/],
    ['--depth', '1000000000', /argument '1000000000' is invalid\. At most 4000/],
  ] as const) {
    test(`${flag} ${value}: one line, exit 2, nothing run`, async () => {
      const { corpus, results } = dirs(`flag${flag}${value}`);
      const c = await run(['run', '--target', 'mdev-v5.0', flag, value, '--execs', '10', '--corpus', corpus, '--results', results], { killMs: 10_000 });
      assert.equal(c.code, 2);
      assert.equal(c.stdout, '');
      assert.equal(c.stderr.split('\n').filter(Boolean).length, 1, c.stderr);
      assert.match(c.stderr, /^mdevfuzz: option/);
      assert.match(c.stderr, why);
      assert.ok(!existsSync(results), 'nothing written');
    });
  }
});

describe('the campaign behind a fake executor', () => {
  test('a killed execution is one finding, and the rest of its batch runs again: every index once, the other findings as without it', async () => {
    const target = findTarget('mdev-v5.0')!;
    const KILLED = 130;
    const ran: number[] = [];
    const fake: BatchExecutor = {
      async run(task: BatchTask): Promise<BatchOutcome> {
        if (KILLED >= task.start && KILLED < task.start + task.count) {
          const finding = { title: 'INFO: rcu_sched self-detected stall on CPU in fake', kind: 'stall' as const, index: KILLED, detail: [], hits: 1, step: 3 };
          return { kind: 'killed', index: KILLED, steps: 3, finding };
        }
        for (let i = task.start; i < task.start + task.count; i++) ran.push(i);
        return { kind: 'done', result: runBatch(target, task.cfg, task.start, task.count) };
      },
      stopAll() {},
      stopStuck() {},
      async close() {},
    };
    const cfg = { target: { name: target.name }, seed: 'fake', strategy: 'pct' as const, depth: 3, execs: 400, batchSize: 100 };
    const faked = await runCampaign({ ...cfg, workers: 2, executor: fake });
    const plain = await runCampaign({ ...cfg, workers: 0 });
    assert.deepEqual(ran.sort((a, b) => a - b), [...Array(400).keys()].filter((i) => i !== KILLED));
    assert.equal(faked.executions, 400);
    const stall = faked.findings.find((f) => f.kind === 'stall');
    assert.deepEqual([stall?.index, stall?.hits, stall?.step], [KILLED, 1, 3]);
    // The other findings: those of the plain campaign, less what index KILLED found there.
    const atKilled = new Set(runBatch(target, { seed: 'fake', strategy: 'pct', depth: 3 }, KILLED, 1).findings.map((f) => f.title));
    const rest = faked.findings.filter((f) => f.kind !== 'stall').map((f) => [f.title, f.index]);
    const expected = plain.findings
      .filter((f) => !(atKilled.has(f.title) && f.hits === 1))
      .map((f) => [f.title, atKilled.has(f.title) && f.index === KILLED ? -1 : f.index]);
    assert.deepEqual(rest.filter(([, i]) => i !== -1), expected.filter(([, i]) => i !== -1));
  });
});
