import { UwsgiError, createEngine } from 'uwsgi-wasm';
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, PacketReader, decodeArray, decodeHeader, decodePacket, decodeVars, decodeVarsList, encodeArray, encodeArrayPacket, encodePacket, encodeVars, encodeVarsPacket, parsefile } from 'uwsgi-wasm/codec';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wire from '../vectors/wire.json';
import { describe, test } from 'vitest';
import { assert, throwsUwsgi, rng } from '../lib/helpers.ts';

const enc = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const cases = (wire as { cases: Array<{ name: string; direction: string; hex: string }> }).cases;
const vector = (name: string, direction = 'request') => {
  const c = cases.find((x) => x.name === name && x.direction === direction);
  if (!c) throw new Error(`no wire vector '${name}' ${direction}`);
  return hex(c.hex);
};

type RefResult = { ok: Array<[number, number, number, number]> } | { err: 'short' | 'empty' | 'many' };

/** The naive reference: a plain JS walk of a vars block, written from the spec, not from the codec. */
function refVars(b: Uint8Array, max = Infinity): RefResult {
  const out: Array<[number, number, number, number]> = [];
  let i = 0;
  while (i < b.length) {
    if (i + 2 > b.length) return { err: 'short' };
    const kl = b[i]! + b[i + 1]! * 256;
    if (kl === 0) return { err: 'empty' };
    if (i + 2 + kl > b.length) return { err: 'short' };
    const ko = i + 2;
    i = ko + kl;
    if (i + 2 > b.length) return { err: 'short' };
    const vl = b[i]! + b[i + 1]! * 256;
    if (i + 2 + vl > b.length) return { err: 'short' };
    if (out.length >= max) return { err: 'many' };
    out.push([ko, kl, i + 2, vl]);
    i += 2 + vl;
  }
  return { ok: out };
}

function refArray(b: Uint8Array, skipEmpty: boolean): { ok: Array<[number, number]> } | { err: 'short' } {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < b.length) {
    if (i + 2 > b.length) return { err: 'short' };
    const l = b[i]! + b[i + 1]! * 256;
    if (i + 2 + l > b.length) return { err: 'short' };
    if (l > 0 || !skipEmpty) out.push([i + 2, l]);
    i += 2 + l;
  }
  return { ok: out };
}

const errKind = (e: unknown): string => {
  assert.ok(e instanceof UwsgiError, `expected a UwsgiError, got ${String(e)}`);
  assert.equal(e.code, 'ERR_PROTOCOL', e.message);
  if (/runs past/.test(e.message)) return 'short';
  if (/is empty/.test(e.message)) return 'empty';
  if (/more entries/.test(e.message)) return 'many';
  return `other: ${e.message}`;
};

