// `mdevfuzz verify`: bounded exhaustive search (issue 15). Every program of at most --max-ops
// operations on --cpus CPUs, every schedule with at most --preemptions preemptions (DPOR-reduced),
// every single fault. Prints the counts per bound, the expected findings with the smallest bound
// that showed each, and the verdict: verified (exit 0), the first unexpected finding minimized into
// the corpus with its ladder (exit 1), or one line on bad input or a target error (exit 2). The
// state goes to <results>/verify/ as it runs; a rerun with the same flags resumes. Whatever the
// verdict, or a clean stop, the summary goes to results/<run-id>/ as summary.json, junit.xml and
// report.html, as run's do.

import path from 'node:path';
import { SCHEMA_VERSION, type CorpusEntry } from '../corpus/entry.js';
import { harnessVersion, targetHash } from '../corpus/identity.js';
import { recordSighting, targetDir } from '../corpus/store.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import { replayExecution } from '../engine/runner.js';
import { renderLadder } from '../report/ladder.js';
import type { Target } from '../target.js';
import type { Program } from '../types.js';
import { programAt, startsFor, type EnumCounts } from '../verify/programs.js';
import { restrictionText, restrictTarget } from '../verify/restrict.js';
import { loadState, saveState, stateFile, stateKey } from '../verify/state.js';
import { enumerationFor, shardSize, stoppedRun, type VerifyConfig, type VerifyFinding, type VerifyState, type VerifySummary } from '../verify/verify.js';
import { writeVerifyOutputs } from '../report/outputs.js';
import { EXIT_ERROR, EXIT_INTERRUPTED } from '../report/summary.js';
import { outputLines, programLine, programText, verifyLines } from '../report/verify-text.js';
import { limitsOf, type LimitFlags } from './limits.js';
import { verifyOnWorker, type VerifyOutcome } from './verify-worker-run.js';
import { haltedLadder } from './watchdog-entry.js';
import { GuardedWork } from './guarded-work.js';
import type { ExecutionLimits } from '../engine/pool/guarded-pool.js';
import { formatCount, formatDuration } from './format.js';
import { makeRunDir, RUN_ID } from './run.js';
import { replayCommand } from './run-target.js';

export interface VerifyOptions extends LimitFlags {
  target?: string;
  targetFile?: string;
  maxOps: number;
  cpus: number;
  preemptions: number;
  time?: number;
  shard?: { index: number; count: number };
  json?: boolean;
  faults: boolean;
  dpor: boolean;
  starts: string;
  ops?: string;
  domain?: string;
  corpus: string;
  results: string;
  runId?: string;
}

const MINIMIZE_MS = 10_000;

