#!/usr/bin/env -S node --max-semi-space-size=2
// The mdevfuzz command line. Every command returns its exit code; anything wrong with what the user
// asked for (commander's own errors included) becomes one line on stderr, `mdevfuzz: ...`, and 2.

import { Command, CommanderError, Option } from 'commander';
import { CorpusError } from '../corpus/entry.js';
import { HistoryError } from '../corpus/history.js';
import { LockError } from '../corpus/lock.js';
import { StageError } from '../corpus/stage.js';
import { harnessVersion } from '../corpus/identity.js';
import { UsageError } from '../engine/load.js';
import { DEFAULT_STRATEGY, STRATEGIES } from '../sched/index.js';
import { parseDepth, parseDuration, parseMemoryMb, parseNonNegative, parsePositive, parsePositiveWorkers, parseSeed, parseShard, parseTargetList, parseWorkers } from './args.js';
import type { CompareOptions } from './compare.js';
import type { CoverageOptions } from './coverage.js';
import type { CorpusCheckOptions } from './corpus.js';
import { oneLine } from './format.js';
import type { MergeOptions } from './merge.js';
import type { MinimizeOptions } from './minimize.js';
import type { ReplayOptions } from './replay.js';
import type { RunOptions } from './run.js';
import type { StressCliOptions } from './stress.js';
import { ENGINES } from '../engine/threads/threads-run.js';
import { GUIDE_MODES } from '../engine/runner.js';
import { poolGcFlags } from '../engine/pool/gc-flags.js';
import type { VerifyOptions } from './verify.js';
import { STALL_TIMEOUT_HELP, WORKER_MEMORY_HELP } from './limits.js';

const EXIT_USAGE = 2;

poolGcFlags();

