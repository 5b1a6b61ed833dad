// `mdevfuzz stress`: the model free-running on real threads for a while. Every failing execution
// is replayed inline in its ticket order; what recurs goes to the corpus with that deterministic
// repro, what does not goes to <corpus>/<target>/unconfirmed/ with its raw trace. The summary
// gives executions, findings and the confirmation rate. Exit code: 0 nothing new, 1 new confirmed
// findings, 2 a harness error or a target error (reported apart, never in the corpus).

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { checkWritableDir } from './run.js';
import { CorpusError } from '../corpus/entry.js';
import { harnessVersion, targetHash } from '../corpus/identity.js';
import { slugify } from '../corpus/slug.js';
import { loadCorpusDir, recordSighting, targetDir, writeFileAtomic } from '../corpus/store.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import { limitsOf, type LimitFlags } from './limits.js';
import { checkWarmUp } from '../engine/threads/threads-run.js';
import { defaultStressWorkers, runStress, type StressExecution } from '../engine/stress/stress.js';
import { confirmInline, saveUnconfirmed, stressEntry, type Confirmation, type StressSave } from '../engine/stress/stress-confirm.js';
import { expectationOf } from '../target.js';
import { TARGET_ERROR, type Finding, type FindingKind } from '../types.js';
import { formatCount, formatDuration, formatTable, oneLine } from './format.js';
import { notAlone, OomConfirmer } from '../engine/pool/oom-confirm.js';
import type { TargetErrorReport } from '../report/summary.js';
import { replayCommand, shellQuote, targetFlag } from './run-target.js';
import { printTargetErrors } from './target-errors.js';
import { compareText } from '../text.js';

export const DEFAULT_STRESS_MS = 30_000;

export interface StressCliOptions extends Pick<LimitFlags, 'workerMemory'> {
  target?: string;
  targetFile?: string;
  time?: number;
  execs?: number;
  workers?: number;
  seed?: string;
  json?: boolean;
  corpus: string;
  results: string;
  faults: boolean;
}

export interface StressSummaryFinding {
  signature: string;
  kind: FindingKind;
  /** The seed problem (P1..P5) of the target's expectations, when it is one. */
  problem: string | null;
  expected: 'known' | 'by-design' | null;
  /** Confirmed, not in the corpus before this run, and not expected. */
  new: boolean;
  /** Stress executions that reported it, and how many of those the inline replay confirmed. */
  hits: number;
  confirmed: number;
  firstIndex: number;
  timeToFindMs: number;
  corpusFile: string | null;
  unconfirmedFile: string | null;
  error?: string;
}

export interface StressSummary {
  runId: string;
  harnessVersion: string;
  engine: 'stress';
  target: string;
  targetHash: string;
  seed: string;
  workers: number;
  faults: boolean;
  timeLimitMs: number | null;
  execsLimit: number | null;
  executions: number;
  steps: number;
  elapsedMs: number;
  execsPerSec: number;
  stepsPerSec: number;
  /** Executions with at least one finding. */
  failures: number;
  /** (execution, finding) pairs, and those the inline replay confirmed. */
  sightings: number;
  confirmedSightings: number;
  confirmationRate: number;
  corpusDir: string;
  summaryFile: string;
  findings: StressSummaryFinding[];
  /** Exceptions out of model code and ooms not reproducible alone: never in the corpus; exit 2. */
  targetErrors?: TargetErrorReport[];
}

interface Tally {
  finding: Finding;
  hits: number;
  confirmed: number;
  firstIndex: number;
  timeToFindMs: number;
  /** The first execution that confirmed it, or the first one that did not. */
  confirmedBy?: { x: StressExecution; c: Confirmation };
  unconfirmedBy?: { x: StressExecution; c: Confirmation };
}

function targetRefOf(o: StressCliOptions): TargetRef {
  if (o.target !== undefined && o.targetFile !== undefined) throw new UsageError('give either --target or --target-file, not both');
  if (o.target !== undefined) return { name: o.target };
  if (o.targetFile !== undefined) return { file: o.targetFile };
  throw new UsageError("stress needs --target NAME or --target-file FILE (see 'mdevfuzz targets')");
}

