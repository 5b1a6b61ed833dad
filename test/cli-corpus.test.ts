// `mdevfuzz corpus list | check | merge` on two corpora written by short runs with different seeds.

import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseEntry, serializeEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { countOps } from '../harness/engine/program.js';
import { replayExecution } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';
import { cli, snapshot } from './fixtures/cli.js';




const target = findTarget('mdev-v5.0')!;
let tmp: string;
let A: string;
let B: string;
const at = (name: string): string => path.join(tmp, name);
const entriesOf = (dir: string): Map<string, { file: string; entry: CorpusEntry }> => {
  const sub = path.join(dir, 'mdev-v5.0');
  return new Map(readdirSync(sub).map((n) => {
    const file = path.join(sub, n);
    const entry = parseEntry(readFileSync(file, 'utf8'), file);
    return [entry.signature, { file, entry }];
  }));
};
const needsPreemptions = (e: CorpusEntry): boolean =>
  e.schedule.length > 0 && !replayExecution(target, e.program, e.faults, []).result.findings.some((f) => f.title === e.signature);

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-corpus-cli-'));
  [A, B] = [at('a'), at('b')];
  const runs = [[A, '1'], [B, '2']].map(([dir, seed]) =>
    cli(['run', '--target', 'mdev-v5.0', '--seed', seed!, '--execs', '1000', '--workers', '0', '--corpus', dir!, '--results', at('results'), '--json']));
  for (const r of await Promise.all(runs)) assert.notEqual(r.code, 2, r.stderr);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

describe('mdevfuzz corpus list', () => {
  test('prints one line per entry with its target, signature, kind, hits and runs from the history, and sizes', async () => {
    const entries = entriesOf(A);
    const r = await cli(['corpus', 'list', A, '--results', at('results')]);
    assert.equal(r.code, 0, r.stderr);
    const history = JSON.parse(readFileSync(path.join(at('results'), 'history.json'), 'utf8')) as { findings: Record<string, Record<string, { hits: number; runs: number; lastSeen: string }>> };
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('mdev-v5.0 '));
    assert.equal(lines.length, entries.size);
    for (const { entry: e } of entries.values()) {
      const line = lines.find((l) => l.includes(` ${e.signature} `));
      assert.ok(line, e.signature);
      const m = e.minimized;
      const h = history.findings['mdev-v5.0']![e.signature]!;
      assert.ok(h.hits >= 1 && h.runs >= 1 && h.runs <= 2, e.signature);
      const want = `${e.kind} +${h.hits.toLocaleString('en-US')} +${h.runs} +${h.lastSeen.slice(0, 10)} +${e.program.cpus.length}/${countOps(e.program)}/${e.schedule.length} +${m ? `${m.program.cpus.length}/${countOps(m.program)}/${m.schedule.length}` : '-'}$`;
      assert.match(line, new RegExp(want), e.signature);
    }
  });
});

describe('mdevfuzz corpus check', () => {
  test('passes on the entries a run wrote', async () => {
    const r = await cli(['corpus', 'check', A, B]);
    assert.equal(r.code, 0, r.stdout);
    const n = entriesOf(A).size + entriesOf(B).size;
    assert.match(r.stdout, new RegExp(`^${n} entries checked: ${n} passed, 0 failed$`, 'm'));
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('ok    ')).length, n);
  });

  test('exits 1 naming a corrupted file, an original and a minimized form that no longer reproduce', async () => {
    const C = at('c');
    cpSync(A, C, { recursive: true });
    const entries = [...entriesOf(C).values()];
    const [corrupt, ...rest] = entries;
    writeFileSync(corrupt!.file, '{"schemaVersion": 1, "signature": ');
    const schedule = rest.find((x) => needsPreemptions(x.entry));
    assert.ok(schedule, 'some entry needs its preemptions');
    writeFileSync(schedule.file, serializeEntry({ ...schedule.entry, schedule: [] }));
    const minimized = rest.find((x) => x !== schedule && x.entry.minimized);
    assert.ok(minimized, 'some other entry is minimized');
    writeFileSync(minimized.file, serializeEntry({ ...minimized.entry, minimized: { ...minimized.entry.minimized!, program: { cpus: [[]] }, schedule: [] } }));

    const r = await cli(['corpus', 'check', C]);
    assert.equal(r.code, 1, r.stderr);
    const fail = (file: string): string => r.stdout.split('\n').find((l) => l.startsWith(`FAIL  ${file}: `)) ?? '';
    assert.match(fail(corrupt!.file), /not valid JSON/);
    assert.match(fail(schedule.file), /the original repro does not reproduce/);
    assert.doesNotMatch(fail(schedule.file), /minimized/);
    assert.match(fail(minimized.file), /the minimized repro does not reproduce/);
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('FAIL')).length, 3);
    assert.match(r.stdout, new RegExp(`^${entries.length} entries checked: ${entries.length - 3} passed, 3 failed$`, 'm'));

    const list = await cli(['corpus', 'list', C]);
    assert.equal(list.code, 1);
    assert.ok(list.stderr.includes(corrupt!.file), list.stderr);
  });
});

