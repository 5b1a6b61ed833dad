// A ladder in the HTML report: a table with a column per CPU (whichever form its text was drawn
// in), wrapped names joined again, the cells of a CPU blocked in a wait shaded, teardown as its
// own phase under a header row, and a legend. Text that is not a ladder stays preformatted.

import { joinWrapped, parseLadder, type Cell, type ParsedRow } from './ladder-parse.js';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const LADDER_CSS = `
.ladder-wrap{overflow-x:auto;margin:6px 0}
table.ladder{border-collapse:collapse;background:#fff;font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.ladder th,table.ladder td{border:0;border-left:1px solid #dfe1e4;padding:0 10px 0 6px;white-space:pre;vertical-align:top}
table.ladder thead th{background:#eef0f2;border-bottom:1px solid #d8dadd;padding:2px 6px}
table.ladder tr.gap td{height:8px}table.ladder td.wait{background:#fff3d6}
table.ladder td.finding{color:#a01c1c;font-weight:700}table.ladder td.switch{color:#7b8591}
table.ladder tr.phase th{background:#eceff3;text-align:left;border-top:1px solid #d8dadd}
`;

function cellClass(cell: Cell | undefined, wait: boolean): string {
  const cls = [cell?.text.startsWith('^^^ ') ? 'finding' : cell?.text.startsWith('~ ') ? 'switch' : '', wait && !cell ? 'wait' : ''].filter(Boolean);
  return cls.length ? ` class="${cls.join(' ')}"` : '';
}

function rowHtml(row: ParsedRow, n: number): string {
  if (row.kind === 'gap') return `<tr class="gap"><td colspan="${n}"></td></tr>`;
  const tds = row.cells.map((cell, c) => `<td${cellClass(cell, row.waits[c]!)}>${cell ? esc(' '.repeat(cell.indent) + cell.text) : ''}</td>`);
  return `<tr>${tds.join('')}</tr>`;
}

export function ladderHtml(text: string): string {
  const p = parseLadder(text);
  if (!p || p.cpus.length === 0) return `<pre class="ladder">${esc(text)}</pre>`;
  const n = p.cpus.length;
  const rows = joinWrapped(p.rows);
  const body = rows.map((r) => rowHtml(r, n));
  if (p.teardown) {
    body.push(`<tr class="phase"><th colspan="${n}">${esc(p.teardown.header.replace(/^-- | --$/g, ''))}</th></tr>`);
    const td = joinWrapped(p.teardown.lines.map((cell) => ({ kind: 'row' as const, cells: [cell], waits: [false] })));
    for (const r of td) if (r.kind === 'row') body.push(`<tr><td colspan="${n}"${cellClass(r.cells[0], false)}>${esc(' '.repeat(r.cells[0]!.indent) + r.cells[0]!.text)}</td></tr>`);
  }
  const waited = rows.some((r) => r.kind === 'row' && r.waits.some(Boolean));
  const switched = rows.some((r) => r.kind === 'row' && r.cells.some((c) => c?.text.startsWith('~ ')));
  const legend = [
    switched ? `~ where a CPU was switched out${waited ? ', (waits) when it blocked in a wait there' : ''}` : '',
    waited ? 'shaded: a CPU blocked in a wait while another ran' : '',
  ].filter(Boolean);
  return [
    '<div class="ladder-wrap">',
    p.start === undefined ? '' : `<p class="legend">start state: ${esc(p.start)}</p>`,
    `<table class="ladder"><thead><tr>${p.cpus.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...body,
    '</tbody></table>',
    legend.length ? `<p class="legend">${esc(legend.join('; '))}</p>` : '',
    '</div>',
  ].filter(Boolean).join('\n');
}
