// Confirming a stress failure inline. The ticket order of a stress execution says which CPU
// reached each preemption point first; replayed inline, at every step the runnable CPU whose next
// step came earliest in that order runs. The inline run records its canonical schedule as always,
// so a finding that recurs gets a deterministic repro, saved to the corpus like any other. One
// that does not recur is kept apart, with the raw trace, in <corpus>/<target>/unconfirmed/.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SCHEMA_VERSION, type CorpusEntry } from '../../corpus/entry.js';
import { harnessVersion, targetHash } from '../../corpus/identity.js';
import { slugify } from '../../corpus/slug.js';
import { writeFileAtomic } from '../../corpus/store.js';
import { renderLadder } from '../../report/ladder.js';
import { execRng } from '../../rng.js';
import { defaultNext, type Strategy } from '../../sched/strategy.js';
import type { Target } from '../../target.js';
import type { ExecResult, Finding, Schedule } from '../../types.js';
import { execute } from '../inline/inline.js';
import type { TargetRef } from '../load.js';
import { replayExecution } from '../runner.js';
import type { StressExecution } from './stress.js';

/** Among the runnable CPUs, the one whose next step took the smallest ticket. */
export function ticketOrder(tickets: readonly (readonly [number, string])[], ncpus: number): Strategy {
  const at: number[][] = Array.from({ length: ncpus }, () => []);
  tickets.forEach(([cpu], i) => at[cpu]?.push(i));
  return {
    name: 'ticket-order',
    start() {},
    pick(runnable, current, steps) {
      let best = -1;
      let first = Infinity;
      for (const c of runnable) {
        const i = at[c]![steps[c]!] ?? Infinity;
        if (i < first) [best, first] = [c, i];
      }
      return best < 0 ? defaultNext(runnable, current) : best;
    },
  };
}

export interface Confirmation {
  /** Titles of the stress execution that the inline replay found too. */
  confirmed: Set<string>;
  /** The canonical schedule of the inline replay: the repro of what it confirmed. */
  schedule: Schedule;
  inline: ExecResult;
}

export function confirmInline(target: Target, x: StressExecution, seed: string): Confirmation {
  // A stuck execution would stall this thread too, one whose worker died of its heap would take
  // this thread's: they stay unconfirmed, with their raw trace.
  if (x.end === 'stuck' || x.end === 'oom' || x.end === 'died') return { confirmed: new Set(), schedule: [], inline: { findings: [], steps: 0, schedule: [] } };
  const strategy = ticketOrder(x.tickets, x.program.cpus.length);
  const { result } = execute(target, x.program, strategy, execRng(seed, x.index, 'schedule'), { faults: x.faults });
  const inline = new Set(result.findings.map((f) => f.title));
  const confirmed = new Set(x.findings.map((f) => f.title).filter((t) => inline.has(t)));
  // The canonical schedule must replay the same way; if it did not, nothing is confirmed.
  if (confirmed.size > 0) {
    const again = replayExecution(target, x.program, x.faults, result.schedule).result;
    for (const t of confirmed) if (!again.findings.some((f) => f.title === t)) confirmed.delete(t);
  }
  return { confirmed, schedule: result.schedule, inline: result };
}

export interface StressSave {
  target: Target;
  ref: TargetRef;
  seed: string;
  seenAt: string;
}

/**
 * The corpus entry of a confirmed stress finding. Its seed is `stress:<seed>`: the program and
 * faults are those of that seed and index, the schedule is the one the inline replay recorded.
 */
export function stressEntry(ctx: StressSave, x: StressExecution, title: string, schedule: Schedule): CorpusEntry {
  const { result } = replayExecution(ctx.target, x.program, x.faults, schedule, { events: true });
  const found = result.findings.find((f) => f.title === title);
  if (!found) throw new Error(`the inline repro of stress execution ${x.index} does not show '${title}'`);
  return {
    schemaVersion: SCHEMA_VERSION,
    harnessVersion: harnessVersion(),
    targetHash: targetHash(ctx.ref),
    target: ctx.target.name,
    signature: title,
    kind: found.kind,
    seed: `stress:${ctx.seed}`,
    index: x.index,
    strategy: 'random',
    depth: 1,
    program: x.program,
    faults: x.faults,
    schedule,
    minimized: null,
    minimizePending: false,
    ladder: renderLadder(result.events ?? [], x.program.cpus.length, { start: x.program.start }),
    detail: found.detail,
  };
}

/** An unconfirmed stress finding on disk (not a corpus entry: it has no deterministic repro). */
export interface UnconfirmedRecord {
  unconfirmed: true;
  harnessVersion: string;
  targetHash: string;
  target: string;
  signature: string;
  kind: string;
  seed: string;
  index: number;
  program: StressExecution['program'];
  faults: StressExecution['faults'];
  /** The raw trace: [ticket, cpu, label] of every preemption point, in ticket order. */
  trace: [number, number, string][];
  /** What the inline replay of the ticket order ran, and what it found instead. */
  replaySchedule: Schedule;
  replayFound: string[];
  detail: string[];
  hits: number;
  firstSeen: string;
  lastSeen: string;
}

/** Write (or add hits to) `<corpus>/<target>/unconfirmed/<slug>.json`; returns the file. */
export async function saveUnconfirmed(dir: string, ctx: StressSave, x: StressExecution, finding: Finding, c: Confirmation, hits: number): Promise<string> {
  const file = path.join(dir, 'unconfirmed', `${slugify(finding.title)}.json`);
  let old: UnconfirmedRecord | undefined;
  try {
    old = JSON.parse(await fs.readFile(file, 'utf8')) as UnconfirmedRecord;
  } catch {
    old = undefined;
  }
  const record: UnconfirmedRecord =
    old && old.signature === finding.title
      ? { ...old, hits: old.hits + hits, lastSeen: ctx.seenAt }
      : {
          unconfirmed: true,
          harnessVersion: harnessVersion(),
          targetHash: targetHash(ctx.ref),
          target: ctx.target.name,
          signature: finding.title,
          kind: finding.kind,
          seed: `stress:${ctx.seed}`,
          index: x.index,
          program: x.program,
          faults: x.faults,
          trace: x.tickets.map(([cpu, label], ticket) => [ticket, cpu, label]),
          replaySchedule: c.schedule,
          replayFound: c.inline.findings.map((f) => f.title),
          detail: finding.detail,
          hits,
          firstSeen: ctx.seenAt,
          lastSeen: ctx.seenAt,
        };
  await writeFileAtomic(file, `${JSON.stringify(record, null, 2)}\n`);
  return file;
}
