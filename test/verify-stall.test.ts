// mdevfuzz verify runs its search on a worker thread under the watchdog (issue 13's rule for every
// command that runs target code): a program whose CPU never reaches its next preemption point ends
// the search as a stall finding, exit 1, instead of hanging the command; the state file stays for
// a rerun once the target is fixed, and the corpus gets the stall's entry: its schedule up to the
// step that never finished, which replay reports as the stall.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { MAIN } from './fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-verify-stall-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Two operations: nop, and spin, which loops without yielding once it has taken one step. */
function writeFixture(file: string): void {
  const kernel = new URL('../harness/kernel/kernel.js', import.meta.url).href;
  const layout = new URL('../harness/kernel/layout.js', import.meta.url).href;
  writeFileSync(
    file,
    `import { kfn } from ${JSON.stringify(kernel)};
import { makeLayout } from ${JSON.stringify(layout)};
const nop = kfn('mtty_nop', function* (k) { yield k.at('a'); return 0; });
const spin = kfn('mtty_spin', function* (k) { yield k.at('enter'); for (;;) {} });
export default {
  name: 'spinner', description: 'an operation that never yields', kernelVersion: 'test', layout: makeLayout([]),
  ops: [{ name: 'nop', weight: 1, args: {} }, { name: 'spin', weight: 1, args: {} }],
  *setup() {}, *run(k, o) { return o.op === 'spin' ? yield* spin(k) : yield* nop(k); },
  *exitCpu() {}, *teardown() {}, invariants: [], leakCheck() {}, expectations: [], faultCalls: [],
};
`,
  );
}

/**
 * Two operations on one flag: raise, which sets it and clears it again one step later, and check,
 * which loops without yielding if it finds the flag set: a stall that needs one preemption.
 */
function writeFlagFixture(file: string): void {
  const define = new URL('../harness/define-target.js', import.meta.url).href;
  const layout = new URL('../harness/kernel/layout.js', import.meta.url).href;
  writeFileSync(
    file,
    `import { defineTarget } from ${JSON.stringify(define)};
import { defineStruct } from ${JSON.stringify(layout)};
const flag = defineStruct('flag', ['up']);
export default defineTarget({
  name: 'flagged', description: 'a check that spins on a raised flag', kernelVersion: 'test',
  pools: [{ def: flag, capacity: 1 }],
  *setup(k) { k.alloc(flag, 'init'); },
  ops: {
    *raise(k) { yield k.at('up'); k.set(k.nth(flag, 0), 'up', 1); yield k.at('down'); k.set(k.nth(flag, 0), 'up', 0); return 0; },
    *check(k) { yield k.at('read'); if (k.get(k.nth(flag, 0), 'up') === 1) for (;;) {} return 0; },
  },
});
`,
  );
}

function mdevfuzz(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const hard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(hard);
      resolve({ code, stdout, stderr });
    });
  });
}

test('a program that never yields ends verify as a stall finding, exit 1, and the command does not hang', async () => {
  const fixture = path.join(tmp, 'spinner.mjs');
  writeFixture(fixture);
  const results = path.join(tmp, 'results');
  const args = ['verify', '--target-file', fixture, '--max-ops', '2', '--cpus', '2', '--preemptions', '0', '--no-faults', '--stall-timeout', '300ms', '--results', results, '--corpus', path.join(tmp, 'corpus')];
  const t0 = performance.now();
  const r = await mdevfuzz(args);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^unexpected: spinner: INFO: rcu_sched self-detected stall on CPU in mtty_spin at bound 0, rank \d+ \(cpu0: \S+; cpu1: \S+\)/m);
  assert.match(r.stdout, /rank \d+ \(cpu0: .*spin\(\).*\): cpu\d did not reach its next preemption point within 300ms/, 'the stalled program runs spin');
  assert.match(r.stderr, /resumes before that program: fix the target first/);
  assert.ok(performance.now() - t0 < 20_000, 'ended well before the hard kill');
  assert.equal(readdirSync(path.join(results, 'verify')).length, 1, 'the state file is there for a rerun');
});

test('a stall that needs a preemption: its corpus entry holds the schedule up to the stalled step, and replay reports the stall', async () => {
  const fixture = path.join(tmp, 'flagged.mjs');
  writeFlagFixture(fixture);
  const corpus = path.join(tmp, 'flag-corpus');
  const common = ['--target-file', fixture, '--max-ops', '2', '--cpus', '2', '--no-faults', '--stall-timeout', '300ms', '--results', path.join(tmp, 'flag-results'), '--corpus', corpus];
  const clean = await mdevfuzz(['verify', ...common, '--preemptions', '0']);
  assert.equal(clean.code, 0, `${clean.stdout}\n${clean.stderr}`);
  const r = await mdevfuzz(['verify', ...common, '--preemptions', '1']);
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^unexpected: flagged: INFO: rcu_sched self-detected stall on CPU in check at bound 1, rank \d+/m);
  const files = readdirSync(path.join(corpus, 'flagged'));
  assert.equal(files.length, 1);
  const file = path.join(corpus, 'flagged', files[0]!);
  assert.match(r.stdout, new RegExp(`^corpus entry: .*${files[0]!.replace('.', '\\.')}$`, 'm'));
  assert.match(r.stdout, /\^\^\^ INFO: rcu_sched self-detected stall on CPU in check/, 'the ladder ends with the stall');
  const entry = JSON.parse(readFileSync(file, 'utf8')) as { kind: string; signature: string; seed: string; schedule: unknown[] };
  assert.equal(entry.kind, 'stall');
  assert.equal(entry.seed, 'verify:S=2:C=2:B=1');
  assert.equal(entry.schedule.length, 1, 'one preemption: raise switched out between up and down');
  const replay = await mdevfuzz(['replay', file, '--target-file', fixture, '--stall-timeout', '300ms']);
  assert.equal(replay.code, 0, `${replay.stdout}\n${replay.stderr}`);
  assert.match(replay.stdout, /^reproduced: INFO: rcu_sched self-detected stall on CPU in check/);
});
