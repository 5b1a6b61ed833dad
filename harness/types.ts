// Plain data shared by every part of the harness: programs, schedules, traces and findings are
// JSON-able values, so that they can be saved, compared byte for byte, and sent to workers.

/** One user-level operation of a virtual CPU, e.g. `{ op: 'create', args: { type: 'mtty-1', uuid: 0 } }`. */
export interface Op {
  op: string;
  args: Record<string, number | string>;
}

/** K virtual CPUs, each a short list of operations. A CPU is a process: its fds close when it ends. */
export interface Program {
  cpus: Op[][];
  /**
   * The state the execution starts from, one of the target's startStates; absent means the first,
   * the default (and every entry saved before start states existed).
   */
  start?: string;
}

/** A fallible kernel call that fails at its nth occurrence in the execution (1-based), as fail_nth. */
export interface Fault {
  call: string;
  nth: number;
}

/**
 * Canonical schedule: "after `cpu` has run `step` steps, switch to `to`". Between preemptions the
 * current CPU runs until it blocks or ends; then the next runnable CPU in round-robin order runs.
 * At the start the current CPU is 0 with 0 steps.
 */
export interface Preemption {
  cpu: number;
  step: number;
  to: number;
}

export type Schedule = Preemption[];

/** One executed preemption point: which CPU ran and the label of the step it stopped at. */
export type TraceStep = [cpu: number, label: string];

/**
 * Events for the ladder: a step, or entry and exit of a kernel function. A step that ends with its
 * CPU blocked in a wait carries `blocked: true`; the CPU waits until it runs again.
 */
export type TraceEvent =
  | { e: 'step'; cpu: number; label: string; blocked?: true }
  | { e: 'enter'; cpu: number; fn: string }
  | { e: 'exit'; cpu: number; fn: string; ret?: number }
  | { e: 'op'; cpu: number; op: Op }
  | { e: 'ret'; cpu: number; op: string; ret: number }
  | { e: 'finding'; cpu: number; title: string };

export const FINDING_KINDS = [
  'null-deref',
  'use-after-free',
  'unloaded-module',
  'hung-task',
  'lockdep',
  'refcount',
  'leak',
  'sysfs-warn',
  'invariant',
  'harness-error',
  'livelock',
  'stall',
  'oom',
  'target-error',
] as const;

export type FindingKind = (typeof FINDING_KINDS)[number];

/** Fatal kinds end the execution (an oops kills the machine in the model); warnings let it go on. */
export const FATAL_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>([
  'null-deref',
  'use-after-free',
  'unloaded-module',
  'hung-task',
  'harness-error',
  'livelock',
  'stall',
  'oom',
  'target-error',
]);

/**
 * A JavaScript exception out of model code (a TypeError, ...): a bug of the target, not of the
 * modelled kernel. Reported with its stack and a repro command, never saved to the corpus.
 */
export const TARGET_ERROR: FindingKind = 'target-error';

/** Found by the watchdog of a worker (a step past its time budget, a heap past its cap), not by an oracle. */
export const WATCHDOG_KINDS: ReadonlySet<FindingKind> = new Set<FindingKind>(['stall', 'oom']);

export interface Finding {
  kind: FindingKind;
  /** Kernel-style title; also the signature for deduplication. */
  title: string;
  /** CPU on which it fired (for a hang of all CPUs, the first blocked one). */
  cpu: number;
  /** Index in the execution's step sequence at which it fired. */
  step: number;
  /** Report lines, e.g. where a freed object was allocated and freed. */
  detail: string[];
}

/** The outcome of one execution. */
export interface ExecResult {
  findings: Finding[];
  /** Number of preemption points executed by the CPUs (setup and teardown excluded). */
  steps: number;
  /** The choices made, as the canonical schedule. */
  schedule: Schedule;
  /** Present when the executor was asked to trace. */
  trace?: TraceStep[];
  /**
   * With trace and the access record: per step, what it touched, e.g. `write mdev_state@cpu0.1.active`
   * (harness/kernel/access.ts).
   */
  accesses?: string[][];
  events?: TraceEvent[];
  /** Labels reached (for coverage) — present when asked. */
  labels?: string[];
  /** With ExecOptions.haltAt: the CPU picked for the step it stopped before. */
  haltedOn?: number;
}
