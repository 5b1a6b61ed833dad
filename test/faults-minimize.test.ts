// Issue 13: the target code a run executes after its campaign (minimizing a new entry, replaying
// corpus entries for missed expectations) and `mdevfuzz minimize` run on a guarded worker. The
// fixture's finding needs two CPUs; on one CPU its operation never reaches a preemption point, so
// the minimizer's first candidate that drops a CPU stalls. Run on the main thread, it would hang
// the command (the hard kill below would then fail the test on its exit code).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEntry } from '../harness/corpus/entry.js';
import { countOps } from '../harness/engine/program.js';
import type { RunSummary } from '../harness/report/summary.js';
import { MAIN } from './fixtures/cli.js';

const TITLE = 'BUG: kernel NULL pointer dereference in mtty_boom';

interface Child {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The CLI with MTTY_MODE set; killed after `killMs` (its code is then null). With `termOn`, SIGTERM
 * goes once stdout matches it; `sinceTerm` is then the time from the signal to the exit.
 */
function run(args: readonly string[], mode: string, o: { killMs?: number; termOn?: RegExp } = {}): Promise<Child & { sinceTerm?: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, MTTY_MODE: mode } });
    let stdout = '';
    let stderr = '';
    let termAt: number | undefined;
    const hard = setTimeout(() => child.kill('SIGKILL'), o.killMs ?? 60_000);
    const watch = (): void => {
      if (o.termOn && termAt === undefined && o.termOn.test(stdout)) {
        termAt = performance.now();
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      watch();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hard);
      resolve({ code, stdout, stderr, ...(termAt !== undefined ? { sinceTerm: performance.now() - termAt } : {}) });
    });
  });
}

let tmp: string;
let fixture: string;

/**
 * Three CPUs, cpu0 [nop, boom], cpu1 [nop, nop], cpu2 [nop] (MTTY_MODE=find), or cpu0 [nop] alone
 * (MTTY_MODE=quiet, where boom always spins): boom oopses with two CPUs or more and spins on one.
 */
function writeFixture(): void {
  const kernel = new URL('../harness/kernel/kernel.js', import.meta.url).href;
  const layout = new URL('../harness/kernel/layout.js', import.meta.url).href;
  writeFileSync(
    fixture,
    `import { kfn } from ${JSON.stringify(kernel)};
import { makeLayout } from ${JSON.stringify(layout)};
const quiet = process.env.MTTY_MODE === 'quiet';
const nop = kfn('mtty_nop', function* (k) { yield k.at('a'); return 0; });
const boom = kfn('mtty_boom', function* (k) {
  yield k.at('enter');
  if (quiet || k.stacks.length - 1 < 2) for (;;) {}
  k.oops('null-deref', ${JSON.stringify(TITLE)});
});
const op = (name) => ({ op: name, args: {} });
export default {
  name: 'boom', description: 'a finding whose smaller candidates stall', kernelVersion: 'test', layout: makeLayout([]),
  ops: [{ name: 'nop', weight: 1, args: {} }, { name: 'boom', weight: 1, args: {} }],
  generate() { return quiet ? { cpus: [[op('nop')]] } : { cpus: [[op('nop'), op('boom')], [op('nop'), op('nop')], [op('nop')]] }; },
  *setup() {},
  *run(k, o) { return o.op === 'boom' ? yield* boom(k) : yield* nop(k); },
  *exitCpu() {}, *teardown() {}, invariants: [], leakCheck() {}, faultCalls: [],
  expectations: [{ title: ${JSON.stringify(TITLE)}, status: 'known', reason: 'the fixture oopses on purpose' }],
};
`,
  );
}

