// The nightly campaign end to end, through the CLI: shards and merge, interruption, exit codes,
// corrupt corpus files, junit.xml.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEntry, serializeEntry } from '../harness/corpus/entry.js';
import { replayExecution } from '../harness/engine/runner.js';
import type { RunSummary } from '../harness/report/summary.js';
import { TARGETS, findTarget } from '../targets/index.js';

const MAIN = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
const TWINS = fileURLToPath(new URL('./fixtures/twins.js', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `onStdout` sees the output so far and may signal the child. */
function cli(args: readonly string[], onStdout?: (text: string, signal: (s: NodeJS.Signals) => void) => void): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under `dir` (hidden ones too), by path relative to it, with its bytes. */
function snapshot(dir: string, prefix = ''): Map<string, string> {
  const files = new Map<string, string>();
  if (!existsSync(path.join(dir, prefix))) return files;
  for (const d of readdirSync(path.join(dir, prefix), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = path.join(prefix, d.name);
    if (d.isDirectory()) for (const [k, v] of snapshot(dir, rel)) files.set(k, v);
    else files.set(rel, readFileSync(path.join(dir, rel), 'base64'));
  }
  return files;
}

/** Every file under `dir` parses and passes the entry schema; no temp file is left behind. */
function assertIntactCorpus(dir: string): number {
  const files = [...snapshot(dir).keys()];
  for (const rel of files) {
    assert.ok(rel.endsWith('.json') && !path.basename(rel).startsWith('.'), `stray file ${rel}`);
    const file = path.join(dir, rel);
    parseEntry(readFileSync(file, 'utf8'), file);
  }
  return files.length;
}

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  parent: string | undefined;
}

/** A tiny well-formedness check: every character is markup or text, tags nest, entities are known. Returns the elements. */
export function parseXml(xml: string): XmlElement[] {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, '');
  const token = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/;
  const stack: string[] = [];
  const elements: XmlElement[] = [];
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < body.length && (m = token.exec(body))) {
    at = token.lastIndex;
    const [, close, name, attrText, selfClose, text] = m;
    if (text !== undefined) {
      assert.ok(!entity.test(text), `bad entity in text near ${JSON.stringify(text.slice(0, 40))}`);
      assert.ok(stack.length > 0 || text.trim() === '', 'text outside the root element');
      continue;
    }
    if (close) {
      assert.equal(stack.pop(), name, `</${name}> closes another element`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, k, v] of attrText!.matchAll(/([\w.:-]+)="([^"]*)"/g)) {
      assert.ok(!entity.test(v!), `bad entity in ${name}@${k}`);
      assert.ok(!(k! in attrs), `${name}@${k} twice`);
      attrs[k!] = v!;
    }
    assert.ok(stack.length > 0 || elements.length === 0, 'a second root element');
    elements.push({ name: name!, attrs, parent: stack.at(-1) });
    if (!selfClose) stack.push(name!);
  }
  assert.equal(at, body.length, `not markup: ${JSON.stringify(body.slice(at, at + 40))}`);
  assert.deepEqual(stack, [], 'unclosed elements');
  return elements;
}

let tmp: string;
const at = (...p: string[]): string => path.join(tmp, ...p);
const summaryOf = (runDir: string): RunSummary => JSON.parse(readFileSync(path.join(runDir, 'summary.json'), 'utf8')) as RunSummary;
const keyOf = (s: RunSummary): string[] => s.findings.map((f) => `${f.target} | ${f.signature} | @${f.execIndex} | ${f.hits} hits`).sort();
/** A short inline run; --json and --no-minimize unless `extra` says otherwise. */
const runArgs = (corpus: string, runId: string, extra: string[]): string[] =>
  ['run', '--workers', '0', '--no-minimize', '--corpus', corpus, '--results', at('results'), '--run-id', runId, ...extra];

