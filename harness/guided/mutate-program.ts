// Program mutators of coverage-guided search: splice CPUs of two queue entries, insert an
// operation, drop one (or a CPU), change an argument. Each keeps the program within the generator's
// bounds (2-4 CPUs, at most MAX_OPS_PER_CPU operations each, arguments from the OpSpec domains), but
// a drop may leave a CPU fewer operations than the generator's MIN_OPS_PER_CPU, down to one; each
// returns undefined where it does not apply.

import { drawOp, MAX_OPS_PER_CPU, MAX_PROGRAM_CPUS, MIN_PROGRAM_CPUS, withCpus } from '../engine/program.js';
import type { Rng } from '../rng.js';
import type { Target } from '../target.js';
import type { Op, Program, Schedule } from '../types.js';
import { dropCpuFromSchedule } from './mutate-schedule.js';

const copyOps = (ops: readonly Op[]): Op[] => ops.map((o) => ({ op: o.op, args: { ...o.args } }));
const copy = (p: Program): Program => withCpus(p, p.cpus.map(copyOps));

/** m distinct elements of xs, in their order. */
function pickSome<T>(rng: Rng, xs: readonly T[], m: number): T[] {
  const idx = xs.map((_, i) => i);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, m).sort((a, b) => a - b).map((i) => xs[i]!);
}

/** 2-4 CPUs: some of a's (at least one), then some of b's, from a's start state; a fresh schedule suits the new mix. */
export function splice(rng: Rng, a: Program, b: Program): Program {
  const n = Math.min(MIN_PROGRAM_CPUS + rng.int(MAX_PROGRAM_CPUS - MIN_PROGRAM_CPUS + 1), a.cpus.length + b.cpus.length);
  const fromA = Math.max(n - b.cpus.length, 1 + rng.int(Math.min(a.cpus.length, n - 1)));
  const cpus = [...pickSome(rng, a.cpus, Math.min(fromA, a.cpus.length)), ...pickSome(rng, b.cpus, n - Math.min(fromA, a.cpus.length))];
  return withCpus(a, cpus.map(copyOps));
}

/** One operation drawn as the generator draws them, at a random place of a CPU that has room. */
export function insertOp(target: Target, rng: Rng, p: Program): Program | undefined {
  const room = p.cpus.map((ops, c) => (ops.length < MAX_OPS_PER_CPU ? c : -1)).filter((c) => c >= 0);
  if (room.length === 0 || target.ops.length === 0) return undefined;
  const out = copy(p);
  const ops = out.cpus[rng.pick(room)]!;
  const at = rng.int(ops.length + 1);
  ops.splice(at, 0, drawOp(target.ops, ops[at - 1], rng));
  return out;
}

/** One operation less (of a CPU with several), or else one CPU less; the schedule follows the CPUs. */
export function dropOp(rng: Rng, p: Program, schedule: Schedule): { program: Program; schedule: Schedule } | undefined {
  const several = p.cpus.map((ops, c) => (ops.length > 1 ? c : -1)).filter((c) => c >= 0);
  if (several.length > 0) {
    const out = copy(p);
    const ops = out.cpus[rng.pick(several)]!;
    ops.splice(rng.int(ops.length), 1);
    return { program: out, schedule };
  }
  if (p.cpus.length <= MIN_PROGRAM_CPUS) return undefined;
  const c = rng.int(p.cpus.length);
  return { program: withCpus(p, p.cpus.filter((_, i) => i !== c).map(copyOps)), schedule: dropCpuFromSchedule(schedule, c) };
}

/** One argument set to another value of its domain. */
export function changeArg(target: Target, rng: Rng, p: Program): Program | undefined {
  const spots: { cpu: number; at: number; name: string; domain: readonly (number | string)[] }[] = [];
  p.cpus.forEach((ops, cpu) =>
    ops.forEach((op, at) => {
      const spec = target.ops.find((s) => s.name === op.op);
      for (const [name, domain] of Object.entries(spec?.args ?? {})) if (domain.length > 1) spots.push({ cpu, at, name, domain });
    }),
  );
  if (spots.length === 0) return undefined;
  const s = rng.pick(spots);
  const out = copy(p);
  const args = out.cpus[s.cpu]![s.at]!.args;
  const others = s.domain.filter((v) => v !== args[s.name]);
  args[s.name] = rng.pick(others);
  return out;
}
