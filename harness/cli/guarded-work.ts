// The target code a command runs besides its campaign (minimizing new entries, replaying corpus
// entries) on one worker thread under the watchdog, never on the main thread: a candidate or an
// edited entry whose code never reaches its next preemption point is then a stall of that replay,
// not a hang of the command, and a signal aborts the work in flight at once.

import type { CorpusEntry } from '../corpus/entry.js';
import type { TargetRef } from '../engine/load.js';
import { GuardedPool, type ExecutionLimits, type MinimizeOutcome } from '../engine/pool/guarded-pool.js';
import type { Repro } from '../minimize/executor.js';
import type { ExecResult, Finding } from '../types.js';

const POLL_MS = 50;

export interface GuardedReplay {
  result: ExecResult;
  /** The watchdog's finding when the replay stalled or passed the heap cap (its worker was replaced). */
  killed?: Finding;
}

export class GuardedWork {
  private pool: GuardedPool | undefined;

  constructor(
    private readonly ref: TargetRef,
    private readonly limits: ExecutionLimits,
    private readonly stopped: () => boolean = () => false,
  ) {}

  /** Minimize `entry` within `budgetMs`; 'stopped' when a signal came first. */
  minimize(entry: CorpusEntry, budgetMs: number): Promise<MinimizeOutcome> {
    return this.whileRunning((pool) => pool.minimize({ target: this.ref, minimize: { entry } }, budgetMs));
  }

  /** One exact replay; undefined when a signal came first. */
  async replay(repro: Repro): Promise<GuardedReplay | undefined> {
    try {
      const r = await this.whileRunning((pool) => pool.replay({ target: this.ref, replay: { program: repro.program, faults: [...repro.faults], schedule: repro.schedule }, opts: {} }));
      return r.killed ? { result: r.result, killed: r.killed.finding } : { result: r.result };
    } catch (e) {
      if (this.stopped()) return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
  }

  /** Runs `work` on the pool, aborting it when `stopped()` turns true. */
  private async whileRunning<T>(work: (pool: GuardedPool) => Promise<T>): Promise<T> {
    const pool = (this.pool ??= new GuardedPool(1, this.limits));
    const timer = setInterval(() => {
      if (this.stopped()) pool.stopAll();
    }, POLL_MS);
    try {
      return await work(pool);
    } finally {
      clearInterval(timer);
    }
  }
}
