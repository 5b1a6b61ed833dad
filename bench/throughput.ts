// Executions/s and model steps/s of the inline engine on every bundled target, against the bare cost
// of stepping empty generators of the same shape measured in the same process; then the cost of
// coverage, pool scaling and the peak RSS of a campaign.
// The machine is shared: every figure is the best of a few interleaved rounds, and only ratios
// taken within this one run are meant to be compared.

import { runBatch, type BatchResult } from '../harness/engine/batch.js';
import { Worker } from 'node:worker_threads';
import { DEFAULT_BATCH, runCampaign } from '../harness/engine/campaign.js';
import { runIndex, type CampaignConfig } from '../harness/engine/runner.js';
import { teardownMemo } from '../harness/engine/inline/teardown-memo.js';
import type { Target } from '../harness/target.js';
import type { StrategyName } from '../harness/sched/index.js';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import { TARGETS } from '../targets/index.js';
import { measureShape, plan, stepCeiling, stepKfnMachinery } from './ceiling.js';
import { recordModelRuns, stepModelAlone } from './model-alone.js';
import { peakRss } from './peak-rss.js';
import type { ScalingData } from './scaling-worker.js';
import { machine, num, paragraph, pct, writeResult, type Benchmark, type BenchOptions } from './common.js';

/** About 40 s for the inline and pool measurements on a busy 2-core machine, plus the peak-RSS campaign. */
const DEFAULT_EXECS = 3_000;
const INLINE_ROUNDS = 3;
const POOL_ROUNDS = 2;
/** The pool runs this many times --execs: on a few thousand, starting the threads would be most of what it measures. */
const POOL_EXECS_FACTOR = 4;
const SHAPE_EXECS = 2_000;
const POOL_TARGET = 'mdev-v5.0';
/** The length of the campaign whose peak RSS is measured (--time). */
const DEFAULT_RSS_MS = 60_000;

const cfg: CampaignConfig = { seed: 'bench', strategy: 'pct', depth: 3 };

const rate = (n: number, ms: number): number => (n / ms) * 1000;

const signature = (fs: readonly { title: string; index: number }[]): string =>
  fs.map((f) => `${f.index} ${f.title}`).sort().join('\n');

/**
 * timed(), with the thread's teardown memo of the target emptied first: rounds run the same
 * executions, and a memo kept from the round before would skip every teardown, which a campaign's
 * new executions skip only where they end in a state seen before.
 */
function cold<T>(target: Target, f: () => T): { ms: number; value: T } {
  teardownMemo(target).clear();
  return timed(f);
}

function timed<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

/** A pool campaign: its exec/s over the whole run, and over what was merged after the first third. */
async function pooled(workers: number, execs: number): Promise<{ execPerS: number; warmExecPerS: number; findings: string }> {
  let warm: { executions: number; ms: number } | undefined;
  const r = await runCampaign({
    target: { name: POOL_TARGET },
    ...cfg,
    execs,
    workers,
    onProgress: (p) => {
      if (!warm && p.executions >= execs / 3) warm = { executions: p.executions, ms: p.elapsedMs };
    },
  });
  return { execPerS: rate(r.executions, r.elapsedMs), warmExecPerS: rate(r.executions - warm!.executions, r.elapsedMs - warm!.ms), findings: signature(r.findings) };
}

/**
 * The machine's own scaling, the baseline of the pool's: the same executions on 1, then 2 bare
 * worker threads (bench/scaling-worker.ts: runBatch in batches of the campaign's size, nothing
 * else), each warmed up first and all started together; exec/s over the slowest thread.
 */
async function bare(threads: number, execs: number): Promise<{ execPerS: number }> {
  const per = Math.ceil(execs / threads);
  const workers = Array.from({ length: threads }, (_, i) => {
    const data: ScalingData = { target: POOL_TARGET, cfg, start: i * per, count: Math.min(per, execs - i * per), batch: DEFAULT_BATCH, warm: Math.min(2000, execs) };
    return new Worker(new URL('./scaling-worker.js', import.meta.url), { workerData: { scaling: data } });
  });
  try {
    const next = (w: Worker): Promise<unknown> =>
      new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
      });
    await Promise.all(workers.map(next));
    const t0 = performance.now();
    const done = workers.map(next);
    for (const w of workers) w.postMessage('go');
    await Promise.all(done);
    return { execPerS: rate(execs, performance.now() - t0) };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

