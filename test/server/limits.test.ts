// Connection lifetimes, caps and bounded inputs (issue 14's connection part):
// twice the cap of idle and trickling connections against each listener and the
// stats server, a normal request still served, every descriptor released within
// the deadline; a stats client flooding bytes; state-changing management
// packets only from local peers; control bytes never reaching a response.
import { createEngine, serve, type WorkerServer } from 'uwsgi-wasm';
import { decodePacket, decodeVars, encodeArrayPacket, encodePacket, encodeVarsPacket } from 'uwsgi-wasm/codec';
import { isLocalPeer, listenConfig, servePacket } from 'uwsgi-wasm/server';
import { STATS_MAX_CONNECTIONS, startStatsServer } from 'uwsgi-wasm/stats';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A connection whose closing by the server is observed; optionally trickling `drip` one byte at a time. */
function hold(port: number, drip?: string): { sock: Socket; closed: () => boolean; stop(): void } {
  const sock = connect(port, '127.0.0.1');
  let closed = false;
  sock.on('close', () => { closed = true; });
  sock.on('error', () => {});
  sock.on('data', () => {});
  let i = 0;
  const t = drip ? setInterval(() => { if (!closed) sock.write(drip[i++ % drip.length]!); }, 250) : undefined;
  return { sock, closed: () => closed, stop: () => { clearInterval(t); sock.destroy(); } };
}

/** Send `data` and read until the server closes. */
function exchange(port: number, data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const parts: Uint8Array[] = [];
    s.on('connect', () => s.write(data));
    s.on('data', (d: Uint8Array) => parts.push(new Uint8Array(d)));
    s.on('error', () => {});
    s.on('close', () => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) { out.set(p, at); at += p.length; }
      resolve(out);
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(25);
  return cond();
}

const app = { fetch: (req: Request) => new Response(`ok ${new URL(req.url).pathname} ${req.headers.get('x-echo') ?? ''}`, { headers: { 'x-echo': req.headers.get('x-echo') ?? '' } }) };

const CAP = 8;

async function capTest(protocol: 'uwsgi' | 'http'): Promise<void> {
  const port = await freePort();
  const u = createEngine({}).uwsgi;
  const server: WorkerServer = await serve(u, {
    options: { [protocol === 'http' ? 'http-socket' : 'socket']: `127.0.0.1:${port}`, 'max-connections': CAP, 'socket-timeout': 1, 'http-headers-timeout': 2 } as never,
    fetch: app,
  });
  const held: Array<ReturnType<typeof hold>> = [];
  try {
    // Twice the cap: half silent, half trickling a head one byte every 250 ms.
    const drip = protocol === 'http' ? `GET / HTTP/1.1\r\nX-Slow: ${'a'.repeat(500)}` : '\x00\xff\x00\x00' + 'x'.repeat(500);
    for (let i = 0; i < 2 * CAP; i++) {
      held.push(hold(port, i % 2 ? drip : undefined));
      await sleep(10);
    }
    const c = server.guard.counts;
    assert.equal(await until(() => c.admitted + c.refused >= 2 * CAP, 5000), true, `every connection accepted: ${JSON.stringify(c)}`);
    assert.ok(c.open <= CAP, `at most the cap open: ${c.open}`);
    assert.ok(c.evicted + c.refused + c.timedOut >= CAP || c.admitted - c.open >= CAP, `the rest evicted, refused or dropped: ${JSON.stringify(c)}`);
    // A normal request is still served while the others hold on.
    const req = protocol === 'http'
      ? enc('GET /normal HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')
      : encodeVarsPacket(0, 0, [['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/normal'], ['PATH_INFO', '/normal'], ['HTTP_HOST', 'h']]);
    const t0 = Date.now();
    const got = text(await exchange(port, req));
    assert.match(got, /^HTTP\/1\.1 200 [\s\S]*ok \/normal/, got.slice(0, 200));
    assert.ok(Date.now() - t0 < 1500, `served at once (${Date.now() - t0} ms)`);
    // Every held connection is released within the head deadline (2 s) plus the checking slack.
    assert.equal(await until(() => held.every((h) => h.closed()), 5000), true, `all dropped; open: ${held.filter((h) => !h.closed()).length}`);
    assert.equal(await until(() => server.guard.counts.open === 0, 2000), true, `the server holds none: ${JSON.stringify(server.guard.counts)}`);
  } finally {
    for (const h of held) h.stop();
    await server.close();
  }
}

