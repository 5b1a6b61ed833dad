// Coverage-guided against unguided search on mdev-v5.0 (issue 6 items 5-6), in one run over K
// seeds: executions and milliseconds to the first find of each seed problem P1-P5, and executions
// to reach 95% of the coverage keys of each family (labels, concurrent pairs, ...) that the union
// of both modes reached for that seed.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { defaultWorkers } from '../harness/engine/campaign.js';
import { GUIDE_MODES, type GuideMode } from '../harness/engine/runner.js';
import { EPOCH, QUEUE_CAP } from '../harness/guided/queue.js';
import { FRESH_SHARE } from '../harness/guided/plan.js';
import { FAMILY_NAMES, keyFamily } from '../harness/guided/keys.js';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import { declaredTransitions, transitionKey } from '../harness/coverage/transitions.js';
import { findTarget } from '../targets/index.js';
import { num, paragraph, quantile, seedProblems, summarize, writeResult, type Benchmark, type BenchOptions } from './common.js';
import type { GuidedResult, GuidedTask } from './guided-worker.js';

const TARGET = 'mdev-v5.0';
/** 8 seeds x 2 modes x 12,000 executions: about 2 minutes on 2 busy cores. */
const DEFAULT_SEEDS = 8;
const DEFAULT_BUDGET = 12_000;
const BATCH = 100;
const SHARE = 0.95;
const MODES: readonly GuideMode[] = [...GUIDE_MODES].reverse(); // coverage, then off
const label = (m: GuideMode): string => (m === 'coverage' ? 'guided' : 'unguided');

/** 1-based executions after which `mode` had reached `need` of the keys that `pick` accepts, or null. */
function execsToReach(r: GuidedResult, pick: string | ((key: string) => boolean), need: number): number | null {
  const accept = typeof pick === 'string' ? (key: string) => keyFamily(key) === pick : pick;
  const firsts = r.keys.filter((k) => accept(k.key)).map((k) => k.index).sort((a, b) => a - b);
  return need <= firsts.length ? firsts[need - 1]! + 1 : null;
}

