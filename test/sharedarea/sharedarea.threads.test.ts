import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

describe('sharedarea across threads', () => {
  test('readers and writers on the same area from several workers keep 64-bit values whole', async () => {
    const master = await run({ options: { workers: 2, sharedarea: 1 }, app: 'build/tests/fixtures/tearing.js', handleSignals: false });
    try {
      const a = master.uwsgi.sharedarea(0);
      a.write32(8, 200_000);
      const view = a.view();
      const words = new Int32Array(view.buffer, view.byteOffset, 2);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      assert.equal(await master.done, 0);
      assert.equal(a.read32(16), 0, 'a reader saw a half-written 16-byte record');
    } finally {
      await master.stop();
    }
  }, 120_000);
});
