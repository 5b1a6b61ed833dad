// Transition coverage (design.md section 10): each target declares the state machine of each kind
// of object; after every step the executor re-reads the state of the objects that step allocated,
// freed or wrote, and records (kind, state, event, next state) where it changed. The event is the
// user operation of the CPU that ran the step. A transition is counted whether declared or not:
// the report sets the observed ones against the declared ones, so an undeclared one is named.

import { TRACKED_FIELDS, type Kernel } from '../kernel/kernel.js';
import { HDR, SLOT_FREE, SLOT_FREED, SLOT_LIVE, makeRef, type Pool } from '../kernel/layout.js';
import { STATE_FREED, STATE_NONE, type ObjectKind, type Target } from '../target.js';

export interface Transition {
  kind: string;
  from: string;
  event: string;
  to: string;
}

export interface TransitionCount extends Transition {
  /** Executions that made it... */
  count: number;
  /** ...the first of them by execution index. */
  first: number;
}

const SEP = '\n';

export function transitionKey(t: Transition): string {
  return `${t.kind}${SEP}${t.from}${SEP}${t.event}${SEP}${t.to}`;
}

export function parseTransitionKey(key: string): Transition {
  const [kind, from, event, to] = key.split(SEP) as [string, string, string, string];
  return { kind, from, event, to };
}

/** `mdev: registered --create--> active` */
export function formatTransition(t: Transition): string {
  return `${t.kind}: ${t.from} --${t.event}--> ${t.to}`;
}

/** Every declared transition of a target, one per event, in declaration order. */
export function declaredTransitions(target: Target): Transition[] {
  const out: Transition[] = [];
  for (const o of target.objects ?? []) {
    for (const [from, events, to] of o.transitions) {
      for (const event of typeof events === 'string' ? [events] : events) out.push({ kind: o.kind, from, event, to });
    }
  }
  return out;
}

export interface KindCoverage {
  kind: string;
  declared: number;
  reached: number;
  /** Declared and not reached, in declaration order. */
  unreached: Transition[];
}

export interface TransitionCoverage {
  declared: number;
  reached: number;
  kinds: KindCoverage[];
  /** Observed and not declared: a modelling error or a finding. */
  undeclared: TransitionCount[];
}

/** The observed transitions set against the declared ones, per kind in declaration order. */
export function transitionCoverage(declared: readonly Transition[], observed: readonly TransitionCount[]): TransitionCoverage {
  const seen = new Set(observed.map(transitionKey));
  const declaredKeys = new Set(declared.map(transitionKey));
  const kinds = new Map<string, KindCoverage>();
  for (const t of declared) {
    let k = kinds.get(t.kind);
    if (!k) kinds.set(t.kind, (k = { kind: t.kind, declared: 0, reached: 0, unreached: [] }));
    k.declared++;
    if (seen.has(transitionKey(t))) k.reached++;
    else k.unreached.push(t);
  }
  const list = [...kinds.values()];
  return {
    declared: declared.length,
    reached: list.reduce((n, k) => n + k.reached, 0),
    kinds: list,
    undeclared: observed.filter((t) => !declaredKeys.has(transitionKey(t))),
  };
}

/** A declaration that names a state it did not declare, or declares a transition twice. */
export function declarationErrors(target: Target): string[] {
  const errors: string[] = [];
  for (const o of target.objects ?? []) {
    const states = new Set([STATE_NONE, STATE_FREED, ...o.states]);
    const seen = new Set<string>();
    for (const [from, events, to] of o.transitions) {
      for (const s of [from, to]) if (!states.has(s)) errors.push(`${o.kind}: undeclared state '${s}'`);
      for (const event of typeof events === 'string' ? [events] : events) {
        const key = transitionKey({ kind: o.kind, from, event, to });
        if (seen.has(key)) errors.push(`${formatTransition({ kind: o.kind, from, event, to })} declared twice`);
        seen.add(key);
      }
    }
  }
  return errors;
}

