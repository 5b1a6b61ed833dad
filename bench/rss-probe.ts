// Preloaded (`node --import`) into the CLI process that peak-rss.ts measures, which sets
// MDEVFUZZ_RSS_PROBE=1 for it: at exit it prints the process's peak resident set size on stderr.
// Worker threads live in the same process, so their memory is part of it.

import { writeSync } from 'node:fs';

export const RSS_MARK = 'mdevfuzz-bench-max-rss-kb=';
export const RSS_PROBE_ENV = 'MDEVFUZZ_RSS_PROBE';

if (process.env[RSS_PROBE_ENV] === '1') process.on('exit', () => writeSync(2, `\n${RSS_MARK}${process.resourceUsage().maxRSS}\n`));