before(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-nightly-'));
});
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('shards and merge', () => {
  const campaign = ['--seed', '5', '--execs', '400'];
  let whole: CliResult;
  let shards: CliResult[];
  let merged: CliResult;

  before(async () => {
    [whole, ...shards] = await Promise.all([
      cli(runArgs(at('c-whole'), 'whole', campaign)),
      cli(runArgs(at('c-0'), 'shard-0', [...campaign, '--shard', '0/2'])),
      cli(runArgs(at('c-1'), 'shard-1', [...campaign, '--shard', '1/2', '--workers', '2'])), // the pool engine, from index 200
    ]);
    merged = await cli(['merge', 'night', at('results', 'shard-0'), at('results', 'shard-1'), '--results', at('results'), '--json']);
  });

  test('--execs N in two shards, merged, gives the findings of one run: signature, first index, hits', () => {
    for (const r of [whole, ...shards, merged]) assert.notEqual(r.code, 2, r.stderr);
    const [s0, s1] = [summaryOf(at('results', 'shard-0')), summaryOf(at('results', 'shard-1'))];
    assert.deepEqual([s0.results[0]!.firstIndex, s0.results[0]!.executions, s1.results[0]!.firstIndex, s1.results[0]!.executions], [0, 200, 200, 200]);
    assert.notDeepEqual(keyOf(s0), keyOf(s1), 'the shards ran different indices');
    const m = JSON.parse(merged.stdout) as RunSummary;
    const w = summaryOf(at('results', 'whole'));
    assert.ok(w.findings.length >= 5, `found ${w.findings.length}`);
    assert.deepEqual(keyOf(m), keyOf(w));
    assert.equal(m.executions, w.executions);
    assert.deepEqual(m.targets, TARGETS.map((t) => t.name));
    assert.deepEqual(m.mergedFrom, [{ runId: 'shard-0', shard: '0/2' }, { runId: 'shard-1', shard: '1/2' }]);
    assert.equal(merged.code, whole.code);
  });

  test('summary.json holds the coverage of each target: labels, pairs, switches, top pairs, per function', () => {
    const s = summaryOf(at('results', 'whole'));
    for (const r of s.results) {
      const c = r.coverage;
      assert.ok(c, `${r.target}: no coverage`);
      assert.ok(c.labels > 0 && c.pairs > 0 && c.switches >= c.pairs, `${r.target}: ${JSON.stringify({ labels: c.labels, pairs: c.pairs, switches: c.switches })}`);
      assert.ok(c.topPairs.length > 0 && c.topPairs.length <= 10);
      assert.equal(c.functions.reduce((n, f) => n + f.labels, 0), c.labels);
      assert.ok(c.functionPairs.length > 0);
      assert.ok(c.transitions.declared > 50 && c.transitions.reached > 0 && c.transitions.reached <= c.transitions.declared);
      assert.deepEqual(c.transitions.undeclared, []);
      assert.match(whole.stdout, new RegExp(`^  ${r.target.replace('.', '\\.')} .*; transitions: ${c.transitions.reached}/${c.transitions.declared} declared reached \\(`, 'm'));
    }
    assert.doesNotMatch(whole.stdout, /NOT DECLARED/);
  });

  test('merged shards have the coverage of the one run: labels, pairs and transitions, counts and first indices', () => {
    const [m, w] = [summaryOf(at('results', 'night')), summaryOf(at('results', 'whole'))];
    for (const [i, r] of w.results.entries()) {
      assert.ok(r.coverage && m.results[i]!.coverage, r.target);
      assert.deepEqual(m.results[i]!.coverage, r.coverage, r.target);
    }
  });

  test("the merged corpus holds one entry per finding; the night's hits are in hits.json and counted once in the history", () => {
    const m = summaryOf(at('results', 'night'));
    assert.equal(assertIntactCorpus(at('results', 'night', 'corpus')), m.findings.length);
    for (const f of m.findings) {
      const entry = parseEntry(readFileSync(f.corpusFile!, 'utf8'), f.corpusFile!);
      assert.deepEqual([entry.target, entry.signature], [f.target, f.signature]);
    }
    const hits = JSON.parse(readFileSync(at('results', 'night', 'hits.json'), 'utf8')) as { parts: { runId: string }[] };
    assert.deepEqual(hits.parts.map((p) => p.runId), ['shard-0', 'shard-1']);
    const history = JSON.parse(readFileSync(at('results', 'history.json'), 'utf8')) as { runs: Record<string, unknown>; findings: Record<string, Record<string, { hits: number }>> };
    assert.ok(!('night' in history.runs), 'a merge is counted as its runs');
    for (const f of m.findings.filter((x) => !x.corpusError)) {
      const w = summaryOf(at('results', 'whole')).findings.find((x) => x.target === f.target && x.signature === f.signature)!;
      assert.equal(history.findings[f.target]![f.signature]!.hits, f.hits + w.hits, `${f.signature}: the shards and the whole run, once each`);
    }
  });

  test('runs that share execution indices are not merged', async () => {
    const r = await cli(['merge', 'twice', at('results', 'shard-0'), at('results', 'shard-0'), '--results', at('results')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mdevfuzz: .*both ran execution indices[^\n]*\n$/);
    assert.equal(existsSync(at('results', 'twice')), false);
  });

  test('junit.xml is well-formed, with a testsuite per target and a testcase per finding', () => {
    for (const run of ['whole', 'night']) {
      const elements = parseXml(readFileSync(at('results', run, 'junit.xml'), 'utf8'));
      assert.equal(elements[0]!.name, 'testsuites');
      const suites = elements.filter((e) => e.name === 'testsuite');
      assert.deepEqual(suites.map((e) => e.attrs.name), TARGETS.map((t) => t.name));
      const names = new Set(elements.filter((e) => e.name === 'testcase').map((e) => `${e.attrs.classname} | ${e.attrs.name}`));
      for (const f of summaryOf(at('results', run)).findings) assert.ok(names.has(`${f.target} | ${f.signature}`), f.signature);
      for (const s of suites) assert.equal(Number(s.attrs.tests), elements.filter((e) => e.name === 'testcase' && e.attrs.classname === s.attrs.name).length);
    }
  });
});

describe('exit codes', () => {
  test('0: every finding is expected', async () => {
    const r = await cli(runArgs(at('c-zero'), 'zero', ['--target', 'mdev-v6', '--seed', '1', '--execs', '300', '--json']));
    const s = JSON.parse(r.stdout) as RunSummary;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(s.findings.length > 0 && s.findings.every((f) => f.expected !== null));
    assert.equal(s.exitCode, 0);
  });

  test('1: a new finding, a failure with its ladder in junit.xml', async () => {
    const file = at('twins-buggy.js');
    writeFileSync(file, `export { buggy as default } from ${JSON.stringify(TWINS)};\n`);
    const r = await cli(runArgs(at('c-new'), 'new', ['--target-file', file, '--seed', '1', '--execs', '200']));
    assert.equal(r.code, 1, r.stderr);
    const s = summaryOf(at('results', 'new'));
    assert.ok(s.newFindings > 0);
    assert.match(r.stdout, /^NEW {2}twins-buggy: /m);
    const junit = readFileSync(s.junitFile, 'utf8');
    const failures = parseXml(junit).filter((e) => e.name === 'failure');
    assert.equal(failures.length, s.newFindings);
    assert.match(junit, /CPU0 +CPU1/);
  });

  describe('1: a lost expected finding', () => {
    const target = findTarget('mdev-v5.0')!;
    let base: string;
    let victim: { file: string; signature: string };

    before(async () => {
      base = at('c-lost-base');
      const r = await cli(runArgs(base, 'lost-base', ['--target', 'mdev-v5.0', '--seed', '1', '--execs', '800']));
      assert.notEqual(r.code, 2, r.stderr);
      const known = new Set(target.expectations.filter((e) => e.status === 'known').map((e) => e.title));
      const late = summaryOf(at('results', 'lost-base')).findings.filter((f) => f.execIndex >= 200 && known.has(f.signature));
      assert.ok(late.length > 0, 'a known expectation first found after index 200');
      victim = { file: late[0]!.corpusFile!, signature: late[0]!.signature };
    });

    test('a known expectation the run missed, whose corpus entry still replays, is not lost: exit 0', async () => {
      const corpus = at('c-kept');
      cpSync(base, corpus, { recursive: true });
      const r = await cli(runArgs(corpus, 'kept', ['--target', 'mdev-v5.0', '--seed', '1', '--execs', '200', '--json']));
      const s = JSON.parse(r.stdout) as RunSummary;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(s.results[0]!.expectations.reproducedFromCorpus.includes(victim.signature));
      assert.deepEqual(s.results[0]!.expectations.lost, []);
    });

    test('one whose corpus entry no longer reproduces it is lost: exit 1, a failure in junit.xml', async () => {
      const corpus = at('c-lost');
      cpSync(base, corpus, { recursive: true });
      const file = path.join(corpus, 'mdev-v5.0', path.basename(victim.file));
      const entry = parseEntry(readFileSync(file, 'utf8'), file);
      const other = summaryOf(at('results', 'lost-base')).findings.find((f) => f.signature !== victim.signature)!;
      const donor = parseEntry(readFileSync(other.corpusFile!, 'utf8'), other.corpusFile!);
      const broken = { ...entry, program: donor.program, faults: donor.faults, schedule: donor.schedule, minimized: null };
      assert.ok(!replayExecution(target, broken.program, broken.faults, broken.schedule).result.findings.some((f) => f.title === victim.signature), 'the edited entry does not reproduce');
      writeFileSync(file, serializeEntry(broken));
      const r = await cli(runArgs(corpus, 'lost', ['--target', 'mdev-v5.0', '--seed', '1', '--execs', '200', '--json']));
      const s = JSON.parse(r.stdout) as RunSummary;
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(s.results[0]!.expectations.lost, [victim.signature]);
      assert.equal(s.newFindings, 0);
      const failures = parseXml(readFileSync(s.junitFile, 'utf8')).filter((e) => e.name === 'failure');
      assert.deepEqual(failures.map((e) => e.attrs.type), ['lost']);
    });
  });

  test('2: bad flags, unknown targets, unwritable results or corpus: one line, nothing written', async () => {
    const corpus = at('c-lost-base');
    const before = snapshot(corpus);
    const file = at('a-file');
    writeFileSync(file, 'not a directory\n');
    const cases: string[][] = [
      ['run', '--execs', '10', '--shard', '2/2'],
      ['run', '--shard', '0/2'],
      ['run', '--target', 'mdev-v5.0,nope', '--execs', '10'],
      ['run', '--execs', '10', '--time', 'soon'],
      ['run', '--execs', '10', '--results', path.join(file, 'results')],
      ['run', '--execs', '10', '--run-id', 'taken'],
      ['merge', 'bad', at('results', 'no-such-run')],
    ];
    mkdirSync(at('results', 'taken'), { recursive: true });
    const results = snapshot(at('results'));
    for (const args of cases) {
      const r = await cli([...args, ...(args[0] === 'run' ? ['--corpus', corpus] : []), ...(args.includes('--results') ? [] : ['--results', at('results')])]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^mdevfuzz: [^\n]+\n$/, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
    const r = await cli(['run', '--execs', '10', '--corpus', file, '--results', at('results')]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `mdevfuzz: --corpus ${file} is not a writable directory (a file is in the way)\n`);
    assert.deepEqual(snapshot(corpus), before);
    assert.deepEqual(snapshot(at('results')), results);
  });
});

describe('corrupt corpus files', () => {
  test('are named in the error, left as they are, and the run exits 2 with its results written', async () => {
    const corpus = at('c-corrupt');
    mkdirSync(path.join(corpus, 'mdev-v6'), { recursive: true });
    const file = path.join(corpus, 'mdev-v6', 'broken.json');
    writeFileSync(file, '{"schemaVersion": 1, "signature": ');
    const r = await cli(runArgs(corpus, 'corrupt', ['--target', 'mdev-v6', '--seed', '1', '--execs', '200']));
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^mdevfuzz: 1 invalid corpus file, left as they are: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `, 'm'));
    assert.equal(readFileSync(file, 'utf8'), '{"schemaVersion": 1, "signature": ');
    const s = summaryOf(at('results', 'corrupt'));
    assert.equal(s.exitCode, 2);
    assert.deepEqual(s.corpusErrors.map((e) => e.split(': ')[0]), [file]);
    const errors = parseXml(readFileSync(s.junitFile, 'utf8')).filter((e) => e.name === 'error');
    assert.ok(errors[0]?.attrs.message?.startsWith(file));
  });

  test('in a run merged are named on the one line, and nothing is written', async () => {
    const run = at('results', 'shard-1');
    const copy = at('shard-1-corrupt');
    cpSync(run, copy, { recursive: true });
    const dir = path.join(copy, 'corpus', 'mdev-v5.0');
    const file = path.join(dir, readdirSync(dir)[0]!);
    writeFileSync(file, '[1, 2');
    const r = await cli(['merge', 'corrupt-merge', at('results', 'shard-0'), copy, '--results', at('results')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^mdevfuzz: nothing written: 1 invalid input file: [^\n]+\n$/);
    assert.ok(r.stderr.includes(`${file}: not valid JSON`), r.stderr);
    assert.equal(existsSync(at('results', 'corrupt-merge')), false);
  });
});

describe('interruption: exit 130, the results of what ran, an intact corpus', () => {
  /**
   * Starts a 60 s run over every target, and sends `signal` once `ready` matches its output (a
   * readiness signal of the child itself, e.g. its first progress line, which comes after its
   * first batch: no fixed sleep, however loaded the machine). `afterSignalMs`: from the signal to
   * the child's exit, what the 2 s promise is about (its start-up, which load stretches, is not).
   */
  async function interrupt(runId: string, signal: NodeJS.Signals, ready: RegExp, extra: string[]): Promise<{ r: CliResult; afterSignalMs: number; s: RunSummary }> {
    const corpus = at(`c-${runId}`);
    let sentAt: number | undefined;
    const r = await cli(['run', '--corpus', corpus, '--results', at('results'), '--run-id', runId, ...extra], (out, kill) => {
      if (sentAt === undefined && ready.test(out)) {
        sentAt = performance.now();
        kill(signal);
      }
    });
    const afterSignalMs = performance.now() - (sentAt ?? Infinity);
    assert.ok(sentAt !== undefined, `never saw ${ready}: ${r.stdout}`);
    assert.equal(r.code, 130, r.stderr);
    const s = summaryOf(at('results', runId));
    assert.equal(s.interrupted, true);
    assert.equal(s.exitCode, 130);
    assert.ok(s.executions > 0);
    parseXml(readFileSync(s.junitFile, 'utf8'));
    assert.match(readFileSync(s.reportFile, 'utf8'), /<table id="compare-table">/);
    assert.ok(assertIntactCorpus(corpus) >= s.findings.filter((f) => f.corpusFile).length);
    assertIntactCorpus(at('results', runId, 'corpus'));
    return { r, afterSignalMs, s };
  }

  // A generous timeout for the whole test (a loaded machine may take long to start the run and
  // reach its first progress line); the exit must still follow the signal within 2 s.
  test('SIGINT during an inline campaign (--workers 0), after its first progress line', { timeout: 90_000 }, async () => {
    const { afterSignalMs, s } = await interrupt('sigint', 'SIGINT', / execs /, ['--time', '60s', '--workers', '0']);
    assert.ok(afterSignalMs < 2_000, `exited ${Math.round(afterSignalMs)} ms after SIGINT`);
    assert.ok(s.results[0]!.elapsedMs < 20_000, 'stopped before the first target had its 20 s');
    assert.equal(s.results.at(-1)!.status, 'not run');
  });

  test('SIGTERM during a pool campaign', { timeout: 90_000 }, async () => {
    const { afterSignalMs, s } = await interrupt('sigterm', 'SIGTERM', / execs /, ['--time', '60s', '--workers', '2', '--no-minimize']);
    assert.ok(afterSignalMs < 2_000, `exited ${Math.round(afterSignalMs)} ms after SIGTERM`);
    assert.ok(s.results[0]!.elapsedMs < 20_000, 'stopped before the first target had its 20 s');
    assert.equal(s.results[0]!.status, 'interrupted');
  });

  test('SIGINT while new entries are minimized', async () => {
    const { s } = await interrupt('sigint-min', 'SIGINT', /minimizing and saving new entries/, ['--target', 'mdev-v5.0', '--seed', '3', '--execs', '1000', '--workers', '0']);
    assert.ok(s.findings.length > 0);
    assert.ok(s.findings.every((f) => f.corpusFile !== null), 'every finding is still saved');
    assert.ok(s.findings.some((f) => f.minimize === null), 'the rest were saved as found, not minimized');
  });
});
