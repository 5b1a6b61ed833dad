// One target of `mdevfuzz run`: its campaign, its findings recorded in the corpus, a copy of each
// entry it found in results/<run-id>/corpus/, and its expectations. A new signature is written as
// found (marked minimizePending) as soon as the campaign reports it; after the campaign it is
// minimized within the budget on a guarded worker (a signal aborts it), and its entry replaced.
// Entries left pending by a run that was killed are minimized by the next run. Known entries are
// not written: hits live in results/ (history.ts).
//
// Lost expectations: a known expectation the campaign did not find fails the run only when its
// target's corpus holds an entry for it and replaying that entry at the end of the run does not
// show the signature either. A short run that simply did not get that far loses nothing.

import path from 'node:path';
import { captureEntry, findingExecution } from '../corpus/capture.js';
import { CorpusError, serializeEntry, type CorpusEntry } from '../corpus/entry.js';
import { targetHash } from '../corpus/identity.js';
import { bestRepro, compareRepros } from '../corpus/merge.js';
import { recordVerified } from '../corpus/verified.js';
import { entryPaths, loadCorpusDir, readEntry, recordSighting, replaceEntry, sweepLeftovers, targetDir, writeFileAtomic, type Recorded } from '../corpus/store.js';
import { runCampaign, type CampaignFinding, type CampaignProgress } from '../engine/campaign.js';
import type { TargetRef } from '../engine/load.js';
import type { CampaignConfig } from '../engine/runner.js';
import { runThreadsCampaign, type EngineName } from '../engine/threads/threads-run.js';
import { renderLadder } from '../report/ladder.js';
import { declaredTransitions } from '../coverage/transitions.js';
import { summarizeCoverage, type ExpectationsOutcome, type ResumedEntry, type SummaryFinding, type TargetErrorReport, type TargetResult } from '../report/summary.js';
import { expectationOf, type Target } from '../target.js';
import { TARGET_ERROR, WATCHDOG_KINDS } from '../types.js';
import type { ExecutionLimits } from '../engine/pool/guarded-pool.js';
import { captureWatchdogEntry, haltedLadder, haltedRun } from './watchdog-entry.js';
import type { RunProgress } from './bars.js';
import { oneLine } from './format.js';
import type { Interrupt } from './interrupt.js';
import { GuardedWork } from './guarded-work.js';

/** Per new finding: at least this long to minimize it, even when the time budget is spent... */
export const MINIMIZE_MIN_MS = 3_000;
/** ...and never more than this (also the budget per finding under --execs alone). */
export const MINIMIZE_MAX_MS = 10_000;

export interface TargetPlan {
  target: Target;
  ref: TargetRef;
  firstIndex: number;
  execs?: number;
  timeMs?: number;
}

export interface RunContext {
  cfg: Required<Pick<CampaignConfig, 'seed' | 'strategy' | 'depth' | 'faults'>> & Pick<CampaignConfig, 'guide'>;
  workers: number;
  /** 'threads': the campaign runs on the threads engine. */
  engine?: EngineName;
  minimize: boolean;
  corpusRoot: string;
  /** results/<run-id>/corpus: copies of the entries this run found. */
  runCorpus: string;
  /** --results: where verified.json and history.json live. */
  resultsRoot: string;
  interrupt: Interrupt;
  progress: RunProgress;
  /** The watchdog's budgets: every execution runs on a worker thread under them. */
  limits: ExecutionLimits;
  warn(line: string): void;
}

export interface TargetOutcome {
  result: TargetResult;
  findings: SummaryFinding[];
  created: number;
  harnessErrors: number;
  /** Exceptions out of the target's code: reported apart, never recorded in the corpus. */
  targetErrors: TargetErrorReport[];
}

