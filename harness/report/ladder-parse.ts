// A ladder's text read back into rows of cells, one per CPU, for the HTML report, which only has
// the text (corpus entries store it). Reads both forms renderLadder draws, and the 34-column
// ladders of older entries: a column's text is placed by where it starts on its line, a finding
// by the CPU it follows.

import { CONT } from './ladder-wrap.js';

export interface Cell {
  indent: number;
  text: string;
}

export type ParsedRow =
  | { kind: 'gap' }
  | { kind: 'row'; cells: (Cell | undefined)[]; waits: boolean[] };

export interface ParsedLadder {
  start?: string;
  cpus: string[];
  rows: ParsedRow[];
  teardown?: { header: string; lines: Cell[] };
}

const INTERLEAVED = /^CPU\s+(WAIT\s+)?\(all CPUs in one column\)$/;
const TEARDOWN = /^-- teardown: /;
const LEGEND = /^legend: /;

const cellOf = (s: string): Cell => ({ indent: s.length - s.trimStart().length, text: s.trim() });

/** The ladder in `text`, or undefined when it is not one (no CPU header). */
export function parseLadder(text: string): ParsedLadder | undefined {
  const lines = text.split('\n');
  const h = lines.findIndex((l) => /^CPU/.test(l));
  if (h < 0) return undefined;
  const out: ParsedLadder = { cpus: [], rows: [] };
  const start = /^start state: (.*)$/.exec(lines[0] ?? '');
  if (start && h > 0) out.start = start[1]!;
  let end = lines.findIndex((l, i) => i > h && (TEARDOWN.test(l) || LEGEND.test(l)));
  if (end < 0) end = lines.length;
  const body = lines.slice(h + 2, end);
  while (body.length > 0 && body.at(-1) === '') body.pop();
  if (INTERLEAVED.test(lines[h]!)) interleaved(lines[h]!, body, out);
  else columns(lines[h]!, body, out);
  if (TEARDOWN.test(lines[end] ?? '')) {
    let stop = lines.findIndex((l, i) => i > end && LEGEND.test(l));
    if (stop < 0) stop = lines.length;
    const td = lines.slice(end + 1, stop);
    while (td.length > 0 && td.at(-1) === '') td.pop();
    out.teardown = { header: lines[end]!, lines: td.map(cellOf) };
  }
  return out;
}

function columns(header: string, body: readonly string[], out: ParsedLadder): void {
  const starts = [...header.matchAll(/CPU\d+/g)].map((m) => m.index);
  out.cpus = [...header.matchAll(/CPU\d+/g)].map((m) => m[0]);
  const columnAt = (p: number): number => starts.reduce((c, s, i) => (s <= p ? i : c), 0);
  for (const line of body) {
    if (line.trim() === '') {
      out.rows.push({ kind: 'gap' });
      continue;
    }
    const cells: (Cell | undefined)[] = starts.map(() => undefined);
    const waits = starts.map(() => false);
    // Pieces of text are apart by two spaces or more; a lone ':' is a CPU waiting.
    for (const m of line.matchAll(/\S+(?: \S+)*/g)) {
      const c = columnAt(m.index);
      if (m[0] === ':') waits[c] = true;
      else cells[c] = { indent: m.index - starts[c]!, text: cells[c] ? `${cells[c]!.text}  ${m[0]}` : m[0] };
    }
    out.rows.push({ kind: 'row', cells, waits });
  }
  ownFindings(out.rows);
}

const textCell = (r: ParsedRow | undefined): number => (r?.kind === 'row' ? r.cells.findIndex((c) => c !== undefined) : -1);

/**
 * A title too long for its column was moved left, maybe into another CPU's: give it to the CPU
 * of the line before it, or after it when a CPU switch comes before it (the ladder draws a blank
 * line at every switch, so a finding's neighbour without one between is of its CPU).
 */
function ownFindings(rows: ParsedRow[]): void {
  rows.forEach((row, i) => {
    if (row.kind !== 'row') return;
    const at = textCell(row);
    const cell = row.cells[at];
    if (!cell?.text.startsWith('^^^ ') || row.cells.filter((c) => c !== undefined).length !== 1) return;
    const before = textCell(rows[i - 1]);
    const owner = before >= 0 ? before : textCell(rows[i + 1]);
    if (owner < 0 || owner === at) return;
    const near = (rows[before >= 0 ? i - 1 : i + 1] as Extract<ParsedRow, { kind: 'row' }>).cells[owner]!;
    row.cells[at] = undefined;
    row.cells[owner] = { indent: near.indent + (before >= 0 ? 1 : 0), text: cell.text };
  });
}

function interleaved(header: string, body: readonly string[], out: ParsedLadder): void {
  const textAt = header.indexOf('(all CPUs');
  const waitAt = header.indexOf('WAIT');
  const tagged = body.map((line) => ({ line, cpu: /^CPU(\d+)/.exec(line) }));
  const ncpus = Math.max(0, ...tagged.map((t) => (t.cpu ? Number(t.cpu[1]) + 1 : 0)));
  out.cpus = Array.from({ length: ncpus }, (_, c) => `CPU${c}`);
  for (const { line, cpu } of tagged) {
    if (!cpu) {
      out.rows.push({ kind: 'gap' });
      continue;
    }
    const cells: (Cell | undefined)[] = out.cpus.map(() => undefined);
    const waits = out.cpus.map(() => false);
    const w = waitAt < 0 ? '' : line.slice(waitAt, textAt).trim();
    if (w.startsWith('w')) for (const n of w.slice(1).split(',')) waits[Number(n)] = true;
    cells[Number(cpu[1])] = cellOf(line.slice(textAt));
    out.rows.push({ kind: 'row', cells, waits });
  }
}

/** Rows with each wrapped piece joined to the cell it continues (a '..' piece, a title's next words). */
export function joinWrapped(rows: readonly ParsedRow[]): ParsedRow[] {
  const out: ParsedRow[] = [];
  for (const row of rows) {
    const prev = out.at(-1);
    if (row.kind === 'row' && prev?.kind === 'row') {
      const c = row.cells.findIndex((x) => x !== undefined);
      const cell = row.cells[c];
      const above = prev.cells[c];
      const alone = row.cells.filter((x) => x !== undefined).length === 1;
      if (alone && cell && above && continues(above, cell)) {
        prev.cells[c] = { indent: above.indent, text: cell.text.startsWith(CONT) ? above.text + cell.text.slice(CONT.length) : `${above.text} ${cell.text}` };
        continue;
      }
    }
    out.push(row.kind === 'row' ? { kind: 'row', cells: [...row.cells], waits: [...row.waits] } : row);
  }
  return out;
}

function continues(above: Cell, cell: Cell): boolean {
  if (cell.text.startsWith(CONT) && cell.indent === above.indent) return true;
  return above.text.startsWith('^^^ ') && cell.indent === above.indent + 2 && !cell.text.endsWith('()');
}
