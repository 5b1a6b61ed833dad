// What a run (or a merge of runs) writes to results/<run-id>/summary.json, and what junit.xml and
// report.html are drawn from. The report writers read nothing else.

import type { GuideStats } from '../engine/campaign.js';
import type { GuideMode } from '../engine/runner.js';
import type { EntryMinimizeStats } from '../corpus/minimize-entry.js';
import { byFunction, CoverageCounter, functionOf, topPairs, type Coverage, type FunctionCoverage, type PairCount } from '../coverage/coverage.js';
import { transitionCoverage, type Transition, type TransitionCoverage } from '../coverage/transitions.js';
import type { StrategyName } from '../sched/index.js';
import type { FindingKind } from '../types.js';

/**
 * How the minimization of a new entry went: 'minimized', saved in its minimized form; 'budget', the
 * budget ran out first, and 'failed', the minimizer threw: saved as found. (One that a signal
 * stopped is saved as found, with no minimization recorded.)
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
  /** This run wrote its corpus entry (it was not in the corpus). */
  corpusCreated: boolean;
  /** Why it has no corpus file. */
  corpusError?: string;
  /** Null unless this run wrote a new entry for it with minimization on. */
  minimize: FindingMinimization | null;
  /** Not in the corpus before this run, and not in the target's expectations. */
  new: boolean;
  expected: 'known' | 'by-design' | null;
  detail: string[];
  /** The ladder diagram of its corpus entry (of the minimized repro when there is one). */
  ladder: string;
  /** The command that shows it again. */
  replay: string;
  /**
   * The signatures of this target's other findings of the same cause: the deadlock and the lockdep
   * report of one lock cycle (harness/report/related.ts). Absent when there are none.
   */
  related?: string[];
}

/** Which of a target's expectations a run met. */
export interface ExpectationsOutcome {
  /** Expectations (known or by-design) that the run found. */
  expectedFound: string[];
  /** Known expectations the campaign did not reach. */
  expectedNotFound: string[];
  /** Of those, the ones whose corpus entry, replayed at the end of the run, still shows them. */
  reproducedFromCorpus: string[];
  /** Of those, the ones whose corpus entry exists and did not show them on replay: a failure. */
  lost: string[];
  /** Findings that are not in the target's expectations. */
  unexpected: string[];
}

export interface TargetResult {
  target: string;
  kernelVersion: string;
  targetHash: string;
  /** The module it was loaded from, for a target of the user's own (--target-file): the hints name it. */
  targetFile?: string;
  /** This target's directory of the corpus. */
  corpusDir: string;
  /** 'not run': a signal came before its turn. */
  status: 'done' | 'interrupted' | 'not run';
  /** The execution indices asked of it: [firstIndex, firstIndex + execsLimit), or from firstIndex until timeLimitMs. */
  firstIndex: number;
  execsLimit: number | null;
  timeLimitMs: number | null;
  executions: number;
  steps: number;
  elapsedMs: number;
  execsPerSec: number;
  findings: number;
  newFindings: number;
  expectations: ExpectationsOutcome;
  /** Invalid files in its corpus directory; they were left as they are. */
  corpusErrors: string[];
  /** Coverage of lifecycle paths of its campaign (absent when not collected: not run, or the threads engine). */
  coverage?: CoverageSummary;
  /** Guided campaigns (--guide coverage): epochs, queue size, entries added, executions mutated. */
  guide?: GuideStats;
  /** Entries an earlier run saved as found and did not finish minimizing, which this run minimized. */
  resumed?: ResumedEntry[];
}

/** A pending entry this run took up again: its outcome as a new finding's, or 'interrupted'. */
export interface ResumedEntry {
  signature: string;
  file: string;
  outcome: 'minimized' | 'budget' | 'failed' | 'interrupted';
}

/** The figures of a campaign's coverage that summary.json keeps, and the counts they come from. */
export interface CoverageSummary {
  /** The declared transitions per object kind, reached or not, and the undeclared ones observed. */
  transitions: TransitionCoverage;
  /** Preemption labels reached. */
  labels: number;
  /** Concurrent pairs reached. */
  pairs: number;
  /** Context switches counted (over all pairs). */
  switches: number;
  /** The most frequent pairs (TOP_PAIRS of them). */
  topPairs: PairCount[];
  /** Per kernel function (a label's prefix before ':'): labels reached, most first. */
  functions: FunctionCoverage[];
  /**
   * Pairs summed by kernel function (`out` and `in` are function names), between the HEATMAP_FUNCTIONS
   * functions in most context switches: the report's heatmap.
   */
  functionPairs: PairCount[];
  /** The target's declared transitions and every count, so that `merge` adds shards up. */
  declared: Transition[];
  counts: Coverage;
}

export const TOP_PAIRS = 10;
export const HEATMAP_FUNCTIONS = 12;

/** The coverage of several runs over disjoint indices of one campaign, e.g. shards. */
export function mergeCoverage(parts: readonly CoverageSummary[]): CoverageSummary {
  const sum = new CoverageCounter();
  for (const p of parts) sum.add(p.counts);
  return summarizeCoverage(sum.toJSON(), parts[0]!.declared);
}

