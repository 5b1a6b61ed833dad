// `mdevfuzz corpus list | check | merge | migrate`: the corpus as the regression suite. `list` shows
// what the entries hold (and their hits from results/history.json), `check` replays every one (exit
// 1 naming each that fails, or when there is none; each that passes is recorded as re-verified),
// `merge` folds corpora into one, the same bytes whatever the order of its inputs, all or nothing,
// and counts the runs the inputs came from in the history once; `migrate` rewrites old entries.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseEntry, schemaVersionOf, serializeEntry, SCHEMA_VERSION, type CorpusEntry } from '../corpus/entry.js';
import { addToHistory, readHistory, readRunHits, type RunHits } from '../corpus/history.js';
import { targetHash } from '../corpus/identity.js';
import { withLock } from '../corpus/lock.js';
import { bestRepro, byTargetAndSignature, layoutEntries, mergeEntries } from '../corpus/merge.js';
import { originalRepro } from '../corpus/minimize-entry.js';
import { scanEntries, type Scanned } from '../corpus/scan.js';
import { commitAll } from '../corpus/stage.js';
import { recordVerified } from '../corpus/verified.js';
import { DEFAULT_LIMITS, GuardedPool } from '../engine/pool/guarded-pool.js';
import { GuardedWork } from './guarded-work.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import { limitsOf, type LimitFlags } from './limits.js';
import { writeFileAtomic } from '../corpus/store.js';
import { countOps } from '../engine/program.js';
import type { Repro } from '../minimize/executor.js';
import { findTarget } from '../../targets/index.js';
import { formatCount, formatTable } from './format.js';

const warn = (line: string): boolean => process.stderr.write(`mdevfuzz: warning: ${line}\n`);

function dims(r: Repro): { cpus: number; ops: number; preemptions: number } {
  return { cpus: r.program.cpus.length, ops: countOps(r.program), preemptions: r.schedule.length };
}

/** `cpus/ops/preemptions`, the size of a repro at a glance. */
function size(r: Repro): string {
  return Object.values(dims(r)).join('/');
}

function valid(scanned: readonly Scanned[]): { file: string; entry: CorpusEntry }[] {
  return scanned.flatMap((s) => (s.entry ? [{ file: s.file, entry: s.entry }] : []));
}

