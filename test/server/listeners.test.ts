import { createEngine, run, serve, type ServedRequest as RequestInfo, type Uwsgi, type WorkerServer } from 'uwsgi-wasm';
import { decodeHeader, decodePacket, decodeVars, encodeArrayPacket, encodePacket, encodeVars, encodeVarsPacket } from 'uwsgi-wasm/codec';
import { connect, createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wire from '../vectors/wire.json';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi, rejectsUwsgi, until } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const runtimeName = (globalThis as { Deno?: unknown; Bun?: unknown }).Deno ? 'deno' : (globalThis as { Bun?: unknown }).Bun ? 'bun' : 'node';

type Addr = { port: number } | { path: string };

/** Send `data` (optionally in pieces), half-close, and collect everything until the server closes. */
function exchange(addr: Addr, data: Uint8Array | Uint8Array[], opts: { halfClose?: boolean } = {}): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = 'port' in addr ? connect(addr.port, '127.0.0.1') : connect(addr.path);
    const chunks: Uint8Array[] = [];
    s.on('data', (d: Uint8Array) => chunks.push(new Uint8Array(d)));
    s.on('error', (e) => { if (chunks.length) resolve(concat(chunks)); else reject(e); });
    s.on('close', () => resolve(concat(chunks)));
    s.on('connect', async () => {
      for (const part of Array.isArray(data) ? data : [data]) {
        if (!s.write(part)) await new Promise((r) => s.once('drain', r));
      }
      if (opts.halfClose) s.end();
    });
  });
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Split a raw HTTP response into status, lower-cased headers and body bytes. */
function parseHttp(raw: Uint8Array): { status: number; headers: Record<string, string>; body: Uint8Array } {
  let end = -1;
  for (let i = 0; i + 3 < raw.length; i++) if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) { end = i; break; }
  assert.ok(end > 0, `no HTTP head in ${JSON.stringify(text(raw.subarray(0, 200)))}`);
  const lines = text(raw.subarray(0, end)).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) { const c = l.indexOf(':'); headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim(); }
  return { status, headers, body: raw.subarray(end + 4) };
}

/** A uwsgi request packet as nginx sends it, plus the body. */
function uwsgiRequest(method: string, uri: string, body?: Uint8Array, extra: Array<[string, string]> = []): Uint8Array {
  const q = uri.indexOf('?');
  const vars: Array<[string, string]> = [
    ['QUERY_STRING', q < 0 ? '' : uri.slice(q + 1)], ['REQUEST_METHOD', method], ['CONTENT_TYPE', body ? 'application/octet-stream' : ''],
    ['CONTENT_LENGTH', body ? String(body.length) : ''], ['REQUEST_URI', uri], ['PATH_INFO', q < 0 ? uri : uri.slice(0, q)],
    ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REQUEST_SCHEME', 'http'], ['REMOTE_ADDR', '127.0.0.1'], ['REMOTE_PORT', '5555'],
    ['SERVER_PORT', '80'], ['SERVER_NAME', 'localhost'], ['HTTP_HOST', 'example.test'], ...extra,
  ];
  const pkt = encodeVarsPacket(0, 0, vars);
  return body ? concat([pkt, body]) : pkt;
}

/** A seeded byte pattern, so a corrupted or reordered byte shows. */
function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

function checksum(b: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < b.length; i++) h = (Math.imul(h, 31) + b[i]!) >>> 0;
  return h;
}

/** An echo app: GET answers with method/uri/env bits, POST answers with the body's length and checksum, streamed back in pieces. */
const echoApp = {
  async fetch(req: Request, ctx: { env: Record<string, string>; mountpoint: string }): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === '/stream') {
      // A streamed response: 16 chunks of 64 KiB of the seeded pattern.
      const all = pattern(1 << 20, 7);
      let i = 0;
      return new Response(new ReadableStream({
        pull(c) { if (i >= 16) { c.close(); return; } c.enqueue(all.subarray(i * 65536, (i + 1) * 65536)); i++; },
      }));
    }
    if (req.method === 'POST') {
      const body = new Uint8Array(await req.arrayBuffer());
      return new Response(`len=${body.length} sum=${checksum(body)} cl=${ctx.env.CONTENT_LENGTH}`);
    }
    return new Response(`${req.method} ${url.pathname}${url.search} host=${url.host} mp=${ctx.mountpoint} pi=${ctx.env.PATH_INFO}`, {
      status: url.pathname === '/missing' ? 404 : 200,
      headers: [['content-type', 'text/plain'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']],
    });
  },
};

