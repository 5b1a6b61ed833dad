// The interned strings of the model (allocation sites, paths, module and lock-class names) shared
// between threads. The model keeps strings in the buffer as hashes and reads names back with
// Kernel.siteName; when CPUs run on different threads, a name one thread interned must be
// readable by every other. One append-only table per process, in its own SharedArrayBuffer:
// [lock, tail, then records of (hash, length, UTF-16 code units)].

import { shareSites, type SiteTable } from '../../kernel/kernel.js';

const TABLE_WORDS = 1 << 20;
const LOCK = 0;
const TAIL = 1;
const HEADER = 2;

class SharedSites implements SiteTable {
  private readonly w: Int32Array;
  private cursor = HEADER;
  private readonly known = new Map<number, string>();

  constructor(sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab);
  }

  added(h: number, s: string): void {
    this.sync();
    if (!this.known.has(h)) this.append(h, s);
  }

  lookup(h: number): string | undefined {
    if (!this.known.has(h)) this.sync();
    return this.known.get(h);
  }

  private sync(): void {
    const tail = Atomics.load(this.w, TAIL);
    while (this.cursor < tail) {
      const len = this.w[this.cursor + 1]!;
      const at = this.cursor + 2;
      this.known.set(this.w[this.cursor]!, String.fromCharCode(...this.w.subarray(at, at + len)));
      this.cursor = at + len;
    }
  }

  private append(h: number, s: string): void {
    // A thread terminated inside this short section would hold the lock forever: give up after a
    // while, and the string stays known to this thread only.
    for (let n = 0; Atomics.compareExchange(this.w, LOCK, 0, 1) !== 0; n++) {
      if (n > 2000) return;
      Atomics.wait(this.w, LOCK, 1, 1);
    }
    try {
      const at = this.w[TAIL]!;
      if (at + 2 + s.length > this.w.length) return; // full: later strings stay thread-local
      this.w[at] = h;
      this.w[at + 1] = s.length;
      for (let i = 0; i < s.length; i++) this.w[at + 2 + i] = s.charCodeAt(i);
      Atomics.store(this.w, TAIL, at + 2 + s.length);
      this.known.set(h, s);
    } finally {
      Atomics.store(this.w, LOCK, 0);
      Atomics.notify(this.w, LOCK, 1);
    }
  }
}

let attached: SharedArrayBuffer | undefined;

/** This thread uses `sab` as its shared table (the first call wins: there is one per process). */
export function attachSites(sab: SharedArrayBuffer): void {
  if (attached) return;
  attached = sab;
  shareSites(new SharedSites(sab));
}

/** The process's table, created and attached in this thread on first use: pass it to workers. */
export function sitesBuffer(): SharedArrayBuffer {
  if (!attached) {
    const sab = new SharedArrayBuffer(TABLE_WORDS * 4);
    new Int32Array(sab)[TAIL] = HEADER;
    attachSites(sab);
  }
  return attached!;
}
