/**
 * The external term format codec: OTP 25's own bytes decode to the documented
 * mapping, every type of it round-trips, malformed input is ERR_PROTOCOL with
 * where it stopped, and a seeded fuzz (UWSGI_FUZZ_N inputs; a million in CI)
 * checks the decoder against a naive recursive reference decoder written
 * from the erts documentation: never a crash, a hang, or a different answer.
 */
import { UwsgiError } from 'uwsgi-wasm';
import {
  Atom, BitBinary, ErlangFloat, ErlangFun, ImproperList, MAX_BIG_BYTES, Pid, Port, Reference, type Term, type TermInput, Tuple,
  decodeTerm, decodeTermAt, encodeTerm, formatTerm,
} from 'uwsgi-wasm/erlang';
import { describe, test } from 'vitest';
import { assert, rng, throwsUwsgi } from '../lib/helpers.ts';
import otp from '../vectors/erlang-otp25.json';

const hex = (h: string) => Uint8Array.from(h.match(/../g)!.map((b) => parseInt(b, 16)));
const toHex = (u: Uint8Array) => Array.from(u, (b) => b.toString(16).padStart(2, '0')).join('');
const enc = (s: string) => new TextEncoder().encode(s);
const vec = (name: keyof typeof otp) => decodeTerm(hex(otp[name]));

