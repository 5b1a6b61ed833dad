// The access record (harness/kernel/access.ts), the profiling runs (harness/engine/profile-run.ts)
// and the conflict-aware strategies built on them (harness/sched: pct, cpct, pos, surw, race).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { execute } from '../harness/engine/inline/inline.js';
import { FORWARD, profileProgram, SERIAL_RNG, serialStrategy } from '../harness/engine/profile-run.js';
import { programFor, runIndex } from '../harness/engine/runner.js';
import { AccessLog, accessObject, conflicts, READ, SYNC, WHOLE, WRITE } from '../harness/kernel/access.js';
import type { Kernel } from '../harness/kernel/kernel.js';
import { defineStruct, makeLayout } from '../harness/kernel/layout.js';
import { execRng, makeRng } from '../harness/rng.js';
import { makeStrategy, STRATEGIES, type StrategyName } from '../harness/sched/index.js';
import { conflictingSteps, cpuAccesses, sharedObjects, type Profile } from '../harness/sched/profile.js';
import { allRaces, inOrder, makers, pickRace, raceChances, races, type Race } from '../harness/sched/race.js';
import { replay } from '../harness/sched/replay.js';
import type { Strategy } from '../harness/sched/strategy.js';
import { findTarget } from '../targets/index.js';
import { miniTarget, op, prog, runWith } from './fixtures/mini.js';
import type { Schedule } from '../harness/types.js';
import { entryPairs, readsFrom, rfKey } from '../harness/guided/reads-from.js';
import { normalize } from '../harness/guided/mutate-schedule.js';

const mdev = findTarget('mdev-v5.0')!;

// A planted atomicity violation: `use` loads the pointer, and stores through it a step later;
// `drop` clears the pointer and frees the box. Both first run PAD steps that touch nothing.
const PAD = 30;
const globals = defineStruct('globals', ['box']);
const box = defineStruct('box', ['value']);
const thing = defineStruct('thing', ['n']);
const g = (k: Kernel) => k.nth(globals, 0);
const planted = miniTarget({
  name: 'planted-uaf',
  pools: [
    { def: globals, capacity: 1 },
    { def: box, capacity: 2 },
    { def: thing, capacity: 8 },
  ],
  *setup(k) {
    const gl = k.alloc(globals, 'setup');
    k.set(gl, 'box', k.alloc(box, 'setup'));
  },
  ops: {
    *use(k) {
      for (let i = 0; i < PAD; i++) yield k.at('pad');
      const b = k.ref(g(k), 'box', box);
      yield k.at('store');
      if (b !== 0) k.set(b, 'value', 1);
      return 0;
    },
    *drop(k) {
      for (let i = 0; i < PAD; i++) yield k.at('pad');
      const b = k.ref(g(k), 'box', box);
      k.set(g(k), 'box', 0);
      yield k.at('kfree');
      if (b !== 0) k.free(b, 'drop');
      return 0;
    },
    *make(k) {
      const t = k.alloc(thing, 'make');
      yield k.at('init');
      k.set(t, 'n', 1);
      return 0;
    },
  },
});
const race = prog(['use'], ['drop']);
const UAF = 'KASAN: use-after-free Write in use';

