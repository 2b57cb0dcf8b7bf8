// The hinted read path (ts/cache/cache.ts: a thread remembers the slot and insert
// stamp where a key was found, the core checks them under its seqlock) and the
// near cache on top of it (the value itself, valid while the item's version is
// unchanged): what a thread remembers, once stale, must never return another
// key's value or an old value. Every test runs with the near cache on (the
// default) and off (near_items=0: hints only).
import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function engine(cache2: string, extra: string) {
  const e = createEngine({ cache2: cache2 + extra });
  let now = 1_000_000_000_000;
  e.setClock(() => now);
  return { e, u: e.uwsgi as Uwsgi, advance: (s: number) => { now += s * 1000; } };
}

for (const [mode, extra] of [['near cache', ''], ['hints only', ',near_items=0']]) describe(`cache hints (${mode})`, () => {
  test('a key deleted and re-inserted in another slot, its old slot reused by another key', () => {
    const { u } = engine('name=h,items=4,blocksize=32', extra);
    u.cache_set('a', 'a-first');
    assert.equal(text(u.cache_get('a')), 'a-first'); // learns a's slot
    assert.equal(text(u.cache_get('a')), 'a-first'); // served by the hint
    u.cache_del('a');
    assert.equal(u.cache_get('a'), null);
    u.cache_set('b', 'b-value'); // takes a's freed slot
    u.cache_set('a', 'a-second'); // a lands elsewhere
    for (let i = 0; i < 3; i++) {
      assert.equal(text(u.cache_get('a')), 'a-second');
      assert.equal(text(u.cache_get('b')), 'b-value');
    }
    // The same slot, freed and re-filled by the same key: a new insert, a new stamp.
    u.cache_del('b');
    u.cache_set('b', 'b-again');
    assert.equal(text(u.cache_get('b')), 'b-again');
  });

  test('values rewritten in place (other lengths, bitmap runs that move) are read whole', () => {
    const { u } = engine('name=h,items=8,blocksize=16,blocks=64,bitmap=1', extra);
    const buf = new Uint8Array(200);
    for (let i = 0; i < 200; i++) {
      const v = String(i).repeat(1 + (i % 37));
      assert.equal(u.cache_update('k', v, 0, 'h'), true);
      if (i % 5 === 0) u.cache_update('filler', 'x'.repeat(1 + (i % 50)), 0, 'h'); // shifts where runs land
      assert.equal(text(u.cache_get('k', 'h')), v);
      const n = u.cache_get_into('k', buf, 'h');
      assert.equal(n, v.length);
      assert.equal(new TextDecoder().decode(buf.subarray(0, n)), v);
    }
  });

  test('every hinted hit is counted; a lazily expired key is not served from its hint', () => {
    const { u, advance } = engine('name=h,items=8,blocksize=32,lazy_expire=1', extra);
    u.cache_set('t', 'short-lived', 10, 'h');
    const before = cachesOf(u.ctx).stats(0).hits;
    for (let i = 0; i < 50; i++) assert.equal(text(u.cache_get('t', 'h')), 'short-lived');
    assert.equal(cachesOf(u.ctx).stats(0).hits - before, 50n);
    advance(11);
    assert.equal(u.cache_get('t', 'h'), null);
    assert.equal(u.cache_exists('t', 'h'), null); // the get deleted it
  });

  test(mode === 'hints only' ? 'values of every small length come out exact and as separate arrays' : 'values of every small length come out exact; an unchanged value is the same array', () => {
    const { u } = engine('name=h,items=80,blocksize=128', extra);
    const seen: Uint8Array[] = [];
    for (let n = 1; n <= 70; n++) {
      const v = new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff);
      u.cache_update(`v${n}`, v, 0, 'h');
      const first = u.cache_get(`v${n}`, 'h');
      assert.deepEqual(first, v);
      const again = u.cache_get(`v${n}`, 'h');
      assert.deepEqual(again, v);
      if (mode === 'hints only') {
        // The caller owns each array: writing to it must not show up anywhere else.
        first![0] ^= 0xff;
        again![0] ^= 0xff;
        seen.push(first!, again!);
      } else {
        // Shared with later gets (as lru-cache's values are): the caller must not write to it.
        assert.equal(again, first);
        u.cache_update(`v${n}`, v, 0, 'h');
        const fresh = u.cache_get(`v${n}`, 'h');
        assert.notEqual(fresh, first, 'a rewrite gives a new array');
        assert.deepEqual(fresh, v);
      }
    }
    for (let n = 1; n <= 70; n++) assert.deepEqual(u.cache_get(`v${n}`, 'h'), new Uint8Array(n).map((_, i) => (i * 7 + n) & 0xff));
    if (mode === 'hints only') assert.equal(new Set(seen.map((a) => a.byteOffset + ':' + a.buffer.byteLength + ':' + seen.indexOf(a))).size, seen.length);
  });

  // Writes take the hint too (cache_set/cache_update of a key this thread read or wrote before): a stale one must
  // never write into another key's item, and a live one must keep cache_set's and keepTtl's meaning.
  test('a write of a key whose hinted slot now holds another key lands on the key, not on the slot', () => {
    const { u } = engine('name=h,items=4,blocksize=32', extra);
    u.cache_set('a', 'a-first');
    assert.equal(text(u.cache_get('a')), 'a-first'); // learns a's slot
    u.cache_del('a');
    u.cache_set('b', 'b-value'); // takes a's freed slot
    assert.equal(u.cache_update('a', 'a-second'), true); // a's hint names b's item now
    assert.equal(text(u.cache_get('a')), 'a-second');
    assert.equal(text(u.cache_get('b')), 'b-value');
    // And the other way: b's write after b moved.
    u.cache_del('b');
    assert.equal(u.cache_update('b', 'b-again'), true);
    assert.equal(u.cache_update('b', 'b-third'), true); // hinted, by the hint the last write left
    assert.equal(text(u.cache_get('b')), 'b-third');
    assert.equal(text(u.cache_get('a')), 'a-second');
    assert.equal(cachesOf(u.ctx).stats(0).items, 2);
    cachesOf(u.ctx).check(0);
  });

  test('a hinted write keeps cache_set, keepTtl and lazy expiry as the full path has them', () => {
    const { u, advance } = engine('name=h,items=8,blocksize=32,lazy_expire=1', extra);
    assert.equal(u.cache_set('k', 'one', 10), true);
    assert.equal(text(u.cache_get('k')), 'one');
    assert.equal(u.cache_set('k', 'two'), null, 'cache_set of a live key is refused');
    assert.equal(text(u.cache_get('k')), 'one');
    assert.equal(u.cache_update('k', 'three', 100, undefined, { keepTtl: true }), true);
    assert.equal(text(u.cache_get('k')), 'three');
    advance(11); // past the kept expiry
    assert.equal(u.cache_set('k', 'four', 5), true, 'an expired key is missing: cache_set stores it');
    assert.equal(text(u.cache_get('k')), 'four');
    assert.equal(u.cache_update('k', 'x'.repeat(33)), null, 'over the block size: refused');
    assert.equal(text(u.cache_get('k')), 'four');
    advance(6);
    assert.equal(u.cache_update('k', 'five'), true, 'an expired key is stored anew');
    assert.equal(text(u.cache_get('k')), 'five');
    advance(1000);
    assert.equal(text(u.cache_get('k')), 'five', 'cache_update without expires: never expires');
    assert.equal(cachesOf(u.ctx).stats(0).items, 1);
    cachesOf(u.ctx).check(0);
  });
});
