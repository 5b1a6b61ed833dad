// Parsers for option values, for commander's argParser: they return the value or throw
// InvalidArgumentError, which commander turns into one line naming the option.

import os from 'node:os';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_MAX_STEPS } from '../engine/inline/inline.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** `500ms`, `20s`, `2m`, `1h`, or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new InvalidArgumentError('Expected a duration such as 500ms, 20s, 2m, 1h or a number of seconds.');
  const ms = Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]);
  if (ms <= 0) throw new InvalidArgumentError('A duration must be more than 0.');
  return ms;
}

function parseInteger(text: string, min: number): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`Expected an integer >= ${min}.`);
  return n;
}

export const parsePositive = (text: string): number => parseInteger(text, 1);
export const parseNonNegative = (text: string): number => parseInteger(text, 0);

export function parseSeed(text: string): string {
  if (text.length === 0) throw new InvalidArgumentError('A seed is a non-empty string.');
  return text;
}

/** `--shard i/n`: the i-th (from 0) of n slices of the execution indices. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(count >= 1 && index >= 0 && index < count)) throw new InvalidArgumentError('Expected i/n with 0 <= i < n, e.g. 0/4 for the first of four shards.');
  return { index, count };
}

/** Worker threads per core that --workers allows: more only thrash (each worker is a V8 isolate). */
export const WORKERS_PER_CORE = 4;

export function maxWorkers(): number {
  return WORKERS_PER_CORE * Math.max(1, os.availableParallelism());
}

/** `--workers`: 0 (inline) up to WORKERS_PER_CORE per core. */
export function parseWorkers(text: string, min = 0): number {
  const n = parseInteger(text, min);
  const max = maxWorkers();
  if (n > max) throw new InvalidArgumentError(`At most ${max} (${WORKERS_PER_CORE} per core, ${os.availableParallelism()} cores here).`);
  return n;
}

export const parsePositiveWorkers = (text: string): number => parseWorkers(text, 1);

/**
 * `--depth`: PCT's d - 1 change points fall within an execution, which runs at most
 * DEFAULT_MAX_STEPS steps, so a deeper d changes nothing but the cost of drawing them.
 */
export function parseDepth(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError('Expected an integer >= 1.');
  const n = Number(text.trim());
  if (n < 1) throw new InvalidArgumentError('Expected an integer >= 1.');
  if (n > DEFAULT_MAX_STEPS) throw new InvalidArgumentError(`At most ${DEFAULT_MAX_STEPS}, the step budget of an execution (its change points fall within it).`);
  return n;
}

/** `--worker-memory`: MiB of heap per worker, from 32 (less cannot load a target) to 64 GiB. */
export function parseMemoryMb(text: string): number {
  const n = parseInteger(text, 32);
  if (n > 65_536) throw new InvalidArgumentError('At most 65536 (MiB).');
  return n;
}

/** `--targets a,b,c`: names, at least one, no repeats (whether they exist is checked later, with the known list). */
export function parseTargetList(text: string): string[] {
  const names = text.split(',').map((s) => s.trim());
  if (names.some((n) => n.length === 0)) throw new InvalidArgumentError('Expected target names separated by commas, e.g. mdev-v5.0,mdev-v6.');
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new InvalidArgumentError(`'${twice}' is listed twice.`);
  return names;
}
