// One target of `mdevfuzz run`: its campaign, its findings recorded in the corpus (new entries
// minimized first, within the budget, in slices so that a signal is heard), a copy of each entry
// this run touched in results/<run-id>/corpus/ with this run's hits only, and its expectations.
//
// Lost expectations: a known expectation the campaign did not find fails the run only when its
// target's corpus holds an entry for it and replaying that entry at the end of the run does not
// show the signature either. A short run that simply did not get that far loses nothing.

import path from 'node:path';
import { captureEntry, findingExecution } from '../corpus/capture.js';
import { CorpusError, serializeEntry, type CorpusEntry } from '../corpus/entry.js';
import { targetHash } from '../corpus/identity.js';
import { bestRepro } from '../corpus/merge.js';
import { replaysSignature } from '../corpus/minimize-entry.js';
import { entryPaths, loadCorpusDir, readEntry, recordSighting, targetDir, writeFileAtomic } from '../corpus/store.js';
import { runCampaign, type CampaignFinding, type CampaignProgress } from '../engine/campaign.js';
import type { TargetRef } from '../engine/load.js';
import type { CampaignConfig } from '../engine/runner.js';
import { runThreadsCampaign, type EngineName } from '../engine/threads-run.js';
import { renderLadder } from '../report/ladder.js';
import { declaredTransitions } from '../coverage/transitions.js';
import { summarizeCoverage, type ExpectationsOutcome, type SummaryFinding, type TargetErrorReport, type TargetResult } from '../report/summary.js';
import { expectationOf, type Target } from '../target.js';
import { TARGET_ERROR, WATCHDOG_KINDS } from '../types.js';
import type { ExecutionLimits } from '../engine/guarded-pool.js';
import { captureWatchdogEntry, haltedLadder, haltedRun } from './watchdog-entry.js';
import type { RunProgress } from './bars.js';
import { oneLine } from './format.js';
import type { Interrupt } from './interrupt.js';
import { minimizeInSlices } from './minimize-slices.js';

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
  /** results/<run-id>/corpus: the entries this run touched, with this run's hits. */
  runCorpus: string;
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
  };
}

export async function runTarget(plan: TargetPlan, ctx: RunContext): Promise<TargetOutcome> {
  const { target, ref } = plan;
  const { cfg, interrupt, progress } = ctx;
  const corpusDir = targetDir(ctx.corpusRoot, target.name);
  const before = await loadCorpusDir(corpusDir);
  for (const e of before.errors) ctx.warn(`${e.message} (left as it is)`);

  const campaignStart = performance.now();
  const campaign = await (ctx.engine === 'threads' ? runThreadsCampaign : runCampaign)({
    target: ref, ...cfg, execs: plan.execs, timeMs: plan.timeMs, workers: ctx.workers, startIndex: plan.firstIndex, coverage: true,
    onProgress: (p) => progress.update(target.name, p),
    shouldStop: interrupt.stopped,
    limits: ctx.limits,
  });
  const last: CampaignProgress = { executions: campaign.executions, steps: campaign.steps, elapsedMs: campaign.elapsedMs, findings: campaign.findings.length };
  progress.end(target.name, last, !interrupt.stopped());

  // A target error is a bug of the model, not a finding of its kernel: kept apart from the corpus.
  const targetErrors: TargetErrorReport[] = campaign.findings
    .filter((f) => f.kind === TARGET_ERROR)
    .map((f) => ({ target: target.name, title: f.title, execIndex: f.index, hits: f.hits, stack: f.detail, repro: reproCommand(ref, cfg, f.index) }));
  campaign.findings = campaign.findings.filter((f) => f.kind !== TARGET_ERROR);

  const seenAt = new Date().toISOString();
  const capture = { target, ref, cfg, seenAt };
  const deadline = plan.timeMs === undefined ? undefined : campaignStart + plan.timeMs;
  const unseen = campaign.findings.filter((f) => !before.bySignature.has(f.title));
  let pending = unseen.length;
  const saving = (done: number, last = false): void =>
    progress.phase(target.name, `${ctx.minimize && !interrupt.stopped() ? 'minimizing and saving' : 'saving'} new entries: ${done}/${unseen.length}`, last);
  if (pending > 0) saving(0);
  const invalidFiles = new Set(before.errors.map((e) => e.file));
  let created = 0;
  let harnessErrors = 0;
  const findings: SummaryFinding[] = [];
  for (const f of campaign.findings) {
    const expected = expectationOf(target, f.title)?.status ?? null;
    const row: SummaryFinding = {
      signature: f.title, kind: f.kind, target: target.name, execIndex: f.index, timeToFindMs: f.timeToFindMs, hits: f.hits,
      corpusFile: null, corpusCreated: false, minimize: null, new: !before.bySignature.has(f.title) && expected === null, expected, detail: f.detail, ladder: '', replay: '',
    };
    let built: CorpusEntry | undefined;
    try {
      // Build (capture, minimize) a new entry up front, unless a file that could hold it is invalid.
      if (!before.bySignature.has(f.title) && !entryPaths(corpusDir, f.title).some((p) => invalidFiles.has(p))) {
        const budgetMs = minimizeBudget(deadline, pending--);
        built = WATCHDOG_KINDS.has(f.kind) ? captureWatchdogEntry(capture, f) : await buildEntry(target, captureEntry(capture, f), budgetMs, row, ctx);
        saving(unseen.length - pending, pending === 0);
      }
      const recorded = await recordSighting(corpusDir, { signature: f.title, hits: f.hits, seenAt }, () => built ?? (WATCHDOG_KINDS.has(f.kind) ? captureWatchdogEntry(capture, f) : captureEntry(capture, f)));
      row.corpusFile = recorded.file;
      row.corpusCreated = recorded.created;
      if (recorded.created) created++;
      const entry = await readEntry(recorded.file);
      if (entry) {
        row.ladder = entry.ladder;
        await writeFileAtomic(path.join(ctx.runCorpus, target.name, path.basename(recorded.file)), serializeEntry({ ...entry, hits: f.hits }));
      }
    } catch (e) {
      if (!(e instanceof CorpusError)) harnessErrors++;
      row.corpusError = oneLine(e instanceof Error ? e.message : String(e));
      ctx.warn(`not saved: ${f.title}: ${row.corpusError}`);
    }
    row.ladder ||= ladderOf(target, cfg, f);
    row.replay = row.corpusFile ? `mdevfuzz replay ${shellQuote(row.corpusFile)} --ladder` : reproCommand(ref, cfg, f.index);
    findings.push(row);
  }

  const expectations = await checkExpectations(target, corpusDir, findings);
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
  if (campaign.coverage) result.coverage = summarizeCoverage(campaign.coverage, declaredTransitions(target));
  if (campaign.guide) result.guide = campaign.guide;
  return { result, findings, created, harnessErrors, targetErrors };
}

