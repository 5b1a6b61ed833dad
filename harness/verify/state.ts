// The state file of `mdevfuzz verify`: results/verify/<target>-<key hash>.json, where the key is
// everything that defines the search (target and its code hash, S, C, B, DPOR, faults, start
// states, shard), so that a rerun with the same flags resumes and any other flags start afresh.
// Written atomically (temp file, fsync, rename), so a kill at any moment leaves the last state.

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ORDER_VERSION } from './programs.js';
import { newState, type VerifyConfig, type VerifyState } from './verify.js';

export function stateKey(target: string, targetHash: string, cfg: VerifyConfig, restriction: { ops?: string; domain?: string } = {}): string {
  const { maxOps, cpus, bound, dpor, faults, starts, shard, maxSteps } = cfg;
  const { ops = null, domain = null } = restriction;
  return JSON.stringify({ order: ORDER_VERSION, target, targetHash, maxOps, cpus, bound, dpor, faults, starts: starts.map((s) => s ?? null), ops, domain, shard: shard ?? null, maxSteps: maxSteps ?? null });
}

export function stateFile(resultsDir: string, target: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 12);
  return path.join(resultsDir, 'verify', `${target.replace(/[^A-Za-z0-9._-]/g, '_')}-${hash}.json`);
}

/** The saved state for this key, or a fresh one (a file of another key or version is ignored). */
export function loadState(file: string, key: string): { state: VerifyState; resumed: boolean } {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as VerifyState;
    if (s.version === 1 && s.key === key) return { state: s, resumed: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && !(e instanceof SyntaxError)) throw e;
  }
  return { state: newState(key), resumed: false };
}

export function saveState(file: string, state: VerifyState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${JSON.stringify(state, null, 1)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
