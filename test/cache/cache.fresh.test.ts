// Freshness across threads: a seeded writer and two readers (test/fixtures/cache-fresh.ts).
// No read may return a value (or an absence) older than the last write that
// finished before the read began, nor an item a lazy_expire cache has expired.
import { run } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { WORDS } from '../fixtures/cache-fresh.ts';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
/** Operations in all: a quarter by the writer, the rest split between the two readers. */
const OPS = Number(env.UWSGI_WASM_CACHE_FRESH_OPS ?? 1_000_000);
const SEED = Number(env.UWSGI_WASM_CACHE_FRESH_SEED ?? 19);

describe('cache freshness across threads', () => {
  test(`seeded: 1 writer (set/update/del/expiry/sweep) and 2 readers, ${OPS} ops: no read older than the last finished write`, async () => {
    const master = await run({
      options: {
        workers: 3, sharedarea: `size=${WORDS * 4}`, 'cache-expire-freq': 86400,
        cache2: ['name=fresh-lazy,items=64,blocksize=64,hashsize=7,lazy_expire=1', 'name=fresh-plain,items=64,blocksize=64,hashsize=7'],
      },
      app: 'build/tests/fixtures/cache-fresh.js', handleSignals: false,
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const w = new Int32Array(view.buffer, view.byteOffset, WORDS);
      Atomics.store(w, 1, Math.floor(OPS / 4));
      Atomics.store(w, 3, 1_000_000);
      Atomics.store(w, 4, Math.ceil((OPS * 3) / 8));
      Atomics.store(w, 5, SEED);
      // Publishes the parameters and releases the workers.
      Atomics.store(w, 0, 1);
      Atomics.notify(w, 0);
      assert.equal(await master.done, 0);
      assert.equal(Atomics.load(w, 6), 0, "the writer's results differ from its model");
      const first = Array.from(w.subarray(20, 28));
      for (const id of [2, 3]) {
        assert.equal(Atomics.load(w, 8 + id), 0,
          `worker ${id} read something stale; first: reader ${first[0]}, cache ${first[1]}, key ${first[2]}, kind ${first[3]} (1 exists, 2 not exists, 3 null, 4 torn, 5 value), done ${first[4]}, started ${first[5]}, got op ${first[6]} expiring ${first[7]}`);
        assert.ok(Atomics.load(w, 12 + id) >= Math.ceil((OPS * 3) / 8), `worker ${id} did not do its reads`);
        assert.ok(Atomics.load(w, 16 + id) > 1000, `worker ${id} hardly ever hit`);
      }
      // A reader descheduled for a long time may fall more than the history ring behind; that must stay rare.
      assert.ok(Atomics.load(w, 7) < OPS / 100, `${Atomics.load(w, 7)} reads could not be checked`);
      cachesOf(master.uwsgi.ctx).check(0);
      cachesOf(master.uwsgi.ctx).check(1);
    } finally {
      await master.stop();
    }
  }, 600_000);
});
