// mdevfuzz verify (issue 15): a planted race that needs two preemptions, DPOR on independent CPUs,
// DPOR against the plain bounded search, the symmetry counts, resume after a deadline, and the
// command's verdicts, exit codes and determinism. Small programs only: the file runs in seconds.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTarget } from '../harness/engine/load.js';
import type { Fault, Program } from '../harness/types.js';
import { RaceAnalysis, type Race, type Step } from '../harness/verify/dpor.js';
import { explore } from '../harness/verify/explore.js';
import { faultChoices } from '../harness/verify/faults.js';
import { enumeratePrograms, programAt } from '../harness/verify/programs.js';
import { restrictTarget } from '../harness/verify/restrict.js';
import { opInstances, opKey } from '../harness/verify/symmetry.js';
import { loadState, saveState, stateFile } from '../harness/verify/state.js';
import { newState, runVerify, type VerifyConfig } from '../harness/verify/verify.js';
import { cli } from './fixtures/cli.js';
import { counter, disjoint, lateFault, twoStep, walker } from './fixtures/verify-targets.js';
import { execute } from '../harness/engine/inline/inline.js';
import { makeRng } from '../harness/rng.js';
import { defaultNext } from '../harness/sched/strategy.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-verify-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const TWO_STEP_FILE = fileURLToPath(new URL('./fixtures/verify-two-step.js', import.meta.url));
const op = (name: string, args: Program['cpus'][number][number]['args'] = {}) => ({ op: name, args });
const cfg = (over: Partial<VerifyConfig>): VerifyConfig => ({ maxOps: 2, cpus: 2, bound: 1, dpor: true, faults: false, starts: [undefined], ...over });

