// The ladder: one column per CPU, time downward, kernel functions nested by call depth, the
// operations of each CPU and the finding marked where it fired. Plain text that pastes into a mail.

import type { TraceEvent } from '../types.js';
import { formatOp } from '../engine/program.js';

export interface LadderOptions {
  /** Width of one CPU's column. */
  column?: number;
  /** Deepest call depth drawn. */
  maxDepth?: number;
  /** The execution's start state (Program.start), named above the columns when it is not the default. */
  start?: string;
}

function fit(s: string, width: number): string {
  return s.length > width ? `${s.slice(0, width - 1)}~` : s.padEnd(width);
}

export function renderLadder(events: readonly TraceEvent[], ncpus: number, opts: LadderOptions = {}): string {
  const col = opts.column ?? 34;
  const maxDepth = opts.maxDepth ?? 12;
  const depth = new Array<number>(ncpus + 1).fill(0);
  const lines: string[] = opts.start === undefined ? [] : [`start state: ${opts.start}`, ''];
  const header = Array.from({ length: ncpus }, (_, c) => fit(`CPU${c}`, col)).join('');
  lines.push(header.trimEnd(), Array.from({ length: ncpus }, () => fit('-'.repeat(col - 2), col)).join('').trimEnd());
  let last = -1;
  const lastLabel: (string | undefined)[] = [];
  const put = (cpu: number, text: string): void => {
    if (cpu >= ncpus) return;
    if (last !== -1 && last !== cpu) {
      // Where the CPU that ran was switched out: the preemption point, by label.
      const at = lastLabel[last];
      if (at !== undefined) lines.push((' '.repeat(col * last + depth[last]! + 1) + `~ ${at}`).trimEnd());
      lines.push('');
    }
    last = cpu;
    lines.push((' '.repeat(col * cpu) + fit(text, col)).trimEnd());
  };
  for (const e of events) {
    switch (e.e) {
      case 'op':
        depth[e.cpu] = 0;
        put(e.cpu, `${formatOp(e.op)}:`);
        break;
      case 'enter':
        depth[e.cpu]!++;
        if (depth[e.cpu]! <= maxDepth) put(e.cpu, `${' '.repeat(depth[e.cpu]!)}${e.fn}()`);
        break;
      case 'exit':
        depth[e.cpu] = Math.max(0, depth[e.cpu]! - 1);
        break;
      case 'ret':
        put(e.cpu, ` = ${e.ret}`);
        break;
      case 'finding':
        // The title is the signature: never cut it, even past the column.
        put(e.cpu, '');
        lines[lines.length - 1] = `${' '.repeat(col * Math.min(e.cpu, ncpus - 1) + depth[e.cpu]! + 1)}^^^ ${e.title}`;
        break;
      case 'step':
        lastLabel[e.cpu] = e.label;
        break;
    }
  }
  return lines.join('\n');
}
