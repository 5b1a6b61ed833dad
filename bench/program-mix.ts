// What share of drawn programs can show each seed problem at all: the programs that hold the
// operations its minimized repro needs (corpus/mdev-v5.0), with the generator's focus (Target.focus,
// FOCUS_RATE) and without it, on the same seeds. A schedule can only find a race in a program that
// has it, so these shares bound every strategy's time to the first find.

import { execRng } from '../harness/rng.js';
import { FOCUS_RATE, generateProgram } from '../harness/engine/program.js';
import { startFor } from '../harness/engine/runner.js';
import { formatTable } from '../harness/cli/format.js';
import type { Op, Program } from '../harness/types.js';
import { findTarget } from '../targets/index.js';
import { vendorModule } from '../targets/mdev/userspace.js';
import { num, paragraph, writeResult, type Benchmark, type BenchOptions } from './common.js';

const TARGET = 'mdev-v5.0';
const DEFAULT_PROGRAMS = 20_000;

interface Placed extends Op {
  cpu: number;
  at: number;
}

const placed = (p: Program): Placed[] => p.cpus.flatMap((ops, cpu) => ops.map((op, at) => ({ ...op, cpu, at })));
const isCreate = (o: Placed, prefix: string): boolean => o.op === 'create' && String(o.args['type']).startsWith(prefix);
const sameUuid = (a: Placed, b: Placed): boolean => a.args['uuid'] === b.args['uuid'];
/** b can run after a: on another CPU, or later on the same one. */
const after = (a: Placed, b: Placed): boolean => a.cpu !== b.cpu || b.at > a.at;

/** P1: a vfio_ap create, and an open of that device on another CPU. */
function p1(p: Program): boolean {
  const ops = placed(p);
  return ops.some((c) => isCreate(c, 'vfio_ap') && ops.some((o) => o.op === 'open' && sameUuid(c, o) && o.cpu !== c.cpu));
}

/** P2: an mtty create, an open of it and an ioctl on that fd on one CPU, a remove of it on another. */
function p2(p: Program): boolean {
  const ops = placed(p);
  return ops.some((c) =>
    isCreate(c, 'mtty') &&
    p.cpus.some((cpu, n) => {
      let opens = 0;
      let fd = -1;
      for (const [at, o] of cpu.entries()) {
        if (o.op === 'open' && fd < 0 && o.args['uuid'] === c.args['uuid'] && after(c, { ...o, cpu: n, at })) fd = opens;
        if (o.op === 'open') opens++;
        if (o.op === 'ioctl' && fd >= 0 && o.args['fd'] === fd) return ops.some((r) => r.op === 'remove' && r.cpu !== n && sameUuid(c, r));
      }
      return false;
    }),
  );
}

/** P3: an mlx5_core-sf create from the start state where mlx5_sf registered first. */
const p3 = (p: Program): boolean => p.start === 'mlx5_sf-first' && placed(p).some((c) => isCreate(c, 'mlx5_core'));

/** P4: a create, and an rmmod of its vendor on another CPU. */
function p4(p: Program): boolean {
  const ops = placed(p);
  return ops.some((c) => c.op === 'create' && ops.some((r) => r.op === 'rmmod' && r.cpu !== c.cpu && r.args['module'] === vendorModule(String(c.args['type']))));
}

/** P5: a create, a remove of that device after it, and an rmmod of its vendor on another CPU than the remove. */
function p5(p: Program): boolean {
  const ops = placed(p);
  return ops.some((c) =>
    c.op === 'create' &&
    ops.some((rm) => rm.op === 'remove' && sameUuid(c, rm) && after(c, rm) && ops.some((r) => r.op === 'rmmod' && r.cpu !== rm.cpu && r.args['module'] === vendorModule(String(c.args['type'])))),
  );
}

const PROBLEMS = [
  ['P1', p1],
  ['P2', p2],
  ['P3', p3],
  ['P4', p4],
  ['P5', p5],
] as const;

function shares(n: number, focusRate: number): { shares: number[]; ops: number; cpus: number } {
  const target = findTarget(TARGET)!;
  const hits = PROBLEMS.map(() => 0);
  let ops = 0;
  let cpus = 0;
  for (let i = 0; i < n; i++) {
    const program = generateProgram(target, execRng('program-mix', i, 'program'), focusRate, startFor(target, 'program-mix', i));
    PROBLEMS.forEach(([, holds], j) => (hits[j]! += holds(program) ? 1 : 0));
    ops += placed(program).length;
    cpus += program.cpus.length;
  }
  return { shares: hits.map((h) => h / n), ops: ops / n, cpus: cpus / n };
}

async function run(opts: BenchOptions): Promise<void> {
  const n = opts.budget ?? DEFAULT_PROGRAMS;
  console.log(`program-mix: ${num(n)} programs of ${TARGET} drawn with and without the focus, the same seeds\n`);
  const rows = [
    { label: `focus (${FOCUS_RATE} of arguments)`, ...shares(n, FOCUS_RATE) },
    { label: 'no focus', ...shares(n, 0) },
  ];
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  console.log(
    formatTable(
      ['generator', ...PROBLEMS.map(([id]) => id), 'ops/program', 'CPUs/program'].map((header, i) => ({ header, right: i > 0 })),
      [...rows.map((r) => [r.label, ...r.shares.map(pct), r.ops.toFixed(2), r.cpus.toFixed(2)]), ['focus / no focus', ...rows[0]!.shares.map((s, j) => `${(s / rows[1]!.shares[j]!).toFixed(2)}x`), '', '']],
    ),
  );
  console.log(
    `\n${paragraph('How to read this: the share of drawn programs (their start states included) that hold the operations each seed problem needs, as its minimized repro shows them (P2: an mtty create, an open and an ioctl of that fd on one CPU, a remove on another). A program that holds them can still need an exact schedule; one that does not cannot show the problem at all. --budget N draws N programs.')}`,
  );
  writeResult('program-mix', { target: TARGET, programs: n, focusRate: FOCUS_RATE, rows: rows.map((r) => ({ generator: r.label, shares: Object.fromEntries(PROBLEMS.map(([id], j) => [id, r.shares[j]])), opsPerProgram: r.ops, cpusPerProgram: r.cpus })) });
}

export const programMix: Benchmark = { name: 'program-mix', description: 'share of drawn programs that hold each seed problem\'s operations, with and without the focus', run };
