// What a campaign keeps of an execution whose worker the watchdog or the heap cap killed: a batch
// of that one index, holding its finding. Guided, a mutated execution also gets the repro that
// (seed, index) alone would not rebuild: its plan, with the schedule taken in this thread up to
// the step that never finished (never running that step).

import type { QueueEntry } from '../guided/entry.js';
import { planFor, runPlan } from '../guided/plan.js';
import type { Target } from '../target.js';
import type { BatchConfig, BatchFinding, BatchResult } from './batch.js';
import type { BatchOutcome } from './pool/guarded-pool.js';

/**
 * Once a signal stops a campaign, the batches in flight get this long to come back before their
 * workers are terminated. Past the deadline, so does a batch stuck in one step; the others get
 * DEADLINE_GRACE_MS (a loaded machine may still be starting its workers).
 */
export const STOP_GRACE_MS = 500;
export const DEADLINE_GRACE_MS = 5_000;

export function killedResult(target: Target, cfg: BatchConfig, queue: readonly QueueEntry[], o: Extract<BatchOutcome, { kind: 'killed' }>): BatchResult {
  const finding: BatchFinding = { ...o.finding };
  if (cfg.guide === 'coverage') {
    const plan = planFor(target, cfg, o.index, queue);
    if (plan.source !== 'fresh') {
      const schedule = plan.schedule ?? runPlan(target, cfg, o.index, plan, { haltAt: o.steps }).result.schedule;
      finding.repro = { program: plan.program, faults: plan.faults, schedule };
    }
  }
  return { start: o.index, count: 1, steps: o.steps, findings: [finding] };
}
