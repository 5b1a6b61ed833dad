// The mlx5-like vendor as of v6.x: its sub-function driver is the mdev driver of its own parent,
// so the state its probe needs is built at the start of that probe.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { ENOMEM } from '../../../../harness/kernel/kernfs.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import type { MdevDriver } from '../../legacy/ops.js';
import { mlx5_sf, type MdevDevice, type Mlx5Sf } from '../../legacy/structs.js';
import { MLX5_PARENT } from '../mlx5.js';
import { modernModule } from './common.js';
import { register_driver_code } from '../../legacy/base.js';

const mlx5_sf_probe = kfn('mlx5_sf_probe', function* (k: Kernel, mdev: MdevDevice) {
  const sf: Mlx5Sf = yield* kzalloc(k, mlx5_sf);
  if (sf === 0) return -ENOMEM;
  k.set(sf, 'mdev', mdev);
  k.set(sf, 'hw_id', 1 + k.get(mdev, 'uuid'));
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', sf);
  yield k.at('sf->hw_id');
  k.set(sf, 'netdev', k.get(sf, 'hw_id'));
  return 0;
});

const mlx5_sf_remove = kfn('mlx5_sf_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const sf = k.get(mdev, 'dev_drvdata') as Mlx5Sf;
  k.set(sf, 'netdev', 0);
  yield* kfree(k, sf);
});

const mlx5_sf_driver: MdevDriver = register_driver_code({ name: 'mlx5_sf', match: () => false, probe: mlx5_sf_probe, remove: mlx5_sf_remove });

export const mlx5_core_v6 = modernModule({
  name: 'mlx5_core',
  parent_dev: MLX5_PARENT,
  types: ['sf'],
  max_instances: 4,
  driver: mlx5_sf_driver,
});
