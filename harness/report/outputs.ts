// Write what every run, verify and merge leave in results/<run-id>/: summary.json, junit.xml and
// report.html, each atomically (a reader never sees half a file).

import { writeFileAtomic } from '../corpus/store.js';
import type { VerifySummary } from '../verify/verify.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import type { RunSummary } from './summary.js';
import { renderVerifyHtml } from './verify-html.js';
import { renderVerifyJunit } from './verify-junit.js';

type Files = Pick<RunSummary, 'summaryFile' | 'junitFile' | 'reportFile'>;

/** Writes the three files named in the summary; returns the summary's JSON text. */
async function writeOutputs<S extends Files>(s: S, junit: (s: S) => string, html: (s: S) => string): Promise<string> {
  const json = `${JSON.stringify(s, null, 2)}\n`;
  await writeFileAtomic(s.summaryFile, json);
  await writeFileAtomic(s.junitFile, junit(s));
  await writeFileAtomic(s.reportFile, html(s));
  return json;
}

export const writeRunOutputs = (s: RunSummary): Promise<string> => writeOutputs(s, renderJunit, renderHtml);

export const writeVerifyOutputs = (s: VerifySummary): Promise<string> => writeOutputs(s, renderVerifyJunit, renderVerifyHtml);
