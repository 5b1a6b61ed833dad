// Time to the first find of each of the five seed problems on mdev-v5.0 (issue 8 item 1): for K
// seeds and each strategy (random walk, PCT and conflict PCT at depths 2 and 3, POS, SURW, race),
// executions and milliseconds from index 0 until the problem's title first appears, or a miss when
// the budget runs out.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { defaultWorkers } from '../harness/engine/campaign.js';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import type { StrategyName } from '../harness/sched/index.js';
import { findTarget } from '../targets/index.js';
import { num, paragraph, seedProblems, summarize, writeResult, type Benchmark, type BenchOptions, type Summary } from './common.js';
import type { HuntResult, HuntTask } from './time-to-bug-worker.js';
import { SCTBENCH } from './sctbench/index.js';

const TARGET = 'mdev-v5.0';
/**
 * With P2 and P5 rare, most campaigns spend the whole budget, and the profiled strategies cost 1.2-4x
 * an execution of the random walk: eight strategies x 10 seeds x 3,000 keep the default run near
 * 15 minutes on a busy 2-core machine; `--seeds 10 --budget 10000` took 43m43s at load average 5-13.
 */
export const DEFAULT_SEEDS = 10;
export const DEFAULT_BUDGET = 3_000;

const STRATEGIES: { label: string; strategy: StrategyName; depth: number }[] = [
  { label: 'random', strategy: 'random', depth: 1 },
  { label: 'pct d=2', strategy: 'pct', depth: 2 },
  { label: 'pct d=3', strategy: 'pct', depth: 3 },
  { label: 'cpct d=2', strategy: 'cpct', depth: 2 },
  { label: 'cpct d=3', strategy: 'cpct', depth: 3 },
  { label: 'pos', strategy: 'pos', depth: 0 },
  { label: 'surw', strategy: 'surw', depth: 0 },
  { label: 'race', strategy: 'race', depth: 0 },
];

interface Stat {
  problem: string;
  title: string;
  strategy: string;
  found: number;
  misses: number;
  execs: Summary;
  ms: Summary;
}

async function run(opts: BenchOptions): Promise<void> {
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const target = findTarget(TARGET)!;
  const problems = seedProblems(target);
  const titles = problems.map((p) => p.title);
  const workers = Math.min(defaultWorkers(), seeds * STRATEGIES.length);
  console.log(`time-to-bug: ${TARGET}, ${seeds} seeds x ${STRATEGIES.length} strategies, budget ${num(budget)} executions, ${workers} worker threads\n`);

  const pool = new Piscina({ filename: fileURLToPath(new URL('./time-to-bug-worker.js', import.meta.url)), minThreads: workers, maxThreads: workers });
  const t0 = performance.now();
  let done = 0;
  // Queued seed by seed, so that every strategy runs through the same stretches of machine load.
  const results: HuntResult[][] = STRATEGIES.map(() => []);
  const jobs: Promise<void>[] = [];
  for (let k = 0; k < seeds; k++) {
    for (const [s, strat] of STRATEGIES.entries()) {
      const task: HuntTask = { target: TARGET, cfg: { seed: `ttb-${k}`, strategy: strat.strategy, depth: strat.depth }, titles, budget };
      jobs.push(
        (pool.run(task) as Promise<HuntResult>).then((r) => {
          results[s]![k] = r;
          if (process.stderr.isTTY) process.stderr.write(`\r  ${++done}/${seeds * STRATEGIES.length} campaigns, ${formatDuration(performance.now() - t0)} `);
        }),
      );
    }
  }
  await Promise.all(jobs);
  const ports = await huntPorts(pool, seeds, budget);
  await pool.destroy();
  const wallMs = performance.now() - t0;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

  const stats: Stat[] = [];
  for (const [w, p] of problems.entries()) {
    for (const [s, strat] of STRATEGIES.entries()) {
      const firsts = results[s]!.map((r) => r.found[w] ?? null);
      const found = firsts.filter((f) => f !== null).length;
      stats.push({
        problem: p.id,
        title: p.title,
        strategy: strat.label,
        found,
        misses: seeds - found,
        execs: summarize(firsts.map((f) => f?.execs ?? null)),
        ms: summarize(firsts.map((f) => (f ? Math.round(f.ms) : null))),
      });
    }
  }

  const ex = (n: number): string => (n === Infinity ? `>${num(budget)}` : num(n));
  const ms = (n: number): string => (n === Infinity ? '-' : formatDuration(n));
  console.log(
    formatTable(
      ['problem', 'strategy', 'median execs', 'p90 execs', 'max execs', 'median ms', 'p90 ms', 'max ms', 'misses'].map((header, i) => ({ header, right: i > 1 })),
      stats.map((st) => [st.problem, st.strategy, ex(st.execs.median), ex(st.execs.p90), ex(st.execs.max), ms(st.ms.median), ms(st.ms.p90), ms(st.ms.max), `${st.misses}/${seeds}`]),
    ),
  );
  console.log('\n' + problems.map((p) => `  ${p.id}  ${p.title}`).join('\n'));

  const rates = STRATEGIES.map((s, i) => {
    const execs = results[i]!.reduce((n, r) => n + r.execs, 0);
    const ms = results[i]!.reduce((n, r) => n + r.ms, 0);
    return { strategy: s.label, execs, execPerS: (execs / ms) * 1000, allFound: results[i]!.filter((r) => r.found.every((f) => f !== null)).length };
  });
  console.log(
    '\n' +
      formatTable(
        ['strategy', 'executions run', 'exec/s per worker', `seeds finding all ${problems.length}`].map((header, i) => ({ header, right: i > 0 })),
        rates.map((r) => [r.strategy, num(r.execs), num(r.execPerS), `${r.allFound}/${seeds}`]),
      ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: for each seed, a campaign runs indices 0, 1, 2, ... of that seed inline until all ${problems.length} titles ` +
          `have appeared or ${num(budget)} executions are spent; "execs" is the 1-based index of the first execution whose ` +
          `findings carry the problem's exact title, "ms" the time from the campaign's start to it on one worker thread ` +
          `(${workers} campaigns run at once, so ms are noisier than execs). Every strategy sees the same programs for the ` +
          `same seed and index; only the schedules differ. Median, p90 and max are nearest-rank over the ${seeds} seeds with ` +
          `a miss counted as infinite, so ">${num(budget)}" means that quantile is a miss. Every strategy but random runs ` +
          `the program's two profiling runs first (harness/engine/profile-run.ts); they are in its ms, not in its execs. ` +
          `Wall time ${formatDuration(wallMs)}.`,
      ),
  );
  printPorts(ports, seeds, budget);
  console.log(`\nwrote ${writeResult('time-to-bug', { config: { target: TARGET, seeds, budget, workers, seedNames: `ttb-0..ttb-${seeds - 1}` }, wallMs: Math.round(wallMs), stats, rates, sctbench: ports })}`);
}

