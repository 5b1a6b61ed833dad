// The threads engine against inline: for the same (target, seed, index) each CPU on its own worker
// thread, scheduled through the buffer, gives the same trace, findings, schedule, labels, events
// and final model bytes. Over 200 executions of every bundled target, the five seed problems,
// livelocks, and a worker that never hands back.

import assert from 'node:assert/strict';
import { STRATEGIES } from '../harness/sched/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { execute, type Execution, type ExecOptions } from '../harness/engine/inline/inline.js';
import { loadTarget } from '../harness/engine/load.js';
import { FORWARD, BACKWARD, SERIAL_RNG, serialStrategy } from '../harness/engine/profile-run.js';
import { campaignFaults, programFor, replayExecution, runIndex, type CampaignConfig } from '../harness/engine/runner.js';
import { runCampaign, type CampaignResult } from '../harness/engine/campaign.js';
import { replayThreads, runIndexThreads, runThreadsCampaign } from '../harness/engine/threads/threads-run.js';
import { ThreadsEngine } from '../harness/engine/threads/threads.js';
import { makeRng } from '../harness/rng.js';
import { replay } from '../harness/sched/replay.js';
import type { Target } from '../harness/target.js';
import { TARGETS, findTarget } from '../targets/index.js';
import { resolveCuts, schedule } from './fixtures/mini.js';
import { problemProgram, SEED_PROBLEMS } from './fixtures/seed-problems.js';

const PER_TARGET = 200;
const OPTS: ExecOptions = { trace: true, events: true, labels: true };
const engine = new ThreadsEngine();
after(() => engine.close());

function assertSame(inline: Execution, threads: Execution, target: Target, what: string): void {
  assert.deepEqual(threads.result.trace, inline.result.trace, `${what}: trace`);
  assert.deepEqual(threads.result.findings, inline.result.findings, `${what}: findings`);
  assert.deepEqual(threads.result.schedule, inline.result.schedule, `${what}: schedule`);
  assert.equal(threads.result.steps, inline.result.steps, `${what}: steps`);
  assert.deepEqual(threads.result.labels, inline.result.labels, `${what}: labels`);
  assert.deepEqual(threads.result.events, inline.result.events, `${what}: events`);
  const bytes = target.layout.words * 4;
  assert.ok(Buffer.from(threads.kernel.sab, 0, bytes).equals(Buffer.from(inline.kernel.sab, 0, bytes)), `${what}: final buffer`);
}

/**
 * A one-operation target module written to a temporary file (a target the threads engine loads by
 * path): `run` and `invariants` are the source of those two members.
 */
function fixtureTarget(name: string, description: string, run: string, invariants = '[]'): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-threads-')), `${name}.mjs`);
  writeFileSync(
    file,
    `import { makeLayout } from ${JSON.stringify(new URL('../harness/kernel/layout.js', import.meta.url).href)};
export default {
  name: '${name}', description: '${description}', kernelVersion: 'test', layout: makeLayout([]),
  ops: [{ name: 'step', weight: 1, args: {} }],
  *setup() {},
  ${run},
  *exitCpu() {}, *teardown() {}, invariants: ${invariants}, leakCheck() {}, expectations: [], faultCalls: [],
};
`,
  );
  return file;
}

