// One execution of a campaign, from (seed, index) alone: the program, then the schedule choices,
// each drawn from its own PRNG stream so that neither shifts the other.

import { execRng } from '../rng.js';
import { makeStrategy, type StrategyName } from '../sched/index.js';
import { replay } from '../sched/replay.js';
import type { Strategy } from '../sched/strategy.js';
import type { Target } from '../target.js';
import type { ExecResult, Fault, Program, Schedule } from '../types.js';
import { execute, type ExecOptions, type Execution } from './inline/inline.js';
import { FOCUS_RATE, generateProgram } from './program.js';

/** off: every execution drawn at random from its index; coverage: coverage-guided search (harness/guided). */
export const GUIDE_MODES = ['off', 'coverage'] as const;
export type GuideMode = (typeof GUIDE_MODES)[number];

export interface CampaignConfig {
  seed: string;
  strategy: StrategyName;
  depth: number;
  maxSteps?: number;
  /** Fault injection (default on): some executions fail one fallible call. */
  faults?: boolean;
  /** Coverage-guided search (default off): part of the executions mutate a queue of earlier ones. */
  guide?: GuideMode;
}

/** The share of executions that get a fault, and how far into the occurrences it may fall. */
export const FAULT_RATE = 0.25;
export const FAULT_MAX_NTH = 8;

export interface IndexedExecution {
  index: number;
  program: Program;
  faults: Fault[];
  result: ExecResult;
}

/** The share of executions that start from a state other than the target's default. */
export const START_RATE = 0.25;

/**
 * The start state of execution `index`: undefined (the default) or another of target.startStates.
 * The first executions of a campaign take each of the others once, in the target's order (a seed
 * round, as a fuzzer runs its seed inputs before it mutates them), so that a short campaign meets
 * every start state; after them each is drawn from the execution's own stream.
 */
export function startFor(target: Target, seed: string, index: number): string | undefined {
  const others = target.startStates?.slice(1) ?? [];
  if (others.length === 0) return undefined;
  if (index < others.length) return others[index];
  const rng = execRng(seed, index, 'start');
  return rng.next() < START_RATE ? rng.pick(others) : undefined;
}

/** The program of execution `index`, with its start state when that is not the default. */
export function programFor(target: Target, seed: string, index: number): Program {
  return generateProgram(target, execRng(seed, index, 'program'), FOCUS_RATE, startFor(target, seed, index));
}

/** fail_nth for one execution: at most one fault, drawn from its own stream. */
export function faultsFor(target: Target, seed: string, index: number): Fault[] {
  if (target.faultCalls.length === 0) return [];
  const rng = execRng(seed, index, 'faults');
  if (rng.next() >= FAULT_RATE) return [];
  return [{ call: rng.pick(target.faultCalls), nth: 1 + rng.int(FAULT_MAX_NTH) }];
}

/** The faults of execution `index` of a campaign: none when the campaign runs without faults. */
export function campaignFaults(target: Target, cfg: CampaignConfig, index: number): Fault[] {
  return cfg.faults === false ? [] : faultsFor(target, cfg.seed, index);
}

/** Run a program as execution `index` of a campaign: its strategy, drawing from that index's schedule stream. */
export function executeAt(target: Target, cfg: CampaignConfig, index: number, program: Program, faults: readonly Fault[], opts: ExecOptions = {}): Execution {
  return execute(target, program, strategyAt(target, cfg, index), execRng(cfg.seed, index, 'schedule'), { maxSteps: cfg.maxSteps, ...opts, faults });
}

/** The campaign's strategy for execution `index`; of a fixed program, it knows its place in the series. */
export function strategyAt(target: Target, cfg: CampaignConfig, index: number): Strategy {
  return makeStrategy(cfg.strategy, cfg.depth, target.fixedProgram === true ? { seed: cfg.seed, index } : undefined);
}

export function runIndex(target: Target, cfg: CampaignConfig, index: number, opts: ExecOptions = {}): IndexedExecution & { execution: Execution } {
  const program = programFor(target, cfg.seed, index);
  const faults = campaignFaults(target, cfg, index);
  const execution = executeAt(target, cfg, index, program, faults, opts);
  return { index, program, faults, result: execution.result, execution };
}

/** Exact re-execution of a saved (program, faults, schedule). */
export function replayExecution(target: Target, program: Program, faults: readonly Fault[], schedule: Schedule, opts: ExecOptions = {}): Execution {
  return execute(target, program, replay(schedule), execRng('replay', 0, 'schedule'), { ...opts, faults });
}
