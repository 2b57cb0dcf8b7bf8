/**
 * Timers longer than a runtime timer holds (2^31 - 1 ms, about 24.8 days):
 * every runtime fires a longer setTimeout after about 1 ms. async_sleep, the
 * client's timeouts and socket-timeout must wait as long as asked.
 */
import { createEngine } from 'uwsgi-wasm';
import { createServer, type Socket } from 'node:net';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';

const CHUNK = 2 ** 31 - 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `p` settled within `ms` (real time). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(() => { settled = true; }, () => { settled = true; });
  await sleep(ms);
  return settled;
}

/**
 * Run `fn` with setTimeout/clearTimeout and performance.now replaced by a
 * recorder and a hand-moved clock (restored afterwards, so no real timer of
 * days is left pending).
 */
async function withFakeClock(fn: (clock: { now: number; timers: Array<{ ms: number; fire: () => void; cleared: boolean }> }) => Promise<void>): Promise<void> {
  const g = globalThis as unknown as Record<string, unknown>;
  const realSet = g.setTimeout, realClear = g.clearTimeout, realNow = performance.now;
  const clock = { now: 0, timers: [] as Array<{ ms: number; fire: () => void; cleared: boolean }> };
  g.setTimeout = (f: () => void, ms: number) => { const t = { ms, fire: f, cleared: false }; clock.timers.push(t); return t; };
  g.clearTimeout = (t: { cleared: boolean } | undefined) => { if (t) t.cleared = true; };
  Object.defineProperty(performance, 'now', { value: () => clock.now, configurable: true, writable: true });
  try {
    await fn(clock);
  } finally {
    g.setTimeout = realSet;
    g.clearTimeout = realClear;
    Object.defineProperty(performance, 'now', { value: realNow, configurable: true, writable: true });
  }
}

/** A peer that accepts and never sends a byte. */
async function silentPeer(): Promise<{ addr: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => { sockets.add(s); s.on('error', () => {}); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    addr: `127.0.0.1:${(srv.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => { for (const s of sockets) s.destroy(); srv.close(() => r()); }),
  };
}

describe('long timers', () => {
  test('async_sleep(2.2e6) waits 2.2e9 ms: runtime timers of at most 2^31 - 1 ms, chained to the deadline', async () => {
    const { uwsgi } = createEngine({});
    await withFakeClock(async (clock) => {
      let done = false;
      const p = uwsgi.async_sleep(2.2e6).then(() => { done = true; });
      assert.equal(clock.timers.length, 1);
      assert.equal(clock.timers[0].ms, CHUNK, 'one runtime timer never exceeds 2^31 - 1 ms');
      clock.now = CHUNK;
      clock.timers[0].fire();
      await Promise.resolve();
      assert.equal(done, false, 'after the first 24.8 days the sleep goes on');
      assert.equal(clock.timers.length, 2);
      assert.equal(clock.timers[1].ms, 2.2e9 - CHUNK, 'the rest of the way');
      clock.now = 2.2e9;
      clock.timers[1].fire();
      await p;
      assert.equal(done, true);
    });
    // The longest: 2^53 - 1 ms; beyond, a typed error.
    throwsUwsgi(() => uwsgi.async_sleep(2 ** 53), 'ERR_VALUE_RANGE', /async_sleep: seconds must be at most [\d.]+ seconds \(2\^53 - 1 ms\)/);
  });

  test('recv_block(fd, n, 3e6) and a socket-timeout of 3000000 s wait past 2^31 ms instead of timing out at once', async () => {
    const peer = await silentPeer();
    const { uwsgi } = createEngine({});
    try {
      const fd = await uwsgi.connect(peer.addr);
      const explicit = uwsgi.recv_block(fd, 4, 3e6);
      assert.equal(await settlesWithin(explicit, 150), false, 'recv_block with a 3e6 s timeout ended within 150 ms');
      await uwsgi.close(fd);
      await explicit.catch(() => {});
      uwsgi.set_option('socket-timeout', '3000000');
      const fd2 = await uwsgi.connect(peer.addr);
      const byOption = uwsgi.recv_block(fd2, 4);
      assert.equal(await settlesWithin(byOption, 150), false, 'recv_block under socket-timeout 3000000 ended within 150 ms');
      await uwsgi.close(fd2);
      await byOption.catch(() => {});
      // Short timeouts still fire.
      uwsgi.set_option('socket-timeout', '4');
      const fd3 = await uwsgi.connect(peer.addr);
      await rejectsUwsgi(uwsgi.recv_block(fd3, 4, 0.05), 'ERR_TIMEOUT');
      const fd4 = await uwsgi.connect(peer.addr);
      await rejectsUwsgi(uwsgi.recv_block(fd4, 4, 2 ** 53), 'ERR_VALUE_RANGE', /timeout must be at most/);
      await uwsgi.close(fd4);
      uwsgi.set_option('socket-timeout', String(2 ** 53));
      await rejectsUwsgi((async () => uwsgi.connect(peer.addr))(), 'ERR_OPTION', /socket-timeout must be a whole number of seconds from 1 to \d+/);
    } finally {
      await peer.close();
    }
  });
});
