// junit.xml: one testsuite per target, for CI systems that show test results; a testcase's name is
// the signature. A new finding is a failure carrying its ladder; a finding in the corpus or the
// expectations passes (its status in system-out); a lost expectation (not found, and its corpus
// entry no longer reproduces it) fails; a known expectation the run did not reach and had no corpus
// entry to replay is skipped; an invalid corpus file is an error, and so is a target error (an
// exception out of the model's code, never in the corpus), with its stack and repro command. The
// document around the cases (junitXml) is verify's too (harness/report/verify-junit.ts).

import { findingStatus, type RunSummary, type SummaryFinding, type TargetErrorReport, type TargetResult } from './summary.js';

/** Text safe inside an XML attribute or element: escaped, and without the control characters XML 1.0 forbids. */
export function xmlText(s: string): string {
  return s
    .replace(/[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const attrs = (a: Record<string, string | number>): string =>
  Object.entries(a)
    .map(([k, v]) => ` ${k}="${xmlText(String(v))}"`)
    .join('');

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

export interface Case {
  name: string;
  /** Its time; 0 when not given. */
  ms?: number;
  /** For a passing case: why it passes, as the testcase's system-out. */
  out?: string;
  /** An element inside the testcase: failure, error or skipped; none when it passed. */
  outcome?: { tag: 'failure' | 'error' | 'skipped'; message: string; type?: string; body?: string };
}

function findingCase(f: SummaryFinding): Case {
  if (!f.new) return { name: f.signature, out: `${findingStatus(f)}: first found at execution index ${f.execIndex}, ${f.hits} hits; ${f.replay}` };
  const body = [
    `${f.kind}: ${f.signature}`,
    ...f.detail.map((d) => `  ${d}`),
    '',
    `first found at execution index ${f.execIndex}, ${f.hits} hits`,
    `replay: ${f.replay}`,
    '',
    f.ladder,
  ].join('\n');
  return { name: f.signature, outcome: { tag: 'failure', type: f.kind, message: `new finding: ${f.signature}`, body } };
}

function targetErrorCase(e: TargetErrorReport): Case {
  const body = [e.title, ...e.stack.map((f) => `    ${f}`), '', `first at execution index ${e.execIndex}, ${e.hits} hits`, `repro: ${e.repro}`].join('\n');
  return { name: e.title, outcome: { tag: 'error', type: 'target-error', message: `target error (a bug of the target's code, not a kernel finding): ${e.title}`, body } };
}

function targetCases(r: TargetResult, findings: readonly SummaryFinding[], targetErrors: readonly TargetErrorReport[]): Case[] {
  const e = r.expectations;
  const cases = findings.filter((f) => f.target === r.target).map(findingCase);
  cases.push(...targetErrors.filter((x) => x.target === r.target).map(targetErrorCase));
  for (const title of e.lost) {
    cases.push({ name: title, outcome: { tag: 'failure', type: 'lost', message: `expected finding lost: not found by this run, and its corpus entry no longer reproduces it` } });
  }
  for (const title of e.reproducedFromCorpus) cases.push({ name: title, out: 'expected: not reached by this run, but its corpus entry still reproduces it' });
  for (const title of e.expectedNotFound.filter((t) => !e.lost.includes(t) && !e.reproducedFromCorpus.includes(t))) {
    cases.push({ name: title, outcome: { tag: 'skipped', message: 'expected, not reached by this run (no corpus entry to replay)' } });
  }
  for (const err of r.corpusErrors) cases.push({ name: `corpus file ${err.split(': ')[0]}`, outcome: { tag: 'error', message: err } });
  if (r.status === 'not run') cases.push({ name: 'campaign', outcome: { tag: 'skipped', message: 'not run: the run was interrupted before this target' } });
  return cases;
}

function caseXml(target: string, c: Case): string {
  const open = `    <testcase${attrs({ classname: target, name: c.name, time: c.ms === undefined ? '0' : seconds(c.ms) })}`;
  if (c.out !== undefined) return `${open}>\n      <system-out>${xmlText(c.out)}</system-out>\n    </testcase>`;
  if (!c.outcome) return `${open}/>`;
  const o = c.outcome;
  const a = attrs({ message: o.message, ...(o.type ? { type: o.type } : {}) });
  const inner = o.body === undefined ? `<${o.tag}${a}/>` : `<${o.tag}${a}>${xmlText(o.body)}</${o.tag}>`;
  return `${open}>\n      ${inner}\n    </testcase>`;
}

type Counts = { tests: number; failures: number; errors: number; skipped: number };

function countsOf(cases: readonly Case[]): Counts {
  const count = (tag: string): number => cases.filter((c) => c.outcome?.tag === tag).length;
  return { tests: cases.length, failures: count('failure'), errors: count('error'), skipped: count('skipped') };
}

/** One testsuite: its cases, time and properties. */
export interface Suite {
  name: string;
  cases: Case[];
  ms: number;
  props: Record<string, string | number>;
}

/** The document: a testsuites element named `name`, its counts the sum of its suites'. */
export function junitXml(name: string, ms: number, startedAt: string, suites: readonly Suite[]): string {
  const total = countsOf(suites.flatMap((x) => x.cases));
  const timestamp = startedAt.replace(/\.\d+Z$/, '');
  const xml = suites.map((x) =>
    [
      `  <testsuite${attrs({ name: x.name, ...countsOf(x.cases), time: seconds(x.ms), timestamp })}>`,
      '    <properties>',
      ...Object.entries(x.props).map(([name, value]) => `      <property${attrs({ name, value })}/>`),
      '    </properties>',
      ...x.cases.map((c) => caseXml(x.name, c)),
      '  </testsuite>',
    ].join('\n'),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites${attrs({ name, ...total, time: seconds(ms) })}>\n${xml.join('\n')}\n</testsuites>\n`;
}

export function renderJunit(s: RunSummary): string {
  const suites = s.results.map((r) => ({
    name: r.target,
    cases: targetCases(r, s.findings, s.targetErrors ?? []),
    ms: r.elapsedMs,
    props: { seed: s.seed, strategy: `${s.strategy} depth ${s.depth}`, executions: r.executions, execsPerSec: r.execsPerSec, firstIndex: r.firstIndex, status: r.status },
  }));
  return junitXml(`mdevfuzz ${s.runId}`, s.elapsedMs, s.startedAt, suites);
}
