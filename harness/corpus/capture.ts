// Turn a campaign finding into a corpus entry: run its execution index again with events on, take
// the program, faults and canonical schedule, and check that replaying exactly those reproduces it.

import type { CampaignFinding } from '../engine/campaign.js';
import type { TargetRef } from '../engine/load.js';
import { replayExecution, runIndex, type CampaignConfig } from '../engine/runner.js';
import { renderLadder } from '../report/ladder.js';
import type { Target } from '../target.js';
import { SCHEMA_VERSION, type CorpusEntry } from './entry.js';
import { harnessVersion, targetHash } from './identity.js';

export interface CaptureContext {
  target: Target;
  ref: TargetRef;
  cfg: CampaignConfig;
  /** ISO timestamp of this run: the entry's firstSeen and lastSeen. */
  seenAt: string;
}

export function captureEntry(ctx: CaptureContext, finding: CampaignFinding): CorpusEntry {
  const { target, cfg } = ctx;
  const run = runIndex(target, cfg, finding.index, { events: true });
  const found = run.result.findings.find((f) => f.title === finding.title);
  if (!found) throw new Error(`execution ${finding.index} of seed '${cfg.seed}' did not find '${finding.title}' again`);
  const schedule = run.result.schedule;
  const again = replayExecution(target, run.program, run.faults, schedule);
  if (!again.result.findings.some((f) => f.title === finding.title)) {
    throw new Error(`the canonical schedule of execution ${finding.index} does not reproduce '${finding.title}'`);
  }
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
    schedule,
    minimized: null,
    ladder: renderLadder(run.result.events ?? [], run.program.cpus.length),
    detail: found.detail,
    hits: finding.hits,
    firstSeen: ctx.seenAt,
    lastSeen: ctx.seenAt,
  };
}
