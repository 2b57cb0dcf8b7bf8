// --http-socket on the runtime's node:http: all of HTTP/1.1 as the runtime does it
// (keep-alive, pipelining, chunked both ways, 100-continue, HEAD), the limits
// uWSGI adds (413, 431, deadlines), smuggling attempts refused before any app,
// and both app shapes (Fetch and Express) with request accounting.
import { createEngine, serve, type Uwsgi, type WorkerServer } from 'uwsgi-wasm';
import { encodeVarsPacket } from 'uwsgi-wasm/codec';
import express from 'express';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'vitest';
import { assert, rejectsUwsgi } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';
import { pattern as nginxPattern, writeWithDrain } from '../fixtures/nginx-app.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function checksum(b: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < b.length; i++) h = (Math.imul(h, 31) + b[i]!) >>> 0;
  return h;
}

function pattern(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}

interface Res { status: number; headers: Record<string, string>; body: Uint8Array; raw: string }

/**
 * A raw client on one connection: write bytes, read whole responses (framed by
 * Content-Length, chunked encoding, or the close), see when the server closes.
 */
class Conn {
  readonly sock: Socket;
  #buf = new Uint8Array(0);
  closed = false;
  #wake: (() => void) | null = null;
  readonly opened: Promise<void>;
  constructor(port: number) {
    this.sock = connect(port, '127.0.0.1');
    this.opened = new Promise((r, j) => { this.sock.once('connect', () => r()); this.sock.once('error', j); });
    this.sock.on('data', (d: Uint8Array) => { this.#buf = concat([this.#buf, new Uint8Array(d)]); this.#wake?.(); });
    this.sock.on('close', () => { this.closed = true; this.#wake?.(); });
    this.sock.on('error', () => {});
  }
  write(s: string | Uint8Array): void { this.sock.write(typeof s === 'string' ? enc(s) : s); }
  async #more(deadline: number): Promise<void> {
    if (this.closed) throw new Error(`closed with ${this.#buf.length} bytes unread: ${JSON.stringify(text(this.#buf.subarray(0, 200)))}`);
    await new Promise<void>((r) => {
      const t = setTimeout(r, Math.max(1, deadline - Date.now()));
      this.#wake = () => { clearTimeout(t); this.#wake = null; r(); };
    });
    if (Date.now() >= deadline) throw new Error(`no complete response within the time; have ${JSON.stringify(text(this.#buf.subarray(0, 300)))}`);
  }
  #headEnd(): number {
    const b = this.#buf;
    for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
    return -1;
  }
  /** The next response (for a HEAD request, `head` says it has no body). */
  async response(opts: { head?: boolean; ms?: number } = {}): Promise<Res> {
    const deadline = Date.now() + (opts.ms ?? 10_000);
    let end: number;
    while ((end = this.#headEnd()) < 0) await this.#more(deadline);
    const headText = text(this.#buf.subarray(0, end));
    const lines = headText.split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) { const c = l.indexOf(':'); headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim(); }
    this.#buf = this.#buf.subarray(end + 4);
    let body: Uint8Array;
    if (opts.head || status === 100 || status === 204 || status === 304) body = new Uint8Array(0);
    else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      while (this.#buf.length < n) await this.#more(deadline);
      body = this.#buf.slice(0, n);
      this.#buf = this.#buf.subarray(n);
    } else if (headers['transfer-encoding'] === 'chunked') {
      const parts: Uint8Array[] = [];
      for (;;) {
        let nl: number;
        while ((nl = this.#buf.indexOf(10)) < 0) await this.#more(deadline);
        const size = parseInt(text(this.#buf.subarray(0, nl)), 16);
        while (this.#buf.length < nl + 1 + size + 2) await this.#more(deadline);
        parts.push(this.#buf.slice(nl + 1, nl + 1 + size));
        this.#buf = this.#buf.subarray(nl + 1 + size + 2);
        if (size === 0) break;
      }
      body = concat(parts);
    } else {
      while (!this.closed) {
        if (Date.now() >= deadline) throw new Error(`a body framed by the close, and no close within the time; have ${JSON.stringify(text(this.#buf.subarray(0, 300)))}`);
        await this.#more(deadline).catch(() => undefined);
      }
      body = this.#buf;
      this.#buf = new Uint8Array(0);
    }
    return { status, headers, body, raw: headText };
  }
  /** Resolves true once the server closed the connection, false after `ms`. */
  async closedWithin(ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline) await this.#more(deadline).catch(() => undefined);
    return this.closed;
  }
  destroy(): void { this.sock.destroy(); }
}

/** What the app saw, to check that refused requests never reached it. */
const seen: string[] = [];

const fetchApp = {
  async fetch(req: Request, ctx: { env: Record<string, string> }): Promise<Response> {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname}`);
    if (url.pathname === '/stream') {
      let i = 0;
      return new Response(new ReadableStream({ pull(c) { if (i === 5) { c.close(); return; } c.enqueue(enc(`part${i++};`)); } }));
    }
    if (req.method === 'POST') {
      const body = new Uint8Array(await req.arrayBuffer());
      return new Response(`len=${body.length} sum=${checksum(body)} te=${req.headers.get('transfer-encoding') ?? ''}`);
    }
    return new Response(`${req.method} ${url.pathname}${url.search} x=${req.headers.get('x-a') ?? ''} pi=${ctx.env.PATH_INFO}`, { headers: { 'x-app': 'fetch' } });
  },
};

function expressApp(u: () => Uwsgi) {
  const app = express();
  app.get('/hello', (req, res) => { seen.push(`express GET ${req.path}`); res.set('x-app', 'express').send(`hello ${req.query.name ?? 'world'} id=${u().request_id()}`); });
  app.post('/echo', (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => { const b = new Uint8Array(Buffer.concat(parts)); res.send(`len=${b.length} sum=${checksum(b)} cl=${u().cl()}`); });
  });
  app.get('/logvar/:v', async (req, res) => {
    u().set_logvar('who', req.params.v);
    await sleep(20);
    res.send(`logvar=${text(u().get_logvar('who') ?? new Uint8Array())}`);
  });
  app.get('/drop', (_req, _res) => { u().disconnect(); });
  // After an await, from inside a nested accounted(): the request being served is still found.
  app.get('/drop-later', async (_req, _res) => { await sleep(5); await u().accounted(async () => { await sleep(5); u().disconnect(); }); });
  return app;
}

async function withHttp(
  opts: { options?: Record<string, unknown>; app?: unknown; uwsgi?: boolean },
  body: (port: number, u: Uwsgi, server: WorkerServer) => Promise<void>,
): Promise<void> {
  const engine = createEngine({ cache2: 'name=default,items=10' });
  const u = engine.uwsgi;
  const port = await freePort();
  const server = await serve(u, {
    options: { [opts.uwsgi ? 'socket' : 'http-socket']: `127.0.0.1:${port}`, ...(opts.options ?? {}) } as never,
    app: (opts.app ?? fetchApp) as never,
  });
  try {
    await body(port, u, server);
  } finally {
    await server.close();
  }
}

const GET = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: h.test\r\n${extra}\r\n`;

/** With limit-post 1000 and buffer-size 4096: 413 for an announced and a chunked body over it, 431 for a head over it. */
async function assertSizeLimits(port: number): Promise<void> {
  const a = new Conn(port);
  a.write(`POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n${'a'.repeat(1001)}`);
  assert.equal((await a.response()).status, 413);
  const b = new Conn(port);
  b.write(`POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n600\r\n${'b'.repeat(0x600)}\r\n`);
  assert.equal((await b.response()).status, 413);
  const c = new Conn(port);
  c.write(`GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(5000)}\r\n\r\n`);
  assert.equal((await c.response()).status, 431);
  for (const k of [a, b, c]) k.destroy();
}

/** Smuggling attempts (CL+TE, two CLs, '_' aliases of real headers, obs-fold): each gets 400 and none reaches the app. */
async function assertSmugglingRefused(port: number): Promise<void> {
  const attempts = [
    'POST /cl-te HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST /two-cl HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'POST /alias HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent_Length: 50\r\n\r\nhello',
    'GET /alias2 HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: a\r\nX_Forwarded_For: b\r\n\r\n',
    'GET /fold HTTP/1.1\r\nHost: h\r\nX-A: one\r\n two\r\n\r\n',
  ];
  seen.length = 0;
  for (const a of attempts) {
    const c = new Conn(port);
    c.write(a);
    const r = await c.response();
    assert.equal(r.status, 400, `${a.split('\r\n')[0]}: got ${r.status}`);
    c.destroy();
  }
  assert.deepEqual(seen, [], 'no attempt reached the app');
}

describe('http-socket', () => {
  test('keep-alive by default: 20 requests on one connection', async () => {
    await withHttp({}, async (port) => {
      const c = new Conn(port);
      await c.opened;
      for (let i = 0; i < 20; i++) {
        c.write(GET(`/k${i}`, 'X-A: v\r\n'));
        const r = await c.response();
        assert.equal(r.status, 200);
        assert.equal(text(r.body), `GET /k${i} x=v pi=/k${i}`);
        assert.notEqual(r.headers.connection, 'close');
      }
      assert.equal(c.closed, false);
      c.destroy();
    });
  });

  test('--http-keepalive 0 closes after each response', async () => {
    await withHttp({ options: { 'http-keepalive': 0 } }, async (port) => {
      const c = new Conn(port);
      c.write(GET('/once'));
      const r = await c.response();
      assert.equal(r.headers.connection, 'close');
      assert.equal(await c.closedWithin(3000), true);
    });
  });

  test('pipelined requests are answered in order', async () => {
    await withHttp({}, async (port) => {
      const c = new Conn(port);
      c.write([0, 1, 2, 3, 4].map((i) => GET(`/p${i}`)).join(''));
      for (let i = 0; i < 5; i++) assert.equal(text((await c.response()).body), `GET /p${i} x= pi=/p${i}`);
      c.destroy();
    });
  });

  test('chunked request body in, chunked response out; HEAD has no body', async () => {
    await withHttp({}, async (port) => {
      const c = new Conn(port);
      const data = pattern(100_000, 4);
      c.write('POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let at = 0; at < data.length; at += 30_000) {
        const part = data.subarray(at, at + 30_000);
        c.write(concat([enc(`${part.length.toString(16)}\r\n`), part, enc('\r\n')]));
      }
      c.write('0\r\n\r\n');
      const r = await c.response();
      assert.equal(text(r.body), `len=${data.length} sum=${checksum(data)} te=chunked`);
      c.write(GET('/stream'));
      const s = await c.response();
      assert.equal(s.headers['transfer-encoding'], 'chunked');
      assert.equal(text(s.body), 'part0;part1;part2;part3;part4;');
      c.write('HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n');
      const h = await c.response({ head: true });
      assert.equal(h.status, 200);
      c.write(GET('/after-head'));
      assert.equal(text((await c.response()).body), 'GET /after-head x= pi=/after-head', 'HEAD sent no body: the next response parses');
      c.destroy();
    });
  });

  test('Expect: 100-continue: 100 first, then the body; over limit-post: 413 without 100', async () => {
    await withHttp({ options: { 'limit-post': 1000 } }, async (port) => {
      const c = new Conn(port);
      c.write('POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
      const cont = await c.response();
      assert.equal(cont.status, 100);
      c.write('hello');
      assert.equal(text((await c.response()).body), `len=5 sum=${checksum(enc('hello'))} te=`);
      c.destroy();
      const d = new Conn(port);
      d.write('POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n');
      assert.equal((await d.response()).status, 413);
      d.destroy();
    });
  });

  test('413 over limit-post (Content-Length and chunked), 431 over buffer-size', async () => {
    await withHttp({ options: { 'limit-post': 1000, 'buffer-size': 4096 } }, (port) => assertSizeLimits(port));
  });

  test('smuggling attempts get 400 and never reach the app', async () => {
    await withHttp({}, (port) => assertSmugglingRefused(port));
  });

  test('a client stalled mid-head or mid-body is dropped; one trickling a byte at a time too', async () => {
    await withHttp({ options: { 'socket-timeout': 1, 'http-headers-timeout': 2, 'body-timeout': 2 } }, async (port) => {
      const t0 = Date.now();
      const head = new Conn(port);
      head.write('GET / HTTP/1.1\r\nHo');
      const body = new Conn(port);
      body.write('POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc');
      const trickle = new Conn(port);
      const line = 'GET / HTTP/1.1\r\nX-Slow: ' + 'a'.repeat(200);
      let i = 0;
      const drip = setInterval(() => { if (!trickle.closed) trickle.write(line[i++ % line.length]!); }, 200);
      try {
        for (const c of [head, body, trickle]) assert.equal(await c.closedWithin(8000), true, 'dropped');
        assert.ok(Date.now() - t0 < 7000, `dropped by the deadlines, after ${Date.now() - t0} ms`);
      } finally {
        clearInterval(drip);
      }
      // The listener still serves.
      const ok = new Conn(port);
      ok.write(GET('/still'));
      assert.equal((await ok.response()).status, 200);
      ok.destroy();
    });
  });
});

/** A uwsgi request packet as nginx sends one (vars from nginx's uwsgi_params), with `extra` vars after them. */
function uwsgiRequest(method: string, path: string, extra: Array<[string, string]> = [], cl = 0): Uint8Array {
  const q = path.indexOf('?');
  return encodeVarsPacket(0, 0, [
    ['REQUEST_METHOD', method], ['REQUEST_URI', path], ['PATH_INFO', q < 0 ? path : path.slice(0, q)], ['QUERY_STRING', q < 0 ? '' : path.slice(q + 1)],
    ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REMOTE_ADDR', '10.9.8.7'], ['REMOTE_PORT', '4444'], ['HTTP_HOST', 'h.test'], ['CONTENT_LENGTH', cl ? String(cl) : ''], ...extra,
  ]);
}

describe('both app shapes on both listeners', () => {
  for (const listener of ['http', 'uwsgi'] as const) {
    const ask = async (port: number, method: string, path: string, body?: Uint8Array): Promise<Res> => {
      const c = new Conn(port);
      if (listener === 'http') {
        c.write(`${method} ${path} HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n${body ? `Content-Length: ${body.length}\r\n` : ''}\r\n`);
      } else {
        c.write(uwsgiRequest(method, path, [], body?.length ?? 0));
      }
      if (body) c.write(body);
      const r = await c.response();
      c.destroy();
      return r;
    };

    test(`an Express app over ${listener}: routes, query, bodies, request_id, cl, per-request logvars, disconnect`, async () => {
      let uref!: Uwsgi;
      await withHttp({ uwsgi: listener === 'uwsgi', app: expressApp(() => uref) }, async (port, u) => {
        uref = u;
        const before = u.total_requests();
        const r = await ask(port, 'GET', '/hello?name=ann');
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-app'], 'express');
        assert.match(text(r.body), /^hello ann id=\d+$/);
        const data = pattern(200_000, 8);
        const p = await ask(port, 'POST', '/echo', data);
        assert.equal(text(p.body), `len=${data.length} sum=${checksum(data)} cl=${data.length}`);
        const [x, y] = await Promise.all([ask(port, 'GET', '/logvar/x'), ask(port, 'GET', '/logvar/y')]);
        assert.equal(text(x.body), 'logvar=x');
        assert.equal(text(y.body), 'logvar=y', 'each request keeps its own logvars');
        const n = await ask(port, 'GET', '/nope');
        assert.equal(n.status, 404);
        const c = new Conn(port);
        if (listener === 'http') c.write(GET('/drop')); else c.write(encodeVarsPacket(0, 0, [['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/drop'], ['PATH_INFO', '/drop']]));
        assert.equal(await c.closedWithin(3000), true, 'disconnect() closes the connection');
        for (let i = 0; i < 50 && u.total_requests() < before + 6; i++) await sleep(20);
        assert.equal(u.total_requests(), before + 6, 'every request was accounted');
        const later = new Conn(port);
        if (listener === 'http') later.write(GET('/drop-later')); else later.write(encodeVarsPacket(0, 0, [['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/drop-later'], ['PATH_INFO', '/drop-later']]));
        assert.equal(await later.closedWithin(3000), true, 'disconnect() after awaits, inside accounted(), closes the connection');
      });
    });

    test(`a Fetch app over ${listener}: the same requests, accounted`, async () => {
      await withHttp({ uwsgi: listener === 'uwsgi' }, async (port, u) => {
        const before = u.total_requests();
        const r = await ask(port, 'GET', '/f?q=1');
        assert.equal(text(r.body), 'GET /f?q=1 x= pi=/f');
        const data = pattern(70_000, 2);
        assert.equal(text((await ask(port, 'POST', '/p', data)).body), `len=${data.length} sum=${checksum(data)} te=`);
        for (let i = 0; i < 50 && u.total_requests() < before + 2; i++) await sleep(20);
        assert.equal(u.total_requests(), before + 2);
      });
    });
  }
});

describe('a (req, res) app over the uwsgi listener: node:http\'s request life cycle', () => {
  test('headers as node:http gives them; an unread body; HEAD; finish then close; a peer gone mid-body aborts the request', async () => {
    const events: string[] = [];
    let aborted!: () => void;
    const abortSeen = new Promise<void>((r) => { aborted = r; });
    const app = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
      const path = req.url ?? '';
      if (path === '/headers') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ h: req.headers, raw: req.rawHeaders, m: req.method, addr: req.socket.remoteAddress }));
      } else if (path === '/ignore-body') {
        // Answers at once, never reading the 300 kB body.
        res.on('finish', () => events.push('finish'));
        res.on('close', () => { events.push('close'); });
        if (req.method === 'GET') req.on('close', () => events.push('req close'));
        res.end('ignored');
      } else if (path === '/head') {
        res.end('a body HEAD must not carry');
      } else if (path === '/stream') {
        res.write('one;');
        setTimeout(() => res.end('two'), 10);
      } else if (path === '/echo') {
        req.pipe(res);
      } else if (path === '/big') {
        // 2 MiB in 100 kB writes, waiting for 'drain' whenever a write says so.
        writeWithDrain(res, nginxPattern(2 << 20, 11), 100_000);
      } else if (path === '/cut') {
        req.on('data', () => {});
        req.on('error', (e) => { events.push(`req error ${(e as NodeJS.ErrnoException).code}`); });
        req.on('close', () => { events.push(`req close complete=${req.complete}`); aborted(); });
      }
    };
    await withHttp({ uwsgi: true, app }, async (port) => {
      const ask = async (bytes: Uint8Array[], head = false) => {
        const c = new Conn(port);
        for (const b of bytes) c.write(b);
        const r = await c.response({ head });
        assert.equal(await c.closedWithin(3000), true, 'the connection closes after the answer');
        c.destroy();
        return r;
      };
      const h = await ask([uwsgiRequest('GET', '/headers', [['HTTP_X_TWO_WORDS', 'a b'], ['HTTP_COOKIE', 'c=1'], ['CONTENT_TYPE', 'text/plain']])]);
      const seenBy = JSON.parse(text(h.body));
      assert.equal(seenBy.m, 'GET');
      assert.equal(seenBy.addr, '10.9.8.7');
      assert.equal(seenBy.h['x-two-words'], 'a b');
      assert.equal(seenBy.h.cookie, 'c=1');
      assert.equal(seenBy.h['content-type'], 'text/plain');
      assert.equal(seenBy.h.host, 'h.test');
      assert.deepEqual(seenBy.raw.slice(0, 4).map((x: string) => x.toLowerCase()), ['host', 'h.test', 'x-two-words', 'a b'], `raw headers, in order: ${seenBy.raw}`);
      assert.equal(h.headers.connection, 'close');

      const data = pattern(300_000, 3);
      const ig = await ask([uwsgiRequest('POST', '/ignore-body', [], data.length), data]);
      assert.equal(text(ig.body), 'ignored');
      for (let i = 0; i < 50 && events.length < 2; i++) await sleep(20);
      assert.deepEqual(events.splice(0), ['finish', 'close']);
      // A request the app never read ends and closes once the answer is out, as under node:http's server.
      assert.equal(text((await ask([uwsgiRequest('GET', '/ignore-body')])).body), 'ignored');
      for (let i = 0; i < 50 && events.length < 3; i++) await sleep(20);
      assert.deepEqual(events.splice(0).sort(), ['close', 'finish', 'req close']);

      const hd = await ask([uwsgiRequest('HEAD', '/head')], true);
      assert.equal(hd.status, 200);

      const st = await ask([uwsgiRequest('GET', '/stream')]);
      assert.equal(text(st.body), 'one;two', 'a body without a length ends with the close');
      assert.equal(st.headers['transfer-encoding'], undefined, 'HTTP/1.0 framing: never chunked');

      const echo = pattern(1 << 20, 4);
      assert.equal(checksum((await ask([uwsgiRequest('POST', '/echo', [], echo.length), echo])).body), checksum(echo), 'req.pipe(res): 1 MiB back, byte for byte');
      assert.equal(checksum((await ask([uwsgiRequest('GET', '/big')])).body), checksum(nginxPattern(2 << 20, 11)), "2 MiB written with 'drain' waits");

      const c = new Conn(port);
      c.write(uwsgiRequest('POST', '/cut', [], 100_000));
      c.write(pattern(1000));
      await sleep(100);
      c.destroy();
      await Promise.race([abortSeen, sleep(3000)]);
      assert.ok(events.includes('req close complete=false'), `the request closed, incomplete: ${events}`);
    });
  });
});

const RUNTIME = (globalThis as { Deno?: unknown }).Deno !== undefined ? 'deno' : (globalThis as { Bun?: unknown }).Bun !== undefined ? 'bun' : 'node';

describe('--http-native: --http-socket on the runtime\'s own Fetch server (Deno.serve, Bun.serve; node:http on Node)', () => {
  const native = (options: Record<string, unknown> = {}) => ({ 'http-native': true, ...options });

  test('keep-alive, pipelining, chunked both ways, HEAD; the environ and request accounting', async () => {
    let uref!: Uwsgi;
    const app = {
      async fetch(req: Request, ctx: { env: Record<string, string>; remoteAddr: string }): Promise<Response> {
        const url = new URL(req.url);
        if (url.pathname === '/stream') {
          let i = 0;
          return new Response(new ReadableStream({ pull(c) { if (i === 3) { c.close(); return; } c.enqueue(enc(`part${i++};`)); } }));
        }
        if (req.method === 'POST') {
          const body = new Uint8Array(await req.arrayBuffer());
          return new Response(`len=${body.length} sum=${checksum(body)} cl=${uref.cl()}`);
        }
        await sleep(1);
        return new Response(`${req.method} ${url.pathname}${url.search} x=${req.headers.get('x-a') ?? ''} pi=${ctx.env.PATH_INFO} qs=${ctx.env.QUERY_STRING} xa=${ctx.env.HTTP_X_A ?? ''} ra=${ctx.remoteAddr} id=${uref.request_id()}`);
      },
    };
    await withHttp({ options: native(), app }, async (port, u) => {
      uref = u;
      const before = u.total_requests();
      const c = new Conn(port);
      await c.opened;
      const ids = new Set<string>();
      for (let i = 0; i < 10; i++) {
        c.write(GET(`/k${i}?q=${i}`, 'X-A: v\r\n'));
        const r = await c.response();
        assert.equal(r.status, 200);
        const m = new RegExp(`^GET /k${i}\\?q=${i} x=v pi=/k${i} qs=q=${i} xa=v ra=127\\.0\\.0\\.1 id=(\\d+)$`).exec(text(r.body));
        assert.ok(m, `answer ${i}: ${text(r.body)}`);
        ids.add(m[1]!);
        assert.notEqual(r.headers.connection, 'close');
      }
      assert.equal(ids.size, 10, 'every request has its own request_id');
      // Bun.serve (1.4) closes a connection whose pipelined requests meet a handler that awaits, with no answer
      // (plain Bun.serve does the same): the README's table says so; there, the requests go one at a time.
      if (RUNTIME === 'bun') for (let i = 0; i < 3; i++) { c.write(GET(`/p${i}`)); assert.match(text((await c.response()).body), new RegExp(`^GET /p${i} `)); }
      else {
        c.write([0, 1, 2].map((i) => GET(`/p${i}`)).join(''));
        for (let i = 0; i < 3; i++) assert.match(text((await c.response()).body), new RegExp(`^GET /p${i} `));
      }
      const data = pattern(100_000, 5);
      c.write('POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let at = 0; at < data.length; at += 40_000) {
        const part = data.subarray(at, at + 40_000);
        c.write(concat([enc(`${part.length.toString(16)}\r\n`), part, enc('\r\n')]));
      }
      c.write('0\r\n\r\n');
      assert.equal(text((await c.response()).body), `len=${data.length} sum=${checksum(data)} cl=0`);
      c.write(`POST /cl HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello`);
      assert.equal(text((await c.response()).body), `len=5 sum=${checksum(enc('hello'))} cl=5`, 'cl() is the Content-Length');
      c.write(GET('/stream'));
      assert.equal(text((await c.response()).body), 'part0;part1;part2;');
      c.write('HEAD /h HTTP/1.1\r\nHost: h\r\n\r\n');
      assert.equal((await c.response({ head: true })).status, 200);
      c.write(GET('/after-head'));
      assert.match(text((await c.response()).body), /^GET \/after-head /, 'HEAD sent no body: the next response parses');
      c.destroy();
      for (let i = 0; i < 100 && u.total_requests() < before + 18; i++) await sleep(20);
      assert.equal(u.total_requests(), before + 18, 'every request was accounted');
    });
  });

  test('413 over limit-post (Content-Length and chunked), 431 over buffer-size; smuggling and aliasing headers get 400 before the app', async () => {
    await withHttp({ options: native({ 'limit-post': 1000, 'buffer-size': 4096 }) }, async (port) => {
      seen.length = 0;
      await assertSizeLimits(port);
      assert.deepEqual(seen.filter((s) => s.startsWith('GET')), [], 'the 431 never reached the app');
      await assertSmugglingRefused(port);
      // The listener still serves.
      const ok = new Conn(port);
      ok.write(GET('/still'));
      assert.equal((await ok.response()).status, 200);
      ok.destroy();
    });
  });

  test('a body that stalls: Bun.serve drops it after its idle time (node:http after body-timeout); Deno.serve keeps it, and serves others meanwhile', async () => {
    await withHttp({ options: native({ 'socket-timeout': 1, 'body-timeout': 2 }) }, async (port) => {
      const t0 = Date.now();
      const c = new Conn(port);
      c.write('POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nabc');
      const ok = new Conn(port);
      ok.write(GET('/meanwhile'));
      assert.equal((await ok.response()).status, 200, 'another connection is served while one stalls');
      ok.destroy();
      if (RUNTIME === 'deno') {
        // The README's Runtime support table: Deno.serve has no deadline for a head or a body.
        assert.equal(await c.closedWithin(2500), false, 'Deno.serve keeps the stalled connection');
      } else {
        // Bun.serve's idle timer is at least 5 s (bindings/bun/serve.ts) and fires on a 4 s tick.
        assert.equal(await c.closedWithin(12_000), true, 'the stalled connection was dropped');
        assert.ok(Date.now() - t0 < 12_000, `within the deadline (${Date.now() - t0} ms)`);
      }
      c.destroy();
    });
  });

  test('the app\'s failures are 500s; disconnect() drops the connection; mounts pick their app', async () => {
    let uref!: Uwsgi;
    const errors: string[] = [];
    const app = {
      fetch(req: Request): Response | Promise<Response> {
        const p = new URL(req.url).pathname;
        if (p === '/throw') throw new Error('boom');
        if (p === '/not-a-response') return 'text' as unknown as Response;
        if (p === '/drop') { uref.disconnect(); return new Response('never seen'); }
        if (p === '/drop-later') return sleep(5).then(() => { uref.disconnect(); return new Response('never seen'); });
        return new Response(`root ${p}`);
      },
    };
    const engine = createEngine({ cache2: 'name=default,items=10' });
    const u = engine.uwsgi;
    uref = u;
    const port = await freePort();
    const server = await serve(u, {
      options: { 'http-socket': `127.0.0.1:${port}`, 'http-native': true } as never,
      app: app as never,
      mounts: { '/sub': (req: Request, ctx: { env: Record<string, string> }) => new Response(`sub sn=${ctx.env.SCRIPT_NAME} pi=${ctx.env.PATH_INFO} ${new URL(req.url).pathname}`) } as never,
      hooks: { onError: (e) => { errors.push((e as Error).message); } },
    });
    try {
      const ask = async (path: string): Promise<Res> => { const c = new Conn(port); c.write(GET(path)); const r = await c.response(); c.destroy(); return r; };
      assert.equal((await ask('/throw')).status, 500);
      assert.equal((await ask('/not-a-response')).status, 500);
      assert.deepEqual(errors.map((e) => e.replace(/,.*$/, '')), ['boom', 'the app\'s fetch must return a Response']);
      assert.equal(text((await ask('/sub/a/b')).body), 'sub sn=/sub pi=/a/b /sub/a/b');
      assert.equal(text((await ask('/other')).body), 'root /other');
      for (const path of ['/drop', '/drop-later']) {
        const c = new Conn(port);
        c.write(GET(path));
        assert.equal(await c.closedWithin(5000), true, `${path}: disconnect() closes the connection`);
        // Whatever came before the close (Deno.serve sends a head), the app's body never did.
        assert.ok(!(await c.response({ ms: 10 }).then((r) => text(r.body), () => '')).includes('never seen'), `${path}: the answer was not sent`);
      }
    } finally {
      await server.close();
    }
  });

  test('a (req, res) app and --http-keepalive 0, where the runtime\'s own server cannot take them, are refused at start', async () => {
    const listener = (_req: unknown, res: { end(s: string): void }) => { res.end('node'); };
    if (RUNTIME === 'node') {
      // node:http is Node's own server: nothing changes.
      await withHttp({ options: native({ 'http-keepalive': 0 }), app: listener }, async (port) => {
        const c = new Conn(port);
        c.write(GET('/'));
        const r = await c.response();
        assert.equal(text(r.body), 'node');
        assert.equal(r.headers.connection, 'close');
        c.destroy();
      });
      return;
    }
    const u = createEngine({}).uwsgi;
    const port = await freePort();
    await rejectsUwsgi(serve(u, { options: { 'http-socket': `127.0.0.1:${port}`, 'http-native': true } as never, app: listener as never }), 'ERR_OPTION', new RegExp(`${RUNTIME}'s own Fetch server serves Fetch apps only.*\\(req, res\\) listener`));
    if (RUNTIME === 'deno') {
      await rejectsUwsgi(serve(u, { options: { 'http-socket': `127.0.0.1:${port}`, 'http-native': true, 'http-keepalive': 0 } as never, app: fetchApp as never }), 'ERR_UNSUPPORTED', /Deno\.serve keeps every connection open/);
    } else {
      await withHttp({ options: native({ 'http-keepalive': 0 }) }, async (p) => {
        const c = new Conn(p);
        c.write(GET('/once'));
        assert.equal((await c.response()).headers.connection, 'close');
        assert.equal(await c.closedWithin(3000), true);
      });
    }
  });
});
