// The corpus on disk: `<corpus>/<target>/<slug-of-signature>.json`, one file per (target, signature).
// Every write goes to a temp file in the same directory and is then renamed (an update) or
// hard-linked (a creation, which fails rather than replace a file another run just created). A file
// that does not parse or fails the schema is reported by name and never overwritten or dropped.

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/load.js';
import { CorpusError, parseEntry, serializeEntry, type CorpusEntry } from './entry.js';
import { slugify } from './slug.js';

export interface StoredEntry {
  file: string;
  entry: CorpusEntry;
}

/** What a directory of entries holds: the valid ones by signature, and the files that are not. */
export interface CorpusDir {
  bySignature: Map<string, StoredEntry>;
  errors: CorpusError[];
}

function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** The entry in `file`, undefined when there is no such file, or a CorpusError. */
export async function readEntry(file: string): Promise<CorpusEntry | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw new CorpusError(file, `cannot be read (${(e as Error).message})`);
  }
  return parseEntry(text, file);
}

/** Write `text` to `file` atomically; with `create`, fail with EEXIST instead of replacing a file. */
export async function writeFileAtomic(file: string, text: string, opts: { create?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'wx');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.create) await fs.link(tmp, file);
    else await fs.rename(tmp, file);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** The directory holding the entries of one target. */
export function targetDir(corpusDir: string, target: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(target)) throw new UsageError(`target name '${target}' cannot be a corpus directory name`);
  return path.join(corpusDir, target);
}

/**
 * Where an entry for `signature` may live, in order of preference: the slug, then the slug with a
 * hash of the full signature for when two signatures share a slug.
 */
export function entryPaths(dir: string, signature: string): [string, string] {
  const slug = slugify(signature);
  const hash = createHash('sha256').update(signature).digest('hex').slice(0, 8);
  return [path.join(dir, `${slug}.json`), path.join(dir, `${slug}-${hash}.json`)];
}

/** Read every `*.json` of a target's directory (a missing directory is an empty corpus). */
export async function loadCorpusDir(dir: string): Promise<CorpusDir> {
  const out: CorpusDir = { bySignature: new Map(), errors: [] };
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (e) {
    if (isMissing(e)) return out;
    throw e;
  }
  for (const name of names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort()) {
    const file = path.join(dir, name);
    try {
      const entry = await readEntry(file);
      if (entry && !out.bySignature.has(entry.signature)) out.bySignature.set(entry.signature, { file, entry });
    } catch (e) {
      if (!(e instanceof CorpusError)) throw e;
      out.errors.push(e);
    }
  }
  return out;
}

export interface Sighting {
  signature: string;
  /** Executions of this run that found it. */
  hits: number;
  /** ISO timestamp of this run. */
  seenAt: string;
}

export interface Recorded {
  file: string;
  /** True when this call wrote a new entry; false when it added to an existing one. */
  created: boolean;
}

/** An existing entry seen again: more hits, a later lastSeen, the same repro. */
export function mergeSighting(entry: CorpusEntry, s: Sighting): CorpusEntry {
  const lastSeen = Date.parse(s.seenAt) > Date.parse(entry.lastSeen) ? s.seenAt : entry.lastSeen;
  return { ...entry, hits: entry.hits + s.hits, lastSeen };
}

async function update(file: string, s: Sighting): Promise<Recorded> {
  const current = await readEntry(file); // again, just before writing, to merge with other writers
  if (!current) throw new CorpusError(file, 'disappeared while being updated');
  await writeFileAtomic(file, serializeEntry(mergeSighting(current, s)));
  return { file, created: false };
}

/**
 * Record a finding in the target's directory: add to the entry with its signature when there is
 * one, otherwise write the entry `makeEntry` builds (called only then: it replays the finding).
 * Throws a CorpusError, writing nothing, when a file that could hold this signature is invalid.
 */
export async function recordSighting(dir: string, s: Sighting, makeEntry: () => CorpusEntry): Promise<Recorded> {
  const existing = (await loadCorpusDir(dir)).bySignature.get(s.signature);
  if (existing) return update(existing.file, s);
  const candidates = entryPaths(dir, s.signature);
  let entry: CorpusEntry | undefined;
  for (const file of candidates) {
    const there = await readEntry(file); // an invalid file throws here: it is never overwritten
    if (there?.signature === s.signature) return update(file, s);
    if (there) continue; // another signature with the same slug
    entry ??= makeEntry();
    if (entry.signature !== s.signature) throw new Error(`entry for '${s.signature}' has signature '${entry.signature}'`);
    try {
      await writeFileAtomic(file, serializeEntry(entry), { create: true });
      return { file, created: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Another run created this file meanwhile: merge into it if it is this signature.
    const theirs = await readEntry(file);
    if (theirs?.signature === s.signature) return update(file, s);
  }
  throw new CorpusError(candidates[1], `no free file name for signature '${s.signature}'`);
}