describe('mdevfuzz corpus merge', () => {
  test('gives the same bytes whatever the order, sums hits and keeps the smallest repro', async () => {
    const [o1, o2] = [at('ab'), at('ba')];
    assert.equal((await cli(['corpus', 'merge', o1, A, B])).code, 0);
    assert.equal((await cli(['corpus', 'merge', o2, B, A])).code, 0);
    assert.deepEqual(snapshot(o1), snapshot(o2));

    const [a, b, m] = [entriesOf(A), entriesOf(B), entriesOf(o1)];
    assert.deepEqual([...m.keys()].sort(), [...new Set([...a.keys(), ...b.keys()])].sort());
    const both = [...a.keys()].filter((s) => b.has(s));
    assert.ok(both.length > 0, 'the two runs share a signature');
    const size = (e: CorpusEntry): [number, number] => {
      const r = e.minimized ?? e;
      return [countOps(r.program), r.schedule.length];
    };
    for (const sig of both) {
      const [x, y, z] = [a.get(sig)!.entry, b.get(sig)!.entry, m.get(sig)!.entry];
      const smallest = [size(x), size(y)].sort((p, q) => p[0] - q[0] || p[1] - q[1])[0];
      assert.deepEqual(size(z), smallest, sig);
    }
    assert.equal((await cli(['corpus', 'check', o1])).code, 0, 'the merged corpus passes its check');
    const again = await cli(['corpus', 'merge', o1, A, B]);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /\(0 written, /, 'merging the same corpora again writes nothing');
    assert.deepEqual(snapshot(o1), snapshot(o2));
  });

  test("OUT's own entries take part: merging B into a copy of A equals merging A and B", async () => {
    const out = at('a-then-b');
    assert.equal((await cli(['corpus', 'merge', out, A])).code, 0);
    assert.equal((await cli(['corpus', 'merge', out, B])).code, 0);
    assert.deepEqual(snapshot(out), snapshot(at('ab')));
  });

  test('an invalid input is named, exits 2 and nothing is written', async () => {
    const bad = at('b-bad');
    cpSync(B, bad, { recursive: true });
    const victim = [...entriesOf(bad).values()][0]!.file;
    writeFileSync(victim, JSON.stringify({ ...entriesOf(B).values().next().value!.entry, hits: 'many' }));
    const out = at('out-kept');
    cpSync(at('ab'), out, { recursive: true });
    const before = snapshot(out);
    const r = await cli(['corpus', 'merge', out, A, bad]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mdevfuzz: nothing written: 1 invalid input file: [^\n]+\n$/);
    assert.ok(r.stderr.includes(`${victim}: field 'hits'`), r.stderr);
    assert.deepEqual(snapshot(out), before);
    const fresh = at('out-fresh');
    assert.equal((await cli(['corpus', 'merge', fresh, bad])).code, 2);
    assert.equal(existsSync(fresh), false);
  });
});

describe('corpus usage errors', () => {
  test('each gets one line on stderr and exit 2', async () => {
    const missing = at('no-such-dir');
    const cases = [['corpus'], ['corpus', 'frob'], ['corpus', 'check'], ['corpus', 'check', missing], ['corpus', 'list', missing], ['corpus', 'merge', at('o')], ['corpus', 'merge', at('o'), missing]];
    const results = await Promise.all(cases.map((args) => cli(args)));
    results.forEach((r, i) => {
      assert.equal(r.code, 2, cases[i]!.join(' '));
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/, cases[i]!.join(' '));
      assert.equal(r.stdout, '', cases[i]!.join(' '));
    });
    assert.equal(existsSync(at('o')), false);
  });
});
