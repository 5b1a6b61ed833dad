// Minimize a corpus entry (design.md section 9): shrink its original repro for its signature and
// return the entry with the result in `minimized` and the ladder redrawn from the minimized replay.
// Shared by `mdevfuzz run` (new entries, before they are written) and `mdevfuzz minimize`.

import { replayExecutor, type Repro, type ReproExecutor, type ReproSize } from '../minimize/executor.js';
import { minimize } from '../minimize/minimize.js';
import { renderLadder } from '../report/ladder.js';
import type { Target } from '../target.js';
import type { CorpusEntry, MinimizedRepro } from './entry.js';

/** What `minimized.stats` holds. */
export interface EntryMinimizeStats {
  before: ReproSize;
  after: ReproSize;
  replays: number;
  ms: number;
  rounds: number;
  /** The budget ran out before a fixed point: smaller than found, perhaps not as small as it gets. */
  exhausted: boolean;
}

export interface MinimizedEntry {
  entry: CorpusEntry;
  stats: EntryMinimizeStats;
}

/** The entry's repro as found (not its minimized form). */
export function originalRepro(e: CorpusEntry): Repro {
  return { program: e.program, faults: e.faults, schedule: e.schedule };
}

/**
 * Minimize the entry's original repro within `timeMs` (and `maxReplays`), every replay on
 * `executor` (in this thread unless given). Throws when the original does not show the signature on
 * replay (replay it first to tell that case apart).
 */
export function minimizeEntry(target: Target, entry: CorpusEntry, opts: { timeMs: number; maxReplays?: number; executor?: ReproExecutor }): MinimizedEntry {
  const executor = opts.executor ?? replayExecutor(target);
  const { repro, stats: s } = minimize(target, originalRepro(entry), entry.signature, { timeMs: opts.timeMs, maxReplays: opts.maxReplays, executor });
  const stats: EntryMinimizeStats = { before: s.before, after: s.after, replays: s.replays, ms: s.elapsedMs, rounds: s.rounds, exhausted: s.exhausted };
  const result = executor.run(repro, { events: true });
  const minimized: MinimizedRepro = { program: repro.program, faults: repro.faults, schedule: repro.schedule, stats: { ...stats } };
  return { entry: { ...entry, minimized, minimizePending: false, ladder: renderLadder(result.events ?? [], repro.program.cpus.length, { start: repro.program.start }) }, stats };
}
