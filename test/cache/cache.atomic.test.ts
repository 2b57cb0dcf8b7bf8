// cache_cas and cache_update_with under a race: two workers add 1 to the same
// counters N times each (test/fixtures/cache-cas.ts); not one increment may be
// lost or counted twice.
import { run } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const N = Number(env.UWSGI_WASM_CACHE_CAS_N ?? 50_000);

describe('cache atomic updates across threads', () => {
  test(`2 workers x ${N} increments of one key by cache_cas retry loops, and of another by cache_update_with: exact totals`, async () => {
    const master = await run({
      options: { workers: 2, sharedarea: 1, cache2: 'name=race,items=8,blocksize=32' },
      app: 'build/tests/fixtures/cache-cas.js', handleSignals: false,
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const w = new Int32Array(view.buffer, view.byteOffset, 16);
      Atomics.store(w, 1, N);
      // Publishes N and releases both workers at once.
      Atomics.store(w, 0, 1);
      Atomics.notify(w, 0);
      assert.equal(await master.done, 0);
      const u = master.uwsgi;
      const dec = new TextDecoder();
      assert.equal(Atomics.load(w, 9) + Atomics.load(w, 10), 2, 'both workers finished');
      assert.equal(dec.decode(u.cache_get('cas', 'race')!), String(2 * N), 'cache_cas lost or doubled an increment');
      assert.equal(dec.decode(u.cache_get('rmw', 'race')!), String(2 * N), 'cache_update_with lost or doubled an increment');
      // The workers did race: some compare-and-swaps found the other's value.
      assert.ok(Atomics.load(w, 5) + Atomics.load(w, 6) > 0, 'no CAS ever lost a race: the workers did not overlap');
      cachesOf(u.ctx).check(0);
    } finally {
      await master.stop();
    }
  }, 300_000);
});
