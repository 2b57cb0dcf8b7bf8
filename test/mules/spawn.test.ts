import { createEngine, run } from 'uwsgi-wasm';
import { configFromOptions } from 'uwsgi-wasm/engine';
import { collectStats } from 'uwsgi-wasm/stats';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi, untilAtLeast } from '../lib/helpers.ts';

const dec = (u: Uint8Array) => new TextDecoder().decode(u);
const RECORDER = 'build/tests/fixtures/mule-recorder.js';

describe('mule_spawn (beyond uWSGI): mules started at run time', () => {
  test('--max-mules reserves ids; without a master mule_spawn is ERR_NOT_CONFIGURED; reserved ids are valid targets', async () => {
    assert.equal(configFromOptions({ mules: 2 }).maxMules, 2, 'default: the configured mules, none to add');
    assert.equal(configFromOptions({ mules: 1, 'max-mules': 4 }).maxMules, 4);
    throwsUwsgi(() => configFromOptions({ mules: 3, 'max-mules': 2 }), 'ERR_OPTION', /option 'max-mules': 2 is fewer than the 3 mule\(s\) configured/);
    const e = createEngine({ 'max-mules': 2 });
    const u = e.uwsgi;
    throwsUwsgi(() => u.mule_spawn(), 'ERR_NOT_CONFIGURED', /mule_spawn: mules are started by a master/);
    throwsUwsgi(() => u.mule_msg('x', 1), 'ERR_NOT_FOUND', /mule_msg: invalid mule 1 \(no mule is running yet\)/);
    assert.equal(u.mule_msg('for whoever comes'), true, 'the shared mailbox exists as soon as ids are reserved');
    assert.equal(u.register_signal(40, 'mule2', () => {}), undefined, "'mule2' names a reserved id");
    throwsUwsgi(() => u.register_signal(41, 'mule3', () => {}), 'ERR_NOT_FOUND', /mule3/);
    throwsUwsgi(() => createEngine({}).uwsgi.mule_msg('x'), 'ERR_NOT_CONFIGURED', /no mule configured/);
  });

  test('a worker and the master start mules; messages wait for them; ERR_FULL past --max-mules; a spawned mule is respawned', async () => {
    const logs: string[] = [];
    const master = await run({
      options: { workers: 1, sharedarea: 1, mules: 1, 'max-mules': 3 },
      app: 'build/tests/fixtures/mule-spawner.js', handleSignals: false, log: (l) => logs.push(l),
    });
    try {
      await master.ready();
      const u = master.uwsgi;
      const view = u.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 16);
      await untilAtLeast(words, 12, 1);
      assert.equal(Atomics.load(words, 12), 2, "worker 1's mule got the first free id");
      throwsUwsgi(() => u.mule_spawn('no/such/file.js'), 'ERR_NOT_FOUND', /mule_spawn: no such file 'no\/such\/file\.js'/);
      throwsUwsgi(() => u.mule_spawn(5 as never), 'ERR_ARG_TYPE', /mule_spawn: file must be a path/);
      const id = u.mule_spawn(RECORDER);
      assert.equal(id, 3);
      assert.equal(u.mule_msg('to three', 3), true, 'queued before its thread runs');
      throwsUwsgi(() => u.mule_spawn(), 'ERR_FULL', /mule_spawn: all 3 mule id\(s\) are in use; --max-mules N/);
      // Both recorders report their identity (mule_id 2 and 3), then record what they take.
      await untilAtLeast(words, 0, 2);
      assert.deepEqual([...view.subarray(68, 76)], [2, 0, 0, 0, 3, 0, 0, 0]);
      await untilAtLeast(words, 2, 2);
      const records = () => {
        const out: string[] = [];
        for (let i = 0; i < Atomics.load(words, 2); i++) {
          const at = 256 + i * 64;
          out.push(`${view[at]}:${dec(view.subarray(at + 2, at + 2 + view[at + 1]))}`);
        }
        return out.sort();
      };
      assert.deepEqual(records(), ['2:early', '3:to three']);
      assert.ok(logs.some((l) => /spawned mule 2 \(build\/tests\/fixtures\/mule-recorder\.js\)/.test(l)), logs.join('\n'));
      const mules = collectStats(master.services.sources).mules as Array<{ id: number; file: string | null; thread_state: string }>;
      assert.deepEqual(mules.map((m) => [m.id, m.file]), [[1, null], [2, RECORDER], [3, RECORDER]]);

      await master.killMule(3);
      await untilAtLeast(words, 0, 3);
      assert.equal(u.mule_msg('again', 3), true);
      await untilAtLeast(words, 2, 3);
      assert.ok(records().includes('3:again'), records().join(' '));
    } finally {
      await master.stop();
    }
  }, 60_000);
});
