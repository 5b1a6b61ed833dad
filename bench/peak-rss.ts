// Peak RSS of a time-boxed campaign (issue 8 item 4): `mdevfuzz run` in a child process, on a copy
// of the committed corpus in a temporary directory (so that the corpus is untouched and known
// findings are not minimized again), with the RSS probe preloaded; /proc/<pid>/status is polled
// meanwhile for the same figure as the kernel sees it, and for how the RSS grew.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_NODE_FLAGS } from '../harness/engine/pool/gc-flags.js';
import { RSS_MARK, RSS_PROBE_ENV } from './rss-probe.js';

export interface PeakRss {
  command: string;
  timeMs: number;
  wallMs: number;
  exitCode: number | null;
  executions: number | null;
  /** From process.resourceUsage().maxRSS at exit, and the last VmHWM read from /proc (Linux), in MiB. */
  maxRssMiB: number | null;
  vmHwmMiB: number | null;
  /** VmRSS at a quarter, half, three quarters and the end of the polling, in MiB. */
  rssCurveMiB: number[];
}

const CLI = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./rss-probe.js', import.meta.url));
const CORPUS = path.resolve('corpus');

function statusKb(pid: number, field: string): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

const mib = (kb: number | null): number | null => (kb === null ? null : Math.round((kb / 1024) * 10) / 10);

export async function peakRss(target: string, timeMs: number): Promise<PeakRss> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-rss-'));
  try {
    if (fs.existsSync(CORPUS)) fs.cpSync(CORPUS, path.join(dir, 'corpus'), { recursive: true });
    const args = ['run', '--target', target, '--time', `${timeMs}ms`, '--seed', 'bench-rss', '--no-minimize', '--json', '--corpus', path.join(dir, 'corpus'), '--results', path.join(dir, 'results')];
    const t0 = performance.now();
    const child = spawn(process.execPath, [...CLI_NODE_FLAGS, '--import', PROBE, CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [RSS_PROBE_ENV]: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let hwm: number | null = null;
    const samples: number[] = [];
    const poll = setInterval(() => {
      hwm = statusKb(child.pid!, 'VmHWM') ?? hwm;
      const rss = statusKb(child.pid!, 'VmRSS');
      if (rss !== null) samples.push(rss);
    }, 250);
    const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearInterval(poll);
    const wallMs = performance.now() - t0;
    const mark = stderr.split('\n').find((l) => l.startsWith(RSS_MARK));
    let executions: number | null = null;
    try {
      executions = (JSON.parse(stdout) as { executions: number }).executions;
    } catch {
      // no summary: the exit code says why
    }
    const at = (f: number): number => samples[Math.min(samples.length - 1, Math.floor(f * samples.length))] ?? 0;
    return {
      command: `node ${CLI_NODE_FLAGS.join(' ')} ${path.relative(process.cwd(), CLI)} ${args.map((a) => (a.startsWith(dir) ? a.replace(dir, '$TMP') : a)).join(' ')}`,
      timeMs,
      wallMs: Math.round(wallMs),
      exitCode,
      executions,
      maxRssMiB: mark ? mib(Number(mark.slice(RSS_MARK.length))) : null,
      vmHwmMiB: mib(hwm),
      rssCurveMiB: samples.length ? [0.25, 0.5, 0.75, 1].map((f) => mib(at(f - 1e-9))!) : [],
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
