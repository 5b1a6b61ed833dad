// The minimizer: ddmin on synthetic predicates, each stage against a fake executor whose "bug" is a
// predicate on the repro's shape, and the P1 and P2 races of the bundled mdev-v5.0 target.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { execute } from '../harness/engine/inline/inline.js';
import { formatOp } from '../harness/engine/program.js';
import { replayExecution, runIndex } from '../harness/engine/runner.js';
import { ddmin } from '../harness/minimize/ddmin.js';
import { hasSignature, type Repro, type ReproExecutor } from '../harness/minimize/executor.js';
import { minimize, minimizeWith, type Minimized, type MinimizeOptions } from '../harness/minimize/minimize.js';
import * as stages from '../harness/minimize/stages.js';
import { makeRng } from '../harness/rng.js';
import { pct } from '../harness/sched/pct.js';
import type { OpSpec } from '../harness/target.js';
import type { ExecResult, Op, TraceEvent } from '../harness/types.js';
import { findTarget } from '../targets/index.js';

describe('ddmin', () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const table = [
    { name: 'the pair out of 64', items: range(64), keeps: (c: number[]) => c.includes(17) && c.includes(42), want: [17, 42], maxCalls: 40 },
    { name: 'one element out of 64', items: range(64), keeps: (c: number[]) => c.includes(37), want: [37], maxCalls: 16 },
    { name: 'the input when nothing smaller works', items: range(8), keeps: (c: number[]) => c.length === 8, want: range(8), maxCalls: 40 },
    { name: 'one element when any one works', items: range(8), keeps: (c: number[]) => c.length > 0, want: [0], maxCalls: 4 },
  ];
  for (const row of table) {
    test(`finds ${row.name}`, () => {
      const r = ddmin(row.items, row.keeps);
      assert.deepEqual(r.items, row.want);
      assert.ok(r.calls <= row.maxCalls, `${r.calls} calls`);
      assert.equal(r.exhausted, false);
    });
  }

  test('returns a 1-minimal sublist, in order', () => {
    const keeps = (c: number[]) => sum(c) >= 100;
    const r = ddmin(range(30), keeps);
    assert.ok(keeps(r.items));
    assert.deepEqual(r.items, [...r.items].sort((a, b) => a - b));
    for (let i = 0; i < r.items.length; i++) assert.equal(keeps(r.items.filter((_, j) => j !== i)), false);
  });

  test('respects the call cap and still returns a kept sublist', () => {
    let calls = 0;
    const keeps = (c: number[]) => (calls++, c.includes(17) && c.includes(42));
    const r = ddmin(range(64), keeps, { maxCalls: 5 });
    assert.equal(r.calls, 5);
    assert.equal(calls, 5);
    assert.equal(r.exhausted, true);
    assert.ok(keeps(r.items), 'the last kept candidate, or the input');
  });

  test('tries the empty list only when asked', () => {
    assert.deepEqual(ddmin([1, 2, 3], () => true, { tryEmpty: true }), { items: [], calls: 1, exhausted: false });
    assert.equal(ddmin([1, 2, 3], () => true).items.length, 1);
  });
});

// ---- the fake: every operation takes 10 steps, then each CPU exits in one ----

const SIG = 'BUG: fake race';
const SPECS: OpSpec[] = [
  { name: 'create', weight: 1, args: { type: ['mtty-1', 'mtty-2', 'vfio_ap'], uuid: [0, 1] } },
  { name: 'open', weight: 1, args: { uuid: [0, 1] } },
  { name: 'read_attr', weight: 1, args: { uuid: [0, 1] } },
  { name: 'insmod', weight: 1, args: { module: ['mtty'] } },
];
const op = (name: string, args: Op['args']): Op => ({ op: name, args });
const create = (uuid: number, type = 'mtty-1') => op('create', { type, uuid });
const open = (uuid: number) => op('open', { uuid });
const noise = op('read_attr', { uuid: 1 });

/** The fake bug: a CPU preempted 3 steps into a create, in favour of a CPU that opens the same uuid. */
function race(r: Repro): boolean {
  return r.schedule.some((p) => {
    const inside = r.program.cpus[p.cpu]?.[Math.floor(p.step / 10)];
    const other = r.program.cpus[p.to] ?? [];
    return p.step % 10 === 3 && inside?.op === 'create' && other.some((o) => o.op === 'open' && o.args.uuid === inside.args.uuid);
  });
}

