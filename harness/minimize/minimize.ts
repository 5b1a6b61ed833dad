// The staged minimizer (design.md section 9): the stages of stages.ts in turn, round after round,
// until a round changes nothing or the budget is spent. Every candidate is replayed exactly and
// kept only if its findings still hold the signature, so each intermediate repro reproduces.

import { keepsShape, type OpSpec, type Target } from '../target.js';
import type { Schedule } from '../types.js';
import { hasSignature, opSpans, replayExecutor, reproSize, type Repro, type ReproExecutor, type ReproSize } from './executor.js';
import { FIXED_PROGRAM_STAGES, STAGES, type Stage, type StageContext } from './stages.js';

export const DEFAULT_MAX_REPLAYS = 5000;
export const DEFAULT_TIME_MS = 60_000;

export interface MinimizeOptions {
  /** Most replays, all stages together (one more checks the result). The deterministic budget. */
  maxReplays?: number;
  /** A safety net: when the clock cuts a run short, how far it got depends on the machine. */
  timeMs?: number;
  stages?: readonly Stage[];
  /** Milliseconds; injectable for tests. */
  clock?: () => number;
}

export interface StageStats {
  name: string;
  replays: number;
  ms: number;
  /** Rounds in which the stage made the repro smaller. */
  shrank: number;
}

export interface MinimizeStats {
  before: ReproSize;
  after: ReproSize;
  replays: number;
  elapsedMs: number;
  rounds: number;
  /** The budget ran out before a fixed point. */
  exhausted: boolean;
  stages: StageStats[];
}

export interface Minimized {
  repro: Repro;
  stats: MinimizeStats;
}

/** A target with a fixed program (or threads) keeps its shape: FIXED_PROGRAM_STAGES unless the options name stages. */
export function minimize(target: Target, repro: Repro, signature: string, opts: MinimizeOptions & { maxSteps?: number; executor?: ReproExecutor } = {}): Minimized {
  const stages = opts.stages ?? (keepsShape(target) ? FIXED_PROGRAM_STAGES : STAGES);
  return minimizeWith(opts.executor ?? replayExecutor(target, { maxSteps: opts.maxSteps }), target.ops, repro, signature, { ...opts, stages });
}

interface Outcome {
  kept: boolean;
  schedule: Schedule;
  steps: number;
}

export function minimizeWith(executor: ReproExecutor, specs: readonly OpSpec[], repro: Repro, signature: string, opts: MinimizeOptions = {}): Minimized {
  const clock = opts.clock ?? (() => performance.now());
  const stages = opts.stages ?? STAGES;
  const maxReplays = opts.maxReplays ?? DEFAULT_MAX_REPLAYS;
  const t0 = clock();
  const deadline = t0 + (opts.timeMs ?? DEFAULT_TIME_MS);
  let replays = 0;
  let exhausted = false;
  const outcomes = new Map<string, Outcome>();
  const keyOf = (r: Repro): string => JSON.stringify([r.program, r.faults, r.schedule]);
  const spent = (): boolean => (exhausted ||= replays >= maxReplays || clock() >= deadline);

  const replay = (r: Repro, events = false) => {
    replays++;
    const result = executor.run(r, { events });
    outcomes.set(keyOf(r), { kept: hasSignature(result, signature), schedule: result.schedule, steps: result.steps });
    return result;
  };
  const outcome = (r: Repro): Outcome => outcomes.get(keyOf(r)) ?? (replay(r), outcomes.get(keyOf(r))!);

  const ctx: StageContext = {
    specs,
    keeps: (candidate) => outcomes.get(keyOf(candidate))?.kept ?? (!spent() && outcome(candidate).kept),
    canonical: (r) => {
      const known = outcome(r);
      const c = { ...r, schedule: known.schedule };
      if (!outcomes.has(keyOf(c))) outcomes.set(keyOf(c), known); // the same choices, so the same run
      return c;
    },
    spans: (r) => (spent() ? undefined : opSpans(replay(r, true), r.program)),
    budget: () => Math.max(0, maxReplays - replays),
  };

  const first = outcome(repro);
  if (!first.kept) throw new Error(`the repro does not show "${signature}" on replay`);
  const before = reproSize(repro, first.steps);
  const stageStats: StageStats[] = stages.map((s) => ({ name: s.name, replays: 0, ms: 0, shrank: 0 }));
  let current = repro;
  let rounds = 0;
  for (let changed = true; changed && !exhausted; ) {
    changed = false;
    rounds++;
    stages.forEach((stage, i) => {
      if (exhausted) return;
      const [r0, t] = [replays, clock()];
      const next = stage(current, ctx);
      const s = stageStats[i]!;
      s.replays += replays - r0;
      s.ms += clock() - t;
      if (next) {
        current = next;
        changed = true;
        s.shrank++;
      }
    });
  }

  replay(current); // not from the cache: the result must replay on its own
  const last = outcomes.get(keyOf(current))!;
  if (!last.kept) throw new Error(`the minimized repro no longer shows "${signature}": the replay is not deterministic`);
  for (const s of stageStats) s.ms = Math.round(s.ms);
  const stats = { before, after: reproSize(current, last.steps), replays, elapsedMs: Math.round(clock() - t0), rounds, exhausted, stages: stageStats };
  return { repro: current, stats };
}
