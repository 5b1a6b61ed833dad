// report.html of `mdevfuzz verify` (and of `merge` of its shards), in the page shell of run's report:
// the verdict line, the unexpected finding with its ladder when there is one, the search's figures,
// the table per bound, and the expected findings, each at the smallest bound that showed it.

import { ladderHtml } from './ladder-html.js';
import { formatDuration } from '../cli/format.js';
import { count, esc, figureList, page } from './page.js';
import { expectedFindings, programLine, restrictionLine, unexpectedFinding } from './verify-text.js';
import type { VerifySummary } from '../verify/verify.js';

const VERDICT_CLASS: Record<VerifySummary['verdict'], string> = { verified: 'ok', incomplete: 'stop', unexpected: 'bad', 'target-error': 'bad' };

function figures(s: VerifySummary): string {
  const e = s.enumeration;
  const items: [string, string][] = [
    ['programs', `${count(s.programs)} of <= ${s.maxOps} ops on ${s.cpus} CPUs`],
    ...(e ? ([['before reduction', `${count(e.total)} per start state; ${count(e.symmetric)} by symmetry, ${count(e.noop)} with a certain no-op`]] as [string, string][]) : []),
    ['preemptions', `<= ${s.preemptions}`],
    ['faults', s.faults ? 'each fallible call once' : 'off'],
    ['DPOR', s.dpor ? 'on' : 'off'],
    ['start states', s.starts.map((x) => x ?? 'default').join(', ')],
    ...(s.restriction ? ([['sub-API', restrictionLine(s)!]] as [string, string][]) : []),
    ...(s.shard ? ([['shard', `${s.shard.index}/${s.shard.count}: ${count(s.shardPrograms)} programs`]] as [string, string][]) : []),
    ...(s.mergedFrom ? ([['merged from', `${s.mergedFrom.length} shards: ${s.mergedFrom.join(', ')}`]] as [string, string][]) : []),
    [s.mergedFrom ? 'machine time' : 'elapsed', formatDuration(s.elapsedMs)],
    ['started', s.startedAt],
    ['run id', s.runId],
    ...(s.stateFile ? ([['state', s.stateFile]] as [string, string][]) : []),
    ['exit code', String(s.exitCode)],
  ];
  return figureList(items);
}

function boundTable(s: VerifySummary): string {
  const head = ['bound', 'programs', 'cases', 'schedules run', 'pruned', s.mergedFrom ? 'time (sum)' : 'time', ''];
  const rows = s.bounds.map((b) => {
    const nums = [b.programs, b.cases, b.runs, b.pruned].map((n) => `<td class="num">${count(n)}</td>`).join('');
    return `<tr id="bound-${b.bound}"><td>${b.bound}</td>${nums}<td class="num">${formatDuration(b.ms)}</td><td>${b.complete ? 'complete' : 'partial'}</td></tr>`;
  });
  return [
    `<table id="bound-table"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`,
    '<p class="legend">cases: program &times; fault choice. pruned: alternatives within the bound that DPOR never ran.</p>',
  ].join('\n');
}

function expectedSection(s: VerifySummary): string {
  const expected = expectedFindings(s);
  if (expected.length === 0) return '<p>None.</p>';
  const rows = expected.map(
    (f) =>
      `<tr><td class="problem">${esc(f.problem ?? '')}</td><td>${esc(f.title)}</td><td><span class="badge ${f.expected === 'known' ? 'known' : 'design'}">${esc(f.expected!)}</span></td>` +
      `<td class="num">${f.bound}</td><td class="num">${f.rank}</td><td><code>${esc(programLine(f))}</code></td></tr>`,
  );
  return `<table id="expected-table"><thead><tr><th></th><th>title</th><th>status</th><th>bound</th><th>rank</th><th>program</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function unexpectedSection(s: VerifySummary): string {
  const f = unexpectedFinding(s);
  if (!f && s.verdict !== 'unexpected') return '';
  const facts = f ? [`kind ${f.kind}`, `bound ${f.bound}`, `rank ${f.rank}`, s.corpusFile ? `corpus ${s.corpusFile}` : 'not in the corpus'] : [];
  return [
    '<section id="unexpected"><h2>Unexpected</h2>',
    `<details class="finding" open><summary><span class="badge new">${f?.kind === 'target-error' ? 'TARGET ERROR' : 'UNEXPECTED'}</span> ${esc(f?.title ?? s.verdictLine)}</summary>`,
    facts.length ? `<p class="legend">${facts.map(esc).join(' &middot; ')}</p>` : '',
    f ? `<p>program: <code>${esc(programLine(f))}</code></p>` : '',
    s.replay ? `<p>replay: <code class="replay">${esc(s.replay)}</code></p>` : '',
    s.ladder ? ladderHtml(s.ladder) : '',
    '</details></section>',
  ].filter(Boolean).join('\n');
}

export function renderVerifyHtml(s: VerifySummary): string {
  return page(
    `mdevfuzz verify ${s.runId}`,
    [
      `<header><h1>mdevfuzz verify: ${esc(s.target)}</h1>`,
      `<p class="verdict ${VERDICT_CLASS[s.verdict]}" id="verdict">${esc(s.verdictLine)}</p></header>`,
      unexpectedSection(s),
      `<section id="figures"><h2>The search</h2>\n${figures(s)}</section>`,
      `<section id="bounds"><h2>Per bound</h2>\n${boundTable(s)}</section>`,
      `<section id="expected"><h2>Expected findings (${expectedFindings(s).length})</h2>\n${expectedSection(s)}</section>`,
    ].filter(Boolean).join('\n'),
  );
}
