// Persistent caches (store=): round trips through the file, across a real
// master's restart, periodic writes (store_sync), and files that must not load.
import { createEngine, run } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-store-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

describe('cache store', () => {
  test('an engine loads what another wrote: values, counters, expiry, big bitmap values, several caches', withDir((dir) => {
    const a = join(dir, 'a.cache'), b = join(dir, 'b.cache');
    const opts = { cache2: [`name=a,items=50,blocksize=64,store=${a}`, `name=b,items=20,blocksize=1024,blocks=200,bitmap=1,store=${b}`, 'name=mem,items=4'] };
    const e1 = createEngine(opts);
    let now = 1_700_000_000_000;
    e1.setClock(() => now);
    const u = e1.uwsgi;
    for (let i = 0; i < 30; i++) u.cache_set(`k${i}`, `value ${i}`, 0, 'a');
    u.cache_set('soon', 'x', 100, 'a');
    u.cache_inc('n', 41, 0, 'a');
    u.cache_inc('n', 1, 0, 'a');
    const big = new Uint8Array(150_000).map((_, i) => i * 7);
    assert.equal(u.cache_set('big', big, 0, 'b'), true, 'a value larger than the scratch');
    u.cache_set('lost', 'not stored', 0, 'mem');
    u.cache_del('k3', 'a');
    assert.equal(e1.storeCaches(), 30 + 1 + 1 + 1 - 1);
    assert.ok(!existsSync(`${a}.tmp`), 'the temporary file was renamed');

    const e2 = createEngine(opts);
    e2.setClock(() => now);
    const v = e2.uwsgi;
    assert.equal(text(v.cache_get('k7', 'a')), 'value 7');
    assert.equal(v.cache_get('k3', 'a'), null);
    assert.equal(v.cache_num('n', 'a'), 42n);
    assert.deepEqual(v.cache_get('big', 'b'), big);
    assert.equal(v.cache_get('lost', 'mem'), null, 'caches without store start empty');
    assert.equal(cachesOf(v.ctx).stats(0).items, 31);
    now += 101_000;
    assert.equal(e2.sweepCaches(), 1, 'the stored absolute expiry still holds');
    assert.equal(v.cache_get('soon', 'a'), null);
    cachesOf(v.ctx).check(0);
    cachesOf(v.ctx).check(1);
  }));

  test('a truncated, corrupted or foreign file is refused with ERR_LAYOUT; store_delete starts empty and removes it', withDir((dir) => {
    const p = join(dir, 'c.cache');
    const e = createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` });
    for (let i = 0; i < 5; i++) e.uwsgi.cache_set(`k${i}`, `v${i}`);
    e.storeCaches();
    const good = readFileSync(p);
    writeFileSync(p, good.subarray(0, good.length - 9));
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` }), 'ERR_LAYOUT', /cannot be loaded: checksum mismatch/);
    const flipped = Uint8Array.from(good);
    flipped[70] ^= 0x20;
    writeFileSync(p, flipped);
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` }), 'ERR_LAYOUT', /checksum/);
    writeFileSync(p, good.subarray(0, 20));
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` }), 'ERR_LAYOUT', /truncated/);
    writeFileSync(p, 'not a cache at all, just some text that is long enough to pass the size check ...');
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` }), 'ERR_LAYOUT', /bad magic/);
    writeFileSync(p, good);
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=20,blocksize=32,store=${p}` }), 'ERR_LAYOUT', /another layout \(items=10,blocks=10; this cache has items=20,blocks=20\)/);
    throwsUwsgi(() => createEngine({ cache2: `name=c,items=10,blocksize=64,store=${p}` }), 'ERR_LAYOUT', /blocksize=32/);
    const fresh = createEngine({ cache2: `name=c,items=20,blocksize=32,store=${p},store_delete=1` });
    assert.equal(fresh.uwsgi.cache_keys().length, 0);
    assert.ok(!existsSync(p), 'store_delete removed the file');
    writeFileSync(p, good);
    writeFileSync(`${p}.tmp`, good.subarray(0, 30)); // a write cut short by a crash, never renamed
    assert.equal(text(createEngine({ cache2: `name=c,items=10,blocksize=32,store=${p}` }).uwsgi.cache_get('k4')), 'v4', 'the intact file still loads');
  }));

  test('a real master: the store survives a restart, and store_sync writes it while the master runs', withDir(async (dir) => {
    const p = join(dir, 'm.cache');
    const options = { workers: 1, cache2: `name=m,items=100,blocksize=64,store=${p},store_sync=1` };
    const app = 'build/tests/fixtures/forever.js';
    const m1 = await run({ options, app, handleSignals: false, log: () => {} });
    try {
      for (let i = 0; i < 40; i++) m1.uwsgi.cache_set(`k${i}`, `v${i}`);
      // Waits (bounded) for the master's periodic write, without stopping it.
      const until = Date.now() + 10_000;
      while (!(existsSync(p) && statSync(p).size > 40 * 20) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      assert.ok(existsSync(p) && statSync(p).size > 40 * 20, 'store_sync=1 wrote the items within 10 s');
      m1.uwsgi.cache_update('k0', 'changed after the last sync');
    } finally {
      await m1.stop();
    }
    await m1.done;
    const m2 = await run({ options, app, handleSignals: false, log: () => {} });
    try {
      assert.equal(text(m2.uwsgi.cache_get('k39')), 'v39');
      assert.equal(text(m2.uwsgi.cache_get('k0')), 'changed after the last sync', 'the master wrote the store when it stopped');
      assert.equal(m2.uwsgi.cache_keys().length, 40);
    } finally {
      await m2.stop();
    }
  }), 60_000);
});

describe('cache sweeper', () => {
  test('a real master deletes expired items every cache-expire-freq seconds, without any read', async () => {
    const master = await run({ options: { workers: 1, 'cache-expire-freq': 1, cache2: ['name=s,items=10', 'name=lazy,items=10,lazy_expire=1'] }, app: 'build/tests/fixtures/forever.js', handleSignals: false, log: () => {} });
    try {
      const u = master.uwsgi;
      u.cache_set('short', 'v', 1, 's');
      u.cache_set('forever', 'v', 0, 's');
      u.cache_set('short', 'v', 1, 'lazy');
      assert.equal(u.cache_keys('s').length, 2);
      // cache_keys never checks expiry: only the sweeper can make 'short' go. Bounded wait.
      const until = Date.now() + 10_000;
      while (u.cache_keys('s').length > 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(u.cache_keys('s').map(text), ['forever'], 'the sweeper deleted the expired item');
      assert.equal(u.cache_keys('lazy').length, 1, 'lazy_expire caches are not swept (as in uWSGI)');
      assert.equal(cachesOf(u.ctx).stats(0).hits + cachesOf(u.ctx).stats(0).miss, 0n, 'nothing was read');
    } finally {
      await master.stop();
    }
  }, 30_000);
});
