/**
 * uWSGI 1.x's callable packet handlers and grunt, over the wire on a
 * `--socket` listener: fastfuncs (modifier1 26), message_manager_marshal
 * (modifier1 33, Python marshal bodies) and grunt() from a request handler.
 */
import { createEngine, serve } from 'uwsgi-wasm';
import { encodePacket, encodeVarsPacket, marshalDumps, marshalLoads } from 'uwsgi-wasm/codec';
import { processOf } from 'uwsgi-wasm/engine';
import { handlersOf } from 'uwsgi-wasm/server';
import { connect } from 'node:net';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi } from '../lib/helpers.ts';
import { freePort } from '../lib/interop.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Send one packet and collect everything until the server closes. */
function exchange(port: number, data: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const chunks: Uint8Array[] = [];
    s.on('data', (d: Uint8Array) => chunks.push(new Uint8Array(d)));
    s.on('error', reject);
    s.on('close', () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const c of chunks) { out.set(c, at); at += c.length; }
      resolve(out);
    });
    s.on('connect', () => s.write(data));
  });
}

/**
 * marshal.dumps(...) of Python 3.11, recorded once with `python3 -c "import marshal; print(marshal.dumps(v).hex())"`:
 * they use the FLAG_REF bit and the short-string codes a Python 3 client sends.
 */
const PY = {
  none: '4e', int: 'e905000000', neg: 'e9f9ffffff', big: 'ec03000000000000000004', float: 'e7000000000000f83f',
  bytes: 'f3020000006162', str: 'f50300000068c3a9', tuple: 'a902e901000000da0161',
  list: 'db02000000e9010000005b01000000e902000000', dict: 'fbda0161e901000000da01625b010000004e30',
  intKeys: 'fbe901000000da017830', set: 'bc02000000e901000000e902000000',
};

