// Shards of one verification as one verdict (issue 15, item 3): `mdevfuzz merge OUT STATE...` given
// the state files of `verify --shard i/n` runs (results/verify/*.json). They must share every flag
// but the shard, and their shards must be 0..n-1 of one n, each once. The verdict: a target error
// or an unexpected finding of any shard first, else incomplete if any shard is, else verified;
// counts summed per bound (time summed over the shards, as machine time), findings by title with
// the smallest bound any shard saw. Written to <results>/OUT/verify.json.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/load.js';
import { formatCount, formatDuration, formatTable } from '../cli/format.js';
import type { BoundStats, VerifyFinding, VerifyState } from './verify.js';

export interface MergedVerify {
  target: string;
  verdict: VerifyState['verdict'];
  verdictLine: string;
  shards: number;
  programs: number;
  key: Record<string, unknown>;
  bounds: BoundStats[];
  findings: VerifyFinding[];
  files: string[];
}

/** Whether a file given to `merge` is a verify state (rather than a run directory). */
export function isVerifyState(file: string): boolean {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VerifyState>;
    return s.version === 1 && typeof s.key === 'string' && Array.isArray(s.stats);
  } catch {
    return false;
  }
}

export function mergeVerifyStates(files: readonly string[]): MergedVerify {
  const states = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as VerifyState);
  const keys = states.map((s) => JSON.parse(s.key) as Record<string, unknown> & { shard: { index: number; count: number } | null; target: string; maxOps: number; cpus: number; bound: number });
  const { shard: _s, ...common } = keys[0]!;
  for (const [i, k] of keys.entries()) {
    const { shard: _k, ...rest } = k;
    if (JSON.stringify(rest) !== JSON.stringify(common)) throw new UsageError(`${files[i]}: not a shard of the same verification as ${files[0]}`);
  }
  const count = keys[0]!.shard?.count ?? 1;
  const indices = keys.map((k) => k.shard?.index ?? 0).sort((a, b) => a - b);
  if (keys.some((k) => (k.shard?.count ?? 1) !== count) || indices.join() !== Array.from({ length: count }, (_, i) => i).join()) {
    throw new UsageError(`the shards given are ${indices.join(', ')} of ${count}: give each of 0..${count - 1} once`);
  }
  const bounds: BoundStats[] = [];
  for (const s of states) {
    for (const b of s.stats) {
      let m = bounds.find((x) => x.bound === b.bound);
      if (!m) bounds.push((m = { bound: b.bound, programs: 0, cases: 0, runs: 0, pruned: 0, sleepBlocked: 0, ms: 0, complete: true }));
      m.programs += b.programs;
      m.cases += b.cases;
      m.runs += b.runs;
      m.pruned += b.pruned;
      m.sleepBlocked += b.sleepBlocked;
      m.ms += b.ms;
    }
  }
  bounds.sort((a, b) => a.bound - b.bound);
  for (const m of bounds) m.complete = states.every((s) => s.stats.some((b) => b.bound === m.bound && b.complete));
  const findings: VerifyFinding[] = [];
  for (const f of states.flatMap((s) => s.findings)) {
    const i = findings.findIndex((x) => x.title === f.title);
    if (i < 0) findings.push(f);
    else if (f.bound < findings[i]!.bound || (f.bound === findings[i]!.bound && f.rank < findings[i]!.rank)) findings[i] = f;
  }
  const verdicts = states.map((s) => s.verdict);
  const verdict = (['target-error', 'unexpected', 'incomplete'] as const).find((v) => verdicts.includes(v)) ?? 'verified';
  const programs = states[0]!.programs ?? 0;
  const what = `${formatCount(programs)} programs of <= ${keys[0]!.maxOps} ops on ${keys[0]!.cpus} CPUs`;
  const bad = findings.find((f) => f.expected === null);
  const verdictLine =
    verdict === 'verified'
      ? `verified: ${keys[0]!.target}, all ${what}, <= ${keys[0]!.bound} preemptions: nothing unexpected (${count} shards)`
      : verdict === 'incomplete'
        ? `not verified: ${keys[0]!.target}, ${states.filter((s) => s.verdict === 'incomplete').length} of ${count} shards incomplete: nothing unexpected so far`
        : `unexpected: ${keys[0]!.target}: ${bad?.title ?? 'a target error'}${bad ? ` at bound ${bad.bound}` : ''}`;
  return { target: keys[0]!.target, verdict, verdictLine, shards: count, programs, key: common, bounds, findings, files: [...files] };
}

/** `merge OUT STATE...` for verify states: print and write <results>/OUT/verify.json; the exit code of verify. */
export function mergeVerifyCommand(out: string, files: readonly string[], opts: { results: string; json?: boolean }): number {
  const m = mergeVerifyStates(files);
  const dir = path.join(opts.results, out);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'verify.json');
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(m, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
  if (opts.json) process.stdout.write(`${JSON.stringify(m, null, 2)}\n`);
  else {
    process.stdout.write(
      `${formatTable(
        [{ header: 'bound' }, { header: 'programs', right: true }, { header: 'cases', right: true }, { header: 'schedules', right: true }, { header: 'pruned', right: true }, { header: 'time (sum)', right: true }],
        m.bounds.map((b) => [`${b.bound}${b.complete ? '' : ' (partial)'}`, formatCount(b.programs), formatCount(b.cases), formatCount(b.runs), formatCount(b.pruned), formatDuration(b.ms)]),
      )}\n`,
    );
    for (const f of m.findings) process.stdout.write(`  ${f.problem ? `${f.problem} ` : ''}${f.title} [${f.expected ?? 'unexpected'}] bound ${f.bound}, rank ${f.rank}\n`);
    process.stdout.write(`${m.verdictLine}\nwrote ${file}\n`);
  }
  return m.verdict === 'target-error' ? 2 : m.verdict === 'unexpected' ? 1 : 0;
}
