// The vendor modules' tables, found from the module a parent was registered with: parent->ops is
// static data of the vendor module, so reading it checks that the module is still loaded.

import type { Kernel } from '../../../harness/kernel/kernel.js';
import { module_text, type Module } from '../../../harness/kernel/module.js';
import { mlx5_core } from '../vendors/mlx5.js';
import { mtty } from '../vendors/mtty.js';
import { vfio_ap } from '../vendors/vfio_ap.js';
import type { ModuleDef, ParentOps } from './ops.js';
import type { MdevParent } from './structs.js';

export const VENDORS: readonly ModuleDef[] = [mtty, vfio_ap, mlx5_core];

/** parent->ops: the ops table in the vendor module's text. */
export function parent_ops(k: Kernel, parent: MdevParent): ParentOps {
  const mod = k.get(parent, 'ops') as Module;
  module_text(k, mod, 'parent->ops');
  const name = k.siteName(k.get(mod, 'name'));
  const ops = VENDORS.find((v) => v.name === name)?.parent_ops;
  if (!ops) throw new Error(`no mdev_parent_ops in module ${name}`);
  return ops;
}