describe('uWSGI 1.x packet handlers and grunt', () => {
  test('the marshal codec reads what Python 3 writes and writes what it reads', () => {
    assert.equal(marshalLoads(hex(PY.none)), null);
    assert.equal(marshalLoads(hex(PY.int)), 5);
    assert.equal(marshalLoads(hex(PY.neg)), -7);
    assert.equal(marshalLoads(hex(PY.big)), 2 ** 40);
    assert.equal(marshalLoads(hex(PY.float)), 1.5);
    assert.deepEqual([...(marshalLoads(hex(PY.bytes)) as Uint8Array)], [0x61, 0x62]);
    assert.equal(marshalLoads(hex(PY.str)), 'hé');
    assert.deepEqual(marshalLoads(hex(PY.tuple)), [1, 'a']);
    assert.deepEqual(marshalLoads(hex(PY.list)), [1, [2]]);
    assert.deepEqual(marshalLoads(hex(PY.dict)), { a: 1, b: [null] });
    assert.deepEqual(marshalLoads(hex(PY.intKeys)), new Map([[1, 'x']]));
    assert.deepEqual(marshalLoads(hex(PY.set)), new Set([1, 2]));
    // Python reads these bytes back as {'a': [1, 2**70, 'é', b'\x01'], 'b': None, 'c': 1.5} (checked with python3).
    assert.equal(toHex(marshalDumps({ a: [1, 2n ** 70n, 'é', Uint8Array.of(1)], b: null, c: 1.5 })),
      '7b7501000000615b0400000069010000006c05000000000000000000000000047502000000c3a97301000000017501000000624e75010000006367000000000000f83f30');
    assert.equal(marshalLoads(marshalDumps(-(2n ** 70n))), -(2n ** 70n));
    throwsUwsgi(() => marshalLoads(hex('e90500')), 'ERR_PROTOCOL', /byte\(s\) wanted/);
    throwsUwsgi(() => marshalLoads(hex('db ffffff7f'.replace(' ', ''))), 'ERR_PROTOCOL', /exceeds the bytes left/);
    throwsUwsgi(() => marshalLoads(hex('e3')), 'ERR_PROTOCOL', /has no JS value/); // a code object
    throwsUwsgi(() => marshalLoads(hex('4e4e')), 'ERR_PROTOCOL', /after the value/);
    throwsUwsgi(() => marshalDumps(() => 1), 'ERR_ARG_TYPE', /no marshal form/);
  });

  test('fastfuncs: modifier 26 with modifier2 N calls fastfuncs[N] with the body; empty slots close', async () => {
    const engine = createEngine({});
    const w = engine.attach('worker', 1);
    assert.equal(w.fastfuncs.length, 256);
    assert.ok(w.fastfuncs.every((f) => f === null));
    const seen: string[] = [];
    w.fastfuncs[10] = (body) => { seen.push(text(body)); return 'pong'; };
    w.fastfuncs[11] = () => new Response('<foo/>', { status: 201, headers: { 'content-type': 'text/xml' } });
    w.fastfuncs[12] = async () => enc('async bytes');
    w.fastfuncs[13] = () => { throw new Error('boom'); };
    w.fastfuncs[255] = () => null;
    const logged: string[] = [];
    const port = await freePort();
    const server = await serve(w, { options: { socket: `127.0.0.1:${port}` } });
    try {
      handlersOf(w.ctx).log = (l) => logged.push(l);
      assert.equal(text(await exchange(port, encodePacket(26, 10, 'ping body'))), 'pong');
      assert.deepEqual(seen, ['ping body']);
      const xml = text(await exchange(port, encodePacket(26, 11)));
      assert.match(xml, /^HTTP\/1\.1 201 /);
      assert.match(xml, /content-type: text\/xml\r\n/i);
      assert.match(xml, /Content-Length: 6\r\n/);
      assert.ok(xml.endsWith('\r\n\r\n<foo/>'));
      assert.equal(text(await exchange(port, encodePacket(26, 12))), 'async bytes');
      assert.equal((await exchange(port, encodePacket(26, 13))).length, 0, 'a failing fastfunc answers nothing');
      assert.match(logged.join('\n'), /fastfunc 13 failed: Error: boom/);
      assert.equal((await exchange(port, encodePacket(26, 255))).length, 0);
      assert.equal((await exchange(port, encodePacket(26, 7))).length, 0, 'an empty slot closes, as uWSGI');
    } finally {
      await server.close();
    }
  });

  test('message_manager_marshal: modifier 33 gives the decoded value and modifier2; the result goes back marshalled', async () => {
    const engine = createEngine({});
    const w = engine.attach('worker', 1);
    assert.equal(w.message_manager_marshal, null);
    throwsUwsgi(() => { w.message_manager_marshal = 5 as never; }, 'ERR_ARG_TYPE', /function or null/);
    const port = await freePort();
    const server = await serve(w, { options: { socket: `127.0.0.1:${port}` } });
    try {
      assert.equal((await exchange(port, encodePacket(33, 0, hex(PY.dict)))).length, 0, 'no handler: closed unanswered, as uWSGI\'s None');
      w.message_manager_marshal = async (msg, m2) => ({ got: msg, m2, n: 2n ** 70n });
      const reply = await exchange(port, encodePacket(33, 7, hex(PY.dict)));
      assert.deepEqual([reply[0], reply[1]! | (reply[2]! << 8), reply[3]], [33, reply.length - 4, 7], 'header: 33, size, the same modifier2');
      assert.deepEqual(marshalLoads(reply.subarray(4)), { got: { a: 1, b: [null] }, m2: 7, n: 2n ** 70n });
      assert.equal((await exchange(port, encodePacket(33, 1, hex('e905')))).length, 0, 'an undecodable body: no answer');
      w.message_manager_marshal = () => new Uint8Array(70000);
      assert.equal((await exchange(port, encodePacket(33, 1, hex(PY.none)))).length, 0, 'a reply over 65535 bytes is not sent (uWSGI skips it)');
      w.message_manager_marshal = null;
      assert.equal(w.message_manager_marshal, null);
    } finally {
      await server.close();
    }
  });

  test('grunt inside accounted(): counted once, the grunt ends with the function', async () => {
    const w = createEngine({}).attach('worker', 1);
    const grunts = () => processOf(w.ctx).workerStats()[0]!.grunts;
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    const done = w.accounted(async () => { w.grunt(); await gate; return w.request_id(); });
    await Promise.resolve();
    assert.equal(grunts(), 1);
    assert.equal(w.workers()[0]!.requests, 1);
    release();
    assert.equal(await done, 0);
    assert.equal(grunts(), 0);
    assert.equal(w.workers()[0]!.requests, 1, 'not counted twice');
  });

  test('grunt: the worker counts the request done and serves again while the grunt goes on', async () => {
    const engine = createEngine({});
    const w = engine.attach('worker', 1);
    throwsUwsgi(() => w.grunt(), 'ERR_NOT_FOUND', /no request in progress/);
    let release!: () => void;
    const gate = new Promise<void>((r) => { release = r; });
    let gruntId = -1;
    let afterGrunt = '';
    const port = await freePort();
    const server = await serve(w, {
      options: { socket: `127.0.0.1:${port}` },
      async fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === '/slow') {
          w.set_logvar('who', 'grunt');
          assert.equal(w.grunt(), true);
          assert.equal(w.grunt(), true, 'twice is the same grunt');
          await gate;
          gruntId = w.request_id();
          afterGrunt = text(w.get_logvar('who')!);
          return new Response('slow done');
        }
        return new Response(`fast ${w.request_id()}`);
      },
    });
    const req = (path: string) => encodeVarsPacket(0, 0, { REQUEST_METHOD: 'GET', REQUEST_URI: path, PATH_INFO: path, QUERY_STRING: '', SERVER_NAME: 'x', SERVER_PORT: '80', SERVER_PROTOCOL: 'HTTP/1.1', HTTP_HOST: 'x' });
    try {
      const slow = exchange(port, req('/slow'));
      const stats = () => processOf(w.ctx).workerStats()[0]!;
      for (let i = 0; i < 200 && stats().grunts === 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(stats().grunts, 1, 'the grunt shows in the worker\'s stats');
      assert.equal(text(w.workers()[0]!.status), 'idle', 'the worker is free');
      assert.equal(w.workers()[0]!.requests, 1, 'the grunted request is counted done');
      assert.ok(!('grunts' in w.workers()[0]!), 'workers() keeps uWSGI\'s keys');
      assert.match(text(await exchange(port, req('/fast'))), /fast 1$/, 'the worker serves again');
      release();
      assert.match(text(await slow), /slow done$/);
      assert.equal(gruntId, 0, 'the grunt keeps its request id');
      assert.equal(afterGrunt, 'grunt', 'and its logvars');
      for (let i = 0; i < 200 && stats().grunts !== 0; i++) await new Promise((r) => setTimeout(r, 5));
      assert.equal(stats().grunts, 0);
      assert.equal(w.workers()[0]!.requests, 2, 'a grunt is not counted twice');
    } finally {
      release();
      await server.close();
    }
  });
});
