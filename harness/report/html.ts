// report.html: one self-contained page (inline CSS, SVG and a few lines of JS; no network, which
// its Content-Security-Policy also forbids) for a person to look at after a night: the verdict, the
// run's figures, the compare table of targets x signatures (seed problems first), each finding with
// its replay command and ladder (a table, a column per CPU), and the target errors (exceptions out
// of the model's code, kept out of the corpus) with their stacks and repro commands.

import { formatPercent } from '../cli/format.js';
import { formatTransition } from '../coverage/transitions.js';
import { slugify } from '../corpus/slug.js';
import { ladderHtml } from './ladder-html.js';
import { count, esc, figureList, page, secs } from './page.js';
import { findingStatus, HEATMAP_FUNCTIONS, type CoverageSummary, type RunSummary, type SummaryFinding, type TargetErrorReport, type TargetResult } from './summary.js';
import { compareText } from '../text.js';

export function findingId(f: Pick<SummaryFinding, 'target' | 'signature'>): string {
  return `f-${slugify(f.target, 40)}-${slugify(f.signature)}`;
}

const STATUS_CLASS: Record<string, string> = { NEW: 'new', 'NEW (not saved)': 'new', expected: 'known', 'by-design': 'design', 'in corpus': 'corpus' };

function verdict(s: RunSummary): string {
  const lost = s.expectations.lost;
  const errors = s.targetErrors?.length ?? 0;
  const parts = [
    s.newFindings > 0 ? `${s.newFindings} new finding${s.newFindings > 1 ? 's' : ''}` : '',
    lost > 0 ? `${lost} expected finding${lost > 1 ? 's' : ''} lost` : '',
    errors > 0 ? `${errors} target error${errors > 1 ? 's' : ''}` : '',
  ].filter(Boolean);
  if (s.interrupted) return `<p class="verdict stop">Interrupted: these are the results of what ran${parts.length ? `; ${esc(parts.join(', '))}` : ''}</p>`;
  if (parts.length) return `<p class="verdict bad">${esc(parts.join(', '))}</p>`;
  return '<p class="verdict ok">Nothing new: every finding is in the corpus or expected</p>';
}

function figures(s: RunSummary): string {
  const shard = s.shard ? `${s.shard.index}/${s.shard.count} (indices ${count(s.shard.firstIndex)}-${count(s.shard.firstIndex + s.shard.slice - 1)})` : '';
  const items: [string, string][] = [
    ['executions', count(s.executions)],
    ['exec/s', count(s.execsPerSec)],
    ['elapsed', secs(s.elapsedMs)],
    ['seed', s.seed],
    ['strategy', `${s.strategy}, depth ${s.depth}${s.faults ? '' : ', no faults'}`],
    ['workers', s.workers === 0 ? 'inline' : String(s.workers)],
    ['budget', [s.execsLimit !== null ? `${count(s.execsLimit)} executions per target` : '', s.timeLimitMs !== null ? `${secs(s.timeLimitMs)} in all` : ''].filter(Boolean).join(' or ')],
    ...(shard ? ([['shard', shard]] as [string, string][]) : []),
    ...(s.mergedFrom ? ([['merged from', s.mergedFrom.map((m) => m.runId).join(', ')]] as [string, string][]) : []),
    ['started', s.startedAt],
    ['run id', s.runId],
    ['harness', s.harnessVersion],
    ['exit code', String(s.exitCode)],
  ];
  return figureList(items);
}

/** Executions per target as horizontal bars, labelled with exec/s. */
function throughputChart(results: readonly TargetResult[]): string {
  const max = Math.max(1, ...results.map((r) => r.executions));
  const [label, bar, row] = [110, 360, 24];
  const bars = results.map((r, i) => {
    const y = i * row;
    const w = Math.max(1, Math.round((r.executions / max) * bar));
    return (
      `<text x="0" y="${y + 15}">${esc(r.target)}</text>` +
      `<rect x="${label}" y="${y + 3}" width="${w}" height="16" rx="2" fill="#5b8bd0"/>` +
      `<text x="${label + w + 6}" y="${y + 15}">${count(r.executions)} execs, ${count(r.execsPerSec)}/s</text>`
    );
  });
  const height = results.length * row + 4;
  return `<svg role="img" aria-label="executions per target" width="${label + bar + 170}" height="${height}" font-size="12" font-family="system-ui,sans-serif" fill="#1d2329">${bars.join('')}</svg>`;
}

