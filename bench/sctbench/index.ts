// The SCTBench ports that time-to-bug runs beside the seed problems (issue 14 item 6).

import type { Target } from '../../harness/target.js';
import { reorder, REORDER_BUG } from './reorder.js';
import { twostage, TWOSTAGE_BUG } from './twostage.js';

export interface PortCase {
  target: Target;
  bug: string;
}

export const SCTBENCH: readonly PortCase[] = [
  { target: reorder(2, 1, 3), bug: REORDER_BUG },
  { target: reorder(3, 1, 4), bug: REORDER_BUG },
  { target: reorder(4, 1, 5), bug: REORDER_BUG },
  { target: reorder(9, 1, 10), bug: REORDER_BUG },
  { target: twostage(1, 1, 'twostage'), bug: TWOSTAGE_BUG },
  { target: twostage(15, 1, 'twostage_16'), bug: TWOSTAGE_BUG },
];
