// The verification loop of `mdevfuzz verify` (issue 15): iterative preemption bounding over the
// enumerated programs. Bound 0 for every program of the shard, then bound 1, ..., each program
// explored with every fault choice (harness/verify/faults.ts) under that bound. A title is
// recorded at the first bound that shows it; an expected one (the target's expectations) is
// listed and the search goes on; the first unexpected one, or a target error, stops it. A
// deadline stops it between (or inside) programs with the state saved to resume from.
//
// The state is plain JSON (harness/verify/state.ts): the bound in progress, the next rank, the
// counts per bound and the findings so far.

import type { Heartbeat } from '../engine/heartbeat.js';
import { expectationOf, type Target } from '../target.js';
import type { ExecResult, Fault, FindingKind, Program, Schedule } from '../types.js';
import { explore } from './explore.js';
import { faultChoices } from './faults.js';
import { enumeratePrograms, programAt, type EnumCounts, type Enumeration } from './programs.js';

export interface VerifyConfig {
  maxOps: number;
  cpus: number;
  bound: number;
  dpor: boolean;
  faults: boolean;
  /** Start states (undefined: the default), from startsFor(). */
  starts: (string | undefined)[];
  shard?: { index: number; count: number };
  maxSteps?: number;
}

export interface BoundStats {
  bound: number;
  /** Programs explored completely at this bound. */
  programs: number;
  /** (program, fault choice) pairs explored. */
  cases: number;
  runs: number;
  pruned: number;
  ms: number;
  complete: boolean;
}

export interface VerifyFinding {
  title: string;
  kind: FindingKind;
  /** The smallest bound at which it was seen. */
  bound: number;
  rank: number;
  program: Program;
  faults: Fault[];
  schedule: Schedule;
  preemptions: number;
  expected: 'known' | 'by-design' | null;
  problem?: string;
}

export interface VerifyState {
  version: 1;
  /** What the flags and the target make of the search; a state of another key is not resumed. */
  key: string;
  /** The bound in progress (bound + 1 past the last when done). */
  bound: number;
  nextRank: number;
  /** Programs of the enumeration (all shards), for the verdict of merged shards. */
  programs?: number;
  stats: BoundStats[];
  findings: VerifyFinding[];
  /** 'verified', 'unexpected' (stopped at the first unexpected finding), 'target-error', or 'incomplete'. */
  verdict: 'verified' | 'unexpected' | 'target-error' | 'incomplete';
}

/**
 * What `verify`, and `merge` of its shards, write to results/<run-id>/summary.json and print with
 * --json; junit.xml and report.html are drawn from it alone.
 */
export interface VerifySummary {
  kind: 'verify';
  runId: string;
  startedAt: string;
  /** This command's wall time; for a merge, the shards' machine time (their bound times summed). */
  elapsedMs: number;
  target: string;
  verdict: VerifyState['verdict'];
  verdictLine: string;
  exitCode: number;
  maxOps: number;
  cpus: number;
  preemptions: number;
  dpor: boolean;
  faults: boolean;
  starts: (string | null)[];
  /** The sub-API of --ops and --domain; null for the whole API. */
  restriction: { ops: string | null; domain: string | null } | null;
  shard: { index: number; count: number } | null;
  /** The enumeration's counts; null for a merge, which reads the shards' states only. */
  enumeration: EnumCounts | null;
  /** Programs of the enumeration, all shards together. */
  programs: number;
  /** Programs of this shard: all of them unsharded or merged. */
  shardPrograms: number;
  bounds: BoundStats[];
  findings: VerifyFinding[];
  /** The state a rerun resumes from; null for a merge. */
  stateFile: string | null;
  /** For a merge: the shards' state files. */
  mergedFrom?: string[];
  /** The unexpected finding's corpus entry (minimized), the command that replays it, and its ladder. */
  corpusFile: string | null;
  replay: string | null;
  ladder: string | null;
  summaryFile: string;
  junitFile: string;
  reportFile: string;
}

export interface VerifyHooks {
  deadline?: number;
  /** After each program; return true to stop now (a signal). */
  progress?(state: VerifyState): boolean | void;
  /** Save the state: called every few seconds, at the end of each bound and when stopping. */
  save?(state: VerifyState): void;
  /** Each program's exploration runs as execution `rank` of this heartbeat, every step published. */
  heartbeat?: Heartbeat;
}

export function newState(key: string): VerifyState {
  return { version: 1, key, bound: 0, nextRank: 0, stats: [], findings: [], verdict: 'incomplete' };
}

const SAVE_EVERY_MS = 2000;

/** The ranks of a shard: every count-th, from index. */
export const inShard = (rank: number, shard?: { index: number; count: number }): boolean => !shard || rank % shard.count === shard.index;

export function shardSize(total: number, shard?: { index: number; count: number }): number {
  return shard ? Math.floor(total / shard.count) + (shard.index < total % shard.count ? 1 : 0) : total;
}

