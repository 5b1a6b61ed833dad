// `mdevfuzz run`: a campaign over one, several or (by default) every bundled target, one after the
// other, the time budget split evenly between them; findings recorded in the corpus; and in
// results/<run-id>/: summary.json, junit.xml, report.html and corpus/ (this run's entries).
// Exit code: 0 nothing new, 1 new findings or a lost expected finding, 2 usage or harness error
// (an invalid corpus file included), 130 stopped by SIGINT or SIGTERM (results still written).

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { addToHistory, historyFile, writeRunHits, type RunHits } from '../corpus/history.js';
import { harnessVersion } from '../corpus/identity.js';
import { slugify } from '../corpus/slug.js';
import { targetDir } from '../corpus/store.js';
import { defaultWorkers } from '../engine/campaign.js';
import { loadTarget, UsageError } from '../engine/load.js';
import { writeRunOutputs } from '../report/outputs.js';
import { relate } from '../report/related.js';
import {
  countExpectations, EXIT_ERROR, EXIT_INTERRUPTED, outcomeExitCode,
  type RunSummary, type ShardInfo, type SummaryFinding, type TargetErrorReport, type TargetResult,
} from '../report/summary.js';
import type { StrategyName } from '../sched/index.js';
import type { Target } from '../target.js';
import { TARGETS, findTarget } from '../../targets/index.js';
import { makeProgress } from './bars.js';
import { formatCount, formatDuration } from './format.js';
import { Interrupt } from './interrupt.js';
import { printRunSummary } from './print.js';
import { printTargetErrors } from './target-errors.js';
import { limitsOf } from './limits.js';
import type { EngineName } from '../engine/threads/threads-run.js';
import type { GuideMode } from '../engine/runner.js';
import { campaignFlags, notRun, runTarget, targetFlag, type RunContext, type TargetPlan } from './run-target.js';
import { compareText } from '../text.js';

export type { FindingMinimization, RunSummary, SummaryFinding, TargetResult } from '../report/summary.js';
export { MINIMIZE_MAX_MS, MINIMIZE_MIN_MS } from './run-target.js';

/** The whole run's time budget when neither --time nor --execs is given, split between the targets. */
export const DEFAULT_TIME_MS = 60_000;

export interface RunOptions {
  /** Bundled target names; every bundled target when neither this nor targetFile is given. */
  target?: string[];
  targetFile?: string;
  seed?: string;
  execs?: number;
  time?: number;
  shard?: { index: number; count: number };
  runId?: string;
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
  /** 'threads': each CPU of an execution on its own worker thread (--workers is then unused). */
  engine?: EngineName;
  /** 'coverage': coverage-guided search (default 'off'). */
  guide?: GuideMode;
  /** --stall-timeout: a CPU's time budget between two preemption points, in ms. */
  stallTimeout?: number;
  /** --worker-memory: each worker's heap cap, in MiB. */
  workerMemory?: number;
}

