// reorder_N_bad.c of SCTBench (concurrent-software-benchmarks; from the "CS" suite of ESBMC's
// benchmarks): N-1 threads set a = 1 then b = -1; a checker asserts that it sees (a, b) as (0, 0)
// or (1, -1). It fails when the checker reads a after one setter's first store and b before its
// second: one preemption in a setter. reorder_3 has 2 setters and 1 checker (iSet = 2, iCheck = 1),
// reorder_4 3 and 1, reorder_5 4 and 1, reorder_10 9 and 1 (11 threads with main there), reorder_20
// 10 and 10.

import { assertOr, portTarget } from './kit.js';
import type { Target } from '../../harness/target.js';

export const REORDER_BUG = 'assertion failed: reorder check';

export function reorder(sets: number, checks: number, n: number): Target {
  return portTarget({
    name: `reorder_${n}`,
    source: `benchmarks/concurrent-software-benchmarks/reorder_${n}_bad.c`,
    globals: ['a', 'b'],
    threads: {
      *setThread(k, g) {
        yield k.at('a = 1');
        k.set(g, 'a', 1);
        yield k.at('b = -1');
        k.set(g, 'b', -1);
        return 0;
      },
      *checkThread(k, g) {
        // !((a == 0 && b == 0) || (a == 1 && b == -1)), evaluated left to right with short circuits.
        yield k.at('a == 0');
        let ok = false;
        if (k.get(g, 'a') === 0) {
          yield k.at('b == 0');
          ok = k.get(g, 'b') === 0;
        }
        if (!ok) {
          yield k.at('a == 1');
          if (k.get(g, 'a') === 1) {
            yield k.at('b == -1');
            ok = k.get(g, 'b') === -1;
          }
        }
        assertOr(k, ok, REORDER_BUG);
        return 0;
      },
    },
    program: [...Array<string>(sets).fill('setThread'), ...Array<string>(checks).fill('checkThread')],
    bug: REORDER_BUG,
  });
}
