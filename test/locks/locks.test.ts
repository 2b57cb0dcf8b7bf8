import { createEngine } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

describe('locks', () => {
  test('--locks N gives locks 0..N; lock 0 always exists', () => {
    const { uwsgi } = createEngine({ locks: 3 });
    for (const n of [0, 1, 2, 3]) {
      assert.equal(uwsgi.is_locked(n), false);
      uwsgi.lock(n);
      assert.equal(uwsgi.is_locked(n), true);
      uwsgi.unlock(n);
      assert.equal(uwsgi.is_locked(n), false);
    }
    const bare = createEngine({}).uwsgi;
    bare.lock();
    assert.equal(bare.is_locked(0), true);
    bare.unlock();
    throwsUwsgi(() => bare.lock(1), 'ERR_NOT_FOUND', /lock: invalid lock number 1 \(locks 0\.\.0 exist\)/);
  });

  test('bad lock numbers and argument types are typed errors naming the argument', () => {
    const { uwsgi } = createEngine({ locks: 2 });
    throwsUwsgi(() => uwsgi.lock(3), 'ERR_NOT_FOUND', /invalid lock number 3/);
    throwsUwsgi(() => uwsgi.unlock(-1), 'ERR_NOT_FOUND', /invalid lock number -1/);
    throwsUwsgi(() => uwsgi.is_locked(99), 'ERR_NOT_FOUND');
    throwsUwsgi(() => uwsgi.lock('1' as unknown as number), 'ERR_ARG_TYPE', /lock: locknum must be an integer, got string/);
    throwsUwsgi(() => uwsgi.lock(1.5), 'ERR_ARG_TYPE', /got 1\.5/);
    throwsUwsgi(() => uwsgi.unlock(null as unknown as number), 'ERR_ARG_TYPE', /got null/);
    throwsUwsgi(() => (uwsgi.lock as (...a: number[]) => void)(1, 2), 'ERR_ARG_COUNT', /lock\(\) takes at most 1 argument \(2 given\)/);
  });

  test('unlock of a free lock does nothing (as uWSGI); of one another thread holds, ERR_LOCK_STATE and the lock stays held', () => {
    const engine = createEngine({ locks: 1 });
    const other = engine.attach('worker', 1);
    engine.uwsgi.unlock(1);
    engine.uwsgi.Lock(1).release();
    other.lock(1);
    throwsUwsgi(() => engine.uwsgi.unlock(1), 'ERR_LOCK_STATE', new RegExp(`unlock\\(1\\): lock 1 is held by thread slot ${other.ctx.tid}, not by this thread`));
    throwsUwsgi(() => engine.uwsgi.Lock(1).release(), 'ERR_LOCK_STATE', /Lock\.release\(1\)/);
    assert.equal(engine.uwsgi.is_locked(1), true);
    other.unlock(1);
    assert.equal(engine.uwsgi.is_locked(1), false);
    // A dead holder's lock is the next locker's to take over (and be told), not an unlocker's to drop.
    other.lock(1);
    engine.threadExited(other.ctx.tid);
    throwsUwsgi(() => engine.uwsgi.unlock(1), 'ERR_LOCK_STATE', /held by a thread that died \(the next lock\(\) takes it over\)/);
    assert.equal(engine.uwsgi.Lock(1).acquire(100), true);
    engine.uwsgi.unlock(1);
  });

  test('a thread taking a lock it holds already gets ERR_LOCK_STATE at once, not a wait that never ends', () => {
    const engine = createEngine({ locks: 2 });
    const { uwsgi } = engine;
    const lock = uwsgi.Lock(1);
    lock.acquire();
    // Bounded first: were it a wait, it would be ERR_TIMEOUT after 200 ms.
    throwsUwsgi(() => lock.acquire(200), 'ERR_LOCK_STATE', /Lock\.acquire\(1\): this thread holds lock 1 already \(locks are not recursive/);
    throwsUwsgi(() => uwsgi.lock(1), 'ERR_LOCK_STATE', /lock\(1\): this thread holds lock 1 already/);
    assert.equal(lock.tryAcquire(), false);
    assert.equal(uwsgi.is_locked(1), true, 'the refused relock left the lock held');
    uwsgi.unlock(1);
    assert.equal(uwsgi.is_locked(1), false, 'one unlock releases it: nothing was counted twice');
    // Another thread still waits (and times out) as usual: only the holder is refused.
    const other = engine.attach('worker', 1);
    uwsgi.lock(2);
    throwsUwsgi(() => other.Lock(2).acquire(50), 'ERR_TIMEOUT');
    uwsgi.unlock(2);
  });

  test('Lock handle: tryAcquire, bounded acquire times out while another thread holds it', () => {
    const engine = createEngine({ locks: 1 });
    const other = engine.attach('worker', 1);
    const mine = engine.uwsgi.Lock(1);
    other.lock(1);
    assert.equal(mine.tryAcquire(), false);
    assert.equal(mine.locked, true);
    const t0 = performance.now();
    throwsUwsgi(() => mine.acquire(50), 'ERR_TIMEOUT', /Lock.acquire\(1\): timed out/);
    assert.ok(performance.now() - t0 >= 40);
    other.unlock(1);
    assert.equal(mine.tryAcquire(), true);
    mine.release();
  });

  test('a lock whose holder died is taken over by the next locker, who is told', () => {
    const engine = createEngine({ locks: 2 });
    const victim = engine.attach('worker', 1);
    victim.lock(2);
    assert.equal(engine.threadExited(victim.ctx.tid), 1, 'the master learns the dead thread held one lock');
    assert.equal(engine.uwsgi.is_locked(2), false, 'a lock held by a dead thread reads as free');
    assert.equal(engine.uwsgi.Lock(2).acquire(1000), true, 'acquire reports the recovery');
    assert.equal(engine.uwsgi.is_locked(2), true);
    engine.uwsgi.unlock(2);
    // Module-level lock(): recovery goes to onLockRecovered.
    const again = engine.attach('worker', 1);
    again.lock(2);
    engine.threadExited(again.ctx.tid);
    const seen: number[] = [];
    engine.uwsgi.onLockRecovered = (n) => seen.push(n);
    engine.uwsgi.lock(2);
    assert.deepEqual(seen, [2]);
    engine.uwsgi.unlock(2);
  });

  test('a reused thread slot does not inherit the dead owner\'s locks', () => {
    const engine = createEngine({ locks: 1, 'extra-threads': 1 });
    const first = engine.attach('worker', 1);
    first.lock(1);
    const tid = first.ctx.tid;
    engine.threadExited(tid);
    const second = engine.attach('worker', 1);
    assert.equal(second.ctx.tid, tid, 'the same slot is reused');
    assert.equal(second.is_locked(1), false);
    assert.equal(second.Lock(1).acquire(1000), true);
    second.unlock(1);
  });
});
