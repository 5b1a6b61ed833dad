// SURW, selectively uniform random walk (Zhao et al., ASPLOS 2025, "Selectively Uniform Concurrency
// Testing"). URW schedules a thread with probability proportional to the events it has left, which
// samples interleavings uniformly; SURW applies that only to the interesting events. Here: one
// object that two CPUs touch and one writes is drawn (weighted by its accesses in the profiling
// run); its accesses are the interesting events, counted per CPU from the profile. A CPU drawn
// (in proportion to the interesting steps it has left) runs through its uninteresting steps up to
// and including its next interesting one, then the next CPU is drawn; so the interleavings of the
// interesting steps are drawn uniformly, and every interleaving of them stays possible. A CPU with
// none left counts as one. With no shared object at all it is a random walk.

import type { Rng } from '../rng.js';
import { sharedObjects } from './profile.js';
import type { Strategy, StrategyStart } from './strategy.js';

export function surw(): Strategy {
  let rng: Rng;
  /** Per CPU, its interesting steps in ascending order; undefined: no shared object, a random walk. */
  let interesting: number[][] | undefined;
  let owner = -1;
  /** The step of the owner after which the next CPU is drawn. */
  let until = 0;
  return {
    name: 'surw',
    needsProfile: 'accesses',
    start(ctx: StrategyStart) {
      rng = ctx.rng;
      owner = -1;
      const shared = sharedObjects(ctx.profile!);
      interesting = undefined;
      if (shared.length === 0) return;
      let x = rng.int(shared.reduce((n, o) => n + o.accesses, 0));
      const chosen = shared.find((o) => (x -= o.accesses) < 0)!;
      interesting = Array.from({ length: ctx.ncpus }, (_, c) => chosen.steps[c] ?? []);
    },
    pick(runnable, _current, steps) {
      if (interesting === undefined) return runnable.length === 1 ? runnable[0]! : rng.pick(runnable);
      if (owner >= 0 && steps[owner]! <= until && runnable.includes(owner)) return owner;
      const left = runnable.map((c) => Math.max(1, remaining(interesting![c]!, steps[c]!)));
      let x = rng.int(left.reduce((n, w) => n + w, 0));
      owner = runnable[left.findIndex((w) => (x -= w) < 0)]!;
      until = interesting[owner]!.find((s) => s >= steps[owner]!) ?? Infinity;
      return owner;
    },
  };
}

/** How many of the ascending `steps` are at or after `from`. */
function remaining(steps: readonly number[], from: number): number {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return steps.length - lo;
}
