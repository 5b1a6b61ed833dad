// The CLI imports a command's module only when that command runs: a campaign's process then holds
// none of the other commands' code (issue 17). Checked with a module-resolution hook that names
// every module of harness/cli the process resolves.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, test } from 'node:test';

const CLI = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
const COMMAND_MODULES = ['run.js', 'merge.js', 'replay.js', 'minimize.js', 'corpus.js', 'compare.js', 'stress.js', 'coverage.js', 'verify.js', 'targets.js'];

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mdevfuzz-lazy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const hooks = path.join(tmp, 'hooks.mjs');
writeFileSync(
  hooks,
  `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/harness/cli/')) process.stderr.write('resolved ' + r.url.slice(r.url.lastIndexOf('/') + 1) + '\\n');
  return r;
}
`,
);
const register = path.join(tmp, 'register.mjs');
writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);

/** The command modules of harness/cli that `mdevfuzz ...args` resolved. */
function commandModules(args: string[]): string[] {
  const r = spawnSync(process.execPath, ['--import', register, CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const resolved = [...r.stderr.matchAll(/^resolved (\S+)$/gm)].map((m) => m[1]!);
  assert.ok(resolved.includes('main.js'), `the hook saw the CLI itself: ${resolved.join(' ')}`);
  return COMMAND_MODULES.filter((m) => resolved.includes(m));
}

test('mdevfuzz --version imports no command module', () => {
  assert.deepEqual(commandModules(['--version']), []);
});

test('mdevfuzz targets imports its own module and no other command', () => {
  assert.deepEqual(commandModules(['targets', '--json']), ['targets.js']);
});
