// The plug-in targets of examples/targets, compiled with the rest (their `import ... from
// 'mdevfuzz'` resolves to this package itself): each imports only the public entry, and each
// shows its bug through the programmatic API: found, replayed exactly, minimized.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { minimize, replay, run, type Target } from '../harness/api.js';

const compiled = (name: string): string => fileURLToPath(new URL(`../examples/targets/${name}.js`, import.meta.url));
const source = (name: string): string => fileURLToPath(new URL(`../../examples/targets/${name}.ts`, import.meta.url));
const load = async (name: string): Promise<Target> => ((await import(compiled(name))) as { default: Target }).default;

const EXAMPLES = ['bank-transfer', 'mailbox', 'session-table'];

test('the examples import nothing but the public entry', () => {
  for (const name of EXAMPLES) {
    const specifiers = [...readFileSync(source(name), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    assert.ok(specifiers.length > 0, name);
    assert.deepEqual(new Set(specifiers), new Set(['mdevfuzz']), name);
  }
});

describe('bank-transfer: a lock-order inversion in a fixed program', () => {
  const LOCKDEP = /^WARNING: possible circular locking dependency detected in pay_(a_to_b|b_to_a)$/;
  const HUNG = /^INFO: task hung in pay_(a_to_b|b_to_a)$/;

  test('found as a lockdep report and as a hang, each replaying exactly', async () => {
    const bank = await load('bank-transfer');
    const r = await run({ target: bank, seed: 'example', execs: 300 });
    const titles = r.findings.map((f) => f.title);
    assert.ok(titles.some((t) => LOCKDEP.test(t)), titles.join('\n'));
    assert.ok(titles.some((t) => HUNG.test(t)), titles.join('\n'));
    for (const f of r.findings) {
      assert.deepEqual(f.repro!.program.cpus.map((ops) => ops.map((o) => o.op)), [['pay_a_to_b'], ['pay_b_to_a']], 'the fixed program');
      assert.ok(replay(bank, f.repro!.program, f.repro!.faults, f.repro!.schedule).findings.some((x) => x.title === f.title), f.title);
    }
  });

  test('the minimized hang: each CPU stopped at its second lock, the one the other holds', async () => {
    const bank = await load('bank-transfer');
    const hang = (await run({ target: bank, seed: 'example', execs: 300 })).findings.find((f) => HUNG.test(f.title))!;
    const m = minimize(bank, hang.repro!, hang.title);
    assert.equal(m.repro.program.cpus.length, 2);
    assert.match(m.ladder, /pay_a_to_b:mutex_lock\(lock_b\)/);
    assert.match(m.ladder, /pay_b_to_a:mutex_lock\(lock_a\)/);
    assert.match(m.ladder, /\^\^\^ INFO: task hung in pay_/);
  });
});

describe('session-table: a use-after-free between a lookup and a release', () => {
  const UAF = 'KASAN: use-after-free Read in use';

  test('found, and minimized to a use and a close on two CPUs', async () => {
    const sessions = await load('session-table');
    const r = await run({ target: sessions, seed: 'example', execs: 300 });
    const uaf = r.findings.find((f) => f.title === UAF);
    assert.ok(uaf, r.findings.map((f) => f.title).join('\n'));
    assert.equal(uaf.kind, 'use-after-free');
    const m = minimize(sessions, uaf.repro!, UAF);
    assert.deepEqual(m.repro.program.cpus.map((ops) => ops.map((o) => o.op)).sort(), [['close'], ['use']]);
    assert.match(m.ladder, /\^\^\^ KASAN: use-after-free Read in use/);
    assert.ok(replay(sessions, m.repro.program, m.repro.faults, m.repro.schedule).findings.some((f) => f.title === UAF));
  });
});

describe('mailbox: a lost wakeup on a wait queue', () => {
  const HUNG = 'INFO: task hung in receive';

  test('found as a hang; minimized, the sender runs between the test and the queueing', async () => {
    const box = await load('mailbox');
    const r = await run({ target: box, seed: 'example', execs: 300 });
    const hang = r.findings.find((f) => f.title === HUNG);
    assert.ok(hang, r.findings.map((f) => f.title).join('\n'));
    const m = minimize(box, hang.repro!, HUNG);
    assert.deepEqual(m.repro.program.cpus.map((ops) => ops.map((o) => o.op)), [['receive'], ['send']], 'the fixed program');
    assert.deepEqual(m.repro.schedule, [{ cpu: 0, step: 2, to: 1 }], 'one preemption: right after the test of m->ready');
    assert.match(m.ladder, /~ receive:prepare_to_wait\(wq\)/);
    assert.match(m.ladder, /\^\^\^ INFO: task hung in receive/);
    const again = replay(box, m.repro.program, m.repro.faults, m.repro.schedule);
    assert.deepEqual(again.findings.map((f) => f.title), [HUNG]);
    assert.equal(again.ladder, m.ladder, 'the same ladder on replay');
  });
});