/** Records the preemptions that can take effect: within the CPU's steps, to another CPU. */
function fakeExecutor(shows: (r: Repro) => boolean = race): ReproExecutor & { runs: number } {
  const fake = {
    runs: 0,
    run(r: Repro, opts: { events?: boolean } = {}): ExecResult {
      fake.runs++;
      const steps = r.program.cpus.map((ops) => 10 * ops.length + 1);
      const schedule = r.schedule.filter((p) => p.step < steps[p.cpu]! && p.to !== p.cpu && p.to < steps.length);
      const findings = shows(r) ? [{ kind: 'null-deref' as const, title: SIG, cpu: 0, step: 0, detail: [] }] : [];
      const result: ExecResult = { findings, steps: steps.reduce((a, b) => a + b, 0), schedule };
      if (opts.events) {
        const events: TraceEvent[] = [];
        r.program.cpus.forEach((ops, cpu) => {
          for (const o of ops) events.push({ e: 'op', cpu, op: o }, ...Array.from({ length: 10 }, () => ({ e: 'step' as const, cpu, label: 'x' })));
          events.push({ e: 'step', cpu, label: 'do_exit' });
        });
        result.events = events;
      }
      return result;
    },
  };
  return fake;
}

function shrink(repro: Repro, opts: MinimizeOptions = {}, shows = race): Minimized & { runs: number } {
  const executor = fakeExecutor(shows);
  return { ...minimizeWith(executor, SPECS, repro, SIG, opts), runs: executor.runs };
}

