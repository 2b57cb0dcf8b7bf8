// The README's "Testing an app without a master": an app that imports uwsgi,
// tested as a plain module. Without useEngine the app runs on the standalone
// engine (STANDALONE_OPTIONS); with it, on an engine of the test's options.
import uwsgi, { STANDALONE_OPTIONS, createEngine } from 'uwsgi-wasm';
import { useEngine } from 'uwsgi-wasm/engine';
import app, { signedUp, visit } from '../fixtures/standalone-app.ts';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

describe('testing an app without a master', () => {
  test('imported as is, the app runs on the standalone engine (default options, no worker)', async () => {
    // A test process starts on the standalone engine; this one ran other files' masters before,
    // which the default export followed, so it goes back to a standalone engine first.
    useEngine(createEngine(STANDALONE_OPTIONS));
    assert.deepEqual(STANDALONE_OPTIONS, { sharedarea: 1, locks: 8, queue: 100, cache2: 'name=default,items=1000,blocksize=4096' });
    assert.equal(visit('ann'), 1);
    assert.equal(visit('ann'), 2);
    assert.equal(uwsgi.cache_num('visits:ann'), 2n, "the test's uwsgi and the app's are the same object");
    assert.equal(await (await app.fetch(new Request('http://t/?user=bob'))).text(), 'bob: visit 1, served by worker 0');
    throwsUwsgi(() => signedUp('bob'), 'ERR_NOT_CONFIGURED', /no mule configured/);
  });

  test('the default export follows useEngine at once, a value its thread remembered included', () => {
    const text = (v: Uint8Array | null) => (v === null ? null : new TextDecoder().decode(v));
    const a = createEngine({ cache2: 'name=default,items=10' });
    const b = createEngine({ cache2: 'name=default,items=10' });
    try {
      useEngine(a);
      uwsgi.cache_set('k', 'on a');
      assert.equal(text(uwsgi.cache_get('k')), 'on a');
      assert.equal(text(uwsgi.cache_get('k')), 'on a'); // a near hit: remembered by this thread's view of a
      b.uwsgi.cache_set('k', 'on b');
      useEngine(b);
      assert.equal(text(uwsgi.cache_get('k')), 'on b');
      assert.equal(text(uwsgi.cache_get('k')), 'on b');
      useEngine(a);
      assert.equal(text(uwsgi.cache_get('k')), 'on a');
    } finally {
      useEngine(createEngine(STANDALONE_OPTIONS));
    }
    assert.equal(uwsgi.cache_get('k'), null, 'a fresh standalone engine');
  });

  test("useEngine: the test's options, a worker id, a fake clock, a fresh state per test", async () => {
    const engine = createEngine({ cache2: 'name=default,items=10', mules: 1, workers: 2 });
    let now = Date.UTC(2030, 0, 1);
    engine.setClock(() => now);
    useEngine(engine.attach('worker', 2));
    try {
      assert.equal(uwsgi.worker_id(), 2);
      assert.equal(visit('ann'), 1, 'a fresh engine: nothing from the test before');
      assert.equal(await (await app.fetch(new Request('http://t/?user=ann'))).text(), 'ann: visit 2, served by worker 2');
      // Expiry on the fake clock: a minute later the master's sweep (here the test's) removes the count.
      now += 61_000;
      engine.sweepCaches();
      assert.equal(visit('ann'), 1);
      // What the app sends a mule, the test reads as the mule.
      assert.equal(signedUp('cy'), true);
      const mule = engine.attach('mule', 1);
      assert.equal(new TextDecoder().decode(await mule.mule_get_msg({ timeout: 1 })), 'signed up: cy');
    } finally {
      useEngine(createEngine(STANDALONE_OPTIONS));
    }
    assert.equal(uwsgi.worker_id(), 0);
    assert.equal(visit('ann'), 1, 'back on a standalone engine of its own');
  });
});
