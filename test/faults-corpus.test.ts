// Issue 13, the corpus half, through the CLI in child processes, on temporary corpus and results
// directories (the repository stays clean): a kill -9 mid-campaign then a rerun, merges done twice,
// a merge into a partly unwritable directory, concurrent writers of the same entries and history,
// EPIPE, `corpus check` on nothing, unwritable outputs refused before any work, and an
// `npm start`-like run that leaves the committed corpus byte for byte.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import type { History, RunHits } from '../harness/corpus/history.js';
import type { RunSummary } from '../harness/cli/run.js';
import { cli, MAIN, snapshot } from './fixtures/cli.js';

const COMMITTED = fileURLToPath(new URL('../../corpus/', import.meta.url));
let tmp: string;
const at = (...p: string[]): string => path.join(tmp, ...p);

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-faults-corpus-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The entries of one target's directory, by file name (hidden files skipped). */
function entries(dir: string): Map<string, CorpusEntry> {
  if (!existsSync(dir)) return new Map();
  return new Map(readdirSync(dir).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => [n, parseEntry(readFileSync(path.join(dir, n), 'utf8'), n)]));
}
const hidden = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')) : []);
const history = (results: string): History => JSON.parse(readFileSync(path.join(results, 'history.json'), 'utf8')) as History;
const runHits = (runDir: string): RunHits => JSON.parse(readFileSync(path.join(runDir, 'hits.json'), 'utf8')) as RunHits;
/** Hits per signature summed over the given run records. */
function sumHits(runs: readonly RunHits[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of runs) for (const f of r.findings) m.set(`${f.target} | ${f.signature}`, (m.get(`${f.target} | ${f.signature}`) ?? 0) + f.hits);
  return m;
}
function historyHits(h: History): Map<string, number> {
  const m = new Map<string, number>();
  for (const [t, bySig] of Object.entries(h.findings)) for (const [sig, x] of Object.entries(bySig)) m.set(`${t} | ${sig}`, x.hits);
  return m;
}
const oneLine = (stderr: string): void => assert.match(stderr, /^mdevfuzz: [^\n]+\n$/, stderr);