async function withServer(
  opts: { options?: Record<string, unknown>; engine?: Record<string, unknown>; setup?: (u: Uwsgi) => void; hooks?: Parameters<typeof serve>[1]['hooks']; mounts?: Parameters<typeof serve>[1]['mounts']; unix?: boolean; http?: boolean },
  body: (addr: Addr, u: Uwsgi, server: WorkerServer) => Promise<void>,
): Promise<void> {
  const engine = createEngine({ cache2: ['name=default,items=100,blocksize=64', 'name=big,items=10,blocksize=70000'], ...(opts.engine ?? {}) });
  const u = engine.uwsgi;
  opts.setup?.(u);
  let dir: string | undefined;
  let addr: Addr;
  let listen: string;
  if (opts.unix) {
    dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-sock-'));
    listen = join(dir, 's.sock');
    addr = { path: listen };
  } else {
    const port = await freePort();
    listen = `127.0.0.1:${port}`;
    addr = { port };
  }
  const server = await serve(u, { options: { [opts.http ? 'http-socket' : 'socket']: listen, ...(opts.options ?? {}) } as never, fetch: echoApp, mounts: opts.mounts, hooks: opts.hooks });
  try {
    await body(addr, u, server);
  } finally {
    await server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

const cases = (wire as { cases: Array<{ name: string; direction: string; hex: string }> }).cases;

describe('listeners', () => {
  for (const unix of [false, true]) {
    const where = unix ? 'unix socket' : 'TCP';
    test(`uwsgi protocol over ${where}: GET with a query string, headers and cookies`, async () => {
      await withServer({ unix }, async (addr) => {
        const r = parseHttp(await exchange(addr, uwsgiRequest('GET', '/path/x?a=1&b=two')));
        assert.equal(r.status, 200);
        assert.equal(text(r.body), 'GET /path/x?a=1&b=two host=example.test mp= pi=/path/x');
        assert.equal(r.headers['content-length'], String(r.body.length));
        assert.equal(r.headers['content-type'], 'text/plain');
        const m = parseHttp(await exchange(addr, uwsgiRequest('GET', '/missing')));
        assert.equal(m.status, 404);
      });
    });

    test(`uwsgi protocol over ${where}: a 1 MB POST body streams in, a 1 MB response streams out`, async () => {
      await withServer({ unix }, async (addr) => {
        const big = pattern(1 << 20, 3);
        const req = uwsgiRequest('POST', '/up', big);
        // Sent in uneven pieces, the header split too.
        const pieces = [req.subarray(0, 3), req.subarray(3, 100), req.subarray(100, 70000), req.subarray(70000)];
        const r = parseHttp(await exchange(addr, pieces));
        assert.equal(text(r.body), `len=${big.length} sum=${checksum(big)} cl=${big.length}`);
        const s = parseHttp(await exchange(addr, uwsgiRequest('GET', '/stream')));
        assert.equal(s.status, 200);
        assert.equal(s.body.length, 1 << 20);
        assert.equal(checksum(s.body), checksum(pattern(1 << 20, 7)));
        assert.equal(s.headers['content-length'], undefined, 'a multi-chunk body streams until close');
      });
    });

    test(`http-socket over ${where}: GET, POST with Content-Length, HEAD, a bad request line, a chunked body`, async () => {
      await withServer({ unix, http: true }, async (addr) => {
        // Connection: close, so the exchange ends with the response (keep-alive is the default: test/server/http.test.ts).
        const g = parseHttp(await exchange(addr, enc('GET /hi?x=1 HTTP/1.1\r\nHost: h.test\r\nX-A: 1\r\nConnection: close\r\n\r\n')));
        assert.equal(g.status, 200);
        assert.equal(text(g.body), 'GET /hi?x=1 host=h.test mp= pi=/hi');
        assert.equal(g.headers.connection, 'close');
        const big = pattern(300_000, 9);
        const p = parseHttp(await exchange(addr, [enc(`POST /up HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: ${big.length}\r\n\r\n`), big]));
        assert.equal(text(p.body), `len=${big.length} sum=${checksum(big)} cl=${big.length}`);
        const h = parseHttp(await exchange(addr, enc('HEAD /hi HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n')));
        assert.equal(h.status, 200);
        assert.equal(h.body.length, 0, 'HEAD has no body');
        const bad = parseHttp(await exchange(addr, enc('NOT A REQUEST\r\n\r\n')));
        assert.equal(bad.status, 400);
        const chunked = parseHttp(await exchange(addr, enc('POST / HTTP/1.1\r\nHost: h\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')));
        assert.equal(chunked.status, 200);
        assert.match(text(chunked.body), /^len=5 /);
      });
    });
  }

  test('a request read whole is closed as soon as its answer is out; with bytes left over, the peer\'s close is awaited', async () => {
    await withServer({}, async (addr, _u, server) => {
      /** Send `data`, never end our side; resolve at the server's FIN with what came and the server's open count then. */
      const heldOpen = (data: Uint8Array) => new Promise<{ s: ReturnType<typeof connect>; got: Uint8Array; openAtEnd: number }>((resolve, reject) => {
        const s = connect({ port: (addr as { port: number }).port, host: '127.0.0.1', allowHalfOpen: true });
        const chunks: Uint8Array[] = [];
        s.on('data', (d: Uint8Array) => chunks.push(new Uint8Array(d)));
        s.on('error', reject);
        s.on('end', () => resolve({ s, got: concat(chunks), openAtEnd: server.guard.counts.open }));
        s.on('connect', () => s.write(data));
      });
      // Read whole (also a body the app left unread, which is drained): closed without our FIN,
      // well before the 2 s a lingering connection would wait for it.
      for (const req of [uwsgiRequest('GET', '/x'), uwsgiRequest('PUT', '/x', pattern(200_000, 5))]) {
        const a = await heldOpen(req);
        assert.equal(parseHttp(a.got).status, 200);
        await until(() => server.guard.counts.open === 0, 1000, 'the server closing its socket');
        a.s.destroy();
      }
      // Bytes after the request: the server ends its side and waits, so closing cannot reset the answer.
      const b = await heldOpen(concat([uwsgiRequest('GET', '/y'), enc('more bytes')]));
      assert.equal(text(parseHttp(b.got).body), 'GET /y host=example.test mp= pi=/y');
      assert.equal(b.openAtEnd, 1, 'still open at our FIN');
      b.s.end();
      await until(() => server.guard.counts.open === 0, 1000, 'the close once the peer ended');
    });
  });

  test('ping (100) and echo (101)', async () => {
    await withServer({}, async (addr) => {
      assert.equal(toHex(await exchange(addr, hex('64000000'))), '64000001');
      assert.equal(text(await exchange(addr, encodePacket(101, 0, 'echo this'))), 'echo this');
    });
  });

  test('signal (110): the hook raises it; without a hook or with remote-signal off the answer is ff 00 00 00', async () => {
    const raised: number[] = [];
    await withServer({ hooks: { raiseSignal: (n) => { raised.push(n); return n !== 99; } } }, async (addr) => {
      assert.equal(toHex(await exchange(addr, hex('6e000011'))), 'ff000001');
      assert.equal(toHex(await exchange(addr, hex('6e000063'))), 'ff000000', 'the hook said no');
      assert.deepEqual(raised, [17, 99]);
    });
    // No hook: the engine's own signal subsystem raises it, and the registered handler runs.
    const handled: number[] = [];
    await withServer({ setup: (u) => { u.register_signal(17, '', (n: number) => { handled.push(n); }); } }, async (addr) => {
      assert.equal(toHex(await exchange(addr, hex('6e000011'))), 'ff000001', 'raised by the engine');
      for (let i = 0; i < 200 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(handled, [17]);
    });
    await withServer({ options: { 'remote-signal': 'off' }, hooks: { raiseSignal: () => { raised.push(-1); return true; } } }, async (addr) => {
      assert.equal(toHex(await exchange(addr, hex('6e000011'))), 'ff000000');
      assert.equal(raised.includes(-1), false, 'the hook is not called');
    });
  });

  test('spool (17): no spooler answers ff 00 00 00 as uWSGI does; a spool hook gets the vars', async () => {
    const req = hex('11100000' + '03006e6574' + '0300796573' + '010078' + '010031');
    await withServer({}, async (addr) => {
      assert.equal(toHex(await exchange(addr, req)), 'ff000000');
    });
    const got: string[] = [];
    await withServer({ hooks: { spool: (vars) => { got.push(vars.map(([k, v]) => `${text(k)}=${text(v)}`).join('&')); return true; } } }, async (addr) => {
      assert.equal(toHex(await exchange(addr, req)), 'ff000001');
      assert.equal(toHex(await exchange(addr, hex('11000000'))), 'ff000001', 'empty vars are a job too');
    });
    assert.deepEqual(got, ['net=yes&x=1', '']);
  });

  test('cache magic (111/17): set, get with expiry, exists, update, del, clear; misses answer status=notfound', async () => {
    await withServer({}, async (addr, u) => {
      const magic = (vars: Array<[string, string]>, value?: Uint8Array) => exchange(addr, value ? concat([encodeVarsPacket(111, 17, vars), value]) : encodeVarsPacket(111, 17, vars));
      const reply = (raw: Uint8Array) => { const p = decodePacket(raw); return { h: [p.modifier1, p.modifier2], v: { ...decodeVars(p.body) }, rest: text(raw.subarray(4 + p.size)) }; };
      assert.deepEqual(reply(await magic([['cmd', 'set'], ['key', 'k1'], ['size', '6'], ['size', '6'], ['cache', 'default']], enc('value1'))).v, { status: 'ok' });
      assert.equal(text(u.cache_get('k1')!), 'value1', 'stored in the engine\'s cache');
      const g = reply(await magic([['cmd', 'get'], ['key', 'k1']]));
      assert.deepEqual(g, { h: [111, 17], v: { status: 'ok', size: '6' }, rest: 'value1' });
      const before = Math.floor(Date.now() / 1000);
      await magic([['cmd', 'set'], ['key', 'e'], ['size', '1'], ['expires', '100']], enc('v'));
      const ge = reply(await magic([['cmd', 'get'], ['key', 'e'], ['cache', '']]));
      assert.ok(Number(ge.v.expires) >= before + 100 && Number(ge.v.expires) <= before + 102, `absolute expiry, got ${ge.v.expires}`);
      assert.deepEqual(reply(await magic([['cmd', 'set'], ['key', 'k1'], ['size', '1']], enc('x'))).v.status, 'error', 'set does not overwrite');
      assert.deepEqual(reply(await magic([['cmd', 'update'], ['key', 'k1'], ['size', '1']], enc('x'))).v, { status: 'ok' });
      assert.deepEqual(reply(await magic([['cmd', 'exists'], ['key', 'k1']])).v, { status: 'ok' });
      assert.deepEqual(reply(await magic([['cmd', 'del'], ['key', 'k1']])).v, { status: 'ok' });
      assert.deepEqual(reply(await magic([['cmd', 'exists'], ['key', 'k1']])).v, { status: 'notfound' });
      assert.deepEqual(reply(await magic([['cmd', 'get'], ['key', 'k1']])).v, { status: 'notfound' });
      assert.deepEqual(reply(await magic([['cmd', 'del'], ['key', 'k1']])).v, { status: 'notfound' });
      assert.deepEqual(reply(await magic([['cmd', 'clear']])).v, { status: 'ok' });
      assert.equal(u.cache_exists('e'), null);
      const unknown = reply(await magic([['cmd', 'get'], ['key', 'k'], ['cache', 'nope']]));
      assert.equal(unknown.v.status, 'error');
      assert.match(unknown.v.error!, /no cache named 'nope'/);
      assert.match(reply(await magic([['cmd', 'frob'], ['key', 'k']])).v.error!, /unknown cmd 'frob'/);
      // The named cache with 70000-byte blocks: a value over 65535 bytes comes back whole.
      const big = pattern(70000);
      assert.deepEqual(reply(await magic([['cmd', 'set'], ['key', 'b'], ['size', '70000'], ['cache', 'big']], big)).v, { status: 'ok' });
      const gb = await magic([['cmd', 'get'], ['key', 'b'], ['cache', 'big']]);
      const pb = decodePacket(gb);
      assert.equal(decodeVars(pb.body).size, '70000');
      assert.equal(checksum(gb.subarray(4 + pb.size)), checksum(big));
    });
  });

  test('cache magic: a size over what the cache holds is refused before the value is read', async () => {
    await withServer({}, async (addr) => {
      // 65 bytes announced for a 64-byte-block cache; the value is never sent, yet the answer comes.
      const raw = await exchange(addr, encodeVarsPacket(111, 17, [['cmd', 'set'], ['key', 'k'], ['size', '65']]));
      const v = decodeVars(decodePacket(raw).body);
      assert.equal(v.status, 'error');
      assert.match(v.error!, /size must be 1\.\.64, got '65'/);
      const huge = await exchange(addr, encodeVarsPacket(111, 17, [['cmd', 'set'], ['key', 'k'], ['size', '99999999999']]));
      assert.equal(decodeVars(decodePacket(huge).body).status, 'error');
    });
  });

  test('cache raw sub-ops 0..6: proper headers instead of uWSGI\'s garbage bytes', async () => {
    await withServer({}, async (addr, u) => {
      u.cache_set('rk', 'raw-value');
      assert.equal(toHex(await exchange(addr, encodePacket(111, 0, 'rk'))), '6f000001' + toHex(enc('raw-value')));
      assert.equal((await exchange(addr, encodePacket(111, 0, 'missing'))).length, 0, 'a miss closes, as old clients expect');
      assert.equal(toHex(await exchange(addr, encodePacket(111, 5, 'rk'))), '6f000001' + toHex(enc('raw-value')));
      assert.equal(toHex(await exchange(addr, encodePacket(111, 5, 'missing'))), '6f000000');
      assert.equal(toHex(await exchange(addr, encodeArrayPacket(111, 1, ['sk', 'sv']))), 'ff000001');
      assert.equal(text(u.cache_get('sk')!), 'sv');
      assert.equal(toHex(await exchange(addr, encodeArrayPacket(111, 1, ['sk', 'again']))), 'ff000000', 'set does not overwrite');
      assert.equal(toHex(await exchange(addr, encodePacket(111, 2, 'sk'))), 'ff000001');
      assert.equal(u.cache_exists('sk'), null);
      assert.equal(text(await exchange(addr, encodeVarsPacket(111, 3, { key: 'rk' }))), 'raw-value', 'the key is looked up (uWSGI looked up the empty key)');
      const h = parseHttp(await exchange(addr, encodeVarsPacket(111, 4, { get: 'rk' })));
      assert.equal(h.status, 200);
      assert.equal(text(h.body), 'raw-value');
      assert.equal(parseHttp(await exchange(addr, encodeVarsPacket(111, 4, { get: 'nope' }))).status, 404);
      const dump = await exchange(addr, encodePacket(111, 6));
      assert.deepEqual([dump[0], dump[3]], [111, 7], "dump: uWSGI's image of the cache (what its sync= reads; test/cluster checks the image)");
      assert.equal((await exchange(addr, encodePacket(111, 6, 'nosuchcache'))).length, 0, 'an unknown cache: nothing, as uWSGI');
    });
  });

  test('RPC (173): framed, raw, 64-bit and HTTP replies; failures answer an empty result', async () => {
    await withServer({
      setup: (u) => {
        u.register_rpc('hello', (...a: Uint8Array[]) => enc(`hello:${a.map(text).join(',')}`));
        u.register_rpc('big', () => pattern(70000));
        u.register_rpc('boom', () => { throw new Error('boom'); });
      },
    }, async (addr) => {
      assert.equal(toHex(await exchange(addr, hex('ad100000050068656c6c6f010061000002006263'))), toHex(concat([hex('ad0a0000'), enc('hello:a,bc')])), 'the empty argument is dropped');
      assert.equal(text(await exchange(addr, encodeArrayPacket(173, 1, ['hello', 'x']))), 'hello:x');
      assert.equal(text(await exchange(addr, encodeArrayPacket(173, 4, ['hello', 'y']))), 'hello:y');
      const big = await exchange(addr, encodeArrayPacket(173, 0, ['big']));
      const h = decodeHeader(big);
      assert.equal(h.modifier2, 5);
      assert.equal(decodeVars(big.subarray(4, 4 + h.size)).CONTENT_LENGTH, '70000');
      assert.equal(checksum(big.subarray(4 + h.size)), checksum(pattern(70000)));
      for (const name of ['nosuch', 'boom']) assert.equal(toHex(await exchange(addr, encodeArrayPacket(173, 0, [name]))), 'ad000000', name);
      assert.equal((await exchange(addr, encodeArrayPacket(173, 1, ['nosuch']))).length, 0, 'raw failures send nothing');
      assert.equal(toHex(await exchange(addr, encodePacket(173, 0, hex('0500616263')))), 'ad000000', 'a malformed array');
      const web = parseHttp(await exchange(addr, encodeVarsPacket(173, 2, { PATH_INFO: '/hello/a/b', HTTP_ACCEPT: 'text/plain' })));
      assert.equal(web.status, 200);
      assert.equal(web.headers['content-type'], 'text/plain');
      assert.equal(text(web.body), 'hello:a,b');
      assert.equal(parseHttp(await exchange(addr, encodeVarsPacket(173, 2, { PATH_INFO: '/nosuch' }))).status, 404);
      assert.equal(parseHttp(await exchange(addr, encodeVarsPacket(173, 2, { PATH_INFO: '' }))).status, 500);
    });
  });

  test('unknown modifiers and malformed packets close without a byte, as uWSGI does', async () => {
    await withServer({}, async (addr) => {
      assert.equal((await exchange(addr, hex('63000000'))).length, 0);
      assert.equal(parseHttp(await exchange(addr, encodePacket(0, 0, hex('0000')))).status, 400, 'an empty key in request vars');
    });
  });

  test('every request in wire.json is answered as recorded (misses: status=notfound instead of a silent close)', async () => {
    await withServer({
      engine: { cache2: 'name=default,items=100,blocksize=64' },
      setup: (u) => u.register_rpc('fname', (...a: Uint8Array[]) => enc(`fname(${a.map(text).join(',')})`)),
      hooks: { raiseSignal: () => true },
    }, async (addr) => {
      for (let i = 0; i < cases.length; i++) {
        const c = cases[i]!;
        if (c.direction !== 'request' || c.name.startsWith('nginx')) continue;
        const want = cases[i + 1]!;
        assert.equal(want.name, c.name);
        const got = await exchange(addr, hex(c.hex));
        if (want.hex === '') {
          const v = decodeVars(decodePacket(got).body);
          assert.ok(v.status === 'notfound' || v.status === 'error' || toHex(got) === 'ad000000', `${c.name}: got ${toHex(got)}`);
        } else {
          assert.equal(toHex(got), want.hex, c.name);
        }
      }
      // nginx's packets, compared by status and body (REMOTE_PORT differs per run).
      for (const name of ['nginx GET with query string', 'nginx POST with body']) {
        const r = parseHttp(await exchange(addr, hex(cases.find((c) => c.name === name && c.direction === 'request')!.hex)));
        assert.equal(r.status, 200, name);
      }
    });
  });

  test('security: remote-cache ro and off, remote-rpc off', async () => {
    await withServer({ options: { 'remote-cache': 'ro', 'remote-rpc': 'off' }, setup: (u) => { u.cache_set('k', 'v'); u.register_rpc('f', () => enc('r')); } }, async (addr, u) => {
      const get = decodePacket(await exchange(addr, encodeVarsPacket(111, 17, { cmd: 'get', key: 'k' })));
      assert.equal(decodeVars(get.body).status, 'ok', 'reads still work');
      for (const cmd of ['set', 'update', 'del', 'clear']) {
        const r = decodeVars(decodePacket(await exchange(addr, concat([encodeVarsPacket(111, 17, { cmd, key: 'k', size: '1' }), enc('x')]))).body);
        assert.equal(r.status, 'error', cmd);
        assert.match(r.error!, /read-only/);
      }
      assert.equal(toHex(await exchange(addr, encodeArrayPacket(111, 1, ['n', 'v']))), 'ff000000');
      assert.equal(toHex(await exchange(addr, encodePacket(111, 2, 'k'))), 'ff000000');
      assert.equal(text(u.cache_get('k')!), 'v', 'untouched');
      assert.equal(toHex(await exchange(addr, encodeArrayPacket(173, 0, ['f']))), 'ad000000');
    });
    await withServer({ options: { 'remote-cache': 'off' }, setup: (u) => u.cache_set('k', 'v') }, async (addr) => {
      const r = decodeVars(decodePacket(await exchange(addr, encodeVarsPacket(111, 17, { cmd: 'get', key: 'k' }))).body);
      assert.equal(r.status, 'error');
      assert.match(r.error!, /disabled/);
      assert.equal((await exchange(addr, encodePacket(111, 0, 'k'))).length, 0);
    });
  });

  test('security: buffer-size, limit-post and socket-timeout bound what a peer can make a worker hold', async () => {
    await withServer({ options: { 'buffer-size': 4096, 'limit-post': 1000, 'socket-timeout': 1 } }, async (addr) => {
      // A header announcing 4097 bytes of vars is refused before any are read.
      const over = await exchange(addr, hex('00011000'));
      assert.equal(parseHttp(over).status, 413);
      assert.equal((await exchange(addr, hex('6f011011'))).length, 0, 'a management packet over the limit: closed');
      const r = parseHttp(await exchange(addr, uwsgiRequest('POST', '/up', pattern(1001))));
      assert.equal(r.status, 413);
      assert.match(text(r.body), /limit-post \(1000 bytes\)/);
      assert.equal(parseHttp(await exchange(addr, uwsgiRequest('POST', '/up', pattern(1000)))).status, 200);
      // A peer that sends half a header and goes silent is dropped after socket-timeout.
      const t0 = Date.now();
      const silent = await exchange(addr, hex('0010'));
      assert.equal(silent.length, 0);
      assert.ok(Date.now() - t0 >= 900, 'closed by the timeout, not at once');
    });
    await withServer({ http: true, options: { 'buffer-size': 4096 } }, async (addr) => {
      const r = parseHttp(await exchange(addr, enc(`GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`)));
      assert.equal(r.status, 431);
    });
  });

  test('request accounting: begin/end around every request and packet, with bytes sent', async () => {
    const log: Array<{ info?: RequestInfo; tx?: number; exc?: unknown }> = [];
    const accounting = { begin: (info: RequestInfo) => { log.push({ info }); return { end: (tx: number, exc?: unknown) => { log.push({ tx, exc }); } }; } };
    await withServer({ hooks: { accounting, onError: () => {} }, mounts: { '/fail': () => { throw new Error('app bug'); } } }, async (addr) => {
      const raw = await exchange(addr, uwsgiRequest('GET', '/a?b=1'));
      await exchange(addr, hex('64000000'));
      const fail = parseHttp(await exchange(addr, uwsgiRequest('GET', '/fail/x')));
      assert.equal(fail.status, 500);
      assert.equal(log.length, 6);
      assert.deepEqual({ ...log[0]!.info }, { protocol: 'uwsgi', modifier1: 0, modifier2: 0, method: 'GET', uri: '/a?b=1', remoteAddr: '127.0.0.1', cl: 0, listener: 0 });
      assert.equal(log[1]!.tx, raw.length);
      assert.equal(log[1]!.exc, undefined);
      assert.equal(log[2]!.info!.modifier1, 100);
      assert.equal(log[3]!.tx, 4);
      assert.equal(log[4]!.info!.uri, '/fail/x');
      assert.match(String((log[5]!.exc as Error).message), /app bug/);
    });
  });

  test('without an accounting hook, requests are counted by the engine (total_requests, request_id, cl)', async () => {
    let u!: Uwsgi;
    const seen: string[] = [];
    await withServer({
      setup: (x) => { u = x; },
      mounts: { '/c': async (req: Request) => { seen.push(`${u.request_id()}:${u.cl()}`); await req.arrayBuffer(); return new Response('ok'); } },
    }, async (addr) => {
      const before = u.total_requests();
      await exchange(addr, uwsgiRequest('GET', '/c/one'));
      await exchange(addr, uwsgiRequest('POST', '/c/two', enc('hello')));
      assert.equal(u.total_requests(), before + 2);
      assert.equal(seen.length, 2);
      assert.equal(seen[1]!.split(':')[1], '5', 'cl() is the request body length inside the handler');
      assert.notEqual(seen[0]!.split(':')[0], seen[1]!.split(':')[0], 'each request has its own request_id');
    });
  });

  test('mounts: the longest mountpoint wins, SCRIPT_NAME and PATH_INFO are split', async () => {
    const seen: string[] = [];
    const app = (name: string) => (_req: Request, ctx: { env: Record<string, string> }) => { seen.push(`${name} ${ctx.env.SCRIPT_NAME}|${ctx.env.PATH_INFO}`); return new Response(name); };
    await withServer({ mounts: { '/a': app('a'), '/a/b': app('ab') } }, async (addr) => {
      assert.equal(text(parseHttp(await exchange(addr, uwsgiRequest('GET', '/a/b/c'))).body), 'ab');
      assert.equal(text(parseHttp(await exchange(addr, uwsgiRequest('GET', '/a/x'))).body), 'a');
      assert.equal(text(parseHttp(await exchange(addr, uwsgiRequest('GET', '/ab'))).body).startsWith('GET /ab'), true, '/ab is not under /a');
    });
    assert.deepEqual(seen, ['ab /a/b|/c', 'a /a|/x']);
  });

  test('cl(), disconnect() and sendfile() inside a handler', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-sf-'));
    const file = join(dir, 'f.bin');
    writeFileSync(file, pattern(200_000, 5));
    try {
      let u!: Uwsgi;
      await withServer({
        setup: (x) => { u = x; },
        mounts: {
          '/cl': async (req: Request) => { const n = u.cl(); await req.arrayBuffer(); return new Response(`cl=${n}`); },
          '/file': () => u.sendfile(file),
          '/part': () => u.sendfile(file, 1000, 10, 50),
          '/drop': () => { u.disconnect(); return new Response('never sent'); },
        },
      }, async (addr) => {
        assert.equal(text(parseHttp(await exchange(addr, uwsgiRequest('POST', '/cl', pattern(1234)))).body), 'cl=1234');
        const f = parseHttp(await exchange(addr, uwsgiRequest('GET', '/file')));
        assert.equal(f.headers['content-length'], '200000');
        assert.equal(checksum(f.body), checksum(pattern(200_000, 5)));
        const p = parseHttp(await exchange(addr, uwsgiRequest('GET', '/part')));
        assert.deepEqual(Array.from(p.body), Array.from(pattern(200_000, 5).subarray(10, 60)));
        assert.equal((await exchange(addr, uwsgiRequest('GET', '/drop'))).length, 0);
        assert.equal(u.cl(), 0, 'outside a request');
        assert.equal(u.disconnect(), false);
      });
      const u2 = createEngine({}).uwsgi;
      await rejectsUwsgi(u2.sendfile(join(dir, 'nope')), 'ERR_NOT_FOUND', /cannot read/);
      throwsUwsgi(() => u2.sendfile({} as unknown as string), 'ERR_ARG_TYPE', /path or a file descriptor/);
      throwsUwsgi(() => u2.fcgi(), 'ERR_UNSUPPORTED', /FastCGI/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('options: addresses, mounts and switches are validated', async () => {
    const u = createEngine({}).uwsgi;
    for (const [opts, re] of [
      [{ socket: '127.0.0.1:0' }, /needs a port 1\.\.65535/],
      [{ socket: 'host:port:x' }, /neither host:port nor a unix socket path/],
      [{ 'remote-cache': 'maybe', socket: '127.0.0.1:1' }, /remote-cache' must be rw, ro or off/],
      [{ 'remote-rpc': 'perhaps', socket: '127.0.0.1:1' }, /must be on or off/],
      [{ mount: 'nope', socket: '127.0.0.1:1' }, /expects \/path=app\.js/],
      [{ 'limit-post': 'x', socket: '127.0.0.1:1' }, /expected an integer/],
      [{}, /no listener/],
    ] as const) {
      await rejectsUwsgi(serve(u, { options: opts as never }), 'ERR_OPTION', re);
    }
    await rejectsUwsgi(serve(u, { options: { socket: '@abstract' } }), 'ERR_UNSUPPORTED', /abstract unix sockets/);
    await rejectsUwsgi(serve(u, { options: { 'fastcgi-socket': '127.0.0.1:9000' } as never }), 'ERR_UNSUPPORTED', /FastCGI is not supported/);
    await rejectsUwsgi(serve(u, { options: { socket: '127.0.0.1:1' }, fetch: 5 as never }), 'ERR_ARG_TYPE', /fetch must be a function/);
  });

  test('a master\'s workers share the listeners: both protocols, both workers answer, applist, listen_queue', async () => {
    const sport = await freePort();
    const hport = await freePort();
    const master = await run({
      options: { workers: 2, socket: `127.0.0.1:${sport}`, 'http-socket': `127.0.0.1:${hport}`, cache2: 'name=default,items=100', mount: '/other=build/tests/fixtures/http-app.js' },
      app: 'build/tests/fixtures/http-app.js',
      handleSignals: false,
    });
    try {
      await master.serving();
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 2; i++) {
        const r = parseHttp(await exchange({ port: i % 2 ? sport : hport }, i % 2 ? uwsgiRequest('GET', '/who') : enc('GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')));
        seen.add(text(r.body).split(' ')[0]!);
      }
      assert.deepEqual([...seen].sort(), ['worker1', 'worker2'], 'both workers accept');
      const r = parseHttp(await exchange({ port: sport }, uwsgiRequest('GET', '/apps')));
      assert.equal(text(r.body).split(' ').slice(1).join(' '), '["","/other"] 0');
      // The hello RPC registered by the app answers over the wire.
      assert.equal(text(await exchange({ port: sport }, encodeArrayPacket(173, 1, ['hello', 'a', 'b']))), 'hello:a,b');
      assert.equal(master.uwsgi.listen_queue(0), 0);
      throwsUwsgi(() => master.uwsgi.listen_queue(5), 'ERR_NOT_FOUND', /no listener 5/);
    } finally {
      await master.stop();
    }
  });

  test('a listener that cannot come up fails the start with its reason (address in use), never a silent hang', async () => {
    // Another server holds the port exclusively: neither the shared descriptor (Node) nor reusePort (Deno, Bun) can bind it.
    const holder = createServer();
    const port = await freePort();
    await new Promise<void>((r, j) => { holder.once('error', j); holder.listen({ port, host: '127.0.0.1', exclusive: true }, () => r()); });
    try {
      for (const option of ['socket', 'http-socket']) {
        await rejectsUwsgi(run({ options: { workers: 2, [option]: `127.0.0.1:${port}` }, app: 'build/tests/fixtures/http-app.js', handleSignals: false }),
          'ERR_OPTION', new RegExp(`127\\.0\\.0\\.1:${port}[\\s\\S]*(EADDRINUSE|in use)`, 'i'));
      }
    } finally {
      await new Promise((r) => holder.close(r));
    }
  });

  test(`a unix socket shared by a master's workers (${runtimeName})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-usock-'));
    const path = join(dir, 'm.sock');
    const workers = runtimeName === 'node' ? 2 : 1;
    try {
      if (runtimeName !== 'node') {
        await rejectsUwsgi(run({ options: { workers: 2, socket: path }, app: 'build/tests/fixtures/http-app.js', handleSignals: false }), 'ERR_UNSUPPORTED', new RegExp(`not supported on ${runtimeName}`));
      }
      const master = await run({ options: { workers, socket: path }, app: 'build/tests/fixtures/http-app.js', handleSignals: false });
      try {
        await master.serving();
        const seen = new Set<string>();
        for (let i = 0; i < 40 && seen.size < workers; i++) seen.add(text(parseHttp(await exchange({ path }, uwsgiRequest('GET', '/who'))).body).split(' ')[0]!);
        assert.equal(seen.size, workers);
      } finally {
        await master.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
