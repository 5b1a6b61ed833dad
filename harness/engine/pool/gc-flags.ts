// V8's settings for a process whose pool runs one worker per core (the CLI's, and the benchmarks
// that measure it): process-wide flags, so the library itself never sets them, and the young
// generation of the pool's workers that goes with them.

import v8 from 'node:v8';

let set = false;

/**
 * No parallel scavenges: their helper threads only take cores from the workers (and an inline run,
 * one thread, loses nothing by their absence either), and without them the workers' young
 * generation can be half as large for as many executions (resourceLimitsOf). Call before any
 * worker starts.
 */
export function poolGcFlags(): void {
  v8.setFlagsFromString('--no-parallel-scavenge');
  set = true;
}

/** A pool worker's young generation, in MiB: 6 once poolGcFlags() has run in this process, else 12. */
export const workerYoungGenerationMb = (): number => (set ? 6 : 12);