describe('the access record', () => {
  test('names each step’s reads, writes and synchronisation, aligned with the trace', () => {
    const program = prog([op('create', { type: 'mtty-1', uuid: 0 })]);
    const r = execute(mdev, program, replay([]), makeRng('x'), { trace: true, accesses: true, accessText: true }).result;
    assert.equal(r.accesses!.length, r.trace!.length);
    // The step after the preemption point before mutex_lock takes the lock: a sync access on its word.
    const at = r.trace!.findIndex(([, label]) => label === 'mdev_device_create:mutex_lock(mdev_list_lock)');
    assert.ok(at >= 0);
    assert.ok(r.accesses![at + 1]!.includes('sync globals#0.mdev_list_lock'), JSON.stringify(r.accesses![at + 1]));
    // kzalloc is a write of the whole object, named by the CPU that allocated it.
    assert.ok(r.accesses!.flat().includes('write mdev_device@cpu0.0'));
  });

  test('free_module frees the module’s memory: its struct module and its static objects, each as a whole', () => {
    const program = prog([op('rmmod', { module: 'mtty' })]);
    const r = execute(mdev, program, replay([]), makeRng('x'), { trace: true, accesses: true, accessText: true }).result;
    const at = r.trace!.findIndex(([, label]) => label === 'delete_module:free_module');
    assert.ok(at >= 0, 'rmmod reached free_module');
    const freed = r.accesses![at + 1]!.filter((a) => /^write [^ .]+$/.test(a));
    assert.ok(freed.some((a) => a.startsWith('write module#')), JSON.stringify(r.accesses![at + 1]));
    assert.ok(freed.length >= 2, `struct module and at least one static object: ${JSON.stringify(freed)}`);
  });

  test('an object allocated by a program has the same name under every schedule', () => {
    const program = prog(['make'], ['make']);
    const forward = runWith(planted, program, [], { accesses: true, accessText: true }).result;
    const backward = runWith(planted, program, [{ cpu: 0, step: 0, to: 1 }], { accesses: true, accessText: true }).result;
    const names = (r: typeof forward, cpu: number) => r.trace!.flatMap(([c], i) => (c === cpu ? r.accesses![i]! : []));
    // The slots differ (the first make takes slot 0), the names do not. An allocation also writes
    // which slots of its pool are live, what a walk of them reads (Kernel.walk).
    assert.deepEqual(names(forward, 0), ['write thing@cpu0.0', 'write live thing', 'write thing@cpu0.0.n']);
    assert.deepEqual(names(backward, 0), names(forward, 0));
    assert.deepEqual(names(backward, 1), ['write thing@cpu1.0', 'write live thing', 'write thing@cpu1.0.n']);
  });

  test('keeping it changes nothing in the execution', () => {
    for (let i = 0; i < 15; i++) {
      const program = programFor(mdev, 'access-off', i);
      const run = (accesses: boolean) => execute(mdev, program, makeStrategy('pct', 3), execRng('access-off', i, 'schedule'), { trace: true, accesses }).result;
      const on = run(true);
      const off = run(false);
      assert.deepEqual(on.trace, off.trace, `program ${i}`);
      assert.deepEqual(on.findings, off.findings, `program ${i}`);
      assert.equal(off.accesses, undefined);
    }
  });

  test('its tables grow past their first size; a released record hands them on empty', () => {
    const log = new AccessLog();
    for (let t = 0; t < 700; t++) {
      log.step(t % 3, t % 5);
      for (let j = 0; j < 9; j++) log.note(1000 + t, j, (t + j) % 3);
    }
    assert.deepEqual(log.of(650), Array.from({ length: 9 }, (_, j) => (1650 * 128 + j) * 4 + ((650 + j) % 3)));
    assert.deepEqual([log.length, log.opOf(699), log.cpuOf(699), log.cpuOf(700)], [700, 4, 0, -1]);
    assert.deepEqual(log.of(700), []);
    log.release();
    assert.deepEqual(log.of(0), []);
    const next = new AccessLog();
    next.note(7, 1, WRITE); // before the first step: not recorded
    next.step(1, 2);
    next.note(7, 1, WRITE);
    assert.deepEqual([next.of(0), next.of(1), next.opOf(0)], [[(7 * 128 + 1) * 4 + WRITE], [], 2]);
  });

  test('a layout whose accesses would not fit an int32 is refused', () => {
    const pools = (n: number) => Array.from({ length: n }, (_, i) => ({ def: defineStruct(`s${i}`, ['f']), capacity: 1 }));
    assert.equal(makeLayout(pools(127)).pools.length, 127);
    assert.throws(() => makeLayout(pools(128)), /128 pools .* past what the access record numbers/);
  });

  test('conflicts: same field or the whole object, one side not a read', () => {
    const at = (obj: number, field: number, kind: number) => (obj * 128 + field) * 4 + kind;
    assert.equal(conflicts(at(5, 1, READ), at(5, 1, READ)), false);
    assert.equal(conflicts(at(5, 1, READ), at(5, 1, WRITE)), true);
    assert.equal(conflicts(at(5, 1, SYNC), at(5, 1, SYNC)), true);
    assert.equal(conflicts(at(5, 1, WRITE), at(5, 2, WRITE)), false);
    assert.equal(conflicts(at(5, 1, READ), at(5, WHOLE, WRITE)), true);
    assert.equal(conflicts(at(-3, 1, READ), at(-3, WHOLE, WRITE)), true);
    assert.equal(conflicts(at(-3, 1, WRITE), at(3, 1, WRITE)), false);
    assert.equal(accessObject(at(-3, 7, SYNC)), -3);
  });
});

