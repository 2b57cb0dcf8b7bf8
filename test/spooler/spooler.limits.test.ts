import { createEngine, type Options } from 'uwsgi-wasm';
import { encodeVars } from 'uwsgi-wasm/codec';
import { enqueueSpoolPacket, spoolPacketHook } from 'uwsgi-wasm/spooler';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';

const enc = new TextEncoder();

function engineWith(opts: Options): { u: ReturnType<typeof createEngine>['uwsgi']; dir: string; done(): void } {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const tmp = mkdtempSync(join(base, 'uwsgi-spool-'));
  const e = createEngine({ spooler: join(tmp, 'spool'), 'spooler-quiet': true, ...opts } as Options);
  return { u: e.uwsgi, dir: e.uwsgi.spoolers![0], done: () => rmSync(tmp, { recursive: true, force: true }) };
}

/** Wait for the start of the next wall-clock second, so a rate window is whole. */
async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
}

describe('spooler limits on spool packets', () => {
  test('priority directories take the spool directory\'s mode, never 0777', () => {
    const r = engineWith({});
    try {
      assert.equal(statSync(r.dir).mode & 0o777, 0o750);
      enqueueSpoolPacket(r.u.ctx, encodeVars([['task', 'a'], ['priority', '3']]));
      assert.equal(statSync(join(r.dir, '3')).mode & 0o777, 0o750);
      // A spool directory made tighter by its owner: new priority directories follow it.
      chmodSync(r.dir, 0o700);
      r.u.spool({ task: 'b' }, { priority: 4 });
      assert.equal(statSync(join(r.dir, '4')).mode & 0o777, 0o700);
    } finally { r.done(); }
  });

  test('spooler-packet-rate: packets beyond N a second are refused (ERR_FULL, the hook answers no); local spool() is not limited', async () => {
    const r = engineWith({ 'spooler-packet-rate': 5 });
    try {
      await nextSecond();
      const hook = spoolPacketHook(r.u.ctx);
      const answers = Array.from({ length: 8 }, (_, i) => hook([[enc.encode('n'), enc.encode(String(i))]]));
      // The burst takes a few milliseconds of a second that has just begun: one window.
      assert.deepEqual(answers, [true, true, true, true, true, false, false, false]);
      throwsUwsgi(() => enqueueSpoolPacket(r.u.ctx, encodeVars([['n', 'x']])), 'ERR_FULL', /more than 5 spool packets this second \(spooler-packet-rate\)/);
      for (let i = 0; i < 20; i++) r.u.spool({ local: String(i) });
      await nextSecond();
      assert.equal(hook([[enc.encode('n'), enc.encode('later')]]), true, 'a new second, a new allowance');
      assert.equal(readdirSync(r.dir).filter((n) => n.startsWith('uwsgi_spoolfile_on_')).length, 5 + 20 + 1);
    } finally { r.done(); }
  });

  test('spooler-max-bytes: packets are refused once the directory (priority directories included) holds that much', () => {
    const r = engineWith({ 'spooler-max-bytes': 20000, 'spooler-packet-rate': 0 });
    try {
      const hook = spoolPacketHook(r.u.ctx);
      const big = new Uint8Array(3000).fill(0x61);
      let accepted = 0;
      for (let i = 0; i < 20; i++) if (hook([[enc.encode('blob'), big], [enc.encode('priority'), enc.encode(String(i))]])) accepted++;
      // Each packet costs its file (about 3 KiB) and a new priority directory (4096 bytes).
      assert.ok(accepted >= 2 && accepted <= 3, `${accepted} packets accepted`);
      throwsUwsgi(() => enqueueSpoolPacket(r.u.ctx, encodeVars([['n', 'x']])), 'ERR_FULL', /holds \d+ bytes, spooler-max-bytes is 20000: spool packet refused/);
      assert.equal(readdirSync(r.dir).filter((n) => /^\d+$/.test(n)).length, accepted, 'refused packets made no directory');
      // The app's own spool() is not limited.
      r.u.spool({ local: 'yes' }, { body: big });
    } finally { r.done(); }
  });

  test('the limits are options with defaults; bad values are ERR_OPTION', () => {
    const r = engineWith({});
    try {
      assert.equal(r.u.ctx.shared.config.spooler.packetRate, 100);
      assert.equal(r.u.ctx.shared.config.spooler.maxBytes, 64 * 1024 * 1024);
    } finally { r.done(); }
    throwsUwsgi(() => createEngine({ spooler: '/tmp/x', 'spooler-packet-rate': -1 } as Options), 'ERR_OPTION');
    throwsUwsgi(() => createEngine({ spooler: '/tmp/x', 'spooler-max-bytes': 'lots' } as unknown as Options), 'ERR_OPTION');
  });
});
