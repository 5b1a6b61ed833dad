// Write what every run leaves in results/<run-id>/: summary.json, junit.xml and report.html, each
// atomically (a reader never sees half a file).

import { writeFileAtomic } from '../corpus/store.js';
import { renderHtml } from './html.js';
import { renderJunit } from './junit.js';
import type { RunSummary } from './summary.js';

/** Writes the three files named in the summary; returns the summary's JSON text. */
export async function writeRunOutputs(s: RunSummary): Promise<string> {
  const json = `${JSON.stringify(s, null, 2)}\n`;
  await writeFileAtomic(s.summaryFile, json);
  await writeFileAtomic(s.junitFile, renderJunit(s));
  await writeFileAtomic(s.reportFile, renderHtml(s));
  return json;
}
