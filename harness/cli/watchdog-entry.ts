// The corpus entry of a watchdog's finding (a stall, an oom): its execution cannot be run again in
// this thread to take its schedule and ladder, as captureEntry does, since it would stall here
// too. It is run up to the step that never finished, and stopped there before running it
// (ExecOptions.haltAt): the schedule so far is the repro (replaying it reaches that step on that
// CPU again), and the ladder ends with the finding on that CPU. Such an entry is not minimized.

import type { CaptureContext } from '../corpus/capture.js';
import { SCHEMA_VERSION, type CorpusEntry } from '../corpus/entry.js';
import { harnessVersion, targetHash } from '../corpus/identity.js';
import type { CampaignFinding } from '../engine/campaign.js';
import { replayExecution, runIndex } from '../engine/runner.js';
import { renderLadder } from '../report/ladder.js';
import type { ExecResult, Fault, Program, Schedule, TraceEvent } from '../types.js';

/** The execution of a watchdog finding up to (not into) the step that never finished. */
export function haltedRun(
  ctx: Pick<CaptureContext, 'target' | 'cfg'>,
  f: Pick<CampaignFinding, 'index' | 'repro' | 'step'>,
): { program: Program; faults: Fault[]; result: ExecResult } {
  const opts = { events: true, haltAt: f.step ?? 0 };
  if (!f.repro) return runIndex(ctx.target, ctx.cfg, f.index, opts);
  const { program, faults, schedule } = f.repro;
  return { program, faults, result: replayExecution(ctx.target, program, faults, schedule, { maxSteps: ctx.cfg.maxSteps, ...opts }).result };
}

/** The ladder of a halted run, with the finding marked on the CPU that never came back. */
export function haltedLadder(result: ExecResult, ncpus: number, title: string): string {
  const events: TraceEvent[] = [...(result.events ?? []), { e: 'finding', cpu: result.haltedOn ?? 0, title }];
  return renderLadder(events, ncpus);
}

export function captureWatchdogEntry(ctx: CaptureContext, f: CampaignFinding): CorpusEntry {
  const { target, cfg } = ctx;
  const run = haltedRun(ctx, f);
  const schedule: Schedule = run.result.schedule;
  return {
    schemaVersion: SCHEMA_VERSION,
    harnessVersion: harnessVersion(),
    targetHash: targetHash(ctx.ref),
    target: target.name,
    signature: f.title,
    kind: f.kind,
    seed: cfg.seed,
    index: f.index,
    strategy: cfg.strategy,
    depth: cfg.depth,
    program: run.program,
    faults: run.faults,
    schedule,
    minimized: null,
    ladder: haltedLadder(run.result, run.program.cpus.length, f.title),
    minimizePending: false,
    detail: f.detail,
  };
}
