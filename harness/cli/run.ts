// `mdevfuzz run`: a campaign on one target, its findings recorded in the corpus, a summary written
// to results/<run-id>/summary.json and printed (a table for people, or exactly the JSON).
// A new entry is minimized before it is written, within the run's budget (MINIMIZE_MIN_MS to
// MINIMIZE_MAX_MS per finding); one the budget does not suffice for is saved as found.
// Exit code: 0 nothing new, 1 new findings, 2 a finding that could not be captured (harness error).

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { captureEntry } from '../corpus/capture.js';
import { CorpusError, type CorpusEntry } from '../corpus/entry.js';
import { harnessVersion, targetHash } from '../corpus/identity.js';
import { minimizeEntry, type EntryMinimizeStats } from '../corpus/minimize-entry.js';
import { slugify } from '../corpus/slug.js';
import { loadCorpusDir, recordSighting, targetDir, writeFileAtomic } from '../corpus/store.js';
import { defaultWorkers, runCampaign } from '../engine/campaign.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import type { StrategyName } from '../sched/index.js';
import { expectationOf, type Target } from '../target.js';
import type { FindingKind } from '../types.js';
import { formatCount, formatDuration, formatTable, oneLine } from './format.js';
import { ProgressLine } from './progress.js';

export const DEFAULT_TIME_MS = 30_000;
/** Per new finding: at least this long to minimize it, even when --time is spent... */
export const MINIMIZE_MIN_MS = 3_000;
/** ...and never more than this (also the budget per finding under --execs alone). */
export const MINIMIZE_MAX_MS = 10_000;

export interface RunOptions {
  target?: string;
  targetFile?: string;
  seed?: string;
  execs?: number;
  time?: number;
  workers?: number;
  strategy: StrategyName;
  depth: number;
  json?: boolean;
  corpus: string;
  results: string;
  /** False with --no-minimize. */
  minimize: boolean;
  /** False with --no-faults. */
  faults: boolean;
}

/**
 * How the minimization of a new entry went: 'minimized', saved in its minimized form; 'budget', the
 * budget ran out first and it was saved as found; 'failed', the minimizer threw and it was saved as found.
 */
export type FindingMinimization =
  | ({ outcome: 'minimized' | 'budget'; budgetMs: number } & EntryMinimizeStats)
  | { outcome: 'failed'; budgetMs: number; error: string };

export interface SummaryFinding {
  signature: string;
  kind: FindingKind;
  target: string;
  /** The first execution index that found it: `--seed S` and this index replay it. */
  execIndex: number;
  timeToFindMs: number;
  /** Executions of this run that found it. */
  hits: number;
  corpusFile: string | null;
  /** Why it has no corpus file. */
  corpusError?: string;
  /** Null unless this run wrote a new entry for it with minimization on. */
  minimize: FindingMinimization | null;
  /** Not in the corpus before this run, and not in the target's expectations. */
  new: boolean;
  expected: 'known' | 'by-design' | null;
  detail: string[];
}

export interface RunSummary {
  runId: string;
  harnessVersion: string;
  target: string;
  targetHash: string;
  seed: string;
  strategy: StrategyName;
  depth: number;
  /** Whether fault injection was on. */
  faults: boolean;
  workers: number;
  /** What was asked: a number of executions and/or a time budget. */
  execsLimit: number | null;
  timeLimitMs: number | null;
  interrupted: boolean;
  startedAt: string;
  executions: number;
  steps: number;
  elapsedMs: number;
  execsPerSec: number;
  corpusDir: string;
  /** Entries this run wrote, and entries it added hits to. */
  corpusCreated: number;
  corpusUpdated: number;
  /** Whether new entries were minimized (not --no-minimize), and the time the minimizer took. */
  minimize: boolean;
  minimizeMs: number;
  summaryFile: string;
  newFindings: number;
  findings: SummaryFinding[];
  /** Known expectations of the target that this run did not find. */
  expectedNotFound: string[];
  /** Corpus files that are invalid; they were left as they are. */
  corpusErrors: string[];
}

function targetRefOf(o: RunOptions): TargetRef {
  if (o.target !== undefined && o.targetFile !== undefined) throw new UsageError('give either --target or --target-file, not both');
  if (o.target !== undefined) return { name: o.target };
  if (o.targetFile !== undefined) return { file: o.targetFile };
  throw new UsageError("run needs --target NAME or --target-file FILE (see 'mdevfuzz targets')");
}

