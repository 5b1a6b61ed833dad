// The queue of coverage-guided search and the set of coverage keys seen so far, both updated on
// the main thread once an epoch's batches are all back: its novel executions walked in index
// order, each appended when it reached a key never seen before. So the queue, and every execution
// after it, is the same whatever the number of workers and the order batches came back in.

import type { NovelExecution } from '../engine/batch.js';
import { entrySize, type QueueEntry } from './entry.js';

/** Execution indices per epoch: a mutation draws from the queue as it stood at its epoch's start. */
export const EPOCH = 1000;
/** Entries kept at most: the newest half, and the smallest of the others (operations + preemptions + faults). */
export const QUEUE_CAP = 256;

export class Guide {
  readonly seen = new Set<string>();
  /** Every key, with the first execution index that reached it (in the order they were first reached). */
  readonly firstIndex = new Map<string, number>();
  queue: QueueEntry[] = [];
  /** Entries ever appended (some since dropped by the cap). */
  added = 0;

  /** One epoch's novel executions, from all its batches, in any order. */
  absorb(novel: readonly NovelExecution[]): void {
    const ordered = [...novel].sort((a, b) => a.index - b.index);
    for (const n of ordered) {
      let isNew = false;
      for (const k of n.keys) {
        if (this.seen.has(k)) continue;
        this.seen.add(k);
        this.firstIndex.set(k, n.index);
        isNew = true;
      }
      if (isNew && n.entry) {
        this.queue.push(n.entry);
        this.added++;
      }
    }
    if (this.queue.length > QUEUE_CAP) this.queue = capQueue(this.queue, QUEUE_CAP);
  }
}

/**
 * At most `cap` entries of a queue in index order: the newest cap/2, so that what was just found
 * gets mutated however large it is, then the smallest of the older ones (ties: the earliest); in
 * index order.
 */
export function capQueue(queue: readonly QueueEntry[], cap: number): QueueEntry[] {
  if (queue.length <= cap) return [...queue];
  const newest = Math.floor(cap / 2);
  const older = queue.slice(0, queue.length - newest);
  const kept = older.sort((a, b) => entrySize(a) - entrySize(b) || a.index - b.index).slice(0, cap - newest);
  return [...kept.sort((a, b) => a.index - b.index), ...queue.slice(queue.length - newest)];
}
