// One corpus entry (design.md section 8): everything needed to replay a finding exactly, and to tell
// whether it is still the same finding. The validator checks every field and names the first bad one.
// Schema 2 holds no counters or dates (hits, first and last seen live in results/, see history.ts),
// so that runs leave committed entries alone; it marks an entry whose minimization is still to do.
// Schema 1 entries are still read (their counters dropped) and are written back as schema 2.

import { MAX_CPUS } from '../kernel/layout.js';
import { STRATEGIES, type StrategyName } from '../sched/index.js';
import { FINDING_KINDS, type Fault, type FindingKind, type Op, type Program, type Schedule } from '../types.js';

export const SCHEMA_VERSION = 2;
/** Older schemas that are still read, and upgraded in memory. */
export const READ_SCHEMAS = [1, 2] as const;

/** The shrunk repro the minimizer writes; `stats` is its own record of what it did. */
export interface MinimizedRepro {
  program: Program;
  faults: Fault[];
  schedule: Schedule;
  stats: Record<string, unknown>;
}

export interface CorpusEntry {
  schemaVersion: typeof SCHEMA_VERSION;
  harnessVersion: string;
  /** sha256 of the target's compiled code when the entry was first written. */
  targetHash: string;
  target: string;
  /** The finding's title, which is its signature. */
  signature: string;
  kind: FindingKind;
  seed: string;
  index: number;
  strategy: StrategyName;
  depth: number;
  program: Program;
  faults: Fault[];
  /** Canonical schedule, as found. */
  schedule: Schedule;
  minimized: MinimizedRepro | null;
  /**
   * True for a first sighting written as found, whose minimization has not finished yet (the run
   * was killed or stopped): the next run, or `mdevfuzz minimize`, minimizes it.
   */
  minimizePending: boolean;
  ladder: string;
  detail: string[];
}

/** A corpus file that cannot be read, does not parse, or fails the schema. */
export class CorpusError extends Error {
  override readonly name = 'CorpusError';

  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

const ENTRY_FIELDS = [
  'schemaVersion', 'harnessVersion', 'targetHash', 'target', 'signature', 'kind', 'seed', 'index', 'strategy', 'depth',
  'program', 'faults', 'schedule', 'minimized', 'minimizePending', 'ladder', 'detail',
] as const;

/** Fields of a schema 1 entry that schema 2 dropped (they moved to results/). */
const V1_COUNTERS = ['hits', 'firstSeen', 'lastSeen'] as const;

/** Thrown inside the validator with the path of the bad field; turned into a CorpusError. */
class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly want: string,
  ) {
    super(`${field} ${want}`);
  }
}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function object(v: Json, field: string): Record<string, Json> {
  if (!isObject(v)) throw new FieldError(field, 'must be an object');
  return v;
}

function array(v: Json, field: string): Json[] {
  if (!Array.isArray(v)) throw new FieldError(field, 'must be an array');
  return v;
}

function string(v: Json, field: string, nonEmpty = true): string {
  if (typeof v !== 'string' || (nonEmpty && v.length === 0)) throw new FieldError(field, nonEmpty ? 'must be a non-empty string' : 'must be a string');
  return v;
}

function integer(v: Json, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new FieldError(field, `must be an integer >= ${min}`);
  return v;
}

