import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { captureEntry } from '../harness/corpus/capture.js';
import { CorpusError, parseEntry, serializeEntry, type CorpusEntry } from '../harness/corpus/entry.js';
import { slugify } from '../harness/corpus/slug.js';
import { entryPaths, loadCorpusDir, readEntry, recordSighting, writeFileAtomic } from '../harness/corpus/store.js';
import { runCampaign } from '../harness/engine/campaign.js';
import { replayExecution } from '../harness/engine/runner.js';
import { findTarget } from '../targets/index.js';

const target = findTarget('mdev-v5.0')!;
const cfg = { seed: '1', strategy: 'pct' as const, depth: 3 };
const T0 = '2025-01-01T00:00:00.000Z';
const T1 = '2025-01-02T00:00:00.000Z'; // schema 1 counters

let tmp: string;
let sample: CorpusEntry;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-corpus-'));
  const campaign = await runCampaign({ target: { name: target.name }, ...cfg, execs: 200, workers: 0 });
  assert.ok(campaign.findings.length > 0, 'the campaign found something to save');
  sample = captureEntry({ target, ref: { name: target.name }, cfg }, campaign.findings[0]!);
});

after(() => rmSync(tmp, { recursive: true, force: true }));

function freshDir(name: string): string {
  return path.join(tmp, name);
}

describe('slugify', () => {
  test('lowercases and turns runs of other characters into one dash', () => {
    assert.equal(slugify('BUG: kernel NULL pointer dereference in vfio_ap_mdev_open'), 'bug-kernel-null-pointer-dereference-in-vfio-ap-mdev-open');
    assert.equal(slugify('  --WARNING in sysfs_create_file_ns!! '), 'warning-in-sysfs-create-file-ns');
  });

  test('keeps at most 80 characters and no dash at the ends', () => {
    const slug = slugify(`${'a'.repeat(79)} b`);
    assert.equal(slug, 'a'.repeat(79));
    assert.ok(slugify('x '.repeat(100)).length <= 80);
    assert.equal(slugify('!!!'), 'untitled');
  });
});

describe('corpus entries', () => {
  test('a captured entry replays its signature and survives a write and a read unchanged', async () => {
    const { result } = replayExecution(target, sample.program, sample.faults, sample.schedule);
    assert.ok(result.findings.some((f) => f.title === sample.signature));
    const file = path.join(freshDir('roundtrip'), 'entry.json');
    await writeFileAtomic(file, serializeEntry(sample));
    assert.deepEqual(await readEntry(file), sample);
    assert.equal(await readEntry(path.join(freshDir('roundtrip'), 'missing.json')), undefined);
  });

  test('validation names the file and the first bad field', () => {
    const cases: [string, (e: Record<string, unknown>) => void, string][] = [
      ['missing seed', (e) => delete e.seed, "'seed'"],
      ['unknown kind', (e) => (e.kind = 'oops'), "'kind'"],
      ['schedule names a CPU the program lacks', (e) => (e.schedule = [{ cpu: 9, step: 1, to: 0 }]), "'schedule[0].cpu'"],
      ['negative step', (e) => (e.schedule = [{ cpu: 0, step: -1, to: 1 }]), "'schedule[0].step'"],
      ['op without a name', (e) => ((e.program as { cpus: unknown[][] }).cpus[0]![0] = { args: {} }), "'program.cpus[0][0].op'"],
      ['counters of schema 1 in a schema 2 entry', (e) => (e.hits = 3), "'hits'"],
      ['pending not a boolean', (e) => (e.minimizePending = 'yes'), "'minimizePending'"],
      ['future schema', (e) => (e.schemaVersion = 3), "'schemaVersion'"],
      ['unknown field', (e) => (e.colour = 'red'), "'colour'"],
      ['minimized without stats', (e) => (e.minimized = { program: sample.program, faults: [], schedule: [] }), "'minimized.stats'"],
    ];
    for (const [what, mutate, field] of cases) {
      const value = JSON.parse(serializeEntry(sample)) as Record<string, unknown>;
      mutate(value);
      assert.throws(
        () => parseEntry(JSON.stringify(value), 'corpus/t/some-entry.json'),
        (e: unknown) => e instanceof CorpusError && e.message.startsWith('corpus/t/some-entry.json: ') && e.message.includes(field),
        what,
      );
    }
    assert.throws(() => parseEntry('{"schemaVersion": 1,', 'corpus/t/cut.json'), /^CorpusError: corpus\/t\/cut\.json: not valid JSON/);
  });

  test('a schema 1 entry is read with its counters checked and dropped, and written back as schema 2', () => {
    const { minimizePending: _pending, ...rest } = sample;
    const v1 = { ...rest, schemaVersion: 1, hits: 4, firstSeen: T0, lastSeen: T1 };
    const e = parseEntry(JSON.stringify(v1), 'old.json');
    assert.deepEqual(e, { ...sample, minimizePending: false });
    assert.equal(JSON.parse(serializeEntry(e)).schemaVersion, 2);
    assert.doesNotMatch(serializeEntry(e), /hits|firstSeen|lastSeen/);
    assert.throws(() => parseEntry(JSON.stringify({ ...v1, hits: 0 }), 'old.json'), /'hits'/);
    assert.throws(() => parseEntry(JSON.stringify({ ...v1, lastSeen: 'yesterday' }), 'old.json'), /'lastSeen'/);
    assert.throws(() => parseEntry(JSON.stringify({ ...v1, minimizePending: false }), 'old.json'), /'minimizePending'/);
  });

  test('a minimized form with stats is accepted', () => {
    const value = { ...sample, minimized: { program: sample.program, faults: [], schedule: sample.schedule, stats: { replays: 12 } } };
    assert.deepEqual(parseEntry(JSON.stringify(value), 'x.json').minimized?.stats, { replays: 12 });
  });
});

