// What user processes do to an mdev core, whatever its version: write a UUID to a type's
// "create", 1 to a device's "remove", open the device through VFIO, ioctl and close the fd, read a
// vendor attribute, insmod and rmmod. Each CPU is a process with its own fd table; its fds are
// closed when it exits. The same operations and argument domains serve every version, so one
// seed draws the same programs for all of them.

import type { Gen, Kernel } from '../../harness/kernel/kernel.js';
import { EBADF, EINVAL, ENOENT, kernfs_find, sysfs_read, sysfs_write, type KernfsNode } from '../../harness/kernel/kernfs.js';
import { delete_module, load_module, type Module } from '../../harness/kernel/module.js';
import type { Focus, OpSpec } from '../../harness/target.js';
import type { Rng } from '../../harness/rng.js';
import { memoize } from '../../harness/text.js';
import type { Op } from '../../harness/types.js';
import { uuid_name } from './legacy/base.js';
import { mdev_device, task, TASK_FDS, type File, type MdevDevice, type Task } from './legacy/structs.js';

export const EMFILE = 24;

export const TYPES = ['mtty-1', 'mtty-2', 'vfio_ap-passthrough', 'mlx5_core-sf'] as const;
export const UUIDS = [0, 1] as const;
export const FDS = [0, 1] as const;
/** Modules a program may load or unload (vfio_mdev, where it exists, stays). */
export const PROGRAM_MODULES = ['mlx5_sf', 'mtty', 'vfio_ap', 'mlx5_core'] as const;

export const MDEV_OPS: readonly OpSpec[] = [
  { name: 'create', weight: 5, args: { type: TYPES, uuid: UUIDS } },
  { name: 'remove', weight: 4, args: { uuid: UUIDS }, after: 'create' },
  { name: 'open', weight: 4, args: { uuid: UUIDS }, after: 'create' },
  { name: 'ioctl', weight: 3, args: { fd: FDS }, after: 'open' },
  { name: 'close', weight: 1, args: { fd: FDS } },
  { name: 'read_attr', weight: 2, args: { uuid: UUIDS } },
  { name: 'insmod', weight: 1, args: { module: PROGRAM_MODULES } },
  { name: 'rmmod', weight: 2, args: { module: PROGRAM_MODULES } },
];

/**
 * A program's focus (Target.focus): one device and the type, vendor module and fd it goes with, so
 * that a program's creates, opens, ioctls, removes and rmmods meet on one device and one vendor.
 */
export function mdevFocus(rng: Rng, startFocus?: StartFocus): Focus {
  // Drawn even when the start state fixes it, so that the rest of the program draws as from boot.
  const drawn = rng.pick(TYPES);
  const type = startFocus?.type ?? drawn;
  return { type, uuid: rng.pick(UUIDS), fd: FDS[0], module: vendorModule(type) };
}

/** What a start state was set up for: the device type its programs focus on. */
export interface StartFocus {
  type: (typeof TYPES)[number];
}

/** The module of a type's vendor: the type name's prefix ("mtty" of "mtty-1"). */
export const vendorModule = (type: string): string => type.split('-')[0]!;

/** A loadable module: init and exit receive the version's core API. */
export interface ModuleSpec<C> {
  name: string;
  init(k: Kernel, core: C, mod: Module): Gen<number>;
  exit(k: Kernel, core: C, mod: Module): Gen;
}

/**
 * A start state: its name and the modules loaded, in order, before the program runs; and, for a
 * state that exists for one vendor's devices, its programs' focus (their type takes the focus's).
 */
export interface StartState<C> {
  name: string;
  modules: readonly ModuleSpec<C>[];
  focus?: StartFocus;
}

export const DEFAULT_START = 'boot';

/** A call that fails at once, without a step. */
function* returns(ret: number): Gen<number> {
  return ret;
}

/** The version-specific half of userspace: the kernel entry points the operations reach. */
export interface Platform<C> {
  core: C;
  /** Every module a program may load or unload, in teardown order. */
  modules: readonly ModuleSpec<C>[];
  /** Loaded at boot, in order: the default start state, "boot". */
  boot: readonly ModuleSpec<C>[];
  /**
   * The other start states: the modules loaded before the program runs, in order. The modules a
   * start state leaves out are loaded by the program's insmods, if at all, so that their first
   * registrations race with each other as they do at boot.
   */
  starts?: readonly StartState<C>[];
  /** Parent device names by type prefix ("mtty" in "mtty-1"). */
  parents: readonly { driver: string; dev: string }[];
  create_store(k: Kernel, node: KernfsNode, uuid: number): Gen<number>;
  remove_store(k: Kernel, node: KernfsNode): Gen<number>;
  /** VFIO_GROUP_GET_DEVICE_FD: a file, or a negative errno. */
  open(k: Kernel, uuid: number): Gen<number>;
  ioctl(k: Kernel, f: File): Gen<number>;
  release(k: Kernel, f: File): Gen<number>;
  /** The vendor attribute of a device and its show(), when it has one. */
  attr(k: Kernel, mdev: MdevDevice): { name: string; show(): Gen<number> } | null;
}

export interface Userspace {
  run(k: Kernel, op: Op): Gen<number>;
  exitCpu(k: Kernel): Gen;
  /** The start states by name, the default ("boot") first. */
  startStates: readonly string[];
  /** A program's focus, from its start state (undefined: the default). */
  focus(rng: Rng, start?: string): Focus;
  /** Loads the modules of a start state (undefined: the default). */
  boot(k: Kernel, start?: string): Gen;
  teardown(k: Kernel): Gen;
}

function current_task(k: Kernel): Task {
  return k.nth(task, k.cpu);
}