async function run(opts: BenchOptions): Promise<void> {
  const execs = opts.execs ?? DEFAULT_EXECS;
  console.log(`throughput: ${num(execs)} executions per measurement, seed '${cfg.seed}', ${cfg.strategy} d=${cfg.depth}, best of ${INLINE_ROUNDS} rounds inline\n`);

  const targets = [];
  for (const target of TARGETS) {
    const shape = measureShape(target, cfg, 0, Math.min(SHAPE_EXECS, execs)); // also the warm-up
    const chains = plan(shape);
    let model: { ms: number; value?: BatchResult } = { ms: Infinity };
    let ceiling = { ms: Infinity, value: 0 };
    let machinery = { ms: Infinity, value: 0 };
    const runs = recordModelRuns(target, cfg, 0, execs);
    let alone = { ms: Infinity, value: 0 };
    for (let r = 0; r < INLINE_ROUNDS; r++) {
      const m = cold(target, () => runBatch(target, cfg, 0, execs));
      const c = timed(() => stepCeiling(chains, execs));
      const k = timed(() => stepKfnMachinery(target, chains, execs));
      const a = timed(() => stepModelAlone(target, runs));
      if (m.ms < model.ms) model = m;
      if (c.ms < ceiling.ms) ceiling = c;
      if (k.ms < machinery.ms) machinery = k;
      if (a.ms < alone.ms) alone = a;
    }
    const batch = model.value!;
    const execPerS = rate(execs, model.ms);
    const ceilingExecPerS = rate(execs, ceiling.ms);
    targets.push({
      target: target.name,
      execPerS,
      cpuStepsPerS: rate(batch.steps, model.ms),
      shape,
      stepsPerS: execPerS * shape.steps,
      ceilingStepsPerS: rate(ceiling.value, ceiling.ms),
      ceilingExecPerS,
      ofCeiling: execPerS / ceilingExecPerS,
      machineryExecPerS: rate(execs, machinery.ms),
      modelAloneExecPerS: rate(execs, alone.ms),
      findings: signature(batch.findings),
    });
  }
  console.log(
    formatTable(
      ['target', 'exec/s', 'cpu steps/s', 'profile steps/exec', 'steps/exec', 'kfn depth', 'kfn calls/exec', 'steps/s', 'ceiling steps/s', 'ceiling exec/s', 'of ceiling', 'kfn machinery exec/s', 'model alone exec/s'].map((header, i) => ({ header, right: i > 0 })),
      targets.map((t) => [
        t.target,
        num(t.execPerS),
        num(t.cpuStepsPerS),
        num(t.shape.profileSteps, 1),
        num(t.shape.steps, 1),
        num(t.shape.depth, 2),
        num(t.shape.calls, 1),
        num(t.stepsPerS),
        num(t.ceilingStepsPerS),
        num(t.ceilingExecPerS),
        pct(t.ofCeiling),
        `${num(t.machineryExecPerS)} (${pct(t.machineryExecPerS / t.ceilingExecPerS)})`,
        `${num(t.modelAloneExecPerS)} (${pct(t.modelAloneExecPerS / t.ceilingExecPerS)})`,
      ]),
    ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: exec/s and cpu steps/s are the inline engine (runBatch, one thread) on executions 0..${num(execs - 1)} ` +
          `of each target, the fastest of ${INLINE_ROUNDS} rounds, each begun with the thread's teardown memo empty (a memo kept ` +
          `from the round before would skip every teardown of the same executions); cpu steps are the CPUs' preemption points, as the CLI counts ` +
          `them. profile steps/exec are the steps of the profiling runs that ${cfg.strategy} runs before each execution (the length of the program run serially); ` +
          `steps/exec adds them and the teardown's steps to the CPUs'; kfn depth is the mean number of kfn frames on the stack at a step and ` +
          `kfn calls/exec the kfn calls (two generators each), measured on the first ${num(Math.min(SHAPE_EXECS, execs))} of ` +
          `those executions; steps/s is exec/s times steps/exec. The ceiling steps nested kfn-style empty generators of that ` +
          `shape (same steps, calls and mean depth per execution), in rounds interleaved with the model's; "of ceiling" is our ` +
          `steps/s over the ceiling's (equally, exec/s over ceiling exec/s), i.e. the share of our time that stepping generators alone would take. The rest is the ` +
          `model itself: checked accessors, kernfs lookups, label strings, strategy, invariants, boot-image copy, teardown ` +
          `and leak check. "kfn machinery" steps the same plan through the kernel's own kfn() frames and k.at() labels, with ` +
          `nothing else done (in parentheses its exec/s over the ceiling's, as "of ceiling" is; above 100% where that machinery ` +
          `costs less than the ceiling's generator pairs): the part of the gap that is calling and labelling, apart from what the model's ` +
          `functions do. "model alone" steps the same executions' runs (each one's profiling runs, then itself) along the CPUs the engine ` +
          `picked, teardown and leak check where the engine ran them, and nothing else: no strategy, invariants, program drawing or ` +
          `profile building (in parentheses, of the ceiling). It is what any engine over this model must do; exec/s near or below it ` +
          `means the engine adds little, and its share of the ceiling bounds what "of ceiling" can reach without a cheaper model.`,
      ),
  );

  console.log(`\ncoverage cost: the same ${num(execs)} executions with coverage off and on (labels, pairs, transitions), best of ${INLINE_ROUNDS} interleaved rounds\n`);
  const coverage = TARGETS.map((target) => {
    let [off, on] = [Infinity, Infinity];
    for (let r = 0; r < INLINE_ROUNDS; r++) {
      off = Math.min(off, cold(target, () => runBatch(target, cfg, 0, execs)).ms);
      on = Math.min(on, cold(target, () => runBatch(target, { ...cfg, coverage: true }, 0, execs)).ms);
    }
    return { target: target.name, offExecPerS: rate(execs, off), onExecPerS: rate(execs, on), cost: on / off };
  });
  console.log(
    formatTable(
      ['target', 'exec/s, coverage off', 'exec/s, coverage on', 'on/off time'].map((header, i) => ({ header, right: i > 0 })),
      coverage.map((c) => [c.target, num(c.offExecPerS), num(c.onExecPerS), `${c.cost.toFixed(2)}x`]),
    ),
  );
  console.log(
    '\n' +
      paragraph(
        'How to read this: every `mdevfuzz run` collects coverage (the run summary and report draw it); "on/off time" is what ' +
          'that costs per execution: the label set, the concurrent-pair counts, and the re-read of the state of every declared ' +
          'object a step wrote.',
      ),
  );

  const scheduling = schedulingCost(execs);

  const poolExecs = POOL_EXECS_FACTOR * execs;
  console.log(`\npool scaling: runCampaign on ${POOL_TARGET}, the same ${num(poolExecs)} executions, best of ${POOL_ROUNDS} rounds\n`);
  await runCampaign({ target: { name: POOL_TARGET }, ...cfg, execs: Math.min(2000, execs), workers: 2 }); // warm-up
  const poolTarget = TARGETS.find((t) => t.name === POOL_TARGET)!;
  const alone = cold(poolTarget, () => runBatch(poolTarget, cfg, 0, poolExecs));
  const inline = { execPerS: rate(poolExecs, alone.ms), findings: signature(alone.value.findings) };
  const pool = [1, 2].map((workers) => ({ workers, execPerS: 0, warmExecPerS: 0, same: true }));
  const bareRate = [0, 0];
  for (let r = 0; r < POOL_ROUNDS; r++) {
    for (const p of pool) {
      const got = await pooled(p.workers, poolExecs);
      p.execPerS = Math.max(p.execPerS, got.execPerS);
      p.warmExecPerS = Math.max(p.warmExecPerS, got.warmExecPerS);
      p.same &&= got.findings === inline.findings;
      bareRate[p.workers - 1] = Math.max(bareRate[p.workers - 1]!, (await bare(p.workers, poolExecs)).execPerS);
    }
  }
  const machineScaling = bareRate[1]! / bareRate[0]!;
  const rows = [
    { engine: 'inline', execPerS: inline.execPerS, warmExecPerS: inline.execPerS, same: true },
    ...pool.map((p) => ({ engine: `pool, ${p.workers} worker${p.workers > 1 ? 's' : ''}`, execPerS: p.execPerS, warmExecPerS: p.warmExecPerS, same: p.same })),
  ].map((r) => ({ ...r, warmVsInline: r.warmExecPerS / inline.execPerS, warmVsOne: r.warmExecPerS / pool[0]!.warmExecPerS }));
  const poolScaling = rows[2]!.warmVsOne;
  console.log(
    formatTable(
      ['engine', 'exec/s, whole run', 'exec/s, warm', 'warm vs inline', 'warm vs 1 worker', 'same findings'].map((header, i) => ({ header, right: i > 0 })),
      [
        ...rows.map((r) => [r.engine, num(r.execPerS), num(r.warmExecPerS), `${r.warmVsInline.toFixed(2)}x`, `${r.warmVsOne.toFixed(2)}x`, r.same ? 'yes' : 'NO']),
        ...[1, 2].map((n) => [`bare threads, ${n}`, '', num(bareRate[n - 1]!), `${(bareRate[n - 1]! / inline.execPerS).toFixed(2)}x`, `${(bareRate[n - 1]! / bareRate[0]!).toFixed(2)}x`, '']),
      ],
    ),
  );
  console.log(`\npool scaling ${poolScaling.toFixed(2)}x against the machine's ${machineScaling.toFixed(2)}x in the same rounds: ${pct(poolScaling / machineScaling)} of it`);
  console.log(
    '\n' +
      paragraph(
        `How to read this: each pool run is a fresh Piscina pool, as for a user, after one warm-up campaign (which warms ` +
          `files, not the new threads); rounds alternate 1 and 2 workers. "whole run" includes starting the threads and their ` +
          `JIT warm-up; "warm" counts only the executions merged after the first third, when the workers are warm. The inline ` +
          `row is runBatch in this thread on the same executions, once. "warm vs 1 worker" is the scaling: the ideal for 2 workers is ` +
          `2.00x on ${machine().cores} idle cores, less whatever else the machine runs meanwhile. "same findings": the pool ` +
          `found the same titles at the same first index as the inline run, as the determinism contract says. The "bare ` +
          `threads" rows are the machine's own scaling, measured in the same rounds right after each pool run: the same ` +
          `executions in batches of ${DEFAULT_BATCH} on 1, then 2 plain worker threads, warmed up and started together, with no ` +
          `pool, watchdog or merging; their "warm vs 1 worker" is what 2 workers can reach on this machine now, and the pool's ` +
          `scaling is given as a share of it.`,
      ),
  );

  const rssMs = opts.timeMs ?? DEFAULT_RSS_MS;
  console.log(`\npeak RSS: a ${formatDuration(rssMs)} campaign on ${POOL_TARGET} (mdevfuzz run, pool, one worker per core) in a child process\n`);
  const rss = await peakRss(POOL_TARGET, rssMs);
  const mb = (x: number | null): string => (x === null ? '-' : `${num(x, 1)} MiB`);
  console.log(
    formatTable(
      ['campaign', 'executions', 'exit', 'peak RSS (maxRSS)', 'peak RSS (VmHWM)', 'RSS at 1/4, 1/2, 3/4, end'].map((header, i) => ({ header, right: i > 0 })),
      [[formatDuration(rssMs), rss.executions === null ? '-' : num(rss.executions), String(rss.exitCode), mb(rss.maxRssMiB), mb(rss.vmHwmMiB), rss.rssCurveMiB.map((x) => num(x, 0)).join(', ') + ' MiB']],
    ),
  );
  console.log(
    '\n' +
      paragraph(
        `How to read this: \`${rss.command}\`, on a copy of the committed corpus in a temporary directory (known findings are not ` +
          `minimized again; --no-minimize keeps any new one from stretching the run). maxRSS is process.resourceUsage() at the ` +
          `child's exit, printed by a preloaded probe; VmHWM the kernel's high-water mark, polled every 250 ms. Piscina workers are ` +
          `threads of that one process, so both include every worker. Exit 1 means new findings against the copied corpus.`,
      ),
  );
  const figures = { config: { ...cfg, execs, poolExecs, inlineRounds: INLINE_ROUNDS, poolRounds: POOL_ROUNDS, rssMs }, targets: targets.map(({ findings: _, ...t }) => t), coverage, scheduling, pool: rows, bareThreads: { execPerS: bareRate, scaling: machineScaling, poolShare: poolScaling / machineScaling }, peakRss: rss };
  console.log(`\nwrote ${writeResult('throughput', figures)}`);
}

