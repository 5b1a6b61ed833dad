// Lifecycle invariants of reference D.2 for the legacy cores, as checks the models call at the
// point the invariant is about, and whole-state checks the executor runs after every step.

import type { Kernel } from '../../../harness/kernel/kernel.js';
import { list_entries, type ListHead } from '../../../harness/kernel/list.js';
import { globals, type Device, type MdevDevice } from './structs.js';

/**
 * D.2.4: when unregistration returns, no finished child of that parent is still on the bus (a
 * deleted child whose struct waits for a last reference is gone in every sense that matters).
 */
export function check_no_orphans(k: Kernel, dev: Device): void {
  const g = k.nth(globals, 0);
  for (const mdev of list_entries<MdevDevice>(k, k.get(g, 'mdev_list'))) {
    if (k.get(mdev, 'dev_parent') === dev && k.get(mdev, 'active') !== 0 && k.get(mdev, 'dev_on_bus') !== 0) {
      k.warn('leak', `memory leak: mdev_device orphaned by ${k.fn()}`, [
        `reference D.2.4: an mdev (uuid ${k.get(mdev, 'uuid')}) survives the unregistration of its parent`,
      ]);
      return;
    }
  }
}

/** D.2.8: at most one mdev per UUID in mdev_list (checked after every step, so kept cheap). */
export function uuid_unique(k: Kernel): void {
  const head = k.get(k.nth(globals, 0), 'mdev_list') as ListHead;
  if (k.get(head, 'n') < 2) return;
  const mdevs = list_entries<MdevDevice>(k, head);
  for (let i = 1; i < mdevs.length; i++) {
    const uuid = k.get(mdevs[i]!, 'uuid');
    for (let j = 0; j < i; j++) {
      if (k.get(mdevs[j]!, 'uuid') !== uuid) continue;
      k.warn('invariant', 'invariant: uuid unique in mdev_list', [`uuid ${uuid} listed twice`]);
      return;
    }
  }
}

/**
 * D.2.9: `active` is the sole arbiter between removers, so when one begins tearing a device down no
 * other is doing so. `removers` is the model's own count (no kernel field), kept on live devices
 * only: a freed device is KASAN's business, not this check's.
 */
export function remover_begins(k: Kernel, mdev: MdevDevice): void {
  if (!k.isLive(mdev)) return;
  const n = k.get(mdev, 'removers');
  k.set(mdev, 'removers', n + 1);
  if (n > 0) {
    k.warn('invariant', `invariant: one remover per device in ${k.fn()}`, [`reference D.2.9: a second remover tears down mdev uuid ${k.get(mdev, 'uuid')}`]);
  }
}

/** The remover gave up (v5.0: the vendor refused) and made the device active again. */
export function remover_ends(k: Kernel, mdev: MdevDevice): void {
  if (k.isLive(mdev)) k.set(mdev, 'removers', Math.max(0, k.get(mdev, 'removers') - 1));
}
