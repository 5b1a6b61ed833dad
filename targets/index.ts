// The bundled targets, by name.

import type { Target } from '../harness/target.js';
import mdevV50 from './mdev/v5.0/index.js';

export const TARGETS: readonly Target[] = [mdevV50];

export function findTarget(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name);
}
