// Counters and dates of findings, out of the corpus (design.md section 8): every run leaves one
// record, `<results>/<run-id>/hits.json` (its hits per target and signature), and folds it into the
// cumulative `<results>/history.json`: per (target, signature) the hits, the runs that saw it, the
// first and last time seen, and the hits per night (UTC date). The history lists the run ids it
// has counted, so folding a run in again (a second merge) changes nothing; updates hold its lock.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { withLock } from './lock.js';
import { writeFileAtomic } from './store.js';

export const HITS_FILE = 'hits.json';
export const HISTORY_FILE = 'history.json';
export const HISTORY_SCHEMA = 1;

export interface RunHitsFinding {
  target: string;
  signature: string;
  hits: number;
  firstIndex: number;
}

/** One run's record. A merged run lists the runs it was made of in `parts`, and is counted as them. */
export interface RunHits {
  runId: string;
  startedAt: string;
  seed: string;
  findings: RunHitsFinding[];
  parts?: RunHits[];
}

export interface HistoryFinding {
  hits: number;
  /** Runs that saw it. */
  runs: number;
  firstSeen: string;
  lastSeen: string;
  /** Hits per UTC date of the runs' start. */
  nights: Record<string, number>;
}

export interface History {
  schemaVersion: typeof HISTORY_SCHEMA;
  /** Every run counted, by id: when it started and when it was counted. */
  runs: Record<string, { startedAt: string; countedAt: string }>;
  /** By target, then signature. */
  findings: Record<string, Record<string, HistoryFinding>>;
}

export class HistoryError extends Error {
  override readonly name = 'HistoryError';
}

export function emptyHistory(): History {
  return { schemaVersion: HISTORY_SCHEMA, runs: {}, findings: {} };
}

export function historyFile(resultsDir: string): string {
  return path.join(resultsDir, HISTORY_FILE);
}

export async function readHistory(resultsDir: string): Promise<History> {
  const file = historyFile(resultsDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyHistory();
    throw e;
  }
  let h: Partial<History>;
  try {
    h = JSON.parse(text) as Partial<History>;
  } catch {
    throw new HistoryError(`${file}: not valid JSON; move it away to start a new history`);
  }
  if (h.schemaVersion !== HISTORY_SCHEMA || typeof h.runs !== 'object' || typeof h.findings !== 'object' || !h.runs || !h.findings) {
    throw new HistoryError(`${file}: not a history of schema ${HISTORY_SCHEMA}`);
  }
  return h as History;
}

/** The runs a record stands for: itself, or the parts of a merged run. */
export function leafRuns(r: RunHits): RunHits[] {
  return r.parts && r.parts.length > 0 ? r.parts.flatMap(leafRuns) : [r];
}

function sorted<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** `history` with the runs of `records` that it has not counted yet; which were added and which skipped. */
export function foldRuns(history: History, records: readonly RunHits[], now: string): { history: History; added: string[]; skipped: string[] } {
  const h: History = structuredClone(history);
  const added: string[] = [];
  const skipped: string[] = [];
  const byId = new Map(records.flatMap(leafRuns).map((r) => [r.runId, r])); // a run named twice in one call is one run
  for (const run of byId.values()) {
    if (h.runs[run.runId]) {
      skipped.push(run.runId);
      continue;
    }
    h.runs[run.runId] = { startedAt: run.startedAt, countedAt: now };
    added.push(run.runId);
    const night = run.startedAt.slice(0, 10);
    for (const f of run.findings) {
      const byTarget = (h.findings[f.target] ??= {});
      const x = (byTarget[f.signature] ??= { hits: 0, runs: 0, firstSeen: run.startedAt, lastSeen: run.startedAt, nights: {} });
      x.hits += f.hits;
      x.runs += 1;
      if (run.startedAt < x.firstSeen) x.firstSeen = run.startedAt;
      if (run.startedAt > x.lastSeen) x.lastSeen = run.startedAt;
      x.nights[night] = (x.nights[night] ?? 0) + f.hits;
      x.nights = sorted(x.nights);
      h.findings[f.target] = sorted(byTarget);
    }
  }
  h.runs = sorted(h.runs);
  h.findings = sorted(h.findings);
  return { history: h, added, skipped };
}

/** Fold runs into `<resultsDir>/history.json`, under its lock, atomically; each run id is counted once. */
export async function addToHistory(resultsDir: string, records: readonly RunHits[]): Promise<{ added: string[]; skipped: string[] }> {
  const file = historyFile(resultsDir);
  return withLock(file, async () => {
    const r = foldRuns(await readHistory(resultsDir), records, new Date().toISOString());
    if (r.added.length > 0) await writeFileAtomic(file, `${JSON.stringify(r.history, null, 2)}\n`);
    return { added: r.added, skipped: r.skipped };
  });
}

export async function writeRunHits(runDir: string, r: RunHits): Promise<string> {
  const file = path.join(runDir, HITS_FILE);
  await writeFileAtomic(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

function isRunHits(v: unknown): v is RunHits {
  const r = v as Partial<RunHits>;
  return typeof r === 'object' && r !== null && typeof r.runId === 'string' && typeof r.startedAt === 'string' && Array.isArray(r.findings);
}

/** The record of the run in `runDir`: its hits.json, else what its summary.json says (runs made before hits.json). */
export async function readRunHits(runDir: string): Promise<RunHits | undefined> {
  for (const name of [HITS_FILE, 'summary.json']) {
    let v: unknown;
    try {
      v = JSON.parse(await fs.readFile(path.join(runDir, name), 'utf8'));
    } catch {
      continue;
    }
    if (!isRunHits(v)) continue;
    if (name !== HITS_FILE && (v as { mergedFrom?: unknown }).mergedFrom) return undefined; // its parts are not known here
    const s = v as Omit<RunHits, 'findings'> & { findings: (Omit<RunHitsFinding, 'firstIndex'> & { execIndex?: number; firstIndex?: number })[] };
    if (name === HITS_FILE) return v;
    return {
      runId: s.runId,
      startedAt: s.startedAt,
      seed: String(s.seed),
      findings: s.findings.map((f) => ({ target: f.target, signature: f.signature, hits: f.hits, firstIndex: f.execIndex ?? f.firstIndex ?? 0 })),
    };
  }
  return undefined;
}
