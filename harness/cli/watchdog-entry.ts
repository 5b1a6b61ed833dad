// The corpus entry of a watchdog's finding (a stall, an oom): its execution cannot be run again in
// this thread to take its schedule and ladder, as captureEntry does, since it would stall here
// too. It is run up to the step that never finished, and stopped there before running it
// (ExecOptions.haltAt): the schedule so far is the repro (replaying it reaches that step on that
// CPU again), and the ladder ends with the finding on that CPU. Such an entry is not minimized.

import { entryOf, findingExecution, type CaptureContext } from '../corpus/capture.js';
import type { CorpusEntry } from '../corpus/entry.js';
import type { CampaignFinding } from '../engine/campaign.js';
import { replayProfileRun } from '../engine/profile-run.js';
import { campaignFaults, programFor } from '../engine/runner.js';
import { renderLadder } from '../report/ladder.js';
import type { ExecResult, Fault, Program, TraceEvent } from '../types.js';

/**
 * The execution of a watchdog finding up to (not into) the step that never finished; when that
 * step was one of a profiling run (the strategy's, before the execution proper), that serial run:
 * its schedule is then the repro.
 */
export function haltedRun(
  ctx: Pick<CaptureContext, 'target' | 'cfg'>,
  f: Pick<CampaignFinding, 'index' | 'repro' | 'step' | 'phase'>,
): { program: Program; faults: Fault[]; result: ExecResult } {
  if (f.phase !== undefined && f.phase !== 0) {
    const program = f.repro?.program ?? programFor(ctx.target, ctx.cfg.seed, f.index);
    const faults = f.repro?.faults ?? campaignFaults(ctx.target, ctx.cfg, f.index);
    return { program, faults, result: replayProfileRun(ctx.target, program, faults, f.phase, f.step ?? 0, ctx.cfg.maxSteps) };
  }
  return findingExecution(ctx.target, ctx.cfg, f, { events: true, haltAt: f.step ?? 0 });
}

/** The ladder of a halted run, with the finding marked on the CPU that never came back. */
export function haltedLadder(result: ExecResult, ncpus: number, title: string, start?: string): string {
  const events: TraceEvent[] = [...(result.events ?? []), { e: 'finding', cpu: result.haltedOn ?? 0, title }];
  return renderLadder(events, ncpus, { start });
}

export function captureWatchdogEntry(ctx: CaptureContext, f: CampaignFinding): CorpusEntry {
  const run = haltedRun(ctx, f);
  const ladder = haltedLadder(run.result, run.program.cpus.length, f.title, run.program.start);
  return entryOf(ctx, f, { ...run, schedule: run.result.schedule }, ladder, f.detail, false);
}