export async function verifyCommand(o: VerifyOptions): Promise<number> {
  if ((o.target === undefined) === (o.targetFile === undefined)) throw new UsageError('verify needs --target or --target-file (one of them)');
  if (o.cpus < 1 || o.cpus > 3) throw new UsageError(`--cpus is 1 to 3, not ${o.cpus}`);
  if (o.maxOps < o.cpus) throw new UsageError(`--max-ops ${o.maxOps} leaves a CPU of the ${o.cpus} without an operation`);
  if (o.maxOps > 6) throw new UsageError(`--max-ops ${o.maxOps} is more programs than a run can cover (at most 6)`);
  if (o.runId !== undefined && !RUN_ID.test(o.runId)) throw new UsageError(`--run-id '${o.runId}': letters, digits, '.', '_' and '-' only`);
  const ref: TargetRef = o.target !== undefined ? { name: o.target } : { file: o.targetFile! };
  const full = await loadTarget(ref);
  const target = restrictTarget(full, o.ops, o.domain);
  const restriction = restrictionText(o.ops, o.domain);
  let starts: (string | undefined)[];
  try {
    starts = startsFor(target, o.starts);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const cfg: VerifyConfig = { maxOps: o.maxOps, cpus: o.cpus, bound: o.preemptions, dpor: o.dpor, faults: o.faults, starts, ...(o.shard ? { shard: o.shard } : {}) };
  const startedAt = new Date();
  const t0 = startedAt.getTime();
  const e = enumerationFor(target, cfg);
  const key = stateKey(target.name, targetHash(ref), cfg, { ops: o.ops, domain: o.domain });
  const file = stateFile(o.results, target.name, key);
  const run = await makeRunDir(o.results, `verify-${target.name}`, startedAt, o.runId);
  const { state, resumed } = loadState(file, key);
  const log = (line: string): void => void (o.json ? undefined : process.stdout.write(`${line}\n`));
  const c = e.counts;
  const mine = shardSize(c.programs, cfg.shard);
  log(
    `verify ${target.name}: ${formatCount(c.programs)} programs of <= ${cfg.maxOps} ops${restriction} on ${cfg.cpus} CPUs` +
      `${cfg.shard ? ` (shard ${cfg.shard.index}/${cfg.shard.count}: ${formatCount(mine)})` : ''}; per start state ${formatCount(c.total)} before reduction, ` +
      `${formatCount(c.symmetric)} removed by symmetry, ${formatCount(c.noop)} with a certain no-op; ` +
      `${c.starts} start state${c.starts === 1 ? '' : 's'}, faults ${cfg.faults ? 'on' : 'off'}, DPOR ${cfg.dpor ? 'on' : 'off'}, <= ${cfg.bound} preemptions`,
  );
  if (resumed) log(`resuming from ${file}: bound ${state.bound}, rank ${state.nextRank}`);
  let lastLine = Date.now();
  const limits = limitsOf(o);
  const outcome = await verifyOnWorker({ ref, ops: o.ops, domain: o.domain, cfg, key, file, deadline: o.time === undefined ? undefined : t0 + o.time }, state, limits, (s) => {
    if (!o.json && !process.stdout.isTTY && Date.now() - lastLine > 10_000) {
      lastLine = Date.now();
      const st = s.stats[s.stats.length - 1]!;
      log(`  bound ${s.bound}: ${formatCount(st.programs)} of ${formatCount(mine)} programs, ${formatCount(st.runs)} schedules`);
    }
  });
  // The worker saves every 2 s; the last progress it sent may be newer than its last save.
  if (outcome.kind !== 'done') saveIfNewer(file, key, outcome.state);
  const final = outcome.state;
  const unexpected = outcome.kind === 'done' && final.verdict === 'unexpected' ? await saveUnexpected(target, ref, cfg, final.findings[final.findings.length - 1]!, o.corpus, limits) : null;
  const summary = summaryOf(target, cfg, e.counts, mine, final, {
    restriction,
    sub: o.ops === undefined && o.domain === undefined ? null : { ops: o.ops ?? null, domain: o.domain ?? null },
    stoppedBy: outcome.kind === 'stopped' ? outcome.signal : '--time',
    ...run,
    startedAt,
    stateFile: file,
    unexpected: unexpected && { ...unexpected, replay: replayCommand(unexpected.file, o.targetFile) },
  });
  if (outcome.kind === 'killed') {
    const { beat, title } = outcome;
    const what = `cpu${beat.cpu} ${outcome.finding === 'stall' ? `did not reach its next preemption point within ${formatDuration(limits.stallMs)}` : `passed the heap cap of ${limits.memoryMb} MiB`}`;
    summary.verdict = 'unexpected';
    summary.verdictLine = `unexpected: ${target.name}: ${title} at bound ${beat.bound}, rank ${beat.index} (${programText(programAt(e, beat.index))}): ${what}; its worker was terminated`;
    const saved = await saveStopped(target, ref, cfg, programAt(e, beat.index), outcome, [`${what} (step ${beat.step})`, 'its worker was terminated'], o.corpus);
    if (saved) Object.assign(summary, { corpusFile: saved.file, replay: replayCommand(saved.file, o.targetFile), ladder: saved.ladder });
  }
  summary.exitCode = outcome.kind === 'stopped' ? EXIT_INTERRUPTED : summary.verdict === 'target-error' ? EXIT_ERROR : summary.verdict === 'unexpected' ? 1 : 0;
  const json = await writeVerifyOutputs(summary);
  if (o.json) process.stdout.write(json);
  else if (outcome.kind === 'killed') log([summary.verdictLine, ...(summary.corpusFile ? [`corpus entry: ${summary.corpusFile}`, summary.ladder!] : []), ...outputLines(summary)].join('\n'));
  else if (summary.verdict === 'target-error') log(outputLines(summary).join('\n'));
  else log(verifyLines(summary).join('\n'));
  if (outcome.kind === 'killed') process.stderr.write(`mdevfuzz: the state in ${file} resumes before that program: fix the target first\n`);
  if (summary.verdict === 'target-error') {
    const f = final.findings[final.findings.length - 1]!;
    process.stderr.write(`mdevfuzz: ${f.title} (a bug of the target model, rank ${f.rank}: ${programLine(f)})\n`);
  }
  return summary.exitCode;
}

function saveIfNewer(file: string, key: string, s: VerifyState): void {
  const { state: saved, resumed } = loadState(file, key);
  if (!resumed || s.bound > saved.bound || (s.bound === saved.bound && s.nextRank > saved.nextRank)) saveState(file, s);
}

interface SummaryContext {
  /** The sub-API as the verdict names it (' (ops create, open)' or ''), and as the summary records it. */
  restriction: string;
  sub: VerifySummary['restriction'];
  /** What stopped an incomplete search: --time or a signal. */
  stoppedBy: string;
  runId: string;
  dir: string;
  startedAt: Date;
  stateFile: string;
  unexpected: { file: string; ladder: string; replay: string } | null;
}

/** The summary of a verify run, exit code 0 until the caller knows better. */
function summaryOf(target: Target, cfg: VerifyConfig, counts: EnumCounts, mine: number, s: VerifyState, x: SummaryContext): VerifySummary {
  const what = `${formatCount(mine)} programs of <= ${cfg.maxOps} ops${x.restriction} on ${cfg.cpus} CPUs`;
  const shard = cfg.shard ? ` (shard ${cfg.shard.index}/${cfg.shard.count})` : '';
  const last = s.stats.filter((b) => b.complete).pop();
  const current = s.stats.find((b) => !b.complete);
  const verdictLine =
    s.verdict === 'verified'
      ? `verified: ${target.name}, all ${what}${shard}, <= ${cfg.bound} preemptions: nothing unexpected`
      : s.verdict === 'incomplete'
        ? `not verified: ${target.name}, stopped by ${x.stoppedBy}: ${last ? `bound ${last.bound} complete` : 'no bound complete'}${current ? `, bound ${current.bound}: ${formatCount(current.programs)} of ${what} done` : ''}: nothing unexpected so far`
        : `unexpected: ${target.name}: ${s.findings[s.findings.length - 1]!.title} at bound ${s.findings[s.findings.length - 1]!.bound}`;
  return {
    kind: 'verify',
    runId: x.runId,
    startedAt: x.startedAt.toISOString(),
    elapsedMs: Date.now() - x.startedAt.getTime(),
    target: target.name,
    verdict: s.verdict,
    verdictLine,
    exitCode: 0,
    maxOps: cfg.maxOps,
    cpus: cfg.cpus,
    preemptions: cfg.bound,
    dpor: cfg.dpor,
    faults: cfg.faults,
    starts: cfg.starts.map((v) => v ?? null),
    restriction: x.sub,
    shard: cfg.shard ?? null,
    enumeration: counts,
    programs: counts.programs,
    shardPrograms: mine,
    bounds: s.stats,
    findings: s.findings,
    stateFile: x.stateFile,
    corpusFile: x.unexpected?.file ?? null,
    replay: x.unexpected?.replay ?? null,
    ladder: x.unexpected?.ladder ?? null,
    summaryFile: path.join(x.dir, 'summary.json'),
    junitFile: path.join(x.dir, 'junit.xml'),
    reportFile: path.join(x.dir, 'report.html'),
  };
}

/**
 * A watchdog's finding (a stall, an oom) as a corpus entry, as run saves one (harness/cli/watchdog-entry.ts):
 * its schedule up to the step that never finished, taken by exploring the program again and halting
 * before that step, and its ladder ending with the finding on that CPU; not minimized. None when
 * the search does not reach that step again (said on stderr).
 */
async function saveStopped(target: Target, ref: TargetRef, cfg: VerifyConfig, program: Program, outcome: Extract<VerifyOutcome, { kind: 'killed' }>, detail: string[], corpus: string): Promise<{ file: string; ladder: string } | null> {
  const { beat, title } = outcome;
  const run = stoppedRun(target, cfg, program, beat);
  if (!run) {
    process.stderr.write(`mdevfuzz: warning: no corpus entry for ${title}: exploring rank ${beat.index} again did not reach step ${beat.step} of its schedule ${beat.run}\n`);
    return null;
  }
  const ladder = haltedLadder(run.result, program.cpus.length, title, program.start);
  const entry: CorpusEntry = {
    ...entryFields(ref, target, cfg, beat.bound, beat.index),
    signature: title,
    kind: outcome.finding,
    program,
    faults: run.faults,
    schedule: run.result.schedule,
    minimized: null,
    minimizePending: false,
    ladder,
    detail,
  };
  const rec = await recordSighting(targetDir(corpus, target.name), title, () => entry);
  return { file: path.relative(process.cwd(), rec.file) || rec.file, ladder };
}

/** What every verify entry says of where it came from: no campaign seed, so the seed names the search and the index is the rank. */
function entryFields(ref: TargetRef, target: Target, cfg: VerifyConfig, bound: number, rank: number): Pick<CorpusEntry, 'schemaVersion' | 'harnessVersion' | 'targetHash' | 'target' | 'seed' | 'index' | 'strategy' | 'depth'> {
  return {
    schemaVersion: SCHEMA_VERSION,
    harnessVersion: harnessVersion(),
    targetHash: targetHash(ref),
    target: target.name,
    seed: `verify:S=${cfg.maxOps}:C=${cfg.cpus}:B=${bound}`,
    index: rank,
    strategy: 'pct',
    depth: 1,
  };
}

/** The unexpected finding as a corpus entry, minimized, with its ladder; an existing entry of that signature is kept. */
async function saveUnexpected(target: Target, ref: TargetRef, cfg: VerifyConfig, f: VerifyFinding, corpus: string, limits: ExecutionLimits): Promise<{ file: string; ladder: string }> {
  const run = replayExecution(target, f.program, f.faults, f.schedule, { events: true });
  const found = run.result.findings.find((x) => x.title === f.title);
  if (!found) throw new Error(`the schedule of '${f.title}' (rank ${f.rank}) does not show it again on replay`);
  const entry: CorpusEntry = {
    ...entryFields(ref, target, cfg, f.bound, f.rank),
    signature: f.title,
    kind: f.kind,
    program: f.program,
    faults: f.faults,
    schedule: f.schedule,
    minimized: null,
    minimizePending: true,
    ladder: renderLadder(run.result.events ?? [], f.program.cpus.length, { start: f.program.start }),
    detail: found.detail,
  };
  // Minimized on a guarded worker, as run's new entries are: a candidate that never yields is skipped.
  const work = new GuardedWork(ref, limits);
  let minimized = { ...entry, minimizePending: false };
  try {
    const m = await work.minimize(entry, MINIMIZE_MS);
    if (m.kind === 'done') minimized = m.value.entry;
  } catch (e) {
    process.stderr.write(`mdevfuzz: warning: not minimized: ${f.title}: ${e instanceof Error ? e.message : String(e)}\n`);
  } finally {
    await work.close();
  }
  const dir = targetDir(corpus, target.name);
  const rec = await recordSighting(dir, f.title, () => minimized);
  return { file: path.relative(process.cwd(), rec.file) || rec.file, ladder: minimized.ladder };
}
