// `mdevfuzz compare`: the same campaign (seed, strategy, budget) on several targets, one after the
// other, and one table of which signature each found first at which index. Rows: the seed
// problems the compared targets declare (P1-P5 of the mdev family, in order; none for a target
// file that declares none), then every other signature, sorted.
// Exit code: 0 every finding is in its target's expectations, 1 otherwise, 2 bad arguments.
// It writes results/<run-id>/compare.json and nothing to the corpus.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { harnessVersion, targetHash } from '../corpus/identity.js';
import { writeFileAtomic } from '../corpus/store.js';
import { defaultWorkers, runCampaign } from '../engine/campaign.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import type { GuideMode } from '../engine/runner.js';
import { expectationOf, type Target } from '../target.js';
import type { FindingKind } from '../types.js';
import { TARGETS, findTarget } from '../../targets/index.js';
import { formatCount, formatDuration, formatTable } from './format.js';
import { makeProgress } from './bars.js';
import { limitsOf, type LimitFlags } from './limits.js';
import { checkWritableDir, makeRunDir, seedProblems } from './run.js';
import { DEFAULT_STRATEGY } from '../sched/index.js';

export const DEFAULT_COMPARE_TIME_MS = 10_000;
const STRATEGY = DEFAULT_STRATEGY;
const DEPTH = 3;
/** Appended to a cell whose finding is not in that target's expectations. */
export const UNEXPECTED_MARK = '!';

export interface CompareOptions extends LimitFlags {
  /** Bundled targets; with targetFile, may be absent. */
  targets?: string[];
  /** A target module of the user's own, compared after the bundled ones. */
  targetFile?: string;
  time?: number;
  execs?: number;
  seed?: string;
  workers?: number;
  json?: boolean;
  results: string;
  guide?: GuideMode;
}

export interface CompareCell {
  found: boolean;
  firstIndex: number | null;
  hits: number;
  kind: FindingKind | null;
  expected: 'known' | 'by-design' | null;
  /** Found, and not in the target's expectations. */
  unexpected: boolean;
}

export interface CompareRow {
  signature: string;
  /** One of the five seed problems. */
  seedProblem: boolean;
  /** By target name, in the order of `targets`. */
  cells: Record<string, CompareCell>;
}

export interface CompareRun {
  target: string;
  targetHash: string;
  executions: number;
  steps: number;
  elapsedMs: number;
  execsPerSec: number;
}

export interface CompareSummary {
  runId: string;
  harnessVersion: string;
  seed: string;
  strategy: string;
  depth: number;
  guide: GuideMode;
  workers: number;
  execsLimit: number | null;
  timeLimitMs: number | null;
  targets: string[];
  rows: CompareRow[];
  runs: CompareRun[];
  /** Findings, over all targets, that are not in their target's expectations. */
  unexpected: number;
  compareFile: string;
}

function cellText(c: CompareCell): string {
  return c.found ? `found @${c.firstIndex}${c.unexpected ? ` ${UNEXPECTED_MARK}` : ''}` : '-';
}

