// One execution of a campaign, from (seed, index) alone: the program, then the schedule choices,
// each drawn from its own PRNG stream so that neither shifts the other.

import { execRng } from '../rng.js';
import { makeStrategy, type StrategyName } from '../sched/index.js';
import { replay } from '../sched/replay.js';
import type { Target } from '../target.js';
import type { ExecResult, Fault, Program, Schedule } from '../types.js';
import { execute, type ExecOptions, type Execution } from './inline.js';
import { generateProgram } from './program.js';

export interface CampaignConfig {
  seed: string;
  strategy: StrategyName;
  depth: number;
  maxSteps?: number;
}

export interface IndexedExecution {
  index: number;
  program: Program;
  faults: Fault[];
  result: ExecResult;
}

export function programFor(target: Target, seed: string, index: number): Program {
  return generateProgram(target, execRng(seed, index, 'program'));
}

export function runIndex(target: Target, cfg: CampaignConfig, index: number, opts: ExecOptions = {}): IndexedExecution & { execution: Execution } {
  const program = programFor(target, cfg.seed, index);
  const faults: Fault[] = [];
  const strategy = makeStrategy(cfg.strategy, cfg.depth);
  const execution = execute(target, program, strategy, execRng(cfg.seed, index, 'schedule'), { maxSteps: cfg.maxSteps, ...opts, faults });
  return { index, program, faults, result: execution.result, execution };
}

/** Exact re-execution of a saved (program, faults, schedule). */
export function replayExecution(target: Target, program: Program, faults: readonly Fault[], schedule: Schedule, opts: ExecOptions = {}): Execution {
  return execute(target, program, replay(schedule), execRng('replay', 0, 'schedule'), { ...opts, faults });
}
