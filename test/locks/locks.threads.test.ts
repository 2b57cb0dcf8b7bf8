import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

const N = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.UWSGI_WASM_THREAD_N ?? 1_000_000);
const WORKERS = 3;

describe('locks across threads', () => {
  test(`exact counts: ${WORKERS} workers x ${N} lock-protected increments and inclong`, async () => {
    const master = await run({ options: { workers: WORKERS, sharedarea: 1, locks: 2 }, app: 'build/tests/fixtures/counter.js', handleSignals: false });
    try {
      await master.ready();
      const area = master.uwsgi.sharedarea(0);
      area.write32(8, N);
      const view = area.view();
      const words = new Int32Array(view.buffer, view.byteOffset, 2);
      // Publishes N and releases the workers.
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      assert.equal(await master.done, 0);
      assert.equal(area.read32(16), WORKERS * N, 'lock-protected read-modify-write lost or invented updates');
      assert.equal(area.read64(24), BigInt(WORKERS * N), 'inclong lost or invented updates');
    } finally {
      await master.stop();
    }
  }, 300_000);

  test('a worker killed while holding a lock: the master respawns it and the lock is usable again', async () => {
    const logs: string[] = [];
    const master = await run({ options: { workers: 1, sharedarea: 1, locks: 1 }, app: 'build/tests/fixtures/hold-lock.js', handleSignals: false, log: (l) => logs.push(l) });
    try {
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      // Waits for the worker's "lock held" flag.
      while (Atomics.load(words, 0) === 0) await Atomics.waitAsync(words, 0, 0, 1000).value;
      assert.equal(master.uwsgi.is_locked(1), true);
      await master.killWorker(1);
      const recovered: number[] = [];
      master.uwsgi.onLockRecovered = (n) => recovered.push(n);
      master.uwsgi.lock(1);
      assert.deepEqual(recovered, [1], 'the next locker is told the holder died');
      master.uwsgi.unlock(1);
      // The respawned worker runs and reports in.
      while (Atomics.load(words, 1) === 0) await Atomics.waitAsync(words, 1, 0, 1000).value;
      assert.ok(logs.some((l) => /worker 1 died holding 1 lock/.test(l)), logs.join('\n'));
      assert.ok(logs.some((l) => /respawning/.test(l)), logs.join('\n'));
      assert.equal(await master.done, 0);
    } finally {
      // Ends the killed worker's loop where the runtime could not stop it (Deno).
      const view = master.uwsgi.sharedarea(0).view();
      Atomics.store(new Int32Array(view.buffer, view.byteOffset, 4), 2, 1);
      await master.stop();
    }
  }, 60_000);
});
