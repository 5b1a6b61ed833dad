// Transition coverage: each step's changes of object state are recorded with the user operation
// that made them, counted the same whatever the number of workers, and an observed transition
// that the target does not declare is reported by name.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runCampaign } from '../harness/engine/campaign.js';
import { runIndex } from '../harness/engine/runner.js';
import { defineStruct, type Ref } from '../harness/kernel/layout.js';
import {
  declarationErrors,
  declaredTransitions,
  formatTransition,
  observeEveryWrite,
  parseTransitionKey,
  transitionCoverage,
  transitionKey,
} from '../harness/coverage/transitions.js';
import type { Target, TransitionDecl } from '../harness/target.js';
import { TARGETS } from '../targets/index.js';
import { cli } from './fixtures/cli.js';
import { miniTarget, prog, runWith } from './fixtures/mini.js';

const door = defineStruct('door', ['open']);
type Door = Ref<'open'>;

const kit = miniTarget({
  name: 'transitions-kit',
  pools: [{ def: door, capacity: 4 }],
  objects: [
    {
      kind: 'door',
      structs: [door],
      states: ['shut', 'open'],
      state: (k, ref) => (k.get(ref as Door, 'open') ? 'open' : 'shut'),
      transitions: [
        ['none', 'build', 'shut'],
        ['shut', 'push', 'open'],
        ['open', 'push', 'shut'],
      ],
    },
  ],
  ops: {
    *build(k) {
      yield k.at('kzalloc');
      k.alloc(door, k.at('kzalloc'));
      return 0;
    },
    *push(k) {
      yield k.at('push');
      const d = k.find(door, () => true) as Door;
      if (d !== 0) k.set(d, 'open', 1 - k.get(d, 'open'));
      return 0;
    },
    *burn(k) {
      yield k.at('burn');
      const d = k.find(door, () => true) as Door;
      if (d !== 0) k.free(d, k.at('kfree'));
      return 0;
    },
  },
});

const seen = (keys: Iterable<string> | undefined): string[] => [...(keys ?? [])].map((k) => formatTransition(parseTransitionKey(k))).sort();

describe('transitions of one execution', () => {
  test('each change of state is recorded once, with the operation that made it', () => {
    const e = runWith(kit, prog(['build', 'push', 'push', 'burn']), [], { transitions: true });
    assert.deepEqual(seen(e.transitions), ['door: none --build--> shut', 'door: open --push--> shut', 'door: shut --burn--> freed', 'door: shut --push--> open']);
  });

  test('a change after an operation\'s last preemption point is its own, not the next one\'s', () => {
    // build allocates after its only yield, in the same step that starts push: build made it.
    const e = runWith(kit, prog(['build', 'push']), [], { transitions: true, trace: true });
    assert.deepEqual(e.result.trace!.map(([, l]) => l), ['build:kzalloc', 'push:push', 'do_exit']);
    assert.ok(seen(e.transitions).includes('door: none --build--> shut'));
  });

  test('nothing is tracked when not asked', () => {
    const e = runWith(kit, prog(['build', 'push']));
    assert.equal(e.transitions, undefined);
    assert.equal(e.kernel.tracking, undefined);
  });

  test('an undeclared transition is reported by name with its first execution', () => {
    const e = runWith(kit, prog(['build', 'burn']), [], { transitions: true });
    const observed = [...e.transitions!].map((k) => ({ ...parseTransitionKey(k), count: 1, first: 7 }));
    const report = transitionCoverage(declaredTransitions(kit), observed);
    assert.deepEqual(report.undeclared.map(formatTransition), ['door: shut --burn--> freed']);
    assert.equal(report.undeclared[0]!.first, 7);
    assert.deepEqual(report.kinds, [
      { kind: 'door', declared: 3, reached: 1, unreached: [{ kind: 'door', from: 'shut', event: 'push', to: 'open' }, { kind: 'door', from: 'open', event: 'push', to: 'shut' }] },
    ]);
  });
});