const summaryIn = (results: string, runId: string): RunSummary => JSON.parse(readFileSync(path.join(results, runId, 'summary.json'), 'utf8')) as RunSummary;

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-faults-min-'));
  fixture = path.join(tmp, 'boom.mjs');
  writeFixture();
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('target code after the campaign runs on a guarded worker', { concurrency: 1 }, () => {
  const corpus = (): string => path.join(tmp, 'corpus');
  const results = (name: string): string => path.join(tmp, 'results', name);
  let entryFile = '';

  test('run: a minimization candidate that stalls is skipped with a warning, and the entry is minimized past it', async () => {
    const c = await run(['run', '--target-file', fixture, '--seed', 's', '--execs', '1', '--workers', '1', '--stall-timeout', '300ms', '--corpus', corpus(), '--results', results('find'), '--run-id', 'find'], 'find');
    assert.equal(c.code, 0, `an expected finding, saved: ${c.stderr}`);
    assert.match(c.stderr, /minimizing BUG: kernel NULL pointer dereference in mtty_boom: a candidate was skipped \(replay \d+: INFO: rcu_sched self-detected stall on CPU in mtty_boom\)/);
    const s = summaryIn(results('find'), 'find');
    const f = s.findings.find((x) => x.signature === TITLE);
    assert.ok(f?.corpusFile && f.minimize?.outcome === 'minimized', JSON.stringify(f?.minimize));
    entryFile = f.corpusFile;
    const entry = parseEntry(readFileSync(entryFile, 'utf8'), entryFile);
    assert.equal(entry.minimizePending, false);
    const m = entry.minimized!;
    assert.equal(m.program.cpus.length, 2, 'one CPU would stall: the smallest that shows the oops has two');
    assert.ok(countOps(m.program) < countOps(entry.program), 'smaller than found');
    assert.ok(m.program.cpus.some((ops) => ops.some((o) => o.op === 'boom')));
  });

  test('minimize: the same, on the command line', async () => {
    const c = await run(['minimize', entryFile, '--target-file', fixture, '--stall-timeout', '300ms', '--json'], 'find');
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /a candidate was skipped \(replay \d+: INFO: rcu_sched self-detected stall on CPU in mtty_boom\)/);
    const report = JSON.parse(c.stdout) as { reproduced: boolean; stats: { after: { cpus: number } } };
    assert.deepEqual([report.reproduced, report.stats.after.cpus], [true, 2]);
  });

  test('SIGTERM while a minimization candidate is stuck: exit 130 within 2 s, the entry left pending for the next run', async () => {
    const dir = path.join(tmp, 'corpus-term');
    const c = await run(
      ['run', '--target-file', fixture, '--seed', 's', '--execs', '1', '--workers', '1', '--stall-timeout', '30s', '--corpus', dir, '--results', results('term'), '--run-id', 'term'],
      'find',
      { termOn: /minimizing and saving new entries: 0\/1/ },
    );
    assert.equal(c.code, 130, c.stderr);
    assert.ok(c.sinceTerm !== undefined && c.sinceTerm < 2_000, `exit ${Math.round(c.sinceTerm ?? -1)} ms after SIGTERM`);
    const entry = parseEntry(readFileSync(path.join(dir, 'boom', 'bug-kernel-null-pointer-dereference-in-mtty-boom.json'), 'utf8'), 'boom');
    assert.deepEqual([entry.minimizePending, entry.minimized], [true, null], 'saved as found, its minimization for the next run');
  });

  test('run: an expectation missed by the campaign whose corpus entry now stalls is lost, and the run ends', async () => {
    const before = readFileSync(entryFile, 'utf8');
    const c = await run(['run', '--target-file', fixture, '--seed', 's', '--execs', '1', '--workers', '1', '--stall-timeout', '300ms', '--corpus', corpus(), '--results', results('quiet'), '--run-id', 'quiet'], 'quiet');
    assert.equal(c.code, 1, `a lost expectation: ${c.stderr}`);
    const e = summaryIn(results('quiet'), 'quiet').results[0]!.expectations;
    assert.deepEqual([e.expectedNotFound, e.lost, e.reproducedFromCorpus], [[TITLE], [TITLE], []]);
    assert.equal(readFileSync(entryFile, 'utf8'), before, 'the entry is kept as it was');
  });
});
