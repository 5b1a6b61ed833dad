// `mdevfuzz targets`: the bundled targets, with the kernel version each models.

import { TARGETS } from '../../targets/index.js';
import { formatTable } from './format.js';

export function targetsCommand(o: { json?: boolean }): number {
  const rows = TARGETS.map((t) => ({ name: t.name, kernelVersion: t.kernelVersion, description: t.description, expectations: t.expectations.length }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const table = formatTable(
    [{ header: 'target' }, { header: 'kernel' }, { header: 'description' }],
    rows.map((r) => [r.name, r.kernelVersion, r.description]),
    '',
  );
  process.stdout.write(`${table}\n\nA target of your own: mdevfuzz run --target-file ./my-target.js\n`);
  return 0;
}