export function summarizeCoverage(c: Coverage, declared: readonly Transition[]): CoverageSummary {
  const byFn = new Map<string, PairCount>();
  for (const p of c.pairs) {
    const [out, into] = [functionOf(p.out), functionOf(p.in)];
    const k = `${out}\n${into}`;
    const e = byFn.get(k);
    if (e) e.count += p.count;
    else byFn.set(k, { out, in: into, count: p.count });
  }
  const involved = new Map<string, number>();
  for (const p of byFn.values()) {
    involved.set(p.out, (involved.get(p.out) ?? 0) + p.count);
    involved.set(p.in, (involved.get(p.in) ?? 0) + p.count);
  }
  const top = new Set([...involved].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, HEATMAP_FUNCTIONS).map(([fn]) => fn));
  return {
    transitions: transitionCoverage(declared, c.transitions),
    labels: c.labels.length,
    pairs: c.pairs.length,
    switches: c.pairs.reduce((n, p) => n + p.count, 0),
    topPairs: topPairs(c, TOP_PAIRS),
    functions: byFunction(c),
    functionPairs: topPairs({ labels: [], pairs: [...byFn.values()].filter((p) => top.has(p.out) && top.has(p.in)), transitions: [] }, Number.MAX_SAFE_INTEGER),
    declared: [...declared],
    counts: c,
  };
}

/** `--shard index/count` of `--execs execs`: the indices [firstIndex, firstIndex + slice). */
export interface ShardInfo {
  index: number;
  count: number;
  firstIndex: number;
  slice: number;
}

export interface RunSummary {
  runId: string;
  harnessVersion: string;
  /** The target's name, or the names joined by commas when the run had several. */
  target: string;
  targets: string[];
  targetHash: string;
  seed: string;
  strategy: StrategyName;
  depth: number;
  /** Whether fault injection was on. */
  faults: boolean;
  /** Coverage-guided search ('coverage') or not ('off'; absent in summaries of older versions). */
  guide?: GuideMode;
  workers: number;
  /** What was asked: a number of executions (of the whole campaign, all shards) and/or a time budget (all targets). */
  execsLimit: number | null;
  timeLimitMs: number | null;
  shard: ShardInfo | null;
  interrupted: boolean;
  startedAt: string;
  /** Over all targets. */
  executions: number;
  steps: number;
  elapsedMs: number;
  execsPerSec: number;
  /** The target's corpus directory; the corpus root when the run had several targets. */
  corpusDir: string;
  /** Entries this run wrote, and entries it found that the corpus held already (left as they are: hits go to results/). */
  corpusCreated: number;
  corpusUpdated: number;
  /** results/<run-id>/hits.json (this run's hits) and the cumulative results/history.json it was added to. */
  hitsFile?: string;
  historyFile?: string;
  /** Whether new entries were minimized (not --no-minimize), and the time the minimizer took. */
  minimize: boolean;
  minimizeMs: number;
  summaryFile: string;
  junitFile: string;
  reportFile: string;
  newFindings: number;
  findings: SummaryFinding[];
  /** Known expectations not found (titles; `target: title` when the run had several targets). */
  expectedNotFound: string[];
  /** Counts over all targets; the lists are in `results[].expectations`. */
  expectations: { expectedFound: number; expectedNotFound: number; reproducedFromCorpus: number; lost: number; unexpected: number };
  corpusErrors: string[];
  results: TargetResult[];
  /** The five seed problems of the 2019 thread (expectations with `problem` set), first rows of the compare table. */
  seedProblems: { problem: string; title: string }[];
  /** For a merge: the runs it combined. */
  mergedFrom?: { runId: string; shard: string | null }[];
  /** Exceptions out of model code (bugs of a target, not of its kernel): never in the corpus; exit 2. */
  targetErrors?: TargetErrorReport[];
  /** 0 nothing new, 1 new findings or a lost expected finding, 2 harness error, 130 interrupted. */
  exitCode: number;
}

/** A target error of a run: its title, stack, where it was first thrown, and the command that throws it again. */
export interface TargetErrorReport {
  target: string;
  title: string;
  execIndex: number;
  hits: number;
  /** The stack of the exception, one frame a line. */
  stack: string[];
  repro: string;
}

export const EXIT_OK = 0;
export const EXIT_NEW = 1;
export const EXIT_ERROR = 2;
export const EXIT_INTERRUPTED = 130;

/** The exit code a finished run's outcome calls for (before interruption or harness errors). */
export function outcomeExitCode(s: Pick<RunSummary, 'newFindings' | 'expectations'>): number {
  return s.newFindings > 0 || s.expectations.lost > 0 ? EXIT_NEW : EXIT_OK;
}

/** 'NEW', 'expected', 'by-design' or 'in corpus'. */
export function findingStatus(f: SummaryFinding): string {
  if (f.new) return f.corpusFile ? 'NEW' : 'NEW (not saved)';
  if (f.expected === 'known') return 'expected';
  if (f.expected === 'by-design') return 'by-design';
  return 'in corpus';
}

/** The counts of `RunSummary.expectations`, over the targets' outcomes. */
export function countExpectations(results: readonly TargetResult[]): RunSummary['expectations'] {
  const sum = (key: keyof ExpectationsOutcome): number => results.reduce((n, r) => n + r.expectations[key].length, 0);
  return { expectedFound: sum('expectedFound'), expectedNotFound: sum('expectedNotFound'), reproducedFromCorpus: sum('reproducedFromCorpus'), lost: sum('lost'), unexpected: sum('unexpected') };
}
