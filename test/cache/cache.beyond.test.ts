// Cache functions beyond uWSGI's, asked for on its tracker: cache_update's
// keepTtl, cache_touch, cache_cas and cache_update_with (the two-thread races
// are in cache.atomic.test.ts).
import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function engine(cache2: string | string[]) {
  const e = createEngine({ cache2 });
  let now = 1_000_000_000_000;
  e.setClock(() => now);
  return { e, u: e.uwsgi as Uwsgi, advance: (s: number) => { now += s * 1000; } };
}

describe('cache beyond uWSGI', () => {
  test('cache_update keepTtl: a live key keeps its expiry, a new key takes the one given', () => {
    const { u, e, advance } = engine('name=c,items=16,blocksize=64');
    u.cache_set('k', 'one', 10);
    advance(6);
    assert.equal(u.cache_update('k', 'two', 100, undefined, { keepTtl: true }), true);
    assert.equal(text(u.cache_get('k')), 'two');
    advance(4);
    assert.equal(e.sweepCaches(), 1, 'still the first expiry: 10 s after the set');
    assert.equal(u.cache_get('k'), null);
    // Without it the expiry is replaced, as in uWSGI.
    u.cache_set('k', 'one', 10);
    advance(6);
    u.cache_update('k', 'two', 100);
    advance(4);
    assert.equal(e.sweepCaches(), 0);
    // A missing key takes `expires`.
    assert.equal(u.cache_update('new', 'v', 3, undefined, { keepTtl: true }), true);
    advance(3);
    assert.equal(e.sweepCaches(), 1);
    // keepTtl with no expiry on the item: it keeps never expiring.
    u.cache_set('forever', 'v');
    u.cache_update('forever', 'w', 1, undefined, { keepTtl: true });
    advance(5);
    assert.equal(e.sweepCaches(), 0);
    assert.equal(text(u.cache('c').get('forever')), 'w');
    throwsUwsgi(() => u.cache_update('k', 'v', 0, undefined, { keepTtl: 1 as unknown as boolean }), 'ERR_ARG_TYPE', /options.keepTtl must be a boolean/);
    throwsUwsgi(() => u.cache_update('k', 'v', 0, undefined, 'x' as never), 'ERR_ARG_TYPE', /options must be an object/);
    throwsUwsgi(() => u.cache_update('k', 'v', 0, 'c@127.0.0.1:1', { keepTtl: true }), 'ERR_UNSUPPORTED', /cannot keep an item's expiry/);
  });

  test('cache_touch: a new expiry, the value untouched; missing keys, 0 = never, bad arguments', () => {
    const { u, e, advance } = engine(['name=c,items=16,blocksize=64', 'name=lazy,items=16,blocksize=64,lazy_expire=1']);
    assert.equal(u.cache_touch('missing', 5), null);
    u.cache_set('k', 'v', 5);
    assert.equal(u.cache_touch('k', 50), true);
    advance(10);
    assert.equal(e.sweepCaches(), 0);
    assert.equal(text(u.cache_get('k')), 'v');
    assert.equal(u.cache_touch('k', 0), true);
    advance(1000);
    assert.equal(e.sweepCaches(), 0);
    // A shorter expiry is seen by a thread that remembers the value (lazy_expire checks it on every get).
    u.cache_set('t', 'v', 100, 'lazy');
    assert.equal(text(u.cache_get('t', 'lazy')), 'v');
    assert.equal(u.cache('lazy').touch('t', 1), true);
    advance(1);
    assert.equal(u.cache_get('t', 'lazy'), null);
    throwsUwsgi(() => u.cache_touch('k', -1), 'ERR_VALUE_RANGE', /expires must be 0/);
    throwsUwsgi(() => u.cache_touch('k', 'soon' as never), 'ERR_ARG_TYPE');
    throwsUwsgi(() => (u.cache_touch as (k: string) => unknown)('k'), 'ERR_ARG_COUNT');
    throwsUwsgi(() => u.cache_touch('k', 1, '@127.0.0.1:1'), 'ERR_UNSUPPORTED', /has no touch/);
  });

  test('cache_cas: swaps only from the expected bytes (null: only when missing); expiry kept unless given', () => {
    const { u, e, advance } = engine(['name=c,items=16,blocksize=64', 'name=big,items=8,blocksize=4096,blocks=128,bitmap=1']);
    assert.equal(u.cache_cas('k', null, 'one'), true);
    assert.equal(u.cache_cas('k', null, 'again'), null);
    assert.equal(u.cache_cas('k', 'two', 'three'), null);
    assert.equal(text(u.cache_get('k')), 'one');
    assert.equal(u.cache_cas('k', new TextEncoder().encode('one'), 'two'), true);
    assert.equal(text(u.cache_get('k')), 'two');
    assert.equal(u.cache_cas('k', 'tw', 'x'), null, 'a prefix is not the value');
    assert.equal(u.cache_cas('missing', 'x', 'y'), null);
    // Expiry: omitted keeps the item's, given replaces it.
    u.cache_set('e', 'a', 10);
    advance(5);
    assert.equal(u.cache_cas('e', 'a', 'b'), true);
    advance(5);
    assert.equal(e.sweepCaches(), 1);
    u.cache_set('e', 'a', 10);
    assert.equal(u.cache_cas('e', 'a', 'b', 100), true);
    advance(20);
    assert.equal(e.sweepCaches(), 0);
    // Values larger than a thread's scratch are compared and stored in place.
    const big = new Uint8Array(150_000).fill(7);
    const bigger = new Uint8Array(160_000).fill(9);
    assert.equal(u.cache_cas('b', null, big, 0, 'big'), true);
    const almost = big.slice();
    almost[149_999] = 8;
    assert.equal(u.cache_cas('b', almost, bigger, 0, 'big'), null);
    assert.equal(u.cache_cas('b', big, bigger, 0, 'big'), true);
    assert.deepEqual(u.cache_get('b', 'big'), bigger);
    assert.equal(u.cache_cas('b', bigger, new Uint8Array(600_000), 0, 'big'), null, 'refused: larger than the cache holds');
    assert.deepEqual(u.cache_get('b', 'big'), bigger);
    assert.equal(u.cache('c').cas('k', 'two', 'via Cache'), true);
    throwsUwsgi(() => u.cache_cas('k', 5 as never, 'x'), 'ERR_ARG_TYPE', /expected must be a string or Uint8Array/);
    throwsUwsgi(() => u.cache_cas('k', 'x', {} as never), 'ERR_ARG_TYPE', /value must be a string or Uint8Array/);
    throwsUwsgi(() => u.cache_cas('k', 'x', 'y', 0, 'c@127.0.0.1:1'), 'ERR_UNSUPPORTED', /compare-and-swap/);
    assert.equal(u.cache_cas('k', 'x', 'y', 0, 'nope'), null, 'an unknown cache: null, as uWSGI answers');
  });

  test('cache_update_with: the new value, undefined keeps, null deletes; a throw or a promise changes nothing and frees the lock', () => {
    const { u, e, advance } = engine(['name=c,items=4,blocksize=16', 'name=other,items=4,blocksize=16']);
    const inc = (v: Uint8Array | null) => String(Number(text(v) ?? '0') + 1);
    assert.equal(text(u.cache_update_with('n', inc)), '1');
    assert.equal(text(u.cache_update_with('n', inc)), '2');
    assert.equal(text(u.cache_get('n')), '2');
    let seen: Uint8Array | null = null;
    assert.equal(text(u.cache_update_with('n', (v) => { seen = v; v![0] = 0x39; return undefined; })), '9', 'undefined: returns what fn was given');
    assert.equal(text(u.cache_get('n')), '2', 'fn got a copy');
    assert.ok(seen !== null);
    assert.equal(u.cache_update_with('n', () => null), null);
    assert.equal(u.cache_exists('n'), null);
    assert.equal(u.cache_update_with('n', () => undefined), null);
    // A throw: unchanged, and the lock is free again (a write goes through).
    u.cache_set('k', 'v');
    assert.throws(() => u.cache_update_with('k', () => { throw new Error('boom'); }), /boom/);
    assert.equal(text(u.cache_get('k')), 'v');
    assert.equal(u.cache_update('k', 'w'), true);
    throwsUwsgi(() => u.cache_update_with('k', (async () => 'x') as never), 'ERR_ARG_TYPE', /returned a promise/);
    assert.equal(text(u.cache_get('k')), 'w');
    throwsUwsgi(() => u.cache_update_with('k', () => 5 as never), 'ERR_ARG_TYPE', /the value fn returned must be a string or Uint8Array/);
    // Cache functions from fn are refused, on any cache; the refusal propagates and frees the lock.
    for (const call of [() => u.cache_get('k'), () => u.cache_set('x', 'y', 0, 'other'), () => u.cache_exists('k'), () => u.cache_del('k'),
      () => u.cache_num('k'), () => u.cache_inc('i'), () => u.cache_keys(), () => u.cache_clear(), () => u.cache_touch('k', 1),
      () => u.cache_cas('k', 'w', 'x'), () => u.cache_update_with('k', () => 'x'), () => u.cache_get_into('k', new Uint8Array(4))]) {
      throwsUwsgi(() => u.cache_update_with('k', () => { call(); return 'never'; }), 'ERR_LOCK_STATE', /must not call cache functions/);
    }
    assert.equal(text(u.cache_get('k')), 'w');
    // The cache refuses the value: ERR_FULL, the key unchanged, the lock free.
    throwsUwsgi(() => u.cache_update_with('k', () => 'x'.repeat(17)), 'ERR_FULL', /refused the new value/);
    assert.equal(text(u.cache_get('k')), 'w');
    // Expiry: omitted keeps the item's, given replaces it.
    u.cache_set('e', 'a', 10);
    u.cache_update_with('e', () => 'b');
    advance(10);
    assert.equal(e.sweepCaches(), 1);
    u.cache_set('e', 'a', 10);
    u.cache_update_with('e', () => 'b', 0);
    advance(10);
    assert.equal(e.sweepCaches(), 0);
    assert.equal(text(u.cache('c').updateWith('e', (v) => text(v) + 'c')), 'bc');
    throwsUwsgi(() => u.cache_update_with('k', 'fn' as never), 'ERR_ARG_TYPE', /fn must be a function/);
    throwsUwsgi(() => u.cache_update_with('k', () => 'x', 0, 'c@127.0.0.1:1'), 'ERR_UNSUPPORTED');
    assert.equal(u.cache_update_with('k', () => 'x', 0, 'nope'), null);
  });
});