/** `n` in few characters: 950, 1.2k, 34k, 5.6M. */
function compact(n: number): string {
  if (n < 1000) return String(n);
  const [d, u] = n < 1e6 ? [1e3, 'k'] : [1e6, 'M'];
  const v = n / d;
  return `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${u}`;
}

/** At most `n` characters, with an ellipsis when cut. */
const clip = (t: string, n: number): string => (t.length > n ? `${t.slice(0, n - 1)}\u2026` : t);

const COVERAGE_FUNCTIONS = 15;

/** Labels reached per kernel function, the COVERAGE_FUNCTIONS with most, as horizontal bars. */
function functionChart(c: CoverageSummary): string {
  const fns = c.functions.slice(0, COVERAGE_FUNCTIONS);
  const max = Math.max(1, ...fns.map((f) => f.labels));
  const [label, bar, row] = [170, 220, 20];
  const bars = fns.map((f, i) => {
    const y = i * row;
    const w = Math.max(1, Math.round((f.labels / max) * bar));
    return (
      `<text x="${label - 6}" y="${y + 14}" text-anchor="end"><title>${esc(f.fn)}</title>${esc(clip(f.fn, 24))}</text>` +
      `<rect x="${label}" y="${y + 3}" width="${w}" height="14" rx="2" fill="#5b8bd0"/>` +
      `<text x="${label + w + 5}" y="${y + 14}">${count(f.labels)}</text>`
    );
  });
  const height = Math.max(1, fns.length) * row + 4;
  return `<svg class="function-chart" role="img" aria-label="labels reached per kernel function" width="${label + bar + 50}" height="${height}" font-size="12" font-family="system-ui,sans-serif" fill="#1d2329">${bars.join('')}</svg>`;
}

/** White to dark blue, on a log scale of count / max. */
function shade(n: number, max: number): string {
  if (n <= 0) return '#f4f5f6';
  const t = max <= 1 ? 1 : Math.log1p(n) / Math.log1p(max);
  const mix = (a: number, b: number): number => Math.round(a + (b - a) * (0.12 + 0.88 * t));
  return `rgb(${mix(235, 16)},${mix(242, 58)},${mix(251, 120)})`;
}

/**
 * Context switches between kernel functions: row the function of the step switched out, column the
 * function of the next step on the CPU switched in, for the HEATMAP_FUNCTIONS functions in most switches.
 */
