// Delta debugging over any list (Zeller & Hildebrandt, "Simplifying and Isolating Failure-Inducing
// Input", TSE 2002): split the list into n chunks; keep a chunk that alone still keeps the failure,
// else a complement of a chunk; else split finer, until the chunks are single elements. The result
// is 1-minimal: removing any one element of it loses the failure.
//
// Complexity, in predicate calls, for a list of length m: the paper's worst case is (m² + 3m) / 2;
// when the failure needs k elements it is about 2k·log2(m) in the common case (a pair out of 64
// takes a few dozen calls). A candidate already tested is not tested again.

export interface DdminOptions {
  /** Most predicate calls to make; when reached, the smallest kept list so far is returned. */
  maxCalls?: number;
  /** Test the empty list first. The paper assumes it cannot keep the failure; faults and preemptions often can. */
  tryEmpty?: boolean;
}

export interface DdminResult<T> {
  items: T[];
  /** Predicate calls made. */
  calls: number;
  /** The call cap stopped the search before the result was 1-minimal. */
  exhausted: boolean;
}

/** `keeps(items)` is assumed true; the result is a sublist of `items`, in their order. */
export function ddmin<T>(items: readonly T[], keeps: (candidate: T[]) => boolean, opts: DdminOptions = {}): DdminResult<T> {
  const maxCalls = opts.maxCalls ?? Infinity;
  let calls = 0;
  let exhausted = false;
  const tested = new Set<string>();
  // Every kept candidate becomes the current list and only its strict sublists are tried after it,
  // so a candidate seen before is one that failed.
  const test = (idx: number[]): boolean => {
    const key = idx.join(',');
    if (tested.has(key)) return false;
    if (calls >= maxCalls) {
      exhausted = true;
      return false;
    }
    tested.add(key);
    calls++;
    return keeps(idx.map((i) => items[i]!));
  };

  let current = items.map((_, i) => i);
  if ((opts.tryEmpty ?? false) && current.length > 0 && test([])) return { items: [], calls, exhausted };
  let n = 2;
  while (current.length >= 2 && !exhausted) {
    const chunks = split(current, n);
    const chunk = chunks.find(test);
    if (chunk) {
      current = chunk;
      n = 2;
      continue;
    }
    // With two chunks each complement is the other chunk, already tested.
    const complement = n > 2 ? chunks.map((_, i) => chunks.filter((_, j) => j !== i).flat()).find(test) : undefined;
    if (complement) {
      current = complement;
      n = Math.max(n - 1, 2);
      continue;
    }
    if (n >= current.length) break;
    n = Math.min(current.length, 2 * n);
  }
  return { items: current.map((i) => items[i]!), calls, exhausted };
}

/** `n` contiguous chunks of near-equal length. */
function split<T>(xs: readonly T[], n: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0, start = 0; i < n; i++) {
    const end = start + Math.floor((xs.length - start) / (n - i));
    chunks.push(xs.slice(start, end));
    start = end;
  }
  return chunks.filter((c) => c.length > 0);
}