interface PortStat {
  port: string;
  strategy: string;
  misses: number;
  execs: Summary;
}

/** The SCTBench ports (bench/sctbench): executions to the assert, per strategy, over the same seeds. */
async function huntPorts(pool: Piscina, seeds: number, budget: number): Promise<PortStat[]> {
  const jobs = SCTBENCH.flatMap(({ target, bug }) =>
    STRATEGIES.map(async (strat) => {
      const runs = await Promise.all(
        Array.from({ length: seeds }, (_, k) => {
          const task: HuntTask = { target: target.name, cfg: { seed: `ttb-${k}`, strategy: strat.strategy, depth: strat.depth, faults: false }, titles: [bug], budget };
          return pool.run(task) as Promise<HuntResult>;
        }),
      );
      const firsts = runs.map((r) => r.found[0]?.execs ?? null);
      return { port: target.name, strategy: strat.label, misses: firsts.filter((f) => f === null).length, execs: summarize(firsts) };
    }),
  );
  return Promise.all(jobs);
}

function printPorts(ports: PortStat[], seeds: number, budget: number): void {
  const names = [...new Set(ports.map((p) => p.port))];
  const cell = (p: PortStat): string => `${p.execs.median === Infinity ? `>${num(budget)}` : num(p.execs.median)}${p.misses > 0 ? ` (${p.misses} missed)` : ''}`;
  console.log(`\nSCTBench ports (bench/sctbench), ${seeds} seeds: median executions to the assert\n`);
  console.log(
    formatTable(
      ['program', ...STRATEGIES.map((s) => s.label)].map((header, i) => ({ header, right: i > 0 })),
      names.map((name) => [name, ...STRATEGIES.map((s) => cell(ports.find((p) => p.port === name && p.strategy === s.label)!))]),
    ),
  );
  console.log(
    '\n' +
      paragraph(
        'How to read this: each port is one fixed program (reorder_N: N-1 setters and a checker; twostage: one funcA and ' +
          'one funcB; twostage_16: 15 funcA and one funcB, twostage_100 cut to the 16-CPU limit); every shared access is a ' +
          'preemption point and the threads start together (no main thread). For comparison, on these programs SURW ' +
          '(Zhao et al., ASPLOS 2025) reports medians of 4-272 runs and RFF (Wolff et al., ASPLOS 2024) 5-32, finding them in ' +
          '20 of 20 trials, where PCT d=3 needs 100-15,000 runs or misses (figures as summarized in issue 14).',
      ),
  );
}

export const timeToBug: Benchmark = {
  name: 'time-to-bug',
  description: 'executions and ms to the first find of P1-P5 on mdev-v5.0 and of the SCTBench ports, random, PCT and conflict PCT d=2,3, POS, SURW, race',
  run,
};
