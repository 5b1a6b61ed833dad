// Module memory as kernel/module/main.c 6.1-rc7 has it: delete_module runs mod->exit() (753) and
// only then free_module (765, 1149), which unmaps the module's text and static data. Static data is
// not a slab object: before free_module every access is valid, after it every access is
// `BUG: unable to handle page fault` (never KASAN). The model allocates a module's static objects
// in pools of their own with `owner` set and never kfrees them; every v6 access to an object that
// may be static goes through these helpers, which fault once the owner is gone (its state is GONE
// exactly from free_module on, harness/kernel/module.ts).
// v6-local: to be folded into harness/kernel/module.ts.

import type { Kernel } from '../../../harness/kernel/kernel.js';
import type { Ref, StructDef } from '../../../harness/kernel/layout.js';
import { MODULE_STATE_GONE, type Module } from '../../../harness/kernel/module.js';

/** Allocate a static object of `mod` (its .data/.bss, zeroed as at load). */
export function module_static(k: Kernel, def: StructDef, mod: Module): Ref {
  const ref = k.alloc(def, k.at(`static:${k.siteName(k.get(mod, 'name'))}`)) as Ref<'owner'>;
  k.set(ref, 'owner', mod);
  return ref;
}

/** Before touching `ref`: a page fault if it is static data of a module already freed. */
export function touch<F extends string>(k: Kernel, ref: Ref<F>, what: string): void {
  if (ref === 0 || !k.isLive(ref)) return; // NULL or slab: the access itself reports it
  const def = k.structOf(ref);
  if (!def?.index.has('owner')) return;
  const owner = k.get(ref as Ref<'owner'>, 'owner') as Module;
  if (owner !== 0 && k.get(owner, 'state') === MODULE_STATE_GONE) {
    k.oops('unloaded-module', `BUG: unable to handle page fault in ${k.fn()}`, [
      `${k.fn()} accesses ${what} (${def.name}), static data of module ${k.siteName(k.get(owner, 'name'))}, after free_module (kernel/module/main.c 765)`,
    ]);
  }
}

/** k.get of a possibly static object. */
export function sget<F extends string>(k: Kernel, ref: Ref<F>, field: F): number {
  touch(k, ref, field);
  return k.get(ref, field);
}

export function sset<F extends string>(k: Kernel, ref: Ref<F>, field: F, v: number): void {
  touch(k, ref, field);
  k.set(ref, field, v);
}
