// samples/vfio-mdev/mtty.c as of v6.x: the vendor is the mdev driver. probe allocates the
// vfio_device with the state around it (ports reserved atomically, -ENOSPC when short) and
// registers it, which makes it openable; remove unregisters (waiting for the last close) and puts
// it, and the release of the vfio_device frees the state.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { ENOMEM, ENOSPC } from '../../../../harness/kernel/kernfs.js';
import { find_module } from '../../../../harness/kernel/module.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import type { MdevDriver } from '../../legacy/ops.js';
import { mdev_state, mtty_vconfig, type MdevDevice, type MdevState, type MdevType, type VfioDevice } from '../../legacy/structs.js';
import { register_vfio_ops, vfio_alloc_device, vfio_put_device, vfio_register_emulated_iommu_dev, vfio_unregister_group_dev } from '../../v6/vfio.js';
import { modernModule, vendor_data } from './common.js';
import { register_driver_code } from '../../legacy/base.js';

const MAX_MTTYS = 24;

function state_of(k: Kernel, vdev: VfioDevice): MdevState {
  return k.get(vdev, 'device_data') as MdevState;
}

const mtty_init_dev = kfn('mtty_init_dev', function* (k: Kernel, vdev: VfioDevice) {
  const mdev = k.get(vdev, 'dev') as MdevDevice;
  yield k.at('mdev->type');
  const type = k.get(mdev, 'type') as MdevType;
  const nr_ports = k.siteName(k.get(type, 'name')) === '2' ? 2 : 1;
  const data = vendor_data(k, 'mtty');
  yield k.at('atomic_try_cmpxchg(mdev_avail_ports)');
  const avail = k.get(data, 'avail_ports');
  if (avail < nr_ports) return -ENOSPC;
  k.set(data, 'avail_ports', avail - nr_ports);
  const state: MdevState = yield* kzalloc(k, mdev_state);
  const vconfig = state === 0 ? 0 : yield* kzalloc(k, mtty_vconfig);
  if (vconfig === 0) {
    if (state !== 0) yield* kfree(k, state);
    k.set(data, 'avail_ports', k.get(data, 'avail_ports') + nr_ports);
    return -ENOMEM;
  }
  k.set(state, 'nr_ports', nr_ports);
  k.set(state, 'vconfig', vconfig);
  k.set(state, 'mdev', mdev);
  k.set(vdev, 'device_data', state);
  return 0;
});

const mtty_release_dev = kfn('mtty_release_dev', function* (k: Kernel, vdev: VfioDevice) {
  const state = state_of(k, vdev);
  const data = vendor_data(k, 'mtty');
  yield k.at('atomic_add(mdev_avail_ports)');
  k.set(data, 'avail_ports', k.get(data, 'avail_ports') + k.get(state, 'nr_ports'));
  yield* kfree(k, k.get(state, 'vconfig'));
  yield* kfree(k, state);
});

const mtty_close = kfn('mtty_close', function* (k: Kernel, vdev: VfioDevice) {
  yield k.at('mtty_disable_files');
  k.set(state_of(k, vdev), 'ops_lock', 0);
});

/** VFIO_DEVICE_GET_INFO: fills mdev_state->dev_info. */
const mtty_ioctl = kfn('mtty_ioctl', function* (k: Kernel, vdev: VfioDevice) {
  const state = state_of(k, vdev);
  yield k.at('copy_from_user');
  yield k.at('mtty_get_device_info');
  // memcpy(&mdev_state->dev_info, &info, sizeof(info))
  k.set(state, 'dev_info', 1);
  yield k.at('copy_to_user');
  return 0;
});

register_vfio_ops('mtty', { init: mtty_init_dev, release: mtty_release_dev, close_device: mtty_close, ioctl: mtty_ioctl });

const mtty_probe = kfn('mtty_probe', function* (k: Kernel, mdev: MdevDevice) {
  const vdev = yield* vfio_alloc_device(k, mdev, find_module(k, 'mtty'));
  if (vdev <= 0) return vdev === 0 ? -ENOMEM : vdev;
  const ret = yield* vfio_register_emulated_iommu_dev(k, vdev);
  if (ret !== 0) {
    yield* vfio_put_device(k, vdev);
    return ret;
  }
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', vdev);
  return 0;
});

const mtty_remove = kfn('mtty_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  yield* vfio_unregister_group_dev(k, vdev);
  yield* vfio_put_device(k, vdev);
});

/** The driver's dev_groups attribute "vendor/sample_mdev_dev": the device name only. */
const sample_mdev_dev_show = kfn('sample_mdev_dev_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  yield k.at('dev_name');
  return k.get(mdev, 'uuid') >= 0 ? 0 : -ENOMEM;
});

const mtty_driver: MdevDriver = register_driver_code({
  name: 'mtty',
  match: () => false,
  probe: mtty_probe,
  remove: mtty_remove,
  dev_groups: { dir: 'vendor', attrs: ['sample_mdev_dev'] },
  show: sample_mdev_dev_show,
});

export const mtty_v6 = modernModule({
  name: 'mtty',
  parent_dev: 'mtty',
  types: ['1', '2'],
  max_instances: MAX_MTTYS,
  driver: mtty_driver,
  ports: MAX_MTTYS,
});
