// `mdevfuzz coverage`: a campaign on one target with coverage on, then a table of what it reached:
// the declared transitions per object kind (and which were not reached), preemption labels,
// concurrent pairs (labels adjacent across a context switch), the most frequent pairs, and labels
// reached per kernel function. Writes nothing; exit 0, 1 when a transition was observed that the
// target does not declare, 2 on bad arguments.

import { randomBytes } from 'node:crypto';
import { byFunction, topPairs, type Coverage } from '../coverage/coverage.js';
import { declaredTransitions, formatTransition, transitionCoverage, type TransitionCoverage } from '../coverage/transitions.js';
import { defaultWorkers, runCampaign } from '../engine/campaign.js';
import { loadTarget, UsageError, type TargetRef } from '../engine/load.js';
import { limitsOf, type LimitFlags } from './limits.js';
import type { GuideMode } from '../engine/runner.js';
import { TARGETS, findTarget } from '../../targets/index.js';
import { formatCount, formatDuration, formatPercent, formatTable } from './format.js';
import { targetFlag } from './run-target.js';

export const DEFAULT_COVERAGE_TIME_MS = 10_000;
const TOP_PAIRS = 10;

export interface CoverageOptions extends LimitFlags {
  /** A bundled target, or... */
  target?: string;
  /** ...a target module of the user's own. */
  targetFile?: string;
  time?: number;
  execs?: number;
  seed?: string;
  workers?: number;
  json?: boolean;
  guide?: GuideMode;
}

export interface CoverageReport {
  target: string;
  /** The module of a target of the user's own (--target-file). */
  targetFile?: string;
  seed: string;
  guide: GuideMode;
  executions: number;
  steps: number;
  elapsedMs: number;
  labelsReached: number;
  pairsReached: number;
  contextSwitches: number;
  transitions: TransitionCoverage;
  coverage: Coverage;
}

export async function coverageCommand(o: CoverageOptions): Promise<number> {
  if (o.target === undefined && o.targetFile === undefined) throw new UsageError('coverage needs --target or --target-file');
  const ref: TargetRef = o.targetFile !== undefined ? { file: o.targetFile } : { name: o.target! };
  if ('name' in ref && !findTarget(ref.name)) throw new UsageError(`unknown target '${ref.name}' (known: ${TARGETS.map((x) => x.name).join(', ')})`);
  const target = await loadTarget(ref);
  const seed = o.seed ?? randomBytes(8).toString('hex');
  const timeMs = o.execs === undefined ? (o.time ?? DEFAULT_COVERAGE_TIME_MS) : undefined;
  // Under the watchdog, --workers 0 included (one worker thread): a target that never yields is a stall, not a hang.
  const r = await runCampaign({
    target: ref, seed, strategy: 'pct', depth: 3,
    execs: o.execs, timeMs, workers: o.workers ?? defaultWorkers(), coverage: true, guide: o.guide ?? 'off', limits: limitsOf(o),
  });
  const coverage = r.coverage ?? { labels: [], pairs: [], transitions: [] };
  const report: CoverageReport = {
    target: target.name, ...('file' in ref ? { targetFile: ref.file } : {}), seed, guide: o.guide ?? 'off', executions: r.executions, steps: r.steps, elapsedMs: r.elapsedMs,
    labelsReached: coverage.labels.length, pairsReached: coverage.pairs.length,
    contextSwitches: coverage.pairs.reduce((n, p) => n + p.count, 0),
    transitions: transitionCoverage(declaredTransitions(target), coverage.transitions), coverage,
  };
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatCoverage(report)}\n`);
  return report.transitions.undeclared.length > 0 ? 1 : 0;
}

/** Per object kind, declared and reached; then the unreached and the undeclared, by name. */
export function formatTransitions(t: TransitionCoverage, replay: (first: number) => string): string[] {
  const rows = t.kinds.map((k) => [k.kind, formatCount(k.declared), formatCount(k.reached), formatPercent(k.reached, k.declared)]);
  rows.push(['all', formatCount(t.declared), formatCount(t.reached), formatPercent(t.reached, t.declared)]);
  const unreached = t.kinds.flatMap((k) => k.unreached.map((u) => `  ${formatTransition(u)}`));
  const undeclared = t.undeclared.map((u) => `  ${formatTransition(u)}  (${formatCount(u.count)} executions, first at index ${u.first}: ${replay(u.first)})`);
  return [
    'transitions of the declared object states:',
    formatTable([{ header: 'object' }, { header: 'declared', right: true }, { header: 'reached', right: true }, { header: '', right: true }], rows),
    '',
    unreached.length > 0 ? `not reached (${unreached.length}):` : 'every declared transition reached',
    ...unreached,
    '',
    undeclared.length > 0 ? `NOT DECLARED (${undeclared.length}): a modelling error or a finding` : 'no undeclared transition',
    ...undeclared,
  ];
}

export function formatCoverage(r: CoverageReport): string {
  const pairs = topPairs(r.coverage, TOP_PAIRS).map((p) => [formatCount(p.count), p.out, p.in]);
  const fns = byFunction(r.coverage).map((f) => [f.fn, formatCount(f.labels)]);
  return [
    `coverage of ${r.target}: seed ${r.seed}, ${formatCount(r.executions)} executions in ${formatDuration(r.elapsedMs)}${r.guide === 'coverage' ? ', coverage-guided' : ''}`,
    '',
    ...formatTransitions(r.transitions, (first) => `mdevfuzz run ${targetFlag(r.targetFile === undefined ? { name: r.target } : { file: r.targetFile })} --seed ${r.seed} --execs ${first + 1}${r.guide === 'coverage' ? ' --guide coverage' : ''}`),
    '',
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
