// Parsers for option values, for commander's argParser: they return the value or throw
// InvalidArgumentError, which commander turns into one line naming the option.

import { InvalidArgumentError } from 'commander';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** `500ms`, `20s`, `2m`, or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = DURATION.exec(text.trim());
  if (!m) throw new InvalidArgumentError('Expected a duration such as 500ms, 20s, 2m or a number of seconds.');
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
