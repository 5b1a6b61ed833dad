// V8's settings for a process whose pool runs one worker per core (the CLI's, and the benchmarks
// that measure it): process-wide flags, so the library itself never sets them.

import v8 from 'node:v8';

/**
 * No parallel scavenges: their helper threads only take cores from the workers (and an inline run,
 * one thread, loses nothing by their absence either), and without them the pool's small young
 * generations cost no executions (resourceLimitsOf). Call before any worker starts.
 */
export function poolGcFlags(): void {
  v8.setFlagsFromString('--no-parallel-scavenge');
}
