// The near cache (ts/cache/cache.ts): each thread remembers the values it read
// with the item's version, and returns them while the version is unchanged.
// Another view of the engine acts as another thread (its own core instance,
// thread slot and near cache); the 3-thread model test (cache.fresh) races them.
import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { CACHE_ITEM_STAMP, CACHE_ITEM_VERSION, CACHE_LINE_FOUND_ITEM, CACHE_LINE_NEAR_HITS, CACHE_NEAR_FOLD } from '../../ts/kernel/abi.ts';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function engine(cache2: string | string[]) {
  const e = createEngine({ cache2 });
  let now = 1_000_000_000_000;
  e.setClock(() => now);
  const u = e.uwsgi as Uwsgi;
  const other = e.attach('worker', 1) as Uwsgi;
  return { e, u, other, advance: (s: number) => { now += s * 1000; } };
}

/** The Uint32 word at `addr` of the engine's memory (a view of the shared memory, as any thread's). */
function word(u: Uwsgi, addr: number): { get(): number; set(v: number): void } {
  const dv = new DataView(u.ctx.u8.buffer);
  return { get: () => dv.getUint32(addr, true), set: (v: number) => dv.setUint32(addr, v >>> 0, true) };
}

describe('near cache', () => {
  test('an unchanged value is returned as the same array, counted as a hit; exists and get_into use it too', () => {
    const { u } = engine('name=n,items=16,blocksize=64');
    u.cache_set('k', 'value');
    const api = cachesOf(u.ctx);
    const first = u.cache_get('k');
    assert.deepEqual(api.near(0), { keys: 1, values: 1, bytes: api.near(0).bytes });
    assert.ok(api.near(0).bytes >= 5);
    const hits = api.stats(0).hits;
    for (let i = 0; i < 10; i++) assert.equal(u.cache_get('k'), first);
    assert.equal(u.cache_exists('k'), true);
    const buf = new Uint8Array(3);
    assert.equal(u.cache_get_into('k', buf), 5);
    assert.equal(text(buf), 'val');
    assert.equal(api.stats(0).hits - hits, 12n, 'every near hit is counted');
    // Byte keys are not remembered (a Map cannot key them by content): each get is a lookup.
    u.cache_set(new Uint8Array([1, 2]), 'bytes');
    assert.equal(text(u.cache_get(new Uint8Array([1, 2]))), 'bytes');
    assert.equal(api.near(0).keys, 1);
  });

  test("every kind of write by another thread is seen at once: update, set after del, del, inc, clear, sweep, math's expiry", () => {
    const { u, other, e, advance } = engine('name=n,items=16,blocksize=64');
    const read = () => text(u.cache_get('k'));
    other.cache_set('k', 'one');
    assert.equal(read(), 'one');
    assert.equal(read(), 'one');
    other.cache_update('k', 'two');
    assert.equal(read(), 'two');
    other.cache_del('k');
    assert.equal(read(), null);
    assert.equal(u.cache_exists('k'), null);
    other.cache_set('k', 'three');
    assert.equal(read(), 'three');
    other.cache_update('k', 'four-with-expiry', 5);
    assert.equal(read(), 'four-with-expiry');
    other.cache_clear();
    assert.equal(read(), null);
    other.cache_inc('n', 5);
    assert.equal(u.cache_num('n'), 5n);
    assert.equal(u.cache_get('n')![0], 5);
    other.cache_inc('n', 1);
    assert.equal(u.cache_get('n')![0], 6);
    other.cache_update('k', 'five', 5);
    assert.equal(read(), 'five');
    advance(6);
    assert.equal(read(), 'five', 'without lazy_expire an expired item stays until swept (as uWSGI)');
    assert.equal(e.sweepCaches(), 1);
    assert.equal(read(), null);
    // A key deleted and inserted again lands in the slot another key left: the slot's version moved on.
    other.cache_set('a', 'a1');
    other.cache_set('b', 'b1');
    assert.equal(text(u.cache_get('a')), 'a1');
    assert.equal(text(u.cache_get('b')), 'b1');
    other.cache_del('a');
    other.cache_del('b');
    other.cache_set('b', 'b2');
    other.cache_set('a', 'a2');
    assert.equal(text(u.cache_get('a')), 'a2');
    assert.equal(text(u.cache_get('b')), 'b2');
  });

  test('lazy_expire: a remembered value is not returned once the clock reaches its expiry', () => {
    const { u, advance } = engine('name=n,items=16,blocksize=64,lazy_expire=1');
    u.cache_set('t', 'ten seconds', 10);
    const first = u.cache_get('t');
    advance(9);
    assert.equal(u.cache_get('t'), first);
    assert.equal(u.cache_exists('t'), true);
    advance(1);
    assert.equal(u.cache_exists('t'), null);
    assert.equal(u.cache_get('t'), null);
    u.cache_set('t', 'again', 1);
    assert.equal(text(u.cache_get('t')), 'again');
    advance(1);
    assert.equal(u.cache_get('t'), null);
  });

  test('near_items and near_bytes bound what a thread keeps; the oldest keys go first', () => {
    const { u } = engine('name=n,items=64,blocksize=8192,near_items=4');
    const api = cachesOf(u.ctx);
    for (let i = 0; i < 6; i++) u.cache_set(`k${i}`, `v${i}`);
    const got = Array.from({ length: 6 }, (_, i) => u.cache_get(`k${i}`));
    assert.deepEqual(api.near(0).keys, 4);
    assert.equal(u.cache_get('k5'), got[5], 'recent keys are still remembered');
    assert.notEqual(u.cache_get('k0'), got[0], 'the oldest were dropped');
    assert.deepEqual(got.map(text), ['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);

    // Values over the copy-out pool's 4 KiB have buffers of their own: counted by their length.
    const big = engine('name=b,items=64,blocksize=8192,near_bytes=12000');
    const bapi = cachesOf(big.u.ctx);
    for (let i = 0; i < 5; i++) big.u.cache_set(`k${i}`, new Uint8Array(5000).fill(i));
    for (let i = 0; i < 5; i++) assert.equal(big.u.cache_get(`k${i}`)![4999], i);
    const n = bapi.near(0);
    assert.equal(n.values, 2);
    assert.equal(n.bytes, 10000);
    // Small values are views of a pooled buffer where the runtime pools them: the whole buffer counts, once.
    const small = engine('name=s,items=200,blocksize=64,near_bytes=70000');
    for (let i = 0; i < 150; i++) small.u.cache_set(`k${i}`, 'x'.repeat(32));
    for (let i = 0; i < 150; i++) small.u.cache_get(`k${i}`);
    const s = cachesOf(small.u.ctx).near(0);
    assert.ok(s.bytes <= 70000 && s.values > 0, JSON.stringify(s));
  });

  test('near_items=0 (or near_bytes=0) turns it off: every get returns an array of its own; purge_lru never uses it', () => {
    for (const spec of ['name=n,items=16,blocksize=64,near_items=0', 'name=n,items=16,blocksize=64,near_bytes=0']) {
      const { u } = engine(spec);
      u.cache_set('k', 'v');
      const a = u.cache_get('k');
      const b = u.cache_get('k');
      assert.notEqual(a, b);
      assert.deepEqual(a, b);
      assert.equal(cachesOf(u.ctx).near(0).values, 0);
    }
    const { u } = engine('name=l,items=3,blocksize=64,purge_lru=1');
    u.cache_set('a', '1');
    u.cache_set('b', '2');
    assert.notEqual(u.cache_get('a'), u.cache_get('a'));
    u.cache_set('c', '3'); // full (2 items): evicts b, the least recently used, since the gets moved a
    assert.equal(u.cache_get('b'), null);
    assert.equal(text(u.cache_get('a')), '1');
    assert.deepEqual(cachesOf(u.ctx).near(0), { keys: 0, values: 0, bytes: 0 });
  });

  test('near_check: a caller that modifies a value it was handed gets ERR_MODIFIED at the next get of the key', () => {
    const { u } = engine('name=n,items=16,blocksize=64,near_check');
    u.cache_set('k', 'abc');
    const v = u.cache_get('k')!;
    assert.equal(u.cache_get('k'), v);
    v[0] = 0x41;
    throwsUwsgi(() => u.cache_get('k'), 'ERR_MODIFIED', /cache_get: the value returned for key 'k' was modified by the caller/);
    assert.equal(text(u.cache_get('k')), 'abc', 'the next get reads the cache again');
  });

  test("near hits counted in JS are folded into the core's hits before their 32-bit count could wrap", () => {
    const { u } = engine('name=n,items=16,blocksize=64');
    const api = cachesOf(u.ctx);
    u.cache_set('k', 'v');
    u.cache_get('k');
    const c = u.ctx.x.cache_handle(0) >>> 0;
    const near = word(u, (u.ctx.x.cache_line_addr(c) >>> 0) + CACHE_LINE_NEAR_HITS);
    const before = api.stats(0).hits - BigInt(near.get());
    near.set(CACHE_NEAR_FOLD - 1); // as if this thread had served that many near hits
    const counted = before + BigInt(CACHE_NEAR_FOLD - 1);
    assert.equal(api.stats(0).hits, counted);
    u.cache_get('k');
    assert.equal(near.get(), 0, 'folded');
    assert.equal(api.stats(0).hits, counted + 1n);
  });

  test('a version that wraps gives the slot a fresh stamp: a remembered value cannot come back after 2^32 writes', () => {
    const { u, other } = engine('name=n,items=16,blocksize=64');
    other.cache_set('k', 'old');
    const old = u.cache_get('k');
    const c = u.ctx.x.cache_handle(0) >>> 0;
    const item = word(u, (u.ctx.x.cache_line_addr(c) >>> 0) + CACHE_LINE_FOUND_ITEM).get();
    const version = word(u, item + CACHE_ITEM_VERSION);
    const stampLo = word(u, item + CACHE_ITEM_STAMP);
    // Four billion writes later, the version is one short of wrapping and this thread reads the key again.
    version.set(0xffffffff);
    assert.equal(text(u.cache_get('k')), 'old');
    const remembered = u.cache_get('k');
    assert.notEqual(remembered, old);
    const stamp = stampLo.get();
    other.cache_update('k', 'new'); // the write that wraps the version to 0
    assert.equal(version.get(), 0);
    assert.notEqual(stampLo.get(), stamp, 'a fresh stamp');
    // And 2^32 - 1 writes later the version is back where the reader saw it: the stamp still differs.
    version.set(0xffffffff);
    assert.equal(text(u.cache_get('k')), 'new');
  });
});
