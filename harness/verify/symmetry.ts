// Symmetry of programs for `verify` (issue 15): which argument values are interchangeable names
// (renaming them gives the same behaviour), which are per-CPU handles (an fd is only usable after
// that many opens on its CPU), and the canonical form of a program up to renaming and CPU order.
//
// A target may say so itself with an optional `verify: { symmetric, handles }` field; otherwise an
// argument named `uuid` is a name (a UUID means nothing but itself to the mdev core) and `fd` a
// handle produced by `open` (the lowest free slot of the CPU's own table). fds are not renamed:
// open fills slot 0 first, so fd 0 and fd 1 do not behave alike. Vendors are not renamed either:
// the bundled ones (mtty, vfio_ap, mlx5) differ, and mtty-1 and mtty-2 have different ports.

import type { OpSpec, Target } from '../target.js';
import type { Op } from '../types.js';

export interface VerifyHints {
  /** Arguments whose values are interchangeable names (renamed in first-use order). */
  symmetric: readonly string[];
  /** Argument -> the operation that produces it on the same CPU (value v needs v+1 of them before). */
  handles: Readonly<Record<string, string>>;
}

export function hintsFor(target: Target): VerifyHints {
  const own = (target as Target & { verify?: Partial<VerifyHints> }).verify;
  const names = new Set(target.ops.flatMap((o) => Object.keys(o.args)));
  const symmetric = own?.symmetric ?? (names.has('uuid') ? ['uuid'] : []);
  const handles = own?.handles ?? (names.has('fd') && target.ops.some((o) => o.name === 'open') ? { fd: 'open' } : {});
  return { symmetric: symmetric.filter((a) => sameDomain(target.ops, a)), handles };
}

/** Renaming is only meaningful when every operation draws the argument from one domain. */
function sameDomain(ops: readonly OpSpec[], arg: string): boolean {
  const domains = ops.filter((o) => o.args[arg] !== undefined).map((o) => JSON.stringify(o.args[arg]));
  return domains.length > 0 && domains.every((d) => d === domains[0]);
}

/** Every operation instance (spec x argument values), in spec order then domain order: index = op id. */
export function opInstances(target: Target): Op[] {
  const out: Op[] = [];
  for (const spec of target.ops) {
    let partial: Record<string, number | string>[] = [{}];
    for (const [name, domain] of Object.entries(spec.args)) {
      partial = partial.flatMap((a) => domain.map((v) => ({ ...a, [name]: v })));
    }
    for (const args of partial) out.push({ op: spec.name, args });
  }
  return out;
}

export const opKey = (op: Op): string => `${op.op}(${Object.entries(op.args).map(([k, v]) => `${k}=${v}`).join(',')})`;

/** Canonicalizer over op ids: renames symmetric values in first-use order, tries every CPU order. */
export class Canon {
  private readonly ids = new Map<string, number>();
  private readonly domains = new Map<string, readonly (number | string)[]>();

  constructor(
    readonly ops: readonly Op[],
    target: Target,
    readonly hints: VerifyHints,
  ) {
    ops.forEach((o, i) => this.ids.set(opKey(o), i));
    for (const a of hints.symmetric) this.domains.set(a, target.ops.find((o) => o.args[a] !== undefined)!.args[a]!);
  }

  /** The program's ops (ids) with symmetric values renamed in first-use order, CPUs in the given order. */
  renamed(cpus: readonly (readonly number[])[]): number[][] {
    if (this.hints.symmetric.length === 0) return cpus.map((c) => [...c]);
    const maps = new Map<string, Map<number | string, number | string>>();
    for (const a of this.hints.symmetric) maps.set(a, new Map());
    return cpus.map((c) =>
      c.map((id) => {
        const op = this.ops[id]!;
        let changed = false;
        const args = { ...op.args };
        for (const a of this.hints.symmetric) {
          if (args[a] === undefined) continue;
          const m = maps.get(a)!;
          if (!m.has(args[a]!)) m.set(args[a]!, this.domains.get(a)![m.size]!);
          const v = m.get(args[a]!)!;
          if (v !== args[a]) ((args[a] = v), (changed = true));
        }
        return changed ? this.ids.get(opKey({ op: op.op, args }))! : id;
      }),
    );
  }

  /** Whether the program is the canonical member of its class: ids in first-use order, CPUs in the least order. */
  isCanonical(cpus: readonly (readonly number[])[]): boolean {
    const own = encode(cpus);
    if (compare(encode(this.renamed(cpus)), own) !== 0) return false;
    for (const perm of permutations(cpus.length)) {
      if (compare(encode(this.renamed(perm.map((c) => cpus[c]!))), own) < 0) return false;
    }
    return true;
  }
}

/** [len, ops..., len, ops...]: a total order on programs of the same number of CPUs. */
export function encode(cpus: readonly (readonly number[])[]): number[] {
  const out: number[] = [];
  for (const c of cpus) out.push(c.length, ...c);
  return out;
}

export function compare(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

const permCache = new Map<number, number[][]>();
function permutations(n: number): number[][] {
  let ps = permCache.get(n);
  if (ps) return ps;
  ps = [[]];
  for (let k = 0; k < n; k++) ps = ps.flatMap((p) => Array.from({ length: p.length + 1 }, (_, i) => [...p.slice(0, i), k, ...p.slice(i)]));
  permCache.set(n, ps);
  return ps;
}
