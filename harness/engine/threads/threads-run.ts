// The threads engine behind the same entry points as inline: one execution index of a campaign,
// the exact replay of a saved repro, and a campaign over indices (one execution at a time, its
// CPUs on the engine's workers) with the result shape of runCampaign.

import { execRng } from '../../rng.js';
import { replay } from '../../sched/replay.js';
import type { Target } from '../../target.js';
import { WATCHDOG_KINDS, type Fault, type Program, type Schedule } from '../../types.js';
import type { CampaignFinding, CampaignOptions, CampaignResult } from '../campaign.js';
import type { ExecOptions, Execution } from '../inline/inline.js';
import { loadTarget, UsageError, type TargetRef } from '../load.js';
import { DEFAULT_LIMITS, GuardedPool, type ExecutionLimits } from '../pool/guarded-pool.js';
import { notAlone, OomConfirmer } from '../pool/oom-confirm.js';
import { argCombos } from './threads-kernel.js';
import { formatOp } from '../program.js';
import { campaignFaults, programFor, strategyAt, type CampaignConfig, type IndexedExecution } from '../runner.js';
import { ExecutionCancelled, ThreadsEngine, type ThreadsEngineOptions } from './threads.js';
import { BACKWARD, FORWARD, SERIAL_RNG, serialStrategy } from '../profile-run.js';
import { compareText } from '../../text.js';

/** The engines of `run`, `replay` and `minimize` (`--engine`). */
export const ENGINES = ['inline', 'threads'] as const;
export type EngineName = (typeof ENGINES)[number];

export async function runIndexThreads(
  engine: ThreadsEngine,
  ref: TargetRef,
  target: Target,
  cfg: CampaignConfig,
  index: number,
  opts: ExecOptions = {},
): Promise<IndexedExecution & { execution: Execution; phase?: number }> {
  const program = programFor(target, cfg.seed, index);
  const faults = campaignFaults(target, cfg, index);
  const strategy = strategyAt(target, cfg, index);
  // The strategy's profiling runs are computed in this thread (profile-run.ts); each is first run on
  // the workers, where the engine's watchdog stops a program that never yields in them, as inline
  // runs it: no invariants, no teardown.
  for (const phase of strategy.needsProfile === undefined ? [] : strategy.needsProfile === 'length' || program.cpus.length < 2 ? [FORWARD] : [FORWARD, BACKWARD]) {
    const serialRun = await engine.execute(ref, target, program, serialStrategy(program, phase), SERIAL_RNG, { maxSteps: cfg.maxSteps, ...opts, faults, profiling: true });
    if (serialRun.result.findings.some((f) => WATCHDOG_KINDS.has(f.kind))) return { index, program, faults, result: serialRun.result, execution: serialRun, phase };
  }
  const execution = await engine.execute(ref, target, program, strategy, execRng(cfg.seed, index, 'schedule'), { maxSteps: cfg.maxSteps, ...opts, faults });
  return { index, program, faults, result: execution.result, execution };
}

/** Exact re-execution of a saved (program, faults, schedule) on threads: runner.replayExecution's twin. */
export function replayThreads(
  engine: ThreadsEngine,
  ref: TargetRef,
  target: Target,
  program: Program,
  faults: readonly Fault[],
  schedule: Schedule,
  opts: ExecOptions = {},
): Promise<Execution> {
  return engine.execute(ref, target, program, replay(schedule), execRng('replay', 0, 'schedule'), { ...opts, faults });
}

