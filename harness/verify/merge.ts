// Shards of one verification as one verdict (issue 15, item 3): `mdevfuzz merge OUT STATE...` given
// the state files of `verify --shard i/n` runs (results/verify/*.json). They must share every flag
// but the shard, and their shards must be 0..n-1 of one n, each once. The verdict: a target error
// or an unexpected finding of any shard first, else incomplete if any shard is, else verified;
// counts summed per bound (time summed over the shards, as machine time), findings by title with
// the smallest bound any shard saw. Written to <results>/OUT/ as verify writes its run: summary.json
// (a VerifySummary), junit.xml and report.html.

import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/load.js';
import { formatCount } from '../cli/format.js';
import { writeVerifyOutputs } from '../report/outputs.js';
import { verifyLines } from '../report/verify-text.js';
import { restrictionText } from './restrict.js';
import type { BoundStats, VerifyFinding, VerifyState, VerifySummary } from './verify.js';

/** The flags of a verification as its state's key records them (harness/verify/state.ts). */
interface StateKey {
  target: string;
  maxOps: number;
  cpus: number;
  bound: number;
  dpor: boolean;
  faults: boolean;
  starts: (string | null)[];
  ops: string | null;
  domain: string | null;
  shard: { index: number; count: number } | null;
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

/** The shards' states as the summary of one verification, written to `dir` as run `runId`. */
export function mergeVerifyStates(files: readonly string[], runId: string, dir: string): VerifySummary {
  const states = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as VerifyState);
  const keys = states.map((s) => JSON.parse(s.key) as StateKey);
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
      if (!m) bounds.push((m = { bound: b.bound, programs: 0, cases: 0, runs: 0, pruned: 0, ms: 0, complete: true }));
      m.programs += b.programs;
      m.cases += b.cases;
      m.runs += b.runs;
      m.pruned += b.pruned;
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
  const k = keys[0]!;
  const what = `${formatCount(programs)} programs of <= ${k.maxOps} ops${restrictionText(k.ops ?? undefined, k.domain ?? undefined)} on ${k.cpus} CPUs`;
  const bad = findings.find((f) => f.expected === null);
  const verdictLine =
    verdict === 'verified'
      ? `verified: ${k.target}, all ${what}, <= ${k.bound} preemptions: nothing unexpected (${count} shards)`
      : verdict === 'incomplete'
        ? `not verified: ${k.target}, ${states.filter((s) => s.verdict === 'incomplete').length} of ${count} shards incomplete: nothing unexpected so far`
        : `unexpected: ${k.target}: ${bad?.title ?? 'a target error'}${bad ? ` at bound ${bad.bound}` : ''}`;
  return {
    kind: 'verify',
    runId,
    startedAt: new Date().toISOString(),
    elapsedMs: bounds.reduce((n, b) => n + b.ms, 0),
    target: k.target,
    verdict,
    verdictLine,
    exitCode: verdict === 'target-error' ? 2 : verdict === 'unexpected' ? 1 : 0,
    maxOps: k.maxOps,
    cpus: k.cpus,
    preemptions: k.bound,
    dpor: k.dpor,
    faults: k.faults,
    starts: k.starts,
    restriction: k.ops === null && k.domain === null ? null : { ops: k.ops, domain: k.domain },
    shard: null,
    enumeration: null,
    programs,
    shardPrograms: programs,
    bounds,
    findings,
    stateFile: null,
    mergedFrom: [...files],
    // The shard that found an unexpected finding saved it in its own corpus; the states do not say where.
    corpusFile: null,
    replay: null,
    ladder: null,
    summaryFile: path.join(dir, 'summary.json'),
    junitFile: path.join(dir, 'junit.xml'),
    reportFile: path.join(dir, 'report.html'),
  };
}

/** `merge OUT STATE...` for verify states: write <results>/OUT/ and print (the summary JSON with --json); the exit code of verify. */
export async function mergeVerifyCommand(out: string, files: readonly string[], opts: { results: string; json?: boolean }): Promise<number> {
  const m = mergeVerifyStates(files, out, path.join(opts.results, out));
  const json = await writeVerifyOutputs(m);
  process.stdout.write(opts.json ? json : `${verifyLines(m).join('\n')}\n`);
  return m.exitCode;
}
