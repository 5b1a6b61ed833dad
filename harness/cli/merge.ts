// `mdevfuzz merge OUT RUN_DIR...`: the runs of one campaign (typically its shards) as one run, in
// <results>/OUT/: summary.json (findings by target and signature: the smallest first index, hits
// summed), junit.xml, report.html, and corpus/ (the runs' corpus/ folders, by `corpus merge`).
// The runs must share seed, strategy, depth, faults and --execs, and no two may have run the same
// execution index of the same target. Exit code: as `run`'s (0, or 1 for new or lost), 2 on errors
// (target errors of the runs included: they are merged like findings, and kept out of the corpus).

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { harnessVersion } from '../corpus/identity.js';
import { UsageError } from '../engine/load.js';
import { randomBytes } from 'node:crypto';
import type { CorpusEntry } from '../corpus/entry.js';
import { addToHistory, HITS_FILE, historyFile, readRunHits, writeRunHits, type RunHits } from '../corpus/history.js';
import { fsyncDir, writeFileAtomic } from '../corpus/store.js';
import { renderHtml } from '../report/html.js';
import { renderJunit } from '../report/junit.js';
import { relate } from '../report/related.js';
import { countExpectations, EXIT_ERROR, mergeCoverage, outcomeExitCode, type RunSummary, type SummaryFinding, type TargetErrorReport, type TargetResult } from '../report/summary.js';
import { TARGETS } from '../../targets/index.js';
import { mergeCorpora } from './corpus.js';
import { printRunSummary } from './print.js';
import { printTargetErrors } from './target-errors.js';
import { campaignFlags, replayCommand, targetFlag } from './run-target.js';
import { checkWritableDir, RUN_ID, runHitsOf } from './run.js';
import { isVerifyState, mergeVerifyCommand } from '../verify/merge.js';
import { compareText } from '../text.js';

export interface MergeOptions {
  results: string;
  json?: boolean;
}

/** What must be the same in every run merged. */
const SAME = ['seed', 'strategy', 'depth', 'faults', 'execsLimit'] as const;

async function readSummary(dir: string): Promise<RunSummary> {
  const file = path.join(dir, 'summary.json');
  const text = await fs.readFile(file, 'utf8').catch(() => {
    throw new UsageError(`${dir}: no summary.json (not a run directory)`);
  });
  let s: Partial<RunSummary>;
  try {
    s = JSON.parse(text) as Partial<RunSummary>;
  } catch {
    throw new UsageError(`${file}: not valid JSON`);
  }
  if (typeof s.runId !== 'string' || typeof s.seed !== 'string' || !Array.isArray(s.findings) || !Array.isArray(s.results)) {
    throw new UsageError(`${file}: not a run summary with per-target results`);
  }
  return s as RunSummary;
}

const shardText = (s: RunSummary): string | null => (s.shard ? `${s.shard.index}/${s.shard.count}` : null);
const union = (lists: readonly string[][]): string[] => [...new Set(lists.flat())];

/** Two runs that executed the same index of the same target would count its hits twice. */
function checkDisjoint(dirs: readonly string[], runs: readonly RunSummary[]): void {
  const seen: { dir: string; r: TargetResult }[] = [];
  runs.forEach((s, i) => {
    for (const r of s.results) {
      const clash = seen.find((x) => x.r.target === r.target && r.executions > 0 && x.r.firstIndex < r.firstIndex + r.executions && r.firstIndex < x.r.firstIndex + x.r.executions);
      if (clash) throw new UsageError(`${clash.dir} and ${dirs[i]} both ran execution indices of ${r.target} from ${Math.max(r.firstIndex, clash.r.firstIndex)}: merge shards of one campaign`);
      if (r.executions > 0) seen.push({ dir: dirs[i]!, r });
    }
  });
}

