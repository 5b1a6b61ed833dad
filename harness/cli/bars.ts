// Progress of a run over several targets. On a terminal: one cli-progress bar per target
// (executions, exec/s, findings), all drawn from the start so that the targets still to come show.
// Elsewhere (CI logs, pipes): a plain line per target every few seconds, and one when it ends.

import cliProgress from 'cli-progress';
import type { CampaignProgress } from '../engine/campaign.js';
import { formatCount, formatDuration } from './format.js';

export const PLAIN_INTERVAL_MS = 5000;
/** A bar's scale: its value is the fraction of the budget used, in thousandths. */
const SCALE = 1000;

export interface TargetBudget {
  name: string;
  execs?: number;
  timeMs?: number;
}

export interface RunProgress {
  update(target: string, p: CampaignProgress): void;
  /** The target's campaign ended: `completed`, it used its whole budget (not interrupted). */
  end(target: string, p: CampaignProgress, completed: boolean): void;
  /** What the target is doing after its campaign (e.g. minimizing): at the end of its bar, or a line (the first, the `last` and one every few seconds). */
  phase(target: string, text: string, last?: boolean): void;
  stop(): void;
}

const rateOf = (p: CampaignProgress): number => (p.elapsedMs > 0 ? (p.executions * 1000) / p.elapsedMs : 0);

function used(b: TargetBudget, p: CampaignProgress): number {
  const byExecs = b.execs ? p.executions / b.execs : 0;
  const byTime = b.timeMs ? p.elapsedMs / b.timeMs : 0;
  return Math.round(Math.min(1, Math.max(byExecs, byTime)) * SCALE);
}

function payload(p: CampaignProgress): Record<string, string> {
  return { execs: formatCount(p.executions), rate: formatCount(rateOf(p)), findings: String(p.findings), elapsed: formatDuration(p.elapsedMs) };
}

class Bars implements RunProgress {
  private readonly multi: cliProgress.MultiBar;
  private readonly bars = new Map<string, { bar: cliProgress.SingleBar; budget: TargetBudget }>();
  private stopped = false;

  constructor(out: NodeJS.WriteStream, budgets: readonly TargetBudget[]) {
    const width = Math.max(...budgets.map((b) => b.name.length));
    this.multi = new cliProgress.MultiBar(
      {
        stream: out,
        format: '{target} {bar} {percentage}% | {execs} execs | {rate} exec/s | {findings} findings | {elapsed} {phase}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        autopadding: true,
      },
      cliProgress.Presets.shades_classic,
    );
    const zero = { executions: 0, steps: 0, elapsedMs: 0, findings: 0 };
    for (const b of budgets) this.bars.set(b.name, { bar: this.multi.create(SCALE, 0, { target: b.name.padEnd(width), phase: '', ...payload(zero) }), budget: b });
  }

  update(target: string, p: CampaignProgress): void {
    const b = this.bars.get(target);
    b?.bar.update(used(b.budget, p), payload(p));
  }

  end(target: string, p: CampaignProgress, completed: boolean): void {
    const b = this.bars.get(target);
    b?.bar.update(completed ? SCALE : used(b.budget, p), payload(p));
  }

  phase(target: string, text: string): void {
    this.bars.get(target)?.bar.update({ phase: text });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.multi.stop();
  }
}

class PlainLines implements RunProgress {
  private readonly lastAt = new Map<string, number>();
  private readonly phaseAt = new Map<string, number>();

  constructor(private readonly out: NodeJS.WritableStream) {}

  private line(target: string, p: CampaignProgress, suffix = ''): void {
    this.out.write(`${target}: ${formatCount(p.executions)} execs  ${formatCount(rateOf(p))} exec/s  ${p.findings} findings  ${formatDuration(p.elapsedMs)}${suffix}\n`);
  }

  update(target: string, p: CampaignProgress): void {
    const now = performance.now();
    if (now - (this.lastAt.get(target) ?? -Infinity) < PLAIN_INTERVAL_MS) return;
    this.lastAt.set(target, now);
    this.line(target, p);
  }

  end(target: string, p: CampaignProgress, completed: boolean): void {
    this.line(target, p, completed ? '  done' : '  stopped');
  }

  phase(target: string, text: string, last = false): void {
    const now = performance.now();
    const at = this.phaseAt.get(target);
    if (at !== undefined && !last && now - at < PLAIN_INTERVAL_MS) return;
    this.phaseAt.set(target, now);
    this.out.write(`${target}: ${text}\n`);
  }

  stop(): void {}
}

export function makeProgress(out: NodeJS.WriteStream, budgets: readonly TargetBudget[]): RunProgress {
  return out.isTTY ? new Bars(out, budgets) : new PlainLines(out);
}
