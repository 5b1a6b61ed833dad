// `verify --ops` and `--domain`: the target with fewer operations, or smaller argument domains, for
// the programs verify enumerates (a sub-API verified to a larger S). Only the enumeration sees the
// difference: the operations run as they always do, and the expectations stay the target's.

import { UsageError } from '../engine/load.js';
import type { Target } from '../target.js';

/** `--ops create,open` and `--domain type=mtty-1,type=mtty-2,module=mtty`; undefined keeps all. */
export function restrictTarget(target: Target, ops?: string, domain?: string): Target {
  if (ops === undefined && domain === undefined) return target;
  const names = ops?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names ?? []) if (!target.ops.some((o) => o.name === n)) throw new UsageError(`--ops: ${target.name} has no operation '${n}' (it has: ${target.ops.map((o) => o.name).join(', ')})`);
  const keep = new Map<string, string[]>();
  for (const pair of domain?.split(',').map((s) => s.trim()).filter(Boolean) ?? []) {
    const m = /^([^=]+)=(.+)$/.exec(pair);
    if (!m) throw new UsageError(`--domain expects arg=value pairs, not '${pair}'`);
    keep.set(m[1]!, [...(keep.get(m[1]!) ?? []), m[2]!]);
  }
  const specs = target.ops
    .filter((o) => names === undefined || names.includes(o.name))
    .map((o) => {
      const args = Object.fromEntries(Object.entries(o.args).map(([a, dom]) => [a, keep.has(a) ? dom.filter((v) => keep.get(a)!.includes(String(v))) : dom]));
      return { ...o, args };
    });
  for (const [a, vals] of keep) {
    const doms = target.ops.map((o) => o.args[a]).filter((d) => d !== undefined);
    if (doms.length === 0) throw new UsageError(`--domain: no operation of ${target.name} has an argument '${a}'`);
    for (const v of vals) if (!doms.some((d) => d!.map(String).includes(v))) throw new UsageError(`--domain: '${v}' is not a value of '${a}'`);
  }
  const empty = specs.find((o) => Object.values(o.args).some((d) => d.length === 0));
  if (empty) throw new UsageError(`--domain leaves ${empty.name} no value of an argument: add one, or leave it out with --ops`);
  return { ...target, ops: specs };
}

/** How the restriction reads in a verdict: ' (ops create, open; type=mtty-1)', or ''. */
export function restrictionText(ops?: string, domain?: string): string {
  const parts = [ops ? `ops ${ops.split(',').join(', ')}` : '', domain ? domain.split(',').join(', ') : ''].filter(Boolean);
  return parts.length ? ` (${parts.join('; ')})` : '';
}