describe('the bundled targets', () => {
  for (const target of TARGETS) {
    test(`${target.name}: declarations name declared states, once each`, () => {
      assert.ok(declaredTransitions(target).length > 50, 'every object kind has its machine');
      assert.deepEqual(declarationErrors(target), []);
    });
  }

  test('a planted undeclared transition is reported, the rest still count as declared', async () => {
    const real = TARGETS.find((t) => t.name === 'mdev-v5.0')!;
    const planted = 'fd: open --exit--> freed';
    // The same target without one declared event: every process exit that closes an fd is now undeclared.
    const objects = real.objects!.map((o) => {
      if (o.kind !== 'fd') return o;
      const transitions = o.transitions.map(([from, events, to]): TransitionDecl => {
        const list = typeof events === 'string' ? [events] : events;
        return [from, list.filter((e) => !(from === 'open' && e === 'exit' && to === 'freed')), to];
      });
      return { ...o, transitions };
    });
    const drifted: Target = { ...real, objects };
    const run = await runCampaign({ target: { name: real.name }, seed: 'planted', strategy: 'pct', depth: 3, execs: 400, workers: 0, coverage: true });
    const honest = transitionCoverage(declaredTransitions(real), run.coverage!.transitions);
    assert.deepEqual(honest.undeclared, [], 'the real declarations cover what the model does');
    const report = transitionCoverage(declaredTransitions(drifted), run.coverage!.transitions);
    assert.deepEqual(report.undeclared.map(formatTransition), [planted]);
    assert.ok(report.undeclared[0]!.count > 0);
    assert.equal(report.declared, honest.declared - 1);
  });

  test('the same --execs give the same transitions inline and with 2 workers, first indices included', async () => {
    const run = (workers: number) => runCampaign({ target: { name: 'mdev-v6' }, seed: 'tr', strategy: 'pct', depth: 3, execs: 400, batchSize: 50, workers, coverage: true });
    const [inline, two] = [await run(0), await run(2)];
    assert.ok(inline.coverage!.transitions.length > 30);
    assert.deepEqual(two.coverage!.transitions, inline.coverage!.transitions);
    const keys = inline.coverage!.transitions.map(transitionKey);
    assert.deepEqual(keys, [...keys].sort(), 'sorted by key');
  });
});

describe('mdevfuzz coverage: transitions', () => {
  test('prints declared and reached per object kind, and names what was not reached', async () => {
    const r = await cli(['coverage', '--target', 'mdev-v5.0', '--execs', '300', '--workers', '0', '--seed', 't']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /transitions of the declared object states:\n\s+object\s+declared\s+reached/);
    for (const kind of ['parent', 'type', 'mdev', 'vendor state', 'vfio device', 'fd', 'sysfs node', 'module']) assert.match(r.stdout, new RegExp(`\\n\\s+${kind}\\s+\\d+\\s+\\d+`));
    const json = JSON.parse((await cli(['coverage', '--target', 'mdev-v5.0', '--execs', '300', '--workers', '0', '--seed', 't', '--json'])).stdout) as {
      transitions: { declared: number; reached: number; kinds: { unreached: { kind: string; from: string; event: string; to: string }[] }[] };
    };
    const unreached = json.transitions.kinds.flatMap((k) => k.unreached);
    assert.equal(unreached.length, json.transitions.declared - json.transitions.reached);
    assert.ok(unreached.length > 0, '300 executions do not reach every declared transition');
    assert.ok(r.stdout.includes(`not reached (${unreached.length}):\n  ${formatTransition(unreached[0]!)}`), r.stdout);
  });
});

describe('writes to fields no state function reads', () => {
  for (const target of TARGETS) {
    test(`on ${target.name}, skipping them loses no transition`, () => {
      // Observed as learned (a write only to a field some state function has read), then with every
      // write observed, on the same executions: the same transitions, execution by execution.
      const cfg = { seed: 'fields', strategy: 'random', depth: 3 } as const;
      const run = (): string[][] => Array.from({ length: 300 }, (_, i) => [...runIndex(target, cfg, i, { transitions: true }).execution.transitions!].sort());
      const learned = run();
      observeEveryWrite(target);
      const every = run();
      assert.deepEqual(learned, every);
      assert.ok(new Set(learned.flat()).size > 10, 'transitions were made');
    });
  }
});

describe('the observer reads no kernel memory of its own', () => {
  for (const target of TARGETS) {
    test(`on ${target.name}, every step's access record is the same with transitions observed and without`, () => {
      // The state functions read fields after each step; those reads are the observer's, not the
      // kernel's, and would give reads-from pairs (guided coverage keys) the kernel never made.
      const cfg = { seed: 'observer', strategy: 'pct', depth: 3 } as const;
      const opts = { accesses: true, trace: true, accessText: true } as const;
      let compared = 0;
      let observedTransitions = 0;
      for (let i = 0; i < 60; i++) {
        const plain = runIndex(target, cfg, i, opts).result.accesses!;
        const observed = runIndex(target, cfg, i, { ...opts, transitions: true });
        assert.deepEqual(observed.result.accesses, plain, `execution ${i}`);
        compared += plain.length;
        observedTransitions += observed.execution.transitions!.size;
      }
      assert.ok(compared > 1000, 'steps with their accesses were compared');
      assert.ok(observedTransitions > 100, 'the observer ran');
    });
  }
});
