#!/usr/bin/env node
// The mdevfuzz command line. Every command returns its exit code; anything wrong with what the user
// asked for (commander's own errors included) becomes one line on stderr, `mdevfuzz: ...`, and 2.

import { Command, CommanderError, Option } from 'commander';
import { CorpusError } from '../corpus/entry.js';
import { harnessVersion } from '../corpus/identity.js';
import { UsageError } from '../engine/load.js';
import { STRATEGIES } from '../sched/index.js';
import { parseDuration, parseNonNegative, parsePositive, parseSeed } from './args.js';
import { oneLine } from './format.js';
import { replayCommand, type ReplayOptions } from './replay.js';
import { runCommand, type RunOptions } from './run.js';
import { targetsCommand } from './targets.js';

const EXIT_USAGE = 2;

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('mdevfuzz')
    .description('Fuzzing and stress-test harness for the lifecycle of the Linux VFIO mdev core')
    .version(harnessVersion())
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });

  program
    .command('run')
    .description('run a campaign on one target; new findings go to the corpus')
    .addOption(new Option('--target <name>', "a bundled target (see 'mdevfuzz targets')").conflicts('targetFile'))
    .addOption(new Option('--target-file <file>', 'a target module of your own (its default export)'))
    .option('--seed <seed>', 'campaign seed (default: a fresh random one, printed first)', parseSeed)
    .option('--execs <n>', 'stop after this many executions', parsePositive)
    .option('--time <duration>', 'stop after this long: 500ms, 20s, 2m or seconds (default 30s without --execs)', parseDuration)
    .option('--workers <n>', 'worker threads; 0 runs inline (default: one per CPU)', parseNonNegative)
    .addOption(new Option('--strategy <name>', 'scheduling strategy').choices(STRATEGIES).default('pct'))
    .option('--depth <d>', 'PCT depth: number of priority change points + 1', parsePositive, 3)
    .option('--json', 'print exactly the summary JSON on stdout')
    .option('--corpus <dir>', 'corpus directory', './corpus')
    .option('--results <dir>', 'where results/<run-id>/summary.json goes', './results')
    .action(async (opts: RunOptions) => setExitCode(await runCommand(opts)));

  program
    .command('replay')
    .description('re-execute a corpus entry exactly and check that its signature recurs')
    .argument('<file>', 'a corpus entry, e.g. corpus/mdev-v5.0/<slug>.json')
    .option('--json', 'print the outcome as JSON')
    .option('--ladder', 'print the ladder diagram of the replay')
    .option('--target-file <file>', "the entry's target module, when it is not bundled")
    .action(async (file: string, opts: ReplayOptions) => setExitCode(await replayCommand(file, opts)));

  program
    .command('targets')
    .description('list the bundled targets')
    .option('--json', 'print them as JSON')
    .action((opts: { json?: boolean }) => setExitCode(targetsCommand(opts)));

  return program;
}

function usageLine(err: CommanderError): string {
  if (err.code === 'commander.help') return "missing command: run, replay or targets (see 'mdevfuzz --help')";
  return oneLine(err.message.replace(/^error: /, ''));
}

async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      process.stderr.write(`mdevfuzz: ${usageLine(err)}\n`);
    } else if (err instanceof UsageError || err instanceof CorpusError) {
      process.stderr.write(`mdevfuzz: ${oneLine(err.message)}\n`);
    } else {
      process.stderr.write(`mdevfuzz: harness error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
      if (process.env.MDEVFUZZ_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    }
    return EXIT_USAGE;
  }
}

process.exitCode = await main(process.argv);
