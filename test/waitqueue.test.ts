// Wait queues (harness/kernel/waitqueue.ts) against the kernel's semantics: a wake_up with nobody
// queued is lost where a complete() is remembered; a waiter that queues itself after testing its
// condition sleeps for ever when the wake_up falls between (a hung task, found and replayed);
// wait_event tests again after queueing and never misses one; a freed queue is a KASAN report.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { complete, defineStruct, defineTarget, finish_wait, makeRng, prepare_to_wait, replay, run, schedule, wait_event, wait_for_completion, wake_up, type Kernel } from '../harness/api.js';

const box = defineStruct('box', ['wq', 'ready', 'done']);
const theBox = (k: Kernel) => k.nth(box, 0);

/** A receiver of the given kind and a sender, as a fixed two-CPU program: receive on CPU 0, send on CPU 1. */
function mailbox(receive: 'racy' | 'wait_event' | 'completion') {
  return defineTarget({
    name: `box-${receive}`,
    pools: [{ def: box, capacity: 1 }],
    *setup(k) {
      k.alloc(box, 'box_init');
    },
    ops: {
      *receive(k) {
        const m = theBox(k);
        if (receive === 'completion') return yield* wait_for_completion(k, m, 'done');
        if (receive === 'wait_event') return yield* wait_event(k, m, 'wq', () => k.get(m, 'ready') !== 0, 'm->ready');
        yield k.at('test ready');
        if (k.get(m, 'ready') === 0) {
          yield* prepare_to_wait(k, m, 'wq');
          yield* schedule(k);
          yield* finish_wait(k, m, 'wq');
        }
      },
      *send(k) {
        const m = theBox(k);
        yield k.at('ready = 1');
        k.set(m, 'ready', 1);
        if (receive === 'completion') yield* complete(k, m, 'done');
        else yield* wake_up(k, m, 'wq');
      },
    },
    program: [['receive'], ['send']],
  });
}

const HUNG = 'INFO: task hung in receive';
/** The receiver runs its first step(s), then the sender runs to its end before the receiver goes on. */
const senderBetween = (steps: number) => [{ cpu: 0, step: steps, to: 1 }];

describe('wake_up is not remembered, complete is', () => {
  test('a wake_up before anyone is queued is lost: the racy receiver, tested before the send, sleeps for ever', () => {
    // Step 1 yields before the test, step 2 tests (not ready) and stops at prepare_to_wait.
    const r = replay(mailbox('racy'), mailbox('racy').generate!(makeRng('wq')), [], senderBetween(2));
    assert.deepEqual(r.findings.map((f) => f.title), [HUNG]);
    assert.equal(r.findings[0]!.kind, 'hung-task');
    assert.match(r.ladder, /~ receive:prepare_to_wait\(wq\)/); // switched out between the test and the queueing
    assert.match(r.ladder, /\^\^\^ INFO: task hung in receive/);
  });

  test('the same interleaving with the sender first or last is no hang', () => {
    const t = mailbox('racy');
    const p = { cpus: [[{ op: 'receive', args: {} }], [{ op: 'send', args: {} }]] };
    assert.deepEqual(replay(t, p, [], [{ cpu: 0, step: 0, to: 1 }]).findings, []); // sent before the test
    assert.deepEqual(replay(t, p, [], []).findings.map((f) => f.title), []); // queued before the send: woken
  });

  test('a complete() before the wait is remembered: no interleaving hangs', () => {
    const t = mailbox('completion');
    const p = { cpus: [[{ op: 'receive', args: {} }], [{ op: 'send', args: {} }]] };
    for (let at = 0; at < 4; at++) assert.deepEqual(replay(t, p, [], senderBetween(at)).findings, [], `sender after ${at} steps`);
  });
});

describe('campaigns', () => {
  test('the racy receiver is found hung, and the finding replays exactly', async () => {
    const t = mailbox('racy');
    const r = await run({ target: t, seed: 'wq', execs: 300 });
    const hang = r.findings.find((f) => f.title === HUNG);
    assert.ok(hang, r.findings.map((f) => f.title).join('\n'));
    const again = replay(t, hang.repro!.program, hang.repro!.faults, hang.repro!.schedule);
    assert.ok(again.findings.some((f) => f.title === HUNG));
  });

  test('wait_event tests again after queueing: 300 executions and no finding', async () => {
    const r = await run({ target: mailbox('wait_event'), seed: 'wq', execs: 300 });
    assert.deepEqual(r.findings.map((f) => f.title), []);
  });

  test('the same seed gives the same trace', () => {
    const t = mailbox('racy');
    const p = t.generate!(makeRng('wq'));
    const a = replay(t, p, [], senderBetween(2));
    const b = replay(t, p, [], senderBetween(2));
    assert.equal(a.ladder, b.ladder);
    assert.deepEqual(a.events, b.events);
  });
});

test('a wake_up on a freed queue is a use-after-free in the waker', () => {
  const t = defineTarget({
    name: 'freed-wq',
    pools: [{ def: box, capacity: 1 }],
    *setup(k) {
      k.alloc(box, 'box_init');
    },
    ops: {
      *release(k) {
        yield k.at('kfree(m)');
        k.free(theBox(k), 'release');
      },
      *poke(k) {
        const m = theBox(k);
        yield* wake_up(k, m, 'wq');
      },
    },
    program: [['release', 'poke']],
  });
  const r = replay(t, t.generate!(makeRng('wq')));
  assert.deepEqual(r.findings.map((f) => f.title), ['KASAN: use-after-free Read in poke']);
});