describe('the profile', () => {
  const profile = profileProgram(planted, race);

  test('finds the conflicting steps and nothing else', () => {
    // Step PAD of each CPU runs from its last `pad` point: the load (use), the load and clear (drop);
    // step PAD+1 the store (use), the free (drop). The pads touch nothing.
    assert.deepEqual(conflictingSteps(profile), [
      { cpu: 0, step: PAD },
      { cpu: 0, step: PAD + 1 },
      { cpu: 1, step: PAD },
      { cpu: 1, step: PAD + 1 },
    ]);
    assert.deepEqual(
      sharedObjects(profile).map((o) => o.steps),
      [
        [[PAD], [PAD]],
        [[PAD + 1], [PAD + 1]],
      ],
    );
  });

  test('indexes each CPU by its distinct accesses, however many the thread has met', () => {
    // 40,000 accesses never seen before (the thread-wide table grows past its first sizes), each
    // made by CPU 0 in one step and by CPU 1 twice in another: their counts, their order of first
    // occurrence, and the conflicts of writes against reads.
    const fresh = Array.from({ length: 40_000 }, (_, i) => ((100_000 + i) * 128 + 3) * 4 + WRITE);
    const reads = fresh.map((a) => a - WRITE + READ);
    const big: Profile = { length: 3, cpus: [[fresh], [[], [...reads, ...reads]]] };
    const [cpu0, cpu1] = cpuAccesses(big);
    assert.deepEqual([...cpu0!.distinct], fresh);
    assert.ok(cpu0!.counts.every((n) => n === 1));
    assert.deepEqual([...cpu1!.distinct], reads);
    assert.ok(cpu1!.counts.every((n) => n === 2));
    assert.deepEqual([...cpu1!.stepStart], [0, 0, 80_000]);
    assert.equal(conflictingSteps(big).length, 2);
  });

  test('takes each CPU from the serial order in which it went further', () => {
    // In order, cpu0's remove finds no device and returns at once; in reverse it runs after the
    // create of cpu1 and removes the device.
    const program = prog([op('remove', { uuid: 0 })], [op('create', { type: 'mtty-1', uuid: 0 })]);
    const p = profileProgram(mdev, program);
    const alone = profileProgram(mdev, prog([op('remove', { uuid: 0 })]));
    assert.ok(p.cpus[0]!.length > alone.cpus[0]!.length + 10, `${p.cpus[0]!.length} vs ${alone.cpus[0]!.length}`);
    assert.ok(conflictingSteps(p).some((s) => s.cpu === 0));
  });
});

/** Drive a strategy by hand over CPUs that never block, returning the CPU of each step. */
function drive(strategy: Strategy, profile: Profile, seed: string, total: number): number[] {
  const ncpus = profile.cpus.length;
  strategy.start({ ncpus, ops: ncpus, rng: makeRng(seed), profile });
  const steps = new Array<number>(ncpus).fill(0);
  const picked: number[] = [];
  let current = 0;
  for (let t = 0; t < total; t++) {
    const runnable = [...Array(ncpus).keys()].filter((c) => steps[c]! < profile.cpus[c]!.length);
    if (runnable.length === 0) break;
    current = strategy.pick(runnable, current, steps, t);
    picked.push(current);
    steps[current]!++;
  }
  return picked;
}

/** Where the CPU picked changed while the one before still had steps: (step of the execution, that CPU, its steps run). */
function preemptions(picked: number[], lengths: number[]): { t: number; cpu: number; at: number }[] {
  const steps = lengths.map(() => 0);
  const out: { t: number; cpu: number; at: number }[] = [];
  for (const [t, c] of picked.entries()) {
    const prev = picked[t - 1];
    if (prev !== undefined && c !== prev && steps[prev]! < lengths[prev]!) out.push({ t, cpu: prev, at: steps[prev]! });
    steps[c]!++;
  }
  return out;
}