describe('connection limits', () => {
  test('uwsgi listener: twice the cap of idle and trickling connections; a normal request served; all released within the deadline', async () => {
    await capTest('uwsgi');
  });

  test('http listener: twice the cap of idle and trickling connections; a normal request served; all released within the deadline', async () => {
    await capTest('http');
  });

  test('stats server: twice its cap of idle and trickling clients; a normal request served; all released within the deadline', async () => {
    const e = createEngine({});
    const stats = await startStatsServer({ engine: e }, { address: { host: '127.0.0.1', port: 0 }, http: true });
    const port = stats.port!;
    const held: Array<ReturnType<typeof hold>> = [];
    try {
      for (let i = 0; i < 2 * STATS_MAX_CONNECTIONS; i++) held.push(hold(port, i % 2 ? 'GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaa' : undefined));
      const c = stats.guard.counts;
      assert.equal(await until(() => c.admitted + c.refused >= 2 * STATS_MAX_CONNECTIONS, 5000), true, `every client accepted: ${JSON.stringify(c)}`);
      assert.ok(c.open <= STATS_MAX_CONNECTIONS);
      assert.ok(c.admitted - c.open + c.refused >= STATS_MAX_CONNECTIONS);
      const got = text(await exchange(port, enc('GET / HTTP/1.0\r\n\r\n')));
      assert.match(got, /^HTTP\/1\.0 200 OK/);
      assert.ok(JSON.parse(got.slice(got.indexOf('\r\n\r\n') + 4)).version !== undefined);
      assert.equal(await until(() => held.every((h) => h.closed()), 6000), true, `all dropped; open: ${held.filter((h) => !h.closed()).length}`);
    } finally {
      for (const h of held) h.stop();
      await stats.close();
    }
  });

  test('stats server: a client that floods bytes is answered and closed; what it could push is bounded', async () => {
    const e = createEngine({});
    for (const http of [false, true]) {
      const stats = await startStatsServer({ engine: e }, { address: { host: '127.0.0.1', port: 0 }, http });
      try {
        const s = connect(stats.port!, '127.0.0.1');
        let sent = 0;
        let closed = false;
        s.on('error', () => {});
        s.on('data', () => {});
        s.on('close', () => { closed = true; });
        const chunk = new Uint8Array(1 << 20).fill(0x61);
        await new Promise<void>((r) => s.once('connect', () => r()));
        if (http) s.write('GET / HTTP/1.1\r\n\r\n');
        const t0 = Date.now();
        while (!closed && Date.now() - t0 < 8000) {
          if (s.write(chunk)) sent += chunk.length;
          else await new Promise<void>((r) => { const t = setTimeout(r, 200); s.once('drain', () => { clearTimeout(t); sent += chunk.length; r(); }); });
        }
        assert.equal(closed, true, 'the server closed the connection');
        assert.ok(sent < 64 << 20, `the client could push ${sent >> 20} MiB before the close (kernel buffers only)`);
      } finally {
        await stats.close();
      }
    }
  });
});

