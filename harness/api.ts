// The public entry of the package: `import { ... } from 'mdevfuzz'`. What a plug-in target is
// written with (the model kernel: structs, kernel functions, locks, krefs, completions, wait
// queues, threads, kernfs, modules), the Target types with defineTarget, and the harness as
// functions (run, replay, minimize). Everything else under harness/ is internal and may change.

// The model kernel.
export { Kernel, KernelOops, kfn, type Gen } from './kernel/kernel.js';
export { defineStruct, makeLayout, MAX_CPUS, type Layout, type PoolSpec, type Ref, type StructDef } from './kernel/layout.js';
export {
  complete,
  down_read,
  down_read_trylock,
  down_write,
  kref_get,
  kref_init,
  kref_put,
  mutex_lock,
  mutex_unlock,
  refcount_inc_not_zero,
  up_read,
  up_write,
  wait_event_zero,
  wait_for_completion,
  type TrylockAccess,
} from './kernel/sync.js';
export { finish_wait, init_waitqueue_head, prepare_to_wait, schedule, wait_event, wake_up } from './kernel/waitqueue.js';
export { thread_join, thread_start } from './kernel/thread.js';
export * from './kernel/kernfs.js';
export * from './kernel/kobject.js';
export * from './kernel/module.js';
export * from './kernel/list.js';

// Targets.
export { defineTarget, type Operation, type OperationFn, type TargetSpec } from './define-target.js';
export { STATE_FREED, STATE_NONE, type Expectation, type ObjectKind, type OpSpec, type Target, type TransitionDecl } from './target.js';
export type { ExecResult, Fault, Finding, FindingKind, Op, Preemption, Program, Schedule, TraceEvent, TraceStep } from './types.js';
export { makeRng, type Rng } from './rng.js';

// The harness as functions.
export { minimize, replay, run, type FoundBug, type MinimizedBug, type MinimizeOptions, type MinimizeStats, type Replayed, type Repro, type RunOptions, type RunResult, type StrategyName, type TargetRef } from './programmatic.js';
