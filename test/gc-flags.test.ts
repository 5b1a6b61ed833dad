// The pool's young generation goes with the CLI's V8 flags: halved only where parallel scavenges
// are off, since with them the smaller young generation costs a tenth of the executions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolGcFlags } from '../harness/engine/pool/gc-flags.js';
import { resourceLimitsOf } from '../harness/engine/pool/guarded-pool.js';

test('pool workers get a 12 MiB young generation, 6 MiB once poolGcFlags() has run; the old generation is the cap given', () => {
  assert.deepEqual(resourceLimitsOf(256), { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 12 });
  poolGcFlags();
  assert.deepEqual(resourceLimitsOf(1024), { maxOldGenerationSizeMb: 1024, maxYoungGenerationSizeMb: 6 });
});
