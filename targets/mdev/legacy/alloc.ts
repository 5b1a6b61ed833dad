// kzalloc and kfree as preemption points; kzalloc is a fallible call for fault injection.

import { callStep, type Gen, type Kernel } from '../../../harness/kernel/kernel.js';
import type { Ref, StructDef } from '../../../harness/kernel/layout.js';

/** kzalloc: NULL when fault injection fails this occurrence of kmalloc. */
export function* kzalloc<F extends string>(k: Kernel, def: StructDef<F>): Gen<Ref<F>> {
  const label = k.at(callStep('kzalloc', def.name));
  yield label;
  if (k.shouldFail('kmalloc')) return 0 as Ref<F>;
  return k.alloc(def, label);
}

export function* kfree(k: Kernel, ref: Ref): Gen {
  const label = k.at('kfree');
  yield label;
  if (ref !== 0) k.free(ref, label);
}