// The five groups run two at a time (each is a child process or two): about half the wall time.
describe('issue 13, the corpus half', { concurrency: 2 }, () => {
  describe('kill -9 mid-campaign, then a rerun', { concurrency: 1 }, () => {
    test('the first sightings are on disk after the kill, the rerun minimizes them, nothing is lost or counted twice', async () => {
      const corpus = at('k9', 'corpus');
      const results = at('k9', 'results');
      const dir = path.join(corpus, 'mdev-v5.0');
      const child = spawn(process.execPath, [MAIN, 'run', '--target', 'mdev-v5.0', '--seed', 'k9', '--time', '60s', '--workers', '0', '--corpus', corpus, '--results', results, '--run-id', 'killed'], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const t0 = Date.now();
      while (entries(dir).size < 3 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 25));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const saved = entries(dir);
      assert.ok(saved.size >= 3, `${saved.size} first sightings on disk before the kill`);
      for (const [name, e] of saved) {
        assert.equal(e.minimizePending, true, `${name}: saved as found, to be minimized`);
        assert.equal(e.minimized, null, name);
      }
      assert.equal(existsSync(path.join(results, 'history.json')), false, 'the killed run counted nothing');

      const rerun = await cli(['run', '--target', 'mdev-v5.0', '--seed', 'k9-again', '--execs', '20', '--workers', '0', '--corpus', corpus, '--results', results, '--run-id', 'rerun', '--json']);
      assert.notEqual(rerun.code, 2, rerun.stderr);
      const s = JSON.parse(rerun.stdout) as RunSummary;
      const after = entries(dir);
      for (const [name, e] of saved) {
        const now = after.get(name);
        assert.ok(now, `${name} is still there`);
        assert.equal(now.minimizePending, false, `${name}: minimized by the rerun`);
        assert.deepEqual([now.program, now.faults, now.schedule], [e.program, e.faults, e.schedule], `${name}: the same repro as found`);
      }
      const found = new Set(s.findings.map((f) => f.signature));
      const resumed = (s.results[0]!.resumed ?? []).map((r) => r.signature).sort();
      assert.deepEqual(resumed, [...saved.values()].map((e) => e.signature).filter((t) => !found.has(t)).sort(), 'the pending entries the rerun did not find again were resumed');
      assert.ok(resumed.length > 0 || s.findings.length > 0);
      const h = history(results);
      assert.deepEqual(Object.keys(h.runs), ['rerun'], 'only the run that finished is counted');
      assert.deepEqual(historyHits(h), sumHits([runHits(at('k9', 'results', 'rerun'))]));
      assert.deepEqual(hidden(dir), [], 'no temp or lock file left behind by the rerun');
    });
  });

  describe('merges done twice, and a merge that fails midway', { concurrency: 1 }, () => {
    let R: string;
    before(async () => {
      R = at('m', 'results');
      const shard = (i: number): Promise<unknown> =>
        cli(['run', '--target', 'mdev-v5.0', '--seed', 'm', '--execs', '300', '--shard', `${i}/2`, '--workers', '0', '--no-minimize', '--corpus', at('m', `c${i}`), '--results', R, '--run-id', `s${i}`, '--json']);
      await Promise.all([shard(0), shard(1)]);
    });

    test('mdevfuzz merge twice counts each run once in the history', async () => {
      const H = at('m', 'merged');
      const first = await cli(['merge', 'night-1', path.join(R, 's0'), path.join(R, 's1'), '--results', H, '--json']);
      assert.notEqual(first.code, 2, first.stderr);
      const once = readFileSync(path.join(H, 'history.json'), 'utf8');
      const second = await cli(['merge', 'night-2', path.join(R, 's0'), path.join(R, 's1'), '--results', H, '--json']);
      assert.equal(second.code, first.code, second.stderr);
      assert.equal(readFileSync(path.join(H, 'history.json'), 'utf8'), once, 'the second merge counted nothing');
      const h = history(H);
      assert.deepEqual(Object.keys(h.runs), ['s0', 's1']);
      assert.deepEqual(historyHits(h), sumHits([runHits(path.join(R, 's0')), runHits(path.join(R, 's1'))]));
      // The merged run's own record folds in as its parts: no new count either.
      const third = await cli(['corpus', 'merge', at('m', 'c-all'), path.join(H, 'night-1', 'corpus'), path.join(R, 's0', 'corpus'), '--results', H]);
      assert.equal(third.code, 0, third.stderr);
      assert.match(third.stdout, /0 runs added, 2 already counted/);
      assert.equal(readFileSync(path.join(H, 'history.json'), 'utf8'), once);
      assert.deepEqual(hidden(H), [], 'no staging directory or lock left in --results');
    });

    test('corpus merge twice writes nothing the second time and counts the run once', async () => {
      const H = at('m', 'h2');
      const out = at('m', 'c-twice');
      const a = await cli(['corpus', 'merge', out, path.join(R, 's0', 'corpus'), '--results', H]);
      assert.equal(a.code, 0, a.stderr);
      assert.match(a.stdout, /1 run added/);
      const bytes = snapshot(out);
      const hist = readFileSync(path.join(H, 'history.json'), 'utf8');
      const b = await cli(['corpus', 'merge', out, path.join(R, 's0', 'corpus'), '--results', H]);
      assert.equal(b.code, 0, b.stderr);
      assert.match(b.stdout, /\(0 written, .*0 runs added, 1 already counted/);
      assert.deepEqual(snapshot(out), bytes);
      assert.equal(readFileSync(path.join(H, 'history.json'), 'utf8'), hist);
      assert.deepEqual(historyHits(history(H)), sumHits([runHits(path.join(R, 's0'))]));
    });

    test('a merge into a partly unwritable directory changes nothing, says so in one line and exits 2', async () => {
      const out = at('m', 'partly');
      mkdirSync(path.join(out, 'mdev-v5.0'), { recursive: true });
      const keep = [...entries(path.join(COMMITTED, 'mdev-v5.0')).keys()].slice(0, 2);
      for (const n of keep) cpSync(path.join(COMMITTED, 'mdev-v5.0', n), path.join(out, 'mdev-v5.0', n));
      writeFileSync(path.join(out, 'mdev-v6'), 'a file where the mdev-v6 directory would go\n');
      const before = snapshot(out);
      const r = await cli(['corpus', 'merge', out, COMMITTED, '--results', at('m', 'h3')]);
      assert.equal(r.code, 2);
      oneLine(r.stderr);
      assert.match(r.stderr, /nothing written/);
      assert.equal(r.stdout, '');
      assert.deepEqual(snapshot(out), before, 'every file as it was, no temp file, no new directory');
      assert.equal(existsSync(path.join(at('m', 'h3'), 'history.json')), false);
    });
  });

  describe('concurrent writers', { concurrency: 1 }, () => {
    test('two runs updating the same entries and history lose nothing', async () => {
      const corpus = at('cc', 'corpus');
      const results = at('cc', 'results');
      const run = (seed: string): Promise<{ code: number | null; stderr: string }> =>
        cli(['run', '--target', 'mdev-v5.0', '--seed', seed, '--execs', '400', '--workers', '0', '--corpus', corpus, '--results', results, '--run-id', `run-${seed}`, '--json']);
      const [a, b] = await Promise.all([run('a'), run('b')]);
      for (const r of [a, b]) assert.notEqual(r.code, 2, r.stderr);
      const [ha, hb] = [runHits(path.join(results, 'run-a')), runHits(path.join(results, 'run-b'))];
      const h = history(results);
      assert.deepEqual(Object.keys(h.runs), ['run-a', 'run-b']);
      assert.deepEqual(historyHits(h), sumHits([ha, hb]));
      const saved = entries(path.join(corpus, 'mdev-v5.0'));
      const sigs = new Set([...ha.findings, ...hb.findings].map((f) => f.signature));
      assert.deepEqual(new Set([...saved.values()].map((e) => e.signature)), sigs, 'one entry per signature');
      assert.equal(saved.size, sigs.size);
      for (const [n, e] of saved) assert.equal(e.minimizePending, false, n);
      assert.deepEqual(hidden(path.join(corpus, 'mdev-v5.0')), []);
    });

    test("a lock left by a writer that was killed is taken over, and the update goes through", async () => {
      const H = at('cc', 'stale-lock');
      mkdirSync(H, { recursive: true });
      const dead = spawn(process.execPath, ['-e', '0']);
      await new Promise((resolve) => dead.on('exit', resolve));
      writeFileSync(path.join(H, '.history.json.lock'), JSON.stringify({ pid: dead.pid, host: os.hostname(), at: Date.now(), token: 'x' }));
      const t0 = Date.now();
      const r = await cli(['corpus', 'merge', at('cc', 'c-stale'), at('cc', 'results', 'run-a', 'corpus'), '--results', H]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(Date.now() - t0 < 20_000, 'not the 30 s wait of a live lock');
      assert.deepEqual(Object.keys(history(H).runs), ['run-a']);
      assert.deepEqual(hidden(H), []);
    });

    test('eight merges of eight runs into one corpus and one history at once count all eight', async () => {
      const src = at('cc', 'results', 'run-a');
      const H = at('cc', 'h8');
      const out = at('cc', 'c8');
      const dirs = Array.from({ length: 8 }, (_, i) => {
        const d = at('cc', 'fake', `f${i}`);
        cpSync(path.join(src, 'corpus'), path.join(d, 'corpus'), { recursive: true });
        writeFileSync(path.join(d, 'hits.json'), JSON.stringify({ ...runHits(src), runId: `f${i}` }));
        return d;
      });
      const rs = await Promise.all(dirs.map((d) => cli(['corpus', 'merge', out, path.join(d, 'corpus'), '--results', H])));
      for (const r of rs) assert.equal(r.code, 0, r.stderr); // a merge that saw OUT change under it starts again
      const h = history(H);
      assert.deepEqual(Object.keys(h.runs).sort(), dirs.map((_, i) => `f${i}`).sort());
      const one = sumHits([runHits(src)]);
      assert.deepEqual(historyHits(h), new Map([...one].map(([k, v]) => [k, 8 * v])));
      assert.deepEqual(hidden(path.join(out, 'mdev-v5.0')), []);
      assert.deepEqual(hidden(H), []);
    });
  });

  describe('output and checks', { concurrency: 1 }, () => {
    test('EPIPE: output to a reader that went away ends quietly, and the work is still done', async () => {
      const results = at('ep', 'results');
      const go = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
          child.stdout.destroy(); // like `| head -0`: the reader is gone before the first line
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolve({ code, stderr }));
        });
      const list = await go(['corpus', 'list', COMMITTED, '--results', results]);
      assert.equal(list.code, 0);
      assert.equal(list.stderr, '');
      const run = await go(['run', '--target', 'mdev-v5.0', '--seed', 'ep', '--execs', '100', '--workers', '0', '--no-minimize', '--corpus', at('ep', 'corpus'), '--results', results, '--run-id', 'ep']);
      assert.ok(run.code === 0 || run.code === 1, `exit ${run.code}: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /EPIPE|\n\s+at /);
      assert.ok(existsSync(path.join(results, 'ep', 'summary.json')), 'the results are written');
    });

    test('corpus check fails on a directory with no entries and on a directory named x.json', async () => {
      const empty = at('chk', 'empty');
      mkdirSync(empty, { recursive: true });
      const r1 = await cli(['corpus', 'check', empty, '--results', at('chk', 'r')]);
      assert.equal(r1.code, 1);
      assert.match(r1.stderr, /^mdevfuzz: no entries under .*empty: nothing checked\n$/);
      const odd = at('chk', 'odd');
      mkdirSync(path.join(odd, 'mdev-v5.0', 'x.json'), { recursive: true });
      const one = [...entries(path.join(COMMITTED, 'mdev-v5.0')).keys()][0]!;
      cpSync(path.join(COMMITTED, 'mdev-v5.0', one), path.join(odd, 'mdev-v5.0', one));
      const r2 = await cli(['corpus', 'check', odd, '--results', at('chk', 'r')]);
      assert.equal(r2.code, 1);
      assert.match(r2.stdout, /^FAIL {2}.*x\.json: is a directory, not an entry file$/m);
      assert.match(r2.stdout, /^2 entries checked: 1 passed, 1 failed$/m);
      const r3 = await cli(['corpus', 'check', path.join(odd, 'mdev-v5.0', 'x.json'), '--results', at('chk', 'r')]);
      assert.equal(r3.code, 1);
    });

    test('unwritable outputs are refused before any work, in one line, exit 2', async () => {
      const blocker = at('uw', 'file');
      mkdirSync(path.dirname(blocker), { recursive: true });
      writeFileSync(blocker, 'not a directory\n');
      mkdirSync(at('uw', 'mr'), { recursive: true });
      writeFileSync(at('uw', 'mr', 'night'), 'not a directory\n');
      const bad = path.join(blocker, 'sub');
      const cases: [string[], RegExp][] = [
        [['compare', '--targets', 'mdev-v5.0,mdev-v6', '--execs', '1000000', '--results', bad], /--results .* is not a writable directory/],
        [['stress', '--target', 'mdev-v5.0', '--time', '60s', '--results', bad, '--corpus', at('uw', 'c')], /--results .* is not a writable directory/],
        [['stress', '--target', 'mdev-v5.0', '--time', '60s', '--results', at('uw', 'r'), '--corpus', bad], /--corpus .* is not a writable directory/],
        [['run', '--target', 'mdev-v5.0', '--time', '60s', '--results', at('uw', 'r'), '--corpus', bad], /--corpus .* is not a writable directory/],
        // Before reading any run: the run directory named does not even exist.
        [['merge', 'night', at('uw', 'no-such-run'), '--results', bad], /^mdevfuzz: --results .* is not a writable directory \(a file is in the way\)$/m],
        [['merge', 'night', at('uw', 'no-such-run'), '--results', at('uw', 'mr')], /^mdevfuzz: .*night is not a directory \(a file is in the way\)$/m],
      ];
      for (const [args, message] of cases) {
        const t0 = Date.now();
        const r = await cli(args);
        assert.equal(r.code, 2, args.join(' '));
        oneLine(r.stderr);
        assert.match(r.stderr, message, args.join(' '));
        assert.equal(r.stdout, '', `${args[0]}: nothing ran`);
        assert.ok(Date.now() - t0 < 15_000, `${args[0]} refused at once`);
      }
      assert.equal(existsSync(at('uw', 'c', 'mdev-v5.0')), false);
    });
  });

  describe('an npm start-like run', { concurrency: 1 }, () => {
    test('leaves the committed corpus byte for byte, and a replay of a committed entry has no note about the target', async () => {
      const corpus = at('ns', 'corpus');
      cpSync(COMMITTED, corpus, { recursive: true });
      const before = snapshot(corpus);
      const r = await cli(['run', '--seed', '1', '--execs', '250', '--workers', '1', '--corpus', corpus, '--results', at('ns', 'results'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as RunSummary;
      assert.ok(s.findings.length > 5 && s.corpusCreated === 0 && s.newFindings === 0);
      assert.deepEqual(snapshot(corpus), before);
      // After `corpus check` re-verified the entries, a replay does not note a changed target.
      assert.equal((await cli(['corpus', 'check', path.join(corpus, 'mdev-v6'), '--results', at('ns', 'results')])).code, 0);
      const entry = path.join(corpus, 'mdev-v6', [...entries(path.join(corpus, 'mdev-v6')).keys()][0]!);
      const replay = await cli(['replay', entry, '--results', at('ns', 'results'), '--json']);
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal((JSON.parse(replay.stdout) as { sameTargetHash: boolean }).sameTargetHash, true);
      assert.deepEqual(snapshot(corpus), before);
      // Without that record a replay notes the change; --update writes the current hash into the entry, and only that.
      const fresh = await cli(['replay', entry, '--results', at('ns', 'other'), '--json']);
      const stale = (JSON.parse(fresh.stdout) as { sameTargetHash: boolean }).sameTargetHash;
      const updated = await cli(['replay', entry, '--results', at('ns', 'other2'), '--update', '--json']);
      assert.equal(updated.code, 0, updated.stderr);
      assert.equal((JSON.parse(updated.stdout) as { updated?: boolean }).updated, !stale, 'rewritten exactly when its hash was stale');
      const [was, now] = [parseEntry(Buffer.from(before.get(path.relative(corpus, entry))!, 'base64').toString(), entry), parseEntry(readFileSync(entry, 'utf8'), entry)];
      assert.deepEqual({ ...now, targetHash: was.targetHash }, was, 'nothing but the target hash changed');
      const again = await cli(['replay', entry, '--results', at('ns', 'other3'), '--json']);
      assert.equal((JSON.parse(again.stdout) as { sameTargetHash: boolean }).sameTargetHash, true);
    });
  });
});
