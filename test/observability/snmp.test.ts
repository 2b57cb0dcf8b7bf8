import { createEngine, run, type Uwsgi } from 'uwsgi-wasm';
import { SnmpResponder, engineSnmpSource, type SnmpSource } from 'uwsgi-wasm/stats';
import * as dgram from 'node:dgram';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi, untilAtLeast } from '../lib/helpers.ts';

const unhex = (h: string) => Uint8Array.from(h.replace(/\s+/g, '').match(/../g) ?? [], (b) => parseInt(b, 16));
const hex = (u: Uint8Array | null) => (u ? Array.from(u, (b) => b.toString(16).padStart(2, '0')).join(' ') : 'null');

function engine(): Uwsgi { return createEngine({}).uwsgi; }

describe('snmp slots', () => {
  test('set each type, read back as the agent serves it; unset slots are null', () => {
    const u = engine();
    assert.equal(u.snmp_set_counter32(1, 100), true);
    assert.equal(u.snmp_set_counter64(2, 2n ** 40n), true);
    assert.equal(u.snmp_set_gauge(3, 77), true);
    assert.equal(u.snmp_set_counter32(100, 0), true);
    assert.deepEqual(u.snmp.get(1), { type: 'counter32', value: 100n });
    assert.deepEqual(u.snmp.get(2), { type: 'counter64', value: 2n ** 40n });
    assert.deepEqual(u.snmp.get(3), { type: 'gauge32', value: 77n });
    assert.deepEqual(u.snmp.get(100), { type: 'counter32', value: 0n });
    assert.deepEqual(u.snmp.get(4), { type: null, value: 0n });
  });

  test('incr and decr default to 1, take an amount, and (re)set the type', () => {
    const u = engine();
    assert.equal(u.snmp_incr_counter32(4), true);
    u.snmp_incr_counter32(4, 5);
    u.snmp_decr_counter32(4);
    assert.deepEqual(u.snmp.get(4), { type: 'counter32', value: 5n });
    u.snmp_incr_counter64(5, 7);
    u.snmp_decr_counter64(5, 2n);
    assert.deepEqual(u.snmp.get(5), { type: 'counter64', value: 5n });
    u.snmp_incr_gauge(6);
    u.snmp_incr_gauge(6, 9);
    u.snmp_decr_gauge(6, 4);
    assert.deepEqual(u.snmp.get(6), { type: 'gauge32', value: 6n });
    // incr as another type keeps the value and switches the type, as uWSGI does.
    u.snmp_incr_counter64(6);
    assert.deepEqual(u.snmp.get(6), { type: 'counter64', value: 7n });
  });

  test('counters wrap upwards modulo 2^32 / 2^64; a gauge or a decrement never wraps', () => {
    const u = engine();
    u.snmp_set_counter32(1, 0xffffffff);
    u.snmp_incr_counter32(1, 2);
    assert.deepEqual(u.snmp.get(1), { type: 'counter32', value: 1n });
    u.snmp_set_counter64(2, 2n ** 64n - 1n);
    u.snmp_incr_counter64(2, 3);
    assert.deepEqual(u.snmp.get(2), { type: 'counter64', value: 2n });
    u.snmp_set_counter64(2, 2n ** 63n);
    u.snmp_incr_counter64(2, 2n ** 64n - 1n);
    assert.deepEqual(u.snmp.get(2), { type: 'counter64', value: 2n ** 63n - 1n }, 'a full-width 64-bit amount');
    u.snmp_set_gauge(3, 0xfffffffe);
    u.snmp_incr_gauge(3);
    throwsUwsgi(() => u.snmp_incr_gauge(3), 'ERR_VALUE_RANGE', /snmp_incr_gauge: slot 3 holds 4294967295; adding 1 would leave the Gauge32 range/);
    assert.deepEqual(u.snmp.get(3), { type: 'gauge32', value: 0xffffffffn }, 'a refused change leaves the slot alone');
    u.snmp_set_gauge(3, 1);
    throwsUwsgi(() => u.snmp_decr_gauge(3, 2), 'ERR_VALUE_RANGE', /subtracting 2/);
    u.snmp_set_counter32(1, 0);
    throwsUwsgi(() => u.snmp_decr_counter32(1), 'ERR_VALUE_RANGE', /counter below zero/);
    throwsUwsgi(() => u.snmp_decr_counter64(7), 'ERR_VALUE_RANGE');
    assert.deepEqual(u.snmp.get(7), { type: null, value: 0n }, 'a refused decrement does not set the type');
    // A 32-bit operation on a slot holding a larger Counter64 acts on its low 32 bits.
    u.snmp_set_counter64(8, 2n ** 40n + 5n);
    u.snmp_incr_counter32(8);
    assert.deepEqual(u.snmp.get(8), { type: 'counter32', value: 6n });
  });

  test('values outside the type are ERR_VALUE_RANGE (uWSGI stores them modulo the width)', () => {
    const u = engine();
    throwsUwsgi(() => u.snmp_set_counter32(1, 2 ** 32 + 5), 'ERR_VALUE_RANGE', /snmp_set_counter32: value 4294967301 does not fit a Counter32/);
    throwsUwsgi(() => u.snmp_set_gauge(1, -1), 'ERR_VALUE_RANGE', /Gauge32/);
    throwsUwsgi(() => u.snmp_set_counter64(1, 2n ** 64n + 1n), 'ERR_VALUE_RANGE', /Counter64/);
    throwsUwsgi(() => u.snmp_set_counter64(1, -1n), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.snmp_incr_counter32(1, 2 ** 32), 'ERR_VALUE_RANGE', /amount/);
    throwsUwsgi(() => u.snmp_incr_gauge(1, -3), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => u.snmp_set_counter64(1, 2 ** 60), 'ERR_VALUE_RANGE', /not a safe integer; pass a bigint/);
    assert.deepEqual(u.snmp.get(1), { type: null, value: 0n });
  });

  test('bad slot numbers, types and counts are typed errors', () => {
    const u = engine();
    const any = u as unknown as Record<string, (...a: unknown[]) => unknown>;
    throwsUwsgi(() => u.snmp_set_counter32(0, 1), 'ERR_NOT_FOUND', /snmp_set_counter32: oidnum 0 is not a slot \(slots are 1\.\.100\)/);
    throwsUwsgi(() => u.snmp_set_counter32(101, 1), 'ERR_NOT_FOUND');
    throwsUwsgi(() => u.snmp_incr_gauge(255), 'ERR_NOT_FOUND');
    throwsUwsgi(() => u.snmp_set_counter64(256, 1), 'ERR_VALUE_RANGE', /oidnum 256 is outside 1\.\.100/);
    throwsUwsgi(() => u.snmp_set_gauge(-1, 1), 'ERR_VALUE_RANGE');
    throwsUwsgi(() => any.snmp_set_counter32('1', 1), 'ERR_ARG_TYPE', /oidnum must be an integer, got string/);
    throwsUwsgi(() => any.snmp_set_counter32(1.5, 1), 'ERR_ARG_TYPE', /got 1\.5/);
    throwsUwsgi(() => any.snmp_set_counter32(1, 1.5), 'ERR_ARG_TYPE', /value must be an integer or bigint, got 1\.5/);
    throwsUwsgi(() => any.snmp_incr_counter32(1, '2'), 'ERR_ARG_TYPE', /amount/);
    throwsUwsgi(() => any.snmp_set_gauge(1), 'ERR_ARG_COUNT', /snmp_set_gauge\(\) takes exactly 2 arguments \(1 given\)/);
    throwsUwsgi(() => any.snmp_incr_counter32(), 'ERR_ARG_COUNT', /takes at least 1 argument \(0 given\)/);
    throwsUwsgi(() => any.snmp_decr_gauge(1, 2, 3), 'ERR_ARG_COUNT');
    throwsUwsgi(() => any.snmp_set_community(), 'ERR_ARG_COUNT');
    throwsUwsgi(() => any.snmp_set_community(5), 'ERR_ARG_TYPE', /community must be a string or Uint8Array, got number/);
  });

  test('community: set, read, 72 bytes at most (uWSGI truncates), empty answers nobody', () => {
    const u = engine();
    assert.equal(u.snmp.community().length, 0);
    assert.equal(u.snmp_set_community('public'), true);
    assert.equal(new TextDecoder().decode(u.snmp.community()), 'public');
    u.snmp_set_community('x'.repeat(72));
    assert.equal(u.snmp.community().length, 72);
    throwsUwsgi(() => u.snmp_set_community('x'.repeat(73)), 'ERR_VALUE_RANGE', /73 bytes; at most 72/);
    assert.equal(u.snmp.community().length, 72, 'a refused community leaves the old one');
    u.snmp_set_community('');
    assert.equal(u.snmp.community().length, 0);
    const e = createEngine({ 'snmp-community': 'from-options' }).uwsgi;
    assert.equal(new TextDecoder().decode(e.snmp.community()), 'from-options');
    throwsUwsgi(() => createEngine({ 'snmp-community': 'y'.repeat(73) }), 'ERR_OPTION', /at most 72 bytes/);
  });

  test('every thread sees the same slots (shared memory)', () => {
    const eng = createEngine({});
    const w1 = eng.attach('worker', 1);
    const w2 = eng.attach('worker', 2);
    for (let i = 0; i < 1000; i++) { w1.snmp_incr_counter64(9); w2.snmp_incr_counter64(9, 2); }
    assert.deepEqual(eng.uwsgi.snmp.get(9), { type: 'counter64', value: 3000n });
    w2.snmp_set_community('shared');
    assert.equal(new TextDecoder().decode(w1.snmp.community()), 'shared');
  });
});

