import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareText, groupDigits } from '../harness/text.js';

test('groupDigits groups thousands as en-US does, after rounding', () => {
  for (const n of [0, 7, 999, 1000, 12_345, 999_999, 1_000_000, 1_234_567_890, -1, -1234.4, 1234.5, 0.4, -0.4]) {
    assert.equal(groupDigits(n), Math.round(n).toLocaleString('en-US').replace('-0', '0'), String(n));
  }
});

test('compareText orders by code unit, whatever the locale', () => {
  const titles = ['invariant: openable', 'KASAN: use-after-free', 'BUG: kernel NULL pointer dereference', 'INFO: task hung', 'BUG: kernel NULL'];
  assert.deepEqual([...titles].sort(compareText), ['BUG: kernel NULL', 'BUG: kernel NULL pointer dereference', 'INFO: task hung', 'KASAN: use-after-free', 'invariant: openable']);
  assert.equal(compareText('a', 'a'), 0);
});
