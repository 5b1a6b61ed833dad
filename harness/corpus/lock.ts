// A lock file beside the file it guards (`.<name>.lock`), so that updates of one corpus entry or of
// the results history by concurrent runs serialize. Taken with O_EXCL; it holds the owner's pid,
// host and time. A lock whose owner is gone (same host, no such pid) or that is older than
// STALE_MS is stale and taken over. Waiting is bounded: after WAIT_MS a LockError names the file.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const STALE_MS = 60_000;
export const WAIT_MS = 30_000;

export class LockError extends Error {
  override readonly name = 'LockError';
}

export function lockPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lock`);
}

interface Owner {
  pid: number;
  host: string;
  at: number;
  token: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The text of the lock when it is stale, else undefined. */
async function staleText(lock: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(lock, 'utf8');
  } catch {
    return undefined; // just released: try again
  }
  let owner: Partial<Owner>;
  try {
    owner = JSON.parse(text) as Partial<Owner>;
  } catch {
    // Half written by an owner that died between open and write: stale once it is old enough.
    const stat = await fs.stat(lock).catch(() => undefined);
    return stat !== undefined && Date.now() - stat.mtimeMs > 2_000 ? text : undefined;
  }
  if (typeof owner.at === 'number' && Date.now() - owner.at > STALE_MS) return text;
  const dead = owner.host === os.hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && !alive(owner.pid);
  return dead ? text : undefined;
}

/** Run `fn` holding the lock of `file` (the file itself need not exist; its directory is created). */
export async function withLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = lockPath(file);
  await fs.mkdir(path.dirname(lock), { recursive: true });
  const me: Owner = { pid: process.pid, host: os.hostname(), at: Date.now(), token: randomBytes(8).toString('hex') };
  const t0 = Date.now();
  for (let wait = 2; ; wait = Math.min(100, wait * 2)) {
    try {
      const h = await fs.open(lock, 'wx');
      try {
        await h.writeFile(JSON.stringify({ ...me, at: Date.now() }));
      } finally {
        await h.close();
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const stale = await staleText(lock);
    if (stale !== undefined) {
      // Take a stale lock over by renaming it away first. Of two runs that both judged it stale,
      // only one rename moves it; should the other move the lock the first then took, it sees a
      // different owner and puts it back (link fails if yet another lock is there meanwhile).
      const away = `${lock}.${me.token}.stale`;
      if (await fs.rename(lock, away).then(() => true, () => false)) {
        const moved = await fs.readFile(away, 'utf8').catch(() => stale);
        if (moved !== stale) await fs.link(away, lock).catch(() => undefined);
        await fs.rm(away, { force: true });
      }
      continue;
    }
    if (Date.now() - t0 > WAIT_MS) throw new LockError(`${file}: still locked after ${WAIT_MS / 1000} s (by ${lock}; remove it if no mdevfuzz is running)`);
    await new Promise((resolve) => setTimeout(resolve, wait + Math.random() * wait));
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}
