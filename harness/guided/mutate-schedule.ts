// Schedule mutators of coverage-guided search, on the canonical form (design.md section 6: "at
// cpu's step-th step, switch to `to`"): add a preemption, move one (another step or another CPU
// to switch to), drop one. The result is sorted by (cpu, step), one preemption per decision point.

import type { Rng } from '../rng.js';
import type { Preemption, Schedule } from '../types.js';
import type { RfSteps } from './reads-from.js';

/** How far a moved preemption goes, in steps of its CPU, either way. */
const MOVE_SPAN = 4;

export function normalize(schedule: readonly Preemption[]): Schedule {
  const at = new Map<string, Preemption>();
  for (const p of schedule) if (p.to !== p.cpu && p.step >= 0) at.set(`${p.cpu}:${p.step}`, p);
  return [...at.values()].sort((a, b) => a.cpu - b.cpu || a.step - b.step).map((p) => ({ ...p }));
}

function otherCpu(rng: Rng, ncpus: number, cpu: number): number {
  const to = rng.int(ncpus - 1);
  return to >= cpu ? to + 1 : to;
}

/**
 * Add, move or drop one preemption of a program of `ncpus` CPUs whose execution took `steps`
 * steps (so a CPU's own steps fall, on average, below steps / ncpus).
 */
export function mutatePreemptions(rng: Rng, schedule: Schedule, ncpus: number, steps: number): Schedule {
  if (ncpus < 2) return normalize(schedule);
  const choice = schedule.length === 0 ? 0 : rng.int(3);
  const out = schedule.map((p) => ({ ...p }));
  if (choice === 0) {
    const cpu = rng.int(ncpus);
    const span = Math.max(1, Math.ceil(steps / ncpus) + MOVE_SPAN);
    out.push({ cpu, step: rng.int(span), to: otherCpu(rng, ncpus, cpu) });
  } else if (choice === 1) {
    const p = out[rng.int(out.length)]!;
    if (rng.next() < 0.5 && ncpus > 2) p.to = otherCpu(rng, ncpus, p.cpu);
    else p.step = Math.max(0, p.step + (rng.next() < 0.5 ? -1 : 1) * (1 + rng.int(MOVE_SPAN)));
  } else {
    out.splice(rng.int(out.length), 1);
  }
  return normalize(out);
}

/** The schedule of the program without CPU c: its preemptions gone, the CPUs above renumbered. */
export function dropCpuFromSchedule(schedule: Schedule, c: number): Schedule {
  const shift = (x: number): number => (x > c ? x - 1 : x);
  return normalize(schedule.filter((p) => p.cpu !== c && p.to !== c).map((p) => ({ cpu: shift(p.cpu), step: p.step, to: shift(p.to) })));
}

/**
 * A preemption at one of the entry's reads-from pairs (RFF's mutation of a reads-from constraint):
 * negate it (switch away from the writer just before its write, to the reader, so the read comes
 * first) or move it on (switch away from the reader just before its read, to the writer's CPU,
 * so it reads a later write). A replay skips the switch when the CPU is not runnable there.
 */
export function mutateReadsFrom(rng: Rng, schedule: Schedule, pairs: readonly RfSteps[]): Schedule | undefined {
  if (pairs.length === 0) return undefined;
  const [wcpu, wstep, rcpu, rstep] = rng.pick(pairs);
  const p: Preemption = rng.next() < 0.5 ? { cpu: wcpu, step: wstep, to: rcpu } : { cpu: rcpu, step: rstep, to: wcpu };
  return normalize([...schedule, p]);
}
