// V8's settings for a process whose pool runs one worker per core (the CLI's, and the benchmarks
// that measure it): process-wide flags, so the library itself never sets them, and the young
// generation of the pool's workers that goes with them; and the flag the CLI's process is started
// with, which no code can set once the process runs.

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

/**
 * How the CLI's process is started (its shebang, `npm start`, the nightly example and the benchmarks
 * that run it): the main thread's semi-spaces of at most 2 MiB. The main thread only merges what the
 * workers send, but whatever of it survives a scavenge counts towards growing its young generation,
 * which V8 lets grow to 16 MiB semi-spaces over a long campaign (32 MiB of new space seen after a
 * minute) and which it sizes only at startup: v8.setFlagsFromString comes too late.
 */
export const CLI_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
