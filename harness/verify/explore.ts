// The preemption-bounded explorer of one program (issue 15, item 2): every schedule with at most
// `bound` preemptions, depth first, each one re-executed from the start (stateless, as CHESS and
// VeriSoft do), reduced by DPOR (harness/verify/dpor.ts; Flanagan and Godefroid 2005, with BPOR's
// backtracking for the bound) unless `dpor` is off, when every runnable CPU at every state within
// the bound is tried.
//
// A preemption is a switch away from a CPU that could have gone on; a switch from a blocked or
// finished CPU is free, and so is the choice of the first CPU (CPU order is a symmetry the
// enumeration already removed). Between choices the current CPU runs on, as in the canonical
// schedule. The executor is driven through its Strategy interface; the kernel of the running
// execution is captured through one extra invariant (invariants run after every step), so each
// step's accesses are read as soon as it ran. The target's invariants run inside that one, with
// the access record on: what they read counts as read by the step just run, so two steps that
// would pass through different intermediate states an invariant can tell apart are dependent
// (otherwise DPOR, which preserves final states and local assertions, would skip one of them). A run
// never needs a preemption to go on (the current CPU runs on; a switch from a blocked or finished
// one is free): the bound only limits which alternatives are tried. Two things carry over from run
// to run of one exploration: the race analysis of the prefix the next run replays (dpor.ts
// RaceAnalysis). The teardowns already run, by the state they started from, carry over from
// program to program too (engine/inline/teardown-memo.ts): many schedules end in the same state.
//
// No sleep sets: with a bound they lose schedules (a CPU asleep after an independent first step
// stays asleep, and the schedule that ran that step first needed a preemption more: the `walker`
// case of test/verify.test.ts). BPOR proves its backtracking sound, not sleep sets on top of it.
// test/verify.test.ts checks that DPOR and the plain bounded search find the same titles, and
// `--no-dpor` runs the plain search.

import type { Access } from '../kernel/access.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Heartbeat } from '../engine/heartbeat.js';
import { execute, type ExecOptions } from '../engine/inline/inline.js';
import { teardownMemo, type TeardownMemo } from '../engine/inline/teardown-memo.js';
import { makeRng } from '../rng.js';
import type { Strategy } from '../sched/strategy.js';
import type { Target } from '../target.js';
import type { ExecResult, Fault, FindingKind, Program, Schedule } from '../types.js';
import { RaceAnalysis, type Race } from './dpor.js';
import { mostSites } from './faults.js';

export interface ExploreOptions {
  bound: number;
  dpor: boolean;
  faults?: readonly Fault[];
  maxSteps?: number;
  /** Stop (incomplete) once Date.now() passes this. */
  deadline?: number;
  /** Every step published here, for the watchdog of `mdevfuzz verify`; so is the number of each schedule. */
  heartbeat?: Heartbeat;
  /**
   * Stop schedule `run` before its step `step`, which a watchdog found never finishing, and end the
   * exploration there: ExploreResult.halted then holds that schedule so far, with its events.
   */
  halt?: { run: number; step: number };
}

export interface ExploreFinding {
  title: string;
  kind: FindingKind;
  schedule: Schedule;
  /** Preemptions of the schedule that showed it (by the cost model above). */
  preemptions: number;
}

export interface ExploreResult {
  /** Executions run, one schedule each. */
  runs: number;
  /** Alternatives within the bound that were never run: DPOR showed them equivalent to one that was. */
  pruned: number;
  /** The first schedule that showed each title. */
  findings: ExploreFinding[];
  /** False when the deadline stopped it. */
  complete: boolean;
  /** Per fallible call, the most occurrences any run reached (faults.ts). */
  sites: Map<string, number>;
  /** The schedule that `halt` named, up to its step. */
  halted?: ExecResult;
}

/** A state of the search; sets of CPUs are bit masks (MAX_CPUS is under 32). */
interface Node {
  enabled: number;
  /** The CPU that ran the step before (-1 at the start). */
  prev: number;
  /** Preemptions before this choice. */
  cost: number;
  chosen: number;
  /** Accesses of the chosen step. */
  acc: Access[];
  /** CPUs already run from this state. */
  done: number;
  backtrack: number;
}

