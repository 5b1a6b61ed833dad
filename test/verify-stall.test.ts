// mdevfuzz verify runs its search on a worker thread under the watchdog (issue 13's rule for every
// command that runs target code): a program whose CPU never reaches its next preemption point ends
// the search as a stall finding, exit 1, instead of hanging the command; the state file stays for
// a rerun once the target is fixed.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

test('a program that never yields ends verify as a stall finding, exit 1, and the command does not hang', async () => {
  const fixture = path.join(tmp, 'spinner.mjs');
  writeFixture(fixture);
  const results = path.join(tmp, 'results');
  const args = ['verify', '--target-file', fixture, '--max-ops', '2', '--cpus', '2', '--preemptions', '0', '--no-faults', '--stall-timeout', '300ms', '--results', results, '--corpus', path.join(tmp, 'corpus')];
  const t0 = performance.now();
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
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
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  assert.match(r.stdout, /^unexpected: spinner: INFO: rcu_sched self-detected stall on CPU in mtty_spin at bound 0, rank \d+ \(cpu0: \S+; cpu1: \S+\)/m);
  assert.match(r.stdout, /rank \d+ \(cpu0: .*spin\(\).*\): cpu\d did not reach its next preemption point within 300ms/, 'the stalled program runs spin');
  assert.match(r.stderr, /resumes before that program: fix the target first/);
  assert.ok(performance.now() - t0 < 20_000, 'ended well before the hard kill');
  assert.equal(readdirSync(path.join(results, 'verify')).length, 1, 'the state file is there for a rerun');
});