describe('conflict-aware strategies', () => {
  const profile = profileProgram(planted, race);

  test('pct places its change points within the program’s measured length', () => {
    const long: Profile = { length: 20, cpus: [Array(200).fill([]), Array(200).fill([])] };
    for (let s = 0; s < 30; s++) {
      const picked = drive(makeStrategy('pct', 3), long, `pct-${s}`, 400);
      // No CPU blocks: PCT leaves a CPU that has steps left only at a change point, all before step 20.
      assert.deepEqual(preemptions(picked, [200, 200]).filter((p) => p.t > 20), [], `seed ${s}`);
    }
  });

  test('cpct preempts only at conflicting steps', () => {
    let seen = 0;
    for (let s = 0; s < 30; s++) {
      const p = preemptions(drive(makeStrategy('cpct', 2), profile, `cpct-${s}`, 200), [PAD + 2, PAD + 2]);
      for (const { cpu, at } of p) assert.ok(at === PAD || at === PAD + 1, `seed ${s}: preempted cpu${cpu} before its step ${at}`);
      seen += p.length;
    }
    assert.ok(seen > 0, 'some seeds preempted');
  });

  test('surw runs a drawn CPU up to and through its next interesting step', () => {
    let seen = 0;
    for (let s = 0; s < 20; s++) {
      const p = preemptions(drive(makeStrategy('surw', 0), profile, `surw-${s}`, 200), [PAD + 2, PAD + 2]);
      // A CPU is left only right after one of its interesting steps (PAD, PAD + 1), before its end.
      for (const { cpu, at } of p) assert.equal(at, PAD + 1, `seed ${s}: left cpu${cpu} before its step ${at}`);
      seen += p.length;
    }
    assert.ok(seen > 0, 'some seeds interleaved');
  });

  test('race reverses one race: its first CPU, about to run a racing step, yields to the other until that one ends', () => {
    let seen = 0;
    for (let s = 0; s < 30; s++) {
      const picked = drive(makeStrategy('race', 0), profile, `race-${s}`, 200);
      const p = preemptions(picked, [PAD + 2, PAD + 2]);
      // No CPU blocks here: exactly one switch, before a racing step (PAD, PAD + 1), and then the
      // CPU switched to runs to its end before the first one goes on.
      assert.equal(p.length, 1, `seed ${s}: ${JSON.stringify(p)}`);
      assert.ok(p[0]!.at === PAD || p[0]!.at === PAD + 1, `seed ${s}: before step ${p[0]!.at}`);
      const other = 1 - p[0]!.cpu;
      assert.deepEqual(picked.slice(p[0]!.t, p[0]!.t + PAD + 2), Array(PAD + 2).fill(other), `seed ${s}`);
      seen++;
    }
    assert.equal(seen, 30);
  });

  test('races: the steps of one CPU that race with another, a free by the other marked as a lifetime race', () => {
    const at = (object: number, field: number, kind: number) => (object * 128 + field) * 4 + kind;
    const profile: Profile = {
      length: 4,
      cpus: [
        [[at(5, 1, READ)], [at(6, 1, READ)]],
        [[at(5, WHOLE, WRITE)], [at(7, 1, WRITE)]],
      ],
      ops: [[0, 1], [0, 0]],
    };
    assert.deepEqual(
      races(profile).map(({ a, step, b, op, lifetime }) => ({ a, step, b, op, lifetime })),
      [
        { a: 0, step: 0, b: 1, op: 0, lifetime: true },
        { a: 1, step: 0, b: 0, op: 0, lifetime: false },
      ],
    );
    const disjoint: Profile = { length: 2, cpus: [[[at(5, 1, WRITE)]], [[at(6, 1, WRITE)]]] };
    assert.deepEqual(races(disjoint), []);
  });

  test('pickRace prefers the pair of CPUs with lifetime races, and within an operation the rarer location', () => {
    const r = (a: number, step: number, weight: number, lifetime: boolean): Race => ({ a, step, b: 1 - a, op: 0, weight, lifetime, birth: false });
    const all = [r(0, 1, 0.5, true), r(0, 2, 0.5, true), r(0, 3, 0.5, true), r(0, 4, 0.05, false), r(1, 1, 0.5, false), r(1, 2, 0.5, false)];
    const picks = Array.from({ length: 400 }, (_, i) => pickRace(all, makeRng(`pick-${i}`))!);
    // Pair (0, 1) weighs 1 + 3^2 = 10 against 1; within it the common location (rarity 0.05) weighs 0.05^2 against 0.5^2.
    const first = picks.filter((p) => p.a === 0).length;
    assert.ok(first > 0.85 * 400 && first < 400, `${first} of 400 on the pair with lifetime races`);
    assert.ok(picks.filter((p) => p.a === 0 && p.step === 4).length < 8, 'the common location is rarely drawn');
    assert.equal(pickRace([], makeRng('none')), undefined);
  });

  test('a fixed program takes its races in one weighted order: any N consecutive executions reverse each of its N races once', () => {
    const r = (a: number, step: number, weight: number, lifetime: boolean): Race => ({ a, step, b: 1 - a, op: 0, weight, lifetime, birth: false });
    const all = [r(0, 1, 0.5, true), r(0, 2, 0.5, true), r(0, 3, 0.05, false), r(1, 1, 0.5, false), r(1, 2, 0.01, false)];
    const chances = raceChances(all);
    assert.ok(Math.abs(chances.reduce((x, y) => x + y, 0) - 1) < 1e-9, 'the chances sum to 1');
    for (const seed of ['a', 'b', 'c']) {
      const taken = Array.from({ length: all.length }, (_, i) => inOrder(all, { seed, index: 7 + i }));
      assert.equal(new Set(taken).size, all.length, `seed ${seed}: every race once`);
      assert.equal(inOrder(all, { seed, index: 7 + all.length }), taken[0], 'then the same order again');
    }
  });

  test('race on a fixed program reaches P1 beside a remove within the program’s N races', () => {
    const v50 = findTarget('mdev-v5.0')!;
    const program = {
      cpus: [
        [{ op: 'create', args: { type: 'vfio_ap-passthrough', uuid: 0 } }],
        [{ op: 'open', args: { uuid: 0 } }],
        [{ op: 'remove', args: { uuid: 0 } }],
      ],
    };
    const fixed = { ...v50, generate: () => structuredClone(program), fixedProgram: true };
    const P1 = 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open';
    const n = races(profileProgram(v50, program)).length;
    const cfg = { seed: 'fixed', strategy: 'race' as const, depth: 0, faults: false };
    const found = Array.from({ length: n }, (_, i) => runIndex(fixed, cfg, i)).filter((x) => x.result.findings.some((f) => f.title === P1)).length;
    // The create/open pair has no lifetime race and 8 birth races; the two pairs against the remove
    // have 31 and 26 lifetime races: drawn, the pair comes up about once in 190 executions.
    assert.ok(found > 0, `P1 within the program's ${n} races, in order`);
  });

  test('race runs first the CPUs that made what a touches: P2 with the create on a third CPU', () => {
    const v50 = findTarget('mdev-v5.0')!;
    // Only the reverse-order profile gets this far (create, then open and ioctl, then remove), and
    // the ioctl's write into the mdev_state that the remove frees is the race to reverse. Run
    // before its creator, the open finds no device.
    const program = prog([op('remove', { uuid: 0 })], [op('open', { uuid: 0 }), op('ioctl', { fd: 0 })], [op('create', { type: 'mtty-1', uuid: 0 })]);
    const fixed = { ...v50, generate: () => structuredClone(program), fixedProgram: true };
    const P2 = 'KASAN: use-after-free Write in mtty_ioctl';
    const profile = profileProgram(v50, program);
    // A fixed program takes the profile's own races first: executions 0..n-1 reverse each once.
    const own = races(profile);
    const cfg = { seed: 'fixed', strategy: 'race' as const, depth: 0, faults: false };
    const shows = Array.from({ length: own.length }, (_, i) => runIndex(fixed, cfg, i)).filter((x) => x.result.findings.some((f) => f.title === P2));
    assert.ok(shows.length > 0, `P2 within the program's ${own.length} races`);
    for (const x of shows) assert.deepEqual(x.result.schedule[0], { cpu: 0, step: 0, to: 2 }, 'the creator ran first');
    assert.deepEqual([...new Set(own.filter((r) => r.a === 1 && r.b === 0).map((r) => makers(profile, r).join()))], ['2']);
    // Static objects alone (the planted race) have no makers: a runs first, as it always did.
    const plantedProfile = profileProgram(planted, race);
    assert.ok(races(plantedProfile).every((r) => makers(plantedProfile, r).length === 0));
  });

  test('race also takes the races of each serial run: P2 where the remover went further in reverse order', () => {
    const v50 = findTarget('mdev-v5.0')!;
    // In CPU order cpu2's remove frees the mdev_state that cpu1's ioctl wrote into, then waits for
    // the fds to close; in reverse order it finds no device, and its create of uuid 1 makes that
    // run the longer one, which the profile keeps.
    const program = prog(
      [op('read_attr', { uuid: 0 }), op('create', { type: 'mtty-1', uuid: 0 })],
      [op('open', { uuid: 0 }), op('ioctl', { fd: 0 })],
      [op('open', { uuid: 0 }), op('ioctl', { fd: 0 }), op('remove', { uuid: 0 }), op('create', { type: 'mtty-1', uuid: 1 })],
    );
    const profile = profileProgram(v50, program);
    const all = allRaces(profile);
    assert.ok(all.length > races(profile).length, 'the serial runs add races');
    const fixed = { ...v50, generate: () => structuredClone(program), fixedProgram: true };
    const P2 = 'KASAN: use-after-free Write in mtty_ioctl';
    const cfg = { seed: 'runs', strategy: 'race' as const, depth: 0, faults: false };
    const shows = Array.from({ length: all.length }, (_, i) => i).filter((i) => runIndex(fixed, cfg, i).result.findings.some((f) => f.title === P2));
    assert.ok(shows.length > 0, `P2 within the program's ${all.length} races`);
    for (const i of shows) assert.notEqual(inOrder(all, { seed: 'runs', index: i })!.run, undefined, `execution ${i} reversed a race of a serial run`);
  });

  test('pickRace: among lifetime races, the one on the rarest location; the others only with all races', () => {
    const r = (step: number, weight: number, lifetime: boolean): Race => ({ a: 0, step, b: 1, op: 0, weight, lifetime, birth: false });
    // Lifetime races on locations of rarity 0.5 (step 1) and 0.25 (step 2); a plain race of rarity 0.5 (step 3).
    const all = [r(1, 0.5, true), r(2, 0.25, true), r(3, 0.5, false)];
    const picks = Array.from({ length: 400 }, (_, i) => pickRace(all, makeRng(`rarest-${i}`))!.step);
    const count = (step: number): number => picks.filter((s) => s === step).length;
    // Two thirds of the draws take the lifetime races only, and then always step 1; the other third
    // draws all three by rarity squared (0.25 : 0.0625 : 0.25), step 2 one time in nine.
    assert.ok(count(1) > 0.7 * 400, `${count(1)} of 400 on the rarest lifetime race`);
    assert.ok(count(2) > 0 && count(2) < 0.1 * 400, `${count(2)} of 400 on the commoner one, from the all-races third only`);
    assert.ok(count(3) > 0.07 * 400 && count(3) < 0.25 * 400, `${count(3)} of 400 on the plain race`);
  });

  test('races: a write to what a made, where b touches it, is a birth race; the last one of an operation weighs most', () => {
    // Objects of the program are negative: -1 is the first object of pool 0 that CPU 0 allocated.
    const at = (object: number, field: number, kind: number) => (object * 128 + field) * 4 + kind;
    const made = -1;
    const profile: Profile = {
      length: 5,
      cpus: [
        // CPU 0 allocates the object, then sets field 1 and field 2, then a field no one reads.
        [[at(made, WHOLE, WRITE)], [at(made, 1, WRITE)], [at(made, 2, WRITE)], [at(made, 3, WRITE)]],
        // CPU 1 reads fields 1 and 2.
        [[at(made, 1, READ), at(made, 2, READ)]],
      ],
      ops: [[0, 0, 0, 0], [0]],
    };
    const all = races(profile);
    assert.deepEqual(
      all.map(({ a, step, b, birth }) => ({ a, step, b, birth })),
      [
        { a: 0, step: 0, b: 1, birth: true },
        { a: 0, step: 1, b: 1, birth: true },
        { a: 0, step: 2, b: 1, birth: true },
        { a: 1, step: 0, b: 0, birth: false },
      ],
    );
    const chances = raceChances(all);
    // Pair (0, 1) weighs 1 + 3 births against 1; nine tenths of it go to its last birth race (step 2).
    assert.ok(Math.abs(chances.reduce((x, y) => x + y, 0) - 1) < 1e-9, 'the chances sum to 1');
    assert.ok(chances[2]! > 0.9 * 0.8 && chances[2]! < 0.8, `last birth race ${chances[2]}`);
    assert.ok(chances[0]! + chances[1]! < 0.1 * 0.8, `earlier birth races ${chances[0]}, ${chances[1]}: from the pair's last tenth only`);
    assert.ok(Math.abs(chances[3]! - 0.2) < 1e-9, `the other pair ${chances[3]}`);
  });

  test('raceChances over the race table equals the rule computed race by race, to the last bit, on drawn mdev-v5.0 and v6 programs', () => {
    // The rule as its doc states it, one object per race: chances must match it exactly, since a
    // draw subtracts them in order and the same race must come out of the same number.
    const byKey = (ids: readonly number[], key: (i: number) => number): number[][] => {
      const groups = new Map<number, number[]>();
      for (const i of ids) groups.set(key(i), [...(groups.get(key(i)) ?? []), i]);
      return [...groups.values()];
    };
    const reference = (all: readonly Race[]): number[] => {
      const chances = new Array<number>(all.length).fill(0);
      const pairKeyOf = (i: number): number => all[i]!.a * 64 + all[i]!.b;
      const pairs = byKey([...all.keys()], pairKeyOf).sort((x, y) => pairKeyOf(x[0]!) - pairKeyOf(y[0]!));
      const lastBirth = new Set<number>();
      for (const pair of pairs) {
        for (const group of byKey(pair.filter((i) => all[i]!.birth), (i) => all[i]!.op * 16 + (all[i]!.run ?? -1) + 1)) {
          lastBirth.add(group.reduce((best, i) => (all[i]!.step > all[best]!.step ? i : best)));
        }
      }
      const weights = pairs.map((pair) => 1 + pair.filter((i) => all[i]!.lifetime).length ** 2 + pair.filter((i) => all[i]!.birth).length);
      const total = weights.reduce((x, y) => x + y, 0);
      const spread = (pool: number[], mass: number, rarestOnly: boolean): void => {
        const ops = byKey(pool, (i) => all[i]!.op);
        for (const inOp of ops) {
          const top = Math.max(...inOp.map((i) => all[i]!.weight));
          const w = (i: number): number => (rarestOnly ? (all[i]!.weight === top ? 1 : 0) : all[i]!.weight ** 2);
          let sum = 0;
          for (const i of inOp) sum += w(i);
          for (const i of inOp) chances[i]! += (mass / ops.length) * (w(i) / sum);
        }
      };
      pairs.forEach((pair, p) => {
        let mass = weights[p]! / total;
        const lifetimes = pair.filter((i) => all[i]!.lifetime);
        if (lifetimes.length > 0) {
          spread(lifetimes, (mass * 2) / 3, true);
          mass /= 3;
        }
        const lasts = pair.filter((i) => lastBirth.has(i));
        if (lasts.length > 0) {
          const share = lifetimes.length > 0 ? 1 / 2 : 9 / 10;
          spread(lasts, mass * share, false);
          mass *= 1 - share;
        }
        spread(pair, mass, false);
      });
      return chances;
    };
    let compared = 0;
    for (const name of ['mdev-v5.0', 'mdev-v6']) {
      const target = findTarget(name)!;
      for (let i = 0; i < 40; i++) {
        const all = allRaces(profileProgram(target, programFor(target, 'race-table', i)));
        assert.deepEqual([...raceChances(all)], reference(all), `${name} program ${i}`);
        compared += all.length;
      }
    }
    assert.ok(compared > 2000, `${compared} races compared`);
  });

  const hits = (name: StrategyName, depth: number, n: number) => {
    let found = 0;
    for (let i = 0; i < n; i++) {
      const r = execute(planted, race, makeStrategy(name, depth), execRng('planted', i, 'schedule'), {}).result;
      if (r.findings.some((f) => f.title === UAF)) found++;
    }
    return found;
  };

  test('on the planted race, the conflict-aware strategies beat PCT over every step', () => {
    const n = 64;
    const plain = hits('pct', 2, n);
    const conflict = hits('cpct', 2, n);
    // One preemption among 4 conflicting steps (and the order of two CPUs) against one among 64 steps.
    assert.ok(conflict >= n / 16, `cpct found it in ${conflict} of ${n}`);
    assert.ok(conflict > 2 * plain, `cpct ${conflict} vs pct ${plain}`);
    assert.ok(hits('surw', 0, n) >= n / 16, 'surw');
    assert.ok(hits('race', 0, n) >= n / 8, 'race');
    // POS reorders steps that are pending together, but walks through the pads as a random walk
    // does, so it meets the window about as rarely (1 of 64 here, the random walk 2).
    assert.ok(hits('pos', 0, n) >= 1, 'pos');
  });

  test('every strategy is deterministic on the planted race', () => {
    for (const name of STRATEGIES) {
      const run = () => execute(planted, race, makeStrategy(name, 3), execRng('det', 7, 'schedule'), { trace: true }).result;
      assert.deepEqual(run().trace, run().trace, name);
    }
  });
});

