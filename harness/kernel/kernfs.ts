// sysfs/kernfs nodes with active references: a writer holds one while its store runs, removing a
// node first deactivates it (new writers fail) then drains the writers in flight, and a store may
// remove its own file (device_remove_file_self), which breaks the writer's own reference.

import { Kernel, type Gen } from './kernel.js';
import { defineStruct, WAIT_NONZERO, WAIT_ZERO, type Ref } from './layout.js';

const ACTIVE = 0;
const DEACTIVATED = 1;
const REMOVED = 2;

export const kernfs_node = defineStruct('kernfs_node', ['parent', 'path', 'active', 'deactivated', 'removing', 'children']);
export type KernfsNode = Ref<(typeof kernfs_node.fields)[number]>;

/** Full path of a node (the root is ""). */
export function kernfs_path(k: Kernel, node: KernfsNode): string {
  return node === 0 ? '' : k.siteName(k.get(node, 'path'));
}

/**
 * Create a file, directory or link below `parent`. A parent without a directory (0: the kobject
 * was never added or has been deleted) or one being removed is the WARN of the sysfs call named
 * by `caller`, e.g. sysfs_create_file_ns.
 */
export function* kernfs_create(k: Kernel, parent: KernfsNode, name: string, caller: string): Gen<KernfsNode> {
  yield k.at(caller);
  if (parent === 0 || !k.isLive(parent) || k.get(parent, 'deactivated') !== 0) {
    k.warn('sysfs-warn', `WARNING in ${caller}`, [`${caller}: the parent of '${name}' has no directory or is being removed`]);
    return 0 as KernfsNode;
  }
  if (k.shouldFail('sysfs_create')) return 0 as KernfsNode;
  return new_node(k, parent, `${kernfs_path(k, parent)}/${name}`, caller);
}

/** A top-level directory, e.g. /sys/devices/<name>. */
export function* kernfs_create_root(k: Kernel, name: string, caller: string): Gen<KernfsNode> {
  yield k.at(caller);
  return new_node(k, 0 as KernfsNode, name, caller);
}

function new_node(k: Kernel, parent: KernfsNode, path: string, caller: string): KernfsNode {
  const node = k.alloc(kernfs_node, k.at(caller));
  if (parent !== 0) k.set(parent, 'children', k.get(parent, 'children') + 1);
  k.set(node, 'parent', parent);
  k.set(node, 'path', k.intern(path));
  return node;
}

/** The active node at a path, or 0: what an open() from userspace finds. */
export function kernfs_find(k: Kernel, path: string): KernfsNode {
  const h = k.intern(path);
  return k.find(kernfs_node, (n) => k.get(n, 'path') === h && k.get(n, 'deactivated') === ACTIVE);
}

export function kernfs_get_active(k: Kernel, node: KernfsNode): boolean {
  if (k.get(node, 'deactivated') !== ACTIVE) return false;
  Atomics.add(k.mem, k.addr(node, 'active'), 1);
  return true;
}

export function kernfs_put_active(k: Kernel, node: KernfsNode): void {
  Atomics.sub(k.mem, k.addr(node, 'active'), 1);
}

/**
 * The node and its descendants that are still linked (a removed node is out of the tree). A child
 * is always allocated after its parent, so one pass in allocation order finds them all.
 */
function subtree(k: Kernel, node: KernfsNode): KernfsNode[] {
  const out = [node];
  if (k.get(node, 'children') === 0) return out;
  const inside = new Set<number>(out);
  k.find(kernfs_node, (n) => {
    if (!inside.has(n) && inside.has(k.get(n, 'parent')) && k.get(n, 'deactivated') !== REMOVED) {
      inside.add(n);
      out.push(n);
    }
    return false;
  });
  return out;
}

/**
 * Remove a node and everything below it: deactivate (new opens fail), wait for the stores in
 * flight to return, then mark it removed. Nodes are not freed: open files pin them (kernfs_get).
 */
export function* kernfs_remove(k: Kernel, node: KernfsNode, caller: string): Gen {
  const label = k.at(caller);
  yield label;
  if (node === 0 || k.get(node, 'deactivated') === REMOVED) return;
  const nodes = subtree(k, node);
  for (const n of nodes) k.set(n, 'deactivated', DEACTIVATED);
  for (const n of nodes) {
    while (Atomics.load(k.mem, k.addr(n, 'active')) !== 0) {
      k.block(n, 'active', -1, WAIT_ZERO);
      yield label;
    }
  }
  for (const n of nodes) k.set(n, 'deactivated', REMOVED);
  const parent = k.get(node, 'parent') as KernfsNode;
  if (parent !== 0) k.set(parent, 'children', k.get(parent, 'children') - 1);
}

/**
 * device_remove_file_self: the writer breaks its own active reference so that removal does not
 * wait for itself; only the first of concurrent writers removes the file, the others wait until
 * it is gone. Both take their reference back before returning.
 */
export function* kernfs_remove_self(k: Kernel, node: KernfsNode): Gen<boolean> {
  const label = k.at('kernfs_remove_self');
  yield label;
  kernfs_put_active(k, node);
  let won = false;
  if (k.get(node, 'removing') === 0) {
    k.set(node, 'removing', 1);
    yield* kernfs_remove(k, node, 'kernfs_remove');
    won = true;
  } else {
    while ((Atomics.load(k.mem, k.addr(node, 'deactivated')) & REMOVED) === 0) {
      k.block(node, 'deactivated', REMOVED, WAIT_NONZERO);
      yield label;
    }
  }
  Atomics.add(k.mem, k.addr(node, 'active'), 1);
  return won;
}

/**
 * A write(2) (or read(2)) from userspace to a sysfs file: find it and hold an active reference
 * across the store (or show). -ENOENT when the file does not exist, -ENODEV while it is removed.
 */
export function* sysfs_write(k: Kernel, path: string, store: (node: KernfsNode) => Gen<number>): Gen<number> {
  return yield* kernfs_fop(k, 'sysfs_write', path, store);
}

export function* sysfs_read(k: Kernel, path: string, show: (node: KernfsNode) => Gen<number>): Gen<number> {
  return yield* kernfs_fop(k, 'sysfs_read', path, show);
}

function* kernfs_fop(k: Kernel, fop: string, path: string, op: (node: KernfsNode) => Gen<number>): Gen<number> {
  yield `${fop}:${path.slice(path.lastIndexOf('/') + 1)}`;
  const node = kernfs_find(k, path);
  if (node === 0) return -ENOENT;
  if (!kernfs_get_active(k, node)) return -ENODEV;
  const ret = yield* op(node);
  kernfs_put_active(k, node);
  return ret;
}

export const EPERM = 1;
export const ENOENT = 2;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EUSERS = 87;