describe('threads engine: same trace, findings and final buffer as inline', () => {
  const found = new Map<string, Set<string>>();
  const note = (target: Target, e: Execution): void => {
    const set = found.get(target.name) ?? new Set<string>();
    for (const f of e.result.findings) set.add(f.title);
    found.set(target.name, set);
  };

  for (const target of TARGETS) {
    test(`${PER_TARGET} executions of ${target.name}`, async (t) => {
      const ref = { name: target.name };
      const t0 = performance.now();
      const handoffs = engine.handoffs;
      let steps = 0;
      for (let index = 0; index < PER_TARGET; index++) {
        // Every strategy in turn; fault injection on, as in a campaign.
        const cfg: CampaignConfig = { seed: 'threads', strategy: STRATEGIES[index % STRATEGIES.length]!, depth: 3 };
        const inline = runIndex(target, cfg, index, OPTS);
        const threads = await runIndexThreads(engine, ref, target, cfg, index, OPTS);
        assertSame(inline.execution, threads.execution, target, `${target.name} index ${index}`);
        steps += threads.result.steps;
        note(target, inline.execution);
      }
      const ms = performance.now() - t0;
      t.diagnostic(`${target.name}: ${steps} steps, ${Math.round(((engine.handoffs - handoffs) * 1000) / ms)} handoffs/s (inline and threads interleaved)`);
      assert.ok((found.get(target.name)?.size ?? 0) > 0, 'the executions found something to compare');
    });
  }

  test('the five seed problems of mdev-v5.0, each under its schedule', async () => {
    const target = findTarget('mdev-v5.0')!;
    for (const p of SEED_PROBLEMS) {
      const program = problemProgram(p);
      const sched = schedule(resolveCuts(target, program, p.cuts));
      const inline = replayExecution(target, program, [], sched, OPTS);
      const threads = await replayThreads(engine, { name: target.name }, target, program, [], sched, OPTS);
      assertSame(inline, threads, target, p.id);
      assert.ok(threads.result.findings.some((f) => f.title === p.title), `${p.id} found on threads`);
      note(target, inline);
    }
    const problems = target.expectations.filter((e) => e.problem !== undefined);
    assert.equal(problems.length, 5);
    for (const e of problems) assert.ok(found.get(target.name)!.has(e.title), `${e.problem} (${e.title}) was compared`);
    assert.ok(found.get(target.name)!.has('INFO: task hung in vfio_del_group_dev'), 'a hung task was compared');
  });

  test('profiling runs: as inline runs them, without invariants or teardown', async () => {
    const target = findTarget('mdev-v5.0')!;
    const cfg: CampaignConfig = { seed: 'profiling', strategy: 'race', depth: 3 };
    let differs = 0;
    for (let index = 0; index < 20; index++) {
      const program = programFor(target, cfg.seed, index);
      const opts: ExecOptions = { ...OPTS, faults: campaignFaults(target, cfg, index), profiling: true };
      for (const phase of [FORWARD, BACKWARD]) {
        const inline = execute(target, program, serialStrategy(program, phase), SERIAL_RNG, opts);
        const threads = await engine.execute({ name: target.name }, target, program, serialStrategy(program, phase), SERIAL_RNG, opts);
        assertSame(inline, threads, target, `profiling run ${phase} of index ${index}`);
        // What a teardown would have changed: the run left its objects behind.
        const full = execute(target, program, serialStrategy(program, phase), SERIAL_RNG, { ...opts, profiling: false });
        if (!Buffer.from(full.kernel.sab).equals(Buffer.from(inline.kernel.sab))) differs++;
      }
    }
    assert.ok(differs > 0, 'some profiling run ends where a teardown would have changed the buffer');
    // An invariant that fires after every step: a profiling run checks none, on either engine.
    const file = fixtureTarget('watched-fixture', 'an invariant that always fires', "*run(k) { yield 'step:one'; yield 'step:two'; return 0; }", "[(k) => k.warn('invariant', 'invariant: always', [])]");
    const watched = await loadTarget({ file });
    const two = { cpus: [[{ op: 'step', args: {} }], [{ op: 'step', args: {} }]] };
    for (const profiling of [true, false]) {
      const opts: ExecOptions = { ...OPTS, profiling };
      const inline = execute(watched, two, serialStrategy(two, FORWARD), SERIAL_RNG, opts);
      const threads = await engine.execute({ file }, watched, two, serialStrategy(two, FORWARD), SERIAL_RNG, opts);
      assertSame(inline, threads, watched, `the watched fixture, profiling ${profiling}`);
      assert.deepEqual(threads.result.findings.map((f) => f.title), profiling ? [] : ['invariant: always']);
    }
  });

  test('livelocks: the step budget runs out on the same step', async () => {
    const target = findTarget('mdev-v5.2')!;
    const cfg: CampaignConfig = { seed: 'livelock', strategy: 'pct', depth: 3, maxSteps: 25 };
    let livelocks = 0;
    for (let index = 0; index < 20; index++) {
      const inline = runIndex(target, cfg, index, OPTS);
      const threads = await runIndexThreads(engine, { name: target.name }, target, cfg, index, OPTS);
      assertSame(inline.execution, threads.execution, target, `livelock index ${index}`);
      if (inline.result.findings.some((f) => f.kind === 'livelock')) livelocks++;
    }
    assert.ok(livelocks > 5, `${livelocks} livelocks`);
  });
});

