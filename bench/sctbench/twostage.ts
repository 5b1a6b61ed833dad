// twostage_bad.c and twostage_100_bad.c of SCTBench (concurrent-software-benchmarks): funcA
// threads set data1 = 1 under data1Lock, then data2 = data1 + 1 under data2Lock; a funcB thread
// reads data1 (returning if it is 0) and then data2, each under its lock, and asserts data2 ==
// data1 + 1. It fails when funcB runs between one funcA's two stages: one preemption. twostage has
// 1 funcA and 1 funcB; twostage_100 has 99 and 1 (ported here with at most 15 funcA, the CPU limit).

import { mutex_lock, mutex_unlock } from '../../harness/kernel/sync.js';
import { assertOr, portTarget } from './kit.js';
import type { Target } from '../../harness/target.js';

export const TWOSTAGE_BUG = 'assertion failed: twostage data2 == data1 + 1';

export function twostage(writers: number, readers: number, name: string): Target {
  return portTarget({
    name,
    source: `benchmarks/concurrent-software-benchmarks/${name === 'twostage' ? 'twostage' : 'twostage_100'}_bad.c`,
    globals: ['data1Lock', 'data2Lock', 'data1Value', 'data2Value'],
    threads: {
      *funcA(k, g) {
        yield* mutex_lock(k, g, 'data1Lock');
        yield k.at('data1Value = 1');
        k.set(g, 'data1Value', 1);
        yield* mutex_unlock(k, g, 'data1Lock');
        yield* mutex_lock(k, g, 'data2Lock');
        yield k.at('data2Value = data1Value + 1');
        k.set(g, 'data2Value', k.get(g, 'data1Value') + 1);
        yield* mutex_unlock(k, g, 'data2Lock');
        return 0;
      },
      *funcB(k, g) {
        yield* mutex_lock(k, g, 'data1Lock');
        yield k.at('data1Value == 0');
        if (k.get(g, 'data1Value') === 0) {
          yield* mutex_unlock(k, g, 'data1Lock');
          return 0;
        }
        yield k.at('t1 = data1Value');
        const t1 = k.get(g, 'data1Value');
        yield* mutex_unlock(k, g, 'data1Lock');
        yield* mutex_lock(k, g, 'data2Lock');
        yield k.at('t2 = data2Value');
        const t2 = k.get(g, 'data2Value');
        yield* mutex_unlock(k, g, 'data2Lock');
        assertOr(k, t2 === t1 + 1, TWOSTAGE_BUG);
        return 0;
      },
    },
    program: [...Array<string>(writers).fill('funcA'), ...Array<string>(readers).fill('funcB')],
    bug: TWOSTAGE_BUG,
  });
}