describe('codec', () => {
  test('header: modifier1, u16 little-endian size, modifier2', () => {
    const p = encodePacket(173, 5, new Uint8Array(300));
    assert.deepEqual(Array.from(p.subarray(0, 4)), [173, 0x2c, 0x01, 5]);
    assert.deepEqual(decodeHeader(p), { modifier1: 173, size: 300, modifier2: 5 });
    assert.deepEqual(decodeHeader(hex('64000000')), { modifier1: 100, size: 0, modifier2: 0 });
    assert.equal(text(decodePacket(encodePacket(101, 0, 'echo me')).body), 'echo me');
    throwsUwsgi(() => decodeHeader(hex('6e0000')), 'ERR_PROTOCOL', /4 bytes, got 3/);
    throwsUwsgi(() => decodeHeader(hex('00011000'), { bufferSize: 4096 }), 'ERR_PROTOCOL', /4097 bytes, over the limit of 4096/);
    assert.equal(decodeHeader(hex('00001000'), { bufferSize: 4096 }).size, 4096, 'exactly buffer-size is accepted');
    throwsUwsgi(() => decodePacket(hex('0005000061')), 'ERR_PROTOCOL', /announces 5 body bytes, only 1/);
    throwsUwsgi(() => encodePacket(256, 0), 'ERR_VALUE_RANGE', /modifier1 must be 0\.\.255/);
    throwsUwsgi(() => encodePacket(0, -1), 'ERR_VALUE_RANGE', /modifier2/);
    throwsUwsgi(() => encodePacket(0, 0, new Uint8Array(65536)), 'ERR_VALUE_RANGE', /65536 bytes/);
    throwsUwsgi(() => encodePacket(0, 0, 5 as unknown as Uint8Array), 'ERR_ARG_TYPE', /body must be a Uint8Array, got number/);
    throwsUwsgi(() => decodeHeader('abcd' as unknown as Uint8Array), 'ERR_ARG_TYPE', /bytes must be a Uint8Array/);
    assert.equal(DEFAULT_BUFFER_SIZE, 4096);
    assert.equal(MAX_BUFFER_SIZE, 65535);
  });

  test('vars: the bytes uWSGI clients send (captured cache get with a cache name)', () => {
    const got = encodeVarsPacket(111, 17, [['cmd', 'get'], ['key', 'k1'], ['cache', 'mycache']]);
    assert.equal(toHex(got), '6f230011' + '0300636d6403006765740300' + '6b657902006b3105006361636865070' + '06d796361636865');
    const remote = vector('remote cache_get hit');
    const p = decodePacket(remote);
    assert.equal(p.modifier1, 111);
    assert.equal(p.modifier2, 17);
    assert.deepEqual({ ...decodeVars(p.body) }, { cmd: 'get', key: 'k', cache: 'default' });
    assert.deepEqual(toHex(encodeVarsPacket(111, 17, decodeVars(p.body))), toHex(remote), 'round trip is byte-exact');
  });

  test('vars: duplicates and order are kept by decodeVarsList; decodeVars lets the last win', () => {
    const req = vector('remote cache_set');
    const p = decodePacket(req);
    const list = decodeVarsList(p.body);
    assert.deepEqual(list.map(([k, v]) => `${text(k)}=${text(v)}`), ['cmd=set', 'key=k', 'size=5', 'size=5', 'cache=default']);
    // The value follows the packet, outside pktsize.
    assert.equal(text(req.subarray(4 + p.size)), 'hello');
    const env = decodeVars(encodeVars([['a', '1'], ['b', ''], ['a', '2']]));
    assert.deepEqual({ ...env }, { a: '2', b: '' });
    // Inherits nothing: its prototype is empty, frozen and has no prototype itself
    // (not null: V8 keeps null-prototype objects as hash tables, 3x slower to fill).
    const proto = Object.getPrototypeOf(env) as object;
    assert.equal(Object.getPrototypeOf(proto), null);
    assert.deepEqual(Reflect.ownKeys(proto), []);
    assert.ok(Object.isFrozen(proto));
    assert.equal((env as Record<string, unknown>).toString, undefined);
    assert.equal('hasOwnProperty' in env, false);
    const protoKey = decodeVars(encodeVars([['__proto__', 'x'], ['a', '1']]));
    assert.equal(Object.getOwnPropertyDescriptor(protoKey, '__proto__')?.value, 'x', 'a key named __proto__ is just a key');
    assert.equal(Object.getPrototypeOf(protoKey), proto);
    assert.deepEqual(Object.keys(protoKey), ['__proto__', 'a']);
    assert.equal(decodeVars(encodeVars({ __proto__x: 'y', constructor: 'z' })).constructor, 'z');
  });

  test('vars: nginx uwsgi_pass packets decode to the CGI environ (GET and POST)', () => {
    const get = decodePacket(vector('nginx GET with query string'));
    assert.equal(get.modifier1, 0);
    const env = decodeVars(get.body);
    assert.equal(env.QUERY_STRING, 'a=1&b=two');
    assert.equal(env.REQUEST_METHOD, 'GET');
    assert.equal(env.PATH_INFO, '/path/x');
    assert.equal(env.CONTENT_LENGTH, '');
    const raw = vector('nginx POST with body');
    const post = decodePacket(raw);
    const penv = decodeVars(post.body);
    assert.equal(penv.CONTENT_LENGTH, '20');
    assert.equal(text(raw.subarray(4 + post.size)), 'field=value&other=42');
    // Re-encoding the decoded pairs gives back nginx's bytes exactly.
    assert.equal(toHex(encodeVars(decodeVarsList(post.body))), toHex(post.body));
  });

  test('vars: keys and values as bytes, strings as UTF-8, binary survives the list form', () => {
    const bin = Uint8Array.from([0, 255, 128, 10]);
    const block = encodeVars([[enc('k'), bin], ['clé', 'valeur é']]);
    const list = decodeVarsList(block);
    assert.deepEqual(Array.from(list[0]![1]), [0, 255, 128, 10]);
    assert.equal(decodeVars(block)['clé'], 'valeur é');
    assert.equal(decodeVars(block).k, '\u0000\ufffd\ufffd\n', 'invalid UTF-8 becomes U+FFFD in the text form');
  });

  test('vars: malformed blocks are typed errors that say where', () => {
    throwsUwsgi(() => decodeVars(hex('0000')), 'ERR_PROTOCOL', /key at byte 0 is empty/);
    throwsUwsgi(() => decodeVars(hex('01006101006200000000')), 'ERR_PROTOCOL', /key at byte 6 is empty/);
    throwsUwsgi(() => decodeVars(hex('0500616263')), 'ERR_PROTOCOL', /pair at byte 0 runs past/);
    throwsUwsgi(() => decodeVars(hex('010061')), 'ERR_PROTOCOL', /runs past/, );
    throwsUwsgi(() => decodeVars(hex('01006101')), 'ERR_PROTOCOL', /runs past/);
    throwsUwsgi(() => decodeVars(hex('0100610300')), 'ERR_PROTOCOL', /runs past/);
    throwsUwsgi(() => decodeVars(hex('01')), 'ERR_PROTOCOL', /runs past/);
    assert.deepEqual({ ...decodeVars(hex('0100610000')) }, { a: '' }, 'an empty last value is valid');
    assert.deepEqual({ ...decodeVars(new Uint8Array(0)) }, {});
    const three = encodeVars({ a: '1', b: '2', c: '3' });
    throwsUwsgi(() => decodeVars(three, { maxEntries: 2 }), 'ERR_PROTOCOL', /more entries than allowed/);
    assert.equal(Object.keys(decodeVars(three, { maxEntries: 3 })).length, 3);
    throwsUwsgi(() => decodeVars(three, { bufferSize: 10 }), 'ERR_PROTOCOL', /18 bytes, over the limit of 10/);
    throwsUwsgi(() => decodeVars(new Uint8Array(65536)), 'ERR_PROTOCOL', /65536 bytes, over the limit of 65535/);
    throwsUwsgi(() => decodeVars(three, { bufferSize: 70000 }), 'ERR_VALUE_RANGE', /bufferSize must be 0\.\.65535/);
  });

  test('vars: encoder limits (empty keys, 65535 per string, bufferSize per block)', () => {
    throwsUwsgi(() => encodeVars({ '': 'x' }), 'ERR_VALUE_RANGE', /key must not be empty/);
    throwsUwsgi(() => encodeVars([['k', 'x'.repeat(65536)]]), 'ERR_VALUE_RANGE', /value is 65536 bytes/);
    throwsUwsgi(() => encodeVars({ k: 'x'.repeat(100) }, { bufferSize: 50 }), 'ERR_VALUE_RANGE', /over 50 bytes/);
    assert.equal(encodeVars({ k: 'x'.repeat(45) }, { bufferSize: 50 }).length, 50, 'exactly the limit fits');
    throwsUwsgi(() => encodeVars({ k: 'é'.repeat(40000) }), 'ERR_VALUE_RANGE', /value is 80000 bytes/);
    throwsUwsgi(() => encodeVars({ k: 5 } as unknown as Record<string, string>), 'ERR_ARG_TYPE', /a value must be a string or Uint8Array, got number/);
    throwsUwsgi(() => encodeVars([['k']] as unknown as Array<[string, string]>), 'ERR_ARG_TYPE', /\[key, value\] pair/);
    throwsUwsgi(() => encodeVars(null as unknown as Record<string, string>), 'ERR_ARG_TYPE', /vars must be an object/);
    const big = encodeVars({ k: 'v'.repeat(65535 - 5) });
    assert.equal(big.length, 65535, 'a block of exactly 65535 bytes');
  });

  test('arrays: RPC requests as uWSGI sends them; empty items kept or skipped', () => {
    const req = vector('remote rpc');
    assert.equal(toHex(encodeArrayPacket(173, 0, ['fname', 'arg1', 'arg2'])), toHex(req));
    const p = decodePacket(req);
    assert.deepEqual(decodeArray(p.body).map(text), ['fname', 'arg1', 'arg2']);
    const spec = hex('ad100000050068656c6c6f010061000002006263');
    assert.equal(toHex(encodeArrayPacket(173, 0, ['hello', 'a', '', 'bc'])), toHex(spec));
    const body = decodePacket(spec).body;
    assert.deepEqual(decodeArray(body).map(text), ['hello', 'a', '', 'bc']);
    assert.deepEqual(decodeArray(body, { skipEmpty: true }).map(text), ['hello', 'a', 'bc']);
    throwsUwsgi(() => decodeArray(hex('0300616263'.slice(0, 8))), 'ERR_PROTOCOL', /item at byte 0 runs past/);
    throwsUwsgi(() => decodeArray(hex('01006101')), 'ERR_PROTOCOL', /item at byte 3 runs past/);
    throwsUwsgi(() => decodeArray(encodeArray(['a', 'b', 'c']), { maxEntries: 2 }), 'ERR_PROTOCOL', /more entries/);
    assert.equal(decodeArray(encodeArray(['a', '', '', 'b']), { maxEntries: 2, skipEmpty: true }).length, 2, 'skipped items do not count');
    throwsUwsgi(() => encodeArray('abc' as unknown as string[]), 'ERR_ARG_TYPE', /items must be an array/);
    throwsUwsgi(() => encodeArray([new Uint8Array(65536)]), 'ERR_VALUE_RANGE', /an item is 65536 bytes/);
    throwsUwsgi(() => encodeArray(Array.from({ length: 40000 }, () => '')), 'ERR_VALUE_RANGE', /over 65535 bytes/);
  });

  test('PacketReader: any split of the input gives the same packet; it stops at the packet end', () => {
    const raw = vector('nginx POST with body');
    const size = decodeHeader(raw).size;
    for (const cut of [1, 2, 3, 4, 5, 7, 64, 200, raw.length]) {
      const r = new PacketReader();
      let used = 0;
      let at = 0;
      while (!r.complete) {
        const chunk = raw.subarray(at, Math.min(raw.length, at + cut));
        used = r.push(chunk);
        at += used;
      }
      assert.equal(at, 4 + size, `split ${cut}: consumed exactly the packet`);
      assert.equal(r.packet().size, size);
      assert.equal(decodeVars(r.packet().body).REQUEST_METHOD, 'POST');
      assert.equal(text(raw.subarray(at)), 'field=value&other=42', 'the body stays with the caller');
    }
    const r = new PacketReader();
    assert.equal(r.header, null);
    throwsUwsgi(() => r.packet(), 'ERR_PROTOCOL', /incomplete \(0 bytes/);
    assert.equal(r.push(hex('640000')), 3);
    assert.equal(r.complete, false);
    assert.equal(r.push(hex('00ffff')), 1, 'a 0-byte body completes on its header');
    assert.deepEqual(r.packet(), { modifier1: 100, size: 0, modifier2: 0, body: new Uint8Array(0) });
    r.reset();
    assert.equal(r.received, 0);
  });

  test('PacketReader: a header over buffer-size fails at once, before any body is buffered', () => {
    const r = new PacketReader();
    assert.equal(r.bufferSize, 4096);
    throwsUwsgi(() => r.push(hex('006d1000')), 'ERR_PROTOCOL', /announces 4205 bytes, over the buffer size of 4096/);
    throwsUwsgi(() => r.push(hex('00')), 'ERR_PROTOCOL', /4205/, );
    r.reset();
    r.push(hex('00001000'));
    assert.equal(r.header?.size, 4096, 'exactly 4096 is accepted');
    const big = new PacketReader({ bufferSize: 65535 });
    big.push(hex('00ffff00'));
    assert.equal(big.header?.size, 65535);
    throwsUwsgi(() => new PacketReader({ bufferSize: 65536 }), 'ERR_VALUE_RANGE', /bufferSize/);
    throwsUwsgi(() => r.push('x' as unknown as Uint8Array), 'ERR_ARG_TYPE', /chunk must be a Uint8Array/);
  });

  test('parsefile: spool files written by uWSGI, other modifiers, missing and truncated files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'uwsgi-wasm-codec-'));
    try {
      const spools = cases.filter((c) => c.name === 'spool-file' && c.hex);
      writeFileSync(join(dir, 'a'), hex(spools[0]!.hex));
      const a = parsefile(join(dir, 'a'))!;
      assert.deepEqual(Object.fromEntries(Object.entries(a).map(([k, v]) => [k, text(v)])), { task: 'one', n: '1' });
      writeFileSync(join(dir, 'b'), hex(spools[1]!.hex));
      const b = parsefile(join(dir, 'b'))!;
      assert.deepEqual(Object.keys(b), ['task'], 'the body after the vars is not a var');
      writeFileSync(join(dir, 'req'), vector('nginx GET with query string'));
      assert.equal(text(parsefile(join(dir, 'req'))!.QUERY_STRING!), 'a=1&b=two');
      assert.equal(text(createEngine({}).uwsgi.parsefile(join(dir, 'req'))!.PATH_INFO!), '/path/x', 'also on the uwsgi object');
      writeFileSync(join(dir, 'rpc'), vector('remote rpc'));
      assert.equal(parsefile(join(dir, 'rpc')), null, 'modifier1 173 is not a vars file');
      assert.equal(parsefile(join(dir, 'missing')), null);
      writeFileSync(join(dir, 'short'), hex('11100000030061'));
      throwsUwsgi(() => parsefile(join(dir, 'short')), 'ERR_PROTOCOL', /announces 16 bytes of vars, only 3/);
      writeFileSync(join(dir, 'bad'), hex('1103000001006101'));
      throwsUwsgi(() => parsefile(join(dir, 'bad')), 'ERR_PROTOCOL', /runs past/);
      throwsUwsgi(() => parsefile(1 as unknown as string), 'ERR_ARG_TYPE', /path must be a string/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('fuzz: decoders agree with a naive reference decoder on seeded random and mutated input', () => {
    const N = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.UWSGI_FUZZ_N ?? 200_000);
    const rand = rng(0xc0dec);
    const seeds = cases.filter((c) => c.direction === 'request' && c.hex.length > 8).map((c) => decodePacket(hex(c.hex)).body);
    const pool = new Uint8Array(4096);
    let agreeOk = 0;
    let agreeErr = 0;
    for (let n = 0; n < N; n++) {
      let input: Uint8Array;
      const mode = n % 4;
      if (mode === 0) {
        // Pure noise, biased to small lengths so length fields often land in range.
        const len = Math.floor(rand() * 40);
        for (let i = 0; i < len; i++) pool[i] = rand() < 0.5 ? Math.floor(rand() * 8) : Math.floor(rand() * 256);
        input = pool.subarray(0, len);
      } else {
        // A real block, mutated: flipped bytes, truncated, or extended.
        const src = seeds[Math.floor(rand() * seeds.length)]!;
        const len = mode === 3 ? Math.floor(rand() * (src.length + 1)) : src.length;
        pool.set(src.subarray(0, len));
        input = pool.subarray(0, len);
        const flips = mode === 1 ? 1 + Math.floor(rand() * 3) : 0;
        for (let f = 0; f < flips && len > 0; f++) input[Math.floor(rand() * len)] = Math.floor(rand() * 256);
      }
      const max = rand() < 0.1 ? Math.floor(rand() * 5) : undefined;
      const want = refVars(input, max ?? Infinity);
      let got: RefResult;
      try {
        const list = decodeVarsList(input, { maxEntries: max });
        got = { ok: list.map(([k, v]) => [k.byteOffset - input.byteOffset, k.length, v.byteOffset - input.byteOffset, v.length]) };
      } catch (e) {
        got = { err: errKind(e) as 'short' };
      }
      if (JSON.stringify(got) !== JSON.stringify(want)) assert.fail(`vars mismatch on ${toHex(input)} (max ${max}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      if ('ok' in want) agreeOk++; else agreeErr++;
      const skip = (n & 8) !== 0;
      const aw = refArray(input, skip);
      let ag: { ok: Array<[number, number]> } | { err: string };
      try {
        ag = { ok: decodeArray(input, { skipEmpty: skip }).map((x) => [x.byteOffset - input.byteOffset, x.length] as [number, number]) };
      } catch (e) {
        ag = { err: errKind(e) };
      }
      if (JSON.stringify(ag) !== JSON.stringify(aw)) assert.fail(`array mismatch on ${toHex(input)}: got ${JSON.stringify(ag)}, want ${JSON.stringify(aw)}`);
    }
    assert.ok(agreeOk > N / 20 && agreeErr > N / 20, `both outcomes exercised (${agreeOk} valid, ${agreeErr} invalid)`);
  }, 600_000);

  test('fuzz: encode then decode is the identity for seeded random vars and arrays', () => {
    const rand = rng(7);
    const str = () => {
      const len = Math.floor(rand() ** 3 * 300);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(rand() * 256);
      return b;
    };
    for (let n = 0; n < 2000; n++) {
      const pairs: Array<[Uint8Array, Uint8Array]> = [];
      const count = Math.floor(rand() * 20);
      for (let i = 0; i < count; i++) {
        let k = str();
        if (k.length === 0) k = Uint8Array.of(1 + Math.floor(rand() * 255));
        pairs.push([k, str()]);
      }
      const block = encodeVars(pairs);
      assert.deepEqual(decodeVarsList(block).map(([k, v]) => [toHex(k), toHex(v)]), pairs.map(([k, v]) => [toHex(k), toHex(v)]));
      const items = pairs.flat();
      assert.deepEqual(decodeArray(encodeArray(items)).map(toHex), items.map(toHex));
      const r = new PacketReader({ bufferSize: 65535 });
      const pkt = encodeArrayPacket(173, n & 255, items);
      let at = 0;
      while (!r.complete) at += r.push(pkt.subarray(at, at + 1 + Math.floor(rand() * 50)));
      assert.equal(at, pkt.length);
      assert.equal(r.packet().modifier2, n & 255);
      assert.deepEqual(decodeArray(r.packet().body).map(toHex), items.map(toHex));
    }
  });
});
