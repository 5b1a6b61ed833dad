// A batch of consecutive execution indices, run inline: the unit of work of every engine, and
// the task a pool worker runs. Its result keeps, per title, the first index that found it.
// Guided (cfg.guide 'coverage'), each index runs its plan over the queue the batch was given, and a
// finding first made by a mutated execution carries its repro, which (seed, index) alone cannot
// rebuild. With novelty on (always when guided), the result lists the executions that reached a
// coverage key no earlier execution of the batch had, with those keys: walked in index order
// over all batches, they give exactly the executions that reached a key never seen before.

import { CoverageCounter, type PackedCoverage } from '../coverage/coverage.js';
import type { QueueEntry } from '../guided/entry.js';
import { executionKeys, executionPairs, KEY_OPTIONS } from '../guided/keys.js';
import { entryPairs } from '../guided/reads-from.js';
import { freshPlan, planFor, runPlan } from '../guided/plan.js';
import type { Target } from '../target.js';
import type { Fault, FindingKind, Program, Schedule } from '../types.js';
import type { ExecOptions } from './inline/inline.js';
import { teardownMemo } from './inline/teardown-memo.js';
import type { CampaignConfig } from './runner.js';
import type { Heartbeat } from './heartbeat.js';

/** What replays an execution exactly: its program, faults and canonical schedule. */
export interface Repro {
  program: Program;
  faults: Fault[];
  schedule: Schedule;
}

export interface BatchFinding {
  title: string;
  kind: FindingKind;
  /** The first execution index in the batch that found it. */
  index: number;
  detail: string[];
  /** How many executions of the batch found it. */
  hits: number;
  /** What replays the execution at `index` (a mutation's, guided, which (seed, index) would not rebuild). */
  repro?: Repro;
  /** A watchdog's finding (stall, oom): the step of `index` its CPU never finished. */
  step?: number;
  /** ... when that step was one of a profiling run of `index` (profile-run.ts FORWARD, BACKWARD). */
  phase?: number;
}

/** An execution that reached coverage keys no earlier execution of its batch reached. */
export interface NovelExecution {
  index: number;
  /** Those keys (executionKeys), in the order the execution reached them. */
  keys: string[];
  /** Guided: the queue entry it would make. */
  entry?: QueueEntry;
}

export interface BatchResult {
  start: number;
  count: number;
  steps: number;
  findings: BatchFinding[];
  /** Labels, concurrent pairs and transitions reached, when the config asks for coverage. */
  coverage?: PackedCoverage;
  /** With novelty on, in index order. */
  novel?: NovelExecution[];
  /** Guided: executions of the batch that were mutations of queue entries. */
  mutated?: number;
}

/** A campaign's config as a batch sees it: plain data, passed to pool workers as is. */
export interface BatchConfig extends CampaignConfig {
  coverage?: boolean;
  /** List the executions that reached keys new to the batch (BatchResult.novel). */
  novelty?: boolean;
}

export function runBatch(target: Target, cfg: BatchConfig, start: number, count: number, queue: readonly QueueEntry[] = [], heartbeat?: Heartbeat): BatchResult {
  const byTitle = new Map<string, BatchFinding>();
  let steps = 0;
  const buffer = new SharedArrayBuffer(target.layout.words * 4);
  const guided = cfg.guide === 'coverage';
  const novelty = guided || cfg.novelty === true;
  const cov = cfg.coverage ? new CoverageCounter() : undefined;
  const opts: ExecOptions = { buffer, teardowns: teardownMemo(target) };
  if (heartbeat) opts.heartbeat = heartbeat;
  if (cov) Object.assign(opts, { labels: true, pairs: true, transitions: true });
  if (novelty) Object.assign(opts, KEY_OPTIONS);
  const seen = new Set<string>();
  const novel: NovelExecution[] = [];
  let mutated = 0;
  let ran = count;
  for (let i = start; i < start + count; i++) {
    if (heartbeat?.stopRequested()) {
      ran = i - start; // a stopping run keeps what ran
      break;
    }
    const plan = guided ? planFor(target, cfg, i, queue) : freshPlan(target, cfg, i);
    heartbeat?.begin(i);
    const execution = runPlan(target, cfg, i, plan, opts);
    const { result } = execution;
    steps += result.steps;
    if (plan.source !== 'fresh') mutated++;
    cov?.addExecution(result.labels ?? [], execution.pairs, execution.transitions, i);
    if (novelty) {
      const keys = executionKeys(execution).filter((k) => !seen.has(k));
      if (keys.length > 0) {
        for (const k of keys) seen.add(k);
        const n: NovelExecution = { index: i, keys };
        if (guided) {
          const rf = entryPairs(executionPairs(execution), new Set(keys.filter((k) => k.startsWith('rf:')).map((k) => k.slice(3))));
          n.entry = { index: i, program: plan.program, faults: plan.faults, schedule: result.schedule, steps: result.steps, ...(rf.length > 0 ? { rf } : {}) };
        }
        novel.push(n);
      }
    }
    for (const f of result.findings) {
      const seenTitle = byTitle.get(f.title);
      if (seenTitle) {
        seenTitle.hits++;
        continue;
      }
      const bf: BatchFinding = { title: f.title, kind: f.kind, index: i, detail: f.detail, hits: 1 };
      // Its schedule too, fresh or not: the main thread then replays it (to save it, to draw its ladder)
      // instead of running the strategy's profiling runs again.
      bf.repro = { program: plan.program, faults: plan.faults, schedule: result.schedule };
      byTitle.set(f.title, bf);
    }
  }
  heartbeat?.end();
  const out: BatchResult = { start, count: ran, steps, findings: [...byTitle.values()] };
  if (cov) out.coverage = cov.pack();
  if (novelty) out.novel = novel;
  if (guided) out.mutated = mutated;
  return out;
}
