// The ceiling for the inline engine: what stepping nested empty generators costs when they are
// shaped like the model's executions. The shape (steps, kfn depth per step, kfn calls, all per
// execution) is measured on the model itself; the ceiling then replays that shape with nothing in it.
// An execution's steps are those of its profiling runs (the strategy's map of the program), of its
// CPUs and of its teardown: every generator step it takes.

import { replayProfileRun, profilePhases } from '../harness/engine/profile-run.js';
import { runIndex, strategyAt, type CampaignConfig } from '../harness/engine/runner.js';
import { Kernel, kfn, type Gen } from '../harness/kernel/kernel.js';
import type { Target } from '../harness/target.js';
import type { ExecResult } from '../harness/types.js';

export interface Shape {
  /** Executions the shape was measured on. */
  execs: number;
  /** Steps of the CPUs per execution (what the engine counts as steps). */
  cpuSteps: number;
  /** Steps of the profiling runs per execution (none for a strategy without a profile). */
  profileSteps: number;
  /** Every generator step per execution: the profiling runs', the CPUs' and the teardown's. */
  steps: number;
  /** Mean number of kfn frames on the stack of the CPU that yields, per step. */
  depth: number;
  /** kfn calls per execution (every kfn call is two generators: the wrapper and the body). */
  calls: number;
}

/**
 * Run indices [start, start+count) on a copy of the target whose run, exitCpu and teardown count
 * every yield and the kfn depth it came from (the profiling runs' included), and with events on to
 * count kfn calls; then each profiling run again with its events, for its steps and kfn calls.
 */
export function measureShape(target: Target, cfg: CampaignConfig, start: number, count: number): Shape {
  let depthSum = 0;
  let teardownYields = 0;
  function* counted<T>(k: Kernel, g: Gen<T>, teardown: boolean): Gen<T> {
    for (;;) {
      const r = g.next();
      if (r.done) return r.value;
      if (teardown) teardownYields++;
      depthSum += k.stacks[k.cpu]!.length;
      yield r.value;
    }
  }
  const probe: Target = {
    ...target,
    run: (k, op) => counted(k, target.run(k, op), false),
    exitCpu: (k) => counted(k, target.exitCpu(k), false),
    teardown: (k) => counted(k, target.teardown(k), true),
  };
  let cpuSteps = 0;
  let profileSteps = 0;
  let calls = 0;
  const enters = (events: ExecResult['events']): number => events!.filter((e) => e.e === 'enter').length;
  for (let i = start; i < start + count; i++) {
    const { program, faults, result } = runIndex(probe, cfg, i, { events: true });
    cpuSteps += result.steps;
    calls += enters(result.events);
    for (const phase of profilePhases(strategyAt(target, cfg, i), program)) {
      const run = replayProfileRun(target, program, faults, phase, undefined, cfg.maxSteps);
      profileSteps += run.steps;
      calls += enters(run.events);
    }
  }
  // A CPU's last step (its exit) yields nothing: it is a step at depth 0.
  const steps = profileSteps + cpuSteps + teardownYields;
  return { execs: count, cpuSteps: cpuSteps / count, profileSteps: profileSteps / count, steps: steps / count, depth: depthSum / steps, calls: calls / count };
}

type G = Generator<string, number, void>;

/** The shape of kfn in harness/kernel/kernel.ts: the name on a call stack around the body. */
function kfnLike(name: string, body: (stack: string[], ...args: number[]) => G): (stack: string[], ...args: number[]) => G {
  return function* (stack: string[], ...args: number[]): G {
    stack.push(name);
    const r = yield* body(stack, ...args);
    stack.pop();
    return r;
  };
}

/** `levels` nested kfn-style calls; the innermost yields `yields` times and nothing else happens. */
const nested: (stack: string[], levels: number, yields: number) => G = kfnLike('nested', function* (stack, levels, yields) {
  if (levels > 1) return yield* nested(stack, levels - 1, yields);
  for (let i = 0; i < yields; i++) yield 'nested:step';
  return 0;
});

/**
 * One execution as a list of call chains [levels, yields]: as many chains as make the model's kfn
 * calls, their lengths mixing floor(depth) and ceil(depth) to give its mean depth, and its steps
 * spread evenly over them.
 */
export function plan(shape: Shape): [levels: number, yields: number][] {
  const depth = Math.max(1, shape.depth);
  const chains = Math.max(1, Math.round(shape.calls / depth));
  const low = Math.floor(depth);
  const deep = Math.round(chains * (depth - low));
  const steps = Math.round(shape.steps);
  return Array.from({ length: chains }, (_, i) => [i < deep ? low + 1 : low, Math.floor(steps / chains) + (i < steps % chains ? 1 : 0)]);
}

/** Step `execs` executions of the plan; returns the steps taken. */
export function stepCeiling(chains: readonly [number, number][], execs: number): number {
  let steps = 0;
  for (let e = 0; e < execs; e++) {
    const stack: string[] = [];
    const g = (function* (): G {
      for (const [levels, yields] of chains) yield* nested(stack, levels, yields);
      return 0;
    })();
    while (!g.next().done) steps++;
  }
  return steps;
}

/**
 * The model's own call machinery over the same plan: each level a kfn() of the kernel (its frame
 * on the CPU's call stack, a KfnCall around the body's generator) and each yield a label from
 * k.at(), as the models yield, with nothing else done. Between the ceiling and the model: what
 * calling and labelling costs, apart from what the model's functions do.
 */
export function stepKfnMachinery(target: Target, chains: readonly [number, number][], execs: number): number {
  const k = new Kernel(target.layout, new SharedArrayBuffer(target.layout.words * 4), { ncpus: 1 });
  k.cpu = 0;
  let steps = 0;
  for (let e = 0; e < execs; e++) {
    const g = (function* (): Gen<number> {
      for (const [levels, yields] of chains) yield* nestedKfn(k, levels, yields);
      return 0;
    })();
    while (!g.next().done) steps++;
  }
  return steps;
}

const nestedKfn: (k: Kernel, levels: number, yields: number) => Gen<number> = kfn('nested', function* (k: Kernel, levels: number, yields: number): Gen<number> {
  if (levels > 1) return yield* nestedKfn(k, levels - 1, yields);
  for (let i = 0; i < yields; i++) yield k.at('step');
  return 0;
});
