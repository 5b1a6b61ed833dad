// Expectations are claims about a kernel release: each names the lines that allow it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TARGETS } from '../targets/index.js';

test('every expectation of every bundled target cites file and lines of its release', () => {
  for (const t of TARGETS) {
    assert.match(t.kernelVersion, /^v\d+\.\d+(\.\d+|-rc\d+)$/, `${t.name} names one exact release`);
    assert.ok(t.expectations.length > 0, t.name);
    for (const e of t.expectations) assert.match(e.reason, /\b[\w-]+\.[ch] \d+/, `${t.name}: ${e.title}`);
  }
});

test('the five seed problems are expected of mdev-v5.0, each once, and of no other target', () => {
  for (const t of TARGETS) {
    const problems = t.expectations.flatMap((e) => (e.problem ? [e.problem] : [])).sort();
    assert.deepEqual(problems, t.name === 'mdev-v5.0' ? ['P1', 'P2', 'P3', 'P4', 'P5'] : [], t.name);
  }
});
