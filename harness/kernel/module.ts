// Loadable modules (kernel/module.c, v5.0.1): a refcount that pins them, and text and static data
// that stay mapped until free_module, which runs after exit() has returned (delete_module 1017-1029).
// Calling into or reading an unloaded module is the page fault of an unmapped module address.

import { Kernel, type Gen } from './kernel.js';
import { defineStruct, type Ref, type StructDef } from './layout.js';
import { EBUSY, EEXIST, ENOENT } from './kernfs.js';

export const module = defineStruct('module', ['name', 'state', 'refcnt']);
export type Module = Ref<(typeof module.fields)[number]>;

export const MODULE_STATE_UNFORMED = 0;
export const MODULE_STATE_LIVE = 1;
export const MODULE_STATE_COMING = 2;
export const MODULE_STATE_GOING = 3;
export const MODULE_STATE_GONE = 4;

/** The loaded (or loading/unloading) instance of a module, or 0. */
export function find_module(k: Kernel, name: string): Module {
  const h = k.intern(name);
  return k.findBy(module, 'name', h, (m) => k.get(m, 'state') !== MODULE_STATE_GONE);
}

/** insmod: allocate the module, run its init; a failing init leaves nothing loaded. */
export function* load_module(k: Kernel, name: string, init: (mod: Module) => Gen<number>): Gen<number> {
  yield `load_module:${name}`;
  if (find_module(k, name) !== 0) return -EEXIST;
  const mod = k.alloc(module, `load_module:${name}`);
  k.set(mod, 'name', k.intern(name));
  k.set(mod, 'state', MODULE_STATE_COMING);
  const ret = yield* init(mod);
  k.set(mod, 'state', ret === 0 ? MODULE_STATE_LIVE : MODULE_STATE_GONE);
  // do_init_module: a failing init is followed by free_module.
  if (ret !== 0) k.unmapStatic(mod);
  return ret;
}

/** rmmod: refused while pinned; otherwise run exit and free the module's text and data. */
export function* delete_module(k: Kernel, name: string, exit: (mod: Module) => Gen): Gen<number> {
  yield `delete_module:${name}`;
  const mod = find_module(k, name);
  if (mod === 0 || k.get(mod, 'state') !== MODULE_STATE_LIVE) return -ENOENT;
  if (k.get(mod, 'refcnt') !== 0) return -EBUSY;
  k.set(mod, 'state', MODULE_STATE_GOING);
  yield* exit(mod);
  yield `delete_module:free_module`;
  k.set(mod, 'state', MODULE_STATE_GONE);
  k.unmapStatic(mod);
  return 0;
}

/**
 * try_module_get (kernel/module.c 1114-1130 v5.0.1): fails only once the module is going
 * (module_is_live is state != MODULE_STATE_GOING, include/linux/module.h 505-508), so a module still
 * in its init can be pinned.
 */
export function* try_module_get(k: Kernel, mod: Module): Gen<boolean> {
  yield k.at('try_module_get');
  if (mod === 0) return true;
  const state = k.get(mod, 'state');
  if (state !== MODULE_STATE_LIVE && state !== MODULE_STATE_COMING) return false;
  Atomics.add(k.mem, k.addr(mod, 'refcnt'), 1);
  return true;
}

export function* module_put(k: Kernel, mod: Module): Gen {
  yield k.at('module_put');
  if (mod === 0) return;
  const old = Atomics.sub(k.mem, k.addr(mod, 'refcnt'), 1);
  if (old <= 0) k.warn('refcount', `refcount_t: underflow; use-after-free in ${k.fn()}`, ['module refcnt']);
}

/** Check before executing code or reading static data of `mod` (e.g. an ops table). */
export function module_text(k: Kernel, mod: Module, what: string): void {
  if (mod !== 0 && k.get(mod, 'state') === MODULE_STATE_GONE) {
    k.oops('unloaded-module', `BUG: unable to handle page fault in ${k.fn()}`, [
      `${k.fn()} calls ${what} in module ${k.siteName(k.get(mod, 'name'))}, which has been unloaded`,
    ]);
  }
}

/**
 * A static object of `mod` (a global of its .data/.bss), zeroed at load: live until free_module,
 * then unmapped. Its release (if it is a struct device) must do nothing to its memory.
 */
export function module_static<F extends string>(k: Kernel, def: StructDef<F>, mod: Module, site: string): Ref<F> {
  return k.allocStatic(def, site, mod);
}

/**
 * The static data of a module, for its code (whose text names its globals by address): `mod`'s
 * when the caller has the module, else the newest load's. After free_module the slot is unmapped,
 * so code of the module still running then faults on its own data. The model's one simplification:
 * code of an old load running while a newer load is live would reach the newer load's data.
 */
export function module_static_data<F extends string>(k: Kernel, def: StructDef<F>, mod?: Module): Ref<F> {
  const data = k.staticOf(def, mod);
  if (data === 0) k.oops('unloaded-module', `BUG: unable to handle page fault in ${k.fn()}`, [`${k.fn()}: no ${def.name} mapped`]);
  return data;
}

/**
 * The static data of a module kept as a heap slot that its exit frees (the v6 vendors' model), for
 * code of that module: code still running after unload faults on its own text and data.
 */
export function module_data<F extends string>(k: Kernel, def: StructDef<F>, match: (ref: Ref<F>) => boolean = () => true): Ref<F> {
  const data = k.find(def, match);
  if (data === 0) {
    k.oops('unloaded-module', `BUG: unable to handle page fault in ${k.fn()}`, [`${k.fn()} runs after its module was unloaded (its ${def.name} is gone)`]);
  }
  return data;
}
