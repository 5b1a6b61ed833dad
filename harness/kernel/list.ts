// list_head as a fixed-capacity array in a slot: insertion order is kept, so iteration is
// deterministic. Lists are changed under the lock that protects them, so they are no preemption points.

import type { Kernel } from './kernel.js';
import { defineStruct, type Ref } from './layout.js';

export const LIST_CAPACITY = 16;
export const list_head = defineStruct('list_head', [
  'n',
  ...Array.from({ length: LIST_CAPACITY }, (_, i) => `e${i}` as const),
]);
export type ListHead = Ref<(typeof list_head.fields)[number]>;

/** The field names of the entries, built once: a name built at every access is hashed anew to find its field. */
const SLOTS = list_head.fields.slice(1);

function slot(i: number): (typeof list_head.fields)[number] {
  return SLOTS[i]!;
}

export function list_new(k: Kernel, site: string): ListHead {
  return k.alloc(list_head, site);
}

export function list_add(k: Kernel, head: ListHead | number, item: number): void {
  const h = head as ListHead;
  const n = k.get(h, 'n');
  if (n >= LIST_CAPACITY) throw new Error(`list full at ${k.fn()}`);
  k.set(h, slot(n), item);
  k.set(h, 'n', n + 1);
}

export function list_del(k: Kernel, head: ListHead | number, item: number): void {
  const h = head as ListHead;
  const n = k.get(h, 'n');
  for (let i = 0; i < n; i++) {
    if (k.get(h, slot(i)) !== item) continue;
    for (let j = i; j < n - 1; j++) k.set(h, slot(j), k.get(h, slot(j + 1)));
    k.set(h, slot(n - 1), 0);
    k.set(h, 'n', n - 1);
    return;
  }
}

export function list_entries<R extends number = Ref>(k: Kernel, head: ListHead | number): R[] {
  const h = head as ListHead;
  const n = k.get(h, 'n');
  const out: R[] = [];
  for (let i = 0; i < n; i++) out.push(k.get(h, slot(i)) as R);
  return out;
}

export function list_contains(k: Kernel, head: ListHead | number, item: number): boolean {
  const h = head as ListHead;
  const n = k.get(h, 'n');
  for (let i = 0; i < n; i++) if (k.get(h, slot(i)) === item) return true;
  return false;
}
