// `mdevfuzz coverage`: a campaign on one target with coverage on, then a table of what it reached:
// preemption labels, concurrent pairs (labels adjacent across a context switch), the most frequent
// pairs, and labels reached per kernel function. Writes nothing; exit 0, or 2 on bad arguments.

import { randomBytes } from 'node:crypto';
import { byFunction, topPairs, type Coverage } from '../coverage/coverage.js';
import { defaultWorkers, runCampaign } from '../engine/campaign.js';
import { UsageError } from '../engine/load.js';
import type { GuideMode } from '../engine/runner.js';
import { TARGETS, findTarget } from '../../targets/index.js';
import { formatCount, formatDuration, formatTable } from './format.js';

export const DEFAULT_COVERAGE_TIME_MS = 10_000;
const TOP_PAIRS = 10;

export interface CoverageOptions {
  target: string;
  time?: number;
  execs?: number;
  seed?: string;
  workers?: number;
  json?: boolean;
  guide?: GuideMode;
}

export interface CoverageReport {
  target: string;
  seed: string;
  guide: GuideMode;
  executions: number;
  steps: number;
  elapsedMs: number;
  labelsReached: number;
  pairsReached: number;
  contextSwitches: number;
  coverage: Coverage;
}

export async function coverageCommand(o: CoverageOptions): Promise<number> {
  if (!findTarget(o.target)) throw new UsageError(`unknown target '${o.target}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMs = o.execs === undefined ? (o.time ?? DEFAULT_COVERAGE_TIME_MS) : undefined;
  const r = await runCampaign({
    target: { name: o.target }, seed, strategy: 'pct', depth: 3,
    execs: o.execs, timeMs, workers: o.workers ?? defaultWorkers(), coverage: true, guide: o.guide ?? 'off',
  });
  const coverage = r.coverage ?? { labels: [], pairs: [] };
  const report: CoverageReport = {
    target: o.target, seed, guide: o.guide ?? 'off', executions: r.executions, steps: r.steps, elapsedMs: r.elapsedMs,
    labelsReached: coverage.labels.length, pairsReached: coverage.pairs.length,
    contextSwitches: coverage.pairs.reduce((n, p) => n + p.count, 0), coverage,
  };
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCoverage(report)}\n`);
  return 0;
}

export function formatCoverage(r: CoverageReport): string {
  const pairs = topPairs(r.coverage, TOP_PAIRS).map((p) => [formatCount(p.count), p.out, p.in]);
  const fns = byFunction(r.coverage).map((f) => [f.fn, formatCount(f.labels)]);
  return [
    `coverage of ${r.target}: seed ${r.seed}, ${formatCount(r.executions)} executions in ${formatDuration(r.elapsedMs)}${r.guide === 'coverage' ? ', coverage-guided' : ''}`,
    `  labels reached:            ${formatCount(r.labelsReached)}`,
    `  concurrent pairs reached:  ${formatCount(r.pairsReached)} (over ${formatCount(r.contextSwitches)} context switches)`,
    '',
    `top ${pairs.length} pairs:`,
    formatTable([{ header: 'switches', right: true }, { header: 'switched out' }, { header: 'switched in' }], pairs),
    '',
    'labels reached per kernel function:',
    formatTable([{ header: 'function' }, { header: 'labels', right: true }], fns),
  ].join('\n');
}