export async function stressCommand(o: StressCliOptions): Promise<number> {
  const ref = targetRefOf(o);
  const target = await loadTarget(ref);
  const limits = limitsOf(o);
  await checkWarmUp(ref, target, limits); // this thread and every stress thread run each operation alone first
  const corpusDir = targetDir(o.corpus, target.name);
  // Unwritable outputs are refused before any work.
  await checkWritableDir(o.results, '--results');
  await checkWritableDir(o.corpus, '--corpus');
  if (await fs.stat(corpusDir).catch(() => undefined)) await checkWritableDir(corpusDir, '--corpus');
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMs = o.execs === undefined && o.time === undefined ? DEFAULT_STRESS_MS : o.time;
  const workers = o.workers ?? defaultStressWorkers();
  const log = (line: string): boolean => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`seed ${seed}`);
  log(`stress ${target.name} (${target.kernelVersion}) on real threads, ${workers} execution${workers > 1 ? 's' : ''} at a time, for ${timeMs !== undefined ? formatDuration(timeMs) : `${formatCount(o.execs!)} executions`}`);

  const before = await loadCorpusDir(corpusDir);
  const startedAt = new Date();
  const t0 = performance.now();
  const tallies = new Map<string, Tally>();
  const targetErrors = new Map<string, TargetErrorReport>();
  const confirmer = new OomConfirmer(limits);
  let failures = 0;
  const totals = await runStress({ target: ref, seed, timeMs, execs: o.execs, workers, faults: o.faults, memoryMb: limits.memoryMb }, async (x) => {
    // An oom is confirmed alone first (oom-confirm.ts): an exact replay of the execution on a fresh
    // guarded worker; if that runs to the end, the heap was filled by earlier executions: a target error.
    if (x.end === 'oom' && !(await confirmer.diesAlone(ref, x.program, x.faults))) {
      const e = notAlone({ index: x.index, detail: [] });
      x.findings = x.findings.map((f) => (f.kind === 'oom' ? { ...f, kind: e.kind, title: e.title, detail: [...f.detail, ...e.detail] } : f));
    }
    // Target errors are bugs of the model, not findings of its kernel: kept apart from the corpus (and from unconfirmed/).
    for (const f of x.findings.filter((f) => f.kind === TARGET_ERROR)) {
      const seen = targetErrors.get(f.title);
      if (seen) seen.hits++;
      else targetErrors.set(f.title, { target: target.name, title: f.title, execIndex: x.index, hits: 1, stack: f.detail, repro: `mdevfuzz stress ${targetFlag(ref)} --seed ${shellQuote(seed)} --execs ${x.index + 1} --workers 1${o.faults ? '' : ' --no-faults'}` });
    }
    x.findings = x.findings.filter((f) => f.kind !== TARGET_ERROR);
    if (x.findings.length === 0) return;
    failures++;
    const c = confirmInline(target, x, seed);
    for (const f of x.findings) {
      let t = tallies.get(f.title);
      if (!t) tallies.set(f.title, (t = { finding: f, hits: 0, confirmed: 0, firstIndex: x.index, timeToFindMs: Math.round(performance.now() - t0) }));
      t.hits++;
      if (c.confirmed.has(f.title)) {
        t.confirmed++;
        t.confirmedBy ??= { x, c };
      } else t.unconfirmedBy ??= { x, c };
    }
  });

  const save: StressSave = { target, ref, seed, seenAt: new Date().toISOString() };
  let harnessErrors = 0;
  const findings: StressSummaryFinding[] = [];
  for (const t of [...tallies.values()].sort((a, b) => a.firstIndex - b.firstIndex || compareText(a.finding.title, b.finding.title))) {
    const title = t.finding.title;
    const e = expectationOf(target, title);
    const row: StressSummaryFinding = {
      signature: title,
      kind: t.finding.kind,
      problem: e?.problem ?? null,
      expected: e?.status ?? null,
      new: t.confirmed > 0 && !before.bySignature.has(title) && e === undefined,
      hits: t.hits,
      confirmed: t.confirmed,
      firstIndex: t.firstIndex,
      timeToFindMs: t.timeToFindMs,
      corpusFile: null,
      unconfirmedFile: null,
    };
    try {
      if (t.confirmedBy) {
        const { x, c } = t.confirmedBy;
        row.corpusFile = (await recordSighting(corpusDir, title, () => stressEntry(save, x, title, c.schedule))).file;
      } else if (t.unconfirmedBy) {
        const { x, c } = t.unconfirmedBy;
        row.unconfirmedFile = await saveUnconfirmed(corpusDir, save, x, x.findings.find((f) => f.title === title)!, c, t.hits);
      }
    } catch (err) {
      if (!(err instanceof CorpusError)) harnessErrors++;
      row.error = oneLine(err instanceof Error ? err.message : String(err));
      process.stderr.write(`mdevfuzz: warning: not saved: ${title}: ${row.error}\n`);
    }
    findings.push(row);
  }

  const sightings = findings.reduce((n, f) => n + f.hits, 0);
  const confirmedSightings = findings.reduce((n, f) => n + f.confirmed, 0);
  const runId = `${startedAt.toISOString().replace(/[-:.]/g, '')}-stress-${slugify(seed, 40)}-${randomBytes(2).toString('hex')}`;
  const summaryFile = path.join(o.results, runId, 'summary.json');
  const per = (n: number): number => (totals.elapsedMs > 0 ? Math.round((n * 1000) / totals.elapsedMs) : 0);
  const summary: StressSummary = {
    runId,
    harnessVersion: harnessVersion(),
    engine: 'stress',
    target: target.name,
    targetHash: targetHash(ref),
    seed,
    workers,
    faults: o.faults,
    timeLimitMs: timeMs ?? null,
    execsLimit: o.execs ?? null,
    executions: totals.executions,
    steps: totals.steps,
    elapsedMs: totals.elapsedMs,
    execsPerSec: per(totals.executions),
    stepsPerSec: per(totals.steps),
    failures,
    sightings,
    confirmedSightings,
    confirmationRate: sightings > 0 ? Math.round((confirmedSightings / sightings) * 1000) / 1000 : 0,
    corpusDir,
    summaryFile,
    findings,
  };
  if (targetErrors.size > 0) summary.targetErrors = [...targetErrors.values()].sort((a, b) => a.execIndex - b.execIndex);
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  await writeFileAtomic(summaryFile, json);
  if (o.json) process.stdout.write(json);
  else printSummary(summary, ref);
  printTargetErrors(summary.targetErrors ?? []);
  if (harnessErrors > 0 || targetErrors.size > 0) return 2;
  return findings.some((f) => f.new) ? 1 : 0;
}

