// `npm run bench -- NAME [options]`: one benchmark per file, or `all` of them in turn.

import { parseArgs } from 'node:util';
import { parseDuration } from '../harness/cli/args.js';
import { formatDuration } from '../harness/cli/format.js';
import { poolGcFlags } from '../harness/engine/pool/gc-flags.js';
import { machine, type Benchmark, type BenchOptions } from './common.js';
import { throughput } from './throughput.js';
import { timeToBug } from './time-to-bug.js';
import { threadsBench } from './threads.js';
import { vsFastCheck } from './vs-fast-check.js';
import { vsStress } from './vs-stress.js';
import { guided } from './guided.js';
import { soak } from './soak.js';
import { verifyDpor } from './verify-dpor.js';
import { programMix } from './program-mix.js';

// What the benchmarks measure in this process (the pool's scaling, say) runs as the CLI runs it.
poolGcFlags();

const BENCHMARKS: readonly Benchmark[] = [throughput, timeToBug, vsFastCheck, vsStress, threadsBench, guided, soak, verifyDpor, programMix];

function usage(): string {
  return [
    'usage: npm run bench -- NAME [--execs N] [--seeds K] [--budget N] [--time T]',
    '',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.description}`),
    `  ${'all'.padEnd(12)} every one of them in turn, but soak`,
    '',
    '  --execs N    throughput: executions per measurement',
    '  --seeds K    time-to-bug, vs-fast-check: seeds per (problem, strategy); guided: seeds per mode',
    '  --budget N   time-to-bug, vs-fast-check: executions (runs) per seed before a miss; guided: per campaign; verify-dpor: programs per bound; program-mix: programs drawn',
    '  --time T     vs-stress: time box of each engine (60s); throughput: peak-RSS campaign length (60s); soak: its length (1h)',
  ].join('\n');
}

function fail(message: string): never {
  console.error(`mdevfuzz bench: ${message}`);
  process.exit(2);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) fail(`--${name} expects an integer >= 1, not '${text}'`);
  return Number(text);
}

function duration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (e) {
    fail(`--time: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { execs: { type: 'string' }, seeds: { type: 'string' }, budget: { type: 'string' }, time: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage());
    return;
  }
  const name = positionals[0];
  const chosen = name === 'all' ? BENCHMARKS.filter((b) => b.name !== 'soak') : BENCHMARKS.filter((b) => b.name === name);
  if (positionals.length !== 1 || chosen.length === 0) {
    console.error(name === undefined ? 'mdevfuzz bench: which benchmark?' : `mdevfuzz bench: unknown benchmark '${positionals.join(' ')}'`);
    console.error(usage());
    process.exit(2);
  }
  const opts: BenchOptions = { execs: positive('execs', values.execs), seeds: positive('seeds', values.seeds), budget: positive('budget', values.budget), timeMs: duration(values.time) };
  const m = machine();
  console.log(`${m.cpu}, ${m.cores} cores, node ${m.node}, ${new Date().toISOString()}, load average ${m.load1}\n`);
  for (const b of chosen) {
    const t0 = performance.now();
    await b.run(opts);
    console.log(`${b.name} took ${formatDuration(performance.now() - t0)} (load average now ${machine().load1})\n`);
  }
}

await main();
