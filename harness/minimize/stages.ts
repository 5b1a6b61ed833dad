// The simplifications, one small function each: a stage returns a smaller repro that still shows
// the signature, or null when it found nothing. Adding one is a function and a line in STAGES.

import type { OpSpec } from '../target.js';
import type { Op, Schedule } from '../types.js';
import { withCpus } from '../engine/program.js';
import { ddmin } from './ddmin.js';
import type { OpSpans, Repro } from './executor.js';

export interface StageContext {
  readonly specs: readonly OpSpec[];
  /** Replays the candidate (each distinct one once) and says whether it still shows the signature; false once the budget is spent. */
  keeps(candidate: Repro): boolean;
  /** The repro with the schedule its replay recorded: only the preemptions that took effect. */
  canonical(repro: Repro): Repro;
  /** Where each CPU's operations began in its replay; undefined when the executor records no events. */
  spans(repro: Repro): OpSpans | undefined;
  /** Replays left in the budget. */
  budget(): number;
}

export type Stage = (repro: Repro, ctx: StageContext) => Repro | null;

/** In order: the program first (start state, CPUs, operations, arguments), then faults, then preemptions. */
export const STAGES: readonly Stage[] = [
  defaultStart,
  dropCpus,
  mergeCpus,
  dropOps,
  simplifyArgs,
  dropFaults,
  dropPreemptions,
  startWithFirstRunner,
  normalizeSchedule,
];

/**
 * For a target with a fixed program (Target.fixedProgram) the program is the test: its shape stays
 * (every CPU and operation, their arguments and CPU order); only the faults and the schedule shrink.
 */
export const FIXED_PROGRAM_STAGES: readonly Stage[] = [defaultStart, dropFaults, dropPreemptions, normalizeSchedule];

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The target's default start state (Program.start absent) instead of the one the repro names. */
export function defaultStart(r: Repro, ctx: StageContext): Repro | null {
  if (r.program.start === undefined) return null;
  const candidate = { ...r, program: { cpus: r.program.cpus } };
  return ctx.keeps(candidate) ? candidate : null;
}

export function dropCpus(r: Repro, ctx: StageContext): Repro | null {
  const n = r.program.cpus.length;
  const { items } = ddmin(range(n), (keep) => variants(r, keep).some((v) => ctx.keeps(v)), { maxCalls: ctx.budget() });
  return items.length < n ? variants(r, items).find((v) => ctx.keeps(v))! : null;
}

/** Dropping CPUs, a preemption to a dropped CPU either goes or passes on to whom that CPU handed over to. */
function variants(r: Repro, keep: readonly number[]): Repro[] {
  return [keepCpus(r, keep, true), keepCpus(r, keep, false)];
}

/**
 * The program on CPUs `keep` only, renumbered from 0. Preemptions of a dropped CPU go; one to a
 * dropped CPU goes too, or with `handOver` switches to whom that CPU handed over: the target of
 * its next preemption, else (it ran to its end) the next kept CPU in round-robin order. Dropping
 * CPU 0, which starts, the new CPU 0 hands over at once to whom it handed over.
 */
export function keepCpus(r: Repro, keep: readonly number[], handOver: boolean): Repro {
  const renumber = new Map(keep.map((old, i) => [old, i]));
  const handedTo = (cpu: number, after: number): number => {
    for (let to = cpu, j = after; ; ) {
      if (renumber.has(to)) return to;
      j = r.schedule.findIndex((q, k) => k > j && q.cpu === to);
      to = j < 0 ? (keep.find((c) => c > to) ?? keep[0]!) : r.schedule[j]!.to;
    }
  };
  const schedule: Schedule = [];
  if (handOver && !renumber.has(0) && handedTo(0, -1) !== keep[0]) schedule.push({ cpu: 0, step: 0, to: renumber.get(handedTo(0, -1))! });
  r.schedule.forEach((p, i) => {
    if (!renumber.has(p.cpu)) return;
    const to = handOver ? handedTo(p.to, i) : p.to;
    if (renumber.has(to) && to !== p.cpu) schedule.push({ cpu: renumber.get(p.cpu)!, step: p.step, to: renumber.get(to)! });
  });
  return { program: withCpus(r.program, keep.map((c) => r.program.cpus[c]!)), faults: r.faults, schedule };
}

/**
 * One CPU's operations moved to the front of another's, the CPU dropped: the setup another CPU did
 * first (a create before the open that races) can usually be done by the racing CPU itself. The
 * receiving CPU's preemptions move later by the steps the moved operations took.
 */
export function mergeCpus(r: Repro, ctx: StageContext): Repro | null {
  const n = r.program.cpus.length;
  const spans = ctx.spans(r);
  if (n < 2 || !spans) return null;
  for (let from = 0; from < n; from++) {
    for (let into = 0; into < n; into++) {
      if (from === into || ctx.budget() <= 0) continue;
      const moved = Math.max(0, spans.total[from]! - 1); // its steps, less the exit
      const cpus = r.program.cpus.map((ops, i) => (i === into ? [...r.program.cpus[from]!, ...ops] : ops));
      const schedule = r.schedule
        .filter((p) => p.cpu !== from && p.to !== from)
        .map((p) => (p.cpu === into ? { ...p, step: p.step + moved } : p));
      const candidate = keepCpus({ program: withCpus(r.program, cpus), faults: r.faults, schedule }, range(n).filter((c) => c !== from), false);
      if (ctx.keeps(candidate)) return ctx.canonical(candidate);
    }
  }
  return null;
}

