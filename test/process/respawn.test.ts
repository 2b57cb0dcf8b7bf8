import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('respawn policy', () => {
  test('a mule failing at import is respawned while the error changes, and left down after the same error 3 times in a row, saying why', async () => {
    const logs: string[] = [];
    const master = await run({
      options: { workers: 1, sharedarea: 1, mule: 'build/tests/fixtures/import-fails.js' },
      app: 'build/tests/fixtures/import-fails.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      // The mule's first life imported before the flag: kill it, and it fails from then on.
      await untilAtLeast(words, 2, 2);
      Atomics.store(words, 0, 2);
      await master.killMule(1);
      // Each failure names another variant: never the same error three times in a row, so it is respawned.
      const deaths = () => logs.filter((l) => /mule 1 died/.test(l)).length;
      for (let v = 1; v <= 3; v++) {
        const seen = deaths();
        for (let i = 0; i < 300 && deaths() === seen; i++) await sleep(20);
        Atomics.store(words, 1, v);
      }
      assert.ok(!logs.some((l) => /not respawning/.test(l)), `respawns stopped while the error changed:\n${logs.join('\n')}`);
      // From now on the same error (variant 3) every time.
      for (let i = 0; i < 200 && !logs.some((l) => /not respawning/.test(l)); i++) await sleep(50);
      const imports = Atomics.load(words, 2);
      await sleep(700);
      assert.equal(Atomics.load(words, 2), imports, `the mule was respawned again:\n${logs.join('\n')}`);
      assert.ok(logs.some((l) => /uwsgi-wasm: mule 1 failed at import 3 times in a row with the same error \(.*import-fails\.js: Error: broken at import, variant 3\); not respawning it/.test(l)), logs.join('\n'));
      assert.equal(master.threadRows().find((r) => r.kind === 'mule')?.state, 'done');
      // The worker goes on serving.
      assert.equal(master.threadRows().find((r) => r.kind === 'worker')?.state, 'running');
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('a worker whose app fails at import 3 times the same way: the master stops with exit code 1', async () => {
    const logs: string[] = [];
    const master = await run({ options: { workers: 1 }, app: 'build/tests/fixtures/import-throws.js', handleSignals: false, log: (l) => logs.push(l) });
    try {
      const code = await Promise.race([master.done, sleep(20_000).then(() => 'still running')]);
      assert.equal(code, 1, logs.join('\n'));
      assert.ok(logs.some((l) => /worker 1 failed at import 3 times in a row with the same error \(.*import-throws\.js: Error: this app cannot load\); not respawning it/.test(l)), logs.join('\n'));
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('no free thread slot for a respawn: the master logs it and tries again, instead of ending the process', async () => {
    const logs: string[] = [];
    const master = await run({
      options: { workers: 1, sharedarea: 1, 'extra-threads': 0 },
      app: 'build/tests/fixtures/import-fails.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      await untilAtLeast(words, 2, 1);
      // The worker's slot is the only one besides the master's: take it while the worker is dead.
      let squatter: ReturnType<typeof master.engine.attach> | undefined;
      for (let i = 0; i < 50 && !squatter; i++) {
        await master.killWorker(1);
        try { squatter = master.engine.attach('worker', 9); } catch { await untilAtLeast(words, 2, Atomics.load(words, 2) + 1); }
      }
      assert.ok(squatter, 'never caught the slot free');
      for (let i = 0; i < 100 && !logs.some((l) => /no free thread slot/.test(l)); i++) await sleep(20);
      assert.ok(logs.some((l) => /uwsgi-wasm: worker 1: .*no free thread slot.*retrying in 1000 ms/.test(l)), logs.join('\n'));
      const before = Atomics.load(words, 2);
      master.engine.threadExited(squatter.ctx.tid);
      // The next try finds the slot: the worker runs again.
      await untilAtLeast(words, 2, before + 1);
    } finally {
      await master.stop();
    }
  }, 60_000);
});
