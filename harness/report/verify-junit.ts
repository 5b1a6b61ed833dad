// junit.xml of `mdevfuzz verify` (and of `merge` of its shards): one testsuite, the target, with a
// testcase per bound 0..B. A complete bound passes (its counts and the expected findings first seen
// at it in system-out); the bound of an unexpected finding fails (an error for a target error), with
// the program and the ladder; a bound the search did not finish, or did not reach, is skipped.

import { junitXml, type Case } from './junit.js';
import { expectedFindings, programLine, restrictionLine, unexpectedFinding } from './verify-text.js';
import type { VerifySummary } from '../verify/verify.js';

function failedCase(s: VerifySummary, name: string, ms: number): Case {
  const f = unexpectedFinding(s);
  const body = [s.verdictLine, ...(f ? [`rank ${f.rank}: ${programLine(f)}`] : []), ...(s.replay ? [`replay: ${s.replay}`] : []), ...(s.ladder ? ['', s.ladder] : [])].join('\n');
  const error = s.verdict === 'target-error';
  return { name, ms, outcome: { tag: error ? 'error' : 'failure', type: error ? 'target-error' : (f?.kind ?? 'unexpected'), message: s.verdictLine, body } };
}

function boundCase(s: VerifySummary, bound: number, failing: number | null): Case {
  const name = `bound ${bound}`;
  const b = s.bounds.find((x) => x.bound === bound);
  if (failing === bound) return failedCase(s, name, b?.ms ?? 0);
  if (!b) return { name, outcome: { tag: 'skipped', message: 'not reached: the search stopped before this bound' } };
  const counts = `${b.programs} of ${s.shardPrograms} programs, ${b.cases} cases, ${b.runs} schedules run, ${b.pruned} pruned`;
  if (!b.complete) return { name, ms: b.ms, outcome: { tag: 'skipped', message: `not complete: ${counts}` } };
  const expected = expectedFindings(s).filter((f) => f.bound === bound).map((f) => `  ${f.problem ? `${f.problem} ` : ''}${f.title} [${f.expected}] rank ${f.rank}: ${programLine(f)}`);
  return { name, ms: b.ms, out: [counts, ...(expected.length ? ['expected findings first seen at this bound:', ...expected] : [])].join('\n') };
}

export function renderVerifyJunit(s: VerifySummary): string {
  const stopped = s.verdict === 'unexpected' || s.verdict === 'target-error';
  // The search stops in the bound of its unexpected finding; a stall has no finding: the bound in hand.
  const failing = stopped ? (unexpectedFinding(s)?.bound ?? s.bounds[s.bounds.length - 1]?.bound ?? 0) : null;
  const cases = Array.from({ length: s.preemptions + 1 }, (_, bound) => boundCase(s, bound, failing));
  const props = {
    verdict: s.verdict,
    maxOps: s.maxOps,
    cpus: s.cpus,
    preemptions: s.preemptions,
    faults: String(s.faults),
    dpor: String(s.dpor),
    programs: s.programs,
    ...(s.shard ? { shard: `${s.shard.index}/${s.shard.count}` } : {}),
    ...(s.mergedFrom ? { shards: s.mergedFrom.length } : {}),
    ...(s.restriction ? { restriction: restrictionLine(s)! } : {}),
  };
  const ms = s.bounds.reduce((n, b) => n + b.ms, 0);
  return junitXml(`mdevfuzz verify ${s.runId}`, s.elapsedMs, s.startedAt, [{ name: s.target, cases, ms, props }]);
}
