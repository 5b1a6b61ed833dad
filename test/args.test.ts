import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from '../harness/cli/args.js';

test('durations take ms, s, m and h, or bare seconds; anything else is refused', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('20s'), 20_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5'), 1_500);
  for (const bad of ['1d', 'h', '-1s', '0s', '']) assert.throws(() => parseDuration(bad), /duration/, bad);
});
