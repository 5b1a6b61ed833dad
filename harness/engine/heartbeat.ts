// The heartbeat of an execution thread: a small SharedArrayBuffer that the thread running target
// code writes at every preemption point (which execution, CPU and step) and at every kernel-function
// entry and exit (the function now running), and that a watchdog in another thread reads. It is
// the only window onto a thread stuck in code that never yields, or killed for its heap: from it,
// the watchdog names the execution, the CPU and the function, in the kernel's words.

/** Word offsets. */
const HB = {
  /** Bumped at every step, and when an execution starts or ends. */
  seq: 0,
  /** IDLE or RUNNING. */
  state: 1,
  index: 2,
  cpu: 3,
  step: 4,
  /** Id of the kernel function now running (0: none, `cpu_idle`). */
  fn: 5,
  /** Names written to the name table. */
  names: 6,
  /** 0 while the execution itself runs; 1 or 2 during its first or second profiling run (profile-run.ts). */
  phase: 7,
  /** Set by the watchdog's side when the run is stopping: the batch ends after its current execution. */
  stop: 8,
  /** verify: the bound and fault choice (0: none) of the program being explored, and the schedule of it running. */
  faultCase: 9,
  run: 10,
  bound: 11,
} as const;
const HEADER_WORDS = 12;
const NAME_SLOTS = 128;
const NAME_CHARS = 48;

export const IDLE = 0;
export const RUNNING = 1;

export const HEARTBEAT_BYTES = HEADER_WORDS * 4 + NAME_SLOTS * NAME_CHARS * 2;

export function heartbeatBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEARTBEAT_BYTES);
}

/** What a heartbeat says, read from another thread. */
export interface Beat {
  seq: number;
  running: boolean;
  index: number;
  cpu: number;
  step: number;
  fn: string;
  /** The profiling run the step belongs to (1 forward, 2 backward), or 0: the execution itself. */
  phase: number;
  /** verify: the bound, fault choice (0: none) and schedule of the program's exploration the step belongs to. */
  bound: number;
  faultCase: number;
  run: number;
}

/** The writer, in the thread that runs target code. Plain stores: the reader only needs them eventually. */
export class Heartbeat {
  private readonly w: Int32Array;
  private readonly chars: Uint16Array;
  private readonly ids = new Map<string, number>();

  constructor(readonly sab: SharedArrayBuffer) {
    this.w = new Int32Array(sab, 0, HEADER_WORDS);
    this.chars = new Uint16Array(sab, HEADER_WORDS * 4);
  }

  begin(index: number): void {
    const w = this.w;
    w[HB.index] = index;
    w[HB.cpu] = 0;
    w[HB.step] = 0;
    w[HB.fn] = 0;
    w[HB.phase] = 0;
    w[HB.bound] = 0;
    w[HB.faultCase] = 0;
    w[HB.run] = 0;
    w[HB.state] = RUNNING;
    w[HB.seq]!++;
  }

  step(cpu: number, step: number): void {
    const w = this.w;
    w[HB.cpu] = cpu;
    w[HB.step] = step;
    w[HB.seq]!++;
  }

  /** Whether the run is stopping (requestStop): the batch returns what it ran so far. */
  stopRequested(): boolean {
    return Atomics.load(this.w, HB.stop) === 1;
  }

  /** The steps that follow belong to profiling run `p` (0: to the execution itself). */
  phase(p: number): void {
    this.w[HB.phase] = p;
    this.w[HB.seq]!++;
  }

  /** verify: the steps that follow explore the program at `bound` with fault choice `faultCase` (0: none)... */
  exploring(bound: number, faultCase: number): void {
    this.w[HB.bound] = bound;
    this.w[HB.faultCase] = faultCase;
    this.w[HB.run] = 0;
  }

  /** ...and to its exploration's schedule `run`. */
  run(run: number): void {
    this.w[HB.run] = run;
  }

  fn(name: string): void {
    this.w[HB.fn] = this.ids.get(name) ?? this.add(name);
  }

  end(): void {
    this.w[HB.state] = IDLE;
    this.w[HB.seq]!++;
  }

  private add(name: string): number {
    const n = this.w[HB.names]!;
    if (n >= NAME_SLOTS - 1) return 0; // a full table names the function `?`
    const id = n + 1;
    const base = (id - 1) * NAME_CHARS;
    const len = Math.min(name.length, NAME_CHARS);
    for (let i = 0; i < NAME_CHARS; i++) this.chars[base + i] = i < len ? name.charCodeAt(i) : 0;
    this.w[HB.names] = id;
    this.ids.set(name, id);
    return id;
  }
}

/** Read a heartbeat (from the watchdog's thread). */
/** Ask the thread that writes this heartbeat to end its batch after the execution it is running. */
export function requestStop(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab, 0, HEADER_WORDS), HB.stop, 1);
}

export function readBeat(sab: SharedArrayBuffer): Beat {
  const w = new Int32Array(sab, 0, HEADER_WORDS);
  const id = w[HB.fn]!;
  return { seq: w[HB.seq]!, running: w[HB.state] === RUNNING, index: w[HB.index]!, cpu: w[HB.cpu]!, step: w[HB.step]!, fn: id === 0 ? 'cpu_idle' : nameOf(sab, id), phase: w[HB.phase]!, bound: w[HB.bound]!, faultCase: w[HB.faultCase]!, run: w[HB.run]! };
}

function nameOf(sab: SharedArrayBuffer, id: number): string {
  const chars = new Uint16Array(sab, HEADER_WORDS * 4 + (id - 1) * NAME_CHARS * 2, NAME_CHARS);
  let s = '';
  for (const c of chars) {
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s || '?';
}
