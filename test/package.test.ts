// The package as a user gets it: `npm pack` (of what `npm test` just built), installed into an
// empty project; a TypeScript plug-in target compiled there against the shipped declarations;
// then `npx mdevfuzz run --target-file`, `replay` and `corpus check` on it.

import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RunSummary } from '../harness/report/summary.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-package-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function sh(cmd: string, args: readonly string[], cwd: string, timeoutMs = 60_000): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: 'false' } });
  if (r.error) throw r.error;
  return r;
}
const shown = (r: SpawnSyncReturns<string>): string => `exit ${r.status}\n${r.stdout}\n${r.stderr}`;

test('packed, installed into an empty project, a TypeScript target compiled there runs, replays and checks', { timeout: 120_000 }, () => {
  // Pack what is built (no lifecycle scripts: a build would replace dist/ under the running suite).
  const before = readdirSync(ROOT).sort();
  const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
  assert.equal(pack.status, 0, shown(pack));
  assert.deepEqual(readdirSync(ROOT).sort(), before, 'npm pack left nothing in the repository');
  const [packed] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
  const files = packed!.files.map((f) => f.path);
  for (const f of ['package.json', 'dist/harness/api.js', 'dist/harness/api.d.ts', 'dist/harness/cli/main.js', 'dist/targets/index.js']) assert.ok(files.includes(f), `the tarball has ${f}`);
  assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.endsWith('.map')), 'no tests or source maps in the tarball');

  // An empty project; the package installed from the tarball, typescript linked from this checkout.
  const project = path.join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'my-target', version: '1.0.0', private: true, type: 'module' }));
  const install = sh('npm', ['install', path.join(tmp, packed!.filename), '--prefer-offline', '--no-audit', '--no-fund'], project, 90_000);
  assert.equal(install.status, 0, shown(install));
  symlinkSync(realpathSync(path.join(ROOT, 'node_modules', 'typescript')), path.join(project, 'node_modules', 'typescript'), 'dir');

  // mailbox.ts uses the wait queues: their declarations ship too.
  for (const name of ['session-table', 'mailbox']) copyFileSync(path.join(ROOT, 'examples', 'targets', `${name}.ts`), path.join(project, `${name}.ts`));
  const compilerOptions = { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'dist', types: [] };
  writeFileSync(path.join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts'] }));
  const tsc = sh(process.execPath, [path.join('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], project);
  assert.equal(tsc.status, 0, `compiles against the shipped declarations\n${shown(tsc)}`);
  assert.ok(existsSync(path.join(project, 'dist', 'session-table.js')));
  assert.ok(existsSync(path.join(project, 'dist', 'mailbox.js')));

  const version = sh('npx', ['mdevfuzz', '--version'], project);
  assert.equal(version.stdout.trim(), JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version, shown(version));

  const file = path.join('dist', 'session-table.js');
  const run = sh('npx', ['mdevfuzz', 'run', '--target-file', file, '--seed', '1', '--execs', '300', '--workers', '0', '--results', 'results', '--corpus', 'corpus', '--run-id', 'first'], project);
  assert.equal(run.status, 1, `new findings: exit 1\n${shown(run)}`);
  const summary = JSON.parse(readFileSync(path.join(project, 'results', 'first', 'summary.json'), 'utf8')) as RunSummary;
  const uaf = summary.findings.find((f) => f.signature === 'KASAN: use-after-free Read in use');
  assert.ok(uaf?.corpusFile, shown(run));
  assert.equal(uaf.replay, `mdevfuzz replay ${uaf.corpusFile} --target-file ${file} --ladder`);
  const entry = JSON.parse(readFileSync(path.join(project, uaf.corpusFile), 'utf8')) as { target: string; minimized: unknown };
  assert.equal(entry.target, 'session-table');
  assert.notEqual(entry.minimized, null, 'run minimized the new entry');

  const replay = sh('npx', ['mdevfuzz', 'replay', uaf.corpusFile, '--target-file', file, '--ladder'], project);
  assert.equal(replay.status, 0, shown(replay));
  assert.match(replay.stdout, /^reproduced: KASAN: use-after-free Read in use/);
  assert.match(replay.stdout, /\^\^\^ KASAN: use-after-free Read in use/);

  const check = sh('npx', ['mdevfuzz', 'corpus', 'check', 'corpus', '--target-file', file, '--results', 'results'], project);
  assert.equal(check.status, 0, shown(check));
  const n = summary.findings.filter((f) => f.corpusFile !== null).length;
  assert.match(check.stdout, new RegExp(`${n} entries checked: ${n} passed, 0 failed`));
});
