// The corpus on disk: `<corpus>/<target>/<slug-of-signature>.json`, one file per (target, signature).
// Every write goes to a temp file in the same directory, fsynced, and is then renamed (an update) or
// hard-linked (a creation, which fails rather than replace a file another run just created), and
// the directory is fsynced. A file that does not parse or fails the schema is reported by name and
// never overwritten or dropped. An entry changes only when it is new or its repro gets smaller
// (counters live in results/, history.ts); replacements of one entry hold its lock (lock.ts).

import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../engine/load.js';
import { CorpusError, parseEntry, serializeEntry, type CorpusEntry } from './entry.js';
import { withLock } from './lock.js';
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
  await fsyncDir(dir);
}

/** Make a rename or a link in `dir` durable (a no-op where directories cannot be opened, e.g. Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  let h: fs.FileHandle | undefined;
  try {
    h = await fs.open(dir, 'r');
    await h.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw e;
  } finally {
    await h?.close();
  }
}

/** A temp or backup file of a writer (`.<name>.<pid>.<hex>.tmp|bak`), with the writer's pid. */
const LEFTOVER = /^\..+\.(\d+)\.[0-9a-f]{8}\.(tmp|bak)$/;

/**
 * Remove the temp files that writers killed mid-write (kill -9) left in `dir`: those whose pid is
 * not running on this host. Their entries are whole either way (a rename or link is atomic).
 */
export async function sweepLeftovers(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const m = LEFTOVER.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (e) {
        alive = (e as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) continue;
    await fs.rm(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
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

export interface Recorded {
  file: string;
  /** True when this call wrote a new entry; false when the signature already had one. */
  created: boolean;
}

/** The file holding `signature` under `dir`, if any (an invalid candidate file throws: it is never overwritten). */
async function findEntryFile(dir: string, signature: string): Promise<string | undefined> {
  const existing = (await loadCorpusDir(dir)).bySignature.get(signature);
  if (existing) return existing.file;
  for (const file of entryPaths(dir, signature)) if ((await readEntry(file))?.signature === signature) return file;
  return undefined;
}

/**
 * Record a finding in the target's directory: nothing when its signature has an entry already (the
 * corpus changes only for what is new; counters go to results/), otherwise write the entry
 * `makeEntry` builds (called only then: it replays the finding). Throws a CorpusError, writing
 * nothing, when a file that could hold this signature is invalid.
 */
export async function recordSighting(dir: string, signature: string, makeEntry: () => CorpusEntry): Promise<Recorded> {
  const found = await findEntryFile(dir, signature);
  if (found) return { file: found, created: false };
  const candidates = entryPaths(dir, signature);
  let entry: CorpusEntry | undefined;
  for (const file of candidates) {
    const there = await readEntry(file); // an invalid file throws here: it is never overwritten
    if (there?.signature === signature) return { file, created: false };
    if (there) continue; // another signature with the same slug
    entry ??= makeEntry();
    if (entry.signature !== signature) throw new Error(`entry for '${signature}' has signature '${entry.signature}'`);
    try {
      await writeFileAtomic(file, serializeEntry(entry), { create: true });
      return { file, created: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    // Another run created this file meanwhile: it holds this signature, or the next name is tried.
    if ((await readEntry(file))?.signature === signature) return { file, created: false };
  }
  throw new CorpusError(candidates[1], `no free file name for signature '${signature}'`);
}

/**
 * Replace the entry in `file` by `next` when `better(current)` says so, holding the entry's lock,
 * reading the file again under it (so that of two runs the second sees the first's write).
 * Returns whether it wrote.
 */
export async function replaceEntry(file: string, next: CorpusEntry, better: (current: CorpusEntry | undefined) => boolean): Promise<boolean> {
  return withLock(file, async () => {
    const current = await readEntry(file);
    if (current && current.signature !== next.signature) throw new CorpusError(file, `holds '${current.signature}', not '${next.signature}'`);
    if (!better(current)) return false;
    await writeFileAtomic(file, serializeEntry(next));
    return true;
  });
}
