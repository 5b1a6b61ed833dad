// The stress engine: free-running CPUs on real threads, whose failures are confirmed by replaying
// their ticket order inline. The ticket-order strategy itself is exact on inline traces; stress
// runs find and confirm; the command saves confirmed findings as corpus entries that replay, and
// an execution stuck in target code is abandoned and reported instead of hanging the run.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { parseEntry } from '../harness/corpus/entry.js';
import { execute } from '../harness/engine/inline/inline.js';
import { replayExecution, runIndex } from '../harness/engine/runner.js';
import { confirmInline, ticketOrder } from '../harness/engine/stress/stress-confirm.js';
import { runStress, type StressExecution } from '../harness/engine/stress/stress.js';
import { makeRng } from '../harness/rng.js';
import { findTarget } from '../targets/index.js';
import type { StressSummary } from '../harness/cli/stress.js';

const v50 = findTarget('mdev-v5.0')!;
const CLI = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));

test('the ticket order of an inline trace replays that trace exactly', () => {
  const cfg = { seed: 'tickets', strategy: 'random' as const, depth: 3 };
  for (let index = 0; index < 100; index++) {
    const a = runIndex(v50, cfg, index, { trace: true });
    // A step that a fatal report ends leaves no trace entry; in stress it takes a ticket of its own
    // (stress-worker.ts), so it gets one here too.
    const trace = a.result.trace!;
    const fatal = a.result.findings.find((f) => f.step === trace.length);
    const tickets = fatal ? [...trace, [fatal.cpu, 'oops'] as const] : trace;
    const b = execute(v50, a.program, ticketOrder(tickets, a.program.cpus.length), makeRng('x'), { faults: a.faults, trace: true });
    assert.deepEqual(b.result.trace, a.result.trace, `index ${index}`);
    assert.deepEqual(b.result.findings, a.result.findings, `index ${index}`);
    assert.deepEqual(b.result.schedule, a.result.schedule, `index ${index}`);
  }
});

test('stress runs the programs on threads and confirms what it finds inline', async (t) => {
  const runs: StressExecution[] = [];
  const totals = await runStress({ target: { name: v50.name }, seed: 'smoke', execs: 400 }, (x) => void runs.push(x));
  assert.equal(totals.executions, 400);
  assert.deepEqual(runs.map((x) => x.index), [...Array(400).keys()]);
  for (const x of runs.filter((r) => r.end === 'done')) {
    // Every CPU ran to its exit, and the ring holds each of its preemption points.
    for (let c = 0; c < x.program.cpus.length; c++) assert.equal(x.tickets.filter(([cpu]) => cpu === c).at(-1)?.[1], 'do_exit', `index ${x.index} cpu${c}`);
  }
  const failing = runs.filter((x) => x.findings.length > 0);
  let sightings = 0;
  let confirmed = 0;
  for (const x of failing) {
    const c = confirmInline(v50, x, 'smoke');
    sightings += x.findings.length;
    confirmed += c.confirmed.size;
    for (const title of c.confirmed) {
      const again = replayExecution(v50, x.program, x.faults, c.schedule).result;
      assert.ok(again.findings.some((f) => f.title === title), `the confirmed repro of ${title} replays`);
    }
  }
  t.diagnostic(`${totals.steps} steps in ${totals.elapsedMs} ms; ${failing.length} failing executions, ${confirmed}/${sightings} sightings confirmed`);
  assert.ok(failing.length > 0, 'stress found something');
  assert.ok(confirmed > 0, 'some of it was confirmed inline');
});

test('mdevfuzz stress saves confirmed findings as corpus entries that replay', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-stress-'));
  const corpus = path.join(dir, 'corpus');
  let stdout: string;
  let code = 0;
  try {
    ({ stdout } = await promisify(execFile)(process.execPath, [CLI, 'stress', '--target', 'mdev-v5.0', '--execs', '500', '--seed', '3', '--json', '--corpus', corpus, '--results', path.join(dir, 'results')]));
  } catch (e) {
    ({ stdout, code } = e as { stdout: string; code: number });
  }
  const s = JSON.parse(stdout) as StressSummary;
  assert.equal(code, s.findings.some((f) => f.new) ? 1 : 0, 'exit 1 exactly when a confirmed finding is new');
  assert.equal(s.engine, 'stress');
  assert.equal(s.executions, 500);
  assert.ok(s.findings.length > 0 && s.confirmedSightings > 0);
  assert.equal(s.confirmationRate, Math.round((s.confirmedSightings / s.sightings) * 1000) / 1000);
  assert.deepEqual(JSON.parse(readFileSync(s.summaryFile, 'utf8')), s);
  for (const f of s.findings) {
    assert.equal(f.corpusFile !== null, f.confirmed > 0, f.signature);
    assert.equal(f.unconfirmedFile !== null, f.confirmed === 0, f.signature);
    if (f.corpusFile) {
      const entry = parseEntry(readFileSync(f.corpusFile, 'utf8'), f.corpusFile);
      assert.equal(entry.seed, 'stress:3');
      assert.equal(entry.minimizePending, false);
      const { result } = replayExecution(v50, entry.program, entry.faults, entry.schedule);
      assert.ok(result.findings.some((x) => x.title === f.signature), `${f.signature} replays from its entry`);
    }
    if (f.unconfirmedFile) {
      assert.equal(path.basename(path.dirname(f.unconfirmedFile)), 'unconfirmed');
      assert.ok((JSON.parse(readFileSync(f.unconfirmedFile, 'utf8')) as { trace: unknown[] }).trace.length > 0);
    }
  }
  assert.equal(readdirSync(path.join(corpus, 'mdev-v5.0')).filter((n) => n.endsWith('.json')).length, s.findings.filter((f) => f.confirmed > 0).length);
});

test('a stress execution stuck in target code is abandoned and reported', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-stress-'));
  const file = path.join(dir, 'spin-target.mjs');
  const layoutUrl = new URL('../harness/kernel/layout.js', import.meta.url).href;
  writeFileSync(
    file,
    `import { makeLayout } from ${JSON.stringify(layoutUrl)};
export default {
  name: 'spin-fixture', description: 'cpu1 never yields again', kernelVersion: 'test', layout: makeLayout([]),
  ops: [{ name: 'spin', weight: 1, args: {} }],
  *setup() {},
  *run(k) { yield 'spin:enter'; if (k.cpu === 1) for (;;) {} return 0; },
  *exitCpu() {}, *teardown() {}, invariants: [], leakCheck() {}, expectations: [], faultCalls: [],
};
`,
  );
  const runs: StressExecution[] = [];
  const t0 = performance.now();
  await runStress({ target: { file }, seed: 'stuck', execs: 3, execMs: 300 }, (x) => void runs.push(x));
  assert.ok(performance.now() - t0 < 15_000, 'it came back');
  assert.equal(runs[0]?.end, 'stuck');
  assert.deepEqual(runs[0]!.findings.map((f) => [f.kind, f.title]), [['stall', 'INFO: rcu_sched self-detected stall on CPU']]);
});