function pairHeatmap(c: CoverageSummary): string {
  const involved = new Map<string, number>();
  for (const p of c.functionPairs) {
    involved.set(p.out, (involved.get(p.out) ?? 0) + p.count);
    involved.set(p.in, (involved.get(p.in) ?? 0) + p.count);
  }
  const fns = [...involved].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0)).slice(0, HEATMAP_FUNCTIONS).map(([fn]) => fn);
  const at = new Map(c.functionPairs.map((p) => [`${p.out}\n${p.in}`, p.count]));
  const max = Math.max(1, ...fns.flatMap((o) => fns.map((i) => at.get(`${o}\n${i}`) ?? 0)));
  const [left, top, size] = [170, 130, 34];
  const cells: string[] = [];
  fns.forEach((o, r) =>
    fns.forEach((i, k) => {
      const n = at.get(`${o}\n${i}`) ?? 0;
      const [x, y] = [left + k * size, top + r * size];
      const dark = n > 0 && (max <= 1 || Math.log1p(n) / Math.log1p(max) > 0.55);
      cells.push(
        `<g><title>${esc(`${o} \u2192 ${i}: ${count(n)} context switch${n === 1 ? '' : 'es'}`)}</title>` +
          `<rect class="cell" x="${x}" y="${y}" width="${size - 2}" height="${size - 2}" fill="${shade(n, max)}"/>` +
          (n > 0 ? `<text x="${x + (size - 2) / 2}" y="${y + size / 2 + 3}" text-anchor="middle" font-size="10" fill="${dark ? '#fff' : '#1d2329'}">${compact(n)}</text>` : '') +
          '</g>',
      );
    }),
  );
  const rows = fns.map((f, r) => `<text x="${left - 6}" y="${top + r * size + size / 2 + 3}" text-anchor="end"><title>${esc(f)}</title>${esc(clip(f, 24))}</text>`);
  const cols = fns.map((f, k) => {
    const x = left + k * size + size / 2;
    return `<text transform="translate(${x},${top - 6}) rotate(-50)"><title>${esc(f)}</title>${esc(clip(f, 20))}</text>`;
  });
  const axes =
    `<text x="${left - 6}" y="${top - 8}" text-anchor="end" fill="#5b6570">out \u2193 / in \u2192</text>`;
  const width = left + Math.max(1, fns.length) * size + 40;
  const height = top + Math.max(1, fns.length) * size + 4;
  return `<svg class="heatmap" role="img" aria-label="context switches between kernel functions" width="${width}" height="${height}" font-size="11" font-family="system-ui,sans-serif" fill="#1d2329">${axes}${cols.join('')}${rows.join('')}${cells.join('')}</svg>`;
}

/** Declared transitions per object kind, reached or not; the undeclared ones observed, in red. */
function transitionTable(c: CoverageSummary): string {
  const t = c.transitions;
  
  const rows = t.kinds.map(
    (k) =>
      `<tr><td>${esc(k.kind)}</td><td class="num">${count(k.declared)}</td><td class="num">${count(k.reached)}</td><td class="num">${formatPercent(k.reached, k.declared)}</td>` +
      `<td>${k.unreached.map((u) => `<code>${esc(`${u.from} --${u.event}--> ${u.to}`)}</code>`).join('<br>')}</td></tr>`,
  );
  const undeclared = t.undeclared.map((u) => `<li><code>${esc(formatTransition(u))}</code> &middot; ${count(u.count)} executions, first at index ${u.first}</li>`);
  return [
    `<table class="transitions"><thead><tr><th>object</th><th>declared</th><th>reached</th><th></th><th>not reached</th></tr></thead><tbody>${rows.join('')}`,
    `<tr><td><b>all</b></td><td class="num">${count(t.declared)}</td><td class="num">${count(t.reached)}</td><td class="num">${formatPercent(t.reached, t.declared)}</td><td></td></tr></tbody></table>`,
    undeclared.length > 0 ? `<p class="undeclared">Observed and not declared (a modelling error or a finding):</p><ul class="undeclared">${undeclared.join('')}</ul>` : '',
  ].join('');
}

function coverageTarget(r: TargetResult): string {
  const c = r.coverage!;
  const pairs = c.topPairs.map((p) => `<tr><td class="num">${count(p.count)}</td><td><code>${esc(p.out)}</code></td><td><code>${esc(p.in)}</code></td></tr>`);
  return [
    `<div class="coverage-target" id="coverage-${slugify(r.target, 40)}">`,
    `<h3>${esc(r.target)} <span class="legend">${esc(r.kernelVersion)}</span></h3>`,
    `<p class="legend">${count(c.transitions.reached)} of ${count(c.transitions.declared)} declared transitions &middot; ${count(c.labels)} labels reached in ${count(c.functions.length)} kernel functions &middot; ${count(c.pairs)} concurrent pairs &middot; ${count(c.switches)} context switches &middot; ${count(r.executions)} executions</p>`,
    transitionTable(c),
    '<div class="charts">',
    `<figure><figcaption>labels reached per kernel function${c.functions.length > COVERAGE_FUNCTIONS ? ` (top ${COVERAGE_FUNCTIONS} of ${c.functions.length})` : ''}</figcaption>${functionChart(c)}</figure>`,
    `<figure><figcaption>context switches between kernel functions (row: switched out, column: switched in)</figcaption>${pairHeatmap(c)}</figure>`,
    '</div>',
    pairs.length
      ? `<details><summary>top ${pairs.length} concurrent pairs</summary><table class="top-pairs"><thead><tr><th>switches</th><th>switched out</th><th>switched in</th></tr></thead><tbody>${pairs.join('')}</tbody></table></details>`
      : '',
    '</div>',
  ].join('\n');
}

