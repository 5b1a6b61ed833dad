// Start states (issue 12, point 3): an execution's start state is part of its program, drawn from
// (seed, index) like the program and the faults, saved in corpus entries, simplified toward the
// default by the minimizer and named in the ladder.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseEntry, serializeEntry } from '../harness/corpus/entry.js';
import { programFor, runIndex, START_RATE, startFor, type CampaignConfig } from '../harness/engine/runner.js';
import { minimize } from '../harness/minimize/minimize.js';
import { renderLadder } from '../harness/report/ladder.js';
import { findTarget } from '../targets/index.js';
import { op, runWith } from './fixtures/mini.js';
import { problemProgram, SEED_PROBLEMS } from './fixtures/seed-problems.js';

const v50 = findTarget('mdev-v5.0')!;
const cfg: CampaignConfig = { seed: 'start-states', strategy: 'pct', depth: 3 };
const corpusDir = fileURLToPath(new URL('../../corpus/', import.meta.url));

describe('start states', () => {
  test('drawn from (seed, index): the same each time, the default most of the time, else one the target declares', () => {
    const starts = Array.from({ length: 400 }, (_, i) => startFor(v50, cfg.seed, i));
    assert.deepEqual(starts, Array.from({ length: 400 }, (_, i) => startFor(v50, cfg.seed, i)));
    const others = starts.filter((s) => s !== undefined);
    assert.ok(others.every((s) => v50.startStates!.slice(1).includes(s!)), JSON.stringify([...new Set(others)]));
    assert.equal(new Set(others).size, v50.startStates!.length - 1, 'every other start state is drawn');
    const share = others.length / starts.length;
    assert.ok(Math.abs(share - START_RATE) < 0.08, `share of non-default start states ${share}`);
    // The program's operations do not depend on the start state drawn: their stream is their own.
    const i = starts.findIndex((s) => s !== undefined);
    assert.equal(programFor(v50, cfg.seed, i).start, starts[i]);
  });

  test('the first executions of a campaign take each start state other than the default once', () => {
    const others = v50.startStates!.slice(1);
    for (const seed of ['a', 'b']) assert.deepEqual(others.map((_, i) => startFor(v50, seed, i)), others);
    assert.equal(programFor(v50, 'a', 0).start, others[0]);
    assert.equal(startFor(findTarget('mdev-v6')!, 'a', 0), 'no-vendors');
  });

  test('same seed and index: same start state, program and trace', () => {
    const i = Array.from({ length: 100 }, (_, j) => j).find((j) => startFor(v50, cfg.seed, j) === 'no-vendors')!;
    assert.notEqual(i, undefined);
    const a = runIndex(v50, cfg, i, { trace: true });
    const b = runIndex(v50, cfg, i, { trace: true });
    assert.equal(a.program.start, 'no-vendors');
    assert.deepEqual(b.program, a.program);
    assert.deepEqual(b.result.trace, a.result.trace);
    // The start state changes the execution: from the default one the same operations run otherwise.
    const fromBoot = runWith(v50, { cpus: a.program.cpus }, a.result.schedule).result;
    assert.notDeepEqual(fromBoot.trace, a.result.trace);
  });

  test('a corpus entry keeps its start state; an old one without it replays from the default', () => {
    const file = `${corpusDir}mdev-v5.0/bug-kernel-null-pointer-dereference-in-vfio-ap-mdev-open.json`;
    const old = parseEntry(readFileSync(file, 'utf8'), file);
    assert.equal(old.program.start, undefined);
    assert.ok(!serializeEntry(old).includes('"start"'), 'no start written for the default');
    const withStart = parseEntry(serializeEntry({ ...old, program: { ...old.program, start: 'no-vendors' } }), file);
    assert.equal(withStart.program.start, 'no-vendors');
    assert.throws(() => parseEntry(serializeEntry({ ...old, program: { ...old.program, start: '' } }), file), /program\.start/);
  });

  test('the minimizer simplifies the start state toward the default, and keeps one the finding needs', () => {
    // A failed add_mdev_supported_type leaks the type's name (fault injection), whatever was loaded first.
    const leak = 'memory leak: kobject_name';
    const program = { start: 'mlx5_sf-first', cpus: [[op('rmmod', { module: 'mtty' }), op('insmod', { module: 'mtty' })]] };
    const r1 = minimize(v50, { program, faults: [{ call: 'kobject_init_and_add', nth: 1 }], schedule: [] }, leak);
    assert.equal(r1.repro.program.start, undefined, 'the leak needs no start state of its own');
    assert.equal(r1.stats.stages.find((s) => s.name === 'defaultStart')!.shrank, 1);
    // A start state changes the steps before a preemption: a race found from one is kept from it
    // unless the same schedule shows it from the default.
    const p3 = SEED_PROBLEMS.find((p) => p.id === 'P3')!;
    const r3 = minimize(v50, { program: problemProgram(p3), faults: [], schedule: [] }, p3.title);
    assert.equal(r3.repro.program.start, 'mlx5_sf-first', 'P3 needs mlx5_sf registered before vfio_mdev');
  });

  test('the ladder names a start state other than the default above the columns', () => {
    const p3 = SEED_PROBLEMS.find((p) => p.id === 'P3')!;
    const { result } = runWith(v50, problemProgram(p3), []);
    assert.match(renderLadder(result.events!, 1, { start: p3.start }), /^start state: mlx5_sf-first\n\nCPU0/);
    assert.match(renderLadder(result.events!, 1), /^CPU0/);
  });
});