interface Tracked {
  kind: ObjectKind;
  /** Its index among the target's kinds, for the packed keys of TransitionTracker. */
  kindId: number;
  pool: Pool;
}

/** The pools whose slots are objects of a declared kind. */
function trackedPools(target: Target): Tracked[] {
  const out: Tracked[] = [];
  (target.objects ?? []).forEach((kind, kindId) => {
    for (const def of kind.structs) {
      const pool = target.layout.byName.get(def.name);
      if (!pool) throw new Error(`${target.name}: object kind ${kind.kind} names struct ${def.name}, which has no pool`);
      out.push({ kind, kindId, pool });
    }
  });
  return out;
}

const NAME_BITS = 6;

/** Small numbers for the names of states and events, so that a transition packs into one small integer. */
class Names {
  private readonly ids = new Map<string, number>();
  readonly names: string[] = [];

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      if (this.names.length === 1 << NAME_BITS) throw new Error(`more than ${1 << NAME_BITS} state and event names`);
      this.ids.set(name, (id = this.names.length));
      this.names.push(name);
    }
    return id;
  }
}

/**
 * The state of the object whose header is at `base`, its reads marked in k.tracking.fields. Which
 * fields a state function reads depends on the values of those it read before (mdevState reads
 * `active` only when `dev_deleted` is 0), so a field first read now was not marked before; but its
 * object's state depended on it only once one of the fields read before had changed, and that
 * write was marked, observed, and led here. So a write to an unmarked field changes no state.
 */
function stateAt(k: Kernel, t: Tracked, base: number): string {
  const s = k.mem[base + HDR.state];
  if (s === SLOT_FREED) return STATE_FREED;
  if (s !== SLOT_LIVE) return STATE_NONE;
  const slot = (base - t.pool.base) / t.pool.slotWords;
  const tracking = k.tracking!;
  tracking.reading = true;
  try {
    return t.kind.state(k, makeRef(t.pool.id, k.mem[base + HDR.gen]!, slot));
  } finally {
    tracking.reading = false;
  }
}

/** The state of every tracked object alive after boot, by header word: where executions start. */
export function bootStates(target: Target, k: Kernel): Map<number, string> {
  const w = watchOf(target);
  const out = new Map<number, string>();
  k.tracking = { pools: w.pools, fields: w.fields, reading: false, touched: new Map() };
  for (const t of w.tracked) {
    for (let slot = 0; slot < t.pool.capacity; slot++) {
      const base = t.pool.base + slot * t.pool.slotWords;
      if (k.mem[base + HDR.state] !== SLOT_FREE) out.set(base, stateAt(k, t, base));
    }
  }
  k.tracking = undefined;
  return out;
}

interface Watch {
  tracked: Tracked[];
  /** By pool id: 1 for a tracked pool (Tracking.pools). */
  pools: Uint8Array;
  /** The fields state functions have read so far, in this thread (Tracking.fields). */
  fields: Uint8Array;
  /** By the header word of each slot of a tracked pool: 1 + the slot's number among all tracked slots. */
  index: Uint16Array;
  /** By tracked slot number: its index in `tracked`. */
  kindOf: Uint8Array;
  names: Names;
  /** transitionKey()s by packed transition. */
  keys: Map<number, string>;
  /** Each start state's boot states as name ids by tracked slot number (bootStates' map, as the executor passes it). */
  boots: WeakMap<ReadonlyMap<number, string>, number[]>;
}

const watchByTarget = new WeakMap<Target, Watch>();