describe('management packets and headers', () => {
  test('state-changing packets only from local peers unless --remote-peers any; reads from anyone', async () => {
    const u = createEngine({ cache2: 'name=default,items=10' }).uwsgi;
    u.cache_set('k', 'v');
    u.register_rpc('f', () => enc('r'));
    u.fastfuncs[7] = () => 'fast';
    const lc = listenConfig([], 4096);
    assert.equal(lc.remotePeers, 'local', 'the default');
    const run = async (pkt: Uint8Array, local: boolean) => {
      const out: Uint8Array[] = [];
      const hooks = { raiseSignal: () => true, spool: () => true };
      const rest: Uint8Array[] = [enc('x')];
      await servePacket(u.ctx, lc, hooks, decodePacket(pkt), { readExactly: async (n: number) => rest.shift()?.subarray(0, n) ?? null, write: async (b: Uint8Array) => { out.push(b); } }, local);
      return out;
    };
    const magic = (vars: Record<string, string>) => encodeVarsPacket(111, 17, vars);
    for (const local of [false, true]) {
      const get = decodeVars(decodePacket((await run(magic({ cmd: 'get', key: 'k' }), local))[0]!).body);
      assert.equal(get.status, 'ok', 'a read is answered for every peer');
      const set = decodeVars(decodePacket((await run(magic({ cmd: 'update', key: 'k', size: '1' }), local))[0]!).body);
      assert.equal(set.status, local ? 'ok' : 'error');
      const clear = decodeVars(decodePacket((await run(magic({ cmd: 'clear' }), local))[0]!).body);
      assert.equal(clear.status, local ? 'ok' : 'error');
      if (!local) assert.match(clear.error!, /read-only to remote peers/);
      assert.deepEqual(Array.from((await run(encodePacket(110, 17), local))[0]!), [255, 0, 0, local ? 1 : 0], 'signal');
      assert.deepEqual(Array.from((await run(encodeVarsPacket(17, 0, { a: 'b' }), local))[0]!), [255, 0, 0, local ? 1 : 0], 'spool');
      assert.deepEqual(Array.from((await run(encodeArrayPacket(173, 0, ['f']), local))[0]!).slice(0, 4), local ? [173, 1, 0, 0] : [173, 0, 0, 0], 'rpc');
      assert.deepEqual((await run(encodePacket(26, 7), local)).map(text), local ? ['fast'] : [], 'fastfunc: an app function, refused as RPC is');
      u.cache_set('k', 'v');
    }
    // Who is local: loopback in every spelling and any unix-socket peer; not a LAN, public or unknown TCP address.
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) assert.equal(isLocalPeer(a), true, a);
    for (const a of ['192.0.2.2', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::2', '::', '0.0.0.0', '', undefined]) assert.equal(isLocalPeer(a), false, String(a));
    assert.equal(isLocalPeer(undefined, true), true, 'a unix socket peer has no address and is local');
    // --remote-peers any lets every peer change state, as uWSGI does.
    assert.equal(listenConfig([['remote-peers', 'any']], 4096).remotePeers, 'any');
  });

  test('control bytes in request headers never reach a response', async () => {
    const port = await freePort();
    const u = createEngine({}).uwsgi;
    u.register_rpc('f', () => enc('r'));
    const server = await serve(u, { options: { socket: `127.0.0.1:${port}` }, fetch: app });
    try {
      const raw = text(await exchange(port, encodeVarsPacket(0, 0, [['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/c'], ['PATH_INFO', '/c'], ['HTTP_HOST', 'h'], ['HTTP_X_ECHO', 'a\x00b\r\nInjected: 1']])));
      assert.match(raw, /^HTTP\/1\.1 200/);
      assert.doesNotMatch(raw, /Injected|\x00/, 'the bad header was left out of the request');
      const rpc = text(await exchange(port, encodeVarsPacket(173, 2, [['PATH_INFO', '/f'], ['HTTP_ACCEPT', 'text/plain\x00\r\nInjected: 1']])));
      assert.match(rpc, /^HTTP\/1\.0 200 OK\r\nContent-Type: application\/binary\r\n/);
      assert.doesNotMatch(rpc, /Injected|\x00/);
    } finally {
      await server.close();
    }
  });
});
