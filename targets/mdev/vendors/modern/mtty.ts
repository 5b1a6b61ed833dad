// samples/vfio-mdev/mtty.c of v6.1-rc7: the vendor is the mdev driver. struct mtty_dev (with the
// parent struct device and struct mdev_parent, 69-76), mtty_types[] (146-159), mdev_avail_ports
// (161) and mtty_driver (1275-1286) are static module data. probe allocates the vfio_device with
// the state around it (ports reserved atomically, -ENOSPC when short) and registers it; remove
// unregisters (waiting for the last close) and puts it; the release of the vfio_device frees the
// state. mtty has get_available (1259-1264, 1285), so the core does not count instances, and no
// open_device/close_device (1266-1273). Simplified: the chrdev, class and idr are left out.

import { kfn, type Kernel } from '../../../../harness/kernel/kernel.js';
import { ENOMEM, ENOSPC } from '../../../../harness/kernel/kernfs.js';
import { module_static, type Module } from '../../../../harness/kernel/module.js';
import { kfree, kzalloc } from '../../legacy/alloc.js';
import { register_driver_code } from '../../legacy/base.js';
import { mdev_state, mtty_vconfig, type MdevDevice, type MdevState, type VfioDevice } from '../../legacy/structs.js';
import { device_register, device_unregister } from '../../v6/driver_core.js';
import type { CoreV6 } from '../../v6/mdev_core.js';
import type { MdevDriverV6 } from '../../v6/mdev_driver.js';
import { device_v6, type DeviceV6, type DriverV6, type ParentV6, type TypeV6 } from '../../v6/structs.js';
import { register_vfio_ops, vfio_alloc_device, vfio_free_device, vfio_put_device, vfio_register_emulated_iommu_dev, vfio_unregister_group_dev } from '../../v6/vfio.js';
import { driver_module, new_static, set_types, static_parent, vendor_static, type ModernModule } from './common.js';
import { uuid_name } from '../../legacy/base.js';

const MAX_MTTYS = 24;

function state_of(k: Kernel, vdev: VfioDevice): MdevState {
  return k.get(vdev, 'device_data') as MdevState;
}

function mod_of(k: Kernel, vdev: VfioDevice): Module {
  return k.get(vdev, 'ops') as Module;
}

/** mtty_init_dev (720-757): reserve type->nr_ports of mdev_avail_ports, or -ENOSPC; the config space. */
const mtty_init_dev = kfn('mtty_init_dev', function* (k: Kernel, vdev: VfioDevice) {
  const mdev = k.get(vdev, 'dev') as MdevDevice;
  yield k.at('mdev->type');
  const type = k.get(mdev, 'type') as TypeV6;
  const nr_ports = k.get(type, 'nr_ports');
  const data = vendor_static(k, mod_of(k, vdev));
  yield k.at('atomic_try_cmpxchg(mdev_avail_ports)');
  const avail = k.get(data, 'avail_ports');
  if (avail < nr_ports) return -ENOSPC;
  k.set(data, 'avail_ports', avail - nr_ports);
  // the model keeps mdev_state (the container of vdev) as a slot of its own
  const state: MdevState = yield* kzalloc(k, mdev_state);
  const vconfig = state === 0 ? 0 : yield* kzalloc(k, mtty_vconfig);
  if (vconfig === 0) {
    if (state !== 0) yield* kfree(k, state);
    // err_nr_ports
    k.set(data, 'avail_ports', k.get(data, 'avail_ports') + nr_ports);
    return -ENOMEM;
  }
  k.set(state, 'nr_ports', nr_ports);
  k.set(state, 'vconfig', vconfig);
  k.set(state, 'mdev', mdev);
  k.set(vdev, 'device_data', state);
  return 0;
});

/** mtty_release_dev (780-788): give the ports back, free vconfig, vfio_free_device. */
const mtty_release_dev = kfn('mtty_release_dev', function* (k: Kernel, vdev: VfioDevice) {
  const state = state_of(k, vdev);
  const data = vendor_static(k, mod_of(k, vdev));
  yield k.at('atomic_add(mdev_avail_ports)');
  k.set(data, 'avail_ports', k.get(data, 'avail_ports') + k.get(state, 'nr_ports'));
  yield* kfree(k, k.get(state, 'vconfig'));
  yield* kfree(k, state);
  yield* vfio_free_device(k, vdev);
});