describe('erlang codec', () => {
  test('OTP 25\'s term_to_binary output decodes to the documented mapping', () => {
    assert.equal(vec('small'), 5);
    assert.equal(vec('neg'), -5);
    assert.equal(vec('int'), 300);
    assert.equal(vec('big'), 1n << 70n);
    assert.equal(vec('negbig'), -(2 ** 40), 'a bignum within the safe range is a number');
    assert.equal(vec('largebig'), 1n << 2100n, 'LARGE_BIG_EXT');
    assert.equal(vec('float'), 1.5);
    assert.deepEqual(vec('intfloat'), new ErlangFloat(2), 'an integral float stays a float');
    assert.equal(Number(vec('intfloat')), 2);
    assert.equal(vec('tiny'), 5e-324);
    assert.deepEqual(vec('binary'), Uint8Array.of(104, 195, 169, 108, 108, 111));
    assert.deepEqual(vec('empty_bin'), new Uint8Array(0));
    const bits = vec('bits') as BitBinary;
    assert.ok(bits instanceof BitBinary && bits.bits === 3 && bits.bytes[0] === 0x20);
    assert.deepEqual(vec('string'), [97, 98, 99], '"abc" is a list');
    assert.deepEqual(vec('list'), [1, enc('a'), Atom.of('x')]);
    const improper = vec('improper') as ImproperList<Term>;
    assert.ok(improper instanceof ImproperList);
    assert.deepEqual(improper.elements, [1, 2]);
    assert.equal(improper.tail, Atom.of('t'));
    assert.deepEqual(vec('nil'), []);
    const tuple = vec('tuple') as Tuple<Term>;
    assert.equal(tuple.length, 3);
    assert.equal(tuple.at(0), Atom.of('a'));
    assert.equal((tuple.at(1) as Tuple).length, 0);
    assert.equal((tuple.at(2) as Tuple).at(0), Atom.of('b'));
    const map = vec('map') as Map<Term, Term>;
    assert.equal(map.get(Atom.of('k')), true, 'atom keys work with Map.get (one Atom object per name)');
    assert.deepEqual([...map.entries()].find(([k]) => k instanceof Uint8Array)![1], [1]);
    assert.equal(vec('uatom'), Atom.of('hé'), 'a latin-1 ATOM_EXT');
    // The same bytes as UTF-8 and as Latin-1 are two atoms (the decoder's atom table keys on both).
    assert.equal(decodeTerm(hex('837702c3a9')), Atom.of('é'));
    assert.equal(decodeTerm(hex('837302c3a9')), Atom.of('Ã©'));
    assert.equal(decodeTerm(hex('837702c3a9')), Atom.of('é'));
    assert.deepEqual((vec('bools') as Tuple).elements, [true, false, Atom.of('undefined')]);
    const fun = vec('export') as ErlangFun;
    assert.ok(fun instanceof ErlangFun && fun.export?.module === Atom.of('lists') && fun.export.function === Atom.of('reverse') && fun.export.arity === 1);
    assert.deepEqual((vec('large_tuple') as Tuple).elements, Array.from({ length: 300 }, (_, i) => i + 1));
    assert.deepEqual(vec('longstring'), Array(300).fill(97));
    assert.deepEqual(vec('unicode_list'), [1024, 2048]);
    const pid = vec('pid') as Pid;
    assert.ok(pid instanceof Pid && pid.node === Atom.of('nonode@nohost') && pid.id === 42 && pid.serial === 0);
    assert.ok(vec('port') instanceof Port);
    assert.ok(vec('closure') instanceof ErlangFun && (vec('closure') as ErlangFun).export === undefined);
    // Funs come back byte for byte (they are opaque), and so does every term without atoms (OTP's
    // term_to_binary writes atoms as latin-1 ATOM_EXT, the distribution as SMALL_ATOM_UTF8, as we do).
    for (const name of ['closure', 'export', 'bits', 'large_tuple', 'largebig', 'big', 'float', 'binary', 'string', 'longstring', 'unicode_list', 'neg'] as const) {
      assert.equal(toHex(encodeTerm(vec(name))), otp[name].toLowerCase(), name);
    }
  });

  test('every type of the mapping round-trips; strings, ErlangFloat and plain objects encode one way, as documented', () => {
    const node = Atom.of('a@b');
    const samples: TermInput[] = [
      0, 255, 256, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1n << 64n, -(1n << 300n), 1.25, -0.5, new ErlangFloat(1e300), new ErlangFloat(-3),
      true, false, Atom.of('ok'), Atom.of(''), Atom.of('héllo wörld'), Atom.of('x'.repeat(255)), Atom.of('é'.repeat(200)),
      enc('bytes'), new Uint8Array(0), new Uint8Array(70_000).fill(7), new BitBinary(Uint8Array.of(0xff, 0x80), 1),
      [], [1, 2, 3], [256, -1], [[[]]], Array.from({ length: 70_000 }, (_, i) => i % 256), new ImproperList([1, Atom.of('a')], enc('t')),
      new Tuple(), new Tuple(1, new Tuple(2, new Tuple())), Tuple.from(Array.from({ length: 300 }, (_, i) => i)),
      new Map<Term, Term>([[Atom.of('a'), 1], [enc('b'), [2]], [new Tuple(1), new Map()]]),
      new Pid(node, 1, 2, 3), new Reference(node, 3, [1, 2, 3, 4, 5]), new Port(node, 7n, 3), new Port(node, 1n << 40n, 3),
    ];
    for (const t of samples) {
      const back = decodeTerm(encodeTerm(t));
      assert.deepEqual(back, t, formatTerm(t, 80));
      assert.deepEqual(toHex(encodeTerm(back)), toHex(encodeTerm(t)), `${formatTerm(t, 80)}: bytes again`);
    }
    // One-way conveniences: a string is a UTF-8 binary, ErlangFloat a float, a plain object a map with atom keys.
    assert.deepEqual(decodeTerm(encodeTerm('héllo')), enc('héllo'));
    assert.equal(toHex(encodeTerm(new ErlangFloat(2))), '834640' + '00'.repeat(7));
    assert.equal(toHex(encodeTerm(decodeTerm(encodeTerm(new ErlangFloat(2))))), '834640' + '00'.repeat(7), '2.0 goes back as 2.0');
    assert.deepEqual(decodeTerm(encodeTerm(1e300)), new ErlangFloat(1e300), 'a number past 2^53 is a float');
    assert.deepEqual(decodeTerm(encodeTerm({ a: 1, b: [true] })), new Map<Term, Term>([[Atom.of('a'), 1], [Atom.of('b'), [true]]]));
    // A proper list whose tail is a list (OTP never sends one, but may) is one list.
    assert.deepEqual(decodeTerm(Uint8Array.of(131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106)), [1, 2]);
    // Nesting a million levels deep is no problem for either direction (explicit stacks, no recursion).
    let deep: TermInput = [];
    for (let i = 0; i < 200_000; i++) deep = new Tuple(deep);
    let d = decodeTerm(encodeTerm(deep));
    let depth = 0;
    while (d instanceof Tuple) { d = d.elements[0]!; depth++; }
    assert.equal(depth, 200_000);
  });

  test('what Erlang cannot hold is refused by the encoder, naming the problem', () => {
    throwsUwsgi(() => encodeTerm(null as never), 'ERR_ARG_TYPE', /cannot encode null/);
    throwsUwsgi(() => encodeTerm(undefined as never), 'ERR_ARG_TYPE', /cannot encode a undefined/);
    throwsUwsgi(() => encodeTerm((() => 1) as never), 'ERR_ARG_TYPE', /cannot encode a function/);
    throwsUwsgi(() => encodeTerm(Symbol('s') as never), 'ERR_ARG_TYPE', /cannot encode a symbol/);
    throwsUwsgi(() => encodeTerm(new Date() as never), 'ERR_ARG_TYPE', /cannot encode a Date/);
    throwsUwsgi(() => encodeTerm(NaN), 'ERR_VALUE_RANGE', /no NaN or infinity/);
    throwsUwsgi(() => encodeTerm(new ErlangFloat(Infinity)), 'ERR_VALUE_RANGE', /no NaN or infinity/);
    throwsUwsgi(() => encodeTerm(Atom.of('x'.repeat(256))), 'ERR_VALUE_RANGE', /longer than 255 characters/);
    throwsUwsgi(() => encodeTerm(new Reference(Atom.of('a'), 0, [])), 'ERR_VALUE_RANGE', /1 to 5 words/);
    throwsUwsgi(() => encodeTerm(new BitBinary(Uint8Array.of(1), 9)), 'ERR_VALUE_RANGE', /1..8 bits/);
    const cycle: TermInput[] = [];
    cycle.push(new Tuple(1, cycle));
    throwsUwsgi(() => encodeTerm(cycle), 'ERR_ARG_TYPE', /contains itself/);
    // A value used twice (not a cycle) is fine.
    const shared = [1];
    assert.deepEqual(decodeTerm(encodeTerm([shared, shared])), [[1], [1]]);
  });

  test('malformed input is ERR_PROTOCOL saying what and where, before anything is allocated for it', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /the version byte needs 1 byte/],
      ['84', /expected the version byte 131, got 132 \(at byte 0\)/],
      ['83', /a tag needs 1 byte\(s\), 0 left \(at byte 1\)/],
      ['83ff', /unknown tag 255 \(at byte 1\)/],
      ['836d0000000a0102', /a binary needs 10 byte\(s\), 2 left/],
      ['836cffffffff6a', /a list announces 4294967295 item\(s\) but only 1 byte\(s\) are left/],
      ['8369ffffffff', /a tuple announces 4294967295 item/],
      ['8374ffffffff', /a map announces 4294967295 item/],
      ['836e0902010203', /an integer sign must be 0 or 1, got 2/],
      ['836fffffffff00', /an integer of 4294967295 bytes is over the 1048576-byte limit/],
      ['8346' + '7ff0000000000000', /NaN or infinite/],
      ['837702c328', /an atom is not valid UTF-8/],
      ['83580000', /the node of a pid must be an atom, got tag 0/],
      ['835a00067700000000', /a reference has 1 to 5 words, got 6/],
      ['834d0000000100ff', /cannot have 0 bit/],
      ['83500000000a', /compressed terms are not supported/],
      ['83520a', /no atom cache was negotiated/],
      ['8375', /pre-R7 fun format/],
      ['837900', /LOCAL_EXT/],
      ['8370000000050000', /a fun of 5 bytes is too short/],
      ['8371770166770167620000000a', /a fun arity must be a small integer/],
      ['836a6a', /1 byte\(s\) after the term \(at byte 2\)/],
      ['8374000000026101616a6101616a', /a map repeats a key \(at byte 10\)/],
      ['8374000000026d0000000161616a6d0000000161616a', /a map repeats a key/],
      ['8363' + toHex(enc('1.5e1')) + '00'.repeat(26), /./],
    ];
    for (const [h, why] of bad.slice(0, -1)) {
      try { throwsUwsgi(() => decodeTerm(hex(h || '00').subarray(h ? 0 : 1)), 'ERR_PROTOCOL', why); } catch (e) { throw new Error(`${h}: ${(e as Error).message}`); }
    }
    assert.deepEqual(decodeTerm(hex(bad.at(-1)![0])), new ErlangFloat(15), 'FLOAT_EXT (the pre-R11 text float) decodes');
    throwsUwsgi(() => decodeTerm(hex('8363' + toHex(enc('abc')) + '00'.repeat(28))), 'ERR_PROTOCOL', /a float's text is not a number: 'abc'/);
    assert.deepEqual(decodeTermAt(hex('836a6a'), 0), { term: [], end: 2 }, 'decodeTermAt reports where a term ends');
    assert.deepEqual(decodeTerm(hex('836a6a'), { allowTrailing: true }), []);
    throwsUwsgi(() => decodeTerm('83' as never), 'ERR_ARG_TYPE', /must be a Uint8Array/);
    assert.equal(MAX_BIG_BYTES, 1024 * 1024);
  });

  test('fuzz: the decoder agrees with a naive reference decoder on seeded random and mutated input; never a crash or a hang', () => {
    const N = Number((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.UWSGI_FUZZ_N ?? 100_000);
    const rand = rng(0xe71a6);
    const node = Atom.of('n@h');
    const seeds: Uint8Array[] = [
      ...Object.entries(otp).filter(([k]) => k !== '_').map(([, h]) => hex(h)),
      encodeTerm(new Tuple(Atom.of('$gen_call'), new Tuple(new Pid(node, 1, 0, 3), new Reference(node, 3, [1, 2, 3])), new Tuple(Atom.of('call'), Atom.of('m'), Atom.of('f'), [enc('a'), 1.5, -7n], Atom.of('user')))),
      encodeTerm(new Map<Term, Term>([[Atom.of('k'), new ImproperList([1], 2)], [1n << 80n, new BitBinary(Uint8Array.of(3), 2)]])),
      encodeTerm([Atom.of('héllo'), 'x', new Port(node, 1n << 40n, 1), [[[], new Tuple()]]]),
    ];
    // Mostly tags, so random bytes often form terms; the rest any byte.
    const TAGS = [70, 77, 88, 89, 90, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 118, 119, 120];
    const pool = new Uint8Array(4096);
    const counts = { ok: 0, err: 0 };
    for (let n = 0; n < N; n++) {
      let input: Uint8Array;
      const mode = n % 4;
      if (mode === 0) {
        const len = 1 + Math.floor(rand() * 24);
        pool[0] = 131;
        for (let i = 1; i < len; i++) {
          const r = rand();
          pool[i] = r < 0.35 ? TAGS[Math.floor(rand() * TAGS.length)]! : r < 0.7 ? Math.floor(rand() * 4) : Math.floor(rand() * 256);
        }
        input = pool.subarray(0, len);
      } else {
        const src = seeds[Math.floor(rand() * seeds.length)]!;
        const len = Math.min(pool.length, mode === 3 ? Math.floor(rand() * (src.length + 2)) : src.length);
        pool.set(src.subarray(0, Math.min(len, src.length)));
        if (len > src.length) pool[len - 1] = Math.floor(rand() * 256);
        input = pool.subarray(0, len);
        const flips = mode === 1 ? 1 + Math.floor(rand() * 3) : mode === 2 ? 1 : 0;
        for (let f = 0; f < flips && len > 1; f++) {
          const at = 1 + Math.floor(rand() * (len - 1));
          // Length fields are the interesting bytes: small changes to them as often as anything.
          input[at] = mode === 2 ? (input[at]! + (rand() < 0.5 ? 1 : 255)) & 255 : Math.floor(rand() * 256);
        }
      }
      const want = reference(input);
      let got: string;
      try {
        got = canon(decodeTerm(input));
      } catch (e) {
        if (!(e instanceof UwsgiError) || e.code !== 'ERR_PROTOCOL') assert.fail(`not a typed error on ${toHex(input)}: ${String(e)}`);
        got = 'error';
      }
      if (got !== want) assert.fail(`decoder and reference disagree on ${toHex(input)}:\n got  ${got}\n want ${want}`);
      if (want === 'error') counts.err++; else counts.ok++;
    }
    assert.ok(counts.ok > N / 10 && counts.err > N / 10, `both outcomes exercised: ${JSON.stringify(counts)}`);
  }, 600_000);
});

