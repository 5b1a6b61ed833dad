// The same mdev-v5.0 model driven by fast-check's fc.scheduler() (issue 8 item 2), against ours
// (the default strategy on the time-to-bug path): for the five seed problems over the same seeds and budget,
// runs and milliseconds to the first failure; then the size of fast-check's shrunk counterexample
// against our minimized repro of the same first finds.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { defaultWorkers } from '../harness/engine/campaign.js';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import { findTarget } from '../targets/index.js';
import { num, paragraph, quantile, seedProblems, summarize, writeResult, type Benchmark, type BenchOptions } from './common.js';
import { DEFAULT_BUDGET, DEFAULT_SEEDS } from './time-to-bug.js';
import type { HuntResult, HuntTask } from './time-to-bug-worker.js';
import type { MinimizeResult, ShrinkResult, Size, VsTask } from './vs-fast-check-worker.js';
import { DEFAULT_STRATEGY } from '../harness/sched/index.js';

const TARGET = 'mdev-v5.0';
/** Our minimizer's replay budget per repro here (`mdevfuzz minimize` allows 5,000). */
const MINIMIZE_REPLAYS = 2_000;

type Side = 'fast-check' | 'ours';

async function run(opts: BenchOptions): Promise<void> {
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const target = findTarget(TARGET)!;
  const problems = seedProblems(target);
  const titles = problems.map((p) => p.title);
  const workers = Math.min(defaultWorkers(), seeds * 2);
  console.log(`vs-fast-check: ${TARGET}, ${seeds} seeds, budget ${num(budget)} runs, fast-check fc.scheduler() vs ours (${DEFAULT_STRATEGY}), ${workers} worker threads\n`);

  const pool = new Piscina({ filename: fileURLToPath(new URL('./vs-fast-check-worker.js', import.meta.url)), minThreads: workers, maxThreads: workers });
  const t0 = performance.now();
  const ours = (k: number): HuntTask => ({ target: TARGET, cfg: { seed: `ttb-${k}`, strategy: DEFAULT_STRATEGY, depth: 3 }, titles, budget });
  const task = <T>(t: VsTask): Promise<T> => pool.run(t) as Promise<T>;
  const progress = (what: string) => {
    let done = 0;
    return () => process.stderr.isTTY && process.stderr.write(`\r  ${what}: ${++done}, ${formatDuration(performance.now() - t0)} `);
  };

  // 1. Hunts: seed k of fast-check is the integer k; ours is the time-to-bug campaign 'ttb-k'.
  const tick = progress('hunts');
  const hunts: Record<Side, HuntResult[]> = { 'fast-check': [], ours: [] };
  await Promise.all(
    Array.from({ length: seeds }, (_, k) => [
      task<HuntResult>({ kind: 'fc-hunt', target: TARGET, seed: k, titles, budget }).then((r) => ((hunts['fast-check'][k] = r), tick())),
      task<HuntResult>({ kind: 'ours-hunt', hunt: ours(k) }).then((r) => ((hunts.ours[k] = r), tick())),
    ]).flat(),
  );
  const huntMs = performance.now() - t0;

  // 2. Every first find shrunk by fast-check, minimized by us.
  const tock = progress('shrinks and minimizations');
  const shrunk: (ShrinkResult | null)[][] = problems.map(() => []);
  const minimized: (MinimizeResult | null)[][] = problems.map(() => []);
  const jobs: Promise<unknown>[] = [];
  for (let k = 0; k < seeds; k++) {
    for (const [w, p] of problems.entries()) {
      const fcFirst = hunts['fast-check'][k]!.found[w];
      shrunk[w]![k] = null;
      if (fcFirst) jobs.push(task<ShrinkResult>({ kind: 'fc-shrink', target: TARGET, seed: k, title: p.title, run: fcFirst.execs }).then((r) => ((shrunk[w]![k] = r), tock())));
      const ourFirst = hunts.ours[k]!.found[w];
      minimized[w]![k] = null;
      if (ourFirst) jobs.push(task<MinimizeResult>({ kind: 'ours-minimize', hunt: ours(k), title: p.title, execs: ourFirst.execs, maxReplays: MINIMIZE_REPLAYS }).then((r) => ((minimized[w]![k] = r), tock())));
    }
  }
  await Promise.all(jobs);
  await pool.destroy();
  const wallMs = performance.now() - t0;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

  const found = problems.map((p, w) => {
    const side = (s: Side) => {
      const firsts = hunts[s].map((r) => r.found[w] ?? null);
      return { runs: summarize(firsts.map((f) => f?.execs ?? null)), ms: summarize(firsts.map((f) => (f ? Math.round(f.ms) : null))) };
    };
    return { problem: p.id, title: p.title, fastCheck: side('fast-check'), ours: side('ours') };
  });
  const ex = (n: number): string => (n === Infinity ? `>${num(budget)}` : num(n));
  const ms = (n: number): string => (n === Infinity ? '-' : formatDuration(n));
  const cells = (s: (typeof found)[number]['ours']) => [ex(s.runs.median), ex(s.runs.p90), ex(s.runs.max), ms(s.ms.median), ms(s.ms.p90), `${s.runs.misses}/${seeds}`];
  console.log(
    formatTable(
      ['problem', 'engine', 'median runs', 'p90 runs', 'max runs', 'median ms', 'p90 ms', 'misses'].map((header, i) => ({ header, right: i > 1 })),
      found.flatMap((f) => [
        [f.problem, 'fast-check', ...cells(f.fastCheck)],
        ['', `ours ${DEFAULT_STRATEGY}`, ...cells(f.ours)],
      ]),
    ),
  );
  console.log('\n' + problems.map((p) => `  ${p.id}  ${p.title}`).join('\n'));

  const median = (xs: number[]): number => (xs.length === 0 ? NaN : quantile([...xs].sort((a, b) => a - b), 0.5));
  const sizeOf = (xs: Size[]) => ({ n: xs.length, cpus: median(xs.map((x) => x.cpus)), ops: median(xs.map((x) => x.ops)), steps: median(xs.map((x) => x.steps)), preemptions: median(xs.map((x) => x.preemptions)) });
  const sizes = problems.map((p, w) => {
    const fcs = shrunk[w]!.filter((x): x is ShrinkResult => x !== null);
    const ourM = minimized[w]!.filter((x): x is MinimizeResult => x !== null);
    return {
      problem: p.id,
      fastCheck: { ...sizeOf(fcs.map((x) => x.size)), shrinks: median(fcs.map((x) => x.shrinks)), replays: median(fcs.map((x) => x.replays)), decisions: median(fcs.map((x) => x.decisions)), ms: median(fcs.map((x) => x.ms)), reproduced: fcs.filter((x) => x.reproduced).length },
      ours: { ...sizeOf(ourM.map((x) => x.size)), before: sizeOf(ourM.map((x) => x.before)), replays: median(ourM.map((x) => x.replays)), ms: median(ourM.map((x) => x.ms)) },
    };
  });
  const sz = (n: number, d = 0): string => (Number.isNaN(n) ? '-' : num(n, d));
  console.log(
    '\n' +
      formatTable(
        ['problem', 'engine', 'repros', 'cpus', 'ops', 'steps', 'preemptions', 'replays', 'ms', 'fc shrinks', 'fc decisions'].map((header, i) => ({ header, right: i > 1 })),
        sizes.flatMap((s) => [
          [s.problem, 'fast-check shrunk', `${s.fastCheck.n}`, sz(s.fastCheck.cpus), sz(s.fastCheck.ops), sz(s.fastCheck.steps), sz(s.fastCheck.preemptions), sz(s.fastCheck.replays), sz(s.fastCheck.ms), sz(s.fastCheck.shrinks), sz(s.fastCheck.decisions)],
          ['', 'ours minimized', `${s.ours.n}`, sz(s.ours.cpus), sz(s.ours.ops), sz(s.ours.steps), sz(s.ours.preemptions), sz(s.ours.replays), sz(s.ours.ms), '', ''],
        ]),
      ),
  );
  const rate = (s: Side) => {
    const runs = hunts[s].reduce((n, r) => n + r.execs, 0);
    return { runs, perS: (runs / hunts[s].reduce((n, r) => n + r.ms, 0)) * 1000, allFound: hunts[s].filter((r) => r.found.every((f) => f !== null)).length };
  };
  const rates = { fastCheck: rate('fast-check'), ours: rate('ours') };
  console.log(
    '\n' +
      formatTable(
        ['engine', 'runs', 'runs/s per worker', `seeds finding all ${problems.length}`].map((header, i) => ({ header, right: i > 0 })),
        [
          ['fast-check', num(rates.fastCheck.runs), num(rates.fastCheck.perS), `${rates.fastCheck.allFound}/${seeds}`],
          [`ours ${DEFAULT_STRATEGY}`, num(rates.ours.runs), num(rates.ours.perS), `${rates.ours.allFound}/${seeds}`],
        ],
      ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: fast-check runs fc.asyncProperty(fc.scheduler(), program, ...) over the same model (bench/fast-check-adapter.ts): ` +
          `each CPU an async task, each preemption point a promise given to s.schedule, s.waitAll() picking uniformly among the pending CPUs; ` +
          `a CPU blocked on a lock stays out of the scheduler until its wait is satisfied. Its programs come from fc arbitraries over the ` +
          `target's operation domains and weights (2-4 CPUs, 2-5 operations; no fault injection, no "consumer after producer" bias). ` +
          `"runs" is the 1-based run (fast-check) or execution (ours) of the first failure of the property "no execution shows this title"; ` +
          `fast-check seed k is the integer k, ours is campaign 'ttb-k' of time-to-bug. One fast-check pass per seed records the first run of ` +
          `every title: fast-check generates run i from the seed and i alone, so that is where fc.check of each property fails. ` +
          `Sizes are medians over the first finds: fast-check's counterexample after its own shrinking (it shrinks the program; ` +
          `fc.scheduler() does not shrink), replayed with a clone of its scheduler to count CPU steps and preemptions (a step on another CPU ` +
          `than the one our default would keep running); ours is the same first find minimized by harness/minimize (at most ` +
          `${num(MINIMIZE_REPLAYS)} replays). "replays" and "ms" are what shrinking (fast-check: every run from the failing ` +
          `one on) or minimizing took; "fc shrinks" is fast-check's "Shrunk N time(s)"; "fc decisions" the scheduled promises ` +
          `it released in the counterexample's run. Hunts took ` +
          `${formatDuration(huntMs)}, the whole benchmark ${formatDuration(wallMs)}.`,
      ),
  );
  const figures = { config: { target: TARGET, seeds, budget, workers, minimizeReplays: MINIMIZE_REPLAYS, fastCheckSeeds: `0..${seeds - 1}`, oursSeeds: `ttb-0..ttb-${seeds - 1}` }, wallMs: Math.round(wallMs), huntMs: Math.round(huntMs), found, sizes, rates };
  console.log(`\nwrote ${writeResult('vs-fast-check', figures)}`);
}

export const vsFastCheck: Benchmark = {
  name: 'vs-fast-check',
  description: "runs to the first failure of P1-P5 under fast-check's fc.scheduler() vs ours, and shrunk vs minimized size",
  run,
};
