// Layout of the model kernel in one SharedArrayBuffer: a CPU table, then one pool of fixed-size
// slots per struct type. Every slot starts with a header (live or freed, generation, where it was
// allocated and freed); the struct's int32 fields follow.

import { accessesFit } from './access.js';

/** A reference to a slot: pool, generation and slot packed into one positive int32; 0 is NULL. */
export type Ref<F extends string = string> = number & { readonly __fields?: F };

export interface StructDef<F extends string = string> {
  readonly name: string;
  readonly fields: readonly F[];
  readonly index: ReadonlyMap<string, number>;
}

export function defineStruct<const F extends string>(name: string, fields: readonly F[]): StructDef<F> {
  return { name, fields, index: new Map(fields.map((f, i) => [f, i])) };
}

export const HDR = { state: 0, gen: 1, allocSite: 2, freeSite: 3, allocAt: 4, freeAt: 5 } as const;
export const HDR_WORDS = 6;
export const SLOT_FREE = 0;
export const SLOT_LIVE = 1;
export const SLOT_FREED = 2;
/** Static data of a module after free_module: its pages are unmapped, not poisoned slab. */
export const SLOT_UNMAPPED = 3;
/** Freed fields are filled with the slab poison byte, as SLUB does with 0x6b. */
export const POISON = 0x6b6b6b6b;

/** CPUs of the CPU table: up to 16 for a program, and one more for setup and teardown. */
export const MAX_CPUS = 17;
/** Worker threads an engine starts with (a drawn program has at most 4 CPUs); it grows to MAX_CPUS - 1 for larger fixed programs. */
export const USUAL_CPUS = 5;
export const CPU = { state: 0, waitAddr: 1, waitMask: 2, waitOp: 3, steps: 4, waitRef: 5 } as const;
export const CPU_WORDS = 8;
export const CPU_IDLE = 0;
export const CPU_RUNNABLE = 1;
export const CPU_BLOCKED = 2;
export const CPU_DONE = 3;
export const WAIT_NONE = 0;
/** Wait until (word & mask) === 0. */
export const WAIT_ZERO = 1;
/** Wait until (word & mask) !== 0. */
export const WAIT_NONZERO = 2;

const POOL_SHIFT = 20;
const GEN_SHIFT = 12;
const SLOT_MASK = 0xfff;
const GEN_MASK = 0xff;

export interface PoolSpec {
  def: StructDef;
  capacity: number;
}

export interface Pool {
  id: number;
  def: StructDef;
  capacity: number;
  base: number;
  slotWords: number;
  /** Word index of this pool's next-free counter. */
  cursor: number;
}

export interface Layout {
  pools: Pool[];
  byName: Map<string, Pool>;
  words: number;
}

export function makeLayout(specs: readonly PoolSpec[]): Layout {
  let next = MAX_CPUS * CPU_WORDS;
  const cursors = next;
  next += specs.length;
  const pools: Pool[] = specs.map((s, i) => {
    if (s.capacity > SLOT_MASK) throw new Error(`pool ${s.def.name}: capacity ${s.capacity} too large`);
    const slotWords = HDR_WORDS + s.def.fields.length;
    const pool: Pool = { id: i + 1, def: s.def, capacity: s.capacity, base: next, slotWords, cursor: cursors + i };
    next += slotWords * s.capacity;
    return pool;
  });
  const layout = { pools, byName: new Map(pools.map((p) => [p.def.name, p])), words: next };
  if (!accessesFit(layout)) throw new Error(`a layout of ${pools.length} pools and ${next} words is past what the access record numbers (127 pools, about 4 million words)`);
  return layout;
}

export function makeRef(pool: number, gen: number, slot: number): Ref {
  return ((pool << POOL_SHIFT) | ((gen & GEN_MASK) << GEN_SHIFT) | (slot + 1)) as Ref;
}

export function refPool(ref: Ref): number {
  return ref >>> POOL_SHIFT;
}

export function refGen(ref: Ref): number {
  return (ref >>> GEN_SHIFT) & GEN_MASK;
}

export function refSlot(ref: Ref): number {
  return (ref & SLOT_MASK) - 1;
}
