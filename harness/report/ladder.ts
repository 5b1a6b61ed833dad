// The ladder: time downward, kernel functions nested by call depth, the operations of each CPU
// and the finding marked where it fired; then teardown, the solo phase after the program, as its
// own phase; then a legend of the marks used. Plain text that pastes into a mail, at most `width`
// columns: one column per CPU when each gets MIN_COLUMN characters, else one interleaved column.

import type { TraceEvent } from '../types.js';
import { drawColumns, WAIT_MARK, type Drawn } from './ladder-columns.js';
import { drawInterleaved } from './ladder-interleaved.js';
import { ladderRows, WAITS, type LadderRow } from './ladder-rows.js';
import { CONT, placeTitle, wrap, wrapWords } from './ladder-wrap.js';

export type LadderForm = 'columns' | 'interleaved';

export interface LadderOptions {
  /** The widest a CPU's column gets (default 50). */
  column?: number;
  /** Deepest call depth drawn. */
  maxDepth?: number;
  /** The execution's start state (Program.start), named above the columns when it is not the default. */
  start?: string;
  /** Characters per line (default DEFAULT_WIDTH); a title longer than that is wrapped. */
  width?: number;
  /** Force a form instead of choosing it by width. */
  form?: LadderForm;
}

export const DEFAULT_WIDTH = 100;
/** The narrowest column per CPU: narrower, and the ladder is drawn interleaved. */
export const MIN_COLUMN = 24;

/** The form a ladder of `ncpus` CPUs takes in `width` characters. */
export function ladderForm(ncpus: number, width: number): LadderForm {
  return Math.floor(width / ncpus) >= MIN_COLUMN ? 'columns' : 'interleaved';
}

/** The width of a terminal to print to: its columns, or DEFAULT_WIDTH when it is not one. */
export function terminalWidth(out: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return out.isTTY && out.columns ? out.columns : DEFAULT_WIDTH;
}

export function teardownHeader(ncpus: number): string {
  return `-- teardown: CPU${ncpus} alone, after every CPU of the program ended --`;
}

function drawTeardown(rows: readonly LadderRow[], ncpus: number, width: number, d: Drawn): string[] {
  const lines = ['', teardownHeader(ncpus)];
  for (const r of rows) {
    if (r.kind === 'finding') {
      const t = placeTitle(r.text, r.indent, width);
      t.lines.forEach((l) => lines.push(`${' '.repeat(t.start)}${l}`));
      continue;
    }
    const pieces = wrap(r.text, width - r.indent);
    if (pieces.length > 1) d.wrapped = true;
    for (const p of pieces) lines.push(`${' '.repeat(r.indent)}${p}`);
  }
  return lines;
}

function legend(d: Drawn, form: LadderForm, width: number): string[] {
  const items: string[] = [];
  if (d.switched) items.push(`~ where a CPU was switched out${d.waited ? `, ${WAITS} when it blocked in a wait there` : ''};`);
  if (d.waited) items.push(form === 'columns' ? `${WAIT_MARK} a CPU blocked in a wait while another ran;` : 'wN ran while CPU N was blocked in a wait;');
  if (d.wrapped) items.push(`${CONT} continues the name above;`);
  if (items.length === 0) return [];
  const text = `legend: ${items.join(' ')}`.replace(/;$/, '');
  return ['', ...wrapWords(text, width, '        ')];
}

export function renderLadder(events: readonly TraceEvent[], ncpus: number, opts: LadderOptions = {}): string {
  const width = opts.width ?? DEFAULT_WIDTH;
  const rows = ladderRows(events, ncpus, opts.maxDepth ?? 12);
  const form = opts.form ?? ladderForm(ncpus, width);
  const col = Math.min(opts.column ?? 50, Math.floor(width / ncpus));
  const d = form === 'columns' ? drawColumns(rows.program, ncpus, col, width) : drawInterleaved(rows.program, ncpus, width);
  const lines = opts.start === undefined ? [] : [`start state: ${opts.start}`, ''];
  lines.push(...d.lines);
  if (rows.teardown.length > 0) lines.push(...drawTeardown(rows.teardown, ncpus, width, d));
  lines.push(...legend(d, form, width));
  return lines.join('\n');
}
