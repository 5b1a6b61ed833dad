// Which execution index i of a guided campaign runs: drawn from its own stream
// (execRng(seed, i, 'guide')), either a fresh random execution (exactly the unguided one, runIndex)
// or a mutation of an entry of the queue as it stood at the start of i's epoch. A plan is plain
// data: the program, the faults and either a schedule to replay or none (the campaign's strategy
// then draws one from i's 'schedule' stream, as for a fresh execution).

import type { ExecOptions, Execution } from '../engine/inline/inline.js';
import { campaignFaults, executeAt, FAULT_MAX_NTH, programFor, replayExecution, type CampaignConfig } from '../engine/runner.js';
import { execRng, type Rng } from '../rng.js';
import { keepsShape, type Target } from '../target.js';
import type { Fault, Program, Schedule } from '../types.js';
import type { QueueEntry } from './entry.js';
import { changeArg, dropOp, insertOp, splice } from './mutate-program.js';
import { mutatePreemptions, mutateReadsFrom } from './mutate-schedule.js';

/** The share of a guided campaign's executions that stay fresh random ones. */
export const FRESH_SHARE = 0.3;
/** Half of the mutations take one of the newest entries, as AFL fuzzes what it just queued. */
export const RECENT_SHARE = 0.5;
export const RECENT_ENTRIES = 32;

export interface Plan {
  /** 'fresh', or the mutator that made it. */
  source: string;
  program: Program;
  faults: Fault[];
  /** Replay this canonical schedule; absent: the strategy draws a new one. */
  schedule?: Schedule;
}

export interface MutateContext {
  target: Target;
  rng: Rng;
  entry: QueueEntry;
  queue: readonly QueueEntry[];
  faults: boolean;
}

type Mutation = Omit<Plan, 'source'>;

interface Mutator {
  name: string;
  weight: number;
  apply(m: MutateContext): Mutation | undefined;
}

const same = (e: QueueEntry): Mutation => ({ program: e.program, faults: e.faults, schedule: e.schedule });

export const MUTATORS: readonly Mutator[] = [
  { name: 'reschedule', weight: 6, apply: ({ entry }) => ({ program: entry.program, faults: entry.faults }) },
  { name: 'splice', weight: 2, apply: ({ rng, entry, queue }) => ({ program: splice(rng, entry.program, rng.pick(queue).program), faults: entry.faults }) },
  {
    name: 'insert', weight: 2,
    apply: ({ target, rng, entry }) => {
      const program = insertOp(target, rng, entry.program);
      return program && { ...same(entry), program };
    },
  },
  {
    name: 'drop', weight: 1,
    apply: ({ rng, entry }) => {
      const d = dropOp(rng, entry.program, entry.schedule);
      return d && { ...same(entry), ...d };
    },
  },
  {
    name: 'arg', weight: 2,
    apply: ({ target, rng, entry }) => {
      const program = changeArg(target, rng, entry.program);
      return program && { ...same(entry), program };
    },
  },
  {
    name: 'preempt', weight: 3,
    apply: ({ rng, entry }) => ({ ...same(entry), schedule: mutatePreemptions(rng, entry.schedule, entry.program.cpus.length, entry.steps) }),
  },
  {
    name: 'reads-from', weight: 3,
    apply: ({ rng, entry }) => {
      const schedule = mutateReadsFrom(rng, entry.schedule, entry.rf ?? []);
      return schedule && { ...same(entry), schedule };
    },
  },
  {
    name: 'fault', weight: 1,
    apply: ({ target, rng, entry, faults }) => {
      if (!faults || target.faultCalls.length === 0) return undefined;
      const f = entry.faults.length > 0 && rng.next() < 0.5 ? [] : [{ call: rng.pick(target.faultCalls), nth: 1 + rng.int(FAULT_MAX_NTH) }];
      return { ...same(entry), faults: f };
    },
  },
];

/** The mutators that change the program itself. */
const PROGRAM_MUTATORS: ReadonlySet<string> = new Set(['splice', 'insert', 'drop', 'arg']);

const TOTAL_WEIGHT = MUTATORS.reduce((n, m) => n + m.weight, 0);

function pickMutator(rng: Rng): Mutator {
  let x = rng.next() * TOTAL_WEIGHT;
  for (const m of MUTATORS) if ((x -= m.weight) < 0) return m;
  return MUTATORS[MUTATORS.length - 1]!;
}

export function freshPlan(target: Target, cfg: CampaignConfig, index: number): Plan {
  return { source: 'fresh', program: programFor(target, cfg.seed, index), faults: campaignFaults(target, cfg, index) };
}

export function planFor(target: Target, cfg: CampaignConfig, index: number, queue: readonly QueueEntry[]): Plan {
  const rng = execRng(cfg.seed, index, 'guide');
  if (queue.length === 0 || rng.next() < FRESH_SHARE) return freshPlan(target, cfg, index);
  const entry = rng.next() < RECENT_SHARE ? rng.pick(queue.slice(-RECENT_ENTRIES)) : rng.pick(queue);
  const m = pickMutator(rng);
  const ctx: MutateContext = { target, rng, entry, queue, faults: cfg.faults !== false };
  // A fixed program is the test: only the schedule and faults are mutated.
  const out = keepsShape(target) && PROGRAM_MUTATORS.has(m.name) ? undefined : m.apply(ctx);
  return out ? { source: m.name, ...out } : { source: 'reschedule', program: entry.program, faults: entry.faults };
}

/** Run a plan: a fresh plan runs exactly as runIndex does. */
export function runPlan(target: Target, cfg: CampaignConfig, index: number, plan: Plan, opts: ExecOptions = {}): Execution {
  if (plan.schedule) return replayExecution(target, plan.program, plan.faults, plan.schedule, { maxSteps: cfg.maxSteps, ...opts });
  return executeAt(target, cfg, index, plan.program, plan.faults, opts);
}
