// `mdevfuzz replay FILE`: re-execute a corpus entry exactly (its minimized form when it has one) and
// say whether its signature recurred. Exit code: 0 it did, 1 it did not, 2 the file is not an entry.

import { promises as fs } from 'node:fs';
import { CorpusError, parseEntry, type CorpusEntry } from '../corpus/entry.js';
import { targetHash } from '../corpus/identity.js';
import { replaceEntry } from '../corpus/store.js';
import { recordVerified, reproDigest, verifiedWith } from '../corpus/verified.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import { GuardedPool, type ExecutionLimits } from '../engine/pool/guarded-pool.js';
import type { ExecResult } from '../types.js';
import { limitsOf } from './limits.js';
import { haltedRun } from './watchdog-entry.js';
import { checkWarmUp, replayThreads, withThreadsEngine, type EngineName } from '../engine/threads/threads-run.js';
import { renderLadder, terminalWidth } from '../report/ladder.js';
import type { Target } from '../target.js';
import type { Finding } from '../types.js';
import { findTarget } from '../../targets/index.js';

export interface ReplayOptions {
  json?: boolean;
  ladder?: boolean;
  /** The ladder's width in characters (default: the terminal's, or 100 when stdout is not one). */
  width?: number;
  /** Load the target from this file instead of the bundled target the entry names. */
  targetFile?: string;
  /** 'threads': each CPU on its own worker thread (the same result as inline, by design). */
  engine?: EngineName;
  /** Where verified.json lives (default ./results). */
  results?: string;
  /** When it reproduces, write the current target hash into the entry file. */
  update?: boolean;
  stallTimeout?: number;
  workerMemory?: number;
  /** Print each step with the accesses it made (the access record, harness/kernel/access.ts). */
  accesses?: boolean;
}

export interface ReplayReport {
  file: string;
  target: string;
  signature: string;
  kind: string;
  /** Which repro ran. */
  form: 'minimized' | 'original';
  reproduced: boolean;
  /** False when the target's code changed since the entry was written or last re-verified (corpus check, a replay). */
  sameTargetHash: boolean;
  /** With --update: whether the entry file was rewritten with the current target hash. */
  updated?: boolean;
  /** Everything the replay found, the signature's finding included when it recurred. */
  findings: Pick<Finding, 'kind' | 'title' | 'detail'>[];
  ladder?: string;
  /** With --accesses: each step as `cpu label`, then what it read, wrote and synchronised on. */
  steps?: { cpu: number; label: string; accesses: string[] }[];
}

export async function readCorpusFile(file: string): Promise<CorpusEntry> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw new CorpusError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `cannot be read (${(e as Error).message})`);
  }
  return parseEntry(text, file);
}