function watchOf(target: Target): Watch {
  let w = watchByTarget.get(target);
  if (w) return w;
  const tracked = trackedPools(target);
  const pools = new Uint8Array(target.layout.pools.length + 1);
  const index = new Uint16Array(target.layout.words);
  const kindOf: number[] = [];
  tracked.forEach(({ pool }, i) => {
    if (pool.def.fields.length > TRACKED_FIELDS) throw new Error(`${target.name}: struct ${pool.def.name} of a declared kind has more than ${TRACKED_FIELDS} fields`);
    pools[pool.id] = 1;
    for (let slot = 0; slot < pool.capacity; slot++) {
      kindOf.push(i);
      index[pool.base + slot * pool.slotWords] = kindOf.length;
    }
  });
  const fields = new Uint8Array((target.layout.pools.length + 1) * TRACKED_FIELDS);
  watchByTarget.set(target, (w = { tracked, pools, fields, index, kindOf: Uint8Array.from(kindOf), names: new Names(), keys: new Map(), boots: new WeakMap() }));
  return w;
}

/**
 * From now on, in this thread, a write to any field of a tracked object is observed, read by a state
 * function or not: what observing only the fields read must give the same transitions as (a test).
 */
export function observeEveryWrite(target: Target): void {
  watchOf(target).fields.fill(1);
}

/** The state ids every execution from these boot states starts with, by tracked slot number. */
function bootIds(w: Watch, boot: ReadonlyMap<number, string>): number[] {
  let ids = w.boots.get(boot);
  if (ids) return ids;
  ids = new Array<number>(w.kindOf.length).fill(w.names.id(STATE_NONE));
  for (const [base, state] of boot) ids[w.index[base]! - 1] = w.names.id(state);
  w.boots.set(boot, ids);
  return ids;
}

/**
 * Follows the objects of one execution; `observe` after each step records what changed, packed
 * as (kind, from, event, to) in one small integer (the hot path builds no strings).
 */
export class TransitionTracker {
  private readonly seen = new Set<number>();
  /** The state id last seen of each tracked slot, by its number (a plain array: a typed one costs more to allocate per execution). */
  private readonly states: number[];
  private readonly touched = new Map<number, string>();
  private readonly watch: Watch;

  constructor(
    target: Target,
    private readonly k: Kernel,
    boot: ReadonlyMap<number, string>,
  ) {
    this.watch = watchOf(target);
    this.states = bootIds(this.watch, boot).slice();
    k.tracking = { pools: this.watch.pools, fields: this.watch.fields, reading: false, touched: this.touched };
  }

  /** When set, every transition observed is pushed here as well (a teardown remembered, teardown-memo.ts). */
  recording: number[] | undefined;

  /** Transitions observed elsewhere, as recorded: a teardown from the same state makes them again. */
  replay(packed: readonly number[]): void {
    for (const p of packed) this.seen.add(p);
  }

  /** After a step: compare the state of every slot it touched with the one before. */
  observe(): void {
    if (this.touched.size === 0) return;
    this.touched.forEach(this.compare);
    this.touched.clear();
  }

  private readonly compare = (event: string, base: number): void => {
    const { names } = this.watch;
    const i = this.watch.index[base]! - 1;
    const t = this.watch.tracked[this.watch.kindOf[i]!]!;
    const from = this.states[i]!;
    const to = names.id(stateAt(this.k, t, base));
    if (to === from) return;
    this.states[i] = to;
    const packed = (((((t.kindId << NAME_BITS) | from) << NAME_BITS) | names.id(event)) << NAME_BITS) | to;
    this.seen.add(packed);
    this.recording?.push(packed);
  };

  /** The transitions observed, as transitionKey()s. */
  keys(): Set<string> {
    const out = new Set<string>();
    for (const key of this.seen) out.add(this.watch.keys.get(key) ?? this.keyOf(key));
    return out;
  }

  /** The transitionKey() of a packed transition, built once per target. */
  private keyOf(packed: number): string {
    const { names, tracked, keys } = this.watch;
    const mask = (1 << NAME_BITS) - 1;
    const name = (shift: number): string => names.names[(packed >> shift) & mask]!;
    const kind = tracked.find((t) => t.kindId === packed >> (3 * NAME_BITS))!.kind.kind;
    const key = transitionKey({ kind, from: name(2 * NAME_BITS), event: name(NAME_BITS), to: name(0) });
    keys.set(packed, key);
    return key;
  }
}