export function shellQuote(word: string): string {
  return /^[\w.,:=@%+/-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function targetFlag(ref: TargetRef): string {
  return 'name' in ref ? `--target ${ref.name}` : `--target-file ${shellQuote(ref.file)}`;
}

/** The command that replays a corpus entry with its ladder; an entry of a target file needs the file. */
export function replayCommand(corpusFile: string, targetFile?: string): string {
  return `mdevfuzz replay ${shellQuote(corpusFile)}${targetFile === undefined ? '' : ` --target-file ${shellQuote(targetFile)}`} --ladder`;
}

/** `mdevfuzz run` options that draw the same executions: seed, strategy, faults, guidance. */
export function campaignFlags(cfg: RunContext['cfg']): string {
  return `--seed ${shellQuote(cfg.seed)} --strategy ${cfg.strategy} --depth ${cfg.depth}${cfg.faults ? '' : ' --no-faults'}${cfg.guide === 'coverage' ? ' --guide coverage' : ''}`;
}

/** The time to minimize one of `pending` new findings: what is left of the budget shared out, within bounds. */
function minimizeBudget(deadline: number | undefined, pending: number): number {
  if (deadline === undefined) return MINIMIZE_MAX_MS;
  const share = (deadline - performance.now()) / Math.max(1, pending);
  return Math.round(Math.min(MINIMIZE_MAX_MS, Math.max(MINIMIZE_MIN_MS, share)));
}

export function notRun(plan: TargetPlan, corpusRoot: string): TargetResult {
  const none: ExpectationsOutcome = { expectedFound: [], expectedNotFound: [], reproducedFromCorpus: [], lost: [], unexpected: [] };
  const { target, ref } = plan;
  return {
    target: target.name, kernelVersion: target.kernelVersion, targetHash: targetHash(ref), corpusDir: targetDir(corpusRoot, target.name), status: 'not run',
    firstIndex: plan.firstIndex, execsLimit: plan.execs ?? null, timeLimitMs: plan.timeMs ?? null,
    executions: 0, steps: 0, elapsedMs: 0, execsPerSec: 0, findings: 0, newFindings: 0, expectations: none, corpusErrors: [],
    ...('file' in ref ? { targetFile: ref.file } : {}),
  };
}

export async function runTarget(plan: TargetPlan, ctx: RunContext): Promise<TargetOutcome> {
  const { target, ref } = plan;
  const { cfg, interrupt, progress } = ctx;
  const corpusDir = targetDir(ctx.corpusRoot, target.name);
  await sweepLeftovers(corpusDir); // temp files of a run killed mid-write
  const before = await loadCorpusDir(corpusDir);
  for (const e of before.errors) ctx.warn(`${e.message} (left as it is)`);
  const invalidFiles = new Set(before.errors.map((e) => e.file));
  const capture = { target, ref, cfg };
  // An entry is known when a run saved it and finished its minimization; a pending one was saved
  // by a run that was stopped or killed first: this run reports it (again) and minimizes it.
  const known = (title: string): boolean => before.bySignature.get(title)?.entry.minimizePending === false;
  const saveable = (title: string): boolean => !before.bySignature.has(title) && !entryPaths(corpusDir, title).some((p) => invalidFiles.has(p));

  // First sightings are written as soon as this thread learns of them, as found (kill -9 loses
  // at most their minimization); errors are kept for the finding's row.
  // A watchdog's finding (stall, oom) is run up to its last step only, and is not minimized.
  const entryAsFound = (f: CampaignFinding): CorpusEntry => (WATCHDOG_KINDS.has(f.kind) ? captureWatchdogEntry(capture, f) : captureEntry(capture, f, ctx.minimize));
  const firstWrites = new Map<string, Promise<{ recorded?: Recorded; entry?: CorpusEntry; error?: unknown }>>();
  const onNewFinding = (f: Readonly<CampaignFinding>): void => {
    if (f.kind === TARGET_ERROR || !saveable(f.title) || firstWrites.has(f.title)) return;
    let entry: CorpusEntry;
    try {
      entry = entryAsFound(f);
    } catch (error) {
      firstWrites.set(f.title, Promise.resolve({ error }));
      return;
    }
    firstWrites.set(f.title, recordSighting(corpusDir, f.title, () => entry).then((recorded) => ({ recorded, entry }), (error: unknown) => ({ error })));
  };

  const campaignStart = performance.now();
  const campaign = await (ctx.engine === 'threads' ? runThreadsCampaign : runCampaign)({
    target: ref, ...cfg, execs: plan.execs, timeMs: plan.timeMs, workers: ctx.workers, startIndex: plan.firstIndex, coverage: true,
    onProgress: (p) => progress.update(target.name, p),
    shouldStop: interrupt.stopped,
    onNewFinding,
    limits: ctx.limits,
  });
  const last: CampaignProgress = { executions: campaign.executions, steps: campaign.steps, elapsedMs: campaign.elapsedMs, findings: campaign.findings.length };
  progress.end(target.name, last, !interrupt.stopped());

  // A target error is a bug of the model, not a finding of its kernel: kept apart from the corpus.
  const targetErrors: TargetErrorReport[] = campaign.findings
    .filter((f) => f.kind === TARGET_ERROR)
    .map((f) => ({ target: target.name, title: f.title, execIndex: f.index, hits: f.hits, stack: f.detail, repro: reproCommand(ref, cfg, f.index) }));
  campaign.findings = campaign.findings.filter((f) => f.kind !== TARGET_ERROR);

  const deadline = plan.timeMs === undefined ? undefined : campaignStart + plan.timeMs;
  const found = new Set(campaign.findings.map((f) => f.title));
  const unseen = campaign.findings.filter((f) => !known(f.title));
  // Pending entries this run did not find again are minimized too: a rerun resumes the work.
  const resume = [...before.bySignature.values()].filter((s) => s.entry.minimizePending && !found.has(s.entry.signature));
  const todo = unseen.length + (ctx.minimize ? resume.length : 0);
  let pending = todo;
  const saving = (done: number, last = false): void =>
    progress.phase(target.name, `${ctx.minimize && !interrupt.stopped() ? 'minimizing and saving' : 'saving'} new entries: ${done}/${todo}`, last);
  if (todo > 0) saving(0);
  const step = (): void => saving(todo - --pending, pending === 0);
  // Target code after the campaign (minimizing, replaying corpus entries) runs on a guarded worker.
  const work = new GuardedWork(ref, ctx.limits, interrupt.stopped);
  try {
    let created = 0;
    let harnessErrors = 0;
    const findings: SummaryFinding[] = [];
    for (const f of campaign.findings) {
      const expected = expectationOf(target, f.title)?.status ?? null;
      const row: SummaryFinding = {
        signature: f.title, kind: f.kind, target: target.name, execIndex: f.index, timeToFindMs: f.timeToFindMs, hits: f.hits,
        corpusFile: null, corpusCreated: false, minimize: null, new: !known(f.title) && expected === null, expected, detail: f.detail, ladder: '', replay: '',
      };
      try {
        let file: string | undefined;
        if (known(f.title)) file = before.bySignature.get(f.title)!.file;
        else if (before.bySignature.has(f.title)) {
          // Saved as found by an earlier run that did not finish minimizing it (left pending under --no-minimize).
          file = before.bySignature.get(f.title)!.file;
          if (ctx.minimize) await finishEntry(work, before.bySignature.get(f.title)!.entry, file, minimizeBudget(deadline, pending), row, ctx);
          step();
        } else if (saveable(f.title)) {
          const first = await firstWrites.get(f.title);
          if (first?.error !== undefined) throw first.error;
          // The entry as found at the campaign's first index for it (what --workers does not change);
          // written now when the campaign did not call back (e.g. the threads engine).
          const entry = first?.entry && first.entry.index === f.index ? first.entry : entryAsFound(f);
          const recorded = first?.recorded ?? (await recordSighting(corpusDir, f.title, () => entry));
          file = recorded.file;
          row.corpusCreated = recorded.created;
          if (recorded.created) {
            created++;
            if (!WATCHDOG_KINDS.has(f.kind)) await finishEntry(work, entry, file, minimizeBudget(deadline, pending), row, ctx);
          }
          step();
        } else throw new CorpusError(entryPaths(corpusDir, f.title)[0], 'an invalid file holds the place of this entry (left as it is)');
        row.corpusFile = file;
        const entry = await readEntry(file);
        if (entry) {
          row.ladder = entry.ladder;
          await writeFileAtomic(path.join(ctx.runCorpus, target.name, path.basename(file)), serializeEntry(entry));
        }
      } catch (e) {
        if (!(e instanceof CorpusError)) harnessErrors++;
        row.corpusError = oneLine(e instanceof Error ? e.message : String(e));
        ctx.warn(`not saved: ${f.title}: ${row.corpusError}`);
      }
      row.ladder ||= ladderOf(target, cfg, f);
      row.replay = row.corpusFile ? replayCommand(row.corpusFile, 'file' in ref ? ref.file : undefined) : reproCommand(ref, cfg, f.index);
      findings.push(row);
    }
    const resumed: ResumedEntry[] = [];
    if (ctx.minimize) {
      for (const s of resume) {
        const row = { minimize: null } as Pick<SummaryFinding, 'minimize'>;
        try {
          await finishEntry(work, s.entry, s.file, minimizeBudget(deadline, pending), row, ctx);
        } catch (e) {
          if (!(e instanceof CorpusError)) harnessErrors++;
          ctx.warn(`not minimized: ${s.entry.signature}: ${oneLine(e instanceof Error ? e.message : String(e))}`);
        }
        step();
        resumed.push({ signature: s.entry.signature, file: s.file, outcome: row.minimize?.outcome ?? 'interrupted' });
      }
    }

    const expectations = await checkExpectations(work, target, ref, corpusDir, findings, ctx);
    const result: TargetResult = {
      ...notRun(plan, ctx.corpusRoot),
      status: interrupt.stopped() ? 'interrupted' : 'done',
      executions: campaign.executions,
      steps: campaign.steps,
      elapsedMs: campaign.elapsedMs,
      execsPerSec: campaign.elapsedMs > 0 ? Math.round((campaign.executions * 1000) / campaign.elapsedMs) : 0,
      findings: findings.length,
      newFindings: findings.filter((f) => f.new).length,
      expectations,
      corpusErrors: before.errors.map((e) => e.message),
    };
    if (resumed.length > 0) result.resumed = resumed;
    if (campaign.coverage) result.coverage = summarizeCoverage(campaign.coverage, declaredTransitions(target));
    if (campaign.guide) result.guide = campaign.guide;
    return { result, findings, created, harnessErrors, targetErrors };
  } finally {
    await work.close();
  }
}

/** The run that executes index `index` of the campaign again (the last one it runs), inline. */
export function reproCommand(ref: TargetRef, cfg: RunContext['cfg'], index: number): string {
  return `mdevfuzz run ${targetFlag(ref)} ${campaignFlags(cfg)} --execs ${index + 1} --workers 0`;
}

/**
 * Finish an entry written as found: minimize it (when minimization is on and the run goes on) and
 * replace the file with the result, or with `entry` as found (the campaign's first index for it)
 * when minimization ran out or failed. The file is replaced only while it is still pending or when
 * the result is smaller, under its lock; a signal leaves it pending, for the next run.
 */
async function finishEntry(work: GuardedWork, entry: CorpusEntry, file: string, budgetMs: number, row: Pick<SummaryFinding, 'minimize'>, ctx: RunContext): Promise<void> {
  const done = { ...entry, minimizePending: false };
  const unchanged = (current: CorpusEntry | undefined): boolean => !!current && !current.minimizePending;
  if (!ctx.minimize) {
    // As found, at the campaign's first index; another run's finished entry is left alone.
    const earlier = (c: CorpusEntry): boolean => c.minimized === null && c.seed === done.seed && c.index > done.index;
    await replaceEntry(file, done, (current) => current === undefined || (!unchanged(current) && serializeEntry(current) !== serializeEntry(done)) || earlier(current));
    return;
  }
  if (ctx.interrupt.stopped()) return;
  let next = done;
  try {
    const m = await work.minimize(entry, budgetMs);
    if (m.kind === 'stopped') return; // left pending, for the next run or `mdevfuzz minimize`
    const { entry: shrunk, stats } = m.value;
    for (const k of m.killed) ctx.warn(`minimizing ${entry.signature}: a candidate was skipped (${k})`);
    row.minimize = { outcome: stats.exhausted ? 'budget' : 'minimized', budgetMs, ...stats };
    if (!stats.exhausted) next = shrunk;
  } catch (e) {
    row.minimize = { outcome: 'failed', budgetMs, error: oneLine(e instanceof Error ? e.message : String(e)) };
    ctx.warn(`not minimized: ${entry.signature}: ${row.minimize.error}`);
  }
  const smaller = (current: CorpusEntry): boolean => compareRepros(next, current, () => 0) < 0;
  await replaceEntry(file, next, (current) => current === undefined || current.minimizePending || (next.minimized !== null && smaller(current)));
}

/** The ladder of a finding that has no corpus entry: its execution again, with events. */
function ladderOf(target: Target, cfg: CampaignConfig, f: CampaignFinding): string {
  try {
    if (WATCHDOG_KINDS.has(f.kind)) {
      const halted = haltedRun({ target, cfg }, f);
      return haltedLadder(halted.result, halted.program.cpus.length, f.title, halted.program.start);
    }
    const run = findingExecution(target, cfg, f, { events: true });
    return renderLadder(run.result.events ?? [], run.program.cpus.length, { start: run.program.start });
  } catch (e) {
    return `(no ladder: ${oneLine(e instanceof Error ? e.message : String(e))})`;
  }
}

/** Which expectations the run met; known ones it missed are replayed from the corpus when it has them (a re-verification, recorded). */
async function checkExpectations(work: GuardedWork, target: Target, ref: TargetRef, corpusDir: string, findings: readonly SummaryFinding[], ctx: RunContext): Promise<ExpectationsOutcome> {
  const found = new Set(findings.map((f) => f.signature));
  const expectedNotFound = target.expectations.filter((e) => e.status === 'known' && !found.has(e.title)).map((e) => e.title);
  const stored = (await loadCorpusDir(corpusDir)).bySignature;
  const reproducedFromCorpus: string[] = [];
  const lost: string[] = [];
  const verified: { entry: CorpusEntry; targetHash: string }[] = [];
  for (const title of expectedNotFound) {
    const s = stored.get(title);
    if (!s) continue;
    let reproduced = false;
    try {
      const r = await work.replay(bestRepro(s.entry));
      if (!r) break; // a signal: the rest are neither reproduced nor lost
      reproduced = r.result.findings.some((f) => f.title === title);
    } catch {
      reproduced = false;
    }
    (reproduced ? reproducedFromCorpus : lost).push(title);
    if (reproduced) verified.push({ entry: s.entry, targetHash: targetHash(ref) });
  }
  await recordVerified(ctx.resultsRoot, verified).catch((e: unknown) => ctx.warn(`could not record re-verified entries: ${oneLine(e instanceof Error ? e.message : String(e))}`));
  return {
    expectedFound: findings.filter((f) => f.expected !== null).map((f) => f.signature),
    expectedNotFound,
    reproducedFromCorpus,
    lost,
    unexpected: findings.filter((f) => f.expected === null).map((f) => f.signature),
  };
}