export function enumerationFor(target: Target, cfg: VerifyConfig): Enumeration {
  return enumeratePrograms(target, { maxOps: cfg.maxOps, cpus: cfg.cpus, starts: cfg.starts });
}

/** Go on from `state` until the bound is done, the deadline passes, or something unexpected shows. */
export function runVerify(target: Target, cfg: VerifyConfig, e: Enumeration, state: VerifyState, hooks: VerifyHooks = {}): VerifyState {
  if (state.verdict !== 'incomplete') return state; // done, or stopped at a finding that a rerun would only see again
  state.programs = e.ranks.length;
  let lastSave = Date.now();
  const save = (): void => {
    hooks.save?.(state);
    lastSave = Date.now();
  };
  for (; state.bound <= cfg.bound; state.bound++, state.nextRank = 0) {
    let stats = state.stats.find((s) => s.bound === state.bound);
    if (!stats) state.stats.push((stats = { bound: state.bound, programs: 0, cases: 0, runs: 0, pruned: 0, ms: 0, complete: false }));
    for (; state.nextRank < e.ranks.length; state.nextRank++) {
      const rank = state.nextRank;
      if (!inShard(rank, cfg.shard)) continue;
      const t0 = Date.now();
      hooks.heartbeat?.begin(rank);
      const stop = exploreRank(target, cfg, e, rank, state, stats, hooks.deadline, hooks.heartbeat);
      hooks.heartbeat?.end();
      stats.ms += Date.now() - t0;
      if (stop) {
        save();
        return state;
      }
      stats.programs++;
      if (hooks.progress?.(state) === true) {
        state.nextRank++;
        save();
        return state;
      }
      if (Date.now() - lastSave > SAVE_EVERY_MS) save();
    }
    stats.complete = true;
    save();
  }
  state.verdict = 'verified';
  save();
  return state;
}

/** Explore one program at the state's bound with every fault choice: true when the run must stop. */
function exploreRank(target: Target, cfg: VerifyConfig, e: Enumeration, rank: number, state: VerifyState, stats: BoundStats, deadline?: number, heartbeat?: Heartbeat): boolean {
  const program = programAt(e, rank);
  const choices: Fault[][] = [[]]; // the fault-free case first: its runs count the fallible calls
  const runs = { cases: 0, runs: 0, pruned: 0 };
  for (const [faultCase, faults] of choices.entries()) {
    heartbeat?.exploring(state.bound, faultCase);
    const r = explore(target, program, { bound: state.bound, dpor: cfg.dpor, faults, maxSteps: cfg.maxSteps, deadline, heartbeat });
    if (cfg.faults && faults.length === 0) choices.push(...faultChoices(target, r.sites));
    runs.runs += r.runs;
    runs.pruned += r.pruned;
    if (!r.complete) return true; // the counts of an unfinished program are dropped: it runs again on resume
    runs.cases++;
    for (const f of r.findings) {
      if (state.findings.some((x) => x.title === f.title)) continue;
      const exp = expectationOf(target, f.title);
      const finding: VerifyFinding = { title: f.title, kind: f.kind, bound: state.bound, rank, program, faults, schedule: f.schedule, preemptions: f.preemptions, expected: exp?.status ?? null };
      if (exp?.problem) finding.problem = exp.problem;
      state.findings.push(finding);
      if (f.kind === 'target-error' || !exp) {
        state.verdict = f.kind === 'target-error' ? 'target-error' : 'unexpected';
        return true;
      }
    }
  }
  stats.cases += runs.cases;
  stats.runs += runs.runs;
  stats.pruned += runs.pruned;
  return false;
}

/** Where a watchdog stopped a search: the bound, the program's fault choice, its schedule, and the step that never finished. */
export interface StoppedAt {
  bound: number;
  faultCase: number;
  run: number;
  step: number;
}

/**
 * The schedule a watchdog stopped (a stall, an oom) up to the step that never finished: the
 * program's exploration at that bound again, its fault choices counted as the search counted them,
 * halted before that step. Undefined if the search does not reach it again (a target that does not
 * run the same way twice).
 */
export function stoppedRun(target: Target, cfg: VerifyConfig, program: Program, at: StoppedAt): { faults: Fault[]; result: ExecResult } | undefined {
  const opts = { bound: at.bound, dpor: cfg.dpor, maxSteps: cfg.maxSteps };
  const free = explore(target, program, { ...opts, faults: [], halt: at.faultCase === 0 ? at : undefined });
  if (at.faultCase === 0) return free.halted && { faults: [], result: free.halted };
  const faults = cfg.faults && free.complete ? faultChoices(target, free.sites)[at.faultCase - 1] : undefined;
  const r = faults && explore(target, program, { ...opts, faults, halt: at });
  return r?.halted && { faults: faults!, result: r.halted };
}

export type { EnumCounts };
