// The harness as functions, for a test suite (node:test, jest, vitest) or a script: run a
// campaign, replay an execution exactly, minimize one. Thin wrappers over the engine the command
// line uses (engine/campaign.ts, engine/runner.ts, minimize/minimize.ts): the same seed and
// execution count give the same findings here as with `mdevfuzz run --workers 0`.

import { runCampaign } from './engine/campaign.js';
import type { Repro } from './engine/batch.js';
import type { TargetRef } from './engine/load.js';
import { loadTarget } from './engine/load.js';
import { replayExecution, type CampaignConfig } from './engine/runner.js';
import { findingExecution } from './corpus/capture.js';
import { minimize as minimizeRepro, type MinimizeStats } from './minimize/minimize.js';
import { renderLadder } from './report/ladder.js';
import { DEFAULT_STRATEGY, type StrategyName } from './sched/index.js';
import type { Target } from './target.js';
import { WATCHDOG_KINDS, type ExecResult, type Fault, type FindingKind, type Program, type Schedule } from './types.js';

export type { Repro, TargetRef, MinimizeStats, StrategyName };

export interface RunOptions {
  /** The target itself (runs in this thread), or what worker threads load: `{ file }` (or a bundled `{ name }`). */
  target: Target | TargetRef;
  /** The campaign seed (default '0'): the same seed and budget find the same things. */
  seed?: string;
  /** Executions to run (default 1000 when timeMs is not given either). */
  execs?: number;
  /** Stop after this many milliseconds (with execs: whichever comes first). */
  timeMs?: number;
  /** Scheduling strategy (default DEFAULT_STRATEGY, 'race'). */
  strategy?: StrategyName;
  /** PCT depth (default 3). */
  depth?: number;
  /** Fault injection of the target's faultCalls (default on). */
  faults?: boolean;
  /** Worker threads (default 0: inline). A target given as an object runs inline only. */
  workers?: number;
}

export interface FoundBug {
  title: string;
  kind: FindingKind;
  /** The first execution index that found it. */
  index: number;
  hits: number;
  detail: string[];
  /** What replays it exactly (absent for a watchdog's stall or oom, which replay under a watchdog only). */
  repro?: Repro;
}

export interface RunResult {
  seed: string;
  executions: number;
  steps: number;
  elapsedMs: number;
  /** One per title, in order of first index. */
  findings: FoundBug[];
}

/** A campaign: executions 0.. of the seed, each a drawn program under the strategy's schedule. */
export async function run(opts: RunOptions): Promise<RunResult> {
  const cfg: CampaignConfig = { seed: opts.seed ?? '0', strategy: opts.strategy ?? DEFAULT_STRATEGY, depth: opts.depth ?? 3, faults: opts.faults ?? true };
  const execs = opts.execs ?? (opts.timeMs === undefined ? 1000 : undefined);
  const r = await runCampaign({ ...cfg, target: opts.target, execs, timeMs: opts.timeMs, workers: opts.workers ?? 0 });
  const target = 'layout' in opts.target ? opts.target : await loadTarget(opts.target);
  const findings = r.findings.map(({ title, kind, index, hits, detail, repro }): FoundBug => {
    const bug: FoundBug = { title, kind, index, hits, detail };
    if (WATCHDOG_KINDS.has(kind)) return bug;
    const again = findingExecution(target, cfg, { index, repro });
    return { ...bug, repro: { program: again.program, faults: again.faults, schedule: again.result.schedule } };
  });
  return { seed: cfg.seed, executions: r.executions, steps: r.steps, elapsedMs: r.elapsedMs, findings };
}

export interface Replayed extends ExecResult {
  /** The execution as a ladder diagram: one column per CPU (or one tagged column when narrow). */
  ladder: string;
}

/** Exact re-execution of a program under a canonical schedule (default: none, CPU 0 first), with faults. */
export function replay(target: Target, program: Program, faults: readonly Fault[] = [], schedule: Schedule = [], opts: { width?: number } = {}): Replayed {
  const { result } = replayExecution(target, program, faults, schedule, { events: true });
  return { ...result, ladder: renderLadder(result.events ?? [], program.cpus.length, { start: program.start, width: opts.width }) };
}

export interface MinimizeOptions {
  /** Most replays (default 5000). */
  maxReplays?: number;
  /** Most milliseconds (default 60000). */
  timeMs?: number;
}

export interface MinimizedBug {
  repro: Repro;
  stats: MinimizeStats;
  /** The ladder of the minimized repro. */
  ladder: string;
}

/** Shrink a repro (fewer CPUs, operations, faults and preemptions; of a fixed program only faults and preemptions) while it still shows `title`. */
export function minimize(target: Target, repro: Repro, title: string, opts: MinimizeOptions = {}): MinimizedBug {
  const m = minimizeRepro(target, repro, title, opts);
  const { ladder } = replay(target, m.repro.program, m.repro.faults, m.repro.schedule);
  return { repro: m.repro, stats: m.stats, ladder };
}
