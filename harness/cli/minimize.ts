// `mdevfuzz minimize FILE`: shrink a corpus entry's original repro for its signature, store the
// result in its `minimized` field with the ladder redrawn from it, and print a before/after table.
// Exit code: 0 minimized, 1 the entry no longer reproduces, 2 the file is not an entry.

import path from 'node:path';
import { WATCHDOG_KINDS } from '../types.js';
import { UsageError } from '../engine/load.js';
import { CorpusError } from '../corpus/entry.js';
import { originalRepro, type EntryMinimizeStats } from '../corpus/minimize-entry.js';
import { replaceEntry } from '../corpus/store.js';
import { checkWritableDir } from './run.js';
import { DEFAULT_TIME_MS } from '../minimize/minimize.js';
import { formatCount, formatDuration, formatTable } from './format.js';
import { entryTarget, entryTargetRef, readCorpusFile } from './replay.js';
import { replaysSignatureThreads, type EngineName } from '../engine/threads/threads-run.js';
import { GuardedWork } from './guarded-work.js';
import { limitsOf, type LimitFlags } from './limits.js';

export interface MinimizeOptions extends LimitFlags {
  json?: boolean;
  budgetMs?: number;
  targetFile?: string;
  /** 'threads': the original and the minimized repro are checked on the threads engine (the search runs inline). */
  engine?: EngineName;
}

export interface MinimizeReport {
  file: string;
  target: string;
  signature: string;
  reproduced: boolean;
  /** Absent when the entry no longer reproduces. */
  stats?: EntryMinimizeStats;
  /** What the replay of the original found instead, when it no longer reproduces. */
  foundInstead?: string[];
}

const SIZES = ['cpus', 'ops', 'preemptions', 'faults', 'steps'] as const;

/** The before/after table shared with `run`'s summary. */
export function sizeTable(s: EntryMinimizeStats): string {
  const rows = SIZES.map((k) => [k, formatCount(s.before[k]), formatCount(s.after[k])]);
  return formatTable([{ header: '' }, { header: 'before', right: true }, { header: 'after', right: true }], rows);
}

export async function minimizeCommand(file: string, o: MinimizeOptions): Promise<number> {
  const entry = await readCorpusFile(file);
  if (WATCHDOG_KINDS.has(entry.kind)) throw new UsageError(`${file} is a ${entry.kind} entry: its repro already stops at the step that never finished, and it is not minimized`);
  const target = await entryTarget(file, entry, o.targetFile);
  await checkWritableDir(path.dirname(file), "the entry's directory"); // the entry is replaced there: refused before any work
  const report: MinimizeReport = { file, target: target.name, signature: entry.signature, reproduced: false };
  const ref = entryTargetRef(file, entry, o.targetFile);
  const threads = o.engine === 'threads' ? ref : undefined;
  // Every replay runs on a guarded worker: a candidate that never yields is skipped, not a hang.
  const work = new GuardedWork(ref, limitsOf(o));
  let minimized: Awaited<ReturnType<GuardedWork['minimize']>>;
  try {
    const titles = threads
      ? (await replaysSignatureThreads(threads, target, originalRepro(entry), entry.signature)).titles
      : ((await work.replay(originalRepro(entry)))?.result.findings.map((f) => f.title) ?? []);
    if (!titles.includes(entry.signature)) {
      report.foundInstead = titles;
      if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`did NOT reproduce: ${entry.signature}\n  the original repro of ${file} ${titles.length ? `found instead: ${titles.join('; ')}` : 'found nothing'}; the file is unchanged\n`);
      return 1;
    }
    minimized = await work.minimize(entry, o.budgetMs ?? DEFAULT_TIME_MS);
  } finally {
    await work.close();
  }
  if (minimized.kind === 'stopped') throw new Error('minimization stopped');
  for (const k of minimized.killed) process.stderr.write(`mdevfuzz: a candidate was skipped (${k})\n`);
  const { entry: shrunk, stats } = minimized.value;
  if (threads && shrunk.minimized && !(await replaysSignatureThreads(threads, target, shrunk.minimized, entry.signature)).reproduced) {
    throw new Error(`the minimized repro of ${file} does not reproduce on the threads engine; nothing written`);
  }
  // Under the entry's lock, read the file again just before writing: another run may have
  // replaced it meanwhile (with a smaller repro); the original must be the one minimized.
  let changed = false;
  await replaceEntry(file, { ...entry, minimized: shrunk.minimized, minimizePending: false, ladder: shrunk.ladder }, (current) => {
    changed = !current || JSON.stringify(originalRepro(current)) !== JSON.stringify(originalRepro(entry)) || current.signature !== entry.signature;
    return !changed;
  });
  if (changed) throw new CorpusError(file, 'changed while being minimized; nothing written');
  report.reproduced = true;
  report.stats = stats;
  if (o.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `minimized: ${entry.signature}`,
    `  ${target.name}, ${formatCount(stats.replays)} replays in ${formatDuration(stats.ms)}${stats.exhausted ? ' (the budget ran out first: run again with a larger --budget-ms to go further)' : ''}`,
    '',
    sizeTable(stats),
    '',
    shrunk.ladder,
    '',
    `written: ${file}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