describe('the explorer', () => {
  const planted: Program = { cpus: [[op('write')], [op('watch')]] };
  const TITLE = 'invariant: x seen at 1 then 2 in watch';

  test('a race that needs two preemptions is found at bound 2 and not at bound 1, with DPOR and without', () => {
    for (const dpor of [true, false]) {
      assert.deepEqual(explore(twoStep, planted, { bound: 1, dpor }).findings, [], `dpor ${dpor}, bound 1`);
      const at2 = explore(twoStep, planted, { bound: 2, dpor }).findings;
      assert.deepEqual(at2.map((f) => [f.title, f.preemptions]), [[TITLE, 2]], `dpor ${dpor}, bound 2`);
      assert.equal(at2[0]!.schedule.length, 2, 'its canonical schedule has two preemptions');
    }
  });

  test('the verify loop reports the planted race as unexpected at bound 2, and verifies bound 1', () => {
    const e = enumeratePrograms(twoStep, { maxOps: 2, cpus: 2 });
    const b1 = runVerify(twoStep, cfg({ bound: 1 }), e, newState('k1'));
    assert.equal(b1.verdict, 'verified');
    assert.deepEqual(b1.findings, []);
    const b2 = runVerify(twoStep, cfg({ bound: 2 }), e, newState('k2'));
    assert.equal(b2.verdict, 'unexpected');
    assert.deepEqual(b2.findings.map((f) => [f.title, f.bound, f.expected]), [[TITLE, 2, null]]);
  });

  test('CPUs that touch disjoint objects run exactly one schedule under DPOR', () => {
    const p: Program = { cpus: [[op('left')], [op('right')]] };
    for (const bound of [0, 1, 2]) {
      const r = explore(disjoint, p, { bound, dpor: true });
      assert.equal(r.runs, 1, `bound ${bound}`);
      assert.equal(r.complete, true);
    }
    assert.ok(explore(disjoint, p, { bound: 2, dpor: false }).runs > 20, 'the plain search runs many');
  });

  test('DPOR and the plain bounded search find the same titles, DPOR in fewer runs', async () => {
    const lost: Program = { cpus: [[op('incr', { uuid: 0 })], [op('incr', { uuid: 0 }), op('incr', { uuid: 1 })]] };
    const cases: [typeof counter, Program][] = [[counter, lost]];
    const v50 = await loadTarget({ name: 'mdev-v5.0' });
    const e = enumeratePrograms(v50, { maxOps: 2, cpus: 2 });
    for (const rank of [6, 19, 65, 100]) cases.push([v50, programAt(e, rank)]);
    let withDpor = 0;
    let without = 0;
    for (const [target, program] of cases) {
      for (const bound of [0, 1]) {
        const a = explore(target, program, { bound, dpor: true });
        const b = explore(target, program, { bound, dpor: false });
        assert.deepEqual(a.findings.map((f) => f.title).sort(), b.findings.map((f) => f.title).sort(), `${target.name} ${JSON.stringify(program)} bound ${bound}`);
        withDpor += a.runs;
        without += b.runs;
      }
    }
    assert.ok(withDpor < without, `${withDpor} runs with DPOR, ${without} without`);
    const titles = explore(counter, lost, { bound: 1, dpor: true }).findings.map((f) => f.title);
    assert.deepEqual(titles, ['invariant: lost update in incr'], 'the lost update is among them');
  });

  test('a walk or search over live objects and an allocation it did not see are dependent: both orders run', () => {
    for (const [walk, title] of [['scan', 'invariant: scan saw the box added beside it'], ['seek', 'invariant: seek found the box added beside it']]) {
      const p: Program = { cpus: [[op(walk!)], [op('add')]] };
      for (const dpor of [true, false]) {
        const r = explore(walker, p, { bound: 0, dpor });
        assert.deepEqual(r.findings.map((f) => f.title), [title], `${walk}, dpor ${dpor}`);
        assert.equal(r.runs, 2, `${walk}, dpor ${dpor}`);
      }
    }
  });

  test('a fatal finding that ends a run early does not hide the races of the steps it kept other CPUs from taking', async () => {
    // mdev-v5.0: insmod mlx5_sf probes an mdev that rmmod mlx5_core is removing. Run on after
    // device_del's unbind, the probe dereferences the drvdata mlx5_sf_destroy cleared and the run
    // ends there, before rmmod frees the parent device the probe read first; only that free,
    // run before the read, shows the use-after-free (3 preemptions, corpus entry of that title).
    const v50 = await loadTarget({ name: 'mdev-v5.0' });
    const program: Program = { cpus: [[op('rmmod', { module: 'mlx5_core' })], [op('create', { type: 'mlx5_core-sf', uuid: 0 }), op('insmod', { module: 'mlx5_sf' })]] };
    const titles = explore(v50, program, { bound: 3, dpor: true }).findings.map((f) => [f.title, f.preemptions]);
    assert.deepEqual(titles.find(([t]) => t === 'KASAN: use-after-free Read in mlx5_sf_probe'), ['KASAN: use-after-free Read in mlx5_sf_probe', 3], JSON.stringify(titles));
  });

  test('faults: each fallible call at each occurrence the fault-free exploration reached', async () => {
    const v50 = await loadTarget({ name: 'mdev-v5.0' });
    const program: Program = { cpus: [[op('create', { type: 'mtty-1', uuid: 0 })], [op('open', { uuid: 0 })]] };
    const choices = faultChoices(v50, explore(v50, program, { bound: 0, dpor: true }).sites);
    assert.ok(choices.length > 3);
    assert.ok(choices.every((f) => f.length === 1 && v50.faultCalls.includes(f[0]!.call) && f[0]!.nth >= 1));
    assert.ok(choices.some((f) => f[0]?.call === 'kmalloc' && f[0].nth === 1));
  });

  test('faults: a call that only a non-default order reaches is failed there too', () => {
    const program: Program = { cpus: [[op('set')], [op('alloc')]] };
    const serial = execute(lateFault, program, { name: 'default', start() {}, pick: (r, c) => defaultNext(r, c) }, makeRng('t'));
    assert.equal(serial.kernel.faultSites().get('alloc') ?? 0, 0, 'the default schedule never reaches it');
    assert.equal(explore(lateFault, program, { bound: 1, dpor: true }).sites.get('alloc'), 1);
    const e = enumeratePrograms(lateFault, { maxOps: 2, cpus: 2 });
    const state = runVerify(lateFault, cfg({ bound: 1, faults: true }), e, newState('late'));
    assert.equal(state.verdict, 'unexpected');
    assert.deepEqual(state.findings.map((f) => [f.title, f.faults]), [['invariant: alloc failed before set', [{ call: 'alloc', nth: 1 }]]]);
  });

  test('faults: with a fault on a call, every occurrence of it writes the shared occurrence counter', () => {
    const program: Program = { cpus: [[op('alloc')], [op('alloc')]] };
    const text = (faults: Fault[]): string[] =>
      execute(lateFault, program, { name: 'default', start() {}, pick: (r, c) => defaultNext(r, c) }, makeRng('t'), { faults, trace: true, accesses: true, accessText: true }).result.accesses!.flat();
    assert.equal(text([{ call: 'alloc', nth: 2 }]).filter((a) => a === 'write fail_nth').length, 2, 'both CPUs\' calls');
    assert.equal(text([]).filter((a) => a.includes('fail_nth')).length, 0, 'no fault, no counter access');
  });
});