/** mtty_ioctl (1119-1150): VFIO_DEVICE_GET_INFO copies from user, then memcpy into mdev_state->dev_info (1144). */
const mtty_ioctl = kfn('mtty_ioctl', function* (k: Kernel, vdev: VfioDevice) {
  const state = state_of(k, vdev);
  yield k.at('copy_from_user');
  yield k.at('mtty_get_device_info');
  k.set(state, 'dev_info', 1);
  yield k.at('copy_to_user');
  return 0;
});

register_vfio_ops('mtty', { init: mtty_init_dev, release: mtty_release_dev, ioctl: mtty_ioctl });

/** mtty_probe (759-778). */
const mtty_probe = kfn('mtty_probe', function* (k: Kernel, mdev: MdevDevice) {
  const mod = driver_module(k, k.get(mdev, 'dev_driver') as DriverV6);
  const vdev = yield* vfio_alloc_device(k, mdev, mod);
  if (vdev < 0) return vdev;
  const ret = yield* vfio_register_emulated_iommu_dev(k, vdev);
  if (ret !== 0) {
    yield* vfio_put_device(k, vdev);
    return ret;
  }
  yield k.at('dev_set_drvdata');
  k.set(mdev, 'dev_drvdata', vdev);
  return 0;
});

/** mtty_remove (790-796). */
const mtty_remove = kfn('mtty_remove', function* (k: Kernel, mdev: MdevDevice) {
  yield k.at('dev_get_drvdata');
  const vdev = k.get(mdev, 'dev_drvdata') as VfioDevice;
  yield* vfio_unregister_group_dev(k, vdev);
  yield* vfio_put_device(k, vdev);
});

/** sample_mdev_dev_show (1235-1239; mdev_dev_groups 1254): the device name only. */
const sample_mdev_dev_show = kfn('sample_mdev_dev_show', function* (k: Kernel, mdev: MdevDevice, _attr: string) {
  yield k.at('dev_name');
  return uuid_name(k.get(mdev, 'uuid')).length > 0 ? 0 : -ENOMEM;
});

const mtty_driver: MdevDriverV6 = register_driver_code({
  name: 'mtty',
  probe: mtty_probe,
  remove: mtty_remove,
  dev_groups: { dir: 'vendor', attrs: ['sample_mdev_dev'] },
  show: sample_mdev_dev_show,
  get_available: true,
});

/** mtty_dev_init (1293-1353). */
const mtty_dev_init = kfn('mtty_dev_init', function* (k: Kernel, core: CoreV6, mod: Module) {
  // memset(&mtty_dev, 0, ...): this load's static data
  const data = new_static(k, mod);
  k.set(data, 'avail_ports', MAX_MTTYS);
  const { drv, parent, types } = static_parent(k, mod, ['1', '2'], [1, 2]);
  const dev = module_static(k, device_v6, mod, k.at('static')) as DeviceV6;
  k.set(data, 'driver', drv);
  k.set(data, 'parent', parent);
  k.set(data, 'dev', dev);
  let ret = yield* core.mdev_register_driver(k, drv, mtty_driver, mod);
  if (ret !== 0) return ret;
  // mtty_dev.dev.release = mtty_device_release (1288-1291): nothing to free
  ret = yield* device_register(k, dev, 'mtty');
  if (ret === 0) {
    set_types(k, parent, types);
    ret = yield* core.mdev_register_parent(k, parent, dev, drv, 'mtty', 0);
    if (ret === 0) return 0;
    // err_device
    yield* device_unregister(k, dev);
  }
  // err_class, err_driver
  yield* core.mdev_unregister_driver(k, drv);
  return ret;
});

/** mtty_dev_exit (1355-1368): the parent, the device, then the driver; free_module follows. */
const mtty_dev_exit = kfn('mtty_dev_exit', function* (k: Kernel, core: CoreV6, mod: Module) {
  const data = vendor_static(k, mod);
  yield* core.mdev_unregister_parent(k, k.get(data, 'parent') as ParentV6);
  yield* device_unregister(k, k.get(data, 'dev') as DeviceV6);
  yield* core.mdev_unregister_driver(k, k.get(data, 'driver') as DriverV6);
});

export const mtty_v6: ModernModule = {
  name: 'mtty',
  driver_name: 'mtty',
  parent_dev: 'mtty',
  driver: mtty_driver,
  init: mtty_dev_init,
  exit: mtty_dev_exit,
};
