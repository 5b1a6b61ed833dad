// The ladder in report.html: a table with a column per CPU, read back from the ladder's text in
// either form (and from the 34-column ladders older corpus entries store), wrapped names whole
// again, waits shaded, teardown under its own header row.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseEntry } from '../harness/corpus/entry.js';
import { replayExecution } from '../harness/engine/runner.js';
import { ladderHtml } from '../harness/report/ladder-html.js';
import { joinWrapped, parseLadder } from '../harness/report/ladder-parse.js';
import { renderLadder } from '../harness/report/ladder.js';
import { findTarget } from '../targets/index.js';

const source = (p: string): string => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const entryOf = (slug: string) => {
  const file = source(`corpus/mdev-v5.0/${slug}.json`);
  return parseEntry(readFileSync(file, 'utf8'), file);
};
const P2 = 'kasan-use-after-free-write-in-mtty-ioctl';
const P4 = 'memory-leak-mdev-device-orphaned-by-mdev-unregister-device';

function ladderOf(slug: string, width: number): string {
  const e = entryOf(slug);
  const r = e.minimized ?? e;
  const { result } = replayExecution(findTarget('mdev-v5.0')!, r.program, r.faults, r.schedule, { events: true });
  return renderLadder(result.events!, r.program.cpus.length, { width });
}

/** The table row holding `text`, as its cells' class and text. */
function rowWith(html: string, text: string): { cls: string; text: string }[] {
  const tr = html.split('\n').find((l) => l.startsWith('<tr>') && l.includes(text));
  assert.ok(tr, `a row with ${text}`);
  return [...tr.matchAll(/<td(?: class="([^"]*)")?>([^<]*)<\/td>/g)].map((m) => ({ cls: m[1] ?? '', text: m[2]!.trim() }));
}

/** What each row of a parsed ladder says, CPU by CPU, with the waits: the same whatever the form. */
function content(text: string): string[] {
  const p = parseLadder(text)!;
  // A blank line of the columns form may carry waits; the interleaved form's is blank.
  return joinWrapped(p.rows).flatMap((r) => (r.kind === 'gap' || r.cells.every((c) => c === undefined) ? [] : [r.cells.map((c, i) => `${c?.text ?? ''}${r.waits[i] ? '[w]' : ''}`).join(' | ')]));
}

describe('ladders in report.html', () => {
  test('P2: a column per CPU; the finding in CPU0\'s column while CPU1 waits', () => {
    const html = ladderHtml(ladderOf(P2, 100));
    assert.match(html, /<thead><tr><th>CPU0<\/th><th>CPU1<\/th><\/tr><\/thead>/);
    assert.deepEqual(rowWith(html, 'KASAN: use-after-free Write in mtty_ioctl'), [
      { cls: 'finding', text: '^^^ KASAN: use-after-free Write in mtty_ioctl' },
      { cls: 'wait', text: '' },
    ]);
    assert.deepEqual(rowWith(html, 'remove(0):'), [{ cls: '', text: '' }, { cls: '', text: 'remove(0):' }]);
    // Moved left into CPU0's column in the text (too long for CPU1's), yet CPU1's finding.
    assert.match(ladderOf(P2, 100), /^ {42}\^\^\^ invariant: remove mirrors create in mdev_device_remove$/m);
    assert.deepEqual(rowWith(html, 'invariant: remove mirrors'), [{ cls: '', text: '' }, { cls: 'finding', text: '^^^ invariant: remove mirrors create in mdev_device_remove' }]);
    // Wrapped in the text, whole in the table.
    assert.deepEqual(rowWith(html, 'wait_event')[1], { cls: 'switch', text: '~ vfio_del_group_dev:wait_event(vfio.release_q) (waits)' });
    assert.match(html, /<p class="legend">~ where a CPU was switched out, \(waits\) when it blocked in a wait there; shaded: a CPU blocked in a wait while another ran<\/p>/);
    assert.doesNotMatch(html, /<pre/);
  });

  test('the interleaved form reads back into the same columns', () => {
    const columns = ladderOf(P2, 100);
    const interleaved = ladderOf(P2, 40);
    assert.match(interleaved, /all CPUs in one column/);
    assert.ok(content(columns).length > 50);
    assert.deepEqual(content(interleaved), content(columns));
  });

  test('P4: teardown under its own header row, spanning the columns', () => {
    const html = ladderHtml(ladderOf(P4, 100));
    const lines = html.split('\n');
    const header = lines.indexOf('<tr class="phase"><th colspan="2">teardown: CPU2 alone, after every CPU of the program ended</th></tr>');
    assert.ok(header > 0);
    const leak = lines.indexOf('<tr><td colspan="2" class="finding"> ^^^ memory leak: mdev_device</td></tr>');
    assert.ok(leak > header, 'the teardown finding is in the teardown phase');
  });

  test('a 34-column ladder of an older entry is read too', () => {
    const stored = entryOf(P2).ladder;
    assert.match(stored, /^CPU0 {30}CPU1\n/);
    const html = ladderHtml(stored);
    assert.deepEqual(rowWith(html, 'remove_store()').map((c) => c.text), ['', 'remove_store()']);
  });

  test('text that is not a ladder stays preformatted', () => {
    assert.equal(ladderHtml('(no ladder: boom <1>)'), '<pre class="ladder">(no ladder: boom &#60;1&#62;)</pre>');
  });
});
