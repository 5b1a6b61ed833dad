// The ladder's content before layout: the events of an execution as rows, each on one CPU with
// its nesting, in time order, split into the program's phase and teardown's (the solo phase on
// the extra CPU after every CPU of the program ended). Every layout draws these same rows.

import type { TraceEvent } from '../types.js';
import { formatOp } from '../engine/program.js';

export type RowKind = 'op' | 'call' | 'ret' | 'switch' | 'gap' | 'finding';

/** A CPU blocked in a wait while another ran, and where its marker goes in its column. */
export interface Waiter {
  cpu: number;
  indent: number;
}

export interface LadderRow {
  kind: RowKind;
  /** The CPU it happened on; the program's CPU count for teardown. */
  cpu: number;
  /** Spaces before the text, by call depth. */
  indent: number;
  /** Empty for a gap (the blank line where the ladder changes CPU). */
  text: string;
  /** The other CPUs blocked in a wait while this row's CPU ran (always empty in teardown). */
  waiting: readonly Waiter[];
}

export interface LadderRows {
  ncpus: number;
  program: LadderRow[];
  teardown: LadderRow[];
}

/** Where a CPU that blocked shows it: its switch-out line ends with this. */
export const WAITS = '(waits)';

export function ladderRows(events: readonly TraceEvent[], ncpus: number, maxDepth = 12): LadderRows {
  const out: LadderRows = { ncpus, program: [], teardown: [] };
  const depth = new Array<number>(ncpus + 1).fill(0);
  const lastLabel: (string | undefined)[] = [];
  /** CPUs blocked in a wait, by the indent of their marker. */
  const blocked = new Map<number, number>();
  let last = -1;

  const put = (cpu: number, kind: RowKind, indent: number, text: string): void => {
    const teardown = cpu >= ncpus;
    const rows = teardown ? out.teardown : out.program;
    if (!teardown && last !== -1 && last !== cpu && last < ncpus) {
      // Where the CPU that ran was switched out: the preemption point, by label.
      const at = lastLabel[last];
      const waiting = (c: number): Waiter[] => [...blocked].filter(([b]) => b !== c).map(([b, i]) => ({ cpu: b, indent: i })).sort((a, b) => a.cpu - b.cpu);
      if (at !== undefined) rows.push({ kind: 'switch', cpu: last, indent: depth[last]! + 1, text: `~ ${at}${blocked.has(last) ? ` ${WAITS}` : ''}`, waiting: waiting(last) });
      rows.push({ kind: 'gap', cpu, indent: 0, text: '', waiting: waiting(-1) });
    }
    last = cpu;
    blocked.delete(cpu);
    const waiting = teardown ? [] : [...blocked].map(([b, i]) => ({ cpu: b, indent: i })).sort((a, b) => a.cpu - b.cpu);
    rows.push({ kind, cpu: teardown ? ncpus : cpu, indent, text, waiting });
  };

  for (const e of events) {
    switch (e.e) {
      case 'op':
        depth[e.cpu] = 0;
        put(e.cpu, 'op', 0, `${formatOp(e.op)}:`);
        break;
      case 'enter':
        depth[e.cpu]!++;
        if (depth[e.cpu]! <= maxDepth) put(e.cpu, 'call', depth[e.cpu]!, `${e.fn}()`);
        break;
      case 'exit':
        depth[e.cpu] = Math.max(0, depth[e.cpu]! - 1);
        break;
      case 'ret':
        put(e.cpu, 'ret', 1, `= ${e.ret}`);
        break;
      case 'finding':
        put(e.cpu, 'finding', Math.min(depth[e.cpu]!, maxDepth) + 1, `^^^ ${e.title}`);
        break;
      case 'step':
        lastLabel[e.cpu] = e.label;
        if (e.blocked) blocked.set(e.cpu, Math.min(depth[e.cpu]!, maxDepth) + 1);
        else blocked.delete(e.cpu);
        break;
    }
  }
  return out;
}
