// An oom is pinned to the execution its worker was running when the heap passed its cap; but that
// worker may have run other executions first, and the heap they left (a target that keeps memory
// across executions) may be what filled it. So the execution runs again alone, on a fresh guarded
// worker of its own: if it dies again, the oom is that execution's; if it runs to the end, the
// oom is a target error (not reproducible alone), kept out of the corpus like any other.

import type { BatchFinding } from '../batch.js';
import { GuardedPool, type BatchOutcome, type ExecutionLimits } from './guarded-pool.js';
import type { BatchTask } from './pool-worker.js';
import { TARGET_ERROR, type Fault, type Program } from '../../types.js';
import type { TargetRef } from '../load.js';

export const OOM_NOT_ALONE = 'target error: worker out of memory, not reproducible alone';

/** Pools of confirmations in flight, so that a stop (signal, deadline) reaches them too. */
export class OomConfirmer {
  private readonly pools = new Set<GuardedPool>();

  constructor(private readonly limits: ExecutionLimits) {}

  /** Execution `index` of `task`'s config (and guided queue), alone on a fresh worker. */
  async alone(task: Omit<BatchTask, 'start' | 'count'>, index: number): Promise<BatchOutcome> {
    const pool = new GuardedPool(1, this.limits);
    this.pools.add(pool);
    try {
      return await pool.run({ ...task, start: index, count: 1 });
    } finally {
      this.pools.delete(pool);
      await pool.close();
    }
  }

  /** An exact replay of `program` and `faults` (in the default order) alone on a fresh worker: whether it died (or stalled) again. */
  async diesAlone(target: TargetRef, program: Program, faults: readonly Fault[]): Promise<boolean> {
    const pool = new GuardedPool(1, this.limits);
    this.pools.add(pool);
    try {
      return (await pool.replay({ target, replay: { program, faults: [...faults], schedule: [] }, opts: {} })).killed !== undefined;
    } finally {
      this.pools.delete(pool);
      await pool.close();
    }
  }

  stopAll(): void {
    for (const p of this.pools) p.stopAll();
  }
}

/** The target error of an oom that its execution, run again alone, did not reproduce. */
export function notAlone(oom: Pick<BatchFinding, 'index' | 'detail'>): BatchFinding {
  return {
    title: OOM_NOT_ALONE,
    kind: TARGET_ERROR,
    index: oom.index,
    detail: [
      ...oom.detail,
      `run again alone on a fresh worker, execution ${oom.index} ran to the end: what filled the heap was kept from earlier executions of that worker`,
    ],
    hits: 1,
  };
}
