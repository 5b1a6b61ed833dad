// The ladder in one column, for a width too narrow for a column per CPU: every line tagged with
// its CPU, and with `wN` while CPU N was blocked in a wait. Time still runs downward.

import type { Drawn } from './ladder-columns.js';
import type { LadderRow } from './ladder-rows.js';
import { placeTitle, wrap } from './ladder-wrap.js';

const waitTag = (r: LadderRow): string => (r.waiting.length === 0 ? '' : `w${r.waiting.map((w) => w.cpu).join(',')}`);

export function drawInterleaved(rows: readonly LadderRow[], ncpus: number, width: number): Drawn {
  const d: Drawn = { lines: [], switched: false, waited: false, wrapped: false };
  const tagW = `CPU${ncpus - 1}`.length;
  const waitW = Math.max(0, ...rows.map((r) => waitTag(r).length));
  const waitCol = waitW === 0 ? 0 : Math.max(waitW, 4) + 1;
  const prefixW = tagW + 2 + waitCol;
  const prefix = (r: LadderRow): string => `${`CPU${r.cpu}`.padEnd(tagW + 2)}${waitCol === 0 ? '' : waitTag(r).padEnd(waitCol)}`;
  d.lines.push(`${'CPU'.padEnd(tagW + 2)}${waitCol === 0 ? '' : 'WAIT'.padEnd(waitCol)}(all CPUs in one column)`);
  d.lines.push(`${'-'.repeat(tagW)}  ${waitCol === 0 ? '' : `${'-'.repeat(waitCol - 1)} `}${'-'.repeat(24)}`);
  for (const r of rows) {
    if (r.waiting.length > 0) d.waited = true;
    if (r.kind === 'switch') d.switched = true;
    if (r.kind === 'gap') {
      d.lines.push('');
      continue;
    }
    if (r.kind === 'finding') {
      // Within the room after the tags, so that every line of it still names its CPU.
      const t = placeTitle(r.text, r.indent, width - prefixW);
      t.lines.forEach((l) => d.lines.push(`${prefix(r)}${' '.repeat(t.start)}${l}`));
      continue;
    }
    const pieces = wrap(r.text, width - prefixW - r.indent);
    if (pieces.length > 1) d.wrapped = true;
    for (const p of pieces) d.lines.push(`${prefix(r)}${' '.repeat(r.indent)}${p}`.trimEnd());
  }
  return d;
}
