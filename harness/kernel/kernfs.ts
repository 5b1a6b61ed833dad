// sysfs/kernfs nodes with active references: a writer holds one while its store runs, removing a
// node first deactivates it (new writers fail) then drains the writers in flight, and a store may
// remove its own file (device_remove_file_self), which breaks the writer's own reference.

import { Kernel, type Gen } from './kernel.js';
import { defineStruct, WAIT_NONZERO, WAIT_ZERO, type Ref } from './layout.js';
import { memoize } from '../text.js';

const ACTIVE = 0;
const DEACTIVATED = 1;
const REMOVED = 2;
/** kernfs_node flags of kernfs_remove_self. */
const SUICIDAL = 1;
const SUICIDED = 2;

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
  return new_node(k, parent, child_path(k, parent, name), caller);
}

/** A top-level directory, e.g. /sys/devices/<name>. */
export function* kernfs_create_root(k: Kernel, name: string, caller: string): Gen<KernfsNode> {
  yield k.at(caller);
  return new_node(k, 0 as KernfsNode, child_path(k, 0 as KernfsNode, name), caller);
}

/** `path`: the node's full path, interned. */
function new_node(k: Kernel, parent: KernfsNode, path: number, caller: string): KernfsNode {
  const node = k.alloc(kernfs_node, k.at(caller));
  if (parent !== 0) k.set(parent, 'children', k.get(parent, 'children') + 1);
  k.set(node, 'parent', parent);
  k.set(node, 'path', path);
  return node;
}

/** Interned child paths by the parent's interned path and the child's name. */
const childPaths = new Map<number, Map<string, number>>();

/**
 * The interned path of `name` below `parent` (0: the root), reading the parent's path as
 * kernfs_path does; each is built and hashed once, not at every lookup.
 */
function child_path(k: Kernel, parent: KernfsNode, name: string): number {
  if (parent === 0) return k.intern(name);
  const dir = k.get(parent, 'path');
  let names = childPaths.get(dir);
  if (names === undefined) childPaths.set(dir, (names = new Map()));
  let path = names.get(name);
  if (path === undefined) names.set(name, (path = k.intern(`${k.siteName(dir)}/${name}`)));
  return path;
}

// ---- sysfs as fs/sysfs/{symlink,file,dir}.c (v5.0.1) do it, on kernfs_add_one ----

/** A kobject's `sd` as the caller holds it: the object and the field that holds its directory. */
export type KobjSd = readonly [obj: Ref, field: string];

function read_sd(k: Kernel, kobj: KobjSd): KernfsNode {
  return k.get(kobj[0] as Ref<string>, kobj[1]) as KernfsNode;
}

/** A linked (not yet removed) child of `parent` with this name, or 0: kernfs_find_ns. */
function kernfs_find_ns(k: Kernel, parent: KernfsNode, name: string): KernfsNode {
  const h = child_path(k, parent, name);
  return k.findBy(kernfs_node, 'path', h, (n) => k.get(n, 'parent') === parent && k.get(n, 'deactivated') !== REMOVED);
}

/**
 * kernfs_add_one (fs/kernfs/dir.c 764-819, v5.0.1): -ENOENT under a parent that is deactivated or
 * removed (782-787), -EEXIST when the name is taken (kernfs_link_sibling 347-380). Returns the node
 * or a negative errno. `parent` 0 is the sysfs root.
 */
export function* kernfs_add_one(k: Kernel, parent: KernfsNode, name: string, caller: string): Gen<number> {
  yield k.at(caller);
  if (parent !== 0 && k.get(parent, 'deactivated') !== ACTIVE) return -ENOENT;
  if (kernfs_find_ns(k, parent, name) !== 0) return -EEXIST;
  if (k.shouldFail('sysfs_create')) return -ENOMEM;
  return new_node(k, parent, child_path(k, parent, name), caller);
}

/** sysfs_warn_dup (fs/sysfs/dir.c 21-33): pr_warn and dump_stack, no WARNING, so not a report. */
function sysfs_warn_dup(k: Kernel, parent: KernfsNode, name: string): void {
  k.printk(`sysfs: cannot create duplicate filename '${parent === 0 ? '' : `/${kernfs_path(k, parent)}`}/${name}'`);
}

/**
 * sysfs_create_link (fs/sysfs/symlink.c 89-93 → sysfs_do_create_link 67-81 →
 * sysfs_do_create_link_sd 20-53, v5.0.1): a NULL kobj means the sysfs root; kobj->sd NULL is
 * -EFAULT; a target without a directory is -ENOENT; a removed parent is -ENOENT from
 * kernfs_add_one; a duplicate is -EEXIST with sysfs_warn_dup. Never a WARN on these paths.
 * Returns the link node or a negative errno. Reading kobj->sd of a freed kobject is the KASAN read.
 */
export function* sysfs_create_link(k: Kernel, kobj: KobjSd | null, target: KobjSd, name: string): Gen<number> {
  k.enter('sysfs_create_link');
  yield k.at('kobj->sd');
  const parent = kobj === null ? (0 as KernfsNode) : read_sd(k, kobj);
  let ret: number;
  if (kobj !== null && parent === 0) ret = -EFAULT;
  else if (read_sd(k, target) === 0) ret = -ENOENT;
  else {
    ret = yield* kernfs_add_one(k, parent, name, 'kernfs_create_link');
    if (ret === -EEXIST) sysfs_warn_dup(k, parent, name);
  }
  k.exit('sysfs_create_link', ret);
  return ret;
}

/**
 * sysfs_remove_link (symlink.c 143-153) → kernfs_remove_by_name_ns (dir.c 1497-1520): with no
 * directory it is kernfs's WARN (1502-1506); a missing name is a silent -ENOENT.
 */
