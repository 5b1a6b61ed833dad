// Golden ladders of the five seed problems, from their corpus entries on mdev-v5.0 as `replay
// --ladder` draws them at 100 columns: a change to the model, the replay or the rendering shows
// up here as a diff of the text a kernel developer reads. Regenerate deliberately with
// UPDATE_GOLDEN=1 node --test dist/test/ladder-golden.test.js, then review the diff.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { parseEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { replayExecution } from '../harness/engine/runner.js';
import { renderLadder } from '../harness/report/ladder.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
// dist/test/ -> test/golden/ and corpus/ in the source tree.
const goldenDir = fileURLToPath(new URL('../../test/golden/', import.meta.url));
const corpusDir = fileURLToPath(new URL('../../corpus/mdev-v5.0/', import.meta.url));
const WIDTH = 100;

const entries = readdirSync(corpusDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => parseEntry(readFileSync(`${corpusDir}${f}`, 'utf8'), f));
const problems = target.expectations.filter((e) => e.problem !== undefined);

describe('golden ladders of the seed problems, from their corpus entries', () => {
  test('mdev-v5.0 names the five seed problems', () => {
    assert.deepEqual(problems.map((p) => p.problem), ['P1', 'P2', 'P3', 'P4', 'P5']);
  });

  for (const p of problems) {
    test(`${p.problem}: ${p.title}`, () => {
      const entry: CorpusEntry | undefined = entries.find((e) => e.signature === p.title);
      assert.ok(entry, `corpus/mdev-v5.0 has an entry of ${p.title}`);
      const repro = entry.minimized ?? entry;
      const { result } = replayExecution(target, repro.program, repro.faults, repro.schedule, { events: true });
      const ladder = `${renderLadder(result.events!, repro.program.cpus.length, { start: repro.program.start, width: WIDTH })}\n`;
      assert.ok(ladder.includes(`^^^ ${p.title}`), 'the ladder marks the finding, its title whole');
      const wide = ladder.split('\n').filter((l) => l.length > WIDTH);
      assert.deepEqual(wide, [], `no line past ${WIDTH} columns`);
      const file = `${goldenDir}${p.problem}.txt`;
      if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, ladder);
      assert.equal(ladder, readFileSync(file, 'utf8'));
    });
  }
});