/** `20251124T090700123Z-<seed>`, made unique by a suffix when two runs start in the same millisecond. */
export async function makeRunDir(resultsDir: string, seed: string, startedAt: Date): Promise<{ runId: string; dir: string }> {
  const stamp = startedAt.toISOString().replace(/[-:.]/g, '');
  await fs.mkdir(resultsDir, { recursive: true });
  for (let n = 1; ; n++) {
    const runId = `${stamp}-${slugify(seed, 40)}${n > 1 ? `-${n}` : ''}`;
    const dir = path.join(resultsDir, runId);
    try {
      await fs.mkdir(dir);
      return { runId, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Stop dispatching on the first Ctrl-C (the results are still written), abort on the second. */
function interruptOnSigint(log: (line: string) => void): { stopped: () => boolean; dispose: () => void } {
  let stopped = false;
  const onSigint = (): void => {
    if (stopped) process.exit(130);
    stopped = true;
    log('\nstopping after the batches in flight (Ctrl-C again to abort)');
  };
  process.on('SIGINT', onSigint);
  return { stopped: () => stopped, dispose: () => process.off('SIGINT', onSigint) };
}

function statusOf(f: SummaryFinding): string {
  if (f.new) return f.corpusFile ? 'NEW' : 'NEW (not saved)';
  if (f.expected === 'known') return 'expected';
  if (f.expected === 'by-design') return 'by-design';
  return 'in corpus';
}

function shellQuote(word: string): string {
  return /^[\w.,:=@%+/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function repeatCommand(s: RunSummary, ref: TargetRef): string {
  const target = 'name' in ref ? `--target ${ref.name}` : `--target-file ${shellQuote(ref.file)}`;
  return `mdevfuzz run ${target} --seed ${shellQuote(s.seed)} --execs ${s.executions} --strategy ${s.strategy} --depth ${s.depth}${s.faults ? '' : ' --no-faults'}`;
}

/** `cpus/ops/preemptions before -> after`, or why there is no after. */
function minimizeText(m: FindingMinimization | null): string {
  if (!m) return '';
  if (m.outcome === 'failed') return 'failed (saved as found)';
  if (m.outcome === 'budget') return `budget ran out (${formatDuration(m.budgetMs)}; saved as found)`;
  const size = (r: EntryMinimizeStats['before']): string => `${r.cpus}/${r.ops}/${r.preemptions}`;
  return `${size(m.before)} -> ${size(m.after)}`;
}

function printSummary(s: RunSummary, ref: TargetRef): void {
  const lines: string[] = [''];
  const expected = s.findings.filter((f) => f.expected !== null).length;
  lines.push(
    `${formatCount(s.executions)} executions in ${formatDuration(s.elapsedMs)} (${formatCount(s.execsPerSec)} exec/s)${s.interrupted ? ', interrupted' : ''}: ` +
      `${s.findings.length} distinct findings, ${s.newFindings} new, ${expected} expected`,
  );
  if (s.findings.length > 0) {
    const columns = [{ header: 'signature' }, { header: 'kind' }, { header: 'first index', right: true }, { header: 'hits', right: true }, { header: 'found after', right: true }, { header: 'status' }];
    const rows = s.findings.map((f) => [f.signature, f.kind, String(f.execIndex), formatCount(f.hits), formatDuration(f.timeToFindMs), statusOf(f)]);
    const minimized = s.findings.some((f) => f.minimize);
    if (minimized) columns.push({ header: 'minimized cpus/ops/preemptions' });
    lines.push('', formatTable(columns, minimized ? rows.map((r, i) => [...r, minimizeText(s.findings[i]!.minimize)]) : rows));
    if (minimized) lines.push('', `minimized ${s.findings.filter((f) => f.minimize?.outcome === 'minimized').length} new entries in ${formatDuration(s.minimizeMs)}`);
  }
  if (s.expectedNotFound.length > 0) lines.push('', 'expected but not found in this run:', ...s.expectedNotFound.map((t) => `  ${t}`));
  const example = s.findings.find((f) => f.new && f.corpusFile) ?? s.findings.find((f) => f.corpusFile);
  lines.push(
    '',
    `corpus:   ${s.corpusDir}  (${s.corpusCreated} new entries, ${s.corpusUpdated} updated)`,
    `summary:  ${s.summaryFile}`,
    `repeat:   ${repeatCommand(s, ref)}`,
  );
  if (example) lines.push(`replay:   mdevfuzz replay ${example.corpusFile} --ladder`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The time to minimize one of `pending` new findings: what is left of --time shared out, within bounds. */
function minimizeBudget(deadline: number | undefined, pending: number): number {
  if (deadline === undefined) return MINIMIZE_MAX_MS;
  const share = (deadline - performance.now()) / Math.max(1, pending);
  return Math.round(Math.min(MINIMIZE_MAX_MS, Math.max(MINIMIZE_MIN_MS, share)));
}

function expectedStatus(target: Target, title: string): SummaryFinding['expected'] {
  return expectationOf(target, title)?.status ?? null;
}

export async function runCommand(o: RunOptions): Promise<number> {
  const ref = targetRefOf(o);
  const target = await loadTarget(ref);
  const corpusDir = targetDir(o.corpus, target.name);
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMs = o.execs === undefined && o.time === undefined ? DEFAULT_TIME_MS : o.time;
  const workers = o.workers ?? defaultWorkers();
  const log = (line: string): boolean => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  const warn = (line: string): boolean => process.stderr.write(`mdevfuzz: warning: ${line}\n`);

  const budget = [o.execs !== undefined ? `${formatCount(o.execs)} executions` : '', timeMs !== undefined ? formatDuration(timeMs) : ''].filter(Boolean).join(' or ');
  log(`seed ${seed}`);
  log(`target ${target.name} (${target.kernelVersion}), strategy ${o.strategy} depth ${o.depth}, ${workers === 0 ? 'inline' : `${workers} worker${workers > 1 ? 's' : ''}`}, for ${budget}`);

  const before = await loadCorpusDir(corpusDir);
  for (const e of before.errors) warn(`${e.message} (left as it is)`);

  const startedAt = new Date();
  const campaignStart = performance.now();
  const progress = new ProgressLine(o.json ? process.stderr : process.stdout, timeMs);
  const sigint = workers > 0 ? interruptOnSigint((line) => log(line)) : undefined;
  const result = await runCampaign({
    target: ref,
    seed,
    strategy: o.strategy,
    depth: o.depth,
    faults: o.faults,
    execs: o.execs,
    timeMs,
    workers,
    onProgress: (p) => progress.update(p),
    shouldStop: sigint?.stopped,
  }).finally(() => {
    progress.done();
    sigint?.dispose();
  });

  const seenAt = new Date().toISOString();
  const capture = { target, ref, cfg: { seed, strategy: o.strategy, depth: o.depth, faults: o.faults }, seenAt };
  const deadline = timeMs === undefined ? undefined : campaignStart + timeMs;
  let pending = result.findings.filter((f) => !before.bySignature.has(f.title)).length;
  let harnessErrors = 0;
  let created = 0;
  const findings: SummaryFinding[] = [];
  for (const f of result.findings) {
    const expected = expectedStatus(target, f.title);
    const row: SummaryFinding = {
      signature: f.title,
      kind: f.kind,
      target: target.name,
      execIndex: f.index,
      timeToFindMs: f.timeToFindMs,
      hits: f.hits,
      corpusFile: null,
      new: !before.bySignature.has(f.title) && expected === null,
      expected,
      detail: f.detail,
      minimize: null,
    };
    const budgetMs = minimizeBudget(deadline, pending);
    if (!before.bySignature.has(f.title)) pending--;
    const makeEntry = (): CorpusEntry => {
      const entry = captureEntry(capture, f);
      if (!o.minimize) return entry;
      try {
        const m = minimizeEntry(target, entry, { timeMs: budgetMs });
        row.minimize = { outcome: m.stats.exhausted ? 'budget' : 'minimized', budgetMs, ...m.stats };
        return m.stats.exhausted ? entry : m.entry;
      } catch (e) {
        row.minimize = { outcome: 'failed', budgetMs, error: oneLine(e instanceof Error ? e.message : String(e)) };
        warn(`not minimized: ${f.title}: ${row.minimize.error}`);
        return entry;
      }
    };
    try {
      const recorded = await recordSighting(corpusDir, { signature: f.title, hits: f.hits, seenAt }, makeEntry);
      row.corpusFile = recorded.file;
      if (recorded.created) created++;
    } catch (e) {
      if (!(e instanceof CorpusError)) harnessErrors++;
      row.corpusError = oneLine(e instanceof Error ? e.message : String(e));
      warn(`not saved: ${f.title}: ${row.corpusError}`);
    }
    findings.push(row);
  }

  const { runId, dir } = await makeRunDir(o.results, seed, startedAt);
  const found = new Set(findings.map((f) => f.signature));
  const summary: RunSummary = {
    runId,
    harnessVersion: harnessVersion(),
    target: target.name,
    targetHash: targetHash(ref),
    seed,
    strategy: o.strategy,
    depth: o.depth,
    faults: o.faults,
    workers,
    execsLimit: o.execs ?? null,
    timeLimitMs: timeMs ?? null,
    interrupted: sigint?.stopped() ?? false,
    startedAt: startedAt.toISOString(),
    executions: result.executions,
    steps: result.steps,
    elapsedMs: result.elapsedMs,
    execsPerSec: result.elapsedMs > 0 ? Math.round((result.executions * 1000) / result.elapsedMs) : 0,
    corpusDir,
    corpusCreated: created,
    corpusUpdated: findings.filter((f) => f.corpusFile !== null).length - created,
    minimize: o.minimize,
    minimizeMs: findings.reduce((ms, f) => ms + (f.minimize && f.minimize.outcome !== 'failed' ? f.minimize.ms : 0), 0),
    summaryFile: path.join(dir, 'summary.json'),
    newFindings: findings.filter((f) => f.new).length,
    findings,
    expectedNotFound: target.expectations.filter((e) => e.status === 'known' && !found.has(e.title)).map((e) => e.title),
    corpusErrors: before.errors.map((e) => e.message),
  };
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  await writeFileAtomic(summary.summaryFile, json);

  if (o.json) process.stdout.write(json);
  else printSummary(summary, ref);
  if (harnessErrors > 0) return 2;
  return summary.newFindings > 0 ? 1 : 0;
}