// Each command's module is imported when that command runs, so a campaign's process holds none of
// the others' code (issue 17: 3.5 MiB of the main thread's RSS).
function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('mdevfuzz')
    .description('Fuzzing and stress-test harness for the lifecycle of the Linux VFIO mdev core')
    .version(harnessVersion())
    .exitOverride()
    .configureOutput({ writeErr: () => {}, outputError: () => {} });

  program
    .command('run')
    .description('a campaign over every bundled target (or --target ...); new findings go to the corpus')
    .addOption(new Option('--target <names>', "bundled targets, comma-separated (default: all; see 'mdevfuzz targets')").argParser(parseTargetList).conflicts('targetFile'))
    .addOption(new Option('--target-file <file>', 'a target module of your own (its default export)'))
    .option('--seed <seed>', 'campaign seed (default: a fresh random one, printed first)', parseSeed)
    .option('--execs <n>', 'stop after this many executions per target', parsePositive)
    .option('--time <duration>', 'stop after this long in all, split evenly between the targets: 500ms, 20s, 2m or seconds (default 60s without --execs)', parseDuration)
    .option('--shard <i/n>', 'run only the i-th (from 0) of n slices of the --execs indices', parseShard)
    .option('--workers <n>', 'worker threads; 0 runs inline (default: one per CPU)', parseWorkers)
    .addOption(new Option('--engine <name>', 'inline (with --workers), or threads: the CPUs of one execution at a time on their own worker threads').choices(ENGINES).default('inline'))
    .addOption(new Option('--strategy <name>', 'scheduling strategy').choices(STRATEGIES).default(DEFAULT_STRATEGY))
    .option('--depth <d>', 'PCT depth: number of priority change points + 1 (at most the step budget)', parseDepth, 3)
    .addOption(new Option('--guide <mode>', 'off: every execution drawn at random; coverage: part of them mutate the executions that reached new coverage').choices(GUIDE_MODES).default('off'))
    .option('--json', 'print exactly the summary JSON on stdout')
    .option('--corpus <dir>', 'corpus directory', './corpus')
    .option('--results <dir>', 'where results/<run-id>/ goes', './results')
    .option('--run-id <id>', 'name of the results directory (default: <time>-<seed>)')
    .option('--no-minimize', 'save new entries as found, without minimizing them')
    .option('--no-faults', 'no fault injection (by default one execution in four fails one fallible call)')
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (opts: RunOptions) => setExitCode(await (await import('./run.js')).runCommand(opts)));

  program
    .command('merge')
    .description('combine runs of one campaign (its shards) into <results>/OUT: summary, junit, report and corpus; or the state files of verify shards into one verdict (the same three files)')
    .argument('<out>', 'the run id to write under --results')
    .argument('<run-dir...>', 'results/<run-id> directories of the runs to merge, or results/verify/*.json of verify --shard runs')
    .option('--results <dir>', 'where OUT goes', './results')
    .option('--json', 'print exactly the merged summary JSON on stdout')
    .action(async (out: string, dirs: string[], opts: MergeOptions) => setExitCode(await (await import('./merge.js')).mergeCommand(out, dirs, opts)));

  program
    .command('replay')
    .description('re-execute a corpus entry exactly and check that its signature recurs')
    .argument('<file>', 'a corpus entry, e.g. corpus/mdev-v5.0/<slug>.json')
    .option('--json', 'print the outcome as JSON')
    .option('--ladder', 'print the ladder diagram of the replay')
    .option('--width <n>', "the ladder's width in characters (default: the terminal's, or 100)", parsePositive)
    .option('--accesses', 'print every step with the fields it read, wrote and synchronised on')
    .option('--target-file <file>', "the entry's target module, when it is not bundled")
    .addOption(new Option('--engine <name>', 'inline, or threads: each CPU on its own worker thread').choices(ENGINES).default('inline'))
    .option('--results <dir>', 'where verified.json records re-verified entries (a reproduced replay is one)', './results')
    .option('--update', "when it reproduces, write the current target hash into the entry itself (changes the file)")
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (file: string, opts: ReplayOptions) => setExitCode(await (await import('./replay.js')).replayCommand(file, opts)));

  program
    .command('minimize')
    .description("shrink a corpus entry's repro for its signature and store it in the entry")
    .argument('<file>', 'a corpus entry')
    .option('--json', 'print the outcome as JSON')
    .option('--budget-ms <n>', 'stop minimizing after this many milliseconds (default 60000)', parsePositive)
    .option('--target-file <file>', "the entry's target module, when it is not bundled")
    .addOption(new Option('--engine <name>', 'where the original and the result are checked: inline, or threads').choices(ENGINES).default('inline'))
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (file: string, opts: MinimizeOptions) => setExitCode(await (await import('./minimize.js')).minimizeCommand(file, opts)));

  const corpus = program.command('corpus').description('list, check, merge and migrate corpus entries');
  corpus
    .command('list')
    .description('one line per entry: target, signature, kind, hits and runs (from results/history.json), repro sizes')
    .argument('[dir]', 'a corpus directory', './corpus')
    .option('--json', 'print the entries as JSON')
    .option('--results <dir>', 'where history.json (hits, runs, last seen) is read', './results')
    .action(async (dir: string, opts: { json?: boolean; results: string }) => setExitCode(await (await import('./corpus.js')).corpusListCommand(dir, opts)));
  corpus
    .command('check')
    .description('validate every entry and replay it (minimized and original forms): the regression suite')
    .argument('<dir...>', 'corpus directories or entry files')
    .option('--json', 'print the results as JSON')
    .option('--results <dir>', 'where verified.json records the entries re-verified against the current target code', './results')
    .option('--target-file <file>', 'the module of a target that is not bundled: its entries replay on it')
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (dirs: string[], opts: CorpusCheckOptions) => setExitCode(await (await import('./corpus.js')).corpusCheckCommand(dirs, opts)));
  corpus
    .command('merge')
    .description('merge corpora into OUT: one entry per (target, signature), the smallest repro; all or nothing')
    .argument('<out>', 'the corpus directory to write (its own entries take part)')
    .argument('<dir...>', 'corpus directories or entry files to merge in')
    .option('--results <dir>', "where history.json counts the hits of the runs whose results/<run-id>/corpus are merged (once per run)", './results')
    .action(async (out: string, dirs: string[], opts: { results: string }) => setExitCode(await (await import('./corpus.js')).corpusMergeCommand(out, dirs, opts)));
  corpus
    .command('migrate')
    .description('rewrite entries of an older schema in the current one (counters dropped); current entries are left as they are')
    .argument('[dir...]', 'corpus directories or entry files', ['./corpus'])
    .option('--check', 'write nothing; exit 1 when some entry is not in the current schema')
    .option('--json', 'print the outcome as JSON')
    .action(async (dirs: string[], opts: { json?: boolean; check?: boolean }) => setExitCode(await (await import('./corpus.js')).corpusMigrateCommand(dirs, opts)));

  program
    .command('compare')
    .description('the same campaign on several targets, and one table of what each found')
    .option('--targets <list>', 'comma-separated bundled targets, e.g. mdev-v5.0,mdev-v5.2,mdev-v6', parseTargetList)
    .option('--target-file <file>', 'a target module of your own (its default export), compared after --targets')
    .addOption(new Option('--time <duration>', 'per target: 500ms, 20s, 2m or seconds (default 10s)').argParser(parseDuration).conflicts('execs'))
    .option('--execs <n>', 'per target: run exactly this many executions', parsePositive)
    .option('--seed <seed>', 'campaign seed, the same for every target (default: a fresh random one)', parseSeed)
    .option('--workers <n>', 'worker threads; 0 runs inline (default: one per CPU)', parseWorkers)
    .addOption(new Option('--guide <mode>', 'off: every execution drawn at random; coverage: part of them mutate the executions that reached new coverage').choices(GUIDE_MODES).default('off'))
    .option('--json', 'print exactly the compare JSON on stdout')
    .option('--results <dir>', 'where results/<run-id>/compare.json goes', './results')
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (opts: CompareOptions) => setExitCode(await (await import('./compare.js')).compareCommand(opts)));

  program
    .command('stress')
    .description('free-running real threads on one target; failures are confirmed inline before they are saved')
    .addOption(new Option('--target <name>', "a bundled target (see 'mdevfuzz targets')").conflicts('targetFile'))
    .addOption(new Option('--target-file <file>', 'a target module of your own (its default export)'))
    .option('--time <duration>', 'stop after this long: 500ms, 20s, 2m or seconds (default 30s without --execs)', parseDuration)
    .option('--execs <n>', 'stop after this many executions', parsePositive)
    .option('--workers <n>', 'executions at a time, each on its own CPU threads (default: one per two cores)', parsePositiveWorkers)
    .option('--seed <seed>', 'seed of the programs, faults and timing perturbations (default: a fresh random one)', parseSeed)
    .option('--json', 'print exactly the summary JSON on stdout')
    .option('--corpus <dir>', 'corpus directory', './corpus')
    .option('--results <dir>', 'where results/<run-id>/summary.json goes', './results')
    .option('--no-faults', 'no fault injection')
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (opts: StressCliOptions) => setExitCode(await (await import('./stress.js')).stressCommand(opts)));

  program
    .command('coverage')
    .description('a campaign on one target with coverage on: labels and concurrent pairs reached, per kernel function')
    .addOption(new Option('--target <name>', "a bundled target (see 'mdevfuzz targets')").conflicts('targetFile'))
    .addOption(new Option('--target-file <file>', 'a target module of your own (its default export)'))
    .addOption(new Option('--time <duration>', 'stop after this long: 500ms, 20s, 2m or seconds (default 10s)').argParser(parseDuration).conflicts('execs'))
    .option('--execs <n>', 'run exactly this many executions', parsePositive)
    .option('--seed <seed>', 'campaign seed (default: a fresh random one)', parseSeed)
    .option('--workers <n>', 'worker threads; 0 runs inline (default: one per CPU)', parseWorkers)
    .addOption(new Option('--guide <mode>', 'off: every execution drawn at random; coverage: part of them mutate the executions that reached new coverage').choices(GUIDE_MODES).default('off'))
    .option('--json', 'print the coverage as JSON')
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (opts: CoverageOptions) => setExitCode(await (await import('./coverage.js')).coverageCommand(opts)));

  program
    .command('verify')
    .description('bounded exhaustive search: every program of <= S ops on C CPUs, every schedule of <= B preemptions (DPOR), every single fault')
    .addOption(new Option('--target <name>', "a bundled target (see 'mdevfuzz targets')").conflicts('targetFile'))
    .addOption(new Option('--target-file <file>', 'a target module of your own (its default export)'))
    .requiredOption('--max-ops <n>', 'S: operations per program, all CPUs together (at most 6)', parsePositive)
    .option('--cpus <n>', 'C: CPUs per program, each with one operation or more (1-3)', parsePositive, 2)
    .option('--preemptions <n>', 'B: the preemption bound; bounds 0..B are searched in turn', parseNonNegative, 1)
    .option('--time <duration>', 'stop cleanly after this long; the same command again resumes', parseDuration)
    .option('--shard <i/n>', 'only the program ranks r with r mod n = i', parseShard)
    .option('--starts <which>', "start states: all, default, or a comma-separated list", 'all')
    .option('--ops <names>', 'only these operations, comma-separated (a sub-API; default: all of the target\'s)')
    .option('--domain <arg=value,...>', 'only these values of the arguments named (e.g. type=mtty-1,module=mtty)')
    .option('--json', 'print exactly the verify summary JSON on stdout')
    .option('--no-faults', 'no fault dimension (by default each fallible call also fails once, at each occurrence)')
    .option('--no-dpor', 'every schedule within the bound, without partial-order reduction (for comparison)')
    .option('--corpus <dir>', 'corpus directory (an unexpected finding is saved there, minimized)', './corpus')
    .option('--results <dir>', 'where verify/<target>-<key>.json (the state) and <run-id>/ go', './results')
    .option('--run-id <id>', 'name of the results directory (default: <time>-verify-<target>)')
    .option('--stall-timeout <duration>', STALL_TIMEOUT_HELP, parseDuration)
    .option('--worker-memory <mb>', WORKER_MEMORY_HELP, parseMemoryMb)
    .action(async (opts: VerifyOptions) => setExitCode(await (await import('./verify.js')).verifyCommand(opts)));

  program
    .command('targets')
    .description('list the bundled targets')
    .option('--json', 'print them as JSON')
    .action(async (opts: { json?: boolean }) => setExitCode((await import('./targets.js')).targetsCommand(opts)));

  return program;
}

function usageLine(err: CommanderError, command: string | undefined): string {
  if (err.code === 'commander.help' && command === 'corpus') return "missing corpus command: list, check, merge or migrate (see 'mdevfuzz corpus --help')";
  if (err.code === 'commander.help') return "missing command: run, merge, replay, minimize, corpus, compare, stress, coverage, verify or targets (see 'mdevfuzz --help')";
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
      process.stderr.write(`mdevfuzz: ${usageLine(err, argv[2])}\n`);
    } else if (err instanceof UsageError || err instanceof CorpusError || err instanceof StageError || err instanceof LockError || err instanceof HistoryError) {
      process.stderr.write(`mdevfuzz: ${oneLine(err.message)}\n`);
    } else {
      process.stderr.write(`mdevfuzz: harness error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
      if (process.env.MDEVFUZZ_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    }
    return EXIT_USAGE;
  }
}

// Output piped to a reader that stops early (`| head`): further output is dropped quietly, and the
// command finishes its work (results, corpus) as it would have.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    stream.write = (() => true) as typeof stream.write;
  });
}

process.exitCode = await main(process.argv);
