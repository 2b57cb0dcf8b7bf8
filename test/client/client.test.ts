/**
 * The network client against tiny in-test servers (node:net, on every
 * runtime): the exact bytes real uWSGI's clients send (wire.json), and every
 * way a peer can fail: refused, closed mid-reply, silent, oversized, garbage.
 */
import { createEngine, serve, type Uwsgi } from 'uwsgi-wasm';
import { parseClientAddress as parseAddress, clientOf } from 'uwsgi-wasm/client';
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi, throwsUwsgi } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (u8: Uint8Array | null) => (u8 === null ? null : new TextDecoder().decode(u8));
const hex = (u8: Uint8Array) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h: string) => new Uint8Array((h.match(/../g) ?? []).map((b) => parseInt(b, 16)));
const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

interface Tiny {
  port: number;
  addr: string;
  /** Bytes each connection sent, in connection order. */
  received: Uint8Array[];
  close(): Promise<void>;
}

/**
 * A one-off server on 127.0.0.1 (or a unix path): `onData` sees everything the
 * connection sent so far and answers (returning true once done with it).
 */
async function tiny(onData: (s: Socket, all: Uint8Array) => boolean | void, path?: string): Promise<Tiny> {
  const received: Uint8Array[] = [];
  const sockets = new Set<Socket>();
  const srv: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    const i = received.push(new Uint8Array(0)) - 1;
    let done = false;
    s.on('data', (d: Uint8Array) => {
      received[i] = cat(received[i], new Uint8Array(d));
      if (!done) done = onData(s, received[i]) === true;
    });
  });
  await new Promise<void>((r) => (path ? srv.listen(path, r) : srv.listen(0, '127.0.0.1', r)));
  const port = path ? 0 : (srv.address() as { port: number }).port;
  return {
    port,
    addr: path ?? `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}

/** Answer with `reply` once `need` bytes arrived, then close (as uWSGI's management handlers do). */
const answerAfter = (need: number, reply: Uint8Array, end = true) => (s: Socket, all: Uint8Array) => {
  if (all.length < need) return false;
  if (end) s.end(reply); else s.write(reply);
  return true;
};

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const t = await tiny(() => true);
  await t.close();
  return t.port;
}

const engine = (): Uwsgi => createEngine({}).uwsgi;

// Captured from real uWSGI 2.0.21 (../shared/conformance/wire.json): the request its
// Python client sent, the server's reply, and what the Python call returned.
// PROXY is the address the test server gets.
const WIRE: Array<{ name: string; call: (u: Uwsgi, a: string) => Promise<unknown>; req: string; resp: string; result: unknown }> = [
  { name: 'cache_set', call: (u, a) => u.cache_set('k', enc('hello'), 0, `default@${a}`), req: '6f3400110300636d64030073657403006b657901006b040073697a65010035040073697a6501003505006361636865070064656661756c7468656c6c6f', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'cache_set with expires', call: (u, a) => u.cache_set('e', enc('v'), 30, `default@${a}`), req: '6f4100110300636d64030073657403006b6579010065040073697a6501003107006578706972657302003330040073697a6501003105006361636865070064656661756c7476', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'cache_update', call: (u, a) => u.cache_update('k', 'world', 0, `default@${a}`), req: '6f3700110300636d64060075706461746503006b657901006b040073697a65010035040073697a6501003505006361636865070064656661756c74776f726c64', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'cache_get hit', call: (u, a) => u.cache_get('k', `default@${a}`).then(text), req: '6f2200110300636d64030067657403006b657901006b05006361636865070064656661756c74', resp: '6f150011060073746174757302006f6b040073697a65010035776f726c64', result: 'world' },
  { name: 'cache_exists hit', call: (u, a) => u.cache_exists('k', `default@${a}`), req: '6f2500110300636d64060065786973747303006b657901006b05006361636865070064656661756c74', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'cache_del', call: (u, a) => u.cache_del('k', `default@${a}`), req: '6f2200110300636d64030064656c03006b657901006b05006361636865070064656661756c74', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'cache_exists miss', call: (u, a) => u.cache_exists('k', `default@${a}`), req: '6f2500110300636d64060065786973747303006b657901006b05006361636865070064656661756c74', resp: '', result: null },
  { name: 'cache_get miss', call: (u, a) => u.cache_get('k', `default@${a}`), req: '6f2200110300636d64030067657403006b657901006b05006361636865070064656661756c74', resp: '', result: null },
  { name: 'cache_get unknown cache', call: (u, a) => u.cache_get('k', `nope@${a}`), req: '6f1f00110300636d64030067657403006b657901006b0500636163686504006e6f7065', resp: '', result: null },
  { name: 'cache_clear', call: (u, a) => u.cache_clear(`default@${a}`), req: '6f1c00110300636d640500636c65617205006361636865070064656661756c74', resp: '6f0c0011060073746174757302006f6b', result: true },
  { name: 'rpc', call: (u, a) => (u.rpc(a, enc('fname'), enc('arg1'), 'arg2') as Promise<Uint8Array | null>).then(text), req: 'ad1300000500666e616d65040061726731040061726732', resp: 'ad100000666e616d6528617267312c6172673229', result: 'fname(arg1,arg2)' },
  { name: 'rpc no args', call: (u, a) => (u.rpc(a, 'fname') as Promise<Uint8Array | null>).then(text), req: 'ad0700000500666e616d65', resp: 'ad070000666e616d652829', result: 'fname()' },
  { name: 'rpc unknown function', call: (u, a) => u.rpc(a, 'nosuch', 'x') as Promise<unknown>, req: 'ad0b000006006e6f73756368010078', resp: '', result: null },
  { name: 'signal', call: (u, a) => clientOf(u.ctx).signal(17, a), req: '6e000011', resp: 'ff000001', result: undefined },
  { name: 'signal unregistered', call: (u, a) => clientOf(u.ctx).signal(99, a), req: '6e000063', resp: 'ff000001', result: undefined },
  // spec/protocol.md §6, verified against uWSGI: a spool request {net: yes, x: 1}.
  { name: 'spool (a Map job)', call: (u, a) => clientOf(u.ctx).spool('spool', a, new Map<string, string | number>([['net', 'yes'], ['x', 1]])), req: '111000000300' + '6e6574' + '0300' + '796573' + '0100' + '78' + '0100' + '31', resp: 'ff000001', result: true },
  { name: 'spool', call: (u, a) => clientOf(u.ctx).spool('spool', a, { net: 'yes', x: 1 }), req: '111000000300' + '6e6574' + '0300' + '796573' + '0100' + '78' + '0100' + '31', resp: 'ff000001', result: true },
];

describe('client', () => {
  test('addresses: host:port, [ipv6]:port, unix paths and abstract names; bad ones are typed errors', () => {
    assert.deepEqual(parseAddress('f', '127.0.0.1:3031').target, { host: '127.0.0.1', port: 3031 });
    assert.deepEqual(parseAddress('f', ':3031').target, { host: '127.0.0.1', port: 3031 });
    assert.deepEqual(parseAddress('f', 'localhost:1').target, { host: 'localhost', port: 1 });
    assert.deepEqual(parseAddress('f', '[::1]:8000').target, { host: '::1', port: 8000 });
    assert.deepEqual(parseAddress('f', '/tmp/u.sock').target, { path: '/tmp/u.sock' });
    assert.deepEqual(parseAddress('f', '@abstract').target, { path: '\0abstract' });
    assert.deepEqual(parseAddress('f', enc('h:9')).target, { host: 'h', port: 9 });
    throwsUwsgi(() => parseAddress('rpc', 5, 'node'), 'ERR_ARG_TYPE', /rpc: node must be a string, got number/);
    throwsUwsgi(() => parseAddress('rpc', ''), 'ERR_VALUE_RANGE', /must not be empty/);
    for (const bad of ['h:', 'h:0', 'h:65536', 'h:x', 'a:b:c', '[::1]8000']) throwsUwsgi(() => parseAddress('f', bad), 'ERR_VALUE_RANGE', undefined);
  });

  test('requests are byte-identical to real uWSGI\'s clients (wire.json) and replies give its results', async () => {
    for (const v of WIRE) {
      const req = unhex(v.req);
      const t = await tiny(answerAfter(req.length, unhex(v.resp)));
      try {
        const got = await v.call(engine(), t.addr);
        assert.deepEqual(got, v.result, v.name);
        assert.equal(hex(t.received[0]), v.req, `${v.name}: request bytes`);
      } finally {
        await t.close();
      }
    }
  });

  test('remote cache forms: "@addr" sends an empty cache name, values may be big, cache_num and cache_get_into work', async () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    // status=ok size=200000, then the value.
    const vars = cat(unhex('0600'), enc('status'), unhex('0200'), enc('ok'), unhex('0400'), enc('size'), unhex('0600'), enc('200000'));
    const pkt = cat(new Uint8Array([111, vars.length, 0, 17]), vars, big);
    const t = await tiny(answerAfter(4, pkt));
    try {
      const u = engine();
      const v = await u.cache_get('k', `@${t.addr}`);
      assert.deepEqual(v, big);
      const req = t.received[0];
      assert.equal(hex(req.subarray(req.length - 9)), hex(cat(unhex('0500'), enc('cache'), unhex('0000'))), 'an empty cache var ends the request');
      const buf = new Uint8Array(10);
      assert.equal(await u.cache_get_into('k', buf, `x@${t.addr}`), 200_000);
      assert.deepEqual(buf, big.subarray(0, 10));
    } finally {
      await t.close();
    }
    const num = new Uint8Array(8);
    new DataView(num.buffer).setBigInt64(0, -42n, true);
    const numVars = cat(unhex('0600'), enc('status'), unhex('0200'), enc('ok'), unhex('0400'), enc('size'), unhex('0100'), enc('8'));
    const t2 = await tiny(answerAfter(4, cat(new Uint8Array([111, numVars.length, 0, 17]), numVars, num)));
    try {
      assert.equal(await engine().cache_num('n', `default@${t2.addr}`), -42n);
    } finally {
      await t2.close();
    }
  });

  test('RPC: the 64-bit reply form (173/5 with CONTENT_LENGTH) and a unix socket node', async () => {
    const result = new Uint8Array(70_000).fill(0x78);
    const vars = cat(unhex('0e00'), enc('CONTENT_LENGTH'), unhex('0500'), enc('70000'));
    const path = join(tmpdir(), `uwsgi-wasm-client-${Math.random().toString(36).slice(2)}.sock`);
    const t = await tiny(answerAfter(4, cat(new Uint8Array([173, vars.length, 0, 5]), vars, result)), path);
    try {
      const r = await (engine().rpc(path, 'big', '70000') as Promise<Uint8Array | null>);
      assert.equal(r?.length, 70_000);
      assert.deepEqual(r, result);
    } finally {
      await t.close();
      rmSync(path, { force: true });
    }
  });

  test('refused: ERR_CONNECT on TCP and unix sockets, for every function; async_connect reports it later', async () => {
    const u = engine();
    const a = `127.0.0.1:${await closedPort()}`;
    await rejectsUwsgi(u.cache_get('k', `default@${a}`), 'ERR_CONNECT', new RegExp(`cache_get: ${a}: cannot connect \\(ECONNREFUSED`));
    await rejectsUwsgi(u.cache_set('k', 'v', 0, `default@${a}`), 'ERR_CONNECT');
    await rejectsUwsgi(u.rpc(a, 'f') as Promise<unknown>, 'ERR_CONNECT', /^rpc: /);
    await rejectsUwsgi(clientOf(u.ctx).signal(1, a), 'ERR_CONNECT', /^signal: /);
    await rejectsUwsgi(clientOf(u.ctx).spool('spool', a, { a: 'b' }), 'ERR_CONNECT', /^spool: /);
    await rejectsUwsgi(u.send_message(a, 100, 0, ''), 'ERR_CONNECT');
    await rejectsUwsgi(u.connect(a), 'ERR_CONNECT');
    await rejectsUwsgi(u.cache_get('k', 'default@/nonexistent/uwsgi-wasm.sock'), 'ERR_CONNECT', /ENOENT/);
    const fd = u.async_connect(a);
    assert.equal(typeof fd, 'number');
    await rejectsUwsgi(u.recv(fd), 'ERR_CONNECT');
    assert.equal(u.is_connected(fd), false);
    u.close(fd);
    await rejectsUwsgi(u.recv(fd), 'ERR_NOT_FOUND', /recv: no open connection/);
  });

  test('closed mid-reply: ERR_CLOSED (header, vars, value, RPC result, missing acknowledgement)', async () => {
    const u = engine();
    const okVars = cat(unhex('0600'), enc('status'), unhex('0200'), enc('ok'), unhex('0400'), enc('size'), unhex('0200'), enc('10'));
    const cases: Array<[string, Uint8Array, (a: string) => Promise<unknown>, RegExp]> = [
      ['2 header bytes', unhex('6f15'), (a) => u.cache_get('k', `default@${a}`), /after 2 of the 4 bytes of the cache reply header/],
      ['half the vars', cat(new Uint8Array([111, okVars.length, 0, 17]), okVars.subarray(0, 5)), (a) => u.cache_get('k', `default@${a}`), new RegExp(`after 5 of the ${okVars.length} bytes of the cache reply vars`)],
      ['3 of 10 value bytes', cat(new Uint8Array([111, okVars.length, 0, 17]), okVars, enc('abc')), (a) => u.cache_get('k', `default@${a}`), /after 3 of the 10 bytes of the cache value/],
      ['RPC result cut', unhex('ad0a0000414243'), (a) => u.rpc(a, 'f') as Promise<unknown>, /after 3 of the 10 bytes of the RPC result/],
      ['no acknowledgement', new Uint8Array(0), (a) => clientOf(u.ctx).signal(5, a), /without acknowledging the signal 5/],
      ['spool not acknowledged', new Uint8Array(0), (a) => clientOf(u.ctx).spool('spool', a, { x: '1' }), /without acknowledging the spool request/],
    ];
    for (const [name, reply, call, msg] of cases) {
      const t = await tiny(answerAfter(4, reply));
      try {
        await rejectsUwsgi(call(t.addr), 'ERR_CLOSED', msg);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      } finally {
        await t.close();
      }
    }
  });

  test('reset before a byte of the reply: a no (null), as uWSGI gives when it refuses a value it did not read; a reset mid-reply stays ERR_CLOSED', async () => {
    const u = engine();
    // A server that reads nothing and resets: unread bytes make the kernel send
    // a reset where an orderly close would have been.
    const resetSoon = (s: Socket) => setTimeout(() => (s.resetAndDestroy ? s.resetAndDestroy() : s.destroy()), 20);
    const reset = (s: Socket) => { s.pause(); resetSoon(s); return true; };
    for (const size of [2000, 4 << 20]) {
      const t = await tiny(reset);
      try {
        assert.equal(await u.cache_set('toobig', new Uint8Array(size), 0, `mycache@${t.addr}`), null, `a ${size}-byte value`);
        assert.equal(await u.cache_update('toobig', new Uint8Array(size), 0, `mycache@${t.addr}`), null);
        assert.equal(await u.cache_get('k', `mycache@${t.addr}`), null);
        assert.equal(await u.rpc(t.addr, 'f'), null);
      } finally {
        await t.close();
      }
    }
    const t = await tiny((s) => { s.write(unhex('6f15')); resetSoon(s); return true; });
    try {
      await rejectsUwsgi(u.cache_get('k', `default@${t.addr}`), 'ERR_CLOSED');
    } finally {
      await t.close();
    }
  });

  test('timeout: ERR_TIMEOUT when the peer accepts and never answers (socket-timeout)', async () => {
    const u = engine();
    u.set_option('socket-timeout', '1');
    const t = await tiny(() => true);
    try {
      await rejectsUwsgi(u.cache_get('k', `default@${t.addr}`), 'ERR_TIMEOUT', /nothing came within 1000 ms while waiting for the cache reply header/);
      const fd = await u.connect(t.addr);
      await rejectsUwsgi(u.recv_block(fd, 4, 0.2), 'ERR_TIMEOUT', /within 200 ms/);
      assert.equal(u.is_connected(fd), false, 'a timed-out connection is closed');
      u.close(fd);
      u.set_option('socket-timeout', 'soon');
      await rejectsUwsgi(u.cache_get('k', `default@${t.addr}`), 'ERR_OPTION', /socket-timeout must be a whole number of seconds/);
    } finally {
      await t.close();
    }
  });

  test('oversized replies: ERR_BAD_REPLY before anything is allocated for them', async () => {
    const u = engine();
    const vars = (size: string) => cat(unhex('0600'), enc('status'), unhex('0200'), enc('ok'), unhex('0400'), enc('size'), new Uint8Array([size.length, 0]), enc(size));
    const huge = vars('1000000000000');
    const cl = cat(unhex('0e00'), enc('CONTENT_LENGTH'), unhex('0a00'), enc('9999999999'));
    const cases: Array<[Uint8Array, (a: string) => Promise<unknown>, RegExp]> = [
      [cat(new Uint8Array([111, huge.length, 0, 17]), huge), (a) => u.cache_get('k', `default@${a}`), /announces 1000000000000 bytes, over the 67108864-byte limit/],
      [cat(new Uint8Array([173, cl.length, 0, 5]), cl), (a) => u.rpc(a, 'f') as Promise<unknown>, /announces 9999999999 bytes/],
    ];
    for (const [reply, call, msg] of cases) {
      const t = await tiny(answerAfter(4, reply, false));
      try { await rejectsUwsgi(call(t.addr), 'ERR_BAD_REPLY', msg); } finally { await t.close(); }
    }
    // A frame that never ends is cut at 64 KiB, whatever the peer keeps sending.
    const t = await tiny((s) => { s.write(cat(new Uint8Array([0]), new Uint8Array(70_000).fill(0x61))); return true; });
    try {
      const fd = await u.connect(t.addr);
      await u.send(fd, 'go');
      await rejectsUwsgi(u.recv_frame(fd), 'ERR_BAD_REPLY', /a frame is longer than the 65536-byte limit/);
    } finally { await t.close(); }
  });

  test('garbage replies: ERR_BAD_REPLY; an acknowledgement saying "failed" is ERR_REJECTED', async () => {
    const u = engine();
    const http = enc('HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>Not Found</h1>');
    const cases: Array<[Uint8Array, (a: string) => Promise<unknown>, string, RegExp]> = [
      [http, (a) => u.cache_get('k', `default@${a}`), 'ERR_BAD_REPLY', /expected a cache reply \(111\/17\), got modifier 72\/80/],
      [unhex('6f04001105000102'), (a) => u.cache_exists('k', `default@${a}`), 'ERR_BAD_REPLY', /the cache reply vars are malformed/],
      [cat(unhex('6f0a0011'), unhex('0300'), enc('abc'), unhex('0300'), enc('def')), (a) => u.cache_del('k', `default@${a}`), 'ERR_BAD_REPLY', /has no 'status'/],
      [cat(unhex('6f150011'), unhex('0600'), enc('status'), unhex('0200'), enc('ok'), unhex('0400'), enc('size'), unhex('0100'), enc('x')), (a) => u.cache_get('k', `default@${a}`), 'ERR_BAD_REPLY', /no valid 'size' \(got 'x'\)/],
      [http, (a) => u.rpc(a, 'f') as Promise<unknown>, 'ERR_BAD_REPLY', /expected an RPC reply \(173\)/],
      [unhex('ad000009'), (a) => u.rpc(a, 'f') as Promise<unknown>, 'ERR_BAD_REPLY', /unknown RPC reply form 9/],
      [http, (a) => clientOf(u.ctx).signal(1, a), 'ERR_BAD_REPLY', /expected an acknowledgement \(ff 00 00 00\|01\), got 48 54 54 50/],
      [unhex('ff000000'), (a) => clientOf(u.ctx).signal(1, a), 'ERR_REJECTED', /the node rejected signal 1/],
      [unhex('ff000000'), (a) => clientOf(u.ctx).spool('spool', a, { x: '1' }), 'ERR_REJECTED', /could not spool the job/],
    ];
    for (const [reply, call, code, msg] of cases) {
      const t = await tiny(answerAfter(4, reply));
      try { await rejectsUwsgi(call(t.addr), code, msg); } finally { await t.close(); }
    }
    // A cache reply whose status is not 'ok' is uWSGI's failure: null.
    const bad = cat(unhex('0600'), enc('status'), unhex('0800'), enc('notfound'));
    const t = await tiny(answerAfter(4, cat(new Uint8Array([111, bad.length, 0, 17]), bad)));
    try { assert.equal(await u.cache_get('k', `default@${t.addr}`), null); } finally { await t.close(); }
  });

  test('seeded random replies: every outcome is a result or a typed network error, never a hang or a crash', async () => {
    let seed = 0x2545f491;
    const rand = (n: number) => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % n; };
    const u = engine();
    const replies: Uint8Array[] = [];
    const t = await tiny((s) => { s.end(replies.shift() ?? new Uint8Array(0)); return true; });
    const allowed = new Set(['ERR_CLOSED', 'ERR_BAD_REPLY', 'ERR_REJECTED']);
    const outcomes = new Map<string, number>();
    try {
      for (let i = 0; i < 300; i++) {
        const body = new Uint8Array(rand(80)).map(() => rand(256));
        // Half the replies start with a plausible header for the call, so parsing goes deeper.
        const kind = rand(3);
        const m1 = [111, 173, 255][kind];
        if (rand(2) === 0) body.set(new Uint8Array([m1, rand(40), 0, kind === 0 ? 17 : rand(3) === 0 ? 5 : 0]).subarray(0, Math.min(4, body.length)));
        replies.push(body);
        const call = kind === 0 ? u.cache_get('k', `default@${t.addr}`) : kind === 1 ? u.rpc(t.addr, 'f') as Promise<unknown> : clientOf(u.ctx).signal(1, t.addr);
        let outcome: string;
        try {
          const r = await call;
          assert.ok(r === null || r === undefined || r instanceof Uint8Array, `result of kind ${kind}: ${String(r)}`);
          outcome = r === null ? 'null' : r === undefined ? 'ok' : 'bytes';
        } catch (e) {
          assert.ok(e instanceof Error && 'code' in e && allowed.has((e as { code: string }).code), `reply ${hex(body)}: ${String(e)}`);
          outcome = (e as { code: string }).code;
        }
        outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      }
    } finally {
      await t.close();
    }
    assert.ok((outcomes.get('ERR_BAD_REPLY') ?? 0) > 0 && (outcomes.get('ERR_CLOSED') ?? 0) > 0, JSON.stringify([...outcomes]));
  });

  test('connections: connect/send/recv/recv_block/recv_frame/is_connected/close on an echo peer', async () => {
    const u = engine();
    const t = await tiny((s, all) => {
      const st = s as unknown as { seen?: number };
      s.write(all.subarray(st.seen ?? 0));
      st.seen = all.length;
    });
    try {
      const fd = await u.connect(t.addr, 2);
      assert.equal(u.is_connected(fd), true);
      assert.equal(await u.send(fd, 'hello'), true);
      assert.equal(text(await u.recv_block(fd, 5)), 'hello');
      await u.send(fd, cat(enc('junk'), new Uint8Array([0]), enc('frame-1'), new Uint8Array([0xff, 0]), enc('frame-2'), new Uint8Array([0xff])));
      assert.equal(text(await u.recv_frame(fd)), 'frame-1', 'bytes before the prefix are skipped');
      assert.equal(text(await u.recv_frame(fd, '\x00', 0xff)), 'frame-2');
      await u.send(fd, '<a>');
      assert.equal(text(await u.recv_frame(fd, '<', '>')), 'a');
      await u.send(fd, new Uint8Array(5000).fill(1));
      let got = 0;
      while (got < 5000) {
        const part = await u.recv(fd);
        assert.ok(part && part.length <= 4096, 'recv reads at most 4096 bytes');
        got += part.length;
      }
      u.close(fd);
      assert.equal(u.is_connected(fd), false);
      u.close(fd); // closing twice is harmless, as close(2) on a stale descriptor in uWSGI
      await rejectsUwsgi(u.send(fd, 'x'), 'ERR_NOT_FOUND');
      const a = u.async_connect(t.addr);
      await u.send(a, 'later');
      assert.equal(u.is_connected(a), true);
      assert.equal(text(await u.recv_block(a, 5, -1)), 'later');
      u.close(a);
    } finally {
      await t.close();
    }
  });

  test('the end of a stream: recv and recv_frame give null, recv_block null or ERR_CLOSED part-way', async () => {
    const u = engine();
    const t = await tiny((s) => { s.end(enc('abc')); return true; });
    try {
      const fd = await u.connect(t.addr);
      await u.send(fd, 'x');
      await rejectsUwsgi(u.recv_block(fd, 5), 'ERR_CLOSED', /after 3 of the 5 bytes/);
      assert.equal(text(await u.recv(fd)), 'abc', 'the bytes of a cut block stay readable');
      assert.equal(await u.recv(fd), null);
      assert.equal(await u.recv_frame(fd), null);
      u.close(fd);
    } finally {
      await t.close();
    }
  });

  test('send_message: to an address or an open connection, vars or raw bytes, a body after the packet', async () => {
    const u = engine();
    // Answers each packet with a 173 reply carrying the packet's body reversed.
    const t = await tiny((s, all) => {
      const st = s as unknown as { at?: number };
      let at = st.at ?? 0;
      while (all.length - at >= 4) {
        const size = all[at + 1] | (all[at + 2] << 8);
        if (all.length - at < 4 + size) break;
        const body = all.slice(at + 4, at + 4 + size).reverse();
        s.write(cat(new Uint8Array([173, body.length & 0xff, body.length >> 8, 0]), body));
        at += 4 + size;
      }
      st.at = at;
    });
    try {
      assert.equal(text(await u.send_message(t.addr, 173, 0, 'abc')), 'cba');
      assert.equal(hex(t.received[0]), 'ad030000616263');
      const vars = await u.send_message(t.addr, 5, 9, { a: 'b' }, 2);
      assert.equal(hex(vars), '620001610001', 'the vars block went out (and came back reversed)');
      assert.equal(hex(t.received[1]), '05060009' + '010061010062');
      const fd = await u.connect(t.addr);
      assert.equal(text(await u.send_message(fd, 1, 2, 'xy')), 'yx');
      assert.equal(text(await u.send_message(fd, 1, 2, 'second')), 'dnoces', 'the connection stays open');
      await u.async_send_message(fd, 1, 2, 'zz');
      assert.equal(hex((await u.recv_block(fd, 6))!), 'ad0200007a7a');
      u.close(fd);
      const replies = await u.send_multi_message([['127.0.0.1', t.port, 'one'], ['127.0.0.1', t.port, enc('two')]], 173, 0, 2);
      assert.deepEqual(replies.map(text), ['eno', 'owt']);
    } finally {
      await t.close();
    }
    // A raw HTTP reply comes back whole; a silent peer gives empty bytes.
    const h = await tiny(answerAfter(4, enc('HTTP/1.0 200 OK\r\n\r\nhi')));
    try { assert.equal(text(await u.send_message(h.addr, 0, 0, {})), 'HTTP/1.0 200 OK\r\n\r\nhi'); } finally { await h.close(); }
    const q = await tiny(answerAfter(4, new Uint8Array(0)));
    try { assert.equal((await u.send_message(q.addr, 100, 0, '')).length, 0); } finally { await q.close(); }
    const b = await tiny(answerAfter(9, unhex('ad000000')));
    try {
      await u.send_message(b.addr, 17, 0, '', undefined, 'body!');
      assert.equal(hex(b.received[0]), '11000000' + hex(enc('body!')), 'the body follows the packet');
    } finally { await b.close(); }
  });

  test('argument errors are typed and name the function; remote counters and key lists are refused', async () => {
    const u = engine();
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    throwsUwsgi(() => u.cache_inc('n', 1, 0, 'default@127.0.0.1:3031'), 'ERR_UNSUPPORTED', /cache_inc: 'default@127.0.0.1:3031' is a remote cache; uWSGI's cache protocol has no arithmetic/);
    for (const fn of ['cache_dec', 'cache_mul', 'cache_div']) throwsUwsgi(() => any[fn]('n', 1, 0, 'x@h:1'), 'ERR_UNSUPPORTED', new RegExp(`^${fn}: `));
    throwsUwsgi(() => u.cache('x@h:1'), 'ERR_UNSUPPORTED', /use the cache_\* functions/);
    await rejectsUwsgi(u.cache_get(5 as unknown as string, 'x@h:1'), 'ERR_ARG_TYPE', /cache_get: key must be a string or Uint8Array, got number/);
    await rejectsUwsgi(u.cache_set('k', 5 as unknown as string, 0, 'x@h:1'), 'ERR_ARG_TYPE', /cache_set: value must be/);
    await rejectsUwsgi(u.cache_set('k', 'v', -1, 'x@h:1'), 'ERR_VALUE_RANGE', /expires must be 0 or more/);
    await rejectsUwsgi(u.cache_get('k', 'x@h:99999'), 'ERR_VALUE_RANGE', /cache_get: cache address 'h:99999' needs a port/);
    await rejectsUwsgi(u.cache_get('k'.repeat(70000), 'x@h:1'), 'ERR_BOUNDS', /does not fit in one uwsgi packet/);
    await rejectsUwsgi(u.rpc('h:1', 'f', 5 as unknown as string) as Promise<unknown>, 'ERR_ARG_TYPE', /rpc: argument 1 must be a string or Uint8Array, got number/);
    await rejectsUwsgi(u.rpc('h:1', 'f'.repeat(256)) as Promise<unknown>, 'ERR_BOUNDS', /name must be 1..255 bytes/);
    await rejectsUwsgi(u.rpc('h:1', 'f', ...new Array(255).fill('a')) as Promise<unknown>, 'ERR_VALUE_RANGE', /at most 254 arguments/);
    await rejectsUwsgi(u.rpc('h:1', 'f', new Uint8Array(70000)) as Promise<unknown>, 'ERR_BOUNDS', /does not fit in one uwsgi packet/);
    await rejectsUwsgi(clientOf(u.ctx).signal(256, 'h:1'), 'ERR_VALUE_RANGE', /signal: signum must be 0..255, got 256/);
    await rejectsUwsgi(clientOf(u.ctx).spool('spool', 'h:1', 'x'), 'ERR_ARG_TYPE', /the job must be an object/);
    await rejectsUwsgi(clientOf(u.ctx).spool('spool', 'h:1', { a: {} }), 'ERR_ARG_TYPE', /job value 'a'/);
    await rejectsUwsgi(clientOf(u.ctx).spool('spool', 'h:1', new Map([[1, 'x']])), 'ERR_ARG_TYPE', /job keys must be strings, got number/);
    await rejectsUwsgi(u.send_message('h:1', 256, 0, ''), 'ERR_VALUE_RANGE', /send_message: modifier1 must be 0..255/);
    await rejectsUwsgi(u.send_message('h:1', 0, 0, 5 as unknown as string), 'ERR_ARG_TYPE', /message must be a string, Uint8Array or an object of vars/);
    await rejectsUwsgi(u.send_message('h:1', 0, 0, '', -5), 'ERR_VALUE_RANGE', /timeout must be > 0 seconds/);
    await rejectsUwsgi(u.send_multi_message([['h', 1]] as never, 0, 0), 'ERR_ARG_TYPE', /node 0 must be \[host, port, message\]/);
    await rejectsUwsgi(u.recv_block(1, 0), 'ERR_NOT_FOUND');
    throwsUwsgi(() => any.connect(), 'ERR_ARG_COUNT', /connect\(\) takes at least 1 argument/);
    throwsUwsgi(() => u.async_connect('h:0'), 'ERR_VALUE_RANGE');
    assert.equal(u.is_connected(12345), false);
    throwsUwsgi(() => u.connection_fd(), 'ERR_UNSUPPORTED', /connection_fd: the request's connection belongs to the listener/);
  });

  test('our client against our own server (serve()): every remote cache op, RPC, signal, spool, ping; read-only caches', async () => {
    const srv = createEngine({ cache2: 'name=default,items=100,blocksize=4096' }).uwsgi;
    srv.register_rpc('hello', (...args: Uint8Array[]) => enc(`hello:${args.map(text).join(',')}`));
    const signals: number[] = [];
    const jobs: Array<Array<[string, string]>> = [];
    const port = await freePort();
    const server = await serve(srv, {
      options: { socket: `127.0.0.1:${port}` },
      hooks: {
        raiseSignal: (n) => { signals.push(n); return n !== 99; },
        spool: (vars) => { jobs.push(vars.map(([k, v]) => [text(k)!, text(v)!])); return true; },
      },
    });
    const u = engine();
    const a = `127.0.0.1:${port}`;
    const def = `default@${a}`;
    try {
      assert.equal(await u.cache_get('k', def), null);
      assert.equal(await u.cache_set('k', 'v1', 0, def), true);
      assert.equal(await u.cache_set('k', 'v2', 0, def), null, 'set keeps a live key');
      assert.equal(text(srv.cache_get('k')), 'v1', 'the value is in the serving engine');
      assert.equal(await u.cache_update('k', 'v2', 100, `@${a}`), true);
      assert.equal(text(await u.cache_get('k', def)), 'v2');
      assert.equal(await u.cache_exists('k', def), true);
      srv.cache_update('n', new Uint8Array([7, 0, 0, 0, 0, 0, 0, 0]));
      assert.equal(await u.cache_num('n', def), 7n);
      assert.equal(await u.cache_get('k', `nope@${a}`), null, 'an unknown cache is a miss');
      assert.equal(await u.cache_del('k', def), true);
      assert.equal(await u.cache_del('k', def), null);
      assert.equal(await u.cache_exists('k', def), null);
      assert.equal(await u.cache_clear(def), true);
      assert.equal(srv.cache_get('n'), null);
      assert.equal(text(await u.rpc(a, 'hello', 'a', 'b')), 'hello:a,b');
      assert.equal(await u.rpc(a, 'nosuch'), null);
      await clientOf(u.ctx).signal(17, a);
      await rejectsUwsgi(clientOf(u.ctx).signal(99, a), 'ERR_REJECTED', /rejected signal 99/);
      assert.deepEqual(signals, [17, 99]);
      assert.equal(await clientOf(u.ctx).spool('spool', a, { task: 'x', n: 3, spooler: a }), true);
      assert.deepEqual(jobs, [[['task', 'x'], ['n', '3']]]);
      assert.equal((await u.send_message(a, 100, 0, '')).length, 0, 'ping');
    } finally {
      await server.close();
    }
    const ro = await serve(srv, { options: { socket: `127.0.0.1:${port}`, 'remote-cache': 'ro', 'remote-rpc': 'off', 'remote-signal': 'off' } });
    try {
      srv.cache_set('r', 'only');
      assert.equal(text(await u.cache_get('r', def)), 'only');
      assert.equal(await u.cache_set('w', 'x', 0, def), null, 'a read-only cache refuses writes: null');
      assert.equal(await u.rpc(a, 'hello'), null, 'RPC switched off: null');
      await rejectsUwsgi(clientOf(u.ctx).signal(1, a), 'ERR_REJECTED', /rejected signal 1$/);
    } finally {
      await ro.close();
    }
  });

  test('route: the request being served goes to another node (uwsgi router) and its answer comes back', async () => {
    const upstream = createEngine({}).uwsgi;
    const front = createEngine({}).uwsgi;
    const [upPort, frontPort] = [await freePort(), await freePort()];
    const up = await serve(upstream, {
      options: { socket: `127.0.0.1:${upPort}` },
      fetch: async (req, ctx) => new Response(`up:${req.method} ${new URL(req.url).pathname} ${ctx.env.QUERY_STRING} ${await req.text()}`, { status: 201, headers: { 'x-up': 'yes' } }),
    });
    const fr = await serve(front, {
      options: { 'http-socket': `127.0.0.1:${frontPort}` },
      fetch: (req) => front.route('uwsgi', `127.0.0.1:${upPort},0,0`, req),
    });
    try {
      const r = await fetch(`http://127.0.0.1:${frontPort}/path?q=1`, { method: 'POST', body: 'data' });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('x-up'), 'yes');
      assert.equal(await r.text(), 'up:POST /path q=1 data');
      const g = await fetch(`http://127.0.0.1:${frontPort}/g`);
      assert.equal(await g.text(), 'up:GET /g  ');
      await rejectsUwsgi(front.route('uwsgi', `127.0.0.1:${upPort}`), 'ERR_NOT_CONFIGURED', /no request is being served here/);
      await rejectsUwsgi(front.route('http', `127.0.0.1:${upPort}`), 'ERR_UNSUPPORTED', /only the 'uwsgi' router/);
      await rejectsUwsgi(front.route('uwsgi', `127.0.0.1:${upPort},x`), 'ERR_VALUE_RANGE', /address\[,modifier1\[,modifier2\]\]/);
    } finally {
      await fr.close();
      await up.close();
    }
    // A node answering garbage: ERR_BAD_REPLY in the handler.
    const junk = await tiny((s) => { s.end(enc('\x01\x02 not http\r\n\r\n')); return true; });
    // A port of its own: undici's pool may still hold a keep-alive connection to the server closed above on frontPort.
    const frontPort2 = await freePort();
    const fr2 = await serve(front, {
      options: { 'http-socket': `127.0.0.1:${frontPort2}` },
      fetch: async (req) => { try { return await front.route('uwsgi', junk.addr, req); } catch (e) { return new Response((e as { code: string }).code); } },
    });
    try {
      assert.equal(await (await fetch(`http://127.0.0.1:${frontPort2}/`)).text(), 'ERR_BAD_REPLY');
    } finally {
      await fr2.close();
      await junk.close();
    }
  });
});