describe('snmp slots across threads', () => {
  test('worker threads incrementing the same slots at once lose no update', async () => {
    const master = await run({ options: { workers: 3, sharedarea: 1 }, app: 'build/tests/fixtures/snmp-incr.js', handleSignals: false });
    try {
      await master.ready();
      const view = master.uwsgi.sharedarea(0).view();
      const words = new Int32Array(view.buffer, view.byteOffset, 4);
      const n = 20_000;
      Atomics.store(words, 2, n);
      Atomics.store(words, 0, 1);
      Atomics.notify(words, 0);
      await untilAtLeast(words, 1, 3);
      assert.deepEqual(master.uwsgi.snmp.get(1), { type: 'counter64', value: BigInt(3 * n) });
      assert.deepEqual(master.uwsgi.snmp.get(2), { type: 'counter32', value: BigInt(9 * n) });
    } finally {
      await master.stop();
    }
  }, 60_000);
});

// ---- the agent's answers (no socket) -------------------------------------------------

/** A v1/v2c request in uWSGI's form: one varbind, short-form lengths. */
function request(version: number, community: string, pdu: number, oidTail: number[], reqId = [0x12, 0x34, 0x56, 0x78], field2 = 0, field3 = 0): Uint8Array {
  const c = new TextEncoder().encode(community);
  const oid = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x92, 0x54, 0x11, ...oidTail];
  const vb = [0x30, oid.length + 4, 0x06, oid.length, ...oid, 0x05, 0x00];
  const list = [0x30, vb.length, ...vb];
  const body = [0x02, reqId.length, ...reqId, 0x02, 0x01, field2, 0x02, 0x01, field3, ...list];
  const msg = [0x02, 0x01, version, 0x04, c.length, ...c, pdu, body.length, ...body];
  return Uint8Array.from([0x30, msg.length, ...msg]);
}

