// Progress of a campaign: one line rewritten in place on a terminal, or a plain line every few
// seconds when the stream is a pipe or a file (CI logs).

import type { CampaignProgress } from '../engine/campaign.js';
import { formatCount, formatDuration } from './format.js';

const TTY_INTERVAL_MS = 100;
const PLAIN_INTERVAL_MS = 5000;

export class ProgressLine {
  private lastAt = -Infinity;
  private shown = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    /** The campaign's time budget, when it has one, to show how much is left. */
    private readonly timeMs?: number,
  ) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  update(p: CampaignProgress): void {
    const now = performance.now();
    if (now - this.lastAt < (this.tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS)) return;
    this.lastAt = now;
    const rate = p.elapsedMs > 0 ? (p.executions * 1000) / p.elapsedMs : 0;
    const budget = this.timeMs === undefined ? '' : ` / ${formatDuration(this.timeMs)}`;
    const text = `${formatCount(p.executions)} execs  ${formatCount(rate)} exec/s  ${p.findings} distinct findings  ${formatDuration(p.elapsedMs)}${budget}`;
    if (this.tty) {
      this.out.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else {
      this.out.write(`${text}\n`);
    }
  }

  /** Erase the in-place line so that what follows starts clean. */
  done(): void {
    if (this.shown) this.out.write('\r\x1b[K');
    this.shown = false;
  }
}
