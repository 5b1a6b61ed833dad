// The lock cycle of a deadlock, named the same way by both oracles that see one: lockdep, when an
// acquisition closes a cycle in the lock-order graph, and the hung-task oracle, when the blocked
// CPUs wait for locks each held by the next (this file). Both add the line `lock cycle: A, B`
// (lockdep.ts's lockCycleLine: the classes, sorted) to their finding's detail, so that the report
// can show the two findings of one lock inversion together (harness/report/related.ts) while their
// titles stay the kernel's own.

import type { Kernel } from './kernel.js';
import { CPU, CPU_WORDS, HDR_WORDS, refPool, refSlot, WAIT_NONE, type Ref } from './layout.js';
import { lockClass } from './lockdep.js';

/** The class of the lock (or any word) a blocked CPU waits on, or undefined when it waits on none. */
function waitClass(k: Kernel, cpu: number): string | undefined {
  const c = cpu * CPU_WORDS;
  if (k.mem[c + CPU.waitOp] === WAIT_NONE) return undefined;
  const ref = k.mem[c + CPU.waitRef]! as Ref;
  const pool = k.layout.pools[refPool(ref) - 1];
  if (!pool || !k.isLive(ref)) return undefined;
  const field = pool.def.fields[k.mem[c + CPU.waitAddr]! - pool.base - refSlot(ref) * pool.slotWords - HDR_WORDS];
  return field === undefined ? undefined : lockClass(k, ref, field);
}

/**
 * The classes of the locks that blocked CPUs wait on in a cycle, each held by the CPU that waits
 * next (a CPU waiting on a lock it holds itself is a cycle of one), or undefined when there is
 * none: a CPU that waits on a completion or a wait queue holds up nobody in lockdep's terms.
 */
export function lockCycle(k: Kernel, blocked: readonly number[]): string[] | undefined {
  const waits = new Map<number, string>();
  for (const c of blocked) {
    const cls = waitClass(k, c);
    if (cls !== undefined) waits.set(c, cls);
  }
  const holder = (c: number, cls: string): number | undefined =>
    k.held[c]!.includes(cls) ? c : blocked.find((d) => d !== c && k.held[d]!.includes(cls));
  for (const start of waits.keys()) {
    const path: number[] = [];
    for (let c: number | undefined = start; c !== undefined && waits.has(c); c = holder(c, waits.get(c)!)) {
      const at = path.indexOf(c);
      if (at >= 0) return path.slice(at).map((d) => waits.get(d)!);
      path.push(c);
    }
  }
  return undefined;
}
