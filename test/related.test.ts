// Findings that belong together: the deadlock and the lockdep reports of one lock cycle name the
// cycle in their detail (harness/kernel/lock-cycle.ts), and relate() links them (each lists the
// others as `related`), in summary.json, in the run's output, in report.html and through merge.
// A hang that is not a lock cycle (a lost wakeup) names none and is related to nothing.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defineStruct, defineTarget, makeRng, mutex_lock, mutex_unlock, replay, run, type Target } from '../harness/api.js';
import { relate, relatedGroups, type Relatable } from '../harness/report/related.js';
import type { RunSummary } from '../harness/report/summary.js';
import { cli } from './fixtures/cli.js';

const example = (name: string): string => fileURLToPath(new URL(`../examples/targets/${name}.js`, import.meta.url));
const load = async (name: string): Promise<Target> => ((await import(example(name))) as { default: Target }).default;
const CYCLE = 'lock cycle: &bank->lock_a, &bank->lock_b';

describe('both oracles name the lock cycle', () => {
  test('bank-transfer: every deadlock and lockdep report names lock_a and lock_b, and relate() makes them one group', async () => {
    const r = await run({ target: await load('bank-transfer'), seed: 'example', execs: 300 });
    const kinds = new Set(r.findings.map((f) => f.kind));
    assert.deepEqual([...kinds].sort(), ['hung-task', 'lockdep']);
    for (const f of r.findings) assert.ok(f.detail.includes(CYCLE), `${f.title}\n${f.detail.join('\n')}`);
    const rows: Relatable[] = r.findings.map((f) => ({ target: 'bank-transfer', signature: f.title, detail: f.detail }));
    const groups = relate(rows);
    assert.deepEqual(groups, [{ target: 'bank-transfer', cause: CYCLE, signatures: r.findings.map((f) => f.title) }]);
    for (const row of rows) assert.deepEqual(row.related, r.findings.map((f) => f.title).filter((t) => t !== row.signature).sort());
  });

  test('a lock taken twice: the recursive-locking report and the hang name a cycle of one lock', () => {
    const obj = defineStruct('obj', ['lock']);
    const t = defineTarget({
      name: 'twice',
      pools: [{ def: obj, capacity: 1 }],
      *setup(k) {
        k.alloc(obj, 'init');
      },
      ops: {
        *twice(k) {
          const o = k.nth(obj, 0);
          yield* mutex_lock(k, o, 'lock');
          yield* mutex_lock(k, o, 'lock');
          yield* mutex_unlock(k, o, 'lock');
        },
      },
      program: [['twice']],
    });
    const r = replay(t, t.generate!(makeRng('0')));
    assert.deepEqual(r.findings.map((f) => f.title), ['WARNING: possible recursive locking detected in twice', 'INFO: task hung in twice']);
    for (const f of r.findings) assert.ok(f.detail.includes('lock cycle: &obj->lock'), f.detail.join('\n'));
  });

  test('a lost wakeup is a hang of no lock cycle: related to nothing', async () => {
    const r = await run({ target: await load('mailbox'), seed: 'example', execs: 100 });
    assert.ok(r.findings.length > 0);
    assert.ok(r.findings.every((f) => !f.detail.some((d) => d.startsWith('lock cycle:'))));
    assert.deepEqual(relatedGroups(r.findings.map((f) => ({ target: 'mailbox', signature: f.title, detail: f.detail }))), []);
  });
});

test('relate() links only findings of one target, and clears a stale link', () => {
  const rows: Relatable[] = [
    { target: 'a', signature: 'X', detail: ['lock cycle: l1, l2'] },
    { target: 'a', signature: 'Y', detail: ['lock cycle: l1, l2'] },
    { target: 'b', signature: 'Z', detail: ['lock cycle: l1, l2'] },
    { target: 'a', signature: 'W', detail: ['lock cycle: l3'], related: ['stale'] },
  ];
  relate(rows);
  assert.deepEqual(rows.map((r) => r.related), [['Y'], ['X'], undefined, undefined]);
});

describe('the command line shows them together', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-related-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const results = path.join(tmp, 'results');

  test('run: summary.json, the output and report.html link the deadlock and the lockdep reports; merge keeps the links', async () => {
    const file = example('bank-transfer');
    const r = await cli(['run', '--target-file', file, '--seed', 'example', '--execs', '300', '--workers', '0', '--corpus', path.join(tmp, 'corpus'), '--results', results, '--run-id', 'a']);
    assert.equal(r.code, 1, r.stderr);
    const summary = JSON.parse(readFileSync(path.join(results, 'a', 'summary.json'), 'utf8')) as RunSummary;
    const titles = summary.findings.map((f) => f.signature);
    assert.ok(titles.some((t) => t.startsWith('INFO: task hung in')) && titles.some((t) => t.startsWith('WARNING: possible circular')), titles.join('\n'));
    for (const f of summary.findings) assert.deepEqual(f.related, titles.filter((t) => t !== f.signature).sort(), f.signature);
    assert.ok(r.stdout.includes(`related (one cause, ${CYCLE}):\n${titles.map((t) => `  ${t}`).join('\n')}\n`), r.stdout);
    assert.match(r.stdout, /\n {5}related: INFO: task hung in pay_/);
    const html = readFileSync(path.join(results, 'a', 'report.html'), 'utf8');
    assert.equal((html.match(/<p class="related">/g) ?? []).length, titles.length);
    const m = await cli(['merge', 'm', path.join(results, 'a'), '--results', results]);
    assert.notEqual(m.code, 2, m.stderr);
    const merged = JSON.parse(readFileSync(path.join(results, 'm', 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(merged.findings.map((f) => f.related), summary.findings.map((f) => f.related));
  });
});
