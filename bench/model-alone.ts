// The model alone: the runs of a batch of executions (each execution's profiling runs, then the
// execution) stepped along the CPUs the engine picked, with nothing else done: no strategy, no
// invariants, no coverage, no program drawn, no profile computed, no schedule kept. The teardown and
// leak check run where the engine ran them (not where its teardown memo skipped them). Any engine
// over this model does at least this much work per execution; the throughput benchmark puts it
// beside the ceiling (ceiling.ts) to tell the engine's overhead from the model's own cost.

import { boot, bootImage, cpuBody, execute, fault, runSolo, startOf } from '../harness/engine/inline/inline.js';
import { TeardownMemo } from '../harness/engine/inline/teardown-memo.js';
import { profilePhases, serialStrategy, SERIAL_RNG } from '../harness/engine/profile-run.js';
import { campaignFaults, programFor, strategyAt, type CampaignConfig } from '../harness/engine/runner.js';
import { Kernel } from '../harness/kernel/kernel.js';
import { CPU, CPU_DONE, CPU_RUNNABLE, CPU_WORDS } from '../harness/kernel/layout.js';
import { startCpus } from '../harness/kernel/thread.js';
import { execRng } from '../harness/rng.js';
import type { Strategy } from '../harness/sched/strategy.js';
import type { Target } from '../harness/target.js';
import type { Fault, Program } from '../harness/types.js';

/** One run of an execution as the engine took it. */
export interface ModelRun {
  program: Program;
  faults: readonly Fault[];
  /** The CPU of each step, as the engine picked them (a step an oops cut short included). */
  cpus: number[];
  /** Whether the run ended with the teardown and leak check run (not skipped by the memo). */
  teardown: boolean;
}

/**
 * The runs of executions [start, start+count) of a campaign, in the order runBatch takes them from
 * an empty teardown memo: per execution its profiling runs, then the execution itself.
 */
export function recordModelRuns(target: Target, cfg: CampaignConfig, start: number, count: number): ModelRun[] {
  const memo = new TeardownMemo();
  const runs: ModelRun[] = [];
  const maxSteps = cfg.maxSteps;
  for (let i = start; i < start + count; i++) {
    const program = programFor(target, cfg.seed, i);
    const faults = campaignFaults(target, cfg, i);
    const strategy = strategyAt(target, cfg, i);
    for (const phase of profilePhases(strategy, program)) {
      const cpus: number[] = [];
      execute(target, program, recording(serialStrategy(program, phase), cpus), SERIAL_RNG, { faults, maxSteps, profiling: true });
      runs.push({ program, faults, cpus, teardown: false });
    }
    const cpus: number[] = [];
    const hits = memo.hits;
    const { kernel } = execute(target, program, recording(strategy, cpus), execRng(cfg.seed, i, 'schedule'), { faults, maxSteps, teardowns: memo });
    const tornDown = kernel.doing[program.cpus.length] === 'teardown' && memo.hits === hits;
    runs.push({ program, faults, cpus, teardown: tornDown });
  }
  return runs;
}

/** `strategy`, noting each CPU it picks. */
function recording(strategy: Strategy, cpus: number[]): Strategy {
  return {
    name: strategy.name,
    needsProfile: strategy.needsProfile,
    start: (ctx) => strategy.start(ctx),
    pick(runnable, current, steps, t) {
      const cpu = strategy.pick(runnable, current, steps, t);
      cpus.push(cpu);
      return cpu;
    },
  };
}

/** Step every run; returns the steps taken. */
export function stepModelAlone(target: Target, runs: readonly ModelRun[]): number {
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  let steps = 0;
  for (const run of runs) steps += driveRun(target, run, buffer).step;
  return steps;
}

/** One run from boot along its CPUs; the kernel as the run left it (its findings, its step count). */
export function driveRun(target: Target, run: ModelRun, buffer: SharedArrayBuffer): Kernel {
  const { program } = run;
  const ncpus = program.cpus.length;
  const k = new Kernel(target.layout, buffer, { ncpus, faults: run.faults });
  boot(k, bootImage(target, startOf(target, program)));
  const gens = program.cpus.map((_, c) => cpuBody(target, k, c, program));
  startCpus(target.threads, k.mem, ncpus);
  try {
    for (const cpu of run.cpus) {
      const c = cpu * CPU_WORDS;
      k.cpu = cpu;
      k.mem[c + CPU.state] = CPU_RUNNABLE;
      k.clearWait(cpu);
      if (gens[cpu]!.next().done === true) k.mem[c + CPU.state] = CPU_DONE;
      k.step++;
    }
    if (run.teardown) {
      k.doing[ncpus] = 'teardown';
      runSolo(k, ncpus, target.teardown(k), undefined);
      target.leakCheck(k);
    }
  } catch (e) {
    fault(k, e);
  }
  return k;
}
