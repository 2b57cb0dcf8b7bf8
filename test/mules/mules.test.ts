import { createEngine, type Uwsgi } from 'uwsgi-wasm';
import { configFromOptions, parseArgv } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));
/** An engine with mules but no threads: each mule is a view attached in this thread, so order is deterministic. */
function engine(options: Record<string, unknown> = { mules: 3, farm: ['f:1,2', 'g:3'] }) {
  const e = createEngine(options as never);
  return { master: e.uwsgi, mule: (id: number): Uwsgi => e.attach('mule', id) };
}
/** Everything waiting for a mule, without waiting. */
async function drain(u: Uwsgi, opts: { farms?: boolean } = {}): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const m = await u.mule_get_msg({ timeout: 0, ...opts });
    if (m.length === 0) return out;
    out.push(text(m)!);
  }
}

describe('mules: options', () => {
  test('mules, mule and farm build the mule list in option order', () => {
    const cfg = configFromOptions({ mule: ['a.js'], mules: 2, farm: ['f:1,3', 'g:2'] });
    assert.deepEqual(cfg.mules, ['a.js', null, null]);
    assert.deepEqual(cfg.farms, [{ name: 'f', mules: [1, 3] }, { name: 'g', mules: [2] }]);
    const argv = parseArgv(['--mules', '2', '--mule', 'b.js', '--mules=1', '--farm', 'x:3']);
    assert.deepEqual(argv.pairs, [['mules', '2'], ['mule', 'b.js'], ['mules', '1'], ['farm', 'x:3']]);
  });
  test('bad farm specs are refused with a message naming the option', () => {
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: 'f:1,3' }), 'ERR_OPTION', /option 'farm': farm 'f' names mule 3, but mules are 1\.\.2/);
    throwsUwsgi(() => configFromOptions({ farm: 'f:1' }), 'ERR_OPTION', /option 'farm'.*no mule is configured/);
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: ':1' }), 'ERR_OPTION', /option 'farm': empty farm name/);
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: 'f' }), 'ERR_OPTION', /option 'farm': expected 'name:1,2'/);
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: 'f:' }), 'ERR_OPTION', /option 'farm': farm 'f' has no mule ids/);
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: 'f:x' }), 'ERR_OPTION', /option 'farm': expected an integer, got 'x'/);
    throwsUwsgi(() => configFromOptions({ mules: 2, farm: ['f:1', 'f:2'] }), 'ERR_OPTION', /farm 'f' is defined twice/);
    throwsUwsgi(() => configFromOptions({ mules: -1 }), 'ERR_OPTION', /option 'mules'/);
  });
});

