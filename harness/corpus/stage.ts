// All-or-nothing writes of several files (a corpus merge): every new text is first staged in a temp
// file beside its destination and fsynced; only when all are staged are they renamed into place,
// each replaced file kept as a hard-linked backup until the end. A failure while staging removes
// the temp files (and the directories it created) and changes nothing; a failure while renaming
// puts back what was already renamed. The directories are fsynced at the end.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fsyncDir } from './store.js';

export class StageError extends Error {
  override readonly name = 'StageError';
}

const exists = (file: string): Promise<boolean> => fs.lstat(file).then(() => true, () => false);

/** Write every (file, text) of `writes` and remove every file of `removes`, or change nothing. */
export async function commitAll(writes: ReadonlyMap<string, string>, removes: readonly string[] = []): Promise<void> {
  const token = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const hidden = (file: string, what: string): string => path.join(path.dirname(file), `.${path.basename(file)}.${token}.${what}`);
  const madeDirs: string[] = [];
  const staged: { file: string; tmp: string }[] = [];
  const backups = new Map<string, string>();
  const cleanup = async (): Promise<void> => {
    for (const s of staged) await fs.rm(s.tmp, { force: true });
    for (const b of backups.values()) await fs.rm(b, { force: true });
    for (const d of madeDirs.reverse()) await fs.rmdir(d).catch(() => undefined);
  };
  try {
    for (const [file, text] of writes) {
      const dir = path.dirname(file);
      const made = await fs.mkdir(dir, { recursive: true });
      if (made !== undefined) madeDirs.push(made);
      const tmp = hidden(file, 'tmp');
      staged.push({ file, tmp });
      const h = await fs.open(tmp, 'wx');
      try {
        await h.writeFile(text, 'utf8');
        await h.sync();
      } finally {
        await h.close();
      }
    }
    for (const file of [...writes.keys(), ...removes]) {
      if (!(await exists(file))) continue;
      const b = hidden(file, 'bak');
      await fs.link(file, b);
      backups.set(file, b);
    }
  } catch (e) {
    await cleanup();
    throw new StageError(`nothing written: ${(e as Error).message}`);
  }
  const done: string[] = [];
  try {
    for (const { file, tmp } of staged) {
      await fs.rename(tmp, file);
      done.push(file);
    }
    for (const file of removes) {
      await fs.rm(file, { force: true });
      done.push(file);
    }
  } catch (e) {
    // Put back what was renamed or removed: the backup, or no file where there was none.
    for (const file of done.reverse()) {
      const b = backups.get(file);
      if (b) await fs.rename(b, file).catch(() => undefined);
      else await fs.rm(file, { force: true });
    }
    await cleanup();
    throw new StageError(`nothing written (undone after a failure): ${(e as Error).message}`);
  }
  for (const b of backups.values()) await fs.rm(b, { force: true });
  for (const dir of new Set([...writes.keys(), ...removes].map((f) => path.dirname(f)))) await fsyncDir(dir);
}
