// The teardowns already run, remembered by the state they started from. Every execution ends with
// the teardown (every module unloaded, then the leak check), and many end in the same state: of
// 3,000 drawn mdev-v5.0 executions, about 940 began their teardown from a state an earlier one had
// left; at bound 2 on mdev-v6, verify's 4,411 teardowns of 60 programs started from 718 distinct
// states. A teardown is a function of that state: the kernel words; the faults injected that have
// not failed their call yet, by how many more occurrences of it they wait for; the lock-order graph
// lockdep checks against. (The transitions it makes start from the state last seen of each object,
// which is the state its words give: an object's state is read from its own words, every write to
// them is observed after the step that made it, and one never written since boot has its boot
// state.) So a teardown from a state seen before need not run again, unless it would add a finding
// (one of the titles it reported is not reported yet): what it did that outlives it (how often it
// reached each fallible call, the labels and transitions it covered) is applied instead. A
// teardown cut short by an oops is not remembered.
//
// The kernel words are taken without the allocation and free stamps of each slot header (CPU and
// step, read only by reports), which would tell apart states that differ in nothing else. States
// are told apart by a 64-bit fingerprint of the words (two 32-bit xxHash-style lanes of different
// seeds), as TLC and SPIN's hash compaction do: two states share one with a chance of about
// n^2 / 2^65 for n states. The memo holds at most MEMO_ENTRIES teardowns, the oldest dropped first;
// an entry is a few numbers and references to lists that entries share, about 300 bytes.

import type { TransitionTracker } from '../../coverage/transitions.js';
import type { Kernel } from '../../kernel/kernel.js';
import { HDR, type Layout } from '../../kernel/layout.js';

/** The state a teardown starts from: two 32-bit hashes of everything it depends on. */
export interface StateKey {
  a: number;
  b: number;
}

/** What a teardown did that outlives it. */
interface Done {
  /** Its key's second hash (the first is the entry's key in the map). */
  b: number;
  /** How many more times it reached each fallible call. */
  faultCalls: readonly [call: string, added: number][];
  /** The labels of its steps, when they were collected. */
  labels: readonly string[] | undefined;
  /** The transitions it made (TransitionTracker's packed form), when they were watched. */
  transitions: readonly number[] | undefined;
  /** The titles it reported: a teardown whose reports were all of titles reported already added no finding. */
  reports: readonly string[];
}

/** A teardown as it ran: the fault counts it started from, and what it did. */
export interface Ran {
  counts: ReadonlyMap<string, number>;
  labels: ReadonlySet<string> | undefined;
  transitions: number[] | undefined;
  reports: string[];
}

export const MEMO_ENTRIES = 4096;

const NONE: readonly never[] = Object.freeze([]);

export class TeardownMemo {
  /** By the key's first hash. */
  private readonly done = new Map<number, Done>();
  private readonly labelLists = new SharedLists<string>();
  private readonly transitionLists = new SharedLists<number>();
  hits = 0;

  constructor(private readonly capacity = MEMO_ENTRIES) {}

  get size(): number {
    return this.done.size;
  }

  /** Forget every teardown (a benchmark's rounds over the same executions each start cold). */
  clear(): void {
    this.done.clear();
    this.labelLists.clear();
    this.transitionLists.clear();
  }

  /** The state a teardown starts from. */
  key(k: Kernel): StateKey {
    const h = new Lanes();
    fingerprint(h, k.mem, k.layout);
    lockOrderDigest(h, k);
    // A fault whose occurrence has passed fails nothing more: only the pending ones, by how many
    // more occurrences of their call they wait for, tell a teardown apart.
    const sites = k.faultSites();
    for (const f of k.faults) {
      const left = f.nth - (sites.get(f.call) ?? 0);
      if (left > 0) h.add(k.intern(f.call)).add(left);
    }
    return { a: h.a(), b: h.b() };
  }

  /**
   * If a teardown from this state is known, and every report it made was of a title already
   * reported (so that it would add no finding), apply what it did to k (and to the labels and
   * transitions collected) and return true.
   */
  replay(k: Kernel, key: StateKey, labels?: Set<string>, transitions?: TransitionTracker): boolean {
    const known = this.done.get(key.a);
    if (known === undefined || known.b !== key.b) return false;
    if ((labels !== undefined && known.labels === undefined) || (transitions !== undefined && known.transitions === undefined)) return false;
    if (!known.reports.every((title) => k.reported(title))) return false;
    const sites = k.faultSites();
    for (const [call, n] of known.faultCalls) sites.set(call, (sites.get(call) ?? 0) + n);
    if (labels) for (const l of known.labels!) labels.add(l);
    if (transitions) transitions.replay(known.transitions!);
    this.hits++;
    return true;
  }

