// Issue 16's done-criterion: a fixed-program target with 12 CPUs runs, replays and minimizes
// (keeping its fixed shape), through the command line with --target-file. The target: CPU 0
// starts eleven worker threads, joins them all and checks a counter each incremented in two
// steps (read, then write), so an interleaving of two workers loses an update.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import type { RunSummary } from '../harness/report/summary.js';
import type { Program } from '../harness/types.js';
import { cli } from './fixtures/cli.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-fixed-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const API = pathToFileURL(fileURLToPath(new URL('../harness/api.js', import.meta.url))).href;
const TARGET = path.join(tmp, 'counter12.mjs');
const TITLE = 'WARNING: lost update in main';
const WORKERS = 11;
writeFileSync(
  TARGET,
  `import { defineStruct, defineTarget, thread_join, thread_start } from '${API}';
const counter = defineStruct('counter', ['n']);
const WORKERS = ${WORKERS};
export default defineTarget({
  name: 'counter12',
  pools: [{ def: counter, capacity: 1 }],
  *setup(k) { k.alloc(counter, 'counter_init'); },
  ops: {
    *main(k) {
      for (let c = 1; c <= WORKERS; c++) yield* thread_start(k, c);
      for (let c = 1; c <= WORKERS; c++) yield* thread_join(k, c);
      yield k.at('check n');
      const n = k.get(k.nth(counter, 0), 'n');
      if (n !== WORKERS) k.warn('invariant', ${JSON.stringify(TITLE)}, ['n is ' + n]);
    },
    *worker(k) {
      const c = k.nth(counter, 0);
      yield k.at('tmp = n');
      const tmp = k.get(c, 'n');
      yield k.at('n = tmp + 1');
      k.set(c, 'n', tmp + 1);
    },
  },
  program: [['main'], ...Array.from({ length: WORKERS }, () => ['worker'])],
  threads: Array.from({ length: WORKERS }, (_, i) => i + 1),
});
`,
);

const SHAPE = [['main'], ...Array.from({ length: WORKERS }, () => ['worker'])];
const shape = (p: Program): string[][] => p.cpus.map((ops) => ops.map((o) => o.op));
const read = (file: string): CorpusEntry => parseEntry(readFileSync(file, 'utf8'), file);

describe('a fixed program of 12 CPUs through the command line', () => {
  const corpus = path.join(tmp, 'corpus');
  const results = path.join(tmp, 'results');
  let file = '';
  let summary: RunSummary;

  before(async () => {
    const r = await cli(['run', '--target-file', TARGET, '--seed', '12', '--execs', '200', '--workers', '0', '--corpus', corpus, '--results', results, '--run-id', 'inline']);
    assert.equal(r.code, 1, `a run with a new finding exits 1\n${r.stdout}\n${r.stderr}`);
    summary = JSON.parse(readFileSync(path.join(results, 'inline', 'summary.json'), 'utf8')) as RunSummary;
    const dir = path.join(corpus, 'counter12');
    const files = readdirSync(dir).map((n) => path.join(dir, n));
    assert.equal(files.length, 1, files.join('\n'));
    file = files[0]!;
  });

  test('run: found once, saved with the program of 12 CPUs and minimized keeping its shape', () => {
    assert.deepEqual(summary.findings.map((f) => f.signature), [TITLE]);
    const e = read(file);
    assert.equal(e.signature, TITLE);
    assert.deepEqual(shape(e.program), SHAPE);
    assert.ok(e.minimized, 'run minimizes a new finding');
    assert.deepEqual(shape(e.minimized.program), SHAPE, 'the minimized repro keeps every CPU and operation');
    assert.ok(e.minimized.schedule.length >= 1 && e.minimized.schedule.length <= e.schedule.length);
  });

  test('replay: the signature recurs, the ladder names the threads started and joined', async () => {
    const r = await cli(['replay', file, '--target-file', TARGET, '--ladder']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(TITLE));
    assert.match(r.stdout, /main:thread_join\(cpu\d+\)|main:thread_start\(cpu\d+\)/);
    const again = await cli(['replay', file, '--target-file', TARGET, '--ladder']);
    assert.equal(again.stdout, r.stdout, 'the same replay twice');
  });

  test('minimize: again from the saved entry, the shape kept', async () => {
    const r = await cli(['minimize', file, '--target-file', TARGET, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = read(file).minimized!;
    assert.deepEqual(shape(m.program), SHAPE);
    assert.ok(m.schedule.length >= 1);
  });

  test('the threads engine (a worker thread per CPU, 12 of them) finds the same as inline; stress refuses threads', async () => {
    const runs = await Promise.all(
      ['inline', 'threads'].map(async (engine) => {
        const args = ['run', '--target-file', TARGET, '--seed', '12', '--execs', '10', '--workers', '0', '--engine', engine, '--no-minimize', '--json'];
        const r = await cli([...args, '--corpus', path.join(tmp, `corpus-${engine}`), '--results', results, '--run-id', `engine-${engine}`]);
        assert.notEqual(r.code, 2, r.stderr);
        return (JSON.parse(r.stdout) as RunSummary).findings.map((f) => [f.signature, f.execIndex, f.hits]);
      }),
    );
    assert.equal(runs[0]![0]![0], TITLE);
    assert.deepEqual(runs[1], runs[0]);
    const stress = await cli(['stress', '--target-file', TARGET, '--execs', '5', '--workers', '1', '--results', path.join(tmp, 'stress'), '--corpus', path.join(tmp, 'stress-corpus')]);
    assert.equal(stress.code, 2);
    assert.match(stress.stderr, /^mdevfuzz: stress does not run counter12: it has threads \(use run\)$/m);
  });

  test('corpus check passes; the pool engine finds the same at the same index', async () => {
    const check = await cli(['corpus', 'check', corpus, '--target-file', TARGET]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const r = await cli(['run', '--target-file', TARGET, '--seed', '12', '--execs', '200', '--workers', '1', '--corpus', path.join(tmp, 'corpus-pool'), '--results', results, '--run-id', 'pool', '--no-minimize']);
    assert.notEqual(r.code, 2, r.stderr);
    const pool = JSON.parse(readFileSync(path.join(results, 'pool', 'summary.json'), 'utf8')) as RunSummary;
    assert.deepEqual(pool.findings.map((f) => [f.signature, f.execIndex]), summary.findings.map((f) => [f.signature, f.execIndex]));
  });
});