/** runCampaign on the threads engine (`workers` is ignored: the CPUs are the workers). */
export async function runThreadsCampaign(opts: CampaignOptions & { target: TargetRef }, engine?: ThreadsEngine): Promise<CampaignResult> {
  if (opts.execs === undefined && opts.timeMs === undefined) throw new Error('a campaign needs --execs or --time');
  const target = await loadTarget(opts.target);
  if (opts.limits && !engine) await checkWarmUp(opts.target, target, opts.limits);
  const cfg: CampaignConfig = { seed: opts.seed, strategy: opts.strategy, depth: opts.depth, maxSteps: opts.maxSteps, faults: opts.faults };
  const own = engine ?? new ThreadsEngine(opts.limits ? { stepTimeoutMs: opts.limits.stallMs, memoryMb: opts.limits.memoryMb } : {});
  const t0 = performance.now();
  const deadline = opts.timeMs === undefined ? Infinity : t0 + opts.timeMs;
  const first = opts.startIndex ?? 0;
  const limit = opts.execs === undefined ? Number.MAX_SAFE_INTEGER : first + opts.execs;
  const byTitle = new Map<string, CampaignFinding>();
  let steps = 0;
  let index = first;
  let reported = t0;
  const stopping = (): boolean => performance.now() >= deadline || (opts.shouldStop?.() ?? false);
  own.shouldStop = stopping;
  const confirmer = new OomConfirmer(opts.limits ?? DEFAULT_LIMITS);
  try {
    for (; index < limit && !stopping(); index++) {
      let result;
      let phase: number | undefined;
      try {
        ({ result, phase } = await runIndexThreads(own, opts.target, target, cfg, index));
      } catch (e) {
        if (e instanceof ExecutionCancelled) break; // stopped while a step ran: it does not count
        throw e;
      }
      // An oom of a CPU worker that had run earlier executions: confirmed alone first (oom-confirm.ts).
      const oom = result.findings.find((f) => f.kind === 'oom');
      if (oom) {
        const alone = await confirmer.alone({ target: opts.target, cfg }, index);
        if (alone.kind === 'done') {
          const e = notAlone({ index, detail: oom.detail });
          result.findings = [...result.findings.filter((f) => f !== oom), { kind: e.kind, title: e.title, detail: e.detail, cpu: oom.cpu, step: oom.step }];
        }
      }
      steps += result.steps;
      for (const f of result.findings) {
        const seen = byTitle.get(f.title);
        if (seen) seen.hits++;
        else {
          const found: CampaignFinding = { title: f.title, kind: f.kind, index, detail: f.detail, hits: 1, timeToFindMs: Math.round(performance.now() - t0) };
          if (WATCHDOG_KINDS.has(f.kind)) {
            found.step = f.step; // the step that never finished: where its repro halts
            if (phase !== undefined) found.phase = phase; // ... in that profiling run
          }
          byTitle.set(f.title, found);
          opts.onNewFinding?.({ ...found });
        }
      }
      if (performance.now() - reported > 200) {
        reported = performance.now();
        opts.onProgress?.({ executions: index + 1 - first, steps, elapsedMs: reported - t0, findings: byTitle.size });
      }
    }
  } finally {
    own.shouldStop = undefined;
    if (!engine) await own.close();
  }
  const findings = [...byTitle.values()].sort((a, b) => a.index - b.index || compareText(a.title, b.title)); // as runCampaign orders them
  return { executions: index - first, steps, elapsedMs: Math.round(performance.now() - t0), findings };
}

/** Run `fn` with a threads engine of its own, closed afterwards. */
export async function withThreadsEngine<T>(fn: (engine: ThreadsEngine) => Promise<T>, opts: ThreadsEngineOptions = {}): Promise<T> {
  const engine = new ThreadsEngine(opts);
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

/** Whether the repro, replayed on the threads engine, shows `signature`, and what it found. */
export async function replaysSignatureThreads(
  ref: TargetRef,
  target: Target,
  repro: { program: Program; faults: readonly Fault[]; schedule: Schedule },
  signature: string,
): Promise<{ reproduced: boolean; titles: string[]; steps: number }> {
  const { result } = await withThreadsEngine((e) => replayThreads(e, ref, target, repro.program, repro.faults, repro.schedule));
  const titles = result.findings.map((f) => f.title);
  return { reproduced: titles.includes(signature), titles, steps: result.steps };
}

/**
 * Every thread of the threads engine, this one included, first runs each operation alone, inline
 * (prepareThread's warm-up), where nothing could stop an operation that never yields. So the
 * warm-up is tried first on a guarded worker: an operation that stalls or runs out of heap alone
 * is a target error, said in one line, before any thread runs it unguarded.
 */
export async function checkWarmUp(ref: TargetRef, target: Target, limits: ExecutionLimits): Promise<void> {
  const pool = new GuardedPool(1, limits);
  try {
    for (const spec of target.ops) {
      for (const args of argCombos(spec.args)) {
        const op = { op: spec.name, args };
        const r = await pool.replay({ target: ref, replay: { program: { cpus: [[op]] }, faults: [], schedule: [] }, opts: {} });
        if (r.killed) throw new UsageError(`target error: ${formatOp(op)} alone, on one CPU: ${r.killed.finding.title}; the threads engine runs every operation alone first, so it cannot run ${target.name}`);
      }
    }
  } finally {
    await pool.close();
  }
}
