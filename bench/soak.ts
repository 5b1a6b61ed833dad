// A soak (issue 13 item 8): one long `mdevfuzz run --target mdev-v5.0` (the pool, one worker per
// core, corpus writes and all) in a child process, on a temporary copy of the committed corpus.
// Every 10 s it samples the child's RSS (/proc/<pid>/status VmRSS: the main thread and its worker
// threads), the exec/s since the last sample and the distinct findings, from the run's plain
// progress lines; at the end it prints the samples and the least-squares slope of each per hour.
// Flat is what a nightly run needs: an RSS slope near 0 MiB/h and an exec/s slope near 0.
// It also reports the longest gap between progress lines (a stall of the harness itself).

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDuration, formatTable } from '../harness/cli/format.js';
import { CLI_NODE_FLAGS } from '../harness/engine/pool/gc-flags.js';
import { machine, num, writeResult, type Benchmark, type BenchOptions } from './common.js';

const MAIN = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
const CORPUS = fileURLToPath(new URL('../../corpus/', import.meta.url));
export const DEFAULT_SOAK_MS = 60 * 60_000;
export const SAMPLE_MS = 10_000;
const TARGET = 'mdev-v5.0';

export interface SoakSample {
  /** Seconds since the child started. */
  t: number;
  rssMiB: number;
  /** Executions since the previous sample, per second. */
  execPerS: number;
  executions: number;
  findings: number;
}

/** Least-squares slope of y against x (0 for fewer than two points or no spread in x). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

function procStatus(pid: number, key: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

const PROGRESS = new RegExp(`^${TARGET.replace('.', '\\.')}: ([\\d,]+) execs\\s+[\\d,]+ exec/s\\s+(\\d+) findings`);

async function run(opts: BenchOptions): Promise<void> {
  const timeMs = opts.timeMs ?? DEFAULT_SOAK_MS;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-soak-'));
  cpSync(CORPUS, path.join(tmp, 'corpus'), { recursive: true });
  console.log(`soak: mdevfuzz run --target ${TARGET} --time ${formatDuration(timeMs)} (pool, ${os.availableParallelism()} workers), sampled every ${SAMPLE_MS / 1000} s\n`);
  const args = [MAIN, 'run', '--target', TARGET, '--seed', 'soak', '--time', `${Math.round(timeMs)}ms`, '--corpus', path.join(tmp, 'corpus'), '--results', path.join(tmp, 'results'), '--run-id', 'soak'];
  const child = spawn(process.execPath, [...CLI_NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const t0 = performance.now();
  let executions = 0;
  let findings = 0;
  let lastLine = t0;
  let maxGapMs = 0;
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const m = PROGRESS.exec(line);
      if (!m) continue;
      const now = performance.now();
      if (executions > 0) maxGapMs = Math.max(maxGapMs, now - lastLine);
      lastLine = now;
      executions = Number(m[1]!.replace(/,/g, ''));
      findings = Number(m[2]);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));

  const samples: SoakSample[] = [];
  let prev = { t: 0, executions: 0 };
  let peakMiB = 0;
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    await Promise.race([new Promise((r) => setTimeout(r, SAMPLE_MS)), exited]);
    if (done) break;
    const t = (performance.now() - t0) / 1000;
    const rssMiB = procStatus(child.pid!, 'VmRSS') ?? 0;
    peakMiB = Math.max(peakMiB, procStatus(child.pid!, 'VmHWM') ?? 0);
    samples.push({ t, rssMiB, execPerS: (executions - prev.executions) / (t - prev.t), executions, findings });
    prev = { t, executions };
    const s = samples.at(-1)!;
    console.log(`  ${formatDuration(t * 1000).padStart(7)}  RSS ${s.rssMiB.toFixed(1)} MiB  ${num(s.execPerS)} exec/s  ${num(executions)} executions  ${findings} findings`);
  }
  const code = await exited;
  rmSync(tmp, { recursive: true, force: true });
  if (code !== 0 && code !== 1) {
    console.log(`the run exited ${code}: ${stderr.trim()}`);
    process.exitCode = 1;
  }
  // The first sample holds the pool's start-up; slopes are over the samples that follow it.
  const steady = samples.length > 2 ? samples.slice(1) : samples;
  const hours = steady.map((s) => s.t / 3600);
  const slopesOf = (xs: readonly SoakSample[]) => {
    const hours = xs.map((s) => s.t / 3600);
    return {
      rssMiBPerHour: slope(hours, xs.map((s) => s.rssMiB)),
      execPerSPerHour: slope(hours, xs.map((s) => s.execPerS)),
      findingsPerHour: slope(hours, xs.map((s) => s.findings)),
    };
  };
  const slopes = slopesOf(steady);
  // On a short soak the warm-up (the pool's JIT, the coverage maps filling) weighs on the slopes:
  // those of the second half say whether it has levelled off.
  const late = slopesOf(steady.slice(Math.floor(steady.length / 2)));
  const mean = (k: 'rssMiB' | 'execPerS'): number => steady.reduce((a, s) => a + s[k], 0) / Math.max(1, steady.length);
  const rel = (x: number, m: number): string => `${((100 * x) / Math.max(1e-9, m)).toFixed(1)}%/h`;
  const rows = [
    ['RSS (MiB)', mean('rssMiB').toFixed(1), `${slopes.rssMiBPerHour.toFixed(1)} MiB/h`, rel(slopes.rssMiBPerHour, mean('rssMiB')), `${late.rssMiBPerHour.toFixed(1)} MiB/h`],
    ['exec/s', num(mean('execPerS')), `${slopes.execPerSPerHour.toFixed(1)} /h`, rel(slopes.execPerSPerHour, mean('execPerS')), `${late.execPerSPerHour.toFixed(1)} /h`],
    ['findings', String(steady.at(-1)?.findings ?? 0), `${slopes.findingsPerHour.toFixed(1)} /h`, '', `${late.findingsPerHour.toFixed(1)} /h`],
  ];
  console.log(`\n${formatTable([{ header: '' }, { header: 'mean', right: true }, { header: 'slope (least squares)', right: true }, { header: 'of the mean', right: true }, { header: 'second half', right: true }], rows)}`);
  console.log(`\n${samples.length} samples over ${formatDuration((performance.now() - t0))}, ${steady.length} after the first; ${num(executions)} executions; peak RSS ${peakMiB.toFixed(1)} MiB; longest gap between progress lines ${formatDuration(maxGapMs)} (they come every 5 s)`);
  const file = writeResult('soak', { target: TARGET, timeMs, sampleMs: SAMPLE_MS, exitCode: code, samples, slopes, secondHalfSlopes: late, peakRssMiB: peakMiB, maxProgressGapMs: Math.round(maxGapMs), machine: machine() });
  console.log(`written: ${file}`);
}

export const soak: Benchmark = {
  name: 'soak',
  description: `one long campaign (${TARGET}, pool): RSS, exec/s and findings every 10 s, and the slope of each (--time, default 1h)`,
  run,
};
