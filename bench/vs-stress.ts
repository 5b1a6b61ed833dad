// Free-running real threads against the controlled engine (issue 8 item 3): the stress engine
// (harness/engine/stress/stress.ts, as `mdevfuzz stress` runs it) and the pool campaign (runCampaign,
// the default strategy, as `mdevfuzz run` runs it) each get the same time box on mdev-v5.0, one after the other in
// this run; for each seed problem, whether it was found within the box and how long it took.

import { defaultWorkers, runCampaign } from '../harness/engine/campaign.js';
import { confirmInline } from '../harness/engine/stress/stress-confirm.js';
import { defaultStressWorkers, runStress } from '../harness/engine/stress/stress.js';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import { findTarget } from '../targets/index.js';
import { num, paragraph, seedProblems, writeResult, type Benchmark, type BenchOptions } from './common.js';
import { DEFAULT_STRATEGY } from '../harness/sched/index.js';

const TARGET = 'mdev-v5.0';
const SEED = 'vs-stress';
export const DEFAULT_VS_STRESS_MS = 60_000;

interface Find {
  /** Milliseconds from the engine's start, execution index, and for stress whether inline replay confirmed it. */
  ms: number;
  index: number;
  confirmed: boolean;
}

interface EngineRun {
  engine: string;
  workers: string;
  executions: number;
  elapsedMs: number;
  found: (Find | null)[];
  /** Distinct titles found, seed problems or not. */
  titles: number;
}

async function stress(titles: string[], timeMs: number): Promise<EngineRun> {
  const target = findTarget(TARGET)!;
  const found: (Find | null)[] = titles.map(() => null);
  const all = new Set<string>();
  const t0 = performance.now();
  const workers = defaultStressWorkers();
  const totals = await runStress({ target: { name: TARGET }, seed: SEED, timeMs, workers }, (x) => {
    const ms = performance.now() - t0;
    for (const f of x.findings) {
      all.add(f.title);
      const w = titles.indexOf(f.title);
      if (w < 0 || found[w]?.confirmed) continue;
      // The find is the first sighting that inline replay confirms; until there is one, the first sighting.
      const confirmed = confirmInline(target, x, SEED).confirmed.has(f.title);
      if (found[w] === null || confirmed) found[w] = { ms, index: x.index, confirmed };
    }
  });
  return { engine: 'stress (free-running threads)', workers: `${workers} batch x 5 CPU threads`, executions: totals.executions, elapsedMs: totals.elapsedMs, found, titles: all.size };
}

async function controlled(titles: string[], timeMs: number): Promise<EngineRun> {
  const workers = defaultWorkers();
  const r = await runCampaign({ target: { name: TARGET }, seed: SEED, strategy: DEFAULT_STRATEGY, depth: 3, timeMs, workers });
  const found = titles.map((t) => {
    const f = r.findings.find((x) => x.title === t);
    return f ? { ms: f.timeToFindMs, index: f.index, confirmed: true } : null;
  });
  return { engine: `controlled (pool, ${DEFAULT_STRATEGY})`, workers: `${workers} worker threads`, executions: r.executions, elapsedMs: r.elapsedMs, found, titles: r.findings.length };
}

async function run(opts: BenchOptions): Promise<void> {
  const timeMs = opts.timeMs ?? DEFAULT_VS_STRESS_MS;
  const target = findTarget(TARGET)!;
  const problems = seedProblems(target);
  const titles = problems.map((p) => p.title);
  console.log(`vs-stress: ${TARGET}, seed '${SEED}', ${formatDuration(timeMs)} for each engine, one after the other\n`);
  const runs = [await stress(titles, timeMs), await controlled(titles, timeMs)];

  const cell = (f: Find | null): string => (f === null ? 'not found' : `${formatDuration(f.ms)} @${num(f.index)}${f.confirmed ? '' : ' (unconfirmed)'}`);
  console.log(
    formatTable(
      [{ header: 'problem' }, ...runs.map((r) => ({ header: r.engine, right: true }))],
      problems.map((p, w) => [p.id, ...runs.map((r) => cell(r.found[w]!))]),
    ),
  );
  console.log('\n' + problems.map((p) => `  ${p.id}  ${p.title}`).join('\n'));
  console.log(
    '\n' +
      formatTable(
        ['engine', 'workers', 'executions', 'exec/s', 'seed problems found', 'titles found'].map((header, i) => ({ header, right: i > 1 })),
        runs.map((r) => [r.engine, r.workers, num(r.executions), num((r.executions / r.elapsedMs) * 1000), `${r.found.filter((f) => f?.confirmed).length}/${problems.length}`, num(r.titles)]),
      ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: each cell is the time from the engine's start to the first execution that showed the problem's title, ` +
          `and that execution's index (the same seed gives both engines the same programs and faults at the same index). Stress runs ` +
          `each CPU free on its own worker thread, with seeded spins at preemption points; its first sighting of a seed problem is ` +
          `replayed inline in ticket order, and "(unconfirmed)" marks one that did not recur there and was never seen again in a way ` +
          `that did. The controlled engine's time is that of the batch that first found it (batches of 200), measured by runCampaign. ` +
          `Both used the machine's ${defaultWorkers()} cores in turn, never at once.`,
      ),
  );
  console.log(`\nwrote ${writeResult('vs-stress', { config: { target: TARGET, seed: SEED, timeMs }, problems, runs })}`);
}

export const vsStress: Benchmark = {
  name: 'vs-stress',
  description: 'P1-P5 found within a time box by free-running stress threads vs the controlled pool campaign',
  run,
};