describe('atomic writes', () => {
  test('leave exactly the target file, no temp file', async () => {
    const dir = freshDir('atomic');
    await writeFileAtomic(path.join(dir, 'a.json'), 'one\n');
    await writeFileAtomic(path.join(dir, 'a.json'), 'two\n');
    assert.deepEqual(readdirSync(dir), ['a.json']);
    assert.equal(readFileSync(path.join(dir, 'a.json'), 'utf8'), 'two\n');
  });

  test('a creation never replaces an existing file and cleans up after itself', async () => {
    const dir = freshDir('atomic-create');
    await writeFileAtomic(path.join(dir, 'a.json'), 'first\n', { create: true });
    await assert.rejects(writeFileAtomic(path.join(dir, 'a.json'), 'second\n', { create: true }), { code: 'EEXIST' });
    assert.deepEqual(readdirSync(dir), ['a.json']);
    assert.equal(readFileSync(path.join(dir, 'a.json'), 'utf8'), 'first\n');
  });
});

describe('recording sightings', () => {
  test('the first sighting writes the entry at the slug; the next ones leave it byte for byte (counters live in results/)', async () => {
    const dir = freshDir('merge');
    const first = await recordSighting(dir, sample.signature, () => sample);
    assert.deepEqual(first, { file: entryPaths(dir, sample.signature)[0], created: true });
    const bytes = readFileSync(first.file);
    const second = await recordSighting(dir, sample.signature, () => assert.fail('no replay for a known signature'));
    assert.deepEqual(second, { file: first.file, created: false });
    assert.deepEqual(readFileSync(first.file), bytes);
    assert.deepEqual(await readEntry(first.file), sample);
  });

  test('two signatures with the same slug get two files', async () => {
    const dir = freshDir('collide');
    const a = { ...sample, signature: 'WARNING in foo_bar' };
    const b = { ...sample, signature: 'WARNING: in foo bar' };
    const ra = await recordSighting(dir, a.signature, () => a);
    const rb = await recordSighting(dir, b.signature, () => b);
    assert.notEqual(ra.file, rb.file);
    assert.equal((await readEntry(ra.file))!.signature, a.signature);
    assert.equal((await readEntry(rb.file))!.signature, b.signature);
    assert.deepEqual([...(await loadCorpusDir(dir)).bySignature.keys()].sort(), [a.signature, b.signature].sort());
  });

  test('a corrupt entry is reported by name and left byte for byte as it was', async () => {
    const dir = freshDir('corrupt');
    const file = entryPaths(dir, sample.signature)[0];
    await writeFileAtomic(file, '{"schemaVersion": 1, "hits": ');
    const before = readFileSync(file);
    await assert.rejects(
      recordSighting(dir, sample.signature, () => sample),
      (e: unknown) => e instanceof CorpusError && e.file === file,
    );
    assert.deepEqual(readFileSync(file), before);
    assert.deepEqual(readdirSync(dir), [path.basename(file)]);
    const loaded = await loadCorpusDir(dir);
    assert.equal(loaded.bySignature.size, 0);
    assert.deepEqual(loaded.errors.map((e) => e.file), [file]);
  });

  test('an entry that fails the schema is not overwritten either', async () => {
    const dir = freshDir('invalid');
    const file = entryPaths(dir, sample.signature)[0];
    await writeFileAtomic(file, JSON.stringify({ ...sample, minimizePending: 'maybe' }));
    const before = readFileSync(file);
    await assert.rejects(
      recordSighting(dir, sample.signature, () => sample),
      (e: unknown) => e instanceof CorpusError && e.message === `${file}: field 'minimizePending' must be true or false`,
    );
    assert.deepEqual(readFileSync(file), before);
  });
});
