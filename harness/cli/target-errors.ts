// How a run reports target errors (exceptions out of model code, design.md section 7): on stderr,
// each with its stack and the command that throws it again. They are bugs of the target, not
// findings of its kernel: never written to the corpus, and the run exits 2.

import type { TargetErrorReport } from '../report/summary.js';

/** Frames of the stack printed per error (summary.json keeps them all). */
const FRAMES = 12;

export function printTargetErrors(errors: readonly TargetErrorReport[]): void {
  if (errors.length === 0) return;
  const lines: string[] = [];
  for (const e of errors) {
    lines.push(`mdevfuzz: target error in ${e.target}: ${e.title} (first at index ${e.execIndex}, ${e.hits} hit${e.hits > 1 ? 's' : ''})`);
    lines.push(...e.stack.slice(0, FRAMES).map((f) => `    ${f}`));
    if (e.stack.length > FRAMES) lines.push(`    ... ${e.stack.length - FRAMES} more frames in summary.json`);
    lines.push(`  repro: ${e.repro}`);
  }
  lines.push(`mdevfuzz: ${errors.length} target error${errors.length > 1 ? 's' : ''}: bugs of the target's model code, not kernel findings; nothing of them was written to the corpus`);
  process.stderr.write(`${lines.join('\n')}\n`);
}