function oneOf<T extends string>(v: Json, field: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new FieldError(field, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

function timestamp(v: Json, field: string): string {
  const s = string(v, field);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(s) || Number.isNaN(Date.parse(s))) throw new FieldError(field, 'must be an ISO-8601 UTC timestamp');
  return s;
}

function op(v: Json, field: string): Op {
  const o = object(v, field);
  const args = object(o.args, `${field}.args`);
  for (const [name, value] of Object.entries(args)) {
    if (typeof value !== 'number' && typeof value !== 'string') throw new FieldError(`${field}.args.${name}`, 'must be a number or a string');
  }
  return { op: string(o.op, `${field}.op`), args: args as Op['args'] };
}

/** A program; `start` (its start state) is absent in entries saved before start states existed: the default. */
function program(v: Json, field: string): Program {
  const o = object(v, field);
  const cpus = array(o.cpus, `${field}.cpus`);
  if (cpus.length < 1 || cpus.length > MAX_CPUS - 1) throw new FieldError(`${field}.cpus`, `must list 1 to ${MAX_CPUS - 1} CPUs`);
  const p: Program = { cpus: cpus.map((ops, c) => array(ops, `${field}.cpus[${c}]`).map((o, i) => op(o, `${field}.cpus[${c}][${i}]`))) };
  if (o.start !== undefined) p.start = string(o.start, `${field}.start`);
  return p;
}

function faults(v: Json, field: string): Fault[] {
  return array(v, field).map((f, i) => {
    const o = object(f, `${field}[${i}]`);
    return { call: string(o.call, `${field}[${i}].call`), nth: integer(o.nth, `${field}[${i}].nth`, 1) };
  });
}

function schedule(v: Json, field: string, ncpus: number): Schedule {
  return array(v, field).map((p, i) => {
    const o = object(p, `${field}[${i}]`);
    const cpu = integer(o.cpu, `${field}[${i}].cpu`, 0);
    const to = integer(o.to, `${field}[${i}].to`, 0);
    if (cpu >= ncpus) throw new FieldError(`${field}[${i}].cpu`, `must name one of the program's ${ncpus} CPUs`);
    if (to >= ncpus) throw new FieldError(`${field}[${i}].to`, `must name one of the program's ${ncpus} CPUs`);
    return { cpu, step: integer(o.step, `${field}[${i}].step`, 0), to };
  });
}

function minimized(v: Json, field: string): MinimizedRepro | null {
  if (v === null) return null;
  const o = object(v, field);
  const p = program(o.program, `${field}.program`);
  return {
    program: p,
    faults: faults(o.faults, `${field}.faults`),
    schedule: schedule(o.schedule, `${field}.schedule`, p.cpus.length),
    stats: object(o.stats, `${field}.stats`),
  };
}

function entry(v: Json): CorpusEntry {
  const o = object(v, 'entry');
  const version = o.schemaVersion;
  if (!(READ_SCHEMAS as readonly Json[]).includes(version)) throw new FieldError('schemaVersion', `must be ${READ_SCHEMAS.join(' or ')}`);
  const fields: readonly string[] = version === 1 ? [...ENTRY_FIELDS.filter((f) => f !== 'minimizePending'), ...V1_COUNTERS] : ENTRY_FIELDS;
  for (const key of Object.keys(o)) {
    if (!fields.includes(key)) throw new FieldError(key, 'is not a field of a corpus entry');
  }
  if (version === 1) {
    // Still checked, so that a damaged old file is reported rather than silently upgraded.
    integer(o.hits, 'hits', 1);
    const first = timestamp(o.firstSeen, 'firstSeen');
    const last = timestamp(o.lastSeen, 'lastSeen');
    if (Date.parse(last) < Date.parse(first)) throw new FieldError('lastSeen', 'must not be before firstSeen');
  } else if (typeof o.minimizePending !== 'boolean') throw new FieldError('minimizePending', 'must be true or false');
  const p = program(o.program, 'program');
  return {
    schemaVersion: SCHEMA_VERSION,
    harnessVersion: string(o.harnessVersion, 'harnessVersion'),
    targetHash: string(o.targetHash, 'targetHash'),
    target: string(o.target, 'target'),
    signature: string(o.signature, 'signature'),
    kind: oneOf(o.kind, 'kind', FINDING_KINDS),
    seed: string(o.seed, 'seed'),
    index: integer(o.index, 'index', 0),
    strategy: oneOf(o.strategy, 'strategy', STRATEGIES),
    depth: integer(o.depth, 'depth', 1),
    program: p,
    faults: faults(o.faults, 'faults'),
    schedule: schedule(o.schedule, 'schedule', p.cpus.length),
    minimized: minimized(o.minimized, 'minimized'),
    minimizePending: version === 1 ? false : (o.minimizePending as boolean),
    ladder: string(o.ladder, 'ladder', false),
    detail: array(o.detail, 'detail').map((line, i) => string(line, `detail[${i}]`, false)),
  };
}

/** The entry in `value` (parsed JSON read from `file`), or a CorpusError naming the file and the field. */
export function validateEntry(value: unknown, file: string): CorpusEntry {
  try {
    return entry(value);
  } catch (e) {
    if (e instanceof FieldError) throw new CorpusError(file, e.field === 'entry' ? `not a corpus entry (${e.want})` : `field '${e.field}' ${e.want}`);
    throw e;
  }
}

/** Parse and validate the text of a corpus file. */
export function parseEntry(text: string, file: string): CorpusEntry {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new CorpusError(file, `not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return validateEntry(value, file);
}

/** The schema version of a parsed file's text, when it has one (to tell old entries apart). */
export function schemaVersionOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { schemaVersion?: unknown }).schemaVersion;
  } catch {
    return undefined;
  }
}

/** The text written to disk: the fields in schema order, two-space indented, one final newline. */
export function serializeEntry(e: CorpusEntry): string {
  const ordered: Record<string, unknown> = {};
  for (const key of ENTRY_FIELDS) ordered[key] = e[key];
  return `${JSON.stringify(ordered, null, 2)}\n`;
}
