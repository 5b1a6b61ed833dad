// A plug-in target with a lock-order inversion (ABBA). Two accounts, each guarded by its own
// mutex; a transfer takes both locks. pay_a_to_b takes lock_a then lock_b, pay_b_to_a takes them
// the other way round. Run one after the other, lockdep reports the cycle; interleaved so that each
// CPU holds its first lock, both wait for ever: a hung task. The fix: take lock_a first in both.
//
// The program is fixed: one transfer in each direction, on two CPUs; only the interleaving varies.

import { defineStruct, defineTarget, mutex_lock, mutex_unlock, type Gen, type Kernel, type Ref } from 'mdevfuzz';

const bank = defineStruct('bank', ['lock_a', 'lock_b', 'balance_a', 'balance_b']);
type Bank = Ref<(typeof bank.fields)[number]>;
type Balance = 'balance_a' | 'balance_b';

const theBank = (k: Kernel): Bank => k.nth(bank, 0);

function* move(k: Kernel, b: Bank, from: Balance, to: Balance, amount: number): Gen {
  yield k.at(`${from} -= ${amount}`);
  k.set(b, from, k.get(b, from) - amount);
  yield k.at(`${to} += ${amount}`);
  k.set(b, to, k.get(b, to) + amount);
}

export default defineTarget({
  name: 'bank-transfer',
  description: 'two accounts with a lock each; the two directions of a transfer take the locks in opposite orders',
  pools: [{ def: bank, capacity: 1 }],
  *setup(k) {
    const b = k.alloc(bank, 'bank_init');
    k.set(b, 'balance_a', 100);
    k.set(b, 'balance_b', 100);
  },
  ops: {
    *pay_a_to_b(k) {
      const b = theBank(k);
      yield* mutex_lock(k, b, 'lock_a');
      yield* mutex_lock(k, b, 'lock_b');
      yield* move(k, b, 'balance_a', 'balance_b', 10);
      yield* mutex_unlock(k, b, 'lock_b');
      yield* mutex_unlock(k, b, 'lock_a');
    },
    *pay_b_to_a(k) {
      const b = theBank(k);
      yield* mutex_lock(k, b, 'lock_b'); // the bug: lock_a must come first, as in pay_a_to_b
      yield* mutex_lock(k, b, 'lock_a');
      yield* move(k, b, 'balance_b', 'balance_a', 10);
      yield* mutex_unlock(k, b, 'lock_a');
      yield* mutex_unlock(k, b, 'lock_b');
    },
  },
  program: [['pay_a_to_b'], ['pay_b_to_a']],
});
