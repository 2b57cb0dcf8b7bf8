/**
 * Python's `marshal` format, the body of uWSGI's marshalled-message packets
 * (modifier1 33, `message_manager_marshal`): what a Python client's
 * `marshal.dumps(obj)` sends and `marshal.loads` reads back.
 *
 * The reader takes every version Python writes (0 to 4 and later: type codes
 * with the FLAG_REF bit and back-references, short ASCII strings, binary and
 * text floats); the writer emits the plain codes every Python 3 reads (`N T F
 * i l g s u [ { <`), as uWSGI 1.x wrote version 1. Why not py-marshal (npm):
 * it reads Python 2's format only (no references, no short strings, str and
 * bytes confused) and needs Node's Buffer, which ts/ may not name.
 *
 * Values: None ↔ null, bool, int ↔ number (bigint past 2^53), float ↔ number,
 * bytes ↔ Uint8Array, str ↔ string, tuple and list → array (arrays are written
 * as lists), dict ↔ plain object when every key is a str, else Map; set and
 * frozenset → Set. Code objects, complex numbers, Ellipsis and StopIteration
 * have no JS value: ERR_PROTOCOL, as is every truncated or malformed input.
 * @module
 */
import { UwsgiError, typeName } from '../kernel/errors.ts';

const FLAG_REF = 0x80;
/** Python's own nesting limit for marshal (MAX_MARSHAL_STACK_DEPTH). */
const MAX_DEPTH = 2000;
const utf8 = new TextEncoder();
const utf8d = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

const bad = (why: string, at: number): UwsgiError => new UwsgiError('ERR_PROTOCOL', `marshal: ${why} at byte ${at}`);

class Reader {
  pos = 0;
  readonly refs: unknown[] = [];
  readonly b: Uint8Array;
  readonly dv: DataView;
  constructor(b: Uint8Array) { this.b = b; this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength); }

  need(n: number): number {
    if (n < 0 || this.pos + n > this.b.length) throw bad(`${n} byte(s) wanted, ${this.b.length - this.pos} left`, this.pos);
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number { return this.b[this.need(1)]!; }
  i32(): number { return this.dv.getInt32(this.need(4), true); }
  /** A count of items that each take at least one byte: never more than the bytes left. */
  count(n: number): number {
    if (n < 0 || n > this.b.length - this.pos) throw bad(`count ${n} exceeds the bytes left`, this.pos);
    return n;
  }
  bytes(n: number): Uint8Array { const at = this.need(n); return this.b.slice(at, at + n); }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) throw bad('nesting deeper than Python allows', this.pos);
    const at = this.pos;
    const code = this.u8();
    const flag = (code & FLAG_REF) !== 0;
    const type = String.fromCharCode(code & ~FLAG_REF);
    // Containers take their reference slot before their items (Python's r_ref_reserve).
    const slot = flag ? this.refs.push(undefined) - 1 : -1;
    const done = <T>(v: T): T => { if (slot >= 0) this.refs[slot] = v; return v; };
    switch (type) {
      case 'N': return done(null);
      case 'T': return done(true);
      case 'F': return done(false);
      case 'i': return done(this.i32());
      case 'l': return done(this.long());
      case 'g': return done(this.dv.getFloat64(this.need(8), true));
      case 'f': { const n = this.u8(); return done(Number(latin1.decode(this.bytes(n)))); }
      case 's': return done(this.bytes(this.count(this.i32())));
      case 'u': case 't': return done(this.text(this.count(this.i32()), true));
      case 'a': case 'A': return done(this.text(this.count(this.i32()), false));
      case 'z': case 'Z': return done(this.text(this.u8(), false));
      case '(': case '[': return this.items(this.count(this.i32()), depth, slot);
      case ')': return this.items(this.u8(), depth, slot);
      case '<': case '>': {
        const out = new Set<unknown>();
        if (slot >= 0) this.refs[slot] = out;
        const n = this.count(this.i32());
        for (let i = 0; i < n; i++) out.add(this.value(depth + 1));
        return out;
      }
      case '{': return this.dict(depth, slot);
      case 'r': {
        const i = this.i32();
        if (i < 0 || i >= this.refs.length || i === slot) throw bad(`reference ${i} to nothing`, at);
        return done(this.refs[i]);
      }
      default: throw bad(`type '${type}' (0x${code.toString(16)}) has no JS value`, at);
    }
  }

  text(n: number, utf: boolean): string {
    const b = this.bytes(n);
    if (!utf) return latin1.decode(b);
    try { return utf8d.decode(b); } catch { throw bad('a str that is not UTF-8', this.pos - n); }
  }

  long(): number | bigint {
    const n = this.i32();
    const size = Math.abs(n);
    this.count(size * 2);
    let v = 0n;
    for (let i = 0; i < size; i++) {
      const d = this.dv.getUint16(this.need(2), true);
      if (d >= 1 << 15) throw bad('a long digit over 15 bits', this.pos - 2);
      v |= BigInt(d) << BigInt(15 * i);
    }
    if (n < 0) v = -v;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }

  items(n: number, depth: number, slot: number): unknown[] {
    const out: unknown[] = [];
    if (slot >= 0) this.refs[slot] = out;
    for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
    return out;
  }

  dict(depth: number, slot: number): Record<string, unknown> | Map<unknown, unknown> {
    const pairs: Array<[unknown, unknown]> = [];
    for (;;) {
      if (this.b[this.pos] === 0x30) { this.pos++; break; } // '0' (TYPE_NULL) ends a dict
      const k = this.value(depth + 1);
      pairs.push([k, this.value(depth + 1)]);
    }
    const out = pairs.every(([k]) => typeof k === 'string') ? Object.fromEntries(pairs) as Record<string, unknown> : new Map(pairs);
    if (slot >= 0) this.refs[slot] = out;
    return out;
  }
}