/**
 * What the conflict-aware scheduling costs per execution (issue 14): the same executions under the
 * random walk (no profile) without and with the access record, and under the strategies that
 * profile each program first (two serial runs with the access record, harness/engine/profile-run.ts).
 */
function schedulingCost(execs: number): { target: string; execPerS: Record<string, number> }[] {
  const kinds: { label: string; strategy: StrategyName; accesses: boolean }[] = [
    { label: 'random', strategy: 'random', accesses: false },
    { label: 'random + access record', strategy: 'random', accesses: true },
    { label: 'pct (profiled)', strategy: 'pct', accesses: false },
    { label: 'cpct (profiled)', strategy: 'cpct', accesses: false },
    { label: 'surw (profiled)', strategy: 'surw', accesses: false },
    { label: 'race (profiled, default)', strategy: 'race', accesses: false },
  ];
  console.log(`\nscheduling cost: the same ${num(execs)} programs under each kind of scheduling, best of ${INLINE_ROUNDS} interleaved rounds\n`);
  const out = TARGETS.map((target) => {
    const buffer = new SharedArrayBuffer(target.layout.words * 4);
    const best = kinds.map(() => Infinity);
    for (let r = 0; r < INLINE_ROUNDS; r++) {
      kinds.forEach((kind, i) => {
        const c: CampaignConfig = { ...cfg, strategy: kind.strategy };
        const teardowns = teardownMemo(target);
        best[i] = Math.min(best[i]!, cold(target, () => { for (let x = 0; x < execs; x++) runIndex(target, c, x, { buffer, accesses: kind.accesses, teardowns }); }).ms);
      });
    }
    return { target: target.name, execPerS: Object.fromEntries(kinds.map((k, i) => [k.label, rate(execs, best[i]!)])) };
  });
  const base = kinds[0]!.label;
  console.log(
    formatTable(
      ['target', ...kinds.map((k) => `${k.label} exec/s`)].map((header, i) => ({ header, right: i > 0 })),
      out.map((o) => [o.target, ...kinds.map((k) => `${num(o.execPerS[k.label]!)} (${(o.execPerS[base]! / o.execPerS[k.label]!).toFixed(2)}x)`)]),
    ),
  );
  console.log(
    '\n' +
      paragraph(
        'How to read this: "(N.NNx)" is the time per execution against the random walk without the access record. The access ' +
          'record is kept only where it is used: in the profiling runs, and in a trace asked for with it; a campaign under random ' +
          'pays nothing for it. The profiled strategies run each program twice serially first (no invariants, no teardown).',
      ),
  );
  return out;
}

export const throughput: Benchmark = {
  name: 'throughput',
  description: 'executions/s and steps/s of the inline engine against an empty-generator ceiling; coverage cost; pool scaling; peak RSS of a campaign',
  run,
};
