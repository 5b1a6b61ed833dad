// Minimizing a new entry during a run, in slices of SLICE_MS that each go on from the repro the last
// one reached, with a turn of the event loop between them: a SIGINT or SIGTERM is then handled
// within a slice instead of after the whole budget. A minimization that fits in one slice is the
// very same as `minimizeEntry`'s.

import type { CorpusEntry } from '../corpus/entry.js';
import { originalRepro, type EntryMinimizeStats } from '../corpus/minimize-entry.js';
import { replayExecution } from '../engine/runner.js';
import { DEFAULT_MAX_REPLAYS, minimize } from '../minimize/minimize.js';
import { renderLadder } from '../report/ladder.js';
import type { Target } from '../target.js';

export const SLICE_MS = 250;

export type SlicedOutcome =
  | { outcome: 'minimized'; entry: CorpusEntry; stats: EntryMinimizeStats }
  | { outcome: 'budget'; stats: EntryMinimizeStats }
  | { outcome: 'interrupted'; ms: number };

export async function minimizeInSlices(target: Target, entry: CorpusEntry, budgetMs: number, stopped: () => boolean): Promise<SlicedOutcome> {
  const t0 = performance.now();
  const elapsed = (): number => Math.round(performance.now() - t0);
  let repro = originalRepro(entry);
  let stats: EntryMinimizeStats | undefined;
  for (;;) {
    if (stopped()) return { outcome: 'interrupted', ms: elapsed() };
    const left = budgetMs - elapsed();
    const replaysLeft = DEFAULT_MAX_REPLAYS - (stats?.replays ?? 0);
    if (stats && (left <= 0 || replaysLeft <= 0)) return { outcome: 'budget', stats: { ...stats, ms: elapsed(), exhausted: true } };
    const m = minimize(target, repro, entry.signature, { timeMs: Math.max(1, Math.min(SLICE_MS, left)), maxReplays: replaysLeft });
    repro = m.repro;
    const s = m.stats;
    stats = { before: stats?.before ?? s.before, after: s.after, replays: (stats?.replays ?? 0) + s.replays, ms: elapsed(), rounds: (stats?.rounds ?? 0) + s.rounds, exhausted: s.exhausted };
    if (!s.exhausted) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const { result } = replayExecution(target, repro.program, repro.faults, repro.schedule, { events: true });
  const minimized = { program: repro.program, faults: repro.faults, schedule: repro.schedule, stats: { ...stats } };
  return { outcome: 'minimized', entry: { ...entry, minimized, minimizePending: false, ladder: renderLadder(result.events ?? [], repro.program.cpus.length, { start: repro.program.start }) }, stats };
}
