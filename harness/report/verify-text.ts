// A verify summary as text: what `verify` and `merge` of its shards print for people (the table per
// bound, the expected findings, the verdict, the unexpected finding, where the files went), and the
// program lines that report.html and junit.xml show too.

import { formatCount, formatDuration, formatTable } from '../cli/format.js';
import { formatOp } from '../engine/program.js';
import type { Program } from '../types.js';
import { restrictionText } from '../verify/restrict.js';
import type { VerifyFinding, VerifySummary } from '../verify/verify.js';

export function programText(p: Program): string {
  return `${p.cpus.map((ops, i) => `cpu${i}: ${ops.map(formatOp).join(' ')}`).join('; ')}${p.start ? ` from ${p.start}` : ''}`;
}

/** The program, its fault and the preemptions of its canonical schedule. */
export function programLine(f: VerifyFinding): string {
  const faults = f.faults.map((x) => ` fail ${x.call}#${x.nth}`).join('');
  return `${programText(f.program)}${faults}, ${f.preemptions} preemption${f.preemptions === 1 ? '' : 's'}`;
}

/** The finding that is not expected (one at most: the search stops at it), if any. */
export const unexpectedFinding = (s: VerifySummary): VerifyFinding | undefined => s.findings.find((f) => f.expected === null);

export const expectedFindings = (s: VerifySummary): VerifyFinding[] => s.findings.filter((f) => f.expected !== null);

/** The sub-API of --ops and --domain, as `ops create, open; type=mtty-1`, or null for the whole API. */
export function restrictionLine(s: VerifySummary): string | null {
  if (!s.restriction) return null;
  const { ops, domain } = s.restriction;
  return restrictionText(ops ?? undefined, domain ?? undefined).slice(2, -1); // the verdict's ' (...)' without its brackets
}

export function outputLines(s: VerifySummary): string[] {
  return [`summary:  ${s.summaryFile}`, `junit:    ${s.junitFile}`, `report:   ${s.reportFile}`];
}

export function verifyLines(s: VerifySummary): string[] {
  const lines = [
    formatTable(
      [{ header: 'bound' }, { header: 'programs', right: true }, { header: 'cases', right: true }, { header: 'schedules', right: true }, { header: 'pruned', right: true }, { header: s.mergedFrom ? 'time (sum)' : 'time', right: true }],
      s.bounds.map((b) => [`${b.bound}${b.complete ? '' : ' (partial)'}`, formatCount(b.programs), formatCount(b.cases), formatCount(b.runs), formatCount(b.pruned), formatDuration(b.ms)]),
    ),
  ];
  const expected = expectedFindings(s);
  if (expected.length > 0) {
    lines.push(`expected findings (${expected.length}), each at the smallest bound that showed it:`);
    for (const f of expected) lines.push(`  ${f.problem ? `${f.problem} ` : ''}${f.title} [${f.expected}] bound ${f.bound}, rank ${f.rank}: ${programLine(f)}`);
  }
  lines.push(s.verdictLine);
  const bad = unexpectedFinding(s);
  if (bad) lines.push(`  rank ${bad.rank}: ${programLine(bad)}`);
  if (s.corpusFile) lines.push(`corpus entry: ${s.corpusFile}`);
  if (s.ladder) lines.push(s.ladder);
  if (s.verdict === 'incomplete' && s.stateFile) lines.push(`state: ${s.stateFile} (run the same command again to resume)`);
  return [...lines, ...outputLines(s)];
}