describe('reads-from pairs (RFF coverage)', () => {
  const pairsOf = (schedule: Schedule) => {
    const x = runWith(planted, race, schedule, { accesses: true });
    return readsFrom(x.result.trace!, x.kernel.access!);
  };
  test('a read of what another CPU wrote last is a pair; a CPU reading its own writes is not', () => {
    // use (cpu0) runs first: it reads the pointer the setup wrote, drop reads it too: no pair.
    assert.deepEqual(pairsOf([]), []);
    // drop first: use then reads the pointer drop cleared.
    const pairs = pairsOf([{ cpu: 0, step: 0, to: 1 }]);
    assert.ok(pairs.length > 0);
    for (const p of pairs) assert.deepEqual([p.writer.cpu, p.reader.cpu], [1, 0], JSON.stringify(p));
    assert.ok(pairs.every((p) => p.writer.label.startsWith('drop:') && p.reader.label.startsWith('use:')), JSON.stringify(pairs.map(rfKey)));
  });

  test("the reads-from mutator's negation puts the read before the write, and the pair is gone", () => {
    const schedule: Schedule = [{ cpu: 0, step: 0, to: 1 }];
    const [pair] = entryPairs(pairsOf(schedule), new Set());
    const [wcpu, wstep, rcpu] = pair!;
    const negated = normalize([...schedule, { cpu: wcpu, step: wstep, to: rcpu }]);
    const before = new Set(pairsOf(schedule).map(rfKey));
    const after = new Set(pairsOf(negated).map(rfKey));
    assert.ok([...before].some((k) => !after.has(k)), `${[...before].join(' ')} -> ${[...after].join(' ')}`);
  });
});

