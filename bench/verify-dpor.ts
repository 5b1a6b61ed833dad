// `npm run bench -- verify-dpor`: what DPOR saves `mdevfuzz verify`. On the same programs (evenly
// spaced ranks of the verify enumeration, S=3 on 2 CPUs, default start state, no faults) and the
// same preemption bound, the schedules run and the time taken with DPOR (backtrack
// sets, BPOR's conservative points) and without (every runnable CPU at every state within the
// bound), and whether both found the same titles. --budget N: programs per (target, bound).

import { formatDuration } from '../harness/cli/format.js';
import { loadTarget } from '../harness/engine/load.js';
import { explore } from '../harness/verify/explore.js';
import { enumeratePrograms, programAt } from '../harness/verify/programs.js';
import { num, writeResult, type Benchmark, type BenchOptions } from './common.js';

const TARGETS = ['mdev-v5.0', 'mdev-v5.2', 'mdev-v6'];
/** Programs per bound: bound 2 without DPOR runs about twenty times as many schedules as bound 1. */
const DEFAULT_PROGRAMS: Record<number, number> = { 0: 40, 1: 40, 2: 8 };

interface Row {
  target: string;
  bound: number;
  programs: number;
  dpor: { runs: number; ms: number; pruned: number };
  plain: { runs: number; ms: number };
  sameTitles: boolean;
  titles: string[];
}

async function run(opts: BenchOptions): Promise<void> {
  const rows: Row[] = [];
  for (const name of TARGETS) {
    const target = await loadTarget({ name });
    const e = enumeratePrograms(target, { maxOps: 3, cpus: 2 });
    for (const bound of [0, 1, 2]) {
      const n = Math.min(opts.budget ?? DEFAULT_PROGRAMS[bound]!, e.ranks.length);
      const step = Math.floor(e.ranks.length / n);
      const row: Row = { target: name, bound, programs: n, dpor: { runs: 0, ms: 0, pruned: 0 }, plain: { runs: 0, ms: 0 }, sameTitles: true, titles: [] };
      for (let i = 0; i < n; i++) {
        const program = programAt(e, i * step);
        let t0 = performance.now();
        const a = explore(target, program, { bound, dpor: true });
        row.dpor.ms += performance.now() - t0;
        t0 = performance.now();
        const b = explore(target, program, { bound, dpor: false });
        row.plain.ms += performance.now() - t0;
        row.dpor.runs += a.runs;
        row.dpor.pruned += a.pruned;
        row.plain.runs += b.runs;
        const ta = a.findings.map((f) => f.title).sort();
        const tb = b.findings.map((f) => f.title).sort();
        if (JSON.stringify(ta) !== JSON.stringify(tb)) row.sameTitles = false;
        for (const t of tb) if (!row.titles.includes(t)) row.titles.push(t);
      }
      rows.push(row);
      console.log(
        `${name.padEnd(10)} B=${bound} ${String(n).padStart(3)} programs: DPOR ${num(row.dpor.runs).padStart(7)} schedules ${formatDuration(row.dpor.ms).padStart(7)}, ` +
          `plain ${num(row.plain.runs).padStart(7)} ${formatDuration(row.plain.ms).padStart(7)}, ${(row.plain.runs / Math.max(1, row.dpor.runs)).toFixed(1)}x fewer schedules, ` +
          `${(row.plain.ms / Math.max(1, row.dpor.ms)).toFixed(1)}x time, same titles: ${row.sameTitles ? 'yes' : 'NO'} (${row.titles.length})`,
      );
    }
  }
  console.log(`wrote ${writeResult('verify-dpor', rows)}`);
}

export const verifyDpor: Benchmark = {
  name: 'verify-dpor',
  description: 'schedules and time of verify with DPOR against the plain preemption-bounded search, same programs',
  run,
};