/** Decode one marshalled value (the whole input must be that value). */
export function marshalLoads(bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `marshalLoads: bytes must be a Uint8Array, got ${typeName(bytes)}`);
  const r = new Reader(bytes);
  const v = r.value(0);
  if (r.pos !== bytes.length) throw bad(`${bytes.length - r.pos} byte(s) after the value`, r.pos);
  return v;
}

class Writer {
  parts: number[] = [];
  byte(b: number): void { this.parts.push(b); }
  i32(n: number): void { this.parts.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff); }
  raw(b: Uint8Array): void { for (const x of b) this.parts.push(x); }

  int(v: bigint): void {
    if (v >= -0x80000000n && v <= 0x7fffffffn) { this.byte(0x69); this.i32(Number(v)); return; } // 'i'
    let m = v < 0n ? -v : v;
    const digits: number[] = [];
    while (m > 0n) { digits.push(Number(m & 0x7fffn)); m >>= 15n; }
    this.byte(0x6c); // 'l'
    this.i32(v < 0n ? -digits.length : digits.length);
    for (const d of digits) this.parts.push(d & 0xff, d >>> 8);
  }

  value(v: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw new UwsgiError('ERR_VALUE_RANGE', 'marshalDumps: nesting deeper than Python allows');
    if (v === null || v === undefined) return this.byte(0x4e); // 'N'
    if (v === true) return this.byte(0x54);
    if (v === false) return this.byte(0x46);
    if (typeof v === 'bigint') return this.int(v);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) return this.int(BigInt(v));
      const f = new DataView(new ArrayBuffer(8));
      f.setFloat64(0, v, true);
      this.byte(0x67); // 'g'
      return this.raw(new Uint8Array(f.buffer));
    }
    if (typeof v === 'string') { const b = utf8.encode(v); this.byte(0x75); this.i32(b.length); return this.raw(b); } // 'u'
    if (v instanceof Uint8Array) { this.byte(0x73); this.i32(v.length); return this.raw(v); } // 's'
    if (Array.isArray(v)) { this.byte(0x5b); this.i32(v.length); for (const x of v) this.value(x, depth + 1); return; } // '['
    if (v instanceof Set) { this.byte(0x3c); this.i32(v.size); for (const x of v) this.value(x, depth + 1); return; } // '<'
    const entries = v instanceof Map ? [...v.entries()] : isPlain(v) ? Object.entries(v as object) : null;
    if (!entries) throw new UwsgiError('ERR_ARG_TYPE', `marshalDumps: ${typeName(v)} has no marshal form`);
    this.byte(0x7b); // '{'
    for (const [k, x] of entries) { this.value(k, depth + 1); this.value(x, depth + 1); }
    this.byte(0x30); // '0'
  }
}

function isPlain(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const p = Object.getPrototypeOf(v);
  return p === null || p === Object.prototype;
}

/** Encode a value as Python's marshal.loads reads it (see the module's value table). */
export function marshalDumps(value: unknown): Uint8Array {
  const w = new Writer();
  w.value(value, 0);
  return Uint8Array.from(w.parts);
}