function coverageSection(s: RunSummary): string {
  const withCoverage = s.results.filter((r) => r.coverage);
  if (withCoverage.length === 0) return '<p>No coverage collected (targets not run, the threads engine, or a merge of runs that kept no counts).</p>';
  return [
    '<p class="legend">A concurrent pair: the label of the step after which a CPU is switched out, and the label of the next step, on the CPU switched in. ' +
      'A label\'s kernel function is its prefix before <code>:</code>. Shade: context switches, on a log scale per target.</p>',
    ...withCoverage.map(coverageTarget),
  ].join('\n');
}

function cell(s: RunSummary, r: TargetResult, signature: string): string {
  const f = s.findings.find((x) => x.target === r.target && x.signature === signature);
  const e = r.expectations;
  if (f) {
    const status = findingStatus(f);
    return `<td class="cell" title="${esc(`${count(f.hits)} hits`)}"><a href="#${findingId(f)}">@${f.execIndex}</a> <span class="badge ${STATUS_CLASS[status]}">${esc(status)}</span></td>`;
  }
  if (e.lost.includes(signature)) return '<td class="cell"><span class="badge lost">LOST</span></td>';
  if (e.reproducedFromCorpus.includes(signature)) return '<td class="cell"><span class="badge replayed">replayed from corpus</span></td>';
  if (e.expectedNotFound.includes(signature)) return '<td class="cell missing">expected, not reached</td>';
  if (r.status === 'not run') return '<td class="cell absent">not run</td>';
  return '<td class="cell absent">-</td>';
}

function compareTable(s: RunSummary): string {
  const seeds = s.seedProblems;
  const seedTitles = new Set(seeds.map((p) => p.title));
  const others = new Set<string>();
  for (const f of s.findings) others.add(f.signature);
  for (const r of s.results) for (const t of [...r.expectations.lost, ...r.expectations.reproducedFromCorpus]) others.add(t);
  const rest = [...others].filter((t) => !seedTitles.has(t)).sort();
  // The problem column only when the run's targets declare seed problems (the mdev family does).
  const problemCell = (text: string): string => (seeds.length > 0 ? `<td class="problem">${esc(text)}</td>` : '');
  const row = (problem: string, title: string): string => `<tr>${problemCell(problem)}<td>${esc(title)}</td>${s.results.map((r) => cell(s, r, title)).join('')}</tr>`;
  const gap = seeds.length > 0 && rest.length > 0 ? `<tr class="gap"><td colspan="${s.results.length + 2}"></td></tr>` : '';
  return [
    '<table id="compare-table">',
    `<thead><tr>${seeds.length > 0 ? '<th></th>' : ''}<th>signature</th>${s.results.map((r) => `<th>${esc(r.target)}<br><span class="legend">${esc(r.kernelVersion)}</span></th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...seeds.map((p) => row(p.problem, p.title)),
    gap,
    ...rest.map((t) => row('', t)),
    '</tbody></table>',
    '<p class="legend">@N: first found at execution index N of this seed. NEW: not in the corpus and not expected. expected / by-design: in the target\'s expectations. ' +
      'in corpus: seen by an earlier run. LOST: a known expectation this run did not find and whose corpus entry no longer reproduces it.' +
      `${seeds.length > 0 ? ' P1-P5: the seed problems of the 2019 LKML thread.' : ''}</p>`,
  ].join('\n');
}

