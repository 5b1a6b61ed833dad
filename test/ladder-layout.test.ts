// The ladder's layout by width: a column per CPU while each gets MIN_COLUMN characters, else one
// interleaved column tagged by CPU; no line past the width, and a long name wrapped, not cut.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CONT, wrap } from '../harness/report/ladder-wrap.js';
import { ladderForm, MIN_COLUMN, renderLadder, terminalWidth } from '../harness/report/ladder.js';
import type { TraceEvent } from '../harness/types.js';

const LONG = 'vfio_group_get_device_fd_from_a_name_much_longer_than_a_column';

/** Each of `ncpus` CPUs runs one op that calls `fn`, CPU by CPU, then ends. */
function fourWay(ncpus: number, fn: string): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (let cpu = 0; cpu < ncpus; cpu++) {
    events.push({ e: 'op', cpu, op: { op: 'open', args: { uuid: cpu } } }, { e: 'enter', cpu, fn }, { e: 'enter', cpu, fn: 'inner' });
    events.push({ e: 'exit', cpu, fn: 'inner' }, { e: 'exit', cpu, fn }, { e: 'ret', cpu, op: 'open', ret: 0 }, { e: 'step', cpu, label: `${fn}:end` });
  }
  return events;
}

const widest = (s: string): number => Math.max(...s.split('\n').map((l) => l.length));

describe('ladder layout by width', () => {
  test('columns while each CPU gets MIN_COLUMN characters, else interleaved', () => {
    assert.equal(MIN_COLUMN, 24);
    assert.equal(ladderForm(4, 100), 'columns');
    assert.equal(ladderForm(4, 95), 'interleaved');
    assert.equal(ladderForm(3, 80), 'columns');
    assert.equal(ladderForm(5, 100), 'interleaved');
    assert.equal(ladderForm(1, 30), 'columns');
  });

  test('four CPUs at 100: four columns of 25, nothing past 100', () => {
    const ladder = renderLadder(fourWay(4, 'mdev_device_create'), 4, { width: 100 });
    const [header] = ladder.split('\n');
    assert.equal(header, 'CPU0                     CPU1                     CPU2                     CPU3');
    assert.ok(widest(ladder) <= 100, `widest line ${widest(ladder)}`);
    assert.match(ladder, /^ {75}open\(3\):$/m, "CPU3's op in its column");
  });

  test('four CPUs at 80: one column, every line tagged with its CPU', () => {
    const ladder = renderLadder(fourWay(4, 'mdev_device_create'), 4, { width: 80 });
    const lines = ladder.split('\n');
    assert.match(lines[0]!, /^CPU +\(all CPUs in one column\)$/);
    assert.ok(widest(ladder) <= 80);
    for (let cpu = 0; cpu < 4; cpu++) assert.ok(lines.includes(`CPU${cpu}  open(${cpu}):`), `CPU${cpu}'s op, tagged`);
    assert.ok(lines.includes('CPU3   mdev_device_create()'), 'a call, tagged and nested');
  });

  test('a name too long for its column wraps onto continuation lines and reads whole again', () => {
    const ladder = renderLadder(fourWay(4, LONG), 4, { width: 100 });
    assert.ok(widest(ladder) <= 100);
    // CPU2's column starts at 50; its call is at depth 1.
    const pieces = ladder.split('\n').filter((l) => l.length > 51 && l[50] === ' ' && l[51] !== ' ' && l.slice(0, 50).trim() === '').map((l) => l.slice(51));
    const first = pieces.indexOf(pieces.find((p) => LONG.startsWith(p))!);
    assert.ok(first >= 0, 'the first piece of the name');
    let name = pieces[first]!;
    for (const p of pieces.slice(first + 1)) {
      if (!p.startsWith(CONT)) break;
      name += p.slice(CONT.length);
    }
    assert.equal(name, `${LONG}()`);
    assert.match(ladder, /\nlegend: [\s\S]*\.\. continues the\s+name above/);
  });

  test('a title is never cut and stays on one line: too long for its column, it moves left; longer than the line, it wraps at spaces', () => {
    const title = 'KASAN: use-after-free Write in a_function_with_a_long_name';
    const four = renderLadder([...fourWay(4, 'f'), { e: 'finding', cpu: 3, title }], 4, { width: 100 }).split('\n');
    assert.ok(four.includes(`${' '.repeat(100 - title.length - 4)}^^^ ${title}`), 'moved left, whole, ending at the width');
    const narrow = renderLadder([...fourWay(1, 'f'), { e: 'finding', cpu: 0, title }], 1, { width: 40 }).split('\n');
    const at = narrow.findIndex((l) => l.startsWith('^^^ '));
    assert.ok(at >= 0 && narrow[at + 1]!.startsWith('  '), 'wrapped from the start of the line, continued indented');
    const end = narrow.indexOf('', at);
    const lines = narrow.slice(at, end === -1 ? undefined : end);
    assert.ok(lines.every((l) => l.length <= 40));
    assert.equal(lines.map((l) => l.trim()).join(' '), `^^^ ${title}`);
  });

  test('wrapped pieces join back exactly: a break at a space keeps it, at the start of the continuation', () => {
    const text = '~ take:mutex_lock(a) (waits)';
    const pieces = wrap(text, 22);
    assert.deepEqual(pieces, ['~ take:mutex_lock(a)', `${CONT} (waits)`]);
    assert.equal(pieces[0] + pieces.slice(1).map((p) => p.slice(CONT.length)).join(''), text);
    assert.deepEqual(wrap('longer_than_a_column()', 20), ['longer_than_a_', `${CONT}column()`], "after '_', and never inside '()'");
  });

  test('the terminal width: its columns when stdout is a TTY, else 100', () => {
    assert.equal(terminalWidth({ isTTY: true, columns: 132 }), 132);
    assert.equal(terminalWidth({ isTTY: false, columns: 132 }), 100);
    assert.equal(terminalWidth({}), 100);
  });
});
