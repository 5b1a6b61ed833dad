// Replay of a canonical schedule: the default choice everywhere except at the listed preemptions.
// A preemption to a CPU that is not runnable there (after minimization removed its cause) is skipped.

import type { Schedule } from '../types.js';
import { defaultNext, type Strategy } from './strategy.js';

export function replay(schedule: Schedule): Strategy {
  const at = new Map<string, number>(schedule.map((p) => [`${p.cpu}:${p.step}`, p.to]));
  return {
    name: 'replay',
    start() {},
    pick(runnable, current, steps) {
      const to = at.get(`${current}:${steps[current] ?? 0}`);
      return to !== undefined && runnable.includes(to) ? to : defaultNext(runnable, current);
    },
  };
}