function responder(u: Uwsgi, workers = 2): SnmpResponder {
  const requests = [63n - 35n, 35n];
  return new SnmpResponder(engineSnmpSource(createEngineFor(u), {
    threads: () => Array.from({ length: workers }, (_, i) => ({ kind: 'worker' as const, ident: i + 1, tid: i + 1, state: 'running' as const, spawnedAt: 0, spawns: 1 })),
    workerCounters: (id) => ({ requests: requests[id - 1] }),
  }));
}
// engineSnmpSource needs an Engine; the tests keep the engine next to its module object.
const engines = new WeakMap<Uwsgi, ReturnType<typeof createEngine>>();
function withEngine(opts = {}): Uwsgi { const e = createEngine(opts); engines.set(e.uwsgi, e); return e.uwsgi; }
function createEngineFor(u: Uwsgi): ReturnType<typeof createEngine> { return engines.get(u)!; }

describe('snmp agent answers', () => {
  test("Get answers are uWSGI's bytes (the recorded vectors of spec/snmp.md)", () => {
    const u = withEngine();
    u.snmp_set_community('mycomm');
    u.snmp_set_counter32(1, 100);
    u.snmp_set_counter64(2, 2n ** 40n);
    u.snmp_set_gauge(3, 77);
    const r = responder(u);
    assert.equal(hex(r.respond(request(1, 'mycomm', 0xa0, [0x02, 0x01]))), hex(unhex(`30 30 02 01 01 04 06 6d 79 63 6f 6d 6d a2 23 02 04 12 34 56 78 02 01 00 02 01 00
      30 15 30 13 06 0b 2b 06 01 04 01 82 92 54 11 02 01 41 04 00 00 00 64`)));
    assert.match(hex(r.respond(request(1, 'mycomm', 0xa0, [0x02, 0x02]))), /06 0b 2b 06 01 04 01 82 92 54 11 02 02 46 08 00 00 01 00 00 00 00 00$/);
    assert.match(hex(r.respond(request(1, 'mycomm', 0xa0, [0x02, 0x03]))), /11 02 03 42 04 00 00 00 4d$/);
    assert.match(hex(r.respond(request(1, 'mycomm', 0xa0, [0x01, 0x01]))), /11 01 01 46 08 00 00 00 00 00 00 00 3f$/, '.1.1: total requests (28 + 35)');
    assert.match(hex(r.respond(request(0, 'mycomm', 0xa0, [0x01, 31]))), /11 01 1f 46 08 00 00 00 00 00 00 00 1c$/, '.1.31: worker 1');
    // An unset slot or an unassigned .1.x: the request echoed with 0xA2, as uWSGI.
    const unset = request(1, 'mycomm', 0xa0, [0x02, 0x05]);
    const want = unset.slice(); want[13] = 0xa2;
    assert.equal(hex(r.respond(unset)), hex(want));
    const unassigned = request(1, 'mycomm', 0xa0, [0x01, 0x02], [0x01]);
    const want2 = unassigned.slice(); want2[13] = 0xa2;
    assert.equal(hex(r.respond(unassigned)), hex(want2), 'one-byte request id');
    // A value with the high bit set keeps uWSGI's fixed 4 bytes.
    u.snmp_set_counter32(4, 0xfffffffe);
    assert.match(hex(r.respond(request(1, 'mycomm', 0xa0, [0x02, 0x04]))), /41 04 ff ff ff fe$/);
  });

  test('unknown OIDs: v1 noSuchName with the index, v2c noSuchObject / noSuchInstance', () => {
    const u = withEngine();
    u.snmp_set_community('c');
    const r = responder(u);
    // v1 .2.101: GetResponse, error-status 2 (noSuchName), error-index 1, varbind echoed.
    const v1 = r.respond(request(0, 'c', 0xa0, [0x02, 101]))!;
    assert.match(hex(v1), /a2 .. 02 04 12 34 56 78 02 01 02 02 01 01 30/);
    assert.match(hex(r.respond(request(1, 'c', 0xa0, [0x02, 101]))), /11 02 65 81 00$/, 'v2c .2.101: noSuchInstance');
    assert.match(hex(r.respond(request(1, 'c', 0xa0, [0x02, 0]))), /11 02 00 81 00$/, 'v2c .2.0: noSuchInstance');
    assert.match(hex(r.respond(request(1, 'c', 0xa0, [0x03, 0x01]))), /11 03 01 80 00$/, 'v2c .3.1: noSuchObject');
    assert.match(hex(r.respond(request(1, 'c', 0xa0, [0x02, 0x01, 0x00]))), /11 02 01 00 81 00$/, 'v2c .2.1.0: noSuchInstance');
    assert.match(hex(r.respond(request(0, 'c', 0xa0, [0x03]))), /02 01 02 02 01 01 30/, 'v1 .3: noSuchName');
  });

  test('GetNext walks the set slots in OID order; past the end v1 noSuchName, v2c endOfMibView', () => {
    const u = withEngine();
    u.snmp_set_community('c');
    u.snmp_set_gauge(7, 1);
    u.snmp_set_counter32(3, 2);
    const r = responder(u, 1);
    const walk: string[] = [];
    let oidTail = [0x01, 0x00];
    for (let i = 0; i < 10; i++) {
      const res = r.respond(request(1, 'c', 0xa1, oidTail))!;
      const h = hex(res);
      if (h.endsWith('82 00')) { walk.push('end'); break; }
      const m = /06 0b 2b 06 01 04 01 82 92 54 11 (..) (..) (..)/.exec(h)!;
      walk.push(`${parseInt(m[1], 16)}.${parseInt(m[2], 16)}:${m[3]}`);
      oidTail = [parseInt(m[1], 16), parseInt(m[2], 16)];
    }
    assert.deepEqual(walk, ['1.1:46', '1.31:46', '2.3:41', '2.7:42', 'end']);
    assert.match(hex(r.respond(request(0, 'c', 0xa1, [0x02, 0x07]))), /02 01 02 02 01 01 30/, 'v1: noSuchName at the end');
    // From outside the tree: the first object.
    const first = hex(r.respond(request(1, 'c', 0xa1, [])));
    assert.match(first, /11 01 01 46 08/);
  });

  test('GetBulk (v2c) returns max-repetitions objects; Set is refused read-only', () => {
    const u = withEngine();
    u.snmp_set_community('c');
    for (let i = 1; i <= 5; i++) u.snmp_set_counter32(i, i);
    const r = responder(u, 0);
    // non-repeaters 0, max-repetitions 3
    const bulk = request(1, 'c', 0xa5, [0x02, 0x00], [0x01], 0, 3);
    const got = [...hex(r.respond(bulk)).matchAll(/11 02 (..) 41 04 00 00 00 (..)/g)].map((m) => `${m[1]}=${m[2]}`);
    assert.deepEqual(got, ['01=01', '02=02', '03=03']);
    assert.equal(r.respond(request(0, 'c', 0xa5, [0x02, 0x00])), null, 'GetBulk is not SNMPv1');
    assert.match(hex(r.respond(request(1, 'c', 0xa3, [0x02, 0x01]))), /a2 .. 02 04 12 34 56 78 02 01 11 02 01 01/, 'v2c Set: notWritable (17)');
    assert.match(hex(r.respond(request(0, 'c', 0xa3, [0x02, 0x01]))), /a2 .. 02 04 12 34 56 78 02 01 02 02 01 01/, 'v1 Set: noSuchName');
  });

  test('a wrong or unset community, SNMPv3 and non-request PDUs get no answer', () => {
    const u = withEngine();
    const r = responder(u);
    assert.equal(r.respond(request(1, 'public', 0xa0, [0x02, 0x01])), null, 'no community set: nobody is answered');
    u.snmp_set_community('public');
    assert.ok(r.respond(request(1, 'public', 0xa0, [0x02, 0x01])));
    assert.equal(r.respond(request(1, 'Public', 0xa0, [0x02, 0x01])), null);
    assert.equal(r.respond(request(1, 'publi', 0xa0, [0x02, 0x01])), null);
    assert.equal(r.respond(request(3, 'public', 0xa0, [0x02, 0x01])), null, 'v3');
    assert.equal(r.respond(request(1, 'public', 0xa2, [0x02, 0x01])), null, 'a response');
    assert.equal(r.respond(request(1, 'public', 0xa7, [0x02, 0x01])), null, 'a trap');
  });

  test('fuzz: random and mutated datagrams never throw, and every answer is a well-formed response', () => {
    const u = withEngine();
    u.snmp_set_community('public');
    u.snmp_set_counter64(1, 5n);
    const r = responder(u);
    let seed = 0x9e3779b9;
    const rnd = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) / 2 ** 32; };
    const seeds = [request(1, 'public', 0xa0, [0x02, 0x01]), request(0, 'public', 0xa1, [0x01, 0x01]), request(1, 'public', 0xa5, [0x02, 0x00])];
    let answered = 0;
    for (let i = 0; i < 20000; i++) {
      let d: Uint8Array;
      const base = seeds[i % seeds.length];
      const kind = i % 4;
      if (kind === 0) d = Uint8Array.from({ length: Math.floor(rnd() * 140) }, () => Math.floor(rnd() * 256));
      else if (kind === 1) { d = base.slice(); for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) d[Math.floor(rnd() * d.length)] = Math.floor(rnd() * 256); }
      else if (kind === 2) d = base.slice(0, Math.floor(rnd() * base.length));
      else { d = new Uint8Array(base.length + 1 + Math.floor(rnd() * 8)); d.set(base); for (let k = base.length; k < d.length; k++) d[k] = Math.floor(rnd() * 256); d[1] = Math.min(0x7f, d.length - 2); }
      const out = r.respond(d);
      if (out) {
        answered++;
        assert.equal(out[0], 0x30, 'a SEQUENCE');
        assert.ok(out.includes(0xa2), 'a GetResponse');
        // The answer parses as a message of its own length.
        const len = out[1] & 0x80 ? (out[1] & 0x7f) === 1 ? out[2] + 3 : (out[2] << 8 | out[3]) + 4 : out[1] + 2;
        assert.equal(len, out.length);
      }
    }
    assert.ok(answered > 100, `some mutated requests are still valid and answered (${answered})`);
  });
});