function printSummary(s: StressSummary, ref: TargetRef): void {
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const lines = [
    '',
    `${formatCount(s.executions)} executions (${formatCount(s.steps)} steps) in ${formatDuration(s.elapsedMs)}: ${formatCount(s.execsPerSec)} exec/s, ${formatCount(s.stepsPerSec)} steps/s`,
    `${s.findings.length} distinct findings in ${formatCount(s.failures)} failing executions; ${formatCount(s.confirmedSightings)} of ${formatCount(s.sightings)} sightings confirmed inline (${pct(s.confirmationRate)})`,
  ];
  if (s.findings.length > 0) {
    const status = (f: StressSummaryFinding): string =>
      f.confirmed === 0 ? 'unconfirmed' : f.new ? 'NEW' : f.expected === 'known' ? 'expected' : f.expected === 'by-design' ? 'by-design' : 'in corpus';
    // The problem column only when some finding is a seed problem of the target's expectations.
    const problems = s.findings.some((f) => f.problem !== null);
    const rows = s.findings.map((f) => [f.signature, ...(problems ? [f.problem ?? ''] : []), formatCount(f.hits), formatCount(f.confirmed), formatDuration(f.timeToFindMs), status(f)]);
    const columns = [{ header: 'signature' }, ...(problems ? [{ header: 'problem' }] : []), { header: 'hits', right: true }, { header: 'confirmed', right: true }, { header: 'found after', right: true }, { header: 'status' }];
    lines.push('', formatTable(columns, rows));
  }
  lines.push('', `corpus:   ${s.corpusDir}`, `summary:  ${s.summaryFile}`);
  const example = s.findings.find((f) => f.new && f.corpusFile) ?? s.findings.find((f) => f.corpusFile);
  if (example?.corpusFile) lines.push(`replay:   ${replayCommand(example.corpusFile, 'file' in ref ? ref.file : undefined)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
