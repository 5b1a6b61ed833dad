// Reads-from pairs of an execution, after RFF (Wolff, Shi, Dorn, Roychoudhury, "Greybox Fuzzing for
// Concurrency Testing", ASPLOS 2024): a read by one CPU of a field another CPU wrote last. RFF
// takes the set of pairs an execution exhibits as its coverage, and mutates schedules by adding or
// negating pairs, which moves the search to the orderings that matter instead of random steps. Here
// the pairs come from the access record the kernel accessors keep (harness/kernel/access.ts):
// a sync (lock, kref, completion) reads and writes its word; the allocation or free of an object
// writes every field of it. Pairs within one CPU are not interleavings, and are left out.

import type { AccessLog } from '../kernel/access.js';
import { accessField, accessKind, accessLoc, accessObject, READ, SYNC, WHOLE, WRITE } from '../kernel/access.js';
import type { TraceStep } from '../types.js';

/** A step of a CPU: its own step count before it (the canonical schedule's `step`) and its label. */
export interface RfStep {
  cpu: number;
  step: number;
  label: string;
}

export interface ReadsFrom {
  writer: RfStep;
  reader: RfStep;
}

/** The coverage key of a pair: the writer's and the reader's labels. */
export const rfKey = (p: ReadsFrom): string => `${p.writer.label}>${p.reader.label}`;

/** At most this many pairs of an execution are kept with its queue entry. */
export const MAX_ENTRY_PAIRS = 16;

/** A pair as a queue entry keeps it: writer CPU and step, reader CPU and step. */
export type RfSteps = [wcpu: number, wstep: number, rcpu: number, rstep: number];

/** The cross-CPU reads-from pairs of an execution, one per (writer step, reader step), in the order of the reads. */
export function readsFrom(trace: readonly TraceStep[], log: AccessLog): ReadsFrom[] {
  const own: number[] = [];
  const lastWrite = new Map<number, { t: number; at: RfStep }>();
  const lastWhole = new Map<number, { t: number; at: RfStep }>();
  const out: ReadsFrom[] = [];
  const seen = new Set<string>();
  trace.forEach(([cpu, label], t) => {
    const at: RfStep = { cpu, step: own[cpu] ?? 0, label };
    own[cpu] = at.step + 1;
    for (const a of log.of(t)) {
      const kind = accessKind(a);
      const loc = accessLoc(a);
      if (kind === READ || kind === SYNC) {
        const field = lastWrite.get(loc);
        const whole = lastWhole.get(accessObject(a));
        const w = field && whole ? (field.t > whole.t ? field : whole) : (field ?? whole);
        const key = w && `${w.t}:${t}`;
        if (w && w.at.cpu !== cpu && !seen.has(key!)) {
          seen.add(key!);
          out.push({ writer: w.at, reader: at });
        }
      }
      if (kind === WRITE || kind === SYNC) (accessField(a) === WHOLE ? lastWhole.set(accessObject(a), { t, at }) : lastWrite.set(loc, { t, at }));
    }
  });
  return out;
}

/**
 * The pairs a queue entry keeps: the first of each coverage key, those whose key is in `fresh` (new
 * to the campaign) first, at most MAX_ENTRY_PAIRS.
 */
export function entryPairs(pairs: readonly ReadsFrom[], fresh: ReadonlySet<string>): RfSteps[] {
  const byKey = new Map<string, ReadsFrom>();
  for (const p of pairs) if (!byKey.has(rfKey(p))) byKey.set(rfKey(p), p);
  const all = [...byKey.entries()];
  const ordered = [...all.filter(([k]) => fresh.has(k)), ...all.filter(([k]) => !fresh.has(k))];
  return ordered.slice(0, MAX_ENTRY_PAIRS).map(([, p]) => [p.writer.cpu, p.writer.step, p.reader.cpu, p.reader.step]);
}
