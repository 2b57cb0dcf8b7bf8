import { run } from 'uwsgi-wasm';
import { signalsHandled } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';
import { FLOOD } from '../fixtures/signal-flood.ts';

describe('signals across threads', () => {
  test('each target reaches the right worker and mule threads; a worker-added rb timer is run by the master', async () => {
    const app = 'build/tests/fixtures/signal-counter.js';
    const logs: string[] = [];
    const master = await run({
      options: { workers: 2, sharedarea: 1, mule: [app, app], farm: 'pair:1,2' },
      app, handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      await master.ready();
      const u = master.uwsgi;
      const view = u.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, view.length >> 2);
      await untilAtLeast(words, 0, 4);
      // The worker's rb timer fires three times on each worker: 6 runs.
      await untilAtLeast(words, 1, 6);
      const raises: Array<[number, number]> = [[1, 4], [2, 1], [3, 2], [4, 1], [5, 2], [6, 1], [7, 1], [8, 2], [9, 2], [10, 2]];
      for (const [num, times] of raises) for (let i = 0; i < times; i++) u.signal(num);
      // Expected runs: 1:4, 2:2, 3:2, 4:2, 5:2, 6:2, 7:1, 8:2, 9:2, 10:2 => 21, plus the timer's 6.
      await untilAtLeast(words, 1, 27);
      const count = (row: number, sig: number) => Atomics.load(words, 64 + row * 32 + sig);
      const rows = [1, 2, 3, 4]; // worker 1, worker 2, mule 1, mule 2
      const per = (sig: number) => rows.map((r) => count(r, sig));
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      // First available worker: 4 runs among the workers, none on mules.
      assert.equal(sum(per(1).slice(0, 2)), 4); assert.deepEqual(per(1).slice(2), [0, 0]);
      assert.deepEqual(per(2), [1, 1, 0, 0], 'workers');
      assert.deepEqual(per(3), [0, 2, 0, 0], 'worker2');
      assert.deepEqual(per(4), [1, 1, 0, 0], 'active-workers');
      assert.equal(sum(per(5).slice(2)), 2, 'mule'); assert.deepEqual(per(5).slice(0, 2), [0, 0]);
      assert.deepEqual(per(6), [0, 0, 1, 1], 'mules');
      assert.deepEqual(per(7), [0, 0, 0, 1], 'mule2');
      assert.equal(sum(per(8).slice(2)), 2, 'farm_pair'); assert.deepEqual(per(8).slice(0, 2), [0, 0]);
      assert.equal(sum(per(9).slice(2)), 2, 'farm1'); assert.deepEqual(per(9).slice(0, 2), [0, 0]);
      assert.equal(sum(per(10).slice(0, 2)), 2, 'worker0'); assert.deepEqual(per(10).slice(2), [0, 0]);
      assert.deepEqual(per(11), [3, 3, 0, 0], 'rb timer from worker 1, run by the master');
      assert.equal(Atomics.load(words, 1), 27, 'no extra runs');
      // The per-thread "signals handled" counter that workers() reports.
      for (const [id, tid] of master.workerTids()) {
        const mine = Array.from({ length: 32 }, (_, s) => count(id, s)).reduce((a, b) => a + b, 0);
        assert.equal(signalsHandled(u.ctx, tid), mine, `worker ${id}`);
        // ...and the status table's column, as workers() shows it.
        const row = u.workers().find((w) => w.id === id);
        assert.equal(row?.signals, mine, `workers()[${id}].signals`);
      }
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('a burst of signals from three threads at once loses none (uWSGI drops them once its queue is full)', async () => {
    const logs: string[] = [];
    const master = await run({
      options: { workers: 2, sharedarea: 1 }, app: 'build/tests/fixtures/signal-flood.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      await master.ready();
      const u = master.uwsgi;
      const view = u.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, view.length >> 2);
      await untilAtLeast(words, 0, 2);
      // Both workers and the master raise at once: 3 × FLOOD of each signal.
      Atomics.store(words, 1, 1);
      Atomics.notify(words, 1);
      for (let i = 0; i < FLOOD; i++) { u.signal(30); u.signal(31); }
      await untilAtLeast(words, 2, 2);
      await untilAtLeast(words, 3, 6 * FLOOD);
      const runs = (worker: number, sig: 30 | 31) => Atomics.load(words, 8 + 2 * worker + (sig - 30));
      assert.equal(runs(1, 30), 3 * FLOOD, 'worker 1 ran every signal 30');
      assert.equal(runs(2, 30), 0, 'signal 30 is for worker 1 only');
      assert.equal(runs(1, 31) + runs(2, 31), 3 * FLOOD, 'the workers ran every signal 31 between them');
      assert.equal(Atomics.load(words, 3), 6 * FLOOD, 'no extra runs');
      assert.equal(u.workers().reduce((n, w) => n + w.signals, 0), 6 * FLOOD, 'the workers\' signals column');
      assert.deepEqual(logs.filter((l) => /signal/.test(l)), [], 'nothing logged as undelivered');
    } finally {
      await master.stop();
    }
  }, 60_000);
});
