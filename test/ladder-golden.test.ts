// Golden ladders of the five seed problems: a change to the model, the replay or the rendering
// shows up here as a diff of the text a kernel developer reads. Regenerate deliberately with
// UPDATE_GOLDEN=1 node --test dist/test/ladder-golden.test.js, then review the diff.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { renderLadder } from '../harness/report/ladder.js';
import { findTarget } from '../targets/index.js';
import { resolveCuts, runWith, schedule } from './fixtures/mini.js';
import { problemProgram, SEED_PROBLEMS } from './fixtures/seed-problems.js';

const target = findTarget('mdev-v5.0')!;
// dist/test/ -> test/golden/ in the source tree.
const goldenDir = fileURLToPath(new URL('../../test/golden/', import.meta.url));

describe('golden ladders of the seed problems', () => {
  for (const p of SEED_PROBLEMS) {
    test(`${p.id}: ${p.title}`, () => {
      const program = problemProgram(p);
      const { result } = runWith(target, program, schedule(resolveCuts(target, program, p.cuts)));
      const ladder = `${renderLadder(result.events!, p.cpus.length, { start: p.start })}\n`;
      assert.ok(ladder.includes(`^^^ ${p.title}`), 'the ladder marks the finding');
      const file = `${goldenDir}${p.id}.txt`;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, ladder);
      assert.equal(ladder, readFileSync(file, 'utf8'));
    });
  }
});
