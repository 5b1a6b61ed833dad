// Enumeration of the programs `verify` covers (issue 15, item 1): every program of at most S
// operations on exactly C CPUs (each with one operation or more), from every start state asked,
// up to symmetry (harness/verify/symmetry.ts), in a fixed order: fewer operations first, then the
// start states in the target's order, then the more dependent ones (more pairs of operations on
// different CPUs naming the same argument value, or a type and its vendor's module), then by
// encoding. ORDER_VERSION changes with this order, so that no saved state resumes into another. A program's rank is its index
// in that order: shards split ranks and the state file resumes from one.
//
// Also left out, and counted: programs with an operation that is certainly a no-op, a handle used
// on a CPU before that CPU produced it (ioctl(fd 1) after one open: EBADF from the CPU's own fd
// table) when that CPU has other operations: the program without it is enumerated too.

import type { Target } from '../target.js';
import type { Op, Program } from '../types.js';
import { Canon, compare, encode, hintsFor, opInstances } from './symmetry.js';

export interface EnumerateOptions {
  maxOps: number;
  cpus: number;
  /** Start states to cover (default: the target's default only). */
  starts?: readonly (string | undefined)[];
}

export interface EnumCounts {
  /** Operation instances (spec x argument values). */
  ops: number;
  /** Programs before any reduction (per start state). */
  total: number;
  /** Left out as a renaming or CPU reordering of a kept one (per start state). */
  symmetric: number;
  /** Left out for a certain no-op (per start state). */
  noop: number;
  /** Kept, over all start states: the number of ranks. */
  programs: number;
  starts: number;
}

export interface Enumeration {
  ops: Op[];
  /** Per rank: the op ids per CPU and the start state. */
  ranks: { cpus: number[][]; start: string | undefined; size: number }[];
  counts: EnumCounts;
}

export function enumeratePrograms(target: Target, opts: EnumerateOptions): Enumeration {
  const ops = opInstances(target);
  const hints = hintsFor(target);
  const canon = new Canon(ops, target, hints);
  const shares = sharing(ops);
  const handleOf = ops.map((o) => Object.entries(hints.handles).find(([arg]) => o.args[arg] !== undefined));
  const counts: EnumCounts = { ops: ops.length, total: 0, symmetric: 0, noop: 0, programs: 0, starts: 0 };
  const bySize: { cpus: number[][]; score: number; enc: number[] }[][] = [];
  const noop = (cpus: number[][]): boolean =>
    cpus.some((c) => {
      if (c.length < 2) return false;
      const made = new Map<string, number>();
      for (const id of c) {
        const h = handleOf[id];
        if (h && Number(ops[id]!.args[h[0]]) >= (made.get(h[1]) ?? 0)) return true;
        made.set(ops[id]!.op, (made.get(ops[id]!.op) ?? 0) + 1);
      }
      return false;
    });
  for (let n = opts.cpus; n <= opts.maxOps; n++) {
    const kept: { cpus: number[][]; score: number; enc: number[] }[] = [];
    for (const parts of compositions(n, opts.cpus)) {
      const seq = new Array<number>(n).fill(0);
      for (;;) {
        counts.total++;
        const cpus = split(seq, parts);
        if (noop(cpus)) counts.noop++;
        else if (!canon.isCanonical(cpus)) counts.symmetric++;
        else kept.push({ cpus, score: score(cpus, shares), enc: encode(cpus) });
        let i = n - 1;
        while (i >= 0 && seq[i] === ops.length - 1) seq[i--] = 0;
        if (i < 0) break;
        seq[i]!++;
      }
    }
    kept.sort((a, b) => b.score - a.score || compare(a.enc, b.enc));
    bySize.push(kept);
  }
  const starts = opts.starts ?? [undefined];
  counts.starts = starts.length;
  const ranks: Enumeration['ranks'] = [];
  for (const kept of bySize) for (const start of starts) for (const k of kept) ranks.push({ cpus: k.cpus, start, size: countOf(k.cpus) });
  counts.programs = ranks.length;
  return { ops, ranks, counts };
}

/** The Program of a rank. */
export function programAt(e: Enumeration, rank: number): Program {
  const r = e.ranks[rank]!;
  const cpus = r.cpus.map((c) => c.map((id) => ({ op: e.ops[id]!.op, args: { ...e.ops[id]!.args } })));
  return r.start === undefined ? { cpus } : { cpus, start: r.start };
}

/** The start states named by `--starts`: 'default', 'all', or a comma-separated list. */
export function startsFor(target: Target, spec: string): (string | undefined)[] {
  const all = target.startStates ?? [];
  if (spec === 'default') return [undefined];
  if (spec === 'all') return all.length === 0 ? [undefined] : all.map((s, i) => (i === 0 ? undefined : s));
  return spec.split(',').map((s) => {
    if (!all.includes(s)) throw new Error(`${target.name} has no start state '${s}' (it has: ${all.join(', ') || 'none'})`);
    return s === all[0] ? undefined : s;
  });
}

/** The version of the rank order (part of the state key). */
export const ORDER_VERSION = 2;

const countOf = (cpus: number[][]): number => cpus.reduce((s, c) => s + c.length, 0);

function split(seq: readonly number[], parts: readonly number[]): number[][] {
  const out: number[][] = [];
  let at = 0;
  for (const p of parts) (out.push(seq.slice(at, at + p)), (at += p));
  return out;
}

/** Ordered ways to write n as k positive parts. */
function compositions(n: number, k: number): number[][] {
  if (k === 1) return n >= 1 ? [[n]] : [];
  const out: number[][] = [];
  for (let first = 1; first <= n - k + 1; first++) for (const rest of compositions(n - first, k - 1)) out.push([first, ...rest]);
  return out;
}

/**
 * shares[a][b]: the two op instances name one argument value (same argument name), or one names
 * what the other's name is a member of ('mtty-1' and 'mtty': the type of a vendor and its module).
 */
function sharing(ops: readonly Op[]): boolean[][] {
  const related = (x: number | string, y: number | string): boolean => typeof x === 'string' && typeof y === 'string' && (x.startsWith(`${y}-`) || y.startsWith(`${x}-`));
  return ops.map((a) =>
    ops.map((b) => Object.entries(a.args).some(([k, v]) => b.args[k] === v || Object.values(b.args).some((w) => related(v, w)))),
  );
}

/** Pairs of operations on different CPUs that share an argument value: how dependent a program looks. */
function score(cpus: readonly (readonly number[])[], shares: boolean[][]): number {
  let s = 0;
  for (let i = 0; i < cpus.length; i++)
    for (let j = i + 1; j < cpus.length; j++) for (const a of cpus[i]!) for (const b of cpus[j]!) if (shares[a]![b]) s++;
  return s;
}