function printReport(r: ReplayReport, entry: CorpusEntry): void {
  const lines: string[] = [];
  const match = r.findings.find((f) => f.title === r.signature);
  lines.push(`${r.reproduced ? 'reproduced' : 'did NOT reproduce'}: ${r.signature}`);
  lines.push(`  ${r.target}, ${r.form} repro, found with seed ${JSON.stringify(entry.seed)} at index ${entry.index} (${entry.strategy} depth ${entry.depth})`);
  if (!r.sameTargetHash) lines.push(`  note: the target's code changed since this entry was written or last re-verified (${entry.targetHash})`);
  if (r.updated) lines.push(`  updated: ${r.file} now records the current target hash`);
  if (match) lines.push('', `${match.kind}: ${match.title}`, ...match.detail.map((d) => `  ${d}`));
  const others = r.findings.filter((f) => f.title !== r.signature);
  if (others.length > 0) lines.push('', r.reproduced ? 'the replay also found:' : 'the replay found instead:', ...others.map((f) => `  ${f.title}`));
  if (!r.reproduced && others.length === 0) lines.push('', 'the replay found nothing.');
  if (r.ladder !== undefined) lines.push('', r.ladder);
  if (r.steps) lines.push('', 'steps (cpu, the preemption point it ran to, what it touched on the way):', ...r.steps.map((st, t) => `  ${String(t).padStart(4)} cpu${st.cpu} ${st.label}${st.accesses.length > 0 ? `: ${st.accesses.join(', ')}` : ''}`));
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** How to load the target of the entry in `file`: the bundled one it names, or `targetFile`. */
export function entryTargetRef(file: string, entry: CorpusEntry, targetFile?: string): TargetRef {
  if (targetFile === undefined && !findTarget(entry.target)) {
    throw new UsageError(`${file}: target '${entry.target}' is not bundled; pass its module with --target-file FILE`);
  }
  return targetFile !== undefined ? { file: targetFile } : { name: entry.target };
}

/** The target of the entry in `file`, checked to be the one it names. */
export async function entryTarget(file: string, entry: CorpusEntry, targetFile?: string): Promise<Target> {
  const target = await loadTarget(entryTargetRef(file, entry, targetFile));
  if (target.name !== entry.target) throw new UsageError(`${file} is an entry of target '${entry.target}', not of '${target.name}'`);
  return target;
}

export async function replayCommand(file: string, o: ReplayOptions): Promise<number> {
  const entry = await readCorpusFile(file);
  const ref = entryTargetRef(file, entry, o.targetFile);
  const target = await entryTarget(file, entry, o.targetFile);
  const repro = entry.minimized ?? entry;
  const limits = limitsOf(o);
  if (o.accesses && o.engine === 'threads') throw new UsageError('--accesses needs --engine inline: the threads engine keeps no access record');
  if (o.engine === 'threads') await checkWarmUp(ref, target, limits);
  const { result } =
    o.engine === 'threads'
      ? await withThreadsEngine((e) => replayThreads(e, ref, target, repro.program, repro.faults, repro.schedule, { events: true }), { stepTimeoutMs: limits.stallMs, memoryMb: limits.memoryMb })
      : await guardedReplay(ref, target, entry, repro, limits, o.accesses === true);
  const report: ReplayReport = {
    file,
    target: target.name,
    signature: entry.signature,
    kind: entry.kind,
    form: entry.minimized ? 'minimized' : 'original',
    reproduced: result.findings.some((f) => f.title === entry.signature),
    sameTargetHash: await verifiedWith(o.results ?? './results', entry, targetHash(ref)),
    findings: result.findings.map((f) => ({ kind: f.kind, title: f.title, detail: f.detail })),
  };
  if (report.reproduced) {
    // A replay that reproduces re-verifies the entry against the current target code.
    const hash = targetHash(ref);
    await recordVerified(o.results ?? './results', [{ entry, targetHash: hash }]).catch(() => undefined);
    if (o.update) {
      report.updated = await replaceEntry(file, { ...entry, targetHash: hash }, (current) => current !== undefined && current.targetHash !== hash && reproDigest(current) === reproDigest(entry));
    }
  }
  if (o.accesses && result.trace && result.accesses) report.steps = result.trace.map(([cpu, label], i) => ({ cpu, label, accesses: result.accesses![i]! }));
  if (o.ladder) report.ladder = renderLadder(result.events ?? [], repro.program.cpus.length, { start: repro.program.start, width: o.width ?? terminalWidth() });
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else printReport(report, entry);
  return report.reproduced ? 0 : 1;
}

/**
 * The replay on a worker thread under the watchdog, so that an entry that stalls (or runs out of
 * heap) reports that instead of hanging: its events are then those of the run up to the step
 * that never finished, with the finding marked there.
 */
async function guardedReplay(ref: TargetRef, target: Target, entry: CorpusEntry, repro: Pick<CorpusEntry, 'program' | 'faults' | 'schedule'>, limits: ExecutionLimits, accesses: boolean): Promise<{ result: ExecResult }> {
  const pool = new GuardedPool(1, limits);
  try {
    const r = await pool.replay({ target: ref, replay: { program: repro.program, faults: repro.faults, schedule: repro.schedule }, opts: accesses ? { events: true, trace: true, accesses: true, accessText: true } : { events: true } });
    if (!r.killed) return r;
    const cfg = { seed: entry.seed, strategy: entry.strategy, depth: entry.depth };
    const halted = haltedRun({ target, cfg }, { index: entry.index, repro: { ...repro, faults: [...repro.faults] }, step: r.killed.beat.step });
    const title = r.killed.finding.title;
    return { result: { ...r.result, events: [...(halted.result.events ?? []), { e: 'finding', cpu: halted.result.haltedOn ?? 0, title }] } };
  } finally {
    await pool.close();
  }
}
