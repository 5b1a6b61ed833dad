// The mdev model driven by fast-check instead of our strategies, as a TypeScript developer would
// write it: each CPU is an async task, each preemption point (each `yield` of the CPU's generator)
// waits on a promise handed to `s.schedule`, and `s.waitAll()` lets fast-check's scheduler pick
// which pending CPU runs next. The CPU bookkeeping is the inline engine's own (cpuBody, the CPU
// states in k.mem, k.waitSatisfied, hung, runSolo, fault): a CPU blocked on a word is kept out of
// the scheduler until its wait is satisfied, and no runnable CPU while some are blocked is the
// hung task the inline engine reports.

import fc from 'fast-check';
import { boot, bootImage, cpuBody, DEFAULT_MAX_STEPS, fault, hung, runSolo, startOf } from '../harness/engine/inline/inline.js';
import { MAX_PROGRAM_CPUS, MAX_OPS_PER_CPU, MIN_OPS_PER_CPU, MIN_PROGRAM_CPUS } from '../harness/engine/program.js';
import { Kernel } from '../harness/kernel/kernel.js';
import { CPU, CPU_BLOCKED, CPU_DONE, CPU_RUNNABLE, CPU_WORDS } from '../harness/kernel/layout.js';
import { defaultNext } from '../harness/sched/strategy.js';
import type { Target } from '../harness/target.js';
import type { Finding, Op, Program } from '../harness/types.js';

export interface ScheduledRun {
  findings: Finding[];
  /** Steps the CPUs took: one released scheduled promise each. */
  steps: number;
  /** Steps where fast-check ran a CPU other than the one our default would have kept (canonical preemptions). */
  preemptions: number;
  /** Scheduled promises fast-check released, including those of a CPU found blocked again. */
  decisions: number;
}

/** Operations from the target's OpSpec domains, weighted as the target weights them. */
export function opArbitrary(target: Target): fc.Arbitrary<Op> {
  return fc.oneof(
    ...target.ops.map((spec) => ({
      weight: spec.weight,
      arbitrary: fc
        .record(Object.fromEntries(Object.entries(spec.args).map(([name, domain]) => [name, fc.constantFrom(...domain)])))
        .map((args): Op => ({ op: spec.name, args: args as Record<string, number | string> })),
    })),
  );
}

/** 2-4 CPUs of 2-5 operations each, like harness/engine/program.ts, from one of the target's start states (the default shrinks best). */
export function programArbitrary(target: Target): fc.Arbitrary<Program> {
  const cpu = fc.array(opArbitrary(target), { minLength: MIN_OPS_PER_CPU, maxLength: MAX_OPS_PER_CPU });
  const cpus = fc.array(cpu, { minLength: MIN_PROGRAM_CPUS, maxLength: MAX_PROGRAM_CPUS });
  const states = target.startStates ?? [];
  if (states.length < 2) return cpus.map((c) => ({ cpus: c }));
  return fc.tuple(cpus, fc.constantFrom(...states)).map(([c, start]) => (start === states[0] ? { cpus: c } : { cpus: c, start }));
}

