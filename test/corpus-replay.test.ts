// The committed corpus is the regression suite: every JSON file under the repository's corpus/
// must be a valid entry of a bundled target whose repro (minimized form and original) replays
// its signature.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEntry } from '../harness/corpus/entry.js';
import { replayExecution } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';

/** dist/test/ (or any other outDir's test/) is two levels below the repository. */
const CORPUS = fileURLToPath(new URL('../../corpus/', import.meta.url));

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.'))
    .flatMap((d) => (d.isDirectory() ? jsonFiles(path.join(dir, d.name)) : d.name.endsWith('.json') ? [path.join(dir, d.name)] : []))
    .sort();
}

const files = existsSync(CORPUS) ? jsonFiles(CORPUS) : [];

describe('the committed corpus', () => {
  test('corpus/ was found and scanned', (t) => {
    assert.ok(existsSync(path.join(CORPUS, 'README.md')), `${CORPUS}README.md`);
    t.diagnostic(`${files.length} entries under ${CORPUS}`);
  });

  for (const file of files) {
    const name = path.relative(CORPUS, file);
    test(`${name} replays its signature`, () => {
      const entry = parseEntry(readFileSync(file, 'utf8'), name);
      const target = findTarget(entry.target);
      assert.ok(target, `${name}: target '${entry.target}' is not bundled`);
      assert.equal(path.basename(path.dirname(file)), entry.target, `${name} lies in its target's directory`);
      const forms = entry.minimized ? { minimized: entry.minimized, original: entry } : { original: entry };
      for (const [form, r] of Object.entries(forms)) {
        const { result } = replayExecution(target, r.program, r.faults, r.schedule);
        const titles = result.findings.map((f) => f.title);
        assert.ok(titles.includes(entry.signature), `${name}: the ${form} repro found ${titles.length ? titles.join('; ') : 'nothing'} instead of ${entry.signature}`);
      }
    });
  }
});
