// A queue entry of coverage-guided search: an execution that reached coverage no earlier one had,
// kept as plain data (program, faults, and the canonical schedule it ran), so that a pool worker
// can mutate it and any execution derived from it replays exactly.

import type { Fault, Program, Schedule } from '../types.js';
import type { RfSteps } from './reads-from.js';

export interface QueueEntry {
  /** The execution index that added it. */
  index: number;
  program: Program;
  faults: Fault[];
  /** Its canonical schedule: replaying it gives the same execution. */
  schedule: Schedule;
  /** Steps it took (CPUs only), to size where a new preemption may go. */
  steps: number;
  /** Some of its cross-CPU reads-from pairs (those new to the campaign first), for the reads-from mutator. */
  rf?: RfSteps[];
}

/** Operations plus preemptions plus faults: the smaller, the more a cap keeps it. */
export function entrySize(e: Pick<QueueEntry, 'program' | 'schedule' | 'faults'>): number {
  return e.program.cpus.reduce((n, ops) => n + ops.length, 0) + e.schedule.length + e.faults.length;
}