export async function corpusListCommand(dir: string, o: { json?: boolean; results: string }): Promise<number> {
  const scanned = await scanEntries([dir]);
  const entries = valid(scanned).sort((a, b) => byTargetAndSignature(a.entry, b.entry));
  for (const s of scanned) if (s.error) warn(`${s.error.message} (not an entry)`);
  const bad = scanned.length - entries.length;
  const history = await readHistory(o.results);
  const seen = (e: CorpusEntry) => history.findings[e.target]?.[e.signature];
  if (o.json) {
    const rows = entries.map(({ file, entry: e }) => {
      const { target, signature, kind, minimizePending } = e;
      const h = seen(e);
      return { file, target, signature, kind, hits: h?.hits ?? 0, runs: h?.runs ?? 0, lastSeen: h?.lastSeen ?? null, minimizePending, found: dims(e), minimized: e.minimized && dims(e.minimized) };
    });
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (entries.length === 0) {
    process.stdout.write(`no entries under ${dir}\n`);
  } else {
    const columns = [
      { header: 'target' }, { header: 'signature' }, { header: 'kind' }, { header: 'hits', right: true }, { header: 'runs', right: true }, { header: 'last seen' },
      { header: 'as found', right: true }, { header: 'minimized', right: true },
    ];
    const rows = entries.map(({ entry: e }) => {
      const h = seen(e);
      return [e.target, e.signature, e.kind, h ? formatCount(h.hits) : '-', h ? formatCount(h.runs) : '-', h ? h.lastSeen.slice(0, 10) : '-', size(e), e.minimized ? size(e.minimized) : e.minimizePending ? 'pending' : '-'];
    });
    process.stdout.write(`${formatTable(columns, rows, '')}\n\n${entries.length} entries; repro sizes as cpus/ops/preemptions; hits and runs from ${path.join(o.results, 'history.json')}\n`);
  }
  return bad > 0 ? 1 : 0;
}

export interface CheckResult {
  file: string;
  signature: string | null;
  /** The forms that were replayed and reproduced. */
  passed: ('minimized' | 'original')[];
  /** Why the file fails; empty when it passes. */
  problems: string[];
}

export interface CorpusCheckOptions extends LimitFlags {
  json?: boolean;
  results: string;
  /** The module of a target that is not bundled: entries of its name replay on it. */
  targetFile?: string;
}

/**
 * Parse, validate and replay one scanned file: its minimized form when it has one, and its
 * original, each on a worker of `pool` under the watchdog: a repro that stalls (or passes the heap
 * cap) is that finding, and fails the entry unless it is the entry's signature (a stall entry).
 */
export async function checkScanned(s: Scanned, pool: GuardedPool, refOf: (target: string) => TargetRef | undefined): Promise<CheckResult> {
  if (!s.entry) return { file: s.file, signature: null, passed: [], problems: [s.error.problem] };
  const e = s.entry;
  const result: CheckResult = { file: s.file, signature: e.signature, passed: [], problems: [] };
  const ref = refOf(e.target);
  if (!ref) return { ...result, problems: [`target '${e.target}' is not bundled (pass its module with --target-file)`] };
  const forms = [...(e.minimized ? [['minimized', e.minimized] as const] : []), ['original', originalRepro(e)] as const];
  for (const [form, repro] of forms) {
    const r = await pool.replay({ target: ref, replay: { program: repro.program, faults: [...repro.faults], schedule: repro.schedule }, opts: {} });
    const titles = r.result.findings.map((f) => f.title);
    if (titles.includes(e.signature)) result.passed.push(form);
    else if (r.killed) {
      const what = r.killed.finding.kind === 'stall' ? 'stalled' : r.killed.finding.kind === 'oom' ? 'ran out of heap' : 'lost its worker';
      result.problems.push(`the ${form} repro ${what} (${r.killed.finding.title}; its worker was terminated)`);
    } else result.problems.push(`the ${form} repro does not reproduce its signature (${titles.length ? `found instead: ${titles.join('; ')}` : 'found nothing'})`);
  }
  return result;
}

export async function corpusCheckCommand(paths: readonly string[], o: CorpusCheckOptions): Promise<number> {
  const fileRef = o.targetFile !== undefined ? { file: o.targetFile } : undefined;
  const fileTarget = fileRef ? (await loadTarget(fileRef)).name : undefined;
  const scanned = await scanEntries(paths);
  if (scanned.length === 0) {
    // A regression suite with nothing in it passes nothing: a wrong path must not look green.
    if (o.json) process.stdout.write('[]\n');
    process.stderr.write(`mdevfuzz: no entries under ${paths.join(', ')}: nothing checked\n`);
    return 1;
  }
  const refOf = (target: string): TargetRef | undefined => (target === fileTarget ? fileRef : findTarget(target) ? { name: target } : undefined);
  // Target code runs on a worker thread under the watchdog, never here: a repro that never yields
  // fails its entry, and the check goes on.
  const pool = new GuardedPool(1, limitsOf(o));
  const results: CheckResult[] = [];
  try {
    for (const s of scanned) results.push(await checkScanned(s, pool, refOf));
  } finally {
    await pool.close();
  }
  const failed = results.filter((r) => r.problems.length > 0);
  // Each entry that passed was re-verified against the current target code: remembered in results/.
  const verified = scanned.flatMap((s, i) => (s.entry && results[i]!.problems.length === 0 ? [{ entry: s.entry, targetHash: targetHash(refOf(s.entry.target)!) }] : []));
  await recordVerified(o.results, verified).catch((e: unknown) => warn(`could not record the re-verified entries in ${o.results}: ${e instanceof Error ? e.message : String(e)}`));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return failed.length > 0 ? 1 : 0;
  }
  const lines = results.map((r) => (r.problems.length === 0 ? `ok    ${r.file}  (${r.passed.join(' and ')})` : `FAIL  ${r.file}: ${r.problems.join('; ')}`));
  lines.push(`${results.length} entries checked: ${results.length - failed.length} passed, ${failed.length} failed`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed.length > 0 ? 1 : 0;
}

/**
 * Steps of the repros that a merge compares by steps (those tied on operations and preemptions
 * with another entry of their signature), replayed on their bundled target on a guarded worker: a
 * repro that stalls there counts as the longest. Every other entry, and one of a target that is
 * not bundled, counts 0.
 */
async function stepsOfTies(entries: readonly CorpusEntry[]): Promise<(e: CorpusEntry) => number> {
  const steps = new Map<CorpusEntry, number>();
  const size = (e: CorpusEntry): string => {
    const r = bestRepro(e);
    return JSON.stringify([e.target, e.signature, countOps(r.program), r.schedule.length]);
  };
  const bySize = new Map<string, CorpusEntry[]>();
  for (const e of entries) bySize.set(size(e), [...(bySize.get(size(e)) ?? []), e]);
  // The same entry twice (a corpus merged into itself, a run's copy of an entry) ties on steps too.
  const differ = (g: CorpusEntry[]): boolean => new Set(g.map((e) => serializeEntry(e))).size > 1;
  const tied = [...bySize.values()].filter(differ).flat().filter((e) => findTarget(e.target));
  const works = new Map<string, GuardedWork>();
  try {
    for (const e of tied) {
      const work = works.get(e.target) ?? new GuardedWork({ name: e.target }, DEFAULT_LIMITS);
      works.set(e.target, work);
      const r = await work.replay(bestRepro(e));
      steps.set(e, !r || r.killed ? Number.MAX_SAFE_INTEGER : r.result.steps);
    }
  } finally {
    for (const w of works.values()) await w.close();
  }
  return (e) => steps.get(e) ?? 0;
}

export interface CorpusMergeResult {
  /** Every entry of OUT after the merge, by file. */
  files: Map<string, CorpusEntry>;
  inputs: number;
  written: number;
  moved: number;
}

/** Another writer changed a file of OUT between the merge's reading and its writing: nothing was written. */
export class MergeConflict extends UsageError {}

/** The runs whose corpus/ folders are among `dirs` (results/<run-id>/corpus), by their hits.json. */
export async function runsOfCorpusDirs(dirs: readonly string[]): Promise<RunHits[]> {
  const runs: RunHits[] = [];
  for (const d of dirs) {
    if (path.basename(path.resolve(d)) !== 'corpus') continue;
    const r = await readRunHits(path.dirname(path.resolve(d)));
    if (r) runs.push(r);
  }
  return runs;
}

/**
 * Merge the entries under `dirs` (and those already in `out`) into `out`, all or nothing: a
 * UsageError naming every invalid input writes nothing, and so does a failure while writing.
 */
export async function mergeCorpora(out: string, dirs: readonly string[]): Promise<CorpusMergeResult> {
  const outStat = await fs.stat(out).catch(() => undefined);
  if (outStat && !outStat.isDirectory()) throw new UsageError(`${out}: not a directory`);
  // OUT's own entries take part: merging into a corpus never loses what it held.
  const scanned = await scanEntries(outStat ? [...dirs, out] : dirs);
  const invalid = scanned.filter((s) => s.error);
  if (invalid.length > 0) {
    throw new UsageError(`nothing written: ${invalid.length} invalid input file${invalid.length > 1 ? 's' : ''}: ${invalid.map((s) => s.error!.message).join('; ')}`);
  }
  const inputs = valid(scanned);
  const entries = inputs.map((s) => s.entry);
  const files = layoutEntries(out, mergeEntries(entries, await stepsOfTies(entries)));
  const writes = new Map<string, string>();
  const before = new Map<string, string | undefined>();
  for (const [file, entry] of files) {
    const text = serializeEntry(entry);
    const now = await fs.readFile(file, 'utf8').catch(() => undefined);
    before.set(file, now);
    if (now !== text) writes.set(file, text);
  }
  // A file of OUT whose entry is now held under another name (e.g. its slug was taken) goes.
  const kept = new Set([...files.keys()].map((f) => path.resolve(f)));
  const under = (file: string): boolean => !path.relative(path.resolve(out), path.resolve(file)).startsWith('..');
  const stale = inputs.filter((s) => under(s.file) && !kept.has(path.resolve(s.file))).map((s) => s.file);
  for (const f of stale) before.set(f, await fs.readFile(f, 'utf8').catch(() => undefined));
  // Hold the lock of every file written (in one order, so two merges cannot deadlock), and write
  // only if none changed since it was read: a run that replaced an entry meanwhile is not undone.
  // (Files in directories that do not exist yet need no lock: commitAll creates the directories,
  // and removes them again when it fails.)
  const touched = [...new Set([...writes.keys(), ...stale])].sort();
  const locked: string[] = [];
  for (const f of touched) if ((await fs.stat(path.dirname(f)).catch(() => undefined))?.isDirectory()) locked.push(f);
  const holding = async (i: number): Promise<void> => {
    if (i < locked.length) return withLock(locked[i]!, () => holding(i + 1));
    for (const file of touched) {
      if ((await fs.readFile(file, 'utf8').catch(() => undefined)) !== before.get(file)) throw new MergeConflict(`nothing written: ${file} changed while merging; run the merge again`);
    }
    await commitAll(writes, stale);
  };
  if (touched.length > 0) await holding(0);
  return { files, inputs: inputs.length, written: writes.size, moved: stale.length };
}

/** mergeCorpora, done again (from a fresh read) when another writer changed OUT under it. */
export async function mergeCorporaRetrying(out: string, dirs: readonly string[], attempts = 10): Promise<CorpusMergeResult> {
  for (let i = 1; ; i++) {
    try {
      return await mergeCorpora(out, dirs);
    } catch (e) {
      if (!(e instanceof MergeConflict) || i >= attempts) throw e;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 50 * i));
    }
  }
}