  /** Remember a teardown from `key` that ran to its end (k as it left it). */
  remember(k: Kernel, key: StateKey, ran: Ran): void {
    const faultCalls: [string, number][] = [];
    for (const [call, n] of k.faultSites()) {
      const before = ran.counts.get(call) ?? 0;
      if (n !== before) faultCalls.push([call, n - before]);
    }
    this.done.delete(key.a);
    if (this.done.size >= this.capacity) this.done.delete(this.done.keys().next().value!);
    this.done.set(key.a, {
      b: key.b,
      faultCalls: faultCalls.length > 0 ? faultCalls : NONE,
      labels: ran.labels && this.labelLists.share([...ran.labels], this.capacity),
      transitions: ran.transitions && this.transitionLists.share(ran.transitions, this.capacity),
      reports: ran.reports.length > 0 ? [...new Set(ran.reports)] : NONE,
    });
  }
}

/**
 * One array for equal lists: teardowns from thousands of states step through a few dozen
 * sequences of labels and of transitions (44 label lists among 4,096 remembered on mdev-v5.0).
 * Lists are found by a hash of their items (a string's by a small number given it once), not by
 * a string joined of them, which cost more than a teardown's other bookkeeping.
 */
class SharedLists<T extends string | number> {
  private readonly byHash = new Map<number, (readonly T[])[]>();
  private readonly ids = new Map<T, number>();
  private size = 0;

  clear(): void {
    this.byHash.clear();
    this.size = 0;
  }

  share(list: T[], capacity: number): readonly T[] {
    const h = new Lanes();
    for (const x of list) h.add(typeof x === 'number' ? x : this.idOf(x));
    const key = h.a();
    const bucket = this.byHash.get(key);
    if (bucket !== undefined) for (const known of bucket) if (sameItems(known, list)) return known;
    if (this.size >= capacity) this.clear();
    const same = this.byHash.get(key);
    if (same !== undefined) same.push(list);
    else this.byHash.set(key, [list]);
    this.size++;
    return list;
  }

  private idOf(x: T): number {
    let id = this.ids.get(x);
    if (id === undefined) this.ids.set(x, (id = this.ids.size));
    return id;
  }
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const memos = new WeakMap<object, TeardownMemo>();

/** This thread's memo of the teardowns of one target, shared by all its batches. */
export function teardownMemo(target: object): TeardownMemo {
  let memo = memos.get(target);
  if (!memo) memos.set(target, (memo = new TeardownMemo()));
  return memo;
}

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 15), PRIME2);
  h = Math.imul(h ^ (h >>> 13), PRIME3);
  return h ^ (h >>> 16);
}

/** Two 32-bit xxHash-style lanes of different seeds over a sequence of int32 words. */
class Lanes {
  private x = 0x165667b1;
  private y = 0x27d4eb2f;

  add(w: number): this {
    this.x = Math.imul(rotl((this.x + Math.imul(w, PRIME2)) | 0, 13), PRIME1);
    this.y = Math.imul(rotl((this.y ^ Math.imul(w, PRIME3)) | 0, 17), PRIME2);
    return this;
  }

  /** A set of int32 items in any order: the sums of each item's avalanche, one per lane. */
  addSet(items: Iterable<number>): this {
    let sx = 0;
    let sy = 0;
    for (const i of items) {
      sx = (sx + avalanche(i)) | 0;
      sy = (sy + avalanche(i ^ PRIME3)) | 0;
    }
    return this.add(sx).add(sy);
  }

  a(): number {
    return avalanche(this.x) >>> 0;
  }

  b(): number {
    return avalanche(this.y) >>> 0;
  }
}

/** The lock-order graph, whatever the order its edges were added in. */
function lockOrderDigest(h: Lanes, k: Kernel): void {
  const edges: number[] = [];
  for (const [from, to] of k.lockOrder) {
    const f = Math.imul(k.intern(from), PRIME1);
    for (const t of to) edges.push(f ^ k.intern(t));
  }
  h.addSet(edges);
}

/** Word indices of the allocation and free stamps of every slot, by layout. */
const stamps = new WeakMap<Layout, Uint8Array>();

function stampMask(layout: Layout): Uint8Array {
  let mask = stamps.get(layout);
  if (mask) return mask;
  mask = new Uint8Array(layout.words);
  for (const p of layout.pools) {
    for (let slot = 0; slot < p.capacity; slot++) {
      mask[p.base + slot * p.slotWords + HDR.allocAt] = 1;
      mask[p.base + slot * p.slotWords + HDR.freeAt] = 1;
    }
  }
  stamps.set(layout, mask);
  return mask;
}

/**
 * The words outside the slots' stamps; of each pool, only the slots handed out so far (its cursor
 * is hashed too, and nothing writes a slot past it).
 */
function fingerprint(h: Lanes, mem: Int32Array, layout: Layout): void {
  const mask = stampMask(layout);
  const first = layout.pools[0]?.base ?? layout.words;
  for (let i = 0; i < first; i++) h.add(mem[i]!);
  for (const p of layout.pools) {
    const end = p.base + Math.min(mem[p.cursor]!, p.capacity) * p.slotWords;
    for (let i = p.base; i < end; i++) if (mask[i] === 0) h.add(mem[i]!);
  }
}