describe('replay --accesses', () => {
  test('prints every step with what it touched: P2’s remover frees the mdev_state the ioctl then writes', () => {
    const entry = 'corpus/mdev-v5.0/kasan-use-after-free-write-in-mtty-ioctl.json';
    const out = execFileSync(process.execPath, ['dist/harness/cli/main.js', 'replay', entry, '--accesses', '--json', '--results', mkdtempSync(join(tmpdir(), 'acc-'))], { encoding: 'utf8' });
    const report = JSON.parse(out) as { reproduced: boolean; steps: { cpu: number; label: string; accesses: string[] }[] };
    assert.ok(report.reproduced);
    const frees = report.steps.filter((s) => s.accesses.some((a) => /^write mdev_state@cpu\d+\.0$/.test(a)));
    // Allocated by the CPU that creates, freed by the one that removes.
    assert.equal(new Set(frees.map((s) => s.cpu)).size, 2, JSON.stringify(frees.map((s) => [s.cpu, s.label])));
  });
});

describe('a profiling run indexed from its access record', () => {
  for (const name of ['mdev-v5.0', 'mdev-v6']) {
    test(`${name}: the same steps and index as its per-step lists of accesses`, () => {
      const target = findTarget(name)!;
      let steps = 0;
      for (let i = 0; i < 40; i++) {
        const program = programFor(target, 'indexed', i);
        // The record as the serial run leaves it, read step by step: what the index must give back.
        const { kernel, result } = execute(target, program, serialStrategy(program, FORWARD), SERIAL_RNG, { profiling: true, accesses: true });
        const lists: number[][][] = program.cpus.map(() => []);
        for (let t = 0; t < result.steps; t++) lists[kernel.access!.cpuOf(t)]!.push(kernel.access!.of(t));
        const profile = profileProgram(target, program);
        const forward = profile.runs?.[0] ?? profile;
        assert.ok(forward.indexed, 'made from the record');
        assert.deepEqual(forward.cpus, lists, `program ${i}: the steps' accesses`);
        assert.deepEqual(cpuAccesses(forward), cpuAccesses({ length: forward.length, cpus: lists }), `program ${i}: the index`);
        steps += result.steps;
      }
      assert.ok(steps > 1000, 'programs of many steps were compared');
    });
  }
});