async function run(opts: BenchOptions): Promise<void> {
  const seeds = opts.seeds ?? DEFAULT_SEEDS;
  const budget = opts.budget ?? DEFAULT_BUDGET;
  const target = findTarget(TARGET)!;
  const problems = seedProblems(target);
  const workers = Math.min(defaultWorkers(), seeds * MODES.length);
  console.log(
    `guided: ${TARGET}, ${seeds} seeds x {guided, unguided}, ${num(budget)} executions each, ${workers} worker threads; ` +
      `epoch ${num(EPOCH)}, queue cap ${QUEUE_CAP}, fresh share ${FRESH_SHARE}\n`,
  );

  const pool = new Piscina({ filename: fileURLToPath(new URL('./guided-worker.js', import.meta.url)), minThreads: workers, maxThreads: workers });
  const t0 = performance.now();
  let done = 0;
  const results = new Map<GuideMode, GuidedResult[]>(MODES.map((m) => [m, []]));
  const jobs: Promise<void>[] = [];
  // Seed by seed, both modes side by side, so that they run through the same stretches of machine load.
  for (let k = 0; k < seeds; k++) {
    for (const guide of MODES) {
      const task: GuidedTask = { target: TARGET, seed: `guided-${k}`, guide, budget, batchSize: BATCH };
      jobs.push(
        (pool.run(task) as Promise<GuidedResult>).then((r) => {
          results.get(guide)![k] = r;
          if (process.stderr.isTTY) process.stderr.write(`\r  ${++done}/${seeds * MODES.length} campaigns, ${formatDuration(performance.now() - t0)} `);
        }),
      );
    }
  }
  await Promise.all(jobs);
  await pool.destroy();
  const wallMs = performance.now() - t0;
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');

  const bugs = problems.flatMap((p) =>
    MODES.map((m) => {
      const firsts = results.get(m)!.map((r) => r.found[p.title] ?? null);
      return { problem: p.id, title: p.title, mode: label(m), execs: summarize(firsts.map((f) => f?.execs ?? null)), ms: summarize(firsts.map((f) => (f ? f.ms : null))) };
    }),
  );
  const ex = (n: number): string => (n === Infinity ? `>${num(budget)}` : num(n));
  const ms = (n: number): string => (n === Infinity ? '-' : formatDuration(n));
  console.log(
    formatTable(
      ['problem', 'mode', 'median execs', 'p90 execs', 'median ms', 'p90 ms', 'misses'].map((header, i) => ({ header, right: i > 1 })),
      bugs.map((b) => [b.problem, b.mode, ex(b.execs.median), ex(b.execs.p90), ms(b.ms.median), ms(b.ms.p90), `${b.execs.misses}/${seeds}`]),
    ),
  );
  console.log('\n' + problems.map((p) => `  ${p.id}  ${p.title}`).join('\n'));

  // Coverage: per seed, the union of both modes' keys of a family; executions to reach 95% of it.
  const growth = FAMILY_NAMES.flatMap((family) => {
    const unions = Array.from({ length: seeds }, (_, k) => new Set(MODES.flatMap((m) => results.get(m)![k]!.keys.filter((x) => keyFamily(x.key) === family).map((x) => x.key))).size);
    return MODES.map((m) => {
      const rs = results.get(m)!;
      const reached = rs.map((r) => r.keys.filter((x) => keyFamily(x.key) === family).length).sort((a, b) => a - b);
      const unguidedTotal = (k: number): number => results.get('off')![k]!.keys.filter((x) => keyFamily(x.key) === family).length;
      return {
        family, mode: label(m),
        execs: summarize(rs.map((r, k) => execsToReach(r, family, Math.ceil(SHARE * unions[k]!)))),
        toUnguidedTotal: summarize(rs.map((r, k) => execsToReach(r, family, unguidedTotal(k)))),
        reachedMedian: quantile(reached, 0.5), unionMedian: quantile([...unions].sort((a, b) => a - b), 0.5),
      };
    });
  });
  console.log(
    '\n' +
      formatTable(
        ['keys', 'mode', 'median execs to 95%', 'p90 execs', 'misses', 'median execs to unguided total', 'misses', 'median reached', 'median union'].map((header, i) => ({ header, right: i > 1 })),
        growth.map((g) => [
          g.family, g.mode, ex(g.execs.median), ex(g.execs.p90), `${g.execs.misses}/${seeds}`,
          ex(g.toUnguidedTotal.median), `${g.toUnguidedTotal.misses}/${seeds}`, num(g.reachedMedian), num(g.unionMedian),
        ]),
      ),
  );

  // Declared transitions: executions to reach 95% of all the target declares (issue 6's measure).
  const declared = new Set(declaredTransitions(target).map((t) => `transition:${transitionKey(t)}`));
  const needDeclared = Math.ceil(SHARE * declared.size);
  const toDeclared = MODES.map((m) => {
    const rs = results.get(m)!;
    const reached = rs.map((r) => r.keys.filter((x) => declared.has(x.key)).length).sort((a, b) => a - b);
    return {
      mode: label(m),
      execs: summarize(rs.map((r) => execsToReach(r, (key) => declared.has(key), needDeclared))),
      ms: summarize(rs.map((r) => { const n = execsToReach(r, (key) => declared.has(key), needDeclared); return n === null ? null : (n / r.executions) * r.ms; })),
      reachedMedian: quantile(reached, 0.5),
    };
  });
  console.log(
    '\n' +
      formatTable(
        [`${num(needDeclared)} of ${num(declared.size)} declared transitions`, 'median execs', 'p90 execs', 'median ms', 'misses', 'median reached'].map((header, i) => ({ header, right: i > 0 })),
        toDeclared.map((d) => [d.mode, ex(d.execs.median), ex(d.execs.p90), ms(d.ms.median), `${d.execs.misses}/${seeds}`, num(d.reachedMedian)]),
      ),
  );

  const rates = MODES.map((m) => {
    const rs = results.get(m)!;
    const execs = rs.reduce((n, r) => n + r.executions, 0);
    const msSum = rs.reduce((n, r) => n + r.ms, 0);
    return {
      mode: label(m), execs, execPerS: (execs / msSum) * 1000, mutated: rs.reduce((n, r) => n + r.mutated, 0),
      allFound: rs.filter((r) => problems.every((p) => r.found[p.title])).length,
    };
  });
  console.log(
    '\n' +
      formatTable(
        ['mode', 'executions', 'of which mutations', 'exec/s per worker', `seeds finding all ${problems.length}`].map((header, i) => ({ header, right: i > 0 })),
        rates.map((r) => [r.mode, num(r.execs), num(r.mutated), num(r.execPerS), `${r.allFound}/${seeds}`]),
      ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: for each seed guided-0..guided-${seeds - 1}, one campaign per mode runs indices 0..${num(budget - 1)} inline ` +
          `(both modes draw the same fresh programs at the same indices; guided replaces about ${Math.round((1 - FRESH_SHARE) * 100)}% of ` +
          `the executions after the first epoch by mutations of its queue). "execs" is the 1-based index of the first execution whose ` +
          `findings carry the problem's exact title; "ms" the time from the campaign's start to the end of the batch of ${BATCH} that ` +
          `found it, on one worker thread (${workers} campaigns run at once, so ms are noisier than execs). Median and p90 are ` +
          `nearest-rank over the seeds with a miss counted as infinite (">${num(budget)}"). The coverage table takes, per seed, the ` +
          `keys of a family that either mode reached, and counts the executions each mode needed to reach ${Math.round(SHARE * 100)}% ` +
          `of that many, and the executions each needed to reach as many keys as the unguided campaign of the seed reached in all. ` +
          `The declared-transitions table counts executions to ${Math.round(SHARE * 100)}% of the transitions ${TARGET} declares ` +
          `(its ms: that share of the campaign's time, at its average rate). Wall time ${formatDuration(wallMs)}.`,
      ),
  );
  const figures = { config: { target: TARGET, seeds, budget, workers, batch: BATCH, epoch: EPOCH, queueCap: QUEUE_CAP, freshShare: FRESH_SHARE, seedNames: `guided-0..guided-${seeds - 1}` }, wallMs: Math.round(wallMs), bugs, growth, toDeclared, rates };
  console.log(`\nwrote ${writeResult('guided', figures)}`);
}

export const guided: Benchmark = {
  name: 'guided',
  description: 'coverage-guided vs unguided on mdev-v5.0: time to P1-P5, to 95% of declared transitions and of labels and pairs, several seeds',
  run,
};
