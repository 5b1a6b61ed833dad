// Fixed-program targets for the SCTBench ports: one struct of shared globals, one operation per
// thread body, the same program every execution (Target.generate), a failed assert() as a
// finding. Threads start all at once: the ports keep the thread bodies and their shared accesses,
// not the main thread that creates and joins them (each access is one preemption point, as in
// the systematic testers that SCTBench was built for).

import { defineTarget } from '../../harness/define-target.js';
import type { Gen, Kernel } from '../../harness/kernel/kernel.js';
import { defineStruct, type Ref, type StructDef } from '../../harness/kernel/layout.js';
import type { Target } from '../../harness/target.js';

export interface Port<F extends string> {
  name: string;
  /** Where it comes from: the file of github.com/mc-imperial/sctbench it ports. */
  source: string;
  globals: readonly F[];
  /** Thread bodies by name; each reads and writes the globals through the kernel's accessors. */
  threads: Record<string, (k: Kernel, g: Ref<F>) => Gen<number>>;
  /** The thread body of each CPU, in creation order. */
  program: readonly string[];
  /** What a failed assert() prints: the finding's title. */
  bug: string;
}

export function portTarget<F extends string>(port: Port<F>): Target {
  const globals: StructDef<F> = defineStruct(`${port.name}_globals`, port.globals);
  const g = (k: Kernel): Ref<F> => k.nth(globals, 0);
  const ops = Object.fromEntries(Object.entries(port.threads).map(([name, body]) => [name, (k: Kernel) => body(k, g(k))]));
  return defineTarget({
    name: port.name,
    description: `SCTBench ${port.source}, ported (bench/sctbench)`,
    kernelVersion: 'none (a user-space benchmark)',
    pools: [{ def: globals, capacity: 1 }],
    ops,
    program: port.program.map((name) => [name]),
    *setup(k) {
      k.alloc(globals, 'main');
    },
    expectations: [{ title: port.bug, status: 'known', reason: `the bug SCTBench plants in ${port.source}` }],
  });
}

/** assert(cond) of the benchmark: a failed one ends the execution with the benchmark's bug. */
export function assertOr(k: Kernel, cond: boolean, bug: string): void {
  if (!cond) k.oops('invariant', bug, ['assert(0) reached: the benchmark\'s planted bug']);
}
