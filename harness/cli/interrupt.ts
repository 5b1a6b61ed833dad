// SIGINT and SIGTERM during a run: the first stops the campaign after the batches in flight (and
// aborts any minimization in flight on its worker), so that the results of what ran are still written
// and the run exits 130; a second one exits 130 at once (corpus writes are atomic, so every entry
// stays whole either way).

export const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export class Interrupt {
  /** The signal that stopped the run, if one did. */
  signal: NodeJS.Signals | undefined;
  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.signal) process.exit(130);
    this.signal = signal;
    this.onFirst(signal);
  };

  constructor(private readonly onFirst: (signal: NodeJS.Signals) => void) {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  readonly stopped = (): boolean => this.signal !== undefined;

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
  }
}
