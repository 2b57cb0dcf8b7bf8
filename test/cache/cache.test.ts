import { createEngine, UwsgiError, type Uwsgi } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function engine(cache2: string | string[]) {
  const e = createEngine({ cache2 });
  let now = 1_000_000_000_000;
  e.setClock(() => now);
  return { e, u: e.uwsgi as Uwsgi, advance: (s: number) => { now += s * 1000; } };
}

describe('cache API', () => {
  test('set does not overwrite, update does; get/exists/del/clear/keys', () => {
    const { u } = engine('name=c,items=10,blocksize=64');
    assert.equal(u.cache_set('a', 'one'), true);
    assert.equal(u.cache_set('a', 'two'), null);
    assert.equal(text(u.cache_get('a')), 'one');
    assert.equal(u.cache_update('a', 'two'), true);
    assert.equal(text(u.cache_get('a', 'c')), 'two');
    assert.equal(u.cache_exists('a'), true);
    assert.equal(u.cache_exists('b'), null);
    assert.deepEqual(u.cache_keys().map(text), ['a']);
    assert.equal(u.cache_del('a'), true);
    assert.equal(u.cache_del('a'), null);
    u.cache_set(new Uint8Array([0xff]), 'x');
    assert.equal(u.cache_clear(), true);
    assert.deepEqual(u.cache_keys(), []);
  });

  test('counters are int64 little-endian; mul/div default to 2; division by zero stores 0; int64 wraps', () => {
    const { u } = engine('name=c,items=10,blocksize=64,math_initial=100');
    assert.equal(u.cache_inc('n'), true);
    assert.equal(u.cache_num('n'), 101n);
    assert.equal(u.cache_mul('n'), true);
    assert.equal(u.cache_num('n'), 202n);
    assert.equal(u.cache_div('n', -4), true);
    assert.equal(u.cache_num('n'), -50n, 'truncates toward zero');
    assert.equal(u.cache_div('n', 0), true);
    assert.equal(u.cache_num('n'), 0n);
    u.cache_update('m', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    u.cache_inc('m', 1n);
    assert.equal(u.cache_num('m'), -(2n ** 63n));
    u.cache_div('m', -1);
    assert.equal(u.cache_num('m'), -(2n ** 63n), 'INT64_MIN / -1 wraps instead of trapping');
    assert.deepEqual([...u.cache_get('n')!], [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  test('expiry: visible until the sweep without lazy_expire; gone on lookup with it; inc keeps the old expiry', () => {
    const { e, u, advance } = engine(['name=swept,items=10,blocksize=64', 'name=lazy,items=10,blocksize=64,lazy_expire=1']);
    u.cache_set('x', 'v', 2, 'swept');
    u.cache_set('x', 'v', 2, 'lazy');
    u.cache_inc('n', 1, 2, 'swept');
    u.cache_inc('n', 1, 100, 'swept');
    advance(2);
    assert.equal(text(u.cache_get('x', 'swept')), 'v');
    assert.equal(u.cache_get('x', 'lazy'), null);
    assert.deepEqual(u.cache_keys('lazy'), []);
    assert.equal(e.sweepCaches(), 2, 'the counter kept its first expiry');
    assert.equal(u.cache_get('x', 'swept'), null);
    assert.equal(u.cache_set('x', 'new', 0, 'swept'), true);
  });

  test('full caches: refused, purge_lru evicts the least recent, clear_on_full empties, sweep_on_full sweeps', () => {
    const { u, advance } = engine([
      'name=plain,items=3,blocksize=16', 'name=lru,items=3,blocksize=16,purge_lru=1',
      'name=clear,items=3,blocksize=16,clear_on_full=1', 'name=sweep,items=3,blocksize=16,sweep_on_full=10,ignore_full=1',
      'name=bm,items=4,blocksize=4,blocks=4,bitmap=1',
    ]);
    for (const c of ['plain', 'lru', 'clear', 'sweep']) { u.cache_set('a', '1', c === 'sweep' ? 1 : 0, c); u.cache_set('b', '2', 0, c); }
    assert.equal(u.cache_set('c', '3', 0, 'plain'), null);
    u.cache_get('a', 'lru');
    assert.equal(u.cache_set('c', '3', 0, 'lru'), true);
    assert.deepEqual(u.cache_keys('lru').map(text).sort(), ['a', 'c'], 'b was the least recently used');
    assert.equal(u.cache_set('c', '3', 0, 'clear'), true);
    assert.deepEqual(u.cache_keys('clear').map(text), ['c']);
    advance(1);
    assert.equal(u.cache_set('c', '3', 0, 'sweep'), true);
    assert.deepEqual(u.cache_keys('sweep').map(text).sort(), ['b', 'c']);
    assert.equal(u.cache_set('v', '12345678', 0, 'bm'), true, 'a value over two blocks');
    assert.equal(u.cache_set('w', '123456789', 0, 'bm'), null, 'no run of 3 free blocks');
    assert.equal(u.cache_set('w', '12345678', 0, 'bm'), true);
    assert.equal(u.cache_set('z', '1', 0, 'bm'), null, 'every block used');
    for (let i = 0; i < 5; i++) cachesOf(u.ctx).check(i);
  });

  test('keys and values at their limits; what uWSGI refuses returns null', () => {
    const { u } = engine('name=c,items=10,blocksize=8,keysize=4');
    assert.equal(u.cache_set('abcd', '12345678'), true);
    assert.equal(u.cache_set('abcde', '1'), null, 'key over keysize');
    assert.equal(u.cache_set('é', '1'), true, 'keysize counts UTF-8 bytes');
    assert.equal(u.cache_set('éé€', '1'), null);
    assert.equal(u.cache_set('', '1'), null, 'empty key');
    assert.equal(u.cache_set('k', ''), null, 'empty value');
    assert.equal(u.cache_set('k', '123456789'), null, 'value over blocksize');
    assert.equal(u.cache_update('k', new Uint8Array(9)), null);
    assert.equal(u.cache_get('x'.repeat(70000)), null);
    assert.equal(u.cache_get_into('abcd', new Uint8Array(4)), 8);
    const buf = new Uint8Array(8);
    assert.equal(u.cache_get_into('abcd', buf), 8);
    assert.equal(text(buf), '12345678');
    assert.equal(u.cache_get_into('nope', buf), -1);
  });

  test('unknown caches give uWSGI results; remote names and bad types throw typed errors', () => {
    const { u } = engine('name=c,items=10,blocksize=8');
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    assert.equal(u.cache_get('a', 'nope'), null);
    assert.equal(u.cache_set('a', '1', 0, 'nope'), null);
    assert.equal(u.cache_inc('a', 1, 0, 'nope'), null);
    assert.equal(u.cache_num('a', 'nope'), 0n);
    assert.equal(u.cache_clear('nope'), null);
    throwsUwsgi(() => u.cache_keys('nope'), 'ERR_NOT_FOUND', /no local uWSGI cache available/);
    throwsUwsgi(() => u.cache_keys('c@127.0.0.1:3031'), 'ERR_UNSUPPORTED', /cache_keys: 'c@127.0.0.1:3031' is a remote cache; uWSGI's cache protocol has no command to list keys/);
    throwsUwsgi(() => any.cache_get(1), 'ERR_ARG_TYPE', /cache_get: key must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.cache_set('a', 1), 'ERR_ARG_TYPE', /cache_set: value must be a string or Uint8Array, got number/);
    throwsUwsgi(() => any.cache_set('a', '1', 'x'), 'ERR_ARG_TYPE', /cache_set: expires must be an integer/);
    throwsUwsgi(() => any.cache_set('a', '1', 1.5), 'ERR_ARG_TYPE', /expires must be an integer, got 1\.5/);
    throwsUwsgi(() => any.cache_inc('a', 'x'), 'ERR_ARG_TYPE', /cache_inc: delta/);
    throwsUwsgi(() => any.cache_inc('a', 2n ** 64n), 'ERR_VALUE_RANGE', /does not fit in a signed 64-bit integer/);
    throwsUwsgi(() => any.cache_keys(5), 'ERR_ARG_TYPE', /cache_keys: cache must be a string, got number/);
    throwsUwsgi(() => any.cache_get(), 'ERR_ARG_COUNT', /cache_get\(\) takes at least 1 argument \(0 given\)/);
    throwsUwsgi(() => any.cache_set('a'), 'ERR_ARG_COUNT', /at least 2 arguments/);
    throwsUwsgi(() => any.cache_get_into('a', [1]), 'ERR_ARG_TYPE', /buf must be a Uint8Array/);
    const none = createEngine({}).uwsgi;
    assert.equal(none.cache_get('a'), null, 'no cache configured');
  });

  test('Cache objects: get/getString/set (overwrites)/add/has/delete; unknown names are ERR_NOT_FOUND', () => {
    const { u } = engine(['name=a,items=10,blocksize=64', 'name=b,items=10,blocksize=64']);
    const b = u.cache('b');
    assert.equal(b.set('k', 'héllo'), true);
    assert.equal(b.set('k', 'again'), true);
    assert.equal(b.add('k', 'no'), false);
    assert.equal(b.getString('k'), 'again');
    assert.equal(b.has('k'), true);
    assert.equal(u.cache_get('k'), null, 'the default cache is a');
    assert.equal(b.delete('k'), true);
    assert.equal(b.get('k'), null);
    throwsUwsgi(() => u.cache('zz'), 'ERR_NOT_FOUND', /no cache named 'zz' \(configured: a, b\)/);
  });
});

describe('cache options', () => {
  test('--cache2 keys, aliases, the legacy --cache and their errors', () => {
    const e = createEngine({ cache: 5, 'cache-blocksize': 128, cache2: 'name=x,max_items=4,key_size=10,hash=murmur2,lru,lazy,bitmap=0,blocks=9' });
    const [legacy, x] = e.shared.config.caches;
    assert.deepEqual([legacy.name, legacy.items, legacy.blocksize], ['default', 5, 128]);
    assert.deepEqual([x.items, x.keysize, x.hash, x.purgeLru, x.lazyExpire, x.bitmap, x.blocks], [4, 10, 'murmur2', true, true, true, 9]);
    assert.equal(e.uwsgi.cache_set('k', 'v'), true, 'the legacy cache is the default');
    assert.equal(e.uwsgi.cache_get('k', 'default') !== null, true);
    throwsUwsgi(() => createEngine({ cache2: 'items=4' }), 'ERR_OPTION', /'name=' is required/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a' }), 'ERR_OPTION', /'items=' is required/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,blocks=3' }), 'ERR_OPTION', /invalid number of cache blocks/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,colour=red' }), 'ERR_OPTION', /unknown key 'colour'/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,hash=md5' }), 'ERR_OPTION', /unknown hash/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,keysize=70000' }), 'ERR_OPTION', /keysize/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,store=' }), 'ERR_OPTION', /'store=' needs a file path/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,store=/tmp/x,store_sync=-1' }), 'ERR_OPTION', /store_sync/);
    throwsUwsgi(() => createEngine({ cache2: ['name=a,items=4,store=/tmp/same', 'name=b,items=4,store=/tmp/same'] }), 'ERR_OPTION', /share the store file/);
    throwsUwsgi(() => createEngine({ cache2: 'name=a,items=4,nodes=nohost' }), 'ERR_OPTION', /host:port/);
    throwsUwsgi(() => createEngine({ 'cache-store': '/tmp/x' }), 'ERR_OPTION', /legacy cache/);
    assert.ok(createEngine({ cache2: 'name=a,items=4' }).uwsgi instanceof Object);
    assert.ok(new UwsgiError('ERR_FULL', 'x') instanceof Error);
  });
});
