// What `mdevfuzz run` and `mdevfuzz merge` print for people once the results are written: a table
// of findings (and which belong together), a line per target, the lost expectations, the ladder of
// each new finding, and where everything went.

import type { EntryMinimizeStats } from '../corpus/minimize-entry.js';
import { findingStatus, type FindingMinimization, type RunSummary } from '../report/summary.js';
import { formatTransition } from '../coverage/transitions.js';
import { relatedGroups } from '../report/related.js';
import { formatCount, formatDuration, formatPercent, formatTable, type Column } from './format.js';

/** `cpus/ops/preemptions before -> after`, or why there is no after. */
function minimizeText(m: FindingMinimization | null): string {
  if (!m) return '';
  if (m.outcome === 'failed') return 'failed (saved as found)';
  if (m.outcome === 'budget') return `budget ran out (${formatDuration(m.budgetMs)}; saved as found)`;
  const size = (r: EntryMinimizeStats['before']): string => `${r.cpus}/${r.ops}/${r.preemptions}`;
  return `${size(m.before)} -> ${size(m.after)}`;
}

function findingsTable(s: RunSummary): string[] {
  if (s.findings.length === 0) return [];
  const several = s.targets.length > 1;
  const minimized = s.findings.some((f) => f.minimize);
  const columns: Column[] = [
    ...(several ? [{ header: 'target' }] : []),
    { header: 'signature' }, { header: 'kind' }, { header: 'first index', right: true }, { header: 'hits', right: true }, { header: 'found after', right: true }, { header: 'status' },
    ...(minimized ? [{ header: 'minimized cpus/ops/preemptions' }] : []),
  ];
  const rows = s.findings.map((f) => [
    ...(several ? [f.target] : []),
    f.signature, f.kind, String(f.execIndex), formatCount(f.hits), formatDuration(f.timeToFindMs), findingStatus(f),
    ...(minimized ? [minimizeText(f.minimize)] : []),
  ]);
  const lines = ['', formatTable(columns, rows)];
  for (const g of relatedGroups(s.findings)) {
    lines.push('', `related (one cause, ${g.cause}${several ? `, ${g.target}` : ''}):`, ...g.signatures.map((sig) => `  ${sig}`));
  }
  if (minimized) lines.push('', `minimized ${s.findings.filter((f) => f.minimize?.outcome === 'minimized').length} new entries in ${formatDuration(s.minimizeMs)}`);
  return lines;
}

export function printRunSummary(s: RunSummary, repeat: readonly string[]): void {
  const e = s.expectations;
  const lines: string[] = [
    '',
    `${formatCount(s.executions)} executions in ${formatDuration(s.elapsedMs)} (${formatCount(s.execsPerSec)} exec/s)${s.interrupted ? ', interrupted' : ''}: ` +
      `${s.findings.length} distinct findings, ${s.newFindings} new, ${e.expectedFound} expected${e.lost > 0 ? `, ${e.lost} expected lost` : ''}`,
    ...findingsTable(s),
    '',
  ];
  const width = Math.max(...s.results.map((r) => r.target.length));
  for (const r of s.results) {
    const x = r.expectations;
    if (r.status === 'not run') {
      lines.push(`  ${r.target.padEnd(width)}  not run (interrupted before its turn)`);
      continue;
    }
    const figures = `${formatCount(r.executions)} executions in ${formatDuration(r.elapsedMs)} (${formatCount(r.execsPerSec)} exec/s)`;
    const t = r.coverage?.transitions;
    const transitions = t ? `; transitions: ${t.reached}/${t.declared} declared reached (${formatPercent(t.reached, t.declared)})${t.undeclared.length > 0 ? `, ${t.undeclared.length} NOT DECLARED` : ''}` : '';
    lines.push(
      `  ${r.target.padEnd(width)}  ${figures}, ${r.findings} findings, ${r.newFindings} new; expected: ${x.expectedFound.length} found, ` +
        `${x.expectedNotFound.length} not reached (${x.reproducedFromCorpus.length} replayed from the corpus, ${x.lost.length} lost)${transitions}`,
    );
  }
  const undeclared = s.results.flatMap((r) => (r.coverage?.transitions.undeclared ?? []).map((u) => `  ${r.target}: ${formatTransition(u)} (first at index ${u.first})`));
  if (undeclared.length > 0) lines.push('', 'NOT DECLARED: transitions the targets do not declare (a modelling error or a finding; see mdevfuzz coverage):', ...undeclared);
  const lost = s.results.flatMap((r) => r.expectations.lost.map((t) => `  ${r.target}: ${t}`));
  if (lost.length > 0) lines.push('', 'LOST: known expectations not found, whose corpus entries no longer reproduce them:', ...lost);
  const resumed = s.results.flatMap((r) => (r.resumed ?? []).map((x) => `  ${r.target}: ${x.signature}: ${x.outcome}`));
  if (resumed.length > 0) lines.push('', 'RESUMED: entries saved as found by an earlier run that did not finish minimizing them:', ...resumed);
  for (const f of s.findings.filter((x) => x.new)) {
    lines.push('', `NEW  ${f.target}: ${f.signature}`, `     first index ${f.execIndex}, ${formatCount(f.hits)} hits; ${f.replay}`);
    if (f.related?.length) lines.push(`     related: ${f.related.join('; ')}`);
    lines.push('', f.ladder);
  }
  const example = s.findings.find((f) => f.new && f.corpusFile) ?? s.findings.find((f) => f.corpusFile);
  lines.push(
    '',
    `corpus:   ${s.corpusDir}  (${s.corpusCreated} new entries, ${s.corpusUpdated} already there, left as they are)`,
    ...(s.historyFile ? [`hits:     ${s.hitsFile}, added to ${s.historyFile}`] : []),
    `summary:  ${s.summaryFile}`,
    `junit:    ${s.junitFile}`,
    `report:   ${s.reportFile}`,
    ...repeat.map((r, i) => `${i === 0 ? 'repeat:' : ''}`.padEnd(10) + r),
  );
  if (example) lines.push(`replay:   ${example.replay}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
