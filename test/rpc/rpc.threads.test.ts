import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (u: Uint8Array | null) => (u === null ? 'null' : new TextDecoder().decode(u));

describe('rpc across threads', () => {
  test('master and two workers call each other\'s functions; each runs in its own thread', async () => {
    const master = await run({ options: { workers: 2, sharedarea: 1 }, app: 'build/tests/fixtures/rpc-worker.js', handleSignals: false });
    try {
      master.uwsgi.register_rpc('master', (a: Uint8Array) => enc(`m(${master.uwsgi.worker_id()}):${dec(a)}`));
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      await untilAtLeast(words, 0, 2);
      assert.deepEqual(master.uwsgi.rpc_list().map(dec).sort(), ['master', 'w1', 'w2']);
      assert.equal(dec(await master.uwsgi.call('w1', 'z', 'q')), 'w1:z,q');
      assert.equal(dec(await master.uwsgi.rpc(null, 'w2')), 'w2:');
      // Releases the workers' own calls.
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
      await untilAtLeast(words, 2, 2);
      const result = (id: number) => dec(view.slice(65 + (id - 1) * 64, 65 + (id - 1) * 64 + view[64 + (id - 1) * 64]));
      assert.equal(result(1), 'm(0):x|w2:y');
      assert.equal(result(2), 'm(0):x|w1:y');
      Atomics.store(words, 3, 1);
      Atomics.notify(words, 3);
      assert.equal(await master.done, 0);
    } finally {
      await master.stop();
    }
  }, 60_000);
});
