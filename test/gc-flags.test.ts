// The pool's young generation goes with the CLI's V8 flags: halved only where parallel scavenges
// are off, since with them the smaller young generation costs a tenth of the executions. The flags
// the CLI's process starts with are the same wherever it is launched.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { CLI_NODE_FLAGS, poolGcFlags } from '../harness/engine/pool/gc-flags.js';
import { resourceLimitsOf } from '../harness/engine/pool/guarded-pool.js';

test('pool workers get a 12 MiB young generation, 6 MiB once poolGcFlags() has run; the old generation is the cap given', () => {
  assert.deepEqual(resourceLimitsOf(256), { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 12 });
  poolGcFlags();
  assert.deepEqual(resourceLimitsOf(1024), { maxOldGenerationSizeMb: 1024, maxYoungGenerationSizeMb: 6 });
});

test("the CLI's process starts with CLI_NODE_FLAGS wherever it is launched: its shebang, npm start, the nightly example; node accepts them", () => {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const flags = CLI_NODE_FLAGS.join(' ');
  const main = fileURLToPath(new URL('../harness/cli/main.js', import.meta.url));
  assert.equal(readFileSync(main, 'utf8').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${flags} dist/harness/cli/main.js run`);
  const nightly = readFileSync(path.join(root, 'examples/github-actions-nightly.yml'), 'utf8');
  assert.match(nightly, new RegExp(`node ${flags} dist/harness/cli/main\\.js run `));
  const r = spawnSync(process.execPath, [...CLI_NODE_FLAGS, main, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
