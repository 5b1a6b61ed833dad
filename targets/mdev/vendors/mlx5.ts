// An mlx5-like vendor with sub-functions, as Parav's series motivated: mlx5_core registers an mdev
// parent whose create allocates the sub-function state, and mlx5_sf is a second mdev bus driver
// whose probe reads that state. The v5.0/v5.2 mdev bus has no .match, so an mdev binds to the
// first registered driver whose probe succeeds: mlx5_sf when its module was loaded before vfio_mdev
// (or vfio_mdev is not loaded), vfio_mdev otherwise, for mlx5 sub-functions and mtty's alike. Hypothetical:
// no such driver exists in v5.0.1 or v5.2.1; it follows the driver core's rules (static driver and
// module data, teardown of what its own load registered).

import { kfn, type Kernel } from '../../../harness/kernel/kernel.js';
import { EINVAL, ENODEV, ENOMEM } from '../../../harness/kernel/kernfs.js';
import { module_static, module_static_data, type Module } from '../../../harness/kernel/module.js';
import { kfree, kzalloc } from '../legacy/alloc.js';
import { parent_device_register, parent_device_unregister, register_driver_code } from '../legacy/base.js';
import type { MdevCore, MdevDriver, ModuleDef, ParentOps } from '../legacy/ops.js';
import { device_driver, mlx5_statics, mlx5_sf as mlx5_sf_state, type Device, type DeviceDriver, type MdevDevice, type MdevType, type Mlx5Sf } from '../legacy/structs.js';
import { mdev_get_drvdata, mdev_set_drvdata } from './drvdata.js';

export const MLX5_PARENT = '0000:06:00.0';

/** The PCI function this load registered, kept in the module's static data (no lookup by name). */
function pci_dev(k: Kernel, mod: Module): Device {
  return k.get(module_static_data(k, mlx5_statics, mod), 'pdev') as Device;
}

const mlx5_sf_create = kfn('mlx5_sf_create', function* (k: Kernel, _kobj: MdevType, mdev: MdevDevice) {
  const sf: Mlx5Sf = yield* kzalloc(k, mlx5_sf_state);
  if (sf === 0) return -ENOMEM;
  k.set(sf, 'mdev', mdev);
  k.set(sf, 'hw_id', 1 + k.get(mdev, 'uuid'));
  yield* mdev_set_drvdata(k, mdev, sf);
  return 0;
});

const mlx5_sf_destroy = kfn('mlx5_sf_destroy', function* (k: Kernel, mdev: MdevDevice) {
  const sf = yield* mdev_get_drvdata<Mlx5Sf>(k, mdev);
  if (sf === 0) return -EINVAL;
  yield* mdev_set_drvdata(k, mdev, 0);
  yield* kfree(k, sf);
  return 0;
});

export const mlx5_parent_ops: ParentOps = {
  supported_type_groups: ['sf'],
  mdev_attr_groups: [],
  create: mlx5_sf_create,
  remove: mlx5_sf_destroy,
};

const mlx5_core_init = kfn('mlx5_core_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  const statics = module_static(k, mlx5_statics, mod, k.at('static'));
  const dev = yield* parent_device_register(k, MLX5_PARENT);
  k.set(statics, 'pdev', dev);
  const ret = yield* core.mdev_register_device(k, dev, mod);
  if (ret !== 0) yield* parent_device_unregister(k, dev);
  return ret;
});

const mlx5_core_cleanup = kfn('mlx5_core_cleanup', function* (k: Kernel, core: MdevCore, mod: Module) {
  const dev = pci_dev(k, mod);
  yield* core.mdev_unregister_device(k, dev);
  yield* parent_device_unregister(k, dev);
});

export const mlx5_core: ModuleDef = {
  name: 'mlx5_core',
  init: mlx5_core_init,
  exit: mlx5_core_cleanup,
  parent_ops: mlx5_parent_ops,
  driver_name: 'mlx5_core',
  parent_dev: MLX5_PARENT,
};

// ---- mlx5_sf: the sub-function bus driver ----

/**
 * probe: bring up the sub-function's netdev from its vendor state. The bus has no .match, so every
 * mdev is offered to this driver: it rejects one whose parent is not an mlx5 function with -ENODEV,
 * and really_probe ignores the error so that the next registered driver can try (dd.c 567-582 of v5.0.1).
 */
const mlx5_sf_probe = kfn('mlx5_sf_probe', function* (k: Kernel, mdev: MdevDevice) {
  const parent = k.get(mdev, 'dev_parent') as Device;
  if (k.get(parent, 'name') !== k.intern(MLX5_PARENT)) return -ENODEV;
  const sf = yield* mdev_get_drvdata<Mlx5Sf>(k, mdev);
  yield k.at('sf->hw_id');
  const hw_id = k.get(sf, 'hw_id');
  k.set(sf, 'netdev', hw_id);
  return 0;
});

const mlx5_sf_remove = kfn('mlx5_sf_remove', function* (k: Kernel, mdev: MdevDevice) {
  const sf = yield* mdev_get_drvdata<Mlx5Sf>(k, mdev);
  yield k.at('sf->netdev');
  k.set(sf, 'netdev', 0);
});

export const mlx5_sf_driver: MdevDriver = register_driver_code({
  name: 'mlx5_sf',
  probe: mlx5_sf_probe,
  remove: mlx5_sf_remove,
});

const mlx5_sf_init = kfn('mlx5_sf_init', function* (k: Kernel, core: MdevCore, mod: Module) {
  yield* core.mdev_register_driver(k, mlx5_sf_driver, mod);
  return 0;
});

const mlx5_sf_exit = kfn('mlx5_sf_exit', function* (k: Kernel, core: MdevCore, mod: Module) {
  const h = k.intern(mlx5_sf_driver.name);
  const drv = k.live(device_driver).find((d) => k.get(d, 'name') === h && k.get(d, 'owner') === mod) as DeviceDriver;
  yield* core.mdev_unregister_driver(k, drv);
});

export const mlx5_sf: ModuleDef = {
  name: 'mlx5_sf',
  init: mlx5_sf_init,
  exit: mlx5_sf_exit,
  mdev_driver: mlx5_sf_driver,
};