// ---- the reference: canonical text of a decoded term, and a naive recursive decoder ------------

/** One text per Erlang term, from the decoder's output. */
function canon(t: Term): string {
  if (typeof t === 'number' || typeof t === 'bigint') return `n:${t}`;
  if (t instanceof ErlangFloat) return `n:${t.value}`;
  if (typeof t === 'boolean') return `a:${t}`;
  if (t instanceof Atom) return `a:${t.name}`;
  if (t instanceof Uint8Array) return `b:${toHex(t)}`;
  if (t instanceof BitBinary) return `bits:${toHex(t.bytes)}/${t.bits}`;
  if (Array.isArray(t)) return `[${t.map(canon).join(',')}]`;
  if (t instanceof ImproperList) return `[${t.elements.map(canon).join(',')}|${canon(t.tail)}]`;
  if (t instanceof Tuple) return `{${t.elements.map(canon).join(',')}}`;
  if (t instanceof Map) return `#{${[...t].map(([k, v]) => `${canon(k)}=>${canon(v)}`).join(',')}}`;
  if (t instanceof Pid) return `pid:${t.node.name}.${t.id}.${t.serial}.${t.creation}`;
  if (t instanceof Reference) return `ref:${t.node.name}.${t.creation}.${t.ids.join('.')}`;
  if (t instanceof Port) return `port:${t.node.name}.${t.id}.${t.creation}`;
  if (t instanceof ErlangFun) return `fun:${toHex(t.bytes)}`;
  return `?${String(t)}`;
}