/** One execution of `program` on `target`, its interleaving chosen by fast-check's scheduler `s`. */
export async function runScheduled(target: Target, s: fc.Scheduler, program: Program, maxSteps = DEFAULT_MAX_STEPS): Promise<ScheduledRun> {
  const ncpus = program.cpus.length;
  const img = bootImage(target, startOf(target, program));
  const k = new Kernel(target.layout, new SharedArrayBuffer(target.layout.words * 4), { ncpus });
  boot(k, img);
  const gens = program.cpus.map((_, c) => cpuBody(target, k, c, program));
  const state = (c: number): number => k.mem[c * CPU_WORDS + CPU.state]!;
  const canRun = (c: number): boolean => state(c) === CPU_RUNNABLE || (state(c) === CPU_BLOCKED && k.waitSatisfied(c));
  for (let c = 0; c < ncpus; c++) k.mem[c * CPU_WORDS + CPU.state] = CPU_RUNNABLE;

  const run: ScheduledRun = { findings: k.findings, steps: 0, preemptions: 0, decisions: 0 };
  let over = false;
  let current = 0;
  /** The wake-up of each CPU blocked outside the scheduler. */
  const wakers: ((() => void) | undefined)[] = new Array(ncpus).fill(undefined);
  const turn = (c: number): Promise<void> => s.schedule(Promise.resolve(), `cpu${c}`);
  /** The turn a waker scheduled for its CPU. */
  const woken: (Promise<void> | undefined)[] = new Array(ncpus).fill(undefined);
  /**
   * Out of the scheduler until woken; the waker schedules the CPU's next turn at once, and the CPU
   * then awaits that very promise (a promise resolved with another takes extra microtask ticks, and
   * waitAll, seeing no pending task meanwhile, would return early).
   */
  const park = (c: number): Promise<void> => new Promise<void>((wake) => (wakers[c] = () => ((woken[c] = turn(c)), wake())));
  /** After every step: wake the blocked CPUs that may go on; end the run on a hang or the step budget. */
  const afterStep = (): void => {
    const blocked: number[] = [];
    let runnable = 0;
    for (let c = 0; c < ncpus; c++) {
      if (state(c) === CPU_DONE) continue;
      if (canRun(c)) runnable++;
      else blocked.push(c);
      const wake = wakers[c];
      if (wake && canRun(c)) {
        wakers[c] = undefined;
        wake();
      }
    }
    if (runnable === 0 && blocked.length > 0) hung(k, blocked);
    if (runnable > 0 && run.steps >= maxSteps) {
      k.cpu = current;
      k.oops('livelock', `livelock: step budget exceeded in ${k.fn()}`, [`${maxSteps} steps`]);
    }
  };

  const finish = (): void => {
    over = true;
    for (let c = 0; c < ncpus; c++) wakers[c]?.();
  };

  const cpuTask = async (c: number): Promise<void> => {
    for (let ready = turn(c); ; ) {
      await ready;
      if (over) return;
      run.decisions++;
      if (!canRun(c)) {
        await park(c); // blocked again since it was woken: back out of the scheduler
        ready = woken[c]!;
        continue;
      }
      const runnable = [...Array(ncpus).keys()].filter(canRun);
      if (c !== defaultNext(runnable, current)) run.preemptions++;
      current = c;
      k.cpu = c;
      k.step = run.steps;
      k.mem[c * CPU_WORDS + CPU.state] = CPU_RUNNABLE;
      k.clearWait(c);
      try {
        const r = gens[c]!.next();
        run.steps++;
        if (r.done) k.mem[c * CPU_WORDS + CPU.state] = CPU_DONE;
        for (const inv of target.invariants) inv(k);
        afterStep();
        if (r.done) return;
      } catch (e) {
        fault(k, e);
        finish();
        return;
      }
      if (state(c) === CPU_BLOCKED && !k.waitSatisfied(c)) {
        await park(c);
        ready = woken[c]!;
      } else ready = turn(c);
    }
  };

  const cpus = Promise.all(program.cpus.map((_, c) => cpuTask(c))).then(() => true);
  await s.waitAll();
  const settled = await Promise.race([cpus, new Promise<false>((resolve) => setImmediate(() => resolve(false)))]);
  if (!settled) throw new Error('fast-check adapter: CPUs left pending after waitAll');
  if (!over) {
    k.step = run.steps;
    try {
      runSolo(k, ncpus, target.teardown(k), undefined);
      target.leakCheck(k);
    } catch (e) {
      fault(k, e);
    }
  }
  return run;
}

/** The property a developer would write for one problem: no execution shows its title. */
export function noProblem(target: Target, title: string, onRun?: (run: ScheduledRun) => void): fc.IAsyncPropertyWithHooks<[fc.Scheduler, Program]> {
  return fc.asyncProperty(fc.scheduler(), programArbitrary(target), async (s, program) => {
    const run = await runScheduled(target, s, program);
    onRun?.(run);
    return !run.findings.some((f) => f.title === title);
  });
}