function printCompare(s: CompareSummary): void {
  const columns = [{ header: 'signature' }, ...s.targets.map((t) => ({ header: t }))];
  const row = (r: CompareRow): string[] => [r.signature, ...s.targets.map((t) => cellText(r.cells[t]!))];
  const seeds = s.rows.filter((r) => r.seedProblem).map(row);
  const others = s.rows.filter((r) => !r.seedProblem).map(row);
  const rows = others.length > 0 ? [...seeds, [], ...others] : seeds; // an empty row: a blank line between the two groups
  const budget = s.execsLimit !== null ? `${formatCount(s.execsLimit)} executions` : formatDuration(s.timeLimitMs ?? 0);
  const lines = [
    '',
    `seed ${s.seed}, ${budget} per target, ${s.strategy} depth ${s.depth}${s.guide === 'coverage' ? ', coverage-guided' : ''}`,
    '',
    formatTable(columns, rows).replace(/^ +$/m, ''),
    '',
    `  found @N: first found at execution index N (mdevfuzz run --seed ${s.seed} finds it there too)`,
    `  ${UNEXPECTED_MARK}: not in that target's expectations (unexpected); -: not found`,
    '',
    ...s.runs.map((r) => `  ${r.target}: ${formatCount(r.executions)} executions in ${formatDuration(r.elapsedMs)} (${formatCount(r.execsPerSec)} exec/s)`),
    '',
    `${s.unexpected} unexpected finding${s.unexpected === 1 ? '' : 's'}`,
    `compare:  ${s.compareFile}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

export async function compareCommand(o: CompareOptions): Promise<number> {
  if (o.targets === undefined && o.targetFile === undefined) throw new UsageError('compare needs --targets, --target-file or both');
  const compared: { target: Target; ref: TargetRef }[] = (o.targets ?? []).map((name) => {
    const t = findTarget(name);
    if (!t) throw new UsageError(`unknown target '${name}' in --targets (known: ${TARGETS.map((x) => x.name).join(', ')})`);
    return { target: t, ref: { name } };
  });
  if (o.targetFile !== undefined) {
    const ref = { file: o.targetFile };
    const t = await loadTarget(ref);
    if (compared.some((c) => c.target.name === t.name)) throw new UsageError(`--target-file ${o.targetFile} is target '${t.name}', already in --targets`);
    compared.push({ target: t, ref });
  }
  const targets = compared.map((c) => c.target);
  await checkWritableDir(o.results, '--results'); // before any work: the table must have somewhere to go
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMs = o.execs === undefined ? (o.time ?? DEFAULT_COMPARE_TIME_MS) : undefined;
  const workers = o.workers ?? defaultWorkers();
  const log = (line: string): boolean => (o.json ? process.stderr : process.stdout).write(`${line}\n`);
  log(`seed ${seed}`);

  const startedAt = new Date();
  const runs: CompareRun[] = [];
  const found = new Map<string, Map<string, { index: number; hits: number; kind: FindingKind }>>();
  const out = o.json ? process.stderr : process.stdout;
  const progress = makeProgress(out, targets.map((t) => ({ name: t.name, execs: o.execs, timeMs })));
  for (const { target, ref } of compared) {
    // On a terminal the bars name the targets; a line printed under them would tear them.
    if (!out.isTTY) log(`target ${target.name} (${target.kernelVersion})`);
    let last = { executions: 0, steps: 0, elapsedMs: 0, findings: 0 };
    const onProgress = (p: typeof last): void => {
      last = p;
      progress.update(target.name, p);
    };
    // Under the watchdog, --workers 0 included (one worker thread): a target that never yields is a stall, not a hang.
    const r = await runCampaign({ target: ref, seed, strategy: STRATEGY, depth: DEPTH, guide: o.guide ?? 'off', execs: o.execs, timeMs, workers, onProgress, limits: limitsOf(o) }).catch((e: unknown) => {
      progress.stop();
      throw e;
    });
    progress.end(target.name, last, true);
    const execsPerSec = r.elapsedMs > 0 ? Math.round((r.executions * 1000) / r.elapsedMs) : 0;
    runs.push({ target: target.name, targetHash: targetHash(ref), executions: r.executions, steps: r.steps, elapsedMs: r.elapsedMs, execsPerSec });
    found.set(target.name, new Map(r.findings.map((f) => [f.title, { index: f.index, hits: f.hits, kind: f.kind }])));
  }

  progress.stop();
  const seeds = seedProblems(targets).map((p) => p.title);
  const others = [...new Set([...found.values()].flatMap((m) => [...m.keys()]))].filter((t) => !seeds.includes(t)).sort();
  const rows: CompareRow[] = [...seeds, ...others].map((signature) => {
    const cells: Record<string, CompareCell> = {};
    for (const t of targets) {
      const f = found.get(t.name)!.get(signature);
      const expected = expectationOf(t, signature)?.status ?? null;
      cells[t.name] = { found: !!f, firstIndex: f?.index ?? null, hits: f?.hits ?? 0, kind: f?.kind ?? null, expected, unexpected: !!f && expected === null };
    }
    return { signature, seedProblem: seeds.includes(signature), cells };
  });

  const { runId, dir } = await makeRunDir(o.results, seed, startedAt);
  const summary: CompareSummary = {
    runId,
    harnessVersion: harnessVersion(),
    seed,
    strategy: STRATEGY,
    depth: DEPTH,
    guide: o.guide ?? 'off',
    workers,
    execsLimit: o.execs ?? null,
    timeLimitMs: timeMs ?? null,
    targets: targets.map((t) => t.name),
    rows,
    runs,
    unexpected: rows.reduce((n, r) => n + Object.values(r.cells).filter((c) => c.unexpected).length, 0),
    compareFile: path.join(dir, 'compare.json'),
  };
  const json = `${JSON.stringify(summary, null, 2)}\n`;
  await writeFileAtomic(summary.compareFile, json);
  if (o.json) process.stdout.write(json);
  else printCompare(summary);
  return summary.unexpected > 0 ? 1 : 0;
}
