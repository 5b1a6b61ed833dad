// The peak-RSS probe of the throughput benchmark: a short campaign in a child process reports its
// peak RSS through the preloaded probe and through /proc, runs on a copy of the corpus, and leaves
// the committed corpus as it was.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { peakRss } from '../bench/peak-rss.js';

const listing = (): string => (fs.existsSync('corpus') ? fs.readdirSync('corpus', { recursive: true }).sort().join('\n') : '');

test('a short campaign in a child process reports its peak RSS and leaves the corpus untouched', async () => {
  const before = listing();
  const r = await peakRss('mdev-v5.0', 1500);
  assert.ok(r.exitCode === 0 || r.exitCode === 1, `the campaign exited ${r.exitCode}`);
  assert.ok(r.executions !== null && r.executions > 0, 'no summary, or no executions');
  assert.ok(r.maxRssMiB !== null && r.maxRssMiB > 10, `maxRSS from the probe: ${r.maxRssMiB}`);
  if (fs.existsSync('/proc/self/status')) assert.ok(r.vmHwmMiB !== null && r.vmHwmMiB > 10, `VmHWM: ${r.vmHwmMiB}`);
  assert.match(r.command, /--corpus \$TMP\/corpus --results \$TMP\/results/);
  assert.equal(listing(), before);
});
