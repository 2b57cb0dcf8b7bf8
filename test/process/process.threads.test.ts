import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

function words(master: { uwsgi: { sharedarea(id: number): { view(): Uint8Array } } }, n: number): Int32Array {
  const view = master.uwsgi.sharedarea(0).view();
  return new Int32Array(view.buffer, view.byteOffset, n);
}

describe('process across threads', () => {
  for (const mode of ['harakiri option', 'set_user_harakiri'] as const) {
    test(`${mode}: a worker looping forever is killed and respawned, and the lock it held is usable again`, async () => {
      const logs: string[] = [];
      const options = { workers: 1, sharedarea: 1, locks: 1, ...(mode === 'harakiri option' ? { harakiri: 1 } : {}) };
      const master = await run({ options, app: 'build/tests/fixtures/harakiri-loop.js', handleSignals: false, log: (l) => logs.push(l) });
      const w = words(master, 4);
      try {
        await untilAtLeast(w, 0, 1);
        assert.equal(master.uwsgi.is_locked(1), true);
        // The respawned worker reports in: the master killed the stuck one by itself.
        await untilAtLeast(w, 1, 1);
        assert.ok(logs.some((l) => /HARAKIRI ON WORKER 1/.test(l)), logs.join('\n'));
        assert.ok(logs.some((l) => /worker 1 died holding 1 lock/.test(l)), logs.join('\n'));
        const recovered: number[] = [];
        master.uwsgi.onLockRecovered = (n) => recovered.push(n);
        master.uwsgi.lock(1);
        master.uwsgi.unlock(1);
        assert.deepEqual(recovered, [1], 'the next locker takes the dead holder\'s lock over');
        const info = master.uwsgi.workers()[0];
        assert.equal(info.respawn_count, 1);
        assert.equal(master.uwsgi.workers().length, 1);
        assert.equal(await master.done, 0);
      } finally {
        Atomics.store(w, 2, 1); // lets a thread the runtime could not stop leave its loop
        await master.stop();
      }
    }, 60_000);
  }

  test('request accounting from workers: requests, tx, avg_rt, exceptions, apps', async () => {
    const master = await run({ options: { workers: 2 }, app: 'build/tests/fixtures/accounting.js', handleSignals: false, log: () => {} });
    try {
      assert.equal(await master.done, 0);
      const u = master.uwsgi;
      assert.equal(u.total_requests(), 10);
      const list = u.workers();
      assert.equal(list.length, 2);
      for (const w of list) {
        assert.equal(w.requests, 5);
        assert.equal(w.delta_requests, 5);
        assert.equal(w.tx, 150);
        assert.equal(w.exceptions, 1);
        assert.ok(w.avg_rt > 0 && w.running_time >= w.avg_rt, `avg_rt ${w.avg_rt}, running_time ${w.running_time}`);
        assert.ok(w.last_spawn >= u.started_on);
        assert.equal(w.respawn_count, 0);
        assert.equal(w.pid, 0, 'a worker that is done has no pid');
        assert.equal(text(w.status), 'idle');
        assert.equal(w.apps.length, 1);
        assert.equal(w.apps[0].requests, 5);
        assert.deepEqual(Object.keys(w.apps[0]), ['id', 'modifier1', 'mountpoint', 'startup_time', 'interpreter', 'callable', 'requests', 'exceptions', 'chdir']);
      }
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('graceful reload keeps serving: the new workers are up before the old ones leave', async () => {
    const master = await run({ options: { workers: 2, sharedarea: 1 }, app: 'build/tests/fixtures/reload-counter.js', handleSignals: false, log: () => {} });
    const w = words(master, 8);
    try {
      await untilAtLeast(w, 4, 2);
      await untilAtLeast(w, 0, 20);
      // The workers' "loaded" messages reach the master's event loop a moment after they count themselves in.
      for (let i = 0; i < 500 && master.uwsgi.ready() !== true; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(master.uwsgi.ready(), true);
      assert.equal(master.uwsgi.workers()[0].pid, master.uwsgi.masterpid());
      const before = master.uwsgi.total_requests();
      assert.equal(master.uwsgi.reload(), true);
      await master.reload(); // the reload in progress
      assert.equal(Atomics.load(w, 3), 1, 'an old worker still served after a new one had started');
      assert.equal(Atomics.load(w, 2), 2, 'two new workers');
      assert.equal(Atomics.load(w, 4), 4);
      assert.equal(master.workerTids().size, 2, 'the old workers are gone');
      const gen1 = Atomics.load(w, 1);
      await untilAtLeast(w, 1, gen1 + 20);
      assert.ok(master.uwsgi.total_requests() > before);
      assert.equal(master.uwsgi.ready(), true);
      const spawned = master.uwsgi.workers().map((x) => x.respawn_count);
      assert.deepEqual(spawned, [1, 1], 'each worker id was spawned twice');
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('uwsgi.stop() in a worker stops the master', async () => {
    const master = await run({ options: { workers: 1, sharedarea: 1 }, app: 'build/tests/fixtures/reload-counter.js', handleSignals: false, log: () => {} });
    const w = words(master, 8);
    await untilAtLeast(w, 4, 1);
    assert.equal(master.uwsgi.stop(), true);
    assert.equal(await master.done, 0);
  }, 60_000);
});
