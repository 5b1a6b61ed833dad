// The bundled targets, by name.

import type { Target } from '../harness/target.js';
import mdevV50 from './mdev/v5.0/index.js';
import mdevV52 from './mdev/v5.2/index.js';
import mdevV6 from './mdev/v6/index.js';

export const TARGETS: readonly Target[] = [mdevV50, mdevV52, mdevV6];

export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}
