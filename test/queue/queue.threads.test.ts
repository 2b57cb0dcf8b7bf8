import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const N = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.UWSGI_WASM_THREAD_N ?? 1_000_000);
const PRODUCERS = 2;
const WORKERS = 4;

describe('queue across threads', () => {
  test(`${PRODUCERS} producers and ${WORKERS - PRODUCERS} consumers move ${N} items: none lost, none duplicated`, async () => {
    // The ring holds every item, so uWSGI's overwrite-when-full never applies.
    const master = await run({
      options: { workers: WORKERS, queue: N, 'queue-blocksize': 32, sharedarea: `size=${64 + N}` },
      app: 'build/tests/fixtures/queue-mpmc.js',
      handleSignals: false,
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      words[1] = N / PRODUCERS;
      words[2] = PRODUCERS;
      // Publishes the counts and releases the workers.
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      assert.equal(await master.done, 0);
      assert.equal(Atomics.load(words, 3), N, 'items taken');
      const seen = new Uint8Array(view.buffer, view.byteOffset + 64, N);
      const bad = seen.findIndex((c) => c !== 1);
      assert.equal(bad, -1, `id ${bad} was taken ${seen[bad]} time(s)`);
      assert.equal(master.uwsgi.queue_pull(), null, 'the ring is empty');
      assert.equal(master.uwsgi.queue_slot(), 0);
      assert.equal(master.uwsgi.queue_pull_slot(), 0);
    } finally {
      await master.stop();
    }
  }, 600_000);
});
