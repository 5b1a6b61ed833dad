// The ladder in columns: one per CPU, time downward. A name longer than its column wraps onto
// continuation lines; a CPU blocked in a wait shows ':' in its column on the lines others ran.

import type { LadderRow } from './ladder-rows.js';
import { placeTitle, wrap } from './ladder-wrap.js';

/** What a layout drew, for the legend. */
export interface Drawn {
  lines: string[];
  switched: boolean;
  waited: boolean;
  wrapped: boolean;
}

export const WAIT_MARK = ':';

/** A line from pieces placed at columns; later pieces overwrite earlier ones. */
export function compose(parts: readonly { at: number; text: string }[]): string {
  let s = '';
  for (const p of parts) {
    if (s.length < p.at) s = s.padEnd(p.at);
    s = s.slice(0, p.at) + p.text + s.slice(p.at + p.text.length);
  }
  return s.trimEnd();
}

export function drawColumns(rows: readonly LadderRow[], ncpus: number, col: number, width: number): Drawn {
  const d: Drawn = { lines: [], switched: false, waited: false, wrapped: false };
  const cell = (s: string): string => s.padEnd(col);
  d.lines.push(Array.from({ length: ncpus }, (_, c) => cell(`CPU${c}`)).join('').trimEnd());
  d.lines.push(Array.from({ length: ncpus }, () => cell('-'.repeat(col - 2))).join('').trimEnd());
  for (const r of rows) {
    const lanes = r.waiting.map((w) => ({ at: w.cpu * col + w.indent, text: WAIT_MARK }));
    if (lanes.length > 0) d.waited = true;
    if (r.kind === 'switch') d.switched = true;
    const start = r.cpu * col + r.indent;
    if (r.kind === 'finding') {
      const t = placeTitle(r.text, start, width);
      t.lines.forEach((l) => d.lines.push(compose([...lanes, { at: t.start, text: l }])));
      continue;
    }
    const pieces = r.kind === 'gap' ? [''] : wrap(r.text, col - 1 - r.indent);
    if (pieces.length > 1) d.wrapped = true;
    for (const p of pieces) d.lines.push(compose([...lanes, { at: start, text: p }]));
  }
  return d;
}