class Bad extends Error {}

/**
 * A deliberately plain decoder of the format (recursive, one switch, no
 * shared code with ts/erlang/codec.ts), giving canon()'s text or 'error'.
 */
function reference(b: Uint8Array): string {
  let p = 0;
  const need = (n: number) => { if (n < 0 || p + n > b.length) throw new Bad(); };
  const u8 = () => { need(1); return b[p++]!; };
  const u16 = () => { need(2); const v = b[p]! * 256 + b[p + 1]!; p += 2; return v; };
  const u32 = () => { need(4); const v = ((b[p]! * 256 + b[p + 1]!) * 256 + b[p + 2]!) * 256 + b[p + 3]!; p += 4; return v; };
  const bytes = (n: number) => { need(n); const s = b.slice(p, p + n); p += n; return s; };
  const atomName = (tag: number): string => {
    const len = tag === 119 || tag === 115 ? u8() : u16();
    const raw = bytes(len);
    let s: string;
    if (tag === 119 || tag === 118) {
      try { s = new TextDecoder('utf-8', { fatal: true }).decode(raw); } catch { throw new Bad(); }
    } else s = Array.from(raw, (c) => String.fromCharCode(c)).join('');
    if ([...s].length > 255) throw new Bad();
    return s;
  };
  const nodeAtom = () => { const tag = u8(); if (![100, 115, 118, 119].includes(tag)) throw new Bad(); return atomName(tag); };
  const big = (n: number): string => {
    if (n > 1024 * 1024) throw new Bad();
    const sign = u8();
    if (sign > 1) throw new Bad();
    const d = bytes(n);
    let v = 0n;
    for (let i = d.length - 1; i >= 0; i--) v = v * 256n + BigInt(d[i]!);
    if (sign) v = -v;
    return `n:${v >= -(2n ** 53n - 1n) && v <= 2n ** 53n - 1n ? Number(v) : v}`;
  };
  const term = (): string => {
    const start = p;
    const tag = u8();
    switch (tag) {
      case 97: return `n:${u8()}`;
      case 98: { const v = u32(); return `n:${v >= 2 ** 31 ? v - 2 ** 32 : v}`; }
      case 110: return big(u8());
      case 111: return big(u32());
      case 70: { const f = new DataView(bytes(8).buffer).getFloat64(0); if (!Number.isFinite(f)) throw new Bad(); return `n:${f}`; }
      case 99: {
        const raw = bytes(31);
        const z = raw.indexOf(0);
        const s = Array.from(raw.subarray(0, z < 0 ? 31 : z), (c) => String.fromCharCode(c)).join('');
        if (!/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(s) || !Number.isFinite(Number(s))) throw new Bad();
        return `n:${Number(s)}`;
      }
      case 100: case 115: case 118: case 119: return `a:${atomName(tag)}`;
      case 106: return '[]';
      case 107: { const n = u16(); return `[${Array.from(bytes(n), (c) => `n:${c}`).join(',')}]`; }
      case 109: return `b:${toHex(bytes(u32()))}`;
      case 77: {
        const n = u32();
        const bits = u8();
        if (n === 0 || bits < 1 || bits > 8) throw new Bad();
        const d = bytes(n);
        return bits === 8 ? `b:${toHex(d)}` : `bits:${toHex(d)}/${bits}`;
      }
      case 104: case 105: {
        const n = tag === 104 ? u8() : u32();
        if (n > b.length) throw new Bad();
        const els: string[] = [];
        for (let i = 0; i < n; i++) els.push(term());
        return `{${els.join(',')}}`;
      }
      case 108: {
        const n = u32();
        if (n > b.length) throw new Bad();
        const els: string[] = [];
        for (let i = 0; i < n; i++) els.push(term());
        const tail = term();
        // A list tail extends the list; anything else makes it improper.
        if (tail === '[]') return `[${els.join(',')}]`;
        if (tail.startsWith('[')) {
          const inner = tail.slice(1, -1);
          if (els.length === 0) return tail;
          return `[${els.join(',')},${inner}]`;
        }
        return els.length === 0 ? tail : `[${els.join(',')}|${tail}]`;
      }
      case 116: {
        const n = u32();
        if (n > b.length) throw new Bad();
        const pairs: string[] = [];
        // A repeated key is an error: numbers and atoms compare by value, other keys by their bytes.
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const at = p;
          const k = term();
          const id = /^[na]:/.test(k) ? k : `raw:${toHex(b.slice(at, p))}`;
          if (seen.has(id)) throw new Bad();
          seen.add(id);
          pairs.push(`${k}=>${term()}`);
        }
        return `#{${pairs.join(',')}}`;
      }
      case 88: case 103: { const node = nodeAtom(); const id = u32(); const serial = u32(); const c = tag === 88 ? u32() : u8(); return `pid:${node}.${id}.${serial}.${c}`; }
      case 89: case 102: { const node = nodeAtom(); const id = u32(); const c = tag === 89 ? u32() : u8(); return `port:${node}.${id}.${c}`; }
      case 120: { const node = nodeAtom(); const hi = u32(); const lo = u32(); const c = u32(); return `port:${node}.${(BigInt(hi) << 32n) | BigInt(lo)}.${c}`; }
      case 90: case 114: {
        const n = u16();
        if (n < 1 || n > 5) throw new Bad();
        const node = nodeAtom();
        const c = tag === 90 ? u32() : u8();
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(u32());
        return `ref:${node}.${c}.${ids.join('.')}`;
      }
      case 101: { const node = nodeAtom(); const id = u32(); return `ref:${node}.${u8()}.${id}`; }
      case 113: { nodeAtom(); nodeAtom(); if (u8() !== 97) throw new Bad(); u8(); return `fun:${toHex(b.slice(start, p))}`; }
      case 112: { const size = u32(); if (size < 29) throw new Bad(); bytes(size - 4); return `fun:${toHex(b.slice(start, p))}`; }
      default: throw new Bad();
    }
  };
  try {
    if (u8() !== 131) return 'error';
    const out = term();
    return p === b.length ? out : 'error';
  } catch (e) {
    if (e instanceof Bad) return 'error';
    throw e;
  }
}