const has = (set: number, cpu: number): boolean => ((set >>> cpu) & 1) === 1;
const preempts = (n: Node, q: number): number => (n.prev >= 0 && q !== n.prev && has(n.enabled, n.prev) ? 1 : 0);

/** The target whose invariants hand over the running kernel and record their reads (one wrapper per target). */
const wrapped = new WeakMap<Target, { target: Target; holder: { k?: Kernel } }>();
function capturing(target: Target): { target: Target; holder: { k?: Kernel } } {
  let w = wrapped.get(target);
  if (!w) {
    const holder: { k?: Kernel } = {};
    const check = (k: Kernel): void => {
      holder.k = k;
      if (k.access) k.access.on = true;
      try {
        for (const inv of target.invariants) inv(k);
      } finally {
        if (k.access) k.access.on = false;
      }
    };
    w = { target: { ...target, invariants: [check] }, holder };
    wrapped.set(target, w);
  }
  return w;
}

function roundRobin(cands: readonly number[], prev: number): number {
  for (const c of cands) if (c > prev) return c;
  return cands[0]!;
}

export function explore(target: Target, program: Program, opts: ExploreOptions): ExploreResult {
  const { target: t, holder } = capturing(target);
  const ncpus = program.cpus.length;
  const out: ExploreResult = { runs: 0, pruned: 0, findings: [], complete: true, sites: new Map() };
  const seen = new Set<string>();
  const nodes: Node[] = [];
  const analysis = new RaceAnalysis(ncpus);
  const teardowns = teardownMemo(target);
  let fixed = 0; // nodes[0..fixed) replay; nodes[fixed-1] is the new branch
  for (;;) {
    if (opts.deadline !== undefined && Date.now() > opts.deadline) {
      out.complete = false;
      return out;
    }
    opts.heartbeat?.run(out.runs);
    const haltAt = opts.halt?.run === out.runs ? opts.halt.step : undefined;
    const { findings, sites, result } = runOnce(t, holder, program, nodes, fixed, opts, teardowns, haltAt);
    if (haltAt !== undefined) {
      out.halted = result;
      out.complete = false;
      return out;
    }
    out.runs++;
    mostSites(out.sites, sites);
    const last = nodes[nodes.length - 1];
    const cost = last ? last.cost + preempts(last, last.chosen) : 0;
    for (const f of findings) {
      if (seen.has(f.title)) continue;
      seen.add(f.title);
      out.findings.push({ ...f, preemptions: cost });
    }
    if (opts.dpor) addRaces(nodes, analysis, Math.max(fixed - 1, 0), cutShort(nodes));
    fixed = nextBranch(nodes, opts, out);
    if (fixed < 0) return out;
  }
}

interface Run {
  findings: Omit<ExploreFinding, 'preemptions'>[];
  sites: ReadonlyMap<string, number>;
  result: ExecResult;
}