/**
 * ddmin over each CPU's operations. Removing operations shifts the CPU's later step counts, so a
 * candidate that fails with the schedule as it is is retried with that CPU's preemptions moved
 * back by the steps the removed operations took.
 */
export function dropOps(r: Repro, ctx: StageContext): Repro | null {
  let cur = r;
  for (let c = 0; c < cur.program.cpus.length; c++) {
    const base = cur;
    const spans = ctx.spans(base);
    const n = base.program.cpus[c]!.length;
    let kept = base;
    const { items } = ddmin(
      range(n),
      (keep) => {
        const program = withCpus(base.program, base.program.cpus.map((ops, i) => (i === c ? keep.map((j) => ops[j]!) : ops)));
        // Trying the same candidate twice costs nothing: the context remembers results.
        const schedules = spans ? [base.schedule, shiftSchedule(base.schedule, c, spans, keep)] : [base.schedule];
        for (const schedule of schedules) {
          const candidate = { program, faults: base.faults, schedule };
          if (ctx.keeps(candidate)) {
            kept = candidate;
            return true;
          }
        }
        return false;
      },
      { tryEmpty: true, maxCalls: ctx.budget() },
    );
    if (items.length < n) cur = ctx.canonical(kept);
  }
  return cur === r ? null : cur;
}

/** `cpu`'s preemptions, with the steps of its operations not in `keep` taken out of their step counts. */
export function shiftSchedule(schedule: Schedule, cpu: number, spans: OpSpans, keep: readonly number[]): Schedule {
  const starts = spans.start[cpu]!;
  const removed = starts
    .map((start, j) => ({ start, end: Number.isFinite(starts[j + 1]) ? starts[j + 1]! : spans.total[cpu]! }))
    .filter((_, j) => !keep.includes(j));
  const shift = (step: number): number => removed.reduce((s, op) => s + Math.max(0, Math.min(step, op.end) - op.start), 0);
  return schedule.map((p) => (p.cpu === cpu ? { ...p, step: p.step - shift(p.step) } : p));
}

/**
 * Each argument replaced by the first earlier value of its domain that still keeps the signature:
 * first in every operation where it has the same value (a uuid created on one CPU and opened on
 * another changes in both or in neither), then in its own operation alone.
 */
export function simplifyArgs(r: Repro, ctx: StageContext): Repro | null {
  let cur = r;
  for (let c = 0; c < cur.program.cpus.length; c++) {
    for (let j = 0; j < cur.program.cpus[c]!.length; j++) {
      const spec = ctx.specs.find((s) => s.name === cur.program.cpus[c]![j]!.op);
      for (const [name, domain] of Object.entries(spec?.args ?? {})) {
        const old = cur.program.cpus[c]![j]!.args[name]!;
        const at = domain.indexOf(old);
        for (const value of domain.slice(0, at < 0 ? domain.length : at)) {
          const everywhere = replaceArg(cur, ctx.specs, () => true, name, old, value);
          const alone = replaceArg(cur, ctx.specs, (cpu, index) => cpu === c && index === j, name, old, value);
          const kept = [everywhere, alone].find((candidate) => ctx.keeps(candidate));
          if (kept) {
            cur = ctx.canonical(kept);
            break;
          }
        }
      }
    }
  }
  return cur === r ? null : cur;
}

/** Argument `name` set from `old` to `value` in the operations `where` picks whose domain has `value`. */
function replaceArg(r: Repro, specs: readonly OpSpec[], where: (cpu: number, index: number) => boolean, name: string, old: Op['args'][string], value: Op['args'][string]): Repro {
  const cpus = r.program.cpus.map((ops, c) =>
    ops.map((op, j) => {
      const fits = op.args[name] === old && where(c, j) && specs.find((s) => s.name === op.op)?.args[name]?.includes(value);
      return fits ? { op: op.op, args: { ...op.args, [name]: value } } : op;
    }),
  );
  return { ...r, program: withCpus(r.program, cpus) };
}

export function dropFaults(r: Repro, ctx: StageContext): Repro | null {
  const { items } = ddmin(r.faults, (faults) => ctx.keeps({ ...r, faults }), { tryEmpty: true, maxCalls: ctx.budget() });
  return items.length < r.faults.length ? { ...r, faults: items } : null;
}

export function dropPreemptions(r: Repro, ctx: StageContext): Repro | null {
  const { items } = ddmin(r.schedule, (schedule) => ctx.keeps({ ...r, schedule }), { tryEmpty: true, maxCalls: ctx.budget() });
  return items.length < r.schedule.length ? { ...r, schedule: items } : null;
}

/** A run whose CPU 0 hands over before its first step starts instead with that CPU renumbered 0: one preemption less. */
export function startWithFirstRunner(r: Repro, ctx: StageContext): Repro | null {
  const start = r.schedule.find((p) => p.cpu === 0 && p.step === 0);
  if (!start) return null;
  const order = [start.to, ...range(r.program.cpus.length).filter((c) => c !== start.to)];
  const candidate = keepCpus({ ...r, schedule: r.schedule.filter((p) => p !== start) }, order, false);
  return ctx.keeps(candidate) ? candidate : null;
}

/** The schedule the replay records: preemptions that never took effect (not runnable, or the default anyway) go. */
export function normalizeSchedule(r: Repro, ctx: StageContext): Repro | null {
  const c = ctx.canonical(r);
  return JSON.stringify(c.schedule) === JSON.stringify(r.schedule) ? null : c;
}