export function* sysfs_remove_link(k: Kernel, kobj: KobjSd | null, name: string): Gen {
  k.enter('sysfs_remove_link');
  yield k.at('kobj->sd');
  const parent = kobj === null ? (0 as KernfsNode) : read_sd(k, kobj);
  if (kobj !== null && parent === 0) {
    k.warn('sysfs-warn', 'WARNING in kernfs_remove_by_name_ns', [`kernfs: can not remove '${name}', no directory`]);
  } else {
    const node = kernfs_find_ns(k, parent, name);
    if (node !== 0) yield* kernfs_remove(k, node, 'kernfs_remove_by_name_ns');
  }
  k.exit('sysfs_remove_link', undefined);
}

/**
 * sysfs_create_file_ns (fs/sysfs/file.c 322-335, v5.0.1): WARN_ON(!kobj->sd) is -EINVAL (328);
 * otherwise kernfs_add_one's errors, a duplicate with sysfs_warn_dup (sysfs_add_file_mode_ns).
 */
export function* sysfs_create_file_ns(k: Kernel, kobj: KobjSd, name: string): Gen<number> {
  k.enter('sysfs_create_file_ns');
  yield k.at('kobj->sd');
  const parent = read_sd(k, kobj);
  let ret: number;
  if (parent === 0) {
    k.warn('sysfs-warn', 'WARNING in sysfs_create_file_ns', [`sysfs_create_file_ns: WARN_ON(!kobj->sd) for '${name}'`]);
    ret = -EINVAL;
  } else {
    ret = yield* kernfs_add_one(k, parent, name, 'kernfs_create_file');
    if (ret === -EEXIST) sysfs_warn_dup(k, parent, name);
  }
  k.exit('sysfs_create_file_ns', ret);
  return ret;
}

/** The active node at a path, or 0: what an open() from userspace finds. */
export function kernfs_find(k: Kernel, path: string): KernfsNode {
  const h = k.intern(path);
  return k.findBy(kernfs_node, 'path', h, (n) => k.get(n, 'deactivated') === ACTIVE);
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
  // Indexed loops: a generator keeps an array iterator of a for-of alive across its yields.
  for (let i = 0; i < nodes.length; i++) k.set(nodes[i]!, 'deactivated', DEACTIVATED);
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    while (Atomics.load(k.mem, k.addr(n, 'active')) !== 0) {
      k.block(n, 'active', -1, WAIT_ZERO);
      yield label;
    }
  }
  for (let i = 0; i < nodes.length; i++) k.set(nodes[i]!, 'deactivated', REMOVED);
  const parent = k.get(node, 'parent') as KernfsNode;
  if (parent !== 0) k.set(parent, 'children', k.get(parent, 'children') - 1);
}

/**
 * kernfs_remove_self (fs/kernfs/dir.c 1437-1486, v5.0.1): the writer breaks its own active
 * reference so that removal does not wait for itself. SUICIDAL arbitrates: only the first writer
 * removes the file and sets SUICIDED; a loser waits for SUICIDED and for the active count to drain
 * to the bias, which happens only once the winner's whole store has returned and put its
 * reference (1462-1472). Both take their reference back before returning.
 */
export function* kernfs_remove_self(k: Kernel, node: KernfsNode): Gen<boolean> {
  const label = k.at('kernfs_remove_self');
  yield label;
  kernfs_put_active(k, node);
  let won = false;
  if (k.get(node, 'removing') === 0) {
    k.set(node, 'removing', SUICIDAL);
    yield* kernfs_remove(k, node, 'kernfs_remove');
    k.set(node, 'removing', SUICIDAL | SUICIDED);
    won = true;
  } else {
    // The wait is in kernfs_remove_self's own frame: a hung loser is reported there.
    k.enter('kernfs_remove_self');
    for (;;) {
      if ((Atomics.load(k.mem, k.addr(node, 'removing')) & SUICIDED) === 0) k.block(node, 'removing', SUICIDED, WAIT_NONZERO);
      else if (Atomics.load(k.mem, k.addr(node, 'active')) !== 0) k.block(node, 'active', -1, WAIT_ZERO);
      else break;
      yield label;
    }
    k.exit('kernfs_remove_self', undefined);
  }
  Atomics.add(k.mem, k.addr(node, 'active'), 1);
  return won;
}

/**
 * A write(2) (or read(2)) from userspace to a sysfs file: find it and hold an active reference
 * across the store (or show). -ENOENT when the file does not exist, -ENODEV while it is removed.
 */
export function sysfs_write(k: Kernel, path: string, store: (node: KernfsNode) => Gen<number>): Gen<number> {
  return kernfs_fop(k, 'sysfs_write', path, store);
}

export function sysfs_read(k: Kernel, path: string, show: (node: KernfsNode) => Gen<number>): Gen<number> {
  return kernfs_fop(k, 'sysfs_read', path, show);
}

type Fop = 'sysfs_write' | 'sysfs_read';

/** The label of a sysfs read or write by file path, e.g. `sysfs_write:remove`. */
const fopLabel = (fop: Fop): ((path: string) => string) => memoize((path) => `${fop}:${path.slice(path.lastIndexOf('/') + 1)}`);
const fopLabels: Record<Fop, (path: string) => string> = { sysfs_write: fopLabel('sysfs_write'), sysfs_read: fopLabel('sysfs_read') };

function* kernfs_fop(k: Kernel, fop: Fop, path: string, op: (node: KernfsNode) => Gen<number>): Gen<number> {
  yield fopLabels[fop](path);
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
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const EUSERS = 87;