/** One execution: replay nodes[0..fixed), then choose by the default, pushing new nodes; halted before step `haltAt` (with events) if given. */
function runOnce(target: Target, holder: { k?: Kernel }, program: Program, nodes: Node[], fixed: number, opts: ExploreOptions, teardowns: TeardownMemo, haltAt?: number): Run {
  const exec: ExecOptions = { faults: opts.faults ?? [], accesses: opts.dpor, maxSteps: opts.maxSteps, heartbeat: opts.heartbeat, teardowns };
  if (haltAt !== undefined) Object.assign(exec, { haltAt, events: true });
  holder.k = undefined;
  const fill = (t: number): void => {
    if (t >= Math.max(fixed - 1, 0) && nodes[t] && holder.k?.access) nodes[t]!.acc = holder.k.access.of(t);
  };
  const strategy: Strategy = {
    name: 'verify',
    start() {},
    pick(runnable, current, _steps, step) {
      if (step > 0) fill(step - 1);
      if (step < fixed) {
        const n = nodes[step]!;
        if (!runnable.includes(n.chosen)) throw new Error(`verify: replay diverged at step ${step} (cpu${n.chosen} not runnable): the target is not deterministic`);
        return n.chosen;
      }
      const before = nodes[step - 1];
      const prev = step === 0 ? -1 : current;
      const cost = before ? before.cost + preempts(before, before.chosen) : 0;
      // Between choices the current CPU runs on; a switch from a blocked or finished one is free.
      const chosen = runnable.includes(prev) ? prev : roundRobin(runnable, prev);
      let enabled = 0;
      for (const c of runnable) enabled |= 1 << c;
      nodes.push({ enabled, prev, cost, chosen, acc: [], done: 0, backtrack: opts.dpor ? 1 << chosen : enabled });
      return chosen;
    },
  };
  const { result, kernel } = execute(target, program, strategy, makeRng('verify'), exec);
  // Each step's accesses were taken at the next pick; the last step has none after it (a fatal
  // finding may also end the run inside it: that step keeps its node, its accesses recorded).
  const last = nodes.length - 1;
  if (kernel.access && last >= Math.max(fixed - 1, 0)) nodes[last]!.acc = kernel.access.of(last);
  const findings = result.findings.map((f) => ({ title: f.title, kind: f.kind, schedule: result.schedule }));
  return { findings, sites: kernel.faultSites(), result };
}

/**
 * The CPUs that could still have run when the run ended: a fatal finding in the last step stops
 * every CPU, so a CPU enabled beside it never took its steps.
 */
function cutShort(nodes: readonly Node[]): number[] {
  const last = nodes[nodes.length - 1];
  const out: number[] = [];
  if (last) for (let c = 0; last.enabled >>> c !== 0; c++) if (c !== last.chosen && has(last.enabled, c)) out.push(c);
  return out;
}

/**
 * Backtrack points from the races of the last run, whose new steps begin at `from` (the analysis
 * holds the steps before it from the runs before), with BPOR's conservative twin; `unknown` are
 * the CPUs a fatal finding cut short.
 */
function addRaces(nodes: Node[], analysis: RaceAnalysis, from: number, unknown: readonly number[]): void {
  analysis.truncate(from);
  const found: Race[] = [];
  for (let j = from; j < nodes.length; j++) {
    const race = analysis.push({ cpu: nodes[j]!.chosen, acc: nodes[j]!.acc });
    if (race) found.push(race);
  }
  for (const cpu of unknown) {
    const race = analysis.unknown(cpu);
    if (race) found.push(race);
  }
  for (const { i, cpu } of found) {
    addAt(nodes[i]!, cpu);
    for (let m = i; m >= 0; m--) {
      const n = nodes[m]!;
      if (m === 0 || n.chosen !== n.prev) {
        if (m !== i) addAt(n, cpu);
        break;
      }
    }
  }
}

function addAt(n: Node, cpu: number): void {
  n.backtrack |= has(n.enabled, cpu) ? 1 << cpu : n.enabled;
}

/** The deepest state with an untried CPU in its backtrack set, within the bound: its index + 1, or -1. */
function nextBranch(nodes: Node[], opts: ExploreOptions, out: ExploreResult): number {
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    n.done |= 1 << n.chosen;
    const next = lowestWithin(n, n.backtrack & ~n.done, opts.bound);
    if (next >= 0) {
      n.chosen = next;
      n.acc = [];
      nodes.length = i + 1;
      return i + 1;
    }
    for (let q = 0; n.enabled >>> q !== 0; q++) if (has(n.enabled & ~n.done, q) && n.cost + preempts(n, q) <= opts.bound) out.pruned++;
    nodes.length = i;
  }
  return -1;
}

/** The lowest CPU of `set` that node n can run within the bound, or -1. */
function lowestWithin(n: Node, set: number, bound: number): number {
  for (let q = 0; set >>> q !== 0; q++) if (has(set, q) && n.cost + preempts(n, q) <= bound) return q;
  return -1;
}