function targetTable(s: RunSummary): string {
  const head = ['target', 'status', 'executions', 'exec/s', 'elapsed', 'findings', 'new', 'expected found', 'expected, not reached', 'replayed from corpus', 'lost', 'unexpected'];
  const rows = s.results.map((r) => {
    const e = r.expectations;
    const nums = [r.executions, r.execsPerSec].map((n) => `<td class="num">${count(n)}</td>`).join('');
    const lists = [r.findings, r.newFindings, e.expectedFound.length, e.expectedNotFound.length, e.reproducedFromCorpus.length, e.lost.length, e.unexpected.length];
    return `<tr><td>${esc(r.target)}</td><td>${esc(r.status)}</td>${nums}<td class="num">${secs(r.elapsedMs)}</td>${lists.map((n) => `<td class="num">${n}</td>`).join('')}</tr>`;
  });
  return `<table id="target-table"><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function findingBlock(f: SummaryFinding): string {
  const status = findingStatus(f);
  const facts = [
    `kind ${f.kind}`,
    `first index ${f.execIndex}`,
    `${count(f.hits)} hits`,
    `found after ${secs(f.timeToFindMs)}`,
    f.corpusFile ? `corpus ${f.corpusFile}` : `not saved: ${f.corpusError ?? 'no corpus file'}`,
  ];
  return [
    `<details class="finding" id="${findingId(f)}"${f.new ? ' open' : ''}>`,
    `<summary><span class="badge ${STATUS_CLASS[status]}">${esc(status)}</span> ${esc(f.signature)}<span class="t">${esc(f.target)}</span></summary>`,
    `<p class="legend">${facts.map(esc).join(' &middot; ')}</p>`,
    `<p>replay: <code class="replay">${esc(f.replay)}</code></p>`,
    f.related?.length ? `<p class="related">related (same cause): ${f.related.map((r) => `<a href="#${findingId({ target: f.target, signature: r })}">${esc(r)}</a>`).join(', ')}</p>` : '',
    f.detail.length ? `<pre class="detail">${esc(f.detail.join('\n'))}</pre>` : '',
    ladderHtml(f.ladder),
    '</details>',
  ].join('\n');
}

function targetErrorBlock(e: TargetErrorReport): string {
  return [
    `<details class="finding target-error" open>`,
    `<summary><span class="badge new">TARGET ERROR</span> ${esc(e.title)}<span class="t">${esc(e.target)}</span></summary>`,
    `<p class="legend">first index ${e.execIndex} &middot; ${count(e.hits)} hits &middot; a bug of the target's code, not a kernel finding: not in the corpus</p>`,
    `<p>repro: <code class="repro">${esc(e.repro)}</code></p>`,
    `<pre class="stack">${esc(e.stack.join('\n'))}</pre>`,
    '</details>',
  ].join('\n');
}

function targetErrorSection(s: RunSummary): string {
  const errors = s.targetErrors ?? [];
  if (errors.length === 0) return '';
  return `<section id="target-errors"><h2>Target errors (${errors.length})</h2>\n${errors.map(targetErrorBlock).join('\n')}</section>\n`;
}

export function renderHtml(s: RunSummary): string {
  const findings = [...s.findings].sort((a, b) => Number(b.new) - Number(a.new) || compareText(a.target, b.target) || a.execIndex - b.execIndex);
  return page(
    `mdevfuzz ${s.runId}`,
    `<header><h1>mdevfuzz: ${esc(s.targets.join(', '))}</h1>
${verdict(s)}</header>
${targetErrorSection(s)}<section id="figures"><h2>The run</h2>
${figures(s)}
<p>${throughputChart(s.results)}</p></section>
<section id="compare"><h2>Targets &times; signatures</h2>
${compareTable(s)}</section>
<section id="targets"><h2>Per target</h2>
${targetTable(s)}</section>
<section id="coverage"><h2>Coverage of lifecycle paths</h2>
${coverageSection(s)}</section>
<section id="findings"><h2>Findings (${s.findings.length})</h2>
${findings.length ? findings.map(findingBlock).join('\n') : '<p>No findings.</p>'}</section>`,
  );
}
