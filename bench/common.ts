// What every benchmark shares: its options, the machine it ran on, the JSON it leaves in results/,
// and small helpers for numbers. Benchmarks print ratios taken in one run, never pass/fail.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Target } from '../harness/target.js';

export interface BenchOptions {
  /** throughput: executions per measurement. */
  execs?: number;
  /** time-to-bug, vs-fast-check: campaign seeds per (problem, strategy); guided: seeds per mode. */
  seeds?: number;
  /** time-to-bug, vs-fast-check: executions (runs) per seed before giving up; guided: executions per campaign. */
  budget?: number;
  /** vs-stress: the time box of each engine; throughput: the length of the peak-RSS campaign. */
  timeMs?: number;
}

export interface Benchmark {
  name: string;
  description: string;
  run(opts: BenchOptions): Promise<void>;
}

/** The machine, with its 1-minute load average now: on a shared machine, how busy it was. */
export function machine(): { cpu: string; cores: number; node: string; os: string; load1: number } {
  const cpus = os.cpus();
  const load1 = Math.round(os.loadavg()[0]! * 100) / 100;
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, os: `${os.platform()} ${os.release()}`, load1 };
}

/** Write results/bench-<name>.json with the figures, the machine and the date; returns its path. */
export function writeResult(name: string, figures: unknown): string {
  const dir = path.resolve('results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${name}.json`);
  const body = { benchmark: name, date: new Date().toISOString(), machine: machine(), figures };
  fs.writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return path.relative(process.cwd(), file);
}

/** Nearest-rank quantile of an ascending list; Infinity stands for a miss. */
export function quantile(sorted: readonly number[], p: number): number {
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

export interface Summary {
  median: number;
  p90: number;
  max: number;
  /** Values that are null: nothing found within the budget. */
  misses: number;
  all: (number | null)[];
}

/** Median, p90 and max (nearest rank) of values where null is a miss, counted as Infinity. */
export function summarize(values: (number | null)[]): Summary {
  const sorted = values.map((v) => v ?? Infinity).sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), max: sorted[sorted.length - 1]!, misses: values.filter((v) => v === null).length, all: values };
}

/** `1,234`, or `12.3` for small values. */
export function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const pct = (x: number): string => `${(100 * x).toFixed(x < 0.1 ? 2 : 1)}%`;

/** A paragraph wrapped at 100 columns, for the "how to read this" under a table. */
export function paragraph(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/** The seed problems of a target: its known expectations that name their problem (P1..P5), in order. */
export function seedProblems(target: Target): { id: string; title: string }[] {
  return target.expectations.filter((e) => e.status === 'known' && e.problem).map((e) => ({ id: e.problem!, title: e.title }));
}
