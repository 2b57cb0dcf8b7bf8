import { run } from 'uwsgi-wasm';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';

const dec = (u: Uint8Array) => new TextDecoder().decode(u);

describe('mules across threads', () => {
  test('mule threads: ids, farms, routing, and a killed mule is respawned and still receives', async () => {
    const logs: string[] = [];
    const recorder = 'build/tests/fixtures/mule-recorder.js';
    const master = await run({
      options: { workers: 1, sharedarea: 1, mule: [recorder, recorder], mules: 1, farm: 'pair:1,2' },
      app: 'build/tests/fixtures/forever.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 16);
      await untilAtLeast(words, 0, 2);
      // mule_id, worker_id, in_farm('pair'), in_farm() as each mule saw them.
      assert.deepEqual([...view.subarray(64, 72)], [1, 0, 1, 1, 2, 0, 1, 1]);
      const records = () => {
        const out: string[] = [];
        for (let i = 0; i < Atomics.load(words, 2); i++) {
          const at = 256 + i * 64;
          out.push(`${view[at]}:${dec(view.subarray(at + 2, at + 2 + view[at + 1]))}`);
        }
        return out.sort();
      };
      assert.equal(master.uwsgi.mule_msg('one', 1), true);
      assert.equal(master.uwsgi.mule_msg('two', 2), true);
      const farmed = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
      for (const p of farmed) assert.equal(master.uwsgi.mule_msg(p, 'pair'), true);
      await untilAtLeast(words, 2, 8);
      const got = records();
      assert.ok(got.includes('1:one') && got.includes('2:two'), got.join(' '));
      // Each farm message went to exactly one mule of the farm.
      assert.deepEqual(got.filter((r) => r.includes(':p')).map((r) => r.slice(2)).sort(), farmed);
      assert.ok(got.filter((r) => r.includes(':p')).every((r) => r[0] === '1' || r[0] === '2'));

      await master.killMule(1);
      await untilAtLeast(words, 0, 3);
      assert.ok(logs.some((l) => /mule 1 died .*respawning/.test(l)), logs.join('\n'));
      assert.equal(master.uwsgi.mule_msg('again', 1), true);
      await untilAtLeast(words, 2, 9);
      assert.ok(records().includes('1:again'), records().join(' '));
    } finally {
      await master.stop();
    }
  }, 60_000);

  test('once every worker is done, the master stops its plain mules and finishes', async () => {
    const master = await run({ options: { workers: 1, mules: 2 }, app: 'build/tests/fixtures/noop.js', handleSignals: false });
    try {
      assert.equal(await master.done, 0);
    } finally {
      await master.stop();
    }
  }, 30_000);
});