export async function corpusMergeCommand(out: string, dirs: readonly string[], o: { results: string }): Promise<number> {
  const m = await mergeCorporaRetrying(out, dirs);
  const moved = m.moved > 0 ? `, ${m.moved} moved` : '';
  // The hits of the runs these corpora came from, counted once in the history however often merged.
  const runs = await runsOfCorpusDirs(dirs);
  const h = runs.length > 0 ? await addToHistory(o.results, runs) : { added: [], skipped: [] };
  const counted = runs.length > 0 ? `; history ${path.join(o.results, 'history.json')}: ${h.added.length} run${h.added.length === 1 ? '' : 's'} added${h.skipped.length > 0 ? `, ${h.skipped.length} already counted` : ''}` : '';
  process.stdout.write(`${out}: ${m.files.size} entries from ${m.inputs} files (${m.written} written, ${m.files.size - m.written} unchanged${moved})${counted}\n`);
  return 0;
}

/**
 * Rewrite every entry under `paths` that is not in the current schema (schema 1: counters dropped,
 * not pending), each atomically under its lock; entries already current are left byte for byte.
 * Nothing is written when any file is not a valid entry.
 */
export async function corpusMigrateCommand(paths: readonly string[], o: { json?: boolean; check?: boolean }): Promise<number> {
  const scanned = await scanEntries(paths);
  const invalid = scanned.filter((s) => s.error);
  if (invalid.length > 0) throw new UsageError(`nothing migrated: ${invalid.length} invalid file${invalid.length > 1 ? 's' : ''}: ${invalid.map((s) => s.error!.message).join('; ')}`);
  const old: { file: string; from: unknown; text: string }[] = [];
  for (const s of valid(scanned)) {
    const text = await fs.readFile(s.file, 'utf8');
    const next = serializeEntry(s.entry);
    if (text !== next) old.push({ file: s.file, from: schemaVersionOf(text), text: next });
  }
  if (!o.check) {
    for (const m of old) {
      await withLock(m.file, async () => {
        const now = await fs.readFile(m.file, 'utf8');
        await writeFileAtomic(m.file, serializeEntry(parseEntry(now, m.file)));
      });
    }
  }
  if (o.json) process.stdout.write(`${JSON.stringify({ schemaVersion: SCHEMA_VERSION, entries: scanned.length, migrated: old.map((m) => ({ file: m.file, from: m.from })), check: !!o.check }, null, 2)}\n`);
  else {
    for (const m of old) process.stdout.write(`${o.check ? 'old   ' : 'migrated'}  ${m.file}  (schema ${String(m.from)} -> ${SCHEMA_VERSION})\n`);
    process.stdout.write(`${scanned.length} entries: ${old.length} ${o.check ? 'to migrate' : 'migrated'} to schema ${SCHEMA_VERSION}, ${scanned.length - old.length} already current\n`);
  }
  return o.check && old.length > 0 ? 1 : 0;
}