describe('staged minimizer, against a fake executor', () => {
  test('drops CPUs, renumbering them in the schedule', () => {
    const repro: Repro = {
      program: { cpus: [[noise], [create(0)], [noise], [open(0)]] },
      faults: [],
      schedule: [{ cpu: 1, step: 3, to: 3 }],
    };
    const { repro: min } = shrink(repro, { stages: [stages.dropCpus] });
    assert.deepEqual(min.program.cpus, [[create(0)], [open(0)]]);
    assert.deepEqual(min.schedule, [{ cpu: 0, step: 3, to: 1 }]);
  });

  test('a preemption to a dropped CPU passes on to whom that CPU handed over', () => {
    const schedule = [
      { cpu: 0, step: 5, to: 1 },
      { cpu: 1, step: 2, to: 2 },
      { cpu: 2, step: 7, to: 1 },
      { cpu: 1, step: 9, to: 3 },
    ];
    const repro: Repro = { program: { cpus: [[], [], [], []] }, faults: [], schedule };
    assert.deepEqual(stages.keepCpus(repro, [0, 2, 3], true).schedule, [
      { cpu: 0, step: 5, to: 1 },
      { cpu: 1, step: 7, to: 2 },
    ]);
    assert.deepEqual(stages.keepCpus(repro, [0, 2, 3], false).schedule, []);
    // CPU 0 starts; dropping it, the new CPU 0 hands over at once to whom CPU 0 handed over.
    const start: Repro = { ...repro, schedule: [{ cpu: 0, step: 4, to: 2 }, { cpu: 2, step: 6, to: 0 }] };
    assert.deepEqual(stages.keepCpus(start, [1, 2], true).schedule, [
      { cpu: 0, step: 0, to: 1 },
      { cpu: 1, step: 6, to: 0 },
    ]);
  });

  test('drops operations, moving the CPU’s later preemptions back by the removed steps', () => {
    const repro: Repro = {
      program: { cpus: [[op('insmod', { module: 'mtty' }), noise, create(1), noise], [noise, open(1)]] },
      faults: [],
      schedule: [{ cpu: 0, step: 23, to: 1 }],
    };
    const { repro: min } = shrink(repro, { stages: [stages.dropOps] });
    assert.deepEqual(min.program.cpus, [[create(1)], [open(1)]]);
    assert.deepEqual(min.schedule, [{ cpu: 0, step: 3, to: 1 }]);
  });

  test('shiftSchedule takes out the steps of removed operations, clamping inside them', () => {
    const spans = { start: [[0, 10, 20], [0]], total: [31, 11] };
    const schedule = [
      { cpu: 0, step: 5, to: 1 },
      { cpu: 0, step: 15, to: 1 },
      { cpu: 0, step: 23, to: 1 },
      { cpu: 1, step: 23, to: 0 },
    ];
    assert.deepEqual(
      stages.shiftSchedule(schedule, 0, spans, [0, 2]).map((p) => p.step),
      [5, 10, 13, 23],
    );
  });

  test('simplifies arguments to the earliest value that keeps the bug, coupled values together', () => {
    const repro: Repro = { program: { cpus: [[create(1, 'vfio_ap')], [open(1)]] }, faults: [], schedule: [{ cpu: 0, step: 3, to: 1 }] };
    const notMtty1 = (r: Repro) => race(r) && r.program.cpus[0]![0]!.args.type !== 'mtty-1';
    const { repro: min } = shrink(repro, { stages: [stages.simplifyArgs] }, notMtty1);
    assert.deepEqual(min.program.cpus, [[create(0, 'mtty-2')], [open(0)]]);
  });

  test('drops faults: down to the one needed, or to none', () => {
    const faults = [{ call: 'kmalloc', nth: 1 }, { call: 'kmalloc', nth: 2 }, { call: 'sysfs_create_file', nth: 1 }];
    const repro: Repro = { program: { cpus: [[create(0)], [open(0)]] }, faults, schedule: [{ cpu: 0, step: 3, to: 1 }] };
    const needsFault = (r: Repro) => race(r) && r.faults.some((f) => f.call === 'kmalloc' && f.nth === 2);
    assert.deepEqual(shrink(repro, { stages: [stages.dropFaults] }, needsFault).repro.faults, [{ call: 'kmalloc', nth: 2 }]);
    assert.deepEqual(shrink(repro, { stages: [stages.dropFaults] }).repro.faults, []);
  });

  test('drops preemptions', () => {
    const schedule = [{ cpu: 1, step: 4, to: 0 }, { cpu: 0, step: 3, to: 1 }, { cpu: 0, step: 7, to: 1 }];
    const repro: Repro = { program: { cpus: [[create(0)], [open(0)]] }, faults: [], schedule };
    assert.deepEqual(shrink(repro, { stages: [stages.dropPreemptions] }).repro.schedule, [{ cpu: 0, step: 3, to: 1 }]);
  });

  test('starts with the CPU that CPU 0 hands over to before its first step', () => {
    const schedule = [{ cpu: 0, step: 0, to: 1 }, { cpu: 1, step: 3, to: 0 }];
    const repro: Repro = { program: { cpus: [[open(0)], [create(0)]] }, faults: [], schedule };
    const { repro: min } = shrink(repro, { stages: [stages.startWithFirstRunner] });
    assert.deepEqual(min.program.cpus, [[create(0)], [open(0)]]);
    assert.deepEqual(min.schedule, [{ cpu: 0, step: 3, to: 1 }]);
  });

  test('normalizes the schedule to what the replay records', () => {
    const schedule = [{ cpu: 0, step: 3, to: 1 }, { cpu: 1, step: 99, to: 0 }];
    const repro: Repro = { program: { cpus: [[create(0)], [open(0)]] }, faults: [], schedule };
    assert.deepEqual(shrink(repro, { stages: [stages.normalizeSchedule] }).repro.schedule, [{ cpu: 0, step: 3, to: 1 }]);
  });

  test('all stages together reach the fixed point and report sizes', () => {
    const repro: Repro = {
      program: { cpus: [[noise, noise], [op('insmod', { module: 'mtty' }), create(1, 'mtty-2'), noise], [noise], [noise, open(1)]] },
      faults: [{ call: 'kmalloc', nth: 3 }],
      schedule: [{ cpu: 0, step: 0, to: 2 }, { cpu: 2, step: 4, to: 1 }, { cpu: 1, step: 13, to: 3 }, { cpu: 3, step: 8, to: 0 }],
    };
    const { repro: min, stats, runs } = shrink(repro);
    assert.deepEqual(min, { program: { cpus: [[create(0)], [open(0)]] }, faults: [], schedule: [{ cpu: 0, step: 3, to: 1 }] });
    assert.deepEqual(stats.before, { cpus: 4, ops: 8, preemptions: 4, faults: 1, steps: 84 });
    assert.deepEqual(stats.after, { cpus: 2, ops: 2, preemptions: 1, faults: 0, steps: 22 });
    assert.equal(stats.replays, runs);
    assert.equal(stats.exhausted, false);
    assert.ok(stats.rounds >= 2, 'a last round found nothing more');
  });

  test('stops at the replay budget with a repro that still shows the bug', () => {
    const repro: Repro = {
      program: { cpus: [[noise, noise], [noise, create(1)], [noise], [noise, open(1)]] },
      faults: [],
      schedule: [{ cpu: 1, step: 13, to: 3 }],
    };
    const { repro: min, stats } = shrink(repro, { maxReplays: 6 });
    assert.equal(stats.exhausted, true);
    assert.ok(stats.replays <= 6 + 1, `${stats.replays} replays: the budget and the final check`);
    assert.ok(race(min));
  });

  test('refuses a repro that does not show the signature', () => {
    const repro: Repro = { program: { cpus: [[create(0)], [open(0)]] }, faults: [], schedule: [] };
    assert.throws(() => shrink(repro), /does not show/);
  });
});