export function makeUserspace<C>(p: Platform<C>): Userspace {
  const parent_dev_of_type = (type: string): string => p.parents.find((x) => type.startsWith(`${x.driver}-`))?.dev ?? 'none';

  /** Where a device directory may be, below each parent; the sysfs paths below are built once each. */
  const device_dirs = memoize((uuid: number) => p.parents.map((x) => `devices/${x.dev}/${uuid_name(uuid)}`));
  const create_path = memoize((type: string) => `devices/${parent_dev_of_type(type)}/mdev_supported_types/${type}/create`);
  const remove_path = memoize((dir: string) => `${dir}/remove`);
  const attr_path = memoize((dir: string) => memoize((name: string) => `${dir}/vendor/${name}`));

  /** /sys/bus/mdev/devices/<uuid>: the device directory, wherever its parent is. */
  function mdev_dir(k: Kernel, uuid: number): string | undefined {
    for (const path of device_dirs(uuid)) if (kernfs_find(k, path) !== 0) return path;
    return undefined;
  }

  // insmod, rmmod and run hand back the generator of the call they make rather than delegate to it
  // from one of their own: every step of a CPU resumes each generator on its stack.
  function insmod(k: Kernel, def: ModuleSpec<C>): Gen<number> {
    return load_module(k, def.name, (mod) => def.init(k, p.core, mod));
  }

  function rmmod(k: Kernel, def: ModuleSpec<C>): Gen<number> {
    return delete_module(k, def.name, (mod) => def.exit(k, p.core, mod));
  }

  function* close(k: Kernel, fd: number): Gen<number> {
    const t = current_task(k);
    const slot = TASK_FDS[fd]!;
    const f = k.get(t, slot) as File;
    if (f === 0) return -EBADF;
    k.set(t, slot, 0);
    return yield* p.release(k, f);
  }

  function* open(k: Kernel, uuid: number): Gen<number> {
    const t = current_task(k);
    const slot = TASK_FDS.findIndex((s) => k.get(t, s) === 0);
    if (slot < 0) return -EMFILE;
    const f = yield* p.open(k, uuid);
    if (f < 0) return f;
    k.set(t, TASK_FDS[slot]!, f);
    return slot;
  }

  /** cat <device>/vendor/<attr>: the show runs on the device that owns the file (container_of). */
  function* read_attr(k: Kernel, uuid: number): Gen<number> {
    const dir = mdev_dir(k, uuid);
    const named = k.findBy(mdev_device, 'uuid', uuid, (m) => k.get(m, 'dev_groups_kn') !== 0);
    const name = dir !== undefined && named !== 0 ? p.attr(k, named)?.name : undefined;
    if (name === undefined) return -ENOENT;
    return yield* sysfs_read(k, attr_path(dir!)(name), function* (node) {
      const group = k.get(node, 'parent');
      const mdev = k.findBy(mdev_device, 'dev_groups_kn', group);
      const attr = mdev === 0 ? null : p.attr(k, mdev);
      return attr ? yield* attr.show() : -ENOENT;
    });
  }

  /** The operation's system call, begun when it takes its first step (as a generator would begin it). */
  function run(k: Kernel, op: Op): Gen<number> {
    const a = op.args;
    switch (op.op) {
      case 'create': {
        const type = String(a.type);
        return sysfs_write(k, create_path(type), (node) => p.create_store(k, node, Number(a.uuid)));
      }
      case 'remove':
        return remove(k, Number(a.uuid));
      case 'open':
        return open(k, Number(a.uuid));
      case 'ioctl':
        return ioctl(k, Number(a.fd));
      case 'close':
        return close(k, Number(a.fd));
      case 'read_attr':
        return read_attr(k, Number(a.uuid));
      case 'insmod':
      case 'rmmod': {
        const def = p.modules.find((m) => m.name === a.module);
        if (!def) return returns(-ENOENT);
        return op.op === 'insmod' ? insmod(k, def) : rmmod(k, def);
      }
      default:
        return returns(-EINVAL);
    }
  }

  function* remove(k: Kernel, uuid: number): Gen<number> {
    const dir = mdev_dir(k, uuid);
    if (!dir) return -ENOENT;
    return yield* sysfs_write(k, remove_path(dir), (node) => p.remove_store(k, node));
  }

  function* ioctl(k: Kernel, fd: number): Gen<number> {
    const f = k.get(current_task(k), TASK_FDS[fd]!) as File;
    return f === 0 ? -EBADF : yield* p.ioctl(k, f);
  }

  function* exitCpu(k: Kernel): Gen {
    for (let fd = 0; fd < TASK_FDS.length; fd++) if (k.get(current_task(k), TASK_FDS[fd]!) !== 0) yield* close(k, fd);
  }

  const starts: readonly StartState<C>[] = [{ name: DEFAULT_START, modules: p.boot }, ...(p.starts ?? [])];

  function* boot(k: Kernel, start?: string): Gen {
    const state = starts.find((s) => s.name === (start ?? DEFAULT_START));
    if (!state) throw new Error(`no start state ${start}`);
    for (const def of state.modules) {
      const ret = yield* insmod(k, def);
      if (ret !== 0) throw new Error(`boot: insmod ${def.name} failed with ${ret}`);
    }
  }

  function* teardown(k: Kernel): Gen {
    for (const def of p.modules) yield* rmmod(k, def);
  }

  const focus = (rng: Rng, start?: string): Focus => mdevFocus(rng, starts.find((s) => s.name === start)?.focus);

  return { run, exitCpu, startStates: starts.map((s) => s.name), focus, boot, teardown };
}
