// Text helpers that stay out of ICU: toLocaleString and localeCompare map in its locale and collation
// data (about 5 MiB of resident memory in a campaign), and localeCompare's order is the machine's
// locale, where a report must read the same everywhere.

/** `12,345`. */
export function groupDigits(n: number): string {
  const grouped = String(Math.abs(Math.round(n))).replace(/\B(?=(\d{3})+$)/g, ',');
  return Math.round(n) < 0 ? `-${grouped}` : grouped;
}

/** Two strings in code-unit order, the same on every machine. */
export const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `build` memoized by its argument: for the strings a model builds again and again (sysfs paths,
 * labels), so that each is built and hashed once; interning or counting a string built anew hashes
 * it whole every time. The keys are few (the model's names), so the map stays small.
 */
export function memoize<K, V>(build: (key: K) => V): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    let v = known.get(key);
    if (v === undefined) known.set(key, (v = build(key)));
    return v;
  };
}
