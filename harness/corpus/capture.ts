// Turn a campaign finding into a corpus entry: run its execution again with events on (from its
// index, or from its repro when a guided campaign mutated it), take the program, faults and
// canonical schedule, and check that replaying exactly those reproduces it.

import type { CampaignFinding } from '../engine/campaign.js';
import type { TargetRef } from '../engine/load.js';
import type { ExecOptions, Execution } from '../engine/inline/inline.js';
import { replayExecution, runIndex, type CampaignConfig } from '../engine/runner.js';
import { renderLadder } from '../report/ladder.js';
import type { Target } from '../target.js';
import type { Fault, Program, Schedule } from '../types.js';
import { SCHEMA_VERSION, type CorpusEntry } from './entry.js';
import { harnessVersion, targetHash } from './identity.js';

export interface CaptureContext {
  target: Target;
  ref: TargetRef;
  cfg: CampaignConfig;
}

/** The execution that first found it, again: its repro replayed when it has one, else its index run. */
export function findingExecution(
  target: Target,
  cfg: CampaignConfig,
  finding: Pick<CampaignFinding, 'index' | 'repro'>,
  opts: ExecOptions = {},
): { program: Program; faults: Fault[]; result: Execution['result'] } {
  if (!finding.repro) return runIndex(target, cfg, finding.index, opts);
  const { program, faults, schedule } = finding.repro;
  return { program, faults, result: replayExecution(target, program, faults, schedule, { maxSteps: cfg.maxSteps, ...opts }).result };
}

/** The entry of a finding as found; `minimizePending` marks a first sighting whose minimization is to follow. */
export function captureEntry(ctx: CaptureContext, finding: Pick<CampaignFinding, 'index' | 'repro' | 'title' | 'kind'>, minimizePending = false): CorpusEntry {
  const { target, cfg } = ctx;
  const run = findingExecution(target, cfg, finding, { events: true });
  const found = run.result.findings.find((f) => f.title === finding.title);
  if (!found) throw new Error(`execution ${finding.index} of seed '${cfg.seed}' did not find '${finding.title}' again`);
  const schedule = run.result.schedule;
  const again = replayExecution(target, run.program, run.faults, schedule);
  if (!again.result.findings.some((f) => f.title === finding.title)) {
    throw new Error(`the canonical schedule of execution ${finding.index} does not reproduce '${finding.title}'`);
  }
  const ladder = renderLadder(run.result.events ?? [], run.program.cpus.length, { start: run.program.start });
  return entryOf(ctx, finding, { ...run, schedule }, ladder, found.detail, minimizePending);
}

/** A corpus entry as found (not minimized) from the execution that showed the finding. */
export function entryOf(
  ctx: CaptureContext,
  finding: Pick<CampaignFinding, 'index' | 'title' | 'kind'>,
  run: { program: Program; faults: Fault[]; schedule: Schedule },
  ladder: string,
  detail: string[],
  minimizePending: boolean,
): CorpusEntry {
  const { target, cfg } = ctx;
  return {
    schemaVersion: SCHEMA_VERSION,
    harnessVersion: harnessVersion(),
    targetHash: targetHash(ctx.ref),
    target: target.name,
    signature: finding.title,
    kind: finding.kind,
    seed: cfg.seed,
    index: finding.index,
    strategy: cfg.strategy,
    depth: cfg.depth,
    program: run.program,
    faults: run.faults,
    schedule: run.schedule,
    minimized: null,
    minimizePending,
    ladder,
    detail,
  };
}