export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `20251124T090700123Z-<seed>` (unique by a suffix when two runs start in the same millisecond), or `runId` exactly. */
export async function makeRunDir(resultsDir: string, seed: string, startedAt: Date, runId?: string): Promise<{ runId: string; dir: string }> {
  await fs.mkdir(resultsDir, { recursive: true });
  if (runId !== undefined) {
    const dir = path.join(resultsDir, runId);
    await fs.mkdir(dir).catch((e: NodeJS.ErrnoException) => {
      throw e.code === 'EEXIST' ? new UsageError(`${dir} already exists: choose another --run-id`) : e;
    });
    return { runId, dir };
  }
  const stamp = startedAt.toISOString().replace(/[-:.]/g, '');
  for (let n = 1; ; n++) {
    const id = `${stamp}-${slugify(seed, 40)}${n > 1 ? `-${n}` : ''}`;
    const dir = path.join(resultsDir, id);
    try {
      await fs.mkdir(dir);
      return { runId: id, dir };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

/** Fails with one line, before anything runs, when `dir` cannot be created or written to. */
export async function checkWritableDir(dir: string, option: string): Promise<void> {
  try {
    await fs.mkdir(dir, { recursive: true });
    const probe = path.join(dir, `.mdevfuzz-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
    await fs.writeFile(probe, '');
    await fs.rm(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EEXIST' || err.code === 'ENOTDIR' ? 'a file is in the way' : (err.code ?? err.message);
    throw new UsageError(`${option} ${dir} is not a writable directory (${why})`);
  }
}

async function plansOf(o: RunOptions): Promise<Omit<TargetPlan, 'firstIndex' | 'execs' | 'timeMs'>[]> {
  if (o.targetFile !== undefined) {
    const ref = { file: o.targetFile };
    return [{ target: await loadTarget(ref), ref }];
  }
  const names = o.target ?? TARGETS.map((t) => t.name);
  return names.map((name) => {
    const target = findTarget(name);
    if (!target) throw new UsageError(`unknown target '${name}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
    return { target, ref: { name } };
  });
}

/** Shard i of n over [0, execs): the contiguous slice [floor(i*N/n), floor((i+1)*N/n)). */
export function shardOf(shard: { index: number; count: number }, execs: number): ShardInfo {
  const firstIndex = Math.floor((shard.index * execs) / shard.count);
  const end = Math.floor(((shard.index + 1) * execs) / shard.count);
  return { ...shard, firstIndex, slice: end - firstIndex };
}

/**
 * The seed problems of a run's targets: their expectations with `problem` set. A bundled target
 * brings those of every bundled target (the mdev family shares the five problems of the 2019
 * thread, declared by mdev-v5.0); a target file only its own, so an unrelated target has none.
 */
export function seedProblems(targets: readonly Target[]): RunSummary['seedProblems'] {
  const sources = targets.some((t) => TARGETS.includes(t)) ? [...TARGETS, ...targets] : targets;
  const byTitle = new Map<string, string>();
  for (const t of sources) for (const e of t.expectations) if (e.problem !== undefined && !byTitle.has(e.title)) byTitle.set(e.title, e.problem);
  return [...byTitle].map(([title, problem]) => ({ problem, title })).sort((a, b) => compareText(a.problem, b.problem));
}

/** Commands that run the same executions again: one for an --execs run, else one per target. */
function repeatCommands(o: RunOptions, plans: readonly TargetPlan[], s: RunSummary): string[] {
  const flags = campaignFlags({ seed: s.seed, strategy: s.strategy, depth: s.depth, faults: s.faults, guide: s.guide });
  if (o.execs === undefined) return s.results.flatMap((r, i) => (r.executions > 0 ? [`mdevfuzz run ${targetFlag(plans[i]!.ref)} ${flags} --execs ${r.executions}`] : []));
  const everyTarget = o.targetFile === undefined && o.target === undefined;
  const targets = everyTarget ? '' : o.targetFile !== undefined ? `${targetFlag({ file: o.targetFile })} ` : `--target ${plans.map((p) => p.target.name).join(',')} `;
  return [`mdevfuzz run ${targets}${flags} --execs ${o.execs}${s.shard ? ` --shard ${s.shard.index}/${s.shard.count}` : ''}`];
}

/** The record of a run (or of a merge, with its parts) that history.json counts. */
export function runHitsOf(s: RunSummary, parts?: RunHits[]): RunHits {
  const r: RunHits = {
    runId: s.runId,
    startedAt: s.startedAt,
    seed: s.seed,
    findings: s.findings.map((f) => ({ target: f.target, signature: f.signature, hits: f.hits, firstIndex: f.execIndex })),
  };
  if (parts) r.parts = parts;
  return r;
}

export async function runCommand(o: RunOptions): Promise<number> {
  // Everything that can be wrong with what was asked is checked before anything runs or prints.
  const base = await plansOf(o);
  if (o.shard && o.execs === undefined) throw new UsageError('--shard needs --execs: the shards split the execution indices [0, N)');
  const guide = o.guide ?? 'off';
  if (guide === 'coverage' && o.shard) throw new UsageError('--guide coverage cannot be sharded: each execution depends on the queue of all earlier ones, so shards would not add up to the unsharded run');
  if (guide === 'coverage' && o.engine === 'threads') throw new UsageError('--guide coverage runs on the inline engine (with --workers), not --engine threads');
  if (o.runId !== undefined && !RUN_ID.test(o.runId)) throw new UsageError(`--run-id '${o.runId}': letters, digits, '.', '_' and '-' only`);
  const totalTimeMs = o.execs === undefined && o.time === undefined ? DEFAULT_TIME_MS : o.time;
  const shard = o.shard ? shardOf(o.shard, o.execs!) : null;
  const plans: TargetPlan[] = base.map((p) => ({
    ...p,
    firstIndex: shard?.firstIndex ?? 0,
    execs: shard ? shard.slice : o.execs,
    timeMs: totalTimeMs === undefined ? undefined : Math.max(1, Math.floor(totalTimeMs / base.length)),
  }));
  await checkWritableDir(o.results, '--results');
  await checkWritableDir(o.corpus, '--corpus');
  for (const p of plans) {
    const dir = targetDir(o.corpus, p.target.name);
    if (await fs.stat(dir).catch(() => undefined)) await checkWritableDir(dir, '--corpus');
  }
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const workers = o.workers ?? defaultWorkers();
  const startedAt = new Date();
  const { runId, dir } = await makeRunDir(o.results, seed, startedAt, o.runId);

  const out = o.json ? process.stderr : process.stdout;
  const log = (line: string): boolean => out.write(`${line}\n`);
  const budget = [o.execs !== undefined ? `${formatCount(o.execs)} executions` : '', totalTimeMs !== undefined ? formatDuration(totalTimeMs) : ''].filter(Boolean).join(' or ');
  log(`seed ${seed}`);
  log(
    `${plans.map((p) => `${p.target.name} (${p.target.kernelVersion})`).join(', ')}: strategy ${o.strategy} depth ${o.depth}, ` +
      `${guide === 'coverage' ? 'coverage-guided, ' : ''}${workers === 0 ? 'inline' : `${workers} worker${workers > 1 ? 's' : ''}`}, for ${budget}${plans.length > 1 && totalTimeMs !== undefined ? ' in all' : ''}` +
      `${shard ? `, shard ${shard.index}/${shard.count}: indices ${shard.firstIndex} to ${shard.firstIndex + shard.slice - 1}` : ''}`,
  );

  const progress = makeProgress(out, plans.map((p) => ({ name: p.target.name, execs: p.execs, timeMs: p.timeMs })));
  let current = plans[0]!.target.name;
  const interrupt = new Interrupt((signal) => progress.phase(current, `${signal}: stopping; writing the results of what ran (again to abort at once)`, true));
  const ctx: RunContext = {
    cfg: { seed, strategy: o.strategy, depth: o.depth, faults: o.faults, guide },
    limits: limitsOf(o),
    workers, engine: o.engine, minimize: o.minimize, corpusRoot: o.corpus, runCorpus: path.join(dir, 'corpus'), resultsRoot: o.results, interrupt, progress,
    warn: (line) => process.stderr.write(`mdevfuzz: warning: ${line}\n`),
  };
  try {
    const results: TargetResult[] = [];
    const findings: SummaryFinding[] = [];
    let created = 0;
    let harnessErrors = 0;
    const targetErrors: TargetErrorReport[] = [];
    for (const plan of plans) {
      if (interrupt.stopped()) {
        results.push(notRun(plan, o.corpus));
        continue;
      }
      current = plan.target.name;
      const t = await runTarget(plan, ctx);
      results.push(t.result);
      findings.push(...t.findings);
      created += t.created;
      harnessErrors += t.harnessErrors;
      targetErrors.push(...t.targetErrors);
    }
    progress.stop();
    relate(findings);

    const elapsedMs = results.reduce((ms, r) => ms + r.elapsedMs, 0);
    const executions = results.reduce((n, r) => n + r.executions, 0);
    const corpusErrors = results.flatMap((r) => r.corpusErrors);
    const expectations = countExpectations(results);
    const summary: RunSummary = {
      runId,
      harnessVersion: harnessVersion(),
      target: results.map((r) => r.target).join(','),
      targets: results.map((r) => r.target),
      targetHash: results[0]!.targetHash,
      seed,
      strategy: o.strategy,
      depth: o.depth,
      faults: o.faults,
      guide,
      workers,
      execsLimit: o.execs ?? null,
      timeLimitMs: totalTimeMs ?? null,
      shard,
      interrupted: interrupt.stopped(),
      startedAt: startedAt.toISOString(),
      executions,
      steps: results.reduce((n, r) => n + r.steps, 0),
      elapsedMs,
      execsPerSec: elapsedMs > 0 ? Math.round((executions * 1000) / elapsedMs) : 0,
      corpusDir: plans.length === 1 ? results[0]!.corpusDir : o.corpus,
      corpusCreated: created,
      corpusUpdated: findings.filter((f) => f.corpusFile !== null).length - created,
      minimize: o.minimize,
      minimizeMs: findings.reduce((ms, f) => ms + (f.minimize && f.minimize.outcome !== 'failed' ? f.minimize.ms : 0), 0),
      summaryFile: path.join(dir, 'summary.json'),
      junitFile: path.join(dir, 'junit.xml'),
      reportFile: path.join(dir, 'report.html'),
      newFindings: findings.filter((f) => f.new).length,
      findings,
      expectedNotFound: results.flatMap((r) => r.expectations.expectedNotFound.map((t) => (plans.length === 1 ? t : `${r.target}: ${t}`))),
      expectations,
      corpusErrors,
      results,
      seedProblems: seedProblems(plans.map((p) => p.target)),
      exitCode: 0,
    };
    if (targetErrors.length > 0) summary.targetErrors = targetErrors;
    // Counters go to results/: this run's record, folded once into the cumulative history.
    summary.hitsFile = await writeRunHits(dir, runHitsOf(summary));
    summary.historyFile = historyFile(o.results);
    await addToHistory(o.results, [runHitsOf(summary)]).catch((e: unknown) => {
      harnessErrors++;
      ctx.warn(`the history was not updated: ${e instanceof Error ? e.message : String(e)}`);
    });
    summary.exitCode = interrupt.stopped() ? EXIT_INTERRUPTED : harnessErrors > 0 || corpusErrors.length > 0 || targetErrors.length > 0 ? EXIT_ERROR : outcomeExitCode(summary);
    const json = await writeRunOutputs(summary);
    if (o.json) process.stdout.write(json);
    else printRunSummary(summary, repeatCommands(o, plans, summary));
    if (corpusErrors.length > 0) process.stderr.write(`mdevfuzz: ${corpusErrors.length} invalid corpus file${corpusErrors.length > 1 ? 's' : ''}, left as they are: ${corpusErrors.join('; ')}\n`);
    printTargetErrors(targetErrors);
    if (harnessErrors > 0) process.stderr.write(`mdevfuzz: harness error: ${harnessErrors} finding${harnessErrors > 1 ? 's' : ''} could not be saved (see the warnings)\n`);
    return summary.exitCode;
  } finally {
    progress.stop();
    interrupt.dispose();
  }
}