// ---- the UDP agent of a master -------------------------------------------------------

function udpAsk(port: number, data: Uint8Array, timeoutMs = 1500): Promise<Uint8Array | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(null); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(new Uint8Array(m)); });
    s.send(data, port, '127.0.0.1');
  });
}

describe('snmp agent over UDP', () => {
  test('the master answers on --snmp; a value set by a worker thread is served; garbage does not stop it', async () => {
    const master = await run({ options: { workers: 1, snmp: '127.0.0.1:0', 'snmp-community': 'public' }, app: 'build/tests/fixtures/forever.js', handleSignals: false });
    try {
      const port = master.services.snmp!.port;
      assert.ok(port > 0);
      const w = master.engine.attach('worker', 9);
      w.snmp_set_counter32(1, 100);
      const res = await udpAsk(port, request(1, 'public', 0xa0, [0x02, 0x01]));
      assert.match(hex(res), /41 04 00 00 00 64$/);
      assert.equal(await udpAsk(port, request(1, 'nope', 0xa0, [0x02, 0x01]), 300), null, 'bad community: silence');
      for (const junk of [new Uint8Array(0), Uint8Array.of(0x30), Uint8Array.of(0x30, 0x84, 0xff, 0xff, 0xff, 0xff), new Uint8Array(2000).fill(0x30)]) {
        assert.equal(await udpAsk(port, junk, 200), null);
      }
      assert.match(hex(await udpAsk(port, request(1, 'public', 0xa0, [0x02, 0x01]))), /41 04 00 00 00 64$/, 'still answering');
    } finally {
      await master.stop();
    }
    throwsUwsgi(() => createEngine({ snmp: 'nohost' }), 'ERR_OPTION', /option 'snmp' expected host:port/);
  }, 30_000);
});
