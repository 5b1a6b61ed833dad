// What user processes do to the legacy cores: write UUIDs to "create", 1 to "remove", open the
// device through VFIO, ioctl and close the fd, read a vendor attribute, insmod and rmmod. Each CPU
// is a process with its own fd table; its fds are closed when it exits.

import type { Gen, Kernel } from '../../../harness/kernel/kernel.js';
import { EBADF, EINVAL, ENOENT, kernfs_find, sysfs_read, sysfs_write, type KernfsNode } from '../../../harness/kernel/kernfs.js';
import { delete_module, load_module } from '../../../harness/kernel/module.js';
import type { OpSpec } from '../../../harness/target.js';
import type { Op } from '../../../harness/types.js';
import { uuid_name } from './base.js';
import type { MdevCore, ModuleDef, Store } from './ops.js';
import { parent_ops, VENDORS } from './registry.js';
import { mdev_device, task, TASK_FDS, type File, type MdevDevice, type MdevParent, type Task } from './structs.js';
import { vfio_device_fops_release, vfio_device_fops_unl_ioctl, vfio_group_get_device_fd } from './vfio.js';
import { vfio_mdev } from './vfio.js';
import { mlx5_sf } from '../vendors/mlx5.js';

export const EMFILE = 24;

/** Every module a program may load or unload, in teardown order (bus drivers first). */
export const MODULES: readonly ModuleDef[] = [mlx5_sf, ...VENDORS, vfio_mdev];
/** Loaded at boot; mlx5_sf is left for programs to load. */
export const BOOT_MODULES: readonly ModuleDef[] = [vfio_mdev, ...VENDORS];

export const TYPES = ['mtty-1', 'mtty-2', 'vfio_ap-passthrough', 'mlx5_core-sf'] as const;
export const UUIDS = [0, 1] as const;
export const FDS = [0, 1] as const;

export const LEGACY_OPS: readonly OpSpec[] = [
  { name: 'create', weight: 5, args: { type: TYPES, uuid: UUIDS } },
  { name: 'remove', weight: 4, args: { uuid: UUIDS } },
  { name: 'open', weight: 4, args: { uuid: UUIDS } },
  { name: 'ioctl', weight: 3, args: { fd: FDS } },
  { name: 'close', weight: 1, args: { fd: FDS } },
  { name: 'read_attr', weight: 2, args: { uuid: UUIDS } },
  { name: 'insmod', weight: 1, args: { module: MODULES.map((m) => m.name).filter((n) => n !== 'vfio_mdev') } },
  { name: 'rmmod', weight: 2, args: { module: MODULES.map((m) => m.name).filter((n) => n !== 'vfio_mdev') } },
];

function parent_dev_of_type(type: string): string {
  const v = VENDORS.find((m) => type.startsWith(`${m.driver_name}-`));
  return v?.parent_dev ?? 'none';
}

/** /sys/bus/mdev/devices/<uuid>: the device directory, wherever its parent is. */
function mdev_dir(k: Kernel, uuid: number): string | undefined {
  for (const v of VENDORS) {
    const path = `devices/${v.parent_dev}/${uuid_name(uuid)}`;
    if (kernfs_find(k, path) !== 0) return path;
  }
  return undefined;
}

function current_task(k: Kernel): Task {
  return k.nth(task, k.cpu);
}

export interface Stores {
  create_store(k: Kernel, node: KernfsNode, uuid: number): Gen<number>;
  remove_store: Store;
}

export interface Userspace {
  run(k: Kernel, op: Op): Gen<number>;
  exitCpu(k: Kernel): Gen;
  boot(k: Kernel): Gen;
  teardown(k: Kernel): Gen;
}

export function userspace(core: MdevCore, stores: Stores): Userspace {
  function* insmod(k: Kernel, def: ModuleDef): Gen<number> {
    return yield* load_module(k, def.name, (mod) => def.init(k, core, mod));
  }

  function* rmmod(k: Kernel, def: ModuleDef): Gen<number> {
    return yield* delete_module(k, def.name, (mod) => def.exit(k, core, mod));
  }

  function* close(k: Kernel, fd: number): Gen<number> {
    const t = current_task(k);
    const slot = TASK_FDS[fd]!;
    const f = k.get(t, slot) as File;
    if (f === 0) return -EBADF;
    k.set(t, slot, 0);
    return yield* vfio_device_fops_release(k, f);
  }

  function* run(k: Kernel, op: Op): Gen<number> {
    const a = op.args;
    switch (op.op) {
      case 'create': {
        const type = String(a.type);
        const path = `devices/${parent_dev_of_type(type)}/mdev_supported_types/${type}/create`;
        return yield* sysfs_write(k, path, (node) => stores.create_store(k, node, Number(a.uuid)));
      }
      case 'remove': {
        const dir = mdev_dir(k, Number(a.uuid));
        if (!dir) return -ENOENT;
        return yield* sysfs_write(k, `${dir}/remove`, (node) => stores.remove_store(k, node));
      }
      case 'open': {
        const t = current_task(k);
        const slot = TASK_FDS.findIndex((s) => k.get(t, s) === 0);
        if (slot < 0) return -EMFILE;
        const f = yield* vfio_group_get_device_fd(k, Number(a.uuid));
        if (f < 0) return f;
        k.set(t, TASK_FDS[slot]!, f);
        return slot;
      }
      case 'ioctl': {
        const f = k.get(current_task(k), TASK_FDS[Number(a.fd)]!) as File;
        if (f === 0) return -EBADF;
        return yield* vfio_device_fops_unl_ioctl(k, f);
      }
      case 'close':
        return yield* close(k, Number(a.fd));
      case 'read_attr': {
        const dir = mdev_dir(k, Number(a.uuid));
        if (!dir) return -ENOENT;
        const mdev = k.live(mdev_device).find((m) => k.get(m, 'uuid') === Number(a.uuid) && k.get(m, 'dev_groups_kn') !== 0);
        if (!mdev) return -ENOENT;
        const parent = k.get(mdev, 'parent') as MdevParent;
        const ops = parent_ops(k, parent);
        const attr = ops.mdev_attr_groups[0];
        if (!attr || !ops.show) return -ENOENT;
        return yield* sysfs_read(k, `${dir}/vendor/${attr}`, () => parent_ops(k, parent).show!(k, mdev as MdevDevice, attr));
      }
      case 'insmod':
      case 'rmmod': {
        const def = MODULES.find((m) => m.name === a.module);
        if (!def) return -ENOENT;
        return op.op === 'insmod' ? yield* insmod(k, def) : yield* rmmod(k, def);
      }
      default:
        return -EINVAL;
    }
  }

  function* exitCpu(k: Kernel): Gen {
    for (let fd = 0; fd < TASK_FDS.length; fd++) if (k.get(current_task(k), TASK_FDS[fd]!) !== 0) yield* close(k, fd);
  }

  function* boot(k: Kernel): Gen {
    for (const def of BOOT_MODULES) {
      const ret = yield* insmod(k, def);
      if (ret !== 0) throw new Error(`boot: insmod ${def.name} failed with ${ret}`);
    }
  }

  function* teardown(k: Kernel): Gen {
    for (const def of MODULES) yield* rmmod(k, def);
  }

  return { run, exitCpu, boot, teardown };
}