test('a campaign on the threads engine finds what the inline one finds, at the same indices', async () => {
  const opts = { target: { name: 'mdev-v5.0' }, seed: 'campaign', strategy: 'pct' as const, depth: 3, execs: 100, workers: 0 };
  const view = (r: CampaignResult) => r.findings.map((f) => ({ title: f.title, index: f.index, hits: f.hits, detail: f.detail }));
  const [inline, threads] = [await runCampaign(opts), await runThreadsCampaign(opts, engine)];
  assert.ok(inline.findings.length > 0);
  assert.deepEqual(view(threads), view(inline));
  assert.equal(threads.steps, inline.steps);
});

test('a session keeps one worker task per CPU across executions and targets, and gives the same results', async () => {
  const own = new ThreadsEngine();
  try {
    const cfg: CampaignConfig = { seed: 'session', strategy: 'pct', depth: 3 };
    const v50 = findTarget('mdev-v5.0')!;
    let most = 0;
    for (let index = 0; index < 40; index++) {
      const threads = await runIndexThreads(own, { name: v50.name }, v50, cfg, index, OPTS);
      most = Math.max(most, threads.program.cpus.length);
      assertSame(runIndex(v50, cfg, index, OPTS).execution, threads.execution, v50, `session index ${index}`);
    }
    assert.ok(most >= 2);
    assert.equal(own.tasksStarted, most, 'one task per CPU for 40 executions (and their profiling runs)');
    // Another target ends the session: its CPUs get tasks of their own, on a buffer of its layout.
    const v6 = findTarget('mdev-v6')!;
    const other = await runIndexThreads(own, { name: v6.name }, v6, cfg, 0, OPTS);
    assertSame(runIndex(v6, cfg, 0, OPTS).execution, other.execution, v6, 'after the target changed');
    assert.equal(own.tasksStarted, most + other.program.cpus.length);
  } finally {
    await own.close();
  }
});

test('spinning (as auto chooses with a core to spare) gives the same results as sleeping', async () => {
  const spinning = new ThreadsEngine({ spin: 'always' });
  try {
    const cfg: CampaignConfig = { seed: 'spin', strategy: 'pct', depth: 3 };
    const v52 = findTarget('mdev-v5.2')!;
    for (let index = 0; index < 20; index++) {
      const threads = await runIndexThreads(spinning, { name: v52.name }, v52, cfg, index, OPTS);
      assertSame(runIndex(v52, cfg, index, OPTS).execution, threads.execution, v52, `spinning, index ${index}`);
    }
  } finally {
    await spinning.close();
  }
});

test('a worker that never hands back is reported, and the engine goes on', async () => {
  const file = fixtureTarget('spin-fixture', 'cpu1 never yields again', '*run(k) { yield `spin:enter:cpu${k.cpu}`; if (k.cpu === 1) for (;;) {} return 0; }');
  const ref = { file };
  const target = await loadTarget(ref);
  const short = new ThreadsEngine({ stepTimeoutMs: 300 });
  try {
    const spin = { op: 'step', args: {} };
    const t0 = performance.now();
    const { result } = await short.execute(ref, target, { cpus: [[spin], [spin]] }, replay([]), makeRng('x'), { trace: true });
    assert.ok(performance.now() - t0 < 10_000);
    assert.deepEqual(
      result.findings.map((f) => [f.kind, f.title]),
      [['stall', 'INFO: rcu_sched self-detected stall on CPU in cpu_idle']],
    );
    // cpu1's label was only ever interned by a worker (the warm-up runs ops on cpu0): this thread
    // reads it from the shared table.
    assert.deepEqual(result.trace, [[0, 'spin:enter:cpu0'], [0, 'do_exit'], [1, 'spin:enter:cpu1']]);
    // The hung execution ended its session (its buffer is not trusted again): cpu0 gets a new task.
    assert.equal(short.tasksStarted, 2);
    const alone = await short.execute(ref, target, { cpus: [[spin]] }, replay([]), makeRng('x'), { trace: true });
    assert.deepEqual(alone.result.trace, [[0, 'spin:enter:cpu0'], [0, 'do_exit']]);
    assert.equal(short.tasksStarted, 3);
    // The pool replaced the terminated worker.
    const v52 = findTarget('mdev-v5.2')!;
    const cfg: CampaignConfig = { seed: 'after', strategy: 'pct', depth: 3 };
    const again = await runIndexThreads(short, { name: v52.name }, v52, cfg, 3, OPTS);
    assertSame(runIndex(v52, cfg, 3, OPTS).execution, again.execution, v52, 'after a hung worker');
  } finally {
    await short.close();
  }
});
