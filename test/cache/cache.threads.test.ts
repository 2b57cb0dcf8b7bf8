import { run } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const N = Number(env.UWSGI_WASM_CACHE_THREAD_N ?? 100_000);
const KILLS = Number(env.UWSGI_WASM_CACHE_KILLS ?? 8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cache across threads', () => {
  test(`4 workers x ${N} mixed ops on a bitmap cache: every worker's keys match its model, counters exact, structure sound`, async () => {
    const master = await run({
      options: { workers: 4, sharedarea: 1, cache2: 'name=stress,items=1024,blocksize=32,blocks=8192,bitmap=1,hashsize=257' },
      app: 'build/tests/fixtures/cache-stress.js', handleSignals: false,
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 32);
      Atomics.store(words, 1, N);
      for (let id = 1; id <= 4; id++) Atomics.store(words, 2 + id, -1);
      // Publishes N and releases the workers.
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      assert.equal(await master.done, 0);
      for (let id = 1; id <= 4; id++) assert.equal(Atomics.load(words, 2 + id), 0, `worker ${id} saw values that differ from its model`);
      let incs = 0;
      for (let id = 1; id <= 4; id++) incs += Atomics.load(words, 12 + id);
      assert.equal(master.uwsgi.cache_num('shared', 'stress'), BigInt(incs), 'lost or invented increments');
      cachesOf(master.uwsgi.ctx).check(0);
    } finally {
      await master.stop();
    }
  }, 300_000);

  test(`lock-free reads never see half a write: 2 readers against a writer that moves, deletes and re-inserts ${N} times`, async () => {
    const master = await run({
      options: { workers: 3, sharedarea: 1, cache2: 'name=tear,items=64,blocksize=8,blocks=256,bitmap=1,hashsize=3' },
      app: 'build/tests/fixtures/cache-tearing.js', handleSignals: false,
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 16);
      Atomics.store(words, 1, N);
      // Publishes N and releases the workers.
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      assert.equal(await master.done, 0);
      for (const id of [2, 3]) {
        assert.equal(Atomics.load(words, 4 + id), 0, `worker ${id} read torn values`);
        assert.ok(Atomics.load(words, 8 + id) > 0, `worker ${id} never hit`);
      }
      cachesOf(master.uwsgi.ctx).check(0);
    } finally {
      await master.stop();
    }
  }, 300_000);

  test('a get by hint while another thread keeps a write open: read under the shared hold once the write ends, the right value', async () => {
    const master = await run({
      options: { workers: 1, sharedarea: 1, cache2: 'name=bm,items=16,blocksize=8,blocks=64,bitmap=1' },
      app: 'build/tests/fixtures/cache-window.js', handleSignals: false, log: () => {},
    });
    const u = master.uwsgi;
    const view = u.sharedarea(0).view();
    const words = new Int32Array(view.buffer, view.byteOffset, 4);
    try {
      const text = (v: Uint8Array | null) => (v === null ? null : new TextDecoder().decode(v));
      // A value over several blocks, read once (this thread learns its slot), then changed:
      // the next get cannot be a near hit and goes to the core by the hint.
      u.cache_set('h', 'old value over four blocks');
      assert.equal(text(u.cache_get('h')), 'old value over four blocks');
      u.cache_update('h', 'new value, five blocks long now');
      const hits = cachesOf(u.ctx).stats(0).hits;
      Atomics.store(words, 2, 300);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      while (Atomics.load(words, 1) === 0) await Atomics.waitAsync(words, 1, 0, 1000).value;
      // The writer's window stays open past every lock-free attempt: the core reads under the
      // shared hold, which waits for the write to end.
      assert.equal(text(u.cache_get('h')), 'new value, five blocks long now');
      assert.equal(cachesOf(u.ctx).stats(0).hits - hits, 1n, 'one get, one hit');
      assert.equal(text(u.cache_get('h')), 'new value, five blocks long now');
      while (Atomics.load(words, 1) !== 2) await Atomics.waitAsync(words, 1, 1, 1000).value;
      assert.equal(text(u.cache_get('w')), 'w-new');
      cachesOf(u.ctx).check(0);
    } finally {
      Atomics.store(words, 0, 3);
      await master.stop();
    }
  }, 60_000);

  test(`a worker killed ${KILLS} times, half of them inside a set: the next locker repairs the cache and every invariant holds`, async () => {
    const master = await run({
      options: { workers: 1, sharedarea: 1, cache2: ['name=bm,items=257,blocksize=64,blocks=4096,bitmap=1,purge_lru=1,hashsize=31', 'name=plain,items=129,blocksize=256,hashsize=17'] },
      app: 'build/tests/fixtures/cache-kill.js', handleSignals: false, log: () => {},
    });
    try {
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      const caches = cachesOf(master.uwsgi.ctx);
      let stuck = 0;
      for (let k = 0; k < KILLS; k++) {
        // Waits for incarnation k+1 to run.
        while (Atomics.load(words, 1) <= k) await Atomics.waitAsync(words, 1, k, 1000).value;
        if ((k + 1) % 2 === 0) {
          // Waits for the incarnation to stop inside its update.
          while (Math.abs(Atomics.load(words, 2)) !== k + 1) await Atomics.waitAsync(words, 2, Atomics.load(words, 2), 1000).value;
          assert.equal(Atomics.load(words, 2), k + 1, 'the half-done update was refused');
          assert.equal(master.uwsgi.ctx.x.cache_dirty(master.uwsgi.ctx.x.cache_handle(0) >>> 0), 1, 'the cache is marked mid-change');
          stuck++;
        } else {
          // A random moment; living 1 s keeps the master's respawn free of back-off.
          await sleep(1000 + Math.random() * 100);
        }
        await master.killWorker(1);
        // The master has handled the death (its locks read as "owner dead") once it respawned it.
        while (Atomics.load(words, 1) <= k + 1) await Atomics.waitAsync(words, 1, k + 1, 1000).value;
        caches.check(0);
        caches.check(1);
      }
      assert.ok(caches.stats(0).repairs >= stuck, `${caches.stats(0).repairs} repairs for ${stuck} deaths inside a change`);
      assert.ok(caches.stats(0).items > 0 && caches.stats(1).items > 0);
    } finally {
      // Ends the loops of incarnations the runtime could not stop (Deno), and of the last one.
      const view = master.uwsgi.sharedarea(0).view();
      Atomics.store(new Int32Array(view.buffer, view.byteOffset, 4), 3, 1);
      await master.stop();
    }
  }, 120_000);
});
