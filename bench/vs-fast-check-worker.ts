// The Piscina tasks of vs-fast-check, one seed each: fast-check's hunt for the five titles, its
// shrinking of one counterexample, and the minimization of our own first find.

import fc from 'fast-check';
import { runIndex } from '../harness/engine/runner.js';
import { minimize } from '../harness/minimize/minimize.js';
import type { Program } from '../harness/types.js';
import { findTarget } from '../targets/index.js';
import { noProblem, programArbitrary, runScheduled } from './fast-check-adapter.js';
import { hunt, type HuntResult, type HuntTask } from './time-to-bug-worker.js';

export type VsTask =
  | { kind: 'fc-hunt'; target: string; seed: number; titles: string[]; budget: number }
  | { kind: 'fc-shrink'; target: string; seed: number; title: string; run: number }
  | { kind: 'ours-hunt'; hunt: HuntTask }
  | { kind: 'ours-minimize'; hunt: HuntTask; title: string; execs: number; maxReplays: number };

export interface Size {
  cpus: number;
  ops: number;
  steps: number;
  preemptions: number;
}

export interface ShrinkResult {
  reproduced: boolean;
  /** Successful shrinks, and every run fast-check made from the failing one on (failing run included). */
  shrinks: number;
  replays: number;
  ms: number;
  size: Size;
  /** fast-check's scheduled promises released in the counterexample's run. */
  decisions: number;
  program: Program;
}

export interface MinimizeResult {
  ms: number;
  replays: number;
  before: Size;
  size: Size;
}

const target = (name: string) => findTarget(name) ?? (() => { throw new Error(`unknown target ${name}`); })();

/**
 * One fast-check pass over runs 1..budget of a seed, recording where each title first appears. The
 * values fast-check generates for run i depend on the seed and i alone, so the first run showing a
 * title is where `fc.check(noProblem(title), { seed })` fails first. It stops once all are found.
 */
async function fcHunt(t: Extract<VsTask, { kind: 'fc-hunt' }>): Promise<HuntResult> {
  const tg = target(t.target);
  const found: HuntResult['found'] = t.titles.map(() => null);
  let missing = t.titles.length;
  let runs = 0;
  const t0 = performance.now();
  const all = new Error('all found');
  const pass = fc.asyncProperty(fc.scheduler(), programArbitrary(tg), async (s, program) => {
    runs++;
    const run = await runScheduled(tg, s, program);
    for (const f of run.findings) {
      const w = t.titles.indexOf(f.title);
      if (w >= 0 && found[w] === null) {
        found[w] = { execs: runs, ms: performance.now() - t0 };
        missing--;
      }
    }
    if (missing === 0) throw all;
  });
  const r = await fc.check(pass, { seed: t.seed, numRuns: t.budget, endOnFailure: true });
  if (r.failed && r.errorInstance !== all) throw new Error(`fast-check pass failed: ${String(r.errorInstance)}`);
  return { found, execs: runs, ms: performance.now() - t0 };
}

/** fast-check's own shrinking, started at the failing run (path) so that runs before it are not redone. */
async function fcShrink(t: Extract<VsTask, { kind: 'fc-shrink' }>): Promise<ShrinkResult> {
  const tg = target(t.target);
  const t0 = performance.now();
  let replays = 0;
  const r = await fc.check(noProblem(tg, t.title, () => replays++), { seed: t.seed, path: String(t.run - 1), numRuns: 1 });
  const ms = performance.now() - t0;
  if (!r.failed || !r.counterexample) throw new Error(`fast-check seed ${t.seed} run ${t.run} does not fail for ${t.title}`);
  const [s, program] = r.counterexample;
  // Replay the counterexample with a fresh copy of its scheduler (same choices) to measure it.
  const again = await runScheduled(tg, (s as unknown as { [fc.cloneMethod](): fc.Scheduler })[fc.cloneMethod](), program);
  return {
    reproduced: again.findings.some((f) => f.title === t.title),
    shrinks: r.numShrinks,
    replays,
    ms,
    size: { cpus: program.cpus.length, ops: program.cpus.reduce((n, ops) => n + ops.length, 0), steps: again.steps, preemptions: again.preemptions },
    decisions: again.decisions,
    program,
  };
}

/** Our first find of a title (PCT, the time-to-bug path), minimized as `mdevfuzz run` does. */
function oursMinimize(t: Extract<VsTask, { kind: 'ours-minimize' }>): MinimizeResult {
  const tg = target(t.hunt.target);
  const x = runIndex(tg, t.hunt.cfg, t.execs - 1);
  const m = minimize(tg, { program: x.program, faults: x.faults, schedule: x.result.schedule }, t.title, { maxReplays: t.maxReplays });
  const size = (s: typeof m.stats.after): Size => ({ cpus: s.cpus, ops: s.ops, steps: s.steps, preemptions: s.preemptions });
  return { ms: m.stats.elapsedMs, replays: m.stats.replays, before: size(m.stats.before), size: size(m.stats.after) };
}

export default async function run(task: VsTask): Promise<unknown> {
  switch (task.kind) {
    case 'fc-hunt':
      return fcHunt(task);
    case 'fc-shrink':
      return fcShrink(task);
    case 'ours-hunt':
      return hunt(task.hunt);
    case 'ours-minimize':
      return oursMinimize(task);
  }
}

// Warm fast-check and the adapter once per worker thread too (time-to-bug-worker warms our engine).
await fcHunt({ kind: 'fc-hunt', target: 'mdev-v5.0', seed: 987654, titles: [], budget: 200 }).catch(() => undefined);
