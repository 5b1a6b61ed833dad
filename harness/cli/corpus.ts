// `mdevfuzz corpus list | check | merge`: the corpus as the regression suite. `list` shows what the
// entries hold, `check` replays every one (exit 1 naming each that fails), `merge` folds corpora
// into one, the same bytes whatever the order of its inputs.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { serializeEntry, type CorpusEntry } from '../corpus/entry.js';
import { bestRepro, byTargetAndSignature, layoutEntries, mergeEntries } from '../corpus/merge.js';
import { originalRepro, replaysSignature } from '../corpus/minimize-entry.js';
import { scanEntries, type Scanned } from '../corpus/scan.js';
import { writeFileAtomic } from '../corpus/store.js';
import { UsageError } from '../engine/load.js';
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

export async function corpusListCommand(dir: string, o: { json?: boolean }): Promise<number> {
  const scanned = await scanEntries([dir]);
  const entries = valid(scanned).sort((a, b) => byTargetAndSignature(a.entry, b.entry));
  for (const s of scanned) if (s.error) warn(`${s.error.message} (not an entry)`);
  const bad = scanned.length - entries.length;
  if (o.json) {
    const rows = entries.map(({ file, entry: e }) => {
      const { target, signature, kind, hits } = e;
      return { file, target, signature, kind, hits, found: dims(e), minimized: e.minimized && dims(e.minimized) };
    });
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
  } else if (entries.length === 0) {
    process.stdout.write(`no entries under ${dir}\n`);
  } else {
    const columns = [{ header: 'target' }, { header: 'signature' }, { header: 'kind' }, { header: 'hits', right: true }, { header: 'as found', right: true }, { header: 'minimized', right: true }];
    const rows = entries.map(({ entry: e }) => [e.target, e.signature, e.kind, formatCount(e.hits), size(e), e.minimized ? size(e.minimized) : '-']);
    process.stdout.write(`${formatTable(columns, rows, '')}\n\n${entries.length} entries; repro sizes as cpus/ops/preemptions\n`);
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

/** Parse, validate and replay one scanned file: its minimized form when it has one, and its original. */
export function checkScanned(s: Scanned): CheckResult {
  if (!s.entry) return { file: s.file, signature: null, passed: [], problems: [s.error.problem] };
  const e = s.entry;
  const result: CheckResult = { file: s.file, signature: e.signature, passed: [], problems: [] };
  const target = findTarget(e.target);
  if (!target) return { ...result, problems: [`target '${e.target}' is not bundled`] };
  const forms = [...(e.minimized ? [['minimized', e.minimized] as const] : []), ['original', originalRepro(e)] as const];
  for (const [form, repro] of forms) {
    const r = replaysSignature(target, repro, e.signature);
    if (r.reproduced) result.passed.push(form);
    else result.problems.push(`the ${form} repro does not reproduce its signature (${r.titles.length ? `found instead: ${r.titles.join('; ')}` : 'found nothing'})`);
  }
  return result;
}

export async function corpusCheckCommand(paths: readonly string[], o: { json?: boolean }): Promise<number> {
  const results = (await scanEntries(paths)).map(checkScanned);
  const failed = results.filter((r) => r.problems.length > 0);
  if (o.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return failed.length > 0 ? 1 : 0;
  }
  const lines = results.map((r) => (r.problems.length === 0 ? `ok    ${r.file}  (${r.passed.join(' and ')})` : `FAIL  ${r.file}: ${r.problems.join('; ')}`));
  lines.push(`${results.length} entries checked: ${results.length - failed.length} passed, ${failed.length} failed`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return failed.length > 0 ? 1 : 0;
}

/** Steps of an entry's repro, replayed on its bundled target (0 for a target that is not bundled). */
function stepsOf(): (e: CorpusEntry) => number {
  const memo = new Map<CorpusEntry, number>();
  return (e) => {
    let steps = memo.get(e);
    if (steps === undefined) {
      const target = findTarget(e.target);
      steps = target ? replaysSignature(target, bestRepro(e), e.signature).steps : 0;
      memo.set(e, steps);
    }
    return steps;
  };
}

export interface CorpusMergeResult {
  /** Every entry of OUT after the merge, by file. */
  files: Map<string, CorpusEntry>;
  inputs: number;
  written: number;
  moved: number;
}

/** Merge the entries under `dirs` (and those already in `out`) into `out`; a UsageError naming every invalid input writes nothing. */
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
  const files = layoutEntries(out, mergeEntries(inputs.map((s) => s.entry), stepsOf()));
  let written = 0;
  for (const [file, entry] of files) {
    const text = serializeEntry(entry);
    if ((await fs.readFile(file, 'utf8').catch(() => undefined)) === text) continue;
    await writeFileAtomic(file, text);
    written++;
  }
  // A file of OUT whose entry is now held under another name (e.g. its slug was taken) goes, so
  // that a later merge does not count its hits twice.
  const kept = new Set([...files.keys()].map((f) => path.resolve(f)));
  const under = (file: string): boolean => !path.relative(path.resolve(out), path.resolve(file)).startsWith('..');
  const stale = inputs.filter((s) => under(s.file) && !kept.has(path.resolve(s.file)));
  for (const s of stale) await fs.rm(s.file);
  return { files, inputs: inputs.length, written, moved: stale.length };
}

export async function corpusMergeCommand(out: string, dirs: readonly string[]): Promise<number> {
  const m = await mergeCorpora(out, dirs);
  const moved = m.moved > 0 ? `, ${m.moved} moved` : '';
  process.stdout.write(`${out}: ${m.files.size} entries from ${m.inputs} files (${m.written} written, ${m.files.size - m.written} unchanged${moved})\n`);
  return 0;
}
