// A lockdep-style oracle: every acquisition while other locks are held adds edges to a graph of
// lock classes; an edge that closes a cycle is the kernel's "possible circular locking dependency".
// Its report names the cycle's classes (lockCycleLine), as a deadlock of the same cycle does
// (lock-cycle.ts).

import type { Kernel } from './kernel.js';
import type { Ref } from './layout.js';
import { memoize } from '../text.js';

const PREFIX = 'lock cycle: ';

/** The detail line naming a cycle of lock classes. */
export function lockCycleLine(classes: readonly string[]): string {
  return PREFIX + [...new Set(classes)].sort().join(', ');
}

/** The cycle a finding's detail names, as its line (the key that relates findings), or undefined. */
export function lockCycleOf(detail: readonly string[]): string | undefined {
  return detail.find((d) => d.startsWith(PREFIX));
}

/** Per-object lock classes by struct and field, each built once: lockdep looks them up at every lock and unlock. */
const objectClass = memoize((struct: string) => memoize((field: string) => `&${struct}->${field}`));

/** Global locks are named by their field ("mdev_list_lock"), per-object ones as "&parent->unreg_sem". */
export function lockClass(k: Kernel, ref: Ref, field: string): string {
  const s = k.structOf(ref)?.name;
  return s === undefined || s === 'globals' ? field : objectClass(s)(field);
}

/** The classes on a path of the lock-order graph from `from` to `to` (both included), or undefined. */
function pathOf(order: Map<string, Set<string>>, from: string, to: string): string[] | undefined {
  const parent = new Map<string, string | null>([[from, null]]);
  const stack = [from];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (c === to) {
      const path: string[] = [];
      for (let x: string | null = c; x !== null; x = parent.get(x)!) path.unshift(x);
      return path;
    }
    for (const n of order.get(c) ?? []) {
      if (parent.has(n)) continue;
      parent.set(n, c);
      stack.push(n);
    }
  }
  return undefined;
}

/** Called before blocking on a lock; `recursive` read locks may nest in themselves. */
export function lockdep_acquire(k: Kernel, cls: string, recursiveRead = false): void {
  const held = k.held[k.cpu]!;
  for (let i = 0; i < held.length; i++) {
    const h = held[i]!;
    if (h === cls) {
      if (!recursiveRead) k.warn('lockdep', `WARNING: possible recursive locking detected in ${k.fn()}`, [`cpu${k.cpu} already holds ${cls}`, lockCycleLine([cls])]);
      continue;
    }
    let out = k.lockOrder.get(h);
    if (!out) k.lockOrder.set(h, (out = new Set()));
    if (out.has(cls)) continue;
    const chain = pathOf(k.lockOrder, cls, h);
    if (chain) {
      k.warn('lockdep', `WARNING: possible circular locking dependency detected in ${k.fn()}`, [
        `cpu${k.cpu} takes ${cls} while holding ${h}`,
        `existing dependency chain: ${cls} -> ... -> ${h}`,
        lockCycleLine(chain),
      ]);
    }
    out.add(cls);
  }
}

export function lockdep_acquired(k: Kernel, cls: string): void {
  k.held[k.cpu]!.push(cls);
}

export function lockdep_release(k: Kernel, cls: string): void {
  const held = k.held[k.cpu]!;
  const i = held.lastIndexOf(cls);
  if (i < 0) {
    k.warn('lockdep', `WARNING: bad unlock balance detected in ${k.fn()}`, [`cpu${k.cpu} releases ${cls} it does not hold`]);
    return;
  }
  held.splice(i, 1);
}