describe('mdev-v5.0', () => {
  const target = findTarget('mdev-v5.0')!;
  const P1 = 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open';
  const P2 = 'KASAN: use-after-free Write in mtty_ioctl';
  const opNames = (r: Repro) => r.program.cpus.flat().map((o) => o.op).sort();

  function check(t: { diagnostic(msg: string): void }, title: string, found: Repro, need: string[]): void {
    const { repro, stats } = minimize(target, found, title);
    t.diagnostic(`${title}: ${repro.program.cpus.map((ops) => ops.map(formatOp).join(' ')).join(' | ')}; schedule ${JSON.stringify(repro.schedule)}`);
    t.diagnostic(`before ${JSON.stringify(stats.before)} after ${JSON.stringify(stats.after)}; ${stats.replays} replays, ${stats.elapsedMs} ms`);
    const replayed = replayExecution(target, repro.program, repro.faults, repro.schedule).result;
    assert.ok(hasSignature(replayed, title), 'the minimized repro replays to the same title');
    assert.equal(repro.program.cpus.length, 2);
    assert.deepEqual(opNames(repro), need);
    assert.ok(repro.schedule.length <= 2, `${repro.schedule.length} preemptions`);
  }

  test('P1 (open racing create) minimizes to create | open', (t) => {
    // With a remove in the program the same title also comes from open racing remove, which
    // needs three operations; P1 proper is the race with create, so take a program without one.
    const cfg = { seed: '3', strategy: 'pct' as const, depth: 3 };
    let found: Repro | undefined;
    let index = 0;
    for (; index < 2000 && !found; index++) {
      const run = runIndex(target, cfg, index);
      const removes = run.program.cpus.flat().some((o) => o.op === 'remove' || o.op === 'rmmod');
      if (!removes && hasSignature(run.result, P1)) found = { program: run.program, faults: run.faults, schedule: run.result.schedule };
    }
    assert.ok(found, 'P1 within 2000 indices of seed 3');
    t.diagnostic(`found at index ${index - 1}`);
    check(t, P1, found, ['create', 'open']);
  });

  test('P2 (remove frees mdev_state under an open fd) minimizes to create, open, ioctl | remove', (t) => {
    // Seed 1 reaches P2 too rarely for a test, so a hand-written program with noise around the race.
    const program = {
      cpus: [
        [op('create', { type: 'mtty-1', uuid: 0 }), op('read_attr', { uuid: 1 }), op('open', { uuid: 0 }), op('ioctl', { fd: 0 })],
        [op('read_attr', { uuid: 0 }), op('remove', { uuid: 0 }), op('open', { uuid: 1 })],
        [op('create', { type: 'mtty-2', uuid: 1 }), op('close', { fd: 1 })],
      ],
    };
    let found: Repro | undefined;
    let seed = 0;
    for (; seed < 3000 && !found; seed++) {
      const result = execute(target, program, pct(2), makeRng(`p2:${seed}`)).result;
      if (hasSignature(result, P2)) found = { program, faults: [], schedule: result.schedule };
    }
    assert.ok(found, 'P2 within 3000 PCT runs');
    t.diagnostic(`found with rng seed p2:${seed - 1}`);
    check(t, P2, found, ['create', 'ioctl', 'open', 'remove']);
  });
});