/** Target errors by target and title: the smallest first index (and its stack and repro), hits summed. */
function mergeTargetErrors(runs: readonly RunSummary[]): TargetErrorReport[] {
  const byKey = new Map<string, TargetErrorReport>();
  for (const e of runs.flatMap((s) => s.targetErrors ?? [])) {
    const key = `${e.target}\0${e.title}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...e });
    else byKey.set(key, { ...(e.execIndex < seen.execIndex ? e : seen), hits: seen.hits + e.hits });
  }
  return [...byKey.values()].sort((a, b) => compareText(a.target, b.target) || a.execIndex - b.execIndex);
}

/** The seed problems of the merged runs' targets: those any run listed. */
function unionSeedProblems(runs: readonly RunSummary[]): RunSummary['seedProblems'] {
  const byTitle = new Map(runs.flatMap((s) => s.seedProblems.map((p) => [p.title, p] as const)));
  return [...byTitle.values()].sort((a, b) => compareText(a.problem, b.problem));
}

function mergeResults(target: string, parts: readonly TargetResult[], findings: readonly SummaryFinding[]): TargetResult {
  const mine = findings.filter((f) => f.target === target);
  const found = new Set(mine.map((f) => f.signature));
  const pick = (key: 'expectedNotFound' | 'lost' | 'reproducedFromCorpus'): string[] => union(parts.map((p) => p.expectations[key])).filter((t) => !found.has(t));
  const lost = pick('lost');
  const statuses = new Set(parts.map((p) => p.status));
  const first = parts[0]!;
  const { coverage: _first, ...rest } = first;
  // Coverage adds up when every part that ran kept its counts (not the threads engine).
  const covered = parts.filter((p) => p.executions > 0).map((p) => p.coverage);
  const coverage = covered.length > 0 && covered.every((c) => c?.counts) ? { coverage: mergeCoverage(covered.map((c) => c!)) } : {};
  return {
    ...rest,
    ...coverage,
    status: statuses.has('interrupted') ? 'interrupted' : statuses.size === 1 ? first.status : 'done',
    firstIndex: Math.min(...parts.map((p) => p.firstIndex)),
    execsLimit: parts.every((p) => p.execsLimit !== null) ? parts.reduce((n, p) => n + p.execsLimit!, 0) : null,
    timeLimitMs: first.timeLimitMs,
    executions: parts.reduce((n, p) => n + p.executions, 0),
    steps: parts.reduce((n, p) => n + p.steps, 0),
    elapsedMs: Math.max(...parts.map((p) => p.elapsedMs)),
    execsPerSec: parts.reduce((n, p) => n + p.execsPerSec, 0),
    findings: mine.length,
    newFindings: mine.filter((f) => f.new).length,
    expectations: {
      expectedFound: mine.filter((f) => f.expected !== null).map((f) => f.signature),
      expectedNotFound: pick('expectedNotFound'),
      reproducedFromCorpus: pick('reproducedFromCorpus').filter((t) => !lost.includes(t)),
      lost,
      unexpected: mine.filter((f) => f.expected === null).map((f) => f.signature),
    },
    corpusErrors: union(parts.map((p) => p.corpusErrors)),
  };
}

export async function mergeCommand(out: string, dirs: readonly string[], o: MergeOptions): Promise<number> {
  if (!RUN_ID.test(out)) throw new UsageError(`OUT '${out}' is a run id under --results: letters, digits, '.', '_' and '-' only`);
  // An unwritable --results is refused before any run is read, as `run` and `compare` refuse theirs.
  await checkWritableDir(o.results, '--results');
  const outDir = path.join(o.results, out);
  if ((await fs.stat(outDir).catch(() => undefined))?.isDirectory() === false) throw new UsageError(`${outDir} is not a directory (a file is in the way)`);
  if ((await fs.readdir(outDir).catch(() => [])).length > 0) throw new UsageError(`${outDir} already exists and is not empty`);
  // Shards of `mdevfuzz verify`: their state files merge into one verdict (harness/verify/merge.ts).
  if (dirs.length > 0 && dirs.every(isVerifyState)) return mergeVerifyCommand(out, dirs, o);
  const runs: RunSummary[] = [];
  for (const dir of dirs) runs.push(await readSummary(dir));
  for (const key of SAME) {
    const other = runs.findIndex((s) => s[key] !== runs[0]![key]);
    if (other > 0) throw new UsageError(`${dirs[other]} is another campaign: its ${key} is ${JSON.stringify(runs[other]![key])}, not ${JSON.stringify(runs[0]![key])}`);
  }
  checkDisjoint(dirs, runs);

  // The corpus first: it validates every input entry before writing any.
  const corpusOut = path.join(outDir, 'corpus');
  const corpusIns: string[] = [];
  for (const d of dirs) if ((await fs.stat(path.join(d, 'corpus')).catch(() => undefined))?.isDirectory()) corpusIns.push(path.join(d, 'corpus'));
  // Everything is written to a hidden staging directory beside OUT, which is renamed to OUT at the
  // end: a failure midway leaves no OUT (the paths inside name OUT, where the files end up).
  const stage = path.join(o.results, `.${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const staged = (p: string): string => path.join(stage, path.relative(outDir, p));
  try {
    const corpus = corpusIns.length > 0 ? await mergeCorpora(staged(corpusOut), corpusIns) : undefined;
    await fs.mkdir(stage, { recursive: true });
    const files = new Map([...(corpus?.files ?? [])].map(([file, e]) => [path.join(corpusOut, path.relative(staged(corpusOut), file)), e]));
    return await finishMerge(out, outDir, corpusOut, dirs, runs, files, staged, stage, o);
  } finally {
    await fs.rm(stage, { recursive: true, force: true });
  }
}

async function finishMerge(
  out: string, outDir: string, corpusOut: string, dirs: readonly string[], runs: RunSummary[], corpusFiles: Map<string, CorpusEntry>,
  staged: (p: string) => string, stage: string, o: MergeOptions,
): Promise<number> {
  const fileOf = new Map([...corpusFiles].map(([file, e]) => [`${e.target}\0${e.signature}`, { file, ladder: e.ladder }]));

  const byKey = new Map<string, SummaryFinding>();
  for (const f of runs.flatMap((s) => s.findings)) {
    const key = `${f.target}\0${f.signature}`;
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...f });
    else {
      const best = f.execIndex < seen.execIndex ? { ...f } : seen;
      const merged = { hits: seen.hits + f.hits, timeToFindMs: Math.min(seen.timeToFindMs, f.timeToFindMs), new: seen.new || f.new, corpusCreated: seen.corpusCreated || f.corpusCreated };
      byKey.set(key, { ...best, ...merged });
    }
  }
  const targets = union(runs.map((s) => s.targets));
  const targetFiles = new Map(runs.flatMap((s) => s.results.flatMap((r) => (r.targetFile === undefined ? [] : [[r.target, r.targetFile] as const]))));
  const findings = [...byKey.entries()].map(([key, f]) => {
    const stored = fileOf.get(key);
    if (!stored) return f;
    const { corpusError: _dropped, ...rest } = f;
    return { ...rest, corpusFile: stored.file, ladder: stored.ladder, replay: replayCommand(stored.file, targetFiles.get(f.target)) };
  });
  findings.sort((a, b) => targets.indexOf(a.target) - targets.indexOf(b.target) || a.execIndex - b.execIndex || compareText(a.signature, b.signature));
  relate(findings);
  const results = targets.map((t) => mergeResults(t, runs.flatMap((s) => s.results.filter((r) => r.target === t)), findings));

  const first = runs[0]!;
  const executions = results.reduce((n, r) => n + r.executions, 0);
  const summary: RunSummary = {
    ...first,
    runId: out,
    harnessVersion: harnessVersion(),
    target: targets.join(','),
    targets,
    workers: runs.reduce((n, s) => n + s.workers, 0),
    shard: null,
    interrupted: runs.some((s) => s.interrupted),
    startedAt: runs.map((s) => s.startedAt).sort()[0]!,
    executions,
    steps: results.reduce((n, r) => n + r.steps, 0),
    elapsedMs: Math.max(...runs.map((s) => s.elapsedMs)),
    execsPerSec: runs.reduce((n, s) => n + s.execsPerSec, 0),
    corpusDir: corpusOut,
    corpusCreated: findings.filter((f) => f.corpusCreated).length,
    corpusUpdated: findings.filter((f) => f.corpusFile !== null && !f.corpusCreated).length,
    minimize: runs.some((s) => s.minimize),
    minimizeMs: runs.reduce((n, s) => n + s.minimizeMs, 0),
    summaryFile: path.join(outDir, 'summary.json'),
    junitFile: path.join(outDir, 'junit.xml'),
    reportFile: path.join(outDir, 'report.html'),
    newFindings: findings.filter((f) => f.new).length,
    findings,
    expectedNotFound: results.flatMap((r) => r.expectations.expectedNotFound.map((t) => (targets.length === 1 ? t : `${r.target}: ${t}`))),
    expectations: countExpectations(results),
    corpusErrors: union(runs.map((s) => s.corpusErrors)),
    results,
    seedProblems: unionSeedProblems(runs),
    mergedFrom: runs.map((s) => ({ runId: s.runId, shard: shardText(s) })),
    exitCode: 0,
  };
  const targetErrors = mergeTargetErrors(runs);
  if (targetErrors.length > 0) summary.targetErrors = targetErrors;
  else delete summary.targetErrors;
  summary.exitCode = targetErrors.length > 0 ? EXIT_ERROR : outcomeExitCode(summary);
  // Counters: the merged run's record holds each run's own, so the history counts every run once
  // (by run id), however often it is merged and whether or not the runs counted themselves already.
  const parts: RunHits[] = [];
  for (const [i, d] of dirs.entries()) parts.push((await readRunHits(d)) ?? runHitsOf(runs[i]!));
  summary.hitsFile = path.join(outDir, HITS_FILE);
  summary.historyFile = historyFile(o.results);
  await writeRunHits(stage, runHitsOf(summary, parts));
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  await writeFileAtomic(staged(summary.summaryFile), json);
  await writeFileAtomic(staged(summary.junitFile), renderJunit(summary));
  await writeFileAtomic(staged(summary.reportFile), renderHtml(summary));
  await addToHistory(o.results, [runHitsOf(summary, parts)]);
  await fs.rmdir(outDir).catch(() => undefined); // an empty OUT (checked above) is replaced
  await fs.rename(stage, outDir);
  await fsyncDir(o.results);
  if (o.json) process.stdout.write(json);
  else {
    const every = targets.length === TARGETS.length && TARGETS.every((t) => targets.includes(t.name));
    const flags = campaignFlags(summary);
    const file = targets.length === 1 ? targetFiles.get(targets[0]!) : undefined;
    const which = file !== undefined ? `${targetFlag({ file })} ` : every ? '' : `--target ${targets.join(',')} `;
    const repeat = summary.execsLimit === null ? [] : [`mdevfuzz run ${which}${flags} --execs ${summary.execsLimit}`];
    process.stdout.write(`merged ${runs.length} runs: ${runs.map((s) => s.runId + (s.shard ? ` (shard ${shardText(s)})` : '')).join(', ')}\n`);
    printRunSummary(summary, repeat);
  }
  printTargetErrors(targetErrors);
  return summary.exitCode;
}
