// The mlx5-like vendor of mdev-v6: ours, no such driver exists in 6.1. It follows the driver core's
// rules as mtty does: its parent device, struct mdev_parent, type and mdev_driver are static module
// data registered at init and torn down at exit in reverse; its probe builds the sub-function's
// state and sets drvdata last; remove reads drvdata and frees what probe built (the driver core
// clears drvdata after remove, dd.c __device_release_driver). No get_available, so the core
// counts instances.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { ENOMEM } from '../../../../harness/kernel/kernfs.js';
import { module_static, type Module } from '../../../../harness/kernel/module.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import { register_driver_code } from '../../legacy/base.js';
import { mlx5_sf, type MdevDevice, type Mlx5Sf } from '../../legacy/structs.js';
import { device_register, device_unregister } from '../../v6/driver_core.js';
import type { CoreV6 } from '../../v6/mdev_core.js';
import type { MdevDriverV6 } from '../../v6/mdev_driver.js';
import { device_v6, type DeviceV6, type DriverV6, type ParentV6 } from '../../v6/structs.js';
import { MLX5_PARENT } from '../mlx5.js';
import { new_static, set_types, static_parent, vendor_static, type ModernModule } from './common.js';

const MLX5_MAX_SF = 4;

const mlx5_sf_probe = kfn('mlx5_sf_probe', function* (k: Kernel, mdev: MdevDevice) {
  const sf: Mlx5Sf = yield* kzalloc(k, mlx5_sf);
  if (sf === 0) return -ENOMEM;
  k.set(sf, 'mdev', mdev);
  k.set(sf, 'hw_id', 1 + k.get(mdev, 'uuid'));
  yield k.at('sf->hw_id');
  k.set(sf, 'netdev', k.get(sf, 'hw_id'));
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', sf);
  return 0;
});

const mlx5_sf_remove = kfn('mlx5_sf_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const sf = k.get(mdev, 'dev_drvdata') as Mlx5Sf;
  k.set(sf, 'netdev', 0);
  yield* kfree(k, sf);
  k.set(mdev, 'dev_drvdata', 0);
});

const mlx5_sf_driver: MdevDriverV6 = register_driver_code({ name: 'mlx5_sf', probe: mlx5_sf_probe, remove: mlx5_sf_remove });

const mlx5_core_init = kfn('mlx5_core_init', function* (k: Kernel, core: CoreV6, mod: Module) {
  const data = new_static(k, mod);
  const { drv, parent, types } = static_parent(k, mod, ['sf'], [0]);
  const dev = module_static(k, device_v6, mod, k.at('static')) as DeviceV6;
  k.set(data, 'driver', drv);
  k.set(data, 'parent', parent);
  k.set(data, 'dev', dev);
  let ret = yield* core.mdev_register_driver(k, drv, mlx5_sf_driver, mod);
  if (ret !== 0) return ret;
  ret = yield* device_register(k, dev, MLX5_PARENT);
  if (ret === 0) {
    set_types(k, parent, types);
    ret = yield* core.mdev_register_parent(k, parent, dev, drv, 'mlx5_core', MLX5_MAX_SF);
    if (ret === 0) return 0;
    yield* device_unregister(k, dev);
  }
  yield* core.mdev_unregister_driver(k, drv);
  return ret;
});

const mlx5_core_exit = kfn('mlx5_core_exit', function* (k: Kernel, core: CoreV6, mod: Module) {
  const data = vendor_static(k, mod);
  yield* core.mdev_unregister_parent(k, k.get(data, 'parent') as ParentV6);
  yield* device_unregister(k, k.get(data, 'dev') as DeviceV6);
  yield* core.mdev_unregister_driver(k, k.get(data, 'driver') as DriverV6);
});

export const mlx5_core_v6: ModernModule = {
  name: 'mlx5_core',
  driver_name: 'mlx5_core',
  parent_dev: MLX5_PARENT,
  driver: mlx5_sf_driver,
  init: mlx5_core_init,
  exit: mlx5_core_exit,
};
