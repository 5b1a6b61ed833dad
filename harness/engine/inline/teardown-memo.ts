// The teardowns of one exploration, remembered by the state they start from. Verify runs every
// schedule of a program to its end and then the teardown (every module unloaded, then the leak
// check), and many schedules end in the same state: at bound 2 on mdev-v6, 4,411 teardowns of 60
// programs started from 718 distinct states. A teardown is a function of that state (the kernel
// words, the occurrence counts of fault injection, the lock-order graph lockdep checks against, the
// titles already reported), so a teardown that reported nothing need not run again from it. One
// memo serves the runs of one program under one fault choice: which call fails is part of what a
// teardown does, and it is not in the key.
//
// The kernel words are taken without the allocation and free stamps of each slot header (CPU and
// step, read only by reports), which would tell apart states that differ in nothing else; a
// teardown that reported something is not remembered, so its report is always made anew with the
// stamps of its own run. States are told apart by a 64-bit fingerprint of the words (two 32-bit
// xxHash-style lanes of different seeds), as TLC and SPIN's hash compaction do: two states of one
// program share one with a chance of about n^2 / 2^65 for n states.

import type { Kernel } from '../../kernel/kernel.js';
import { HDR, type Layout } from '../../kernel/layout.js';

/** What a clean teardown did that outlives it: the occurrences of each fallible call it reached. */
interface Clean {
  faultCalls: [call: string, count: number][];
}

export class TeardownMemo {
  private readonly clean = new Map<string, Clean>();
  hits = 0;

  /** The state a teardown starts from, as a key. */
  key(k: Kernel): string {
    const [a, b] = fingerprint(k.mem, k.layout);
    const faults = [...k.faultSites()].map(([call, n]) => `${call}=${n}`).join(',');
    const edges: string[] = [];
    for (const [from, to] of k.lockOrder) for (const t of to) edges.push(`${from}>${t}`);
    edges.sort();
    const titles = k.findings.map((f) => f.title).sort();
    return `${a >>> 0}:${b >>> 0}|${faults}|${edges.join(',')}|${titles.join('\n')}`;
  }

  /** Whether a teardown from this state reported nothing; if so, its fault counts are applied to k. */
  replay(k: Kernel, key: string): boolean {
    const known = this.clean.get(key);
    if (known === undefined) return false;
    const sites = k.faultSites();
    for (const [call, n] of known.faultCalls) sites.set(call, n);
    this.hits++;
    return true;
  }

  /** Remember a teardown from `key` that reported nothing (`k` as it left it). */
  remember(k: Kernel, key: string): void {
    this.clean.set(key, { faultCalls: [...k.faultSites()] });
  }
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

const PRIME1 = 0x9e3779b1;
const PRIME2 = 0x85ebca77;
const PRIME3 = 0xc2b2ae3d;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

function avalanche(h: number): number {
  h = Math.imul(h ^ (h >>> 15), PRIME2);
  h = Math.imul(h ^ (h >>> 13), PRIME3);
  return h ^ (h >>> 16);
}

/**
 * Two 32-bit hashes of the words outside the slots' stamps; of each pool, only the slots handed
 * out so far (its cursor is hashed too, and nothing writes a slot past it).
 */
function fingerprint(mem: Int32Array, layout: Layout): [number, number] {
  const mask = stampMask(layout);
  let a = 0x165667b1;
  let b = 0x27d4eb2f;
  const add = (w: number): void => {
    a = Math.imul(rotl((a + Math.imul(w, PRIME2)) | 0, 13), PRIME1);
    b = Math.imul(rotl((b ^ Math.imul(w, PRIME3)) | 0, 17), PRIME2);
  };
  const first = layout.pools[0]?.base ?? layout.words;
  for (let i = 0; i < first; i++) add(mem[i]!);
  for (const p of layout.pools) {
    const end = p.base + Math.min(mem[p.cursor]!, p.capacity) * p.slotWords;
    for (let i = p.base; i < end; i++) if (mask[i] === 0) add(mem[i]!);
  }
  return [avalanche(a), avalanche(b)];
}