/** The run that executes index `index` of the campaign again (the last one it runs), inline. */
export function reproCommand(ref: TargetRef, cfg: RunContext['cfg'], index: number): string {
  return `mdevfuzz run ${targetFlag(ref)} ${campaignFlags(cfg)} --execs ${index + 1} --workers 0`;
}

/** The entry to write for a new finding: minimized when minimization is on and finishes in its budget. */
async function buildEntry(target: Target, entry: CorpusEntry, budgetMs: number, row: SummaryFinding, ctx: RunContext): Promise<CorpusEntry> {
  if (!ctx.minimize || ctx.interrupt.stopped()) return entry;
  try {
    const m = await minimizeInSlices(target, entry, budgetMs, ctx.interrupt.stopped);
    if (m.outcome === 'interrupted') return entry; // saved as found, for `mdevfuzz minimize` to finish
    row.minimize = { outcome: m.outcome, budgetMs, ...m.stats };
    return m.outcome === 'minimized' ? m.entry : entry;
  } catch (e) {
    row.minimize = { outcome: 'failed', budgetMs, error: oneLine(e instanceof Error ? e.message : String(e)) };
    ctx.warn(`not minimized: ${entry.signature}: ${row.minimize.error}`);
    return entry;
  }
}

/** The ladder of a finding that has no corpus entry: its execution again, with events. */
function ladderOf(target: Target, cfg: CampaignConfig, f: CampaignFinding): string {
  try {
    if (WATCHDOG_KINDS.has(f.kind)) {
      const halted = haltedRun({ target, cfg }, f);
      return haltedLadder(halted.result, halted.program.cpus.length, f.title);
    }
    const run = findingExecution(target, cfg, f, { events: true });
    return renderLadder(run.result.events ?? [], run.program.cpus.length);
  } catch (e) {
    return `(no ladder: ${oneLine(e instanceof Error ? e.message : String(e))})`;
  }
}

/** Which expectations the run met; known ones it missed are replayed from the corpus when it has them. */
async function checkExpectations(target: Target, corpusDir: string, findings: readonly SummaryFinding[]): Promise<ExpectationsOutcome> {
  const found = new Set(findings.map((f) => f.signature));
  const expectedNotFound = target.expectations.filter((e) => e.status === 'known' && !found.has(e.title)).map((e) => e.title);
  const stored = (await loadCorpusDir(corpusDir)).bySignature;
  const reproducedFromCorpus: string[] = [];
  const lost: string[] = [];
  for (const title of expectedNotFound) {
    const s = stored.get(title);
    if (!s) continue;
    let reproduced = false;
    try {
      reproduced = replaysSignature(target, bestRepro(s.entry), title).reproduced;
    } catch {
      reproduced = false;
    }
    (reproduced ? reproducedFromCorpus : lost).push(title);
  }
  return {
    expectedFound: findings.filter((f) => f.expected !== null).map((f) => f.signature),
    expectedNotFound,
    reproducedFromCorpus,
    lost,
    unexpected: findings.filter((f) => f.expected === null).map((f) => f.signature),
  };
}
