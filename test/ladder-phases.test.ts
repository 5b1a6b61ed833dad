// What the ladder shows besides calls: teardown as its own phase after the program (a finding
// raised there keeps the line before it), and the steps run while another CPU was blocked in a
// wait, in both forms, from the `blocked` mark the engine puts on a step that blocks.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseEntry } from '../harness/corpus/entry.js';
import { replayExecution } from '../harness/engine/runner.js';
import { renderLadder, teardownHeader } from '../harness/report/ladder.js';
import type { TraceEvent } from '../harness/types.js';
import { findTarget } from '../targets/index.js';

const op = (cpu: number, name: string): TraceEvent => ({ e: 'op', cpu, op: { op: name, args: {} } });
const call = (cpu: number, fn: string): TraceEvent[] => [{ e: 'enter', cpu, fn }, { e: 'exit', cpu, fn }];

describe('teardown, its own phase', () => {
  // One CPU creates; teardown (on CPU1, the extra CPU) removes and finds a leak.
  const events: TraceEvent[] = [
    op(0, 'create'), ...call(0, 'create_store'), { e: 'ret', cpu: 0, op: 'create', ret: 0 }, { e: 'step', cpu: 0, label: 'do_exit' },
    { e: 'enter', cpu: 1, fn: 'mtty_dev_exit' }, ...call(1, 'mdev_unregister_device'), { e: 'exit', cpu: 1, fn: 'mtty_dev_exit' },
    { e: 'finding', cpu: 1, title: 'memory leak: mdev_device' },
  ];
  const lines = renderLadder(events, 1).split('\n');

  test('a header line, then its calls, below the program', () => {
    const header = lines.indexOf(teardownHeader(1));
    assert.ok(header > 0, 'the header is drawn');
    assert.equal(teardownHeader(1), '-- teardown: CPU1 alone, after every CPU of the program ended --');
    assert.deepEqual(lines.slice(header + 1, header + 4), [' mtty_dev_exit()', '  mdev_unregister_device()', ' ^^^ memory leak: mdev_device']);
  });

  test('a finding raised in teardown keeps the line before it', () => {
    const header = lines.indexOf(teardownHeader(1));
    assert.deepEqual(lines.slice(0, header), ['CPU0', '-'.repeat(48), 'create():', ' create_store()', ' = 0', '']);
  });

  test('a teardown finding with no teardown calls still goes below the header', () => {
    const only = renderLadder([...events.slice(0, 5), { e: 'finding', cpu: 1, title: 'memory leak: kobject_name' }], 1).split('\n');
    assert.deepEqual(only.slice(-4), [' = 0', '', teardownHeader(1), ' ^^^ memory leak: kobject_name']);
  });
});

describe('steps run while another CPU was blocked', () => {
  // CPU1 blocks in mutex_lock; CPU0 runs two calls; CPU1 gets the mutex and runs on.
  const events: TraceEvent[] = [
    op(1, 'take'), { e: 'enter', cpu: 1, fn: 'take' }, { e: 'step', cpu: 1, label: 'take:mutex_lock(a)', blocked: true },
    op(0, 'hold'), ...call(0, 'first'), { e: 'step', cpu: 0, label: 'first:x' }, ...call(0, 'second'), { e: 'step', cpu: 0, label: 'second:mutex_unlock(a)' },
    { e: 'enter', cpu: 1, fn: 'got' }, { e: 'exit', cpu: 1, fn: 'got' }, { e: 'step', cpu: 1, label: 'got:x' },
    op(0, 'after'), { e: 'step', cpu: 0, label: 'after:x' },
  ];

  test('columns: the blocked CPU says it waits where it was switched out, then shows : on the lines others ran', () => {
    const lines = renderLadder(events, 2, { width: 80 }).split('\n');
    // CPU1's column starts at 40; it blocked at depth 1, so its mark is at 42.
    assert.ok(lines.includes(`${' '.repeat(42)}~ take:mutex_lock(a) (waits)`));
    assert.ok(lines.includes(`${' first()'.padEnd(42)}:`), 'CPU0 ran first() while CPU1 waited');
    assert.ok(lines.includes(`${' second()'.padEnd(42)}:`));
    assert.ok(lines.includes(`${' '.repeat(42)}got()`));
    assert.ok(lines.includes('after():'), 'after CPU1 ran again, no mark');
    assert.match(lines.join('\n'), /\nlegend: [\s\S]*: a CPU blocked in a wait while another ran/);
  });

  test('interleaved: the lines run meanwhile carry w and the blocked CPU', () => {
    const lines = renderLadder(events, 2, { width: 80, form: 'interleaved' }).split('\n');
    assert.ok(lines.includes('CPU1         ~ take:mutex_lock(a) (waits)'));
    assert.ok(lines.includes('CPU0  w1    first()'));
    assert.ok(lines.includes('CPU0  w1    second()'));
    assert.ok(lines.includes('CPU1         got()'));
    assert.ok(lines.includes('CPU0       after():'));
    assert.match(lines.join('\n'), /\nlegend: [\s\S]*wN ran while CPU N was blocked in a wait/);
  });

  test('a preempted CPU that did not block gets no mark', () => {
    const preempted = events.map((e) => (e.e === 'step' && e.blocked ? { e: 'step' as const, cpu: e.cpu, label: e.label } : e));
    const ladder = renderLadder(preempted, 2, { width: 80 });
    assert.ok(ladder.includes(`${' '.repeat(42)}~ take:mutex_lock(a)\n`));
    assert.doesNotMatch(ladder, / :$|\(waits\)/m, 'no wait mark, and none in the legend');
    assert.match(ladder, /\nlegend: ~ where a CPU was switched out$/);
  });

  test('the engine marks the step that blocks: P2 remove waits in vfio_del_group_dev for the open fd', () => {
    const file = fileURLToPath(new URL('../../corpus/mdev-v5.0/kasan-use-after-free-write-in-mtty-ioctl.json', import.meta.url));
    const entry = parseEntry(readFileSync(file, 'utf8'), file);
    const repro = entry.minimized ?? entry;
    const { result } = replayExecution(findTarget('mdev-v5.0')!, repro.program, repro.faults, repro.schedule, { events: true });
    const blocked = result.events!.filter((e) => e.e === 'step' && e.blocked);
    assert.deepEqual(blocked, [{ e: 'step', cpu: 1, label: 'vfio_del_group_dev:wait_event(vfio.release_q)', blocked: true }]);
  });
});
