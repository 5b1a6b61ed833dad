// A plug-in target with a lost wakeup. A mailbox holds one message; `receive` sleeps on the box's
// wait queue until a message is there, `send` posts one and wakes the queue. `receive` tests the
// flag and only then queues itself (prepare_to_wait) and sleeps, without testing again: a `send`
// that posts and calls wake_up between the test and the queueing wakes nobody (a wakeup is not
// remembered, unlike a completion), and the receiver sleeps for ever: a hung task. The fix:
// `yield* wait_event(k, m, 'wq', () => k.get(m, 'ready') !== 0, 'm->ready')`, which queues itself
// first and tests again before it sleeps.
//
// The program is fixed: one receiver, one sender; only the interleaving varies.

import { defineStruct, defineTarget, finish_wait, prepare_to_wait, schedule, wake_up, type Kernel } from 'mdevfuzz';

const mailbox = defineStruct('mailbox', ['wq', 'ready', 'message']);

const theBox = (k: Kernel) => k.nth(mailbox, 0);

export default defineTarget({
  name: 'mailbox',
  description: 'one message slot and a wait queue; the receiver tests the flag before it queues itself',
  pools: [{ def: mailbox, capacity: 1 }],
  *setup(k) {
    k.alloc(mailbox, 'mailbox_init');
  },
  ops: {
    *receive(k) {
      const m = theBox(k);
      yield k.at('if (!m->ready)');
      if (k.get(m, 'ready') === 0) {
        yield* prepare_to_wait(k, m, 'wq'); // the bug: m->ready is not tested again after this
        yield* schedule(k);
        yield* finish_wait(k, m, 'wq');
      }
      yield k.at('msg = m->message');
      const msg = k.get(m, 'message');
      k.set(m, 'ready', 0);
      return msg;
    },
    *send(k) {
      const m = theBox(k);
      yield k.at('m->message = 7');
      k.set(m, 'message', 7);
      k.set(m, 'ready', 1);
      yield* wake_up(k, m, 'wq');
    },
  },
  program: [['receive'], ['send']],
});