describe('the race analysis', () => {
  // (object * 128 + field) * 4 + kind, as harness/kernel/access.ts encodes an access.
  const access = (object: number, field: number, kind: number): number => (object * 128 + field) * 4 + kind;
  const randomStep = (rng: ReturnType<typeof makeRng>, ncpus: number): Step => ({
    cpu: rng.int(ncpus),
    acc: Array.from({ length: rng.int(3) }, () => access(1 + rng.int(3), rng.next() < 0.2 ? 127 : rng.int(2), rng.int(3))),
  });
  const racesOf = (a: RaceAnalysis, steps: readonly Step[], unknown: readonly number[]): (Race | undefined)[] => [
    ...steps.map((s) => a.push(s)),
    ...unknown.map((cpu) => a.unknown(cpu)),
  ];

  test('kept from run to run: after a truncate, the new steps race as they do in a fresh analysis of the whole run', () => {
    const rng = makeRng('race-analysis');
    let compared = 0;
    for (let trial = 0; trial < 300; trial++) {
      const ncpus = 2 + rng.int(2);
      const kept = new RaceAnalysis(ncpus);
      let run = Array.from({ length: 1 + rng.int(12) }, () => randomStep(rng, ncpus));
      racesOf(kept, run, []);
      for (let branch = 0; branch < 4; branch++) {
        const from = rng.int(run.length + 1);
        run = [...run.slice(0, from), ...Array.from({ length: rng.int(10) }, () => randomStep(rng, ncpus))];
        const unknown = Array.from({ length: rng.int(2) }, () => rng.int(ncpus));
        kept.truncate(from);
        const fresh = new RaceAnalysis(ncpus);
        racesOf(fresh, run.slice(0, from), []);
        const got = racesOf(kept, run.slice(from), unknown);
        assert.deepEqual(got, racesOf(fresh, run.slice(from), unknown), `trial ${trial}, branch ${branch} at ${from}`);
        compared += got.filter((r) => r !== undefined).length;
      }
    }
    assert.ok(compared > 500, `only ${compared} races compared`);
  });

  test('a write, then a read of the same field by another CPU: a race at the write; reads alone or other fields: none', () => {
    const a = new RaceAnalysis(2);
    assert.equal(a.push({ cpu: 0, acc: [access(1, 0, 1)] }), undefined);
    assert.equal(a.push({ cpu: 1, acc: [access(1, 1, 0)] }), undefined, 'another field');
    assert.deepEqual(a.push({ cpu: 1, acc: [access(1, 0, 0)] }), { i: 0, cpu: 1 });
    assert.equal(a.push({ cpu: 0, acc: [access(1, 0, 0)] }), undefined, 'two reads');
    assert.deepEqual(a.push({ cpu: 0, acc: [access(1, 127, 1)] }), { i: 2, cpu: 0 }, 'a free races with the last read of any field');
  });

  test('a step of unknown accesses races with the last step of another CPU that does not happen before it', () => {
    const a = new RaceAnalysis(3);
    a.push({ cpu: 0, acc: [access(1, 0, 1)] });
    a.push({ cpu: 1, acc: [access(2, 0, 1)] });
    assert.deepEqual(a.unknown(2), { i: 1, cpu: 2 }, 'the last step of any other CPU');
    a.push({ cpu: 2, acc: [access(2, 0, 0)] });
    assert.deepEqual(a.unknown(2), { i: 0, cpu: 2 }, 'cpu1\'s step happens before cpu2\'s next (it read what cpu1 wrote): cpu0\'s is the race');
    assert.deepEqual(a.unknown(0), { i: 2, cpu: 0 }, 'never its own step');
    const alone = new RaceAnalysis(2);
    alone.push({ cpu: 0, acc: [access(1, 0, 1)] });
    assert.equal(alone.unknown(0), undefined, 'no other CPU has run');
  });
});

