// A legacy-era target (v5.0, v5.2) from its core and its create/remove stores.

import type { Expectation, ObjectKind, Target } from '../../../harness/target.js';
import { mdevTarget } from '../target.js';
import type { MdevCore } from './ops.js';
import { legacyUserspace, type Stores } from './userspace.js';

export interface LegacyTargetSpec {
  name: string;
  description: string;
  kernelVersion: string;
  core: MdevCore;
  stores: Stores;
  expectations: readonly Expectation[];
  objects: readonly ObjectKind[];
}

export function legacyTarget(spec: LegacyTargetSpec): Target {
  return mdevTarget({ ...spec, user: legacyUserspace(spec.core, spec.stores) });
}
