// The committed corpus is the regression suite: every JSON file under the repository's corpus/
// must be a valid entry of a bundled target whose repro (minimized form and original) replays
// its signature. Each entry that passes is recorded as re-verified against the current target
// code in the repository's results/verified.json (ignored by git), so that `mdevfuzz replay` of a
// committed entry stops noting that the target changed, without rewriting the committed file.

import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { targetHash } from '../harness/corpus/identity.js';
import { recordVerified, verifiedWith } from '../harness/corpus/verified.js';
import { replayExecution } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';

/** dist/test/ (or any other outDir's test/) is two levels below the repository. */
const CORPUS = fileURLToPath(new URL('../../corpus/', import.meta.url));
const RESULTS = fileURLToPath(new URL('../../results/', import.meta.url));
const verified: { entry: CorpusEntry; targetHash: string }[] = [];

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
      verified.push({ entry, targetHash: targetHash({ name: entry.target }) });
    });
  }

  test('every entry that replayed is recorded as re-verified against the current target code', async () => {
    await recordVerified(RESULTS, verified);
    for (const v of verified) assert.ok(await verifiedWith(RESULTS, v.entry, v.targetHash), `${v.entry.target}: ${v.entry.signature}`);
    assert.equal(verified.length, files.length);
  });
});