describe('enumeration', () => {
  test('symmetry: 36 programs of two single ops become 13 (Burnside over CPU swap and uuid renaming)', () => {
    const e = enumeratePrograms(counter, { maxOps: 2, cpus: 2 });
    assert.equal(e.counts.ops, 6);
    assert.deepEqual([e.counts.total, e.counts.symmetric, e.counts.noop, e.counts.programs], [36, 23, 0, 13]);
    const keys = new Set(e.ranks.map((r) => JSON.stringify(r.cpus)));
    assert.equal(keys.size, 13, 'no program twice');
  });

  test('a handle used before its CPU made it is a no-op, and the program is left out unless it is the whole CPU', () => {
    const e = enumeratePrograms(counter, { maxOps: 3, cpus: 2 });
    assert.ok(e.counts.noop > 0);
    const programs = e.ranks.map((_, r) => programAt(e, r));
    const unusable = (ops: Program['cpus'][number]): boolean =>
      ops.length > 1 && ops.some((o, i) => o.op === 'ioctl' && Number(o.args.fd) >= ops.slice(0, i).filter((x) => x.op === 'open').length);
    assert.ok(!programs.some((p) => p.cpus.some(unusable)));
    assert.ok(programs.some((p) => p.cpus.some((c) => c.length === 1 && c[0]!.op === 'ioctl')), 'a CPU of one ioctl stays');
    assert.ok(programs.some((p) => p.cpus.some((c) => c.length === 2 && c[0]!.op === 'open' && c[1]!.op === 'ioctl' && c[1]!.args.fd === 0)));
  });

  test('--ops and --domain: the enumeration of a sub-API', () => {
    const sub = restrictTarget(counter, 'incr,ioctl', 'fd=0');
    assert.deepEqual(opInstances(sub).map(opKey), ['incr(uuid=0)', 'incr(uuid=1)', 'ioctl(fd=0)']);
    // Pairs of single ops over {i0, i1, f0}: 9, up to CPU swap and uuid renaming: {i0 i0}, {i0 i1}, {i0 f0}, {f0 f0}.
    assert.equal(enumeratePrograms(sub, { maxOps: 2, cpus: 2 }).counts.programs, 4);
    assert.equal(restrictTarget(counter), counter, 'no restriction, the same target');
  });

  test('order: fewer operations first, and the same order every time', () => {
    const a = enumeratePrograms(counter, { maxOps: 3, cpus: 2 });
    const sizes = a.ranks.map((r) => r.size);
    assert.deepEqual(sizes, [...sizes].sort((x, y) => x - y));
    const b = enumeratePrograms(counter, { maxOps: 3, cpus: 2 });
    assert.deepEqual(a.ranks, b.ranks);
  });
});

describe('state and resume', () => {
  test('a deadline stops cleanly; resuming from the saved state ends as a straight run does', async () => {
    const v52 = await loadTarget({ name: 'mdev-v5.2' });
    const c = cfg({ bound: 0 });
    const e = enumeratePrograms(v52, { maxOps: 2, cpus: 2 });
    const straight = runVerify(v52, c, e, newState('k'));
    const file = stateFile(tmp, 'mdev-v5.2', 'k');
    let n = 0;
    const stopped = runVerify(v52, c, e, newState('k'), { save: (s) => saveState(file, s), progress: () => ++n === 50 });
    assert.equal(stopped.verdict, 'incomplete');
    assert.equal(stopped.nextRank, 50);
    const { state, resumed } = loadState(file, 'k');
    assert.ok(resumed);
    assert.equal(loadState(file, 'other').resumed, false, 'another key starts afresh');
    const done = runVerify(v52, c, e, state, { save: (s) => saveState(file, s) });
    assert.equal(done.verdict, 'verified');
    const counts = (s: typeof done) => s.stats.map(({ ms: _ms, ...rest }) => rest);
    assert.deepEqual(counts(done), counts(straight));
    assert.deepEqual(done.findings, straight.findings);
  });
});

