// The watchdog's flags, shared by the commands that run target code: --stall-timeout (a CPU's time
// budget between two preemption points) and --worker-memory (each worker's heap cap).

import { DEFAULT_MEMORY_MB, DEFAULT_STALL_MS, type ExecutionLimits } from '../engine/pool/guarded-pool.js';

export interface LimitFlags {
  stallTimeout?: number;
  workerMemory?: number;
}

export function limitsOf(o: LimitFlags): ExecutionLimits {
  return { stallMs: o.stallTimeout ?? DEFAULT_STALL_MS, memoryMb: o.workerMemory ?? DEFAULT_MEMORY_MB };
}

export const STALL_TIMEOUT_HELP = `a CPU that runs longer than this between two preemption points is a stall finding, and its worker is replaced (default ${DEFAULT_STALL_MS / 1000}s)`;
export const WORKER_MEMORY_HELP = `heap cap of each worker thread, in MiB; past it, the execution is an oom finding (default ${DEFAULT_MEMORY_MB})`;
