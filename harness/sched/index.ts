import { pct } from './pct.js';
import { randomWalk } from './random.js';
import type { Strategy } from './strategy.js';

export const STRATEGIES = ['pct', 'random'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

export function makeStrategy(name: StrategyName, depth: number): Strategy {
  return name === 'pct' ? pct(depth) : randomWalk();
}