describe('mdevfuzz verify', () => {
  const run = (dir: string, ...args: string[]) => {
    mkdirSync(dir, { recursive: true });
    return cli(['verify', '--max-ops', '2', '--corpus', path.join(dir, 'corpus'), '--results', path.join(dir, 'results'), ...args], { cwd: dir });
  };

  test('verified (exit 0), the same output twice, expected findings listed with their bound', async () => {
    const outs: string[] = [];
    for (const name of ['a', 'b']) {
      const dir = path.join(tmp, `det-${name}`);
      const r = await run(dir, '--target', 'mdev-v5.0', '--preemptions', '0', '--starts', 'mlx5_sf-first', '--no-faults', '--json');
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout);
      assert.equal(s.verdict, 'verified');
      assert.match(s.verdictLine, /^verified: mdev-v5\.0, all 218 programs of <= 2 ops on 2 CPUs, <= 0 preemptions: nothing unexpected$/);
      const p3 = s.findings.find((f: { problem?: string }) => f.problem === 'P3');
      assert.equal(p3?.bound, 0, 'P3 needs no preemption');
      assert.equal(s.bounds[0].cases, 218, 'one case per program without faults');
      for (const b of s.bounds) delete b.ms;
      for (const k of ['stateFile', 'runId', 'startedAt', 'elapsedMs', 'summaryFile', 'junitFile', 'reportFile']) delete s[k];
      outs.push(JSON.stringify(s));
    }
    assert.equal(outs[0], outs[1]);
  });

  test('P1 needs one preemption: not at bound 0, at bound 1', async () => {
    const v50 = await loadTarget({ name: 'mdev-v5.0' });
    const p1: Program = { cpus: [[op('create', { type: 'vfio_ap-passthrough', uuid: 0 })], [op('open', { uuid: 0 })]] };
    const title = 'BUG: kernel NULL pointer dereference in vfio_ap_mdev_open';
    assert.ok(!explore(v50, p1, { bound: 0, dpor: true }).findings.some((f) => f.title === title));
    assert.equal(explore(v50, p1, { bound: 1, dpor: true }).findings.find((f) => f.title === title)?.preemptions, 1);
  });

  test('the planted race: exit 0 at bound 1; exit 1 at bound 2 with a minimized corpus entry and its ladder', async () => {
    const dir = path.join(tmp, 'planted');
    const ok = await run(dir, '--target-file', TWO_STEP_FILE, '--preemptions', '1');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /verified: two-step, all \d+ programs of <= 2 ops on 2 CPUs, <= 1 preemptions: nothing unexpected/);
    const bad = await run(dir, '--target-file', TWO_STEP_FILE, '--preemptions', '2');
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /unexpected: two-step: invariant: x seen at 1 then 2 in watch at bound 2/);
    assert.match(bad.stdout, /\^\^\^ invariant: x seen at 1 then 2 in watch/);
    const entries = readdirSync(path.join(dir, 'corpus', 'two-step'));
    assert.equal(entries.length, 1);
  });

  test('shards: two halves of the ranks, merged by mdevfuzz merge into one verdict', async () => {
    const dir = path.join(tmp, 'shards');
    const whole = JSON.parse((await run(dir, '--target-file', TWO_STEP_FILE, '--preemptions', '1', '--json')).stdout);
    const states: string[] = [];
    for (const shard of ['0/2', '1/2']) {
      const r = await run(dir, '--target-file', TWO_STEP_FILE, '--preemptions', '1', '--shard', shard, '--json');
      assert.equal(r.code, 0, r.stderr);
      states.push(JSON.parse(r.stdout).stateFile);
    }
    const m = await cli(['merge', 'both', ...states, '--results', path.join(dir, 'results'), '--json'], { cwd: dir });
    assert.equal(m.code, 0, m.stderr);
    const merged = JSON.parse(m.stdout);
    assert.equal(merged.verdict, 'verified');
    assert.match(merged.verdictLine, /^verified: two-step, all \d+ programs of <= 2 ops on 2 CPUs, <= 1 preemptions: nothing unexpected \(2 shards\)$/);
    const sum = (s: { bounds: { programs: number; runs: number }[] }) => s.bounds.map((b) => [b.programs, b.runs]);
    assert.deepEqual(sum(merged), sum(whole), 'the shards add up to the whole');
    const one = await cli(['merge', 'half', states[0]!, '--results', path.join(dir, 'results')], { cwd: dir });
    assert.equal(one.code, 2, 'a missing shard is refused');
  });

  test('bad input: one line, exit 2', async () => {
    const dir = path.join(tmp, 'bad');
    for (const args of [['--target', 'mdev-v5.0', '--cpus', '3'], ['--target', 'nope'], ['--target', 'mdev-v5.0', '--starts', 'nowhere'], ['--max-ops', '2'], ['--target', 'mdev-v5.0', '--ops', 'nope'], ['--target', 'mdev-v5.0', '--domain', 'type=nope'], ['--target', 'mdev-v5.0', '--ops', 'open', '--domain', 'uuid=7']]) {
      const r = await run(dir, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^mdevfuzz: /);
    }
    assert.equal(existsSync(path.join(dir, 'results', 'verify')), false, 'nothing was searched');
  });
});
