// mdev_get_drvdata / mdev_set_drvdata: a plain load and store of mdev->driver_data, with no lock,
// so each is a preemption point.

import type { Gen, Kernel } from '../../../harness/kernel/kernel.js';
import type { Ref } from '../../../harness/kernel/layout.js';
import type { MdevDevice } from '../legacy/structs.js';

export function* mdev_get_drvdata<R extends Ref>(k: Kernel, mdev: MdevDevice): Gen<R> {
  yield k.at('mdev_get_drvdata');
  return k.get(mdev, 'driver_data') as R;
}

export function* mdev_set_drvdata(k: Kernel, mdev: MdevDevice, data: number): Gen {
  yield k.at('mdev_set_drvdata');
  k.set(mdev, 'driver_data', data);
}