describe('mules: messages', () => {
  test('mule_id, worker_id and in_farm inside and outside mules', () => {
    const { master, mule } = engine();
    const [m1, m3] = [mule(1), mule(3)];
    assert.equal(m1.mule_id(), 1);
    assert.equal(m1.worker_id(), 0);
    assert.equal(m3.mule_id(), 3);
    assert.equal(m1.in_farm('f'), true);
    assert.equal(m1.in_farm(new TextEncoder().encode('f')), true);
    assert.equal(m1.in_farm('g'), null);
    assert.equal(m1.in_farm('nope'), null);
    assert.equal(m3.in_farm(), true);
    assert.equal(master.mule_id(), 0);
    assert.equal(master.in_farm(), null);
    assert.equal(master.in_farm('f'), null);
    const lone = createEngine({ mules: 1 }).attach('mule', 1);
    assert.equal(lone.in_farm(), null);
  });

  test('routing: by mule id, by farm, and through the shared mailbox; own mailbox first, then shared, then farms', async () => {
    const { master, mule } = engine();
    const [m1, m2, m3] = [mule(1), mule(2), mule(3)];
    assert.equal(master.mule_msg('farm-f', 'f'), true);
    assert.equal(master.mule_msg('shared'), true);
    assert.equal(master.mule_msg('to-1', 1), true);
    assert.equal(master.mule_msg('to-3', 3), true);
    assert.equal(master.farm_msg('g', 'farm-g'), undefined);
    assert.equal(m2.mule_msg(new Uint8Array([0x61]), 0), true);
    assert.deepEqual(await drain(m1), ['to-1', 'shared', 'a', 'farm-f']);
    assert.deepEqual(await drain(m2), []);
    assert.deepEqual(await drain(m3), ['to-3', 'farm-g']);
    // farms: false leaves farm messages for farm_get_msg.
    master.farm_msg('f', 'later');
    assert.deepEqual(await drain(m2, { farms: false }), []);
    assert.equal(text(await m2.farm_get_msg()), 'later');
    master.farm_msg('g', 'g-only');
    assert.equal(text(await m3.farm_get_msg()), 'g-only');
    assert.equal(await createEngine({ mules: 1 }).attach('mule', 1).farm_get_msg(), null, 'a mule in no farm gets null at once');
  });

  test('a farm message is taken by exactly one mule of the farm', async () => {
    const { master, mule } = engine({ mules: 3, farm: 'all:1,2,3' });
    const mules = [mule(1), mule(2), mule(3)];
    const sent = ['0', '1', '2', '3', '4', '5', '6', '7'];
    for (const s of sent) assert.equal(master.mule_msg(s, 'all'), true);
    const got: string[] = [];
    for (let i = 0; got.length < sent.length; i = (i + 1) % 3) {
      const m = await mules[i].mule_get_msg({ timeout: 0 });
      if (m.length > 0) got.push(text(m)!);
    }
    assert.deepEqual(got.sort(), sent);
    for (const m of mules) assert.deepEqual(await drain(m), []);
  });

  test('a full mailbox makes mule_msg return false (it never waits); farm_msg stays silent', async () => {
    const { master, mule } = engine({ mules: 1, farm: 'f:1' });
    let sent = 0;
    while (master.mule_msg(`m${sent}`, 1)) sent++;
    assert.equal(sent, 8);
    assert.equal(master.mule_msg('extra', 1), false);
    for (let i = 0; i < 8; i++) assert.equal(master.mule_msg('s'), true);
    assert.equal(master.mule_msg('s'), false);
    for (let i = 0; i < 9; i++) assert.equal(master.farm_msg('f', 'x'), undefined);
    const m1 = mule(1);
    assert.equal(text(await m1.mule_get_msg()), 'm0');
    assert.equal(master.mule_msg('again', 1), true);
  });

  test('mule_get_msg with a timeout resolves with empty bytes (uWSGI b\'\'); empty messages are messages', async () => {
    const { master, mule } = engine({ mules: 1 });
    const m1 = mule(1);
    const t0 = performance.now();
    const r = await m1.mule_get_msg({ timeout: 0.05 });
    assert.ok(r instanceof Uint8Array && r.length === 0);
    assert.ok(performance.now() - t0 >= 40, 'it waited for the timeout');
    assert.equal(master.mule_msg('', 1), true);
    assert.equal((await m1.mule_get_msg({ timeout: 1 })).length, 0);
  });

  test('a waiting mule wakes when a message arrives', async () => {
    const { master, mule } = engine({ mules: 1 });
    const pending = mule(1).mule_get_msg();
    master.mule_msg('wake', 1);
    assert.equal(text(await pending), 'wake');
  });

  test('bad inputs throw typed errors naming the function and argument', async () => {
    const { master, mule } = engine();
    throwsUwsgi(() => createEngine({}).uwsgi.mule_msg('x'), 'ERR_NOT_CONFIGURED', /mule_msg: no mule configured/);
    throwsUwsgi(() => master.mule_msg('x', 4), 'ERR_NOT_FOUND', /mule_msg: invalid mule 4 \(mules are 1\.\.3\)/);
    throwsUwsgi(() => master.mule_msg('x', -1), 'ERR_NOT_FOUND', /invalid mule -1/);
    throwsUwsgi(() => master.mule_msg('x', 1.5), 'ERR_ARG_TYPE', /mule_msg: mule must be an integer/);
    throwsUwsgi(() => master.mule_msg('x', 'nofarm'), 'ERR_NOT_FOUND', /mule_msg: unknown farm 'nofarm'/);
    throwsUwsgi(() => master.mule_msg('x', {} as never), 'ERR_ARG_TYPE', /mule_msg: target must be a mule id \(number\) or a farm name \(string\), got Object/);
    throwsUwsgi(() => master.mule_msg(3 as never), 'ERR_ARG_TYPE', /mule_msg: msg must be a string or Uint8Array, got number/);
    throwsUwsgi(() => master.mule_msg(new Uint8Array(65537), 1), 'ERR_BOUNDS', /mule_msg: the message is 65537 bytes; a mule message holds at most 65536/);
    throwsUwsgi(() => master.farm_msg('f', new Uint8Array(65537)), 'ERR_BOUNDS', /farm_msg: the message is 65537 bytes/);
    throwsUwsgi(() => master.farm_msg(1 as never, 'x'), 'ERR_ARG_TYPE', /farm_msg: farm must be a string or Uint8Array, got number/);
    throwsUwsgi(() => (master.mule_msg as (...a: unknown[]) => unknown)(), 'ERR_ARG_COUNT', /mule_msg\(\) takes at least 1 argument/);
    throwsUwsgi(() => master.mule_get_msg(), 'ERR_UNSUPPORTED', /mule_get_msg: messages can be received only in a mule/);
    throwsUwsgi(() => master.farm_get_msg(), 'ERR_UNSUPPORTED', /farm_get_msg: messages can be received only in a mule/);
    const m1 = mule(1);
    throwsUwsgi(() => m1.mule_get_msg({ wait: 1 } as never), 'ERR_ARG_TYPE', /mule_get_msg: unknown option 'wait'/);
    throwsUwsgi(() => m1.mule_get_msg({ timeout: '1' } as never), 'ERR_ARG_TYPE', /mule_get_msg: timeout must be a number of seconds/);
    throwsUwsgi(() => m1.mule_get_msg({ buffer_size: 0 }), 'ERR_VALUE_RANGE', /buffer_size must be at least 1/);
    // The largest message travels whole; one longer than buffer_size stays queued.
    assert.equal(master.mule_msg(new Uint8Array(65536).fill(7), 1), true);
    await rejectsUwsgi(m1.mule_get_msg({ buffer_size: 100 }), 'ERR_BOUNDS', /the next message is 65536 bytes, more than buffer_size 100; it stays queued/);
    const big = await m1.mule_get_msg();
    assert.equal(big.length, 65536);
    assert.equal(big[65535], 7);
  });
});
