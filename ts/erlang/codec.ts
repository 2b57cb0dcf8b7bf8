/**
 * Erlang's external term format (erts/doc "External Term Format"): JavaScript
 * values to the bytes `term_to_binary/1` makes, and bytes from any peer back
 * to values, with the mapping of ./terms.ts.
 *
 * Both directions work with an explicit stack, not recursion, so a term
 * nested a million levels deep (which a peer may send) neither overflows the
 * JavaScript stack nor needs a depth limit. Every length read from the input
 * is checked against the bytes left before anything is read past it or
 * allocated for it (a list of n elements needs at least n bytes), so the
 * memory a decode takes is bounded by its input; malformed input is a
 * `UwsgiError` with code `ERR_PROTOCOL` saying what was wrong and where.
 * @module
 */
import { UwsgiError, typeName } from '../kernel/errors.ts';
import {
  Atom, BitBinary, ErlangFloat, ErlangFun, ImproperList, MAX_ATOM_CHARS, Pid, Port, Reference, type Term, type TermInput, Tuple,
} from './terms.ts';

/** The version byte every term starts with. */
export const VERSION_MAGIC = 131;

/** Tags of the external term format (erts/doc/src/erl_ext_dist.xml). */
export const Tag = {
  NEW_FLOAT: 70, BIT_BINARY: 77, ATOM_CACHE_REF: 82, COMPRESSED: 80, NEW_PID: 88, NEW_PORT: 89, NEWER_REFERENCE: 90,
  SMALL_INTEGER: 97, INTEGER: 98, FLOAT: 99, ATOM: 100, REFERENCE: 101, PORT: 102, PID: 103, SMALL_TUPLE: 104,
  LARGE_TUPLE: 105, NIL: 106, STRING: 107, LIST: 108, BINARY: 109, SMALL_BIG: 110, LARGE_BIG: 111, NEW_FUN: 112,
  EXPORT: 113, NEW_REFERENCE: 114, SMALL_ATOM: 115, MAP: 116, FUN: 117, ATOM_UTF8: 118, SMALL_ATOM_UTF8: 119,
  V4_PORT: 120, LOCAL: 121,
} as const;

/**
 * Largest integer magnitude decoded, in bytes (8 Mbit): a bigint of that
 * size converts in milliseconds; a bigger one is refused rather than letting
 * a peer make this thread spin.
 */
export const MAX_BIG_BYTES = 1024 * 1024;

/**
 * Bytes already in the external format (without the version byte), written
 * as they are: the node splices a caller's encoded arguments into a larger
 * term with it. Not validated: only the node makes them, from encoded terms.
 */
export class EncodedTerm {
  /** The term's bytes, tag first. */
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array) { this.bytes = bytes; }
  /** The bytes of a whole encoded term (`131` first) as an EncodedTerm. */
  static fromTerm(encoded: Uint8Array): EncodedTerm {
    if (encoded[0] !== VERSION_MAGIC) throw new UwsgiError('ERR_INTERNAL', 'EncodedTerm.fromTerm: not an encoded term');
    return new EncodedTerm(encoded.subarray(1));
  }
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const bytesAsText = new TextDecoder('latin1');

// ---- encoding ----------------------------------------------------------------------------

/** A growable output buffer. */
class Writer {
  buf = new Uint8Array(256);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.ensure(2); this.dv.setUint16(this.pos, v); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.dv.setUint32(this.pos, v); this.pos += 4; }
  f64(v: number): void { this.ensure(8); this.dv.setFloat64(this.pos, v); this.pos += 8; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  take(): Uint8Array { return this.buf.slice(0, this.pos); }
}

const encodeError = (msg: string): UwsgiError => new UwsgiError('ERR_ARG_TYPE', `erlang term: ${msg}`);

function writeAtom(w: Writer, name: string): void {
  const b = utf8.encode(name);
  // Erlang counts characters, not bytes: up to 255 of them, whatever their UTF-8 length.
  if (b.length > MAX_ATOM_CHARS && [...name].length > MAX_ATOM_CHARS) throw new UwsgiError('ERR_VALUE_RANGE', `erlang term: atom '${name.slice(0, 40)}...' is longer than ${MAX_ATOM_CHARS} characters`);
  if (b.length < 256) { w.u8(Tag.SMALL_ATOM_UTF8); w.u8(b.length); } else { w.u8(Tag.ATOM_UTF8); w.u16(b.length); }
  w.bytes(b);
}

function writeInteger(w: Writer, v: bigint | number): void {
  if (typeof v === 'number') {
    if (v >= 0 && v <= 255) { w.u8(Tag.SMALL_INTEGER); w.u8(v); return; }
    if (v >= -0x80000000 && v <= 0x7fffffff) { w.u8(Tag.INTEGER); w.ensure(4); w.dv.setInt32(w.pos, v); w.pos += 4; return; }
    v = BigInt(v);
  } else if (v >= -0x80000000n && v <= 0x7fffffffn) {
    writeInteger(w, Number(v));
    return;
  }
  const sign = v < 0n ? 1 : 0;
  let mag = sign ? -v : v;
  const digits: number[] = [];
  while (mag > 0n) { digits.push(Number(mag & 0xffn)); mag >>= 8n; }
  if (digits.length < 256) { w.u8(Tag.SMALL_BIG); w.u8(digits.length); } else { w.u8(Tag.LARGE_BIG); w.u32(digits.length); }
  w.u8(sign);
  w.bytes(Uint8Array.from(digits));
}

function writeFloat(w: Writer, v: number): void {
  if (!Number.isFinite(v)) throw new UwsgiError('ERR_VALUE_RANGE', `erlang term: ${v} is not a number Erlang has (no NaN or infinity)`);
  w.u8(Tag.NEW_FLOAT);
  w.f64(v);
}

function writeNode(w: Writer, node: Atom): void {
  if (!(node instanceof Atom)) throw encodeError(`a node must be an Atom, got ${typeName(node)}`);
  writeAtom(w, node.name);
}

/** Marks what the encoder's stack holds besides values: a list's closing `[]`, the end of a container. */
const NIL = Symbol('nil');
const END = Symbol('end');
type Pending = TermInput | typeof NIL | typeof END;

/** A list of small integers only (what Erlang sends as STRING_EXT, and we too). */
function isByteString(a: readonly unknown[]): boolean {
  if (a.length === 0 || a.length > 0xffff) return false;
  for (const x of a) if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255) return false;
  return true;
}

function isPlainObject(v: object): v is { readonly [k: string]: TermInput } {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Write `term` (no version byte). */
function writeTerm(w: Writer, term: TermInput): void {
  const stack: Pending[] = [term];
  // The containers being written, to refuse a value that contains itself (it would never end).
  const open = new Set<object>();
  const openStack: object[] = [];
  const enter = (c: object) => {
    if (open.has(c)) throw encodeError('a value contains itself (a cycle cannot be sent)');
    open.add(c);
    openStack.push(c);
    stack.push(END);
  };
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (v === NIL) { w.u8(Tag.NIL); continue; }
    if (v === END) { open.delete(openStack.pop()!); continue; }
    switch (typeof v) {
      case 'number':
        // Beyond 2^53 a number is a float in all but name (integers that large are bigints): only safe integers are integers.
        if (Number.isSafeInteger(v)) writeInteger(w, v);
        else writeFloat(w, v);
        continue;
      case 'bigint': writeInteger(w, v); continue;
      case 'boolean': writeAtom(w, v ? 'true' : 'false'); continue;
      case 'string': {
        const b = utf8.encode(v);
        w.u8(Tag.BINARY); w.u32(b.length); w.bytes(b);
        continue;
      }
      case 'object': break;
      default: throw encodeError(`cannot encode a ${typeof v}`);
    }
    if (v === null) throw encodeError('cannot encode null (Erlang has no null: use [] or Atom.of(\'undefined\'))');
    if (v instanceof Uint8Array) { w.u8(Tag.BINARY); w.u32(v.length); w.bytes(v); continue; }
    if (v instanceof Atom) { writeAtom(w, v.name); continue; }
    if (Array.isArray(v)) {
      if (v.length === 0) { w.u8(Tag.NIL); continue; }
      if (isByteString(v)) { w.u8(Tag.STRING); w.u16(v.length); w.bytes(Uint8Array.from(v as number[])); continue; }
      enter(v);
      w.u8(Tag.LIST); w.u32(v.length);
      stack.push(NIL);
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]!);
      continue;
    }
    if (v instanceof Tuple) {
      const els = v.elements;
      enter(v);
      if (els.length < 256) { w.u8(Tag.SMALL_TUPLE); w.u8(els.length); } else { w.u8(Tag.LARGE_TUPLE); w.u32(els.length); }
      for (let i = els.length - 1; i >= 0; i--) stack.push(els[i]!);
      continue;
    }
    if (v instanceof ImproperList) {
      enter(v);
      if (v.elements.length === 0) { stack.push(v.tail); continue; }
      w.u8(Tag.LIST); w.u32(v.elements.length);
      stack.push(v.tail);
      for (let i = v.elements.length - 1; i >= 0; i--) stack.push(v.elements[i]!);
      continue;
    }
    if (v instanceof Map) {
      enter(v);
      w.u8(Tag.MAP); w.u32(v.size);
      const pairs = [...v];
      for (let i = pairs.length - 1; i >= 0; i--) { stack.push(pairs[i]![1]); stack.push(pairs[i]![0]); }
      continue;
    }
    if (v instanceof ErlangFloat) { writeFloat(w, v.value); continue; }
    if (v instanceof Pid) {
      w.u8(Tag.NEW_PID); writeNode(w, v.node); w.u32(v.id); w.u32(v.serial); w.u32(v.creation);
      continue;
    }
    if (v instanceof Reference) {
      if (v.ids.length < 1 || v.ids.length > 5) throw new UwsgiError('ERR_VALUE_RANGE', `erlang term: a reference has 1 to 5 words, got ${v.ids.length}`);
      w.u8(Tag.NEWER_REFERENCE); w.u16(v.ids.length); writeNode(w, v.node); w.u32(v.creation);
      for (const id of v.ids) w.u32(id);
      continue;
    }
    if (v instanceof Port) {
      if (v.id < 0x100000000n) { w.u8(Tag.NEW_PORT); writeNode(w, v.node); w.u32(Number(v.id)); } else {
        w.u8(Tag.V4_PORT); writeNode(w, v.node); w.ensure(8); w.dv.setBigUint64(w.pos, v.id); w.pos += 8;
      }
      w.u32(v.creation);
      continue;
    }
    if (v instanceof BitBinary) {
      if (v.bits < 1 || v.bits > 8 || v.bytes.length === 0) throw new UwsgiError('ERR_VALUE_RANGE', `erlang term: a BitBinary has at least one byte and 1..8 bits in its last byte`);
      w.u8(Tag.BIT_BINARY); w.u32(v.bytes.length); w.u8(v.bits); w.bytes(v.bytes);
      continue;
    }
    if (v instanceof ErlangFun || v instanceof EncodedTerm) { w.bytes(v.bytes); continue; }
    if (isPlainObject(v)) {
      enter(v);
      const keys = Object.keys(v);
      w.u8(Tag.MAP); w.u32(keys.length);
      for (let i = keys.length - 1; i >= 0; i--) { stack.push(v[keys[i]!]!); stack.push(Atom.of(keys[i]!)); }
      continue;
    }
    throw encodeError(`cannot encode a ${typeName(v)}`);
  }
}

/**
 * The external format of `term`, version byte first (what Erlang's
 * `binary_to_term/1` reads). Throws `ERR_ARG_TYPE` for a value with no Erlang
 * form (null, undefined, a function, a symbol, a cycle) and `ERR_VALUE_RANGE`
 * for one out of Erlang's range (NaN, an atom over 255 characters).
 */
export function encodeTerm(term: TermInput): Uint8Array {
  const w = new Writer();
  w.u8(VERSION_MAGIC);
  writeTerm(w, term);
  return w.take();
}

/** Several encoded terms back to back, each with its version byte (a distribution message: control, then payload). */
export function encodeTerms(...terms: TermInput[]): Uint8Array {
  const w = new Writer();
  for (const t of terms) { w.u8(VERSION_MAGIC); writeTerm(w, t); }
  return w.take();
}

// ---- decoding ----------------------------------------------------------------------------

/** Options of {@link decodeTerm}. */
export interface DecodeTermOptions {
  /**
   * Accept bytes after the term (default false: they are an error).
   * {@link decodeTermAt} reports where the term ended.
   */
  allowTrailing?: boolean;
}

/** What a container on the decoder's stack waits for next. */
const TUPLE = 0, LIST = 1, LIST_TAIL = 2, MAP_KEY = 3, MAP_VALUE = 4;
interface Frame {
  kind: number;
  /** Tuple and list elements read so far. */
  items: Term[];
  /** Elements (or map pairs) announced. */
  n: number;
  map?: Map<Term, Term>;
  key?: Term;
  /** Where the map key being read starts, and the bytes of the compound keys read so far. */
  keyAt?: number;
  keyBytes?: Set<string>;
  /** Map pairs read. */
  pairs: number;
}

class Reader {
  readonly b: Uint8Array;
  readonly dv: DataView;
  pos: number;
  readonly end: number;
  constructor(b: Uint8Array, pos: number, end: number) {
    this.b = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = pos;
    this.end = end;
  }
  fail(msg: string, at = this.pos): never { throw new UwsgiError('ERR_PROTOCOL', `erlang term: ${msg} (at byte ${at})`); }
  need(n: number, what: string): void {
    if (n > this.end - this.pos) this.fail(`truncated: ${what} needs ${n} byte(s), ${this.end - this.pos} left`);
  }
  u8(what: string): number { this.need(1, what); return this.b[this.pos++]!; }
  u16(what: string): number { this.need(2, what); const v = this.dv.getUint16(this.pos); this.pos += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.pos); this.pos += 4; return v; }
  i32(what: string): number { this.need(4, what); const v = this.dv.getInt32(this.pos); this.pos += 4; return v; }
  /** `n` bytes as a view of the input (no copy: a fresh buffer per binary costs about a microsecond on Deno and Bun). */
  view(n: number, what: string): Uint8Array { this.need(n, what); const s = this.b.subarray(this.pos, this.pos + n); this.pos += n; return s; }
  /** A count of items that each take at least `each` bytes: never more than the bytes left allow. */
  count(n: number, each: number, what: string): number {
    if (n * each > this.end - this.pos) this.fail(`${what} announces ${n} item(s) but only ${this.end - this.pos} byte(s) are left`);
    return n;
  }
}

/**
 * Recently decoded atoms by their bytes: a 256-slot table indexed by a hash
 * of the bytes, holding each slot's bytes and atom. A hit skips making the
 * name string and the weak lookup of Atom.of (together 0.2 to 0.7 µs an atom
 * on Deno and Bun, most of a small message's decode); the table holds at
 * most 256 atoms, so it bounds what it keeps alive.
 */
const ATOM_SLOTS = 256;
const slotBytes: Array<Uint8Array | undefined> = new Array(ATOM_SLOTS);
const slotUtf8: boolean[] = new Array(ATOM_SLOTS).fill(false);
const slotAtom: Atom[] = new Array(ATOM_SLOTS);

function atomOf(r: Reader, len: number, utf8Encoded: boolean): Atom {
  const at = r.pos;
  r.need(len, 'an atom');
  const b = r.b;
  const from = r.pos;
  r.pos += len;
  let h = 0x811c9dc5 ^ len;
  for (let i = from; i < from + len; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const slot = (h ^ (h >>> 16)) & (ATOM_SLOTS - 1);
  const known = slotBytes[slot];
  if (known !== undefined && known.length === len && slotUtf8[slot] === utf8Encoded) {
    let same = true;
    for (let i = 0; i < len; i++) if (known[i] !== b[from + i]) { same = false; break; }
    if (same) return slotAtom[slot]!;
  }
  const raw = b.subarray(from, from + len);
  let name: string;
  let ascii = true;
  for (let i = 0; i < len; i++) if (raw[i]! >= 0x80) { ascii = false; break; }
  // Latin-1 atoms and ASCII ones are their bytes as char codes; only non-ASCII UTF-8 needs the decoder.
  if (ascii || !utf8Encoded) {
    name = String.fromCharCode.apply(null, raw as unknown as number[]);
  } else {
    try { name = utf8Strict.decode(raw); } catch { r.fail('an atom is not valid UTF-8', at); }
  }
  if (len > MAX_ATOM_CHARS && [...name].length > MAX_ATOM_CHARS) r.fail(`an atom is longer than ${MAX_ATOM_CHARS} characters`, at);
  const atom = Atom.of(name);
  slotBytes[slot] = raw.slice();
  slotUtf8[slot] = utf8Encoded;
  slotAtom[slot] = atom;
  return atom;
}

/** The atom at the reader's position (its tag already read), or undefined when the tag is not an atom's. */
function readAtom(r: Reader, tag: number): Atom | undefined {
  switch (tag) {
    case Tag.SMALL_ATOM_UTF8: return atomOf(r, r.u8('an atom length'), true);
    case Tag.ATOM_UTF8: return atomOf(r, r.u16('an atom length'), true);
    case Tag.SMALL_ATOM: return atomOf(r, r.u8('an atom length'), false);
    case Tag.ATOM: return atomOf(r, r.u16('an atom length'), false);
    default: return undefined;
  }
}

const TRUE = Atom.of('true');
const FALSE = Atom.of('false');

/** The node atom of a pid, port or reference. */
function readNode(r: Reader, of: string): Atom {
  const at = r.pos;
  const tag = r.u8(`the node of a ${of}`);
  const atom = readAtom(r, tag);
  if (atom === undefined) r.fail(`the node of a ${of} must be an atom, got tag ${tag}`, at);
  return atom;
}

function readBig(r: Reader, n: number): number | bigint {
  const at = r.pos - 1;
  if (n > MAX_BIG_BYTES) r.fail(`an integer of ${n} bytes is over the ${MAX_BIG_BYTES}-byte limit`, at);
  const sign = r.u8('an integer sign');
  if (sign > 1) r.fail(`an integer sign must be 0 or 1, got ${sign}`, r.pos - 1);
  r.need(n, 'an integer');
  const d = r.b.subarray(r.pos, r.pos + n);
  r.pos += n;
  let top = n;
  while (top > 0 && d[top - 1] === 0) top--;
  if (top <= 6) {
    // Up to 48 bits: exact as a number.
    let v = 0;
    for (let i = top - 1; i >= 0; i--) v = v * 256 + d[i]!;
    return sign ? (v === 0 ? 0 : -v) : v;
  }
  let hex = '';
  for (let i = top - 1; i >= 0; i--) hex += (d[i]! < 16 ? '0' : '') + d[i]!.toString(16);
  const big = BigInt(`0x${hex}`);
  const v = sign ? -big : big;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** A decoded float: a number, or an ErlangFloat when integral (a plain number would go back as an integer). */
const floatTerm = (f: number): Term => (Number.isInteger(f) ? new ErlangFloat(f) : f);

const FLOAT_TEXT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/**
 * Decode the term starting at `pos` (its version byte) of `bytes`, stopping
 * at `end`; returns it and where it ended. `ERR_PROTOCOL` for malformed input.
 */
export function decodeTermAt(bytes: Uint8Array, pos = 0, end = bytes.length): { term: Term; end: number } {
  // Typed explicitly so TypeScript sees that r.fail() never returns.
  const r: Reader = new Reader(bytes, pos, end);
  const magic = r.u8('the version byte');
  if (magic !== VERSION_MAGIC) r.fail(`expected the version byte 131, got ${magic}`, pos);
  const stack: Frame[] = [];
  for (;;) {
    const at = r.pos;
    const parent = stack[stack.length - 1];
    if (parent?.kind === MAP_KEY) parent.keyAt = at;
    const tag = r.u8('a tag');
    let value: Term;
    switch (tag) {
      case Tag.SMALL_INTEGER: value = r.u8('a small integer'); break;
      case Tag.INTEGER: value = r.i32('an integer'); break;
      case Tag.SMALL_BIG: { const n = r.u8('an integer size'); value = readBig(r, n); break; }
      case Tag.LARGE_BIG: { const n = r.u32('an integer size'); value = readBig(r, n); break; }
      case Tag.NEW_FLOAT: {
        r.need(8, 'a float');
        const f = r.dv.getFloat64(r.pos);
        r.pos += 8;
        if (!Number.isFinite(f)) r.fail('a float is NaN or infinite, which Erlang never makes', at);
        value = floatTerm(f);
        break;
      }
      case Tag.FLOAT: {
        const raw = r.view(31, 'a float (text)');
        const nul = raw.indexOf(0);
        const text = String.fromCharCode(...raw.subarray(0, nul < 0 ? 31 : nul));
        if (!FLOAT_TEXT.test(text)) r.fail(`a float's text is not a number: '${text}'`, at);
        const f = Number(text);
        if (!Number.isFinite(f)) r.fail('a float is out of range', at);
        value = floatTerm(f);
        break;
      }
      case Tag.SMALL_ATOM_UTF8: case Tag.ATOM_UTF8: case Tag.SMALL_ATOM: case Tag.ATOM: {
        const atom = readAtom(r, tag)!;
        value = atom === TRUE ? true : atom === FALSE ? false : atom;
        break;
      }
      case Tag.NIL: value = []; break;
      case Tag.STRING: {
        const n = r.u16('a string length');
        r.need(n, 'a string');
        value = Array.from(r.b.subarray(r.pos, r.pos + n));
        r.pos += n;
        break;
      }
      case Tag.BINARY: { const n = r.u32('a binary length'); value = r.view(n, 'a binary'); break; }
      case Tag.BIT_BINARY: {
        const n = r.u32('a bitstring length');
        const bits = r.u8('a bitstring tail size');
        if (n === 0 || bits < 1 || bits > 8) r.fail(`a bitstring of ${n} byte(s) cannot have ${bits} bit(s) in its last byte`, at);
        const data = r.view(n, 'a bitstring');
        value = bits === 8 ? data : new BitBinary(data, bits);
        break;
      }
      case Tag.NEW_PID: case Tag.PID: {
        const node = readNode(r, 'pid');
        const id = r.u32('a pid');
        const serial = r.u32('a pid');
        value = new Pid(node, id, serial, tag === Tag.NEW_PID ? r.u32('a pid creation') : r.u8('a pid creation'));
        break;
      }
      case Tag.NEW_PORT: case Tag.PORT: case Tag.V4_PORT: {
        const node = readNode(r, 'port');
        let id: bigint;
        if (tag === Tag.V4_PORT) { r.need(8, 'a port'); id = r.dv.getBigUint64(r.pos); r.pos += 8; } else id = BigInt(r.u32('a port'));
        value = new Port(node, id, tag === Tag.PORT ? r.u8('a port creation') : r.u32('a port creation'));
        break;
      }
      case Tag.NEWER_REFERENCE: case Tag.NEW_REFERENCE: {
        const n = r.u16('a reference length');
        if (n < 1 || n > 5) r.fail(`a reference has 1 to 5 words, got ${n}`, at);
        const node = readNode(r, 'reference');
        const creation = tag === Tag.NEWER_REFERENCE ? r.u32('a reference creation') : r.u8('a reference creation');
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(r.u32('a reference'));
        value = new Reference(node, creation, ids);
        break;
      }
      case Tag.REFERENCE: {
        const node = readNode(r, 'reference');
        const id = r.u32('a reference');
        value = new Reference(node, r.u8('a reference creation'), [id]);
        break;
      }
      case Tag.EXPORT: {
        const mod = readNode(r, 'fun (module)');
        const fn = readNode(r, 'fun (function)');
        const arityAt = r.pos;
        if (r.u8('a fun arity') !== Tag.SMALL_INTEGER) r.fail('a fun arity must be a small integer', arityAt);
        const arity = r.u8('a fun arity');
        value = new ErlangFun(bytes.slice(at, r.pos), { module: mod, function: fn, arity });
        break;
      }
      case Tag.NEW_FUN: {
        const size = r.u32('a fun size');
        // Size counts itself; the fixed fields alone (arity, uniq, index, free count) take 25 more bytes.
        if (size < 29) r.fail(`a fun of ${size} bytes is too short`, at);
        r.need(size - 4, 'a fun');
        r.pos += size - 4;
        value = new ErlangFun(bytes.slice(at, r.pos));
        break;
      }
      case Tag.SMALL_TUPLE: case Tag.LARGE_TUPLE: {
        const n = r.count(tag === Tag.SMALL_TUPLE ? r.u8('a tuple arity') : r.u32('a tuple arity'), 1, 'a tuple');
        if (n > 0) { stack.push({ kind: TUPLE, items: [], n, pairs: 0 }); continue; }
        value = new Tuple();
        break;
      }
      case Tag.LIST: {
        // n elements and a tail.
        const n = r.count(r.u32('a list length'), 1, 'a list');
        r.need(n + 1, 'a list');
        stack.push({ kind: n > 0 ? LIST : LIST_TAIL, items: [], n, pairs: 0 });
        continue;
      }
      case Tag.MAP: {
        const n = r.count(r.u32('a map size'), 2, 'a map');
        if (n > 0) { stack.push({ kind: MAP_KEY, items: [], n, map: new Map(), pairs: 0 }); continue; }
        value = new Map();
        break;
      }
      case Tag.COMPRESSED: r.fail('compressed terms are not supported', at);
      // eslint-disable-next-line no-fallthrough
      case Tag.ATOM_CACHE_REF: r.fail('an atom cache reference, but no atom cache was negotiated', at);
      // eslint-disable-next-line no-fallthrough
      case Tag.FUN: r.fail('the pre-R7 fun format is not supported', at);
      // eslint-disable-next-line no-fallthrough
      case Tag.LOCAL: r.fail('LOCAL_EXT terms are private to the node that made them', at);
      // eslint-disable-next-line no-fallthrough
      default: r.fail(`unknown tag ${tag}`, at);
    }
    // Hand the value to the containers waiting for it, closing each one it completes.
    for (;;) {
      const top = stack[stack.length - 1];
      if (top === undefined) return { term: value, end: r.pos };
      if (top.kind === TUPLE) {
        top.items.push(value);
        if (top.items.length < top.n) break;
        stack.pop();
        value = Tuple.from(top.items);
        continue;
      }
      if (top.kind === LIST) {
        top.items.push(value);
        if (top.items.length === top.n) top.kind = LIST_TAIL;
        break;
      }
      if (top.kind === LIST_TAIL) {
        stack.pop();
        value = joinList(top.items, value);
        continue;
      }
      if (top.kind === MAP_KEY) {
        // Erlang refuses a map that repeats a key. Numbers, atoms and booleans compare as values; compound keys by their bytes.
        const primitive = typeof value !== 'object' || value instanceof Atom;
        if (primitive ? top.map!.has(value) : !addKeyBytes(top, bytes, r.pos)) r.fail('a map repeats a key', top.keyAt);
        top.key = value;
        top.kind = MAP_VALUE;
        break;
      }
      top.map!.set(top.key!, value);
      top.key = undefined;
      if (++top.pairs < top.n) { top.kind = MAP_KEY; break; }
      stack.pop();
      value = top.map!;
    }
  }
}

/** Remember a compound map key's bytes; false when the map had them already. */
function addKeyBytes(f: Frame, bytes: Uint8Array, end: number): boolean {
  // windows-1252 as WHATWG decodes it is one character per byte, one-to-one: the bytes as a string key.
  const k = bytesAsText.decode(bytes.subarray(f.keyAt!, end));
  f.keyBytes ??= new Set();
  if (f.keyBytes.has(k)) return false;
  f.keyBytes.add(k);
  return true;
}

/** A decoded list: proper when the tail is `[]` (or another list, which extends it), else improper. */
function joinList(items: Term[], tail: Term): Term {
  if (Array.isArray(tail)) {
    if (items.length === 0) return tail;
    for (const t of tail) items.push(t);
    return items;
  }
  if (tail instanceof ImproperList) return new ImproperList([...items, ...tail.elements], tail.tail);
  if (items.length === 0) return tail;
  return new ImproperList(items, tail);
}

/**
 * Decode one whole term (version byte first). Bytes after it are an error
 * unless `allowTrailing`. `ERR_PROTOCOL` for malformed input, never a crash.
 * Binaries and bitstrings are views of `bytes` (no copy), as the uwsgi
 * codec's are: copy one you keep if you reuse the input's buffer.
 */
export function decodeTerm(bytes: Uint8Array, opts: DecodeTermOptions = {}): Term {
  if (!(bytes instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `decodeTerm: bytes must be a Uint8Array, got ${typeName(bytes)}`);
  const { term, end } = decodeTermAt(bytes, 0, bytes.length);
  if (end !== bytes.length && !opts.allowTrailing) throw new UwsgiError('ERR_PROTOCOL', `erlang term: ${bytes.length - end} byte(s) after the term (at byte ${end})`);
  return term;
}

// ---- printing ----------------------------------------------------------------------------

const BARE_ATOM = /^[a-z][A-Za-z0-9_@]*$/;
const RESERVED = new Set(['after', 'and', 'andalso', 'band', 'begin', 'bnot', 'bor', 'bsl', 'bsr', 'bxor', 'case', 'catch', 'cond', 'div', 'end', 'fun', 'if', 'let', 'not', 'of', 'or', 'orelse', 'receive', 'rem', 'try', 'when', 'xor']);

/** An atom as Erlang writes it: bare when it can be, else in single quotes. */
export function formatAtom(name: string): string {
  return BARE_ATOM.test(name) && !RESERVED.has(name) ? name : `'${name.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Text the printer's stack holds between terms (brackets, commas). */
class Punct {
  readonly text: string;
  constructor(text: string) { this.text = text; }
}

/**
 * A term in Erlang's syntax (`{badrpc,{'EXIT',{undef,...}}}`), for messages
 * and logs; cut to about `max` characters.
 */
export function formatTerm(term: TermInput, max = 400): string {
  let out = '';
  const stack: Array<TermInput | Punct> = [term];
  const seq = (items: readonly TermInput[], open: string, close: string, tail?: TermInput) => {
    out += open;
    stack.push(new Punct(close));
    if (tail !== undefined) { stack.push(tail); stack.push(new Punct('|')); }
    for (let i = items.length - 1; i >= 0; i--) { stack.push(items[i]!); if (i > 0) stack.push(new Punct(',')); }
  };
  const quoted = (t: string) => t.replace(/["\\]/g, (c) => `\\${c}`);
  while (stack.length > 0 && out.length <= max) {
    const v = stack.pop()!;
    if (v instanceof Punct) out += v.text;
    else if (typeof v === 'string') out += `<<"${quoted(v)}"/utf8>>`;
    else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') out += String(v);
    else if (v instanceof Atom) out += formatAtom(v.name);
    else if (v instanceof Uint8Array) {
      const shown = v.subarray(0, max);
      out += v.length > 0 && v.every((c) => c >= 32 && c < 127) ? `<<"${quoted(String.fromCharCode(...shown))}">>` : `<<${Array.from(shown).join(',')}>>`;
    } else if (Array.isArray(v)) {
      if (isByteString(v) && v.every((c) => (c as number) >= 32 && (c as number) < 127)) out += `"${quoted(String.fromCharCode(...(v as number[])))}"`;
      else seq(v, '[', ']');
    } else if (v instanceof Tuple) seq(v.elements, '{', '}');
    else if (v instanceof ImproperList) seq(v.elements, '[', ']', v.tail);
    else if (v instanceof Map) {
      out += '#{';
      stack.push(new Punct('}'));
      const pairs = [...v];
      for (let i = pairs.length - 1; i >= 0; i--) {
        stack.push(pairs[i]![1]); stack.push(new Punct(' => ')); stack.push(pairs[i]![0]);
        if (i > 0) stack.push(new Punct(','));
      }
    } else if (v instanceof ErlangFloat) out += Number.isInteger(v.value) ? `${v.value}.0` : String(v.value);
    else if (v instanceof Pid) out += `<${v.node.name}.${v.id}.${v.serial}>`;
    else if (v instanceof Reference) out += `#Ref<${v.node.name}.${v.ids.join('.')}>`;
    else if (v instanceof Port) out += `#Port<${v.node.name}.${v.id}>`;
    else if (v instanceof BitBinary) out += `<<${[...Array.from(v.bytes.subarray(0, -1)), `${v.bytes[v.bytes.length - 1]! >> (8 - v.bits)}:${v.bits}`].join(',')}>>`;
    else if (v instanceof ErlangFun) out += v.export ? `fun ${formatAtom(v.export.module.name)}:${formatAtom(v.export.function.name)}/${v.export.arity}` : '#Fun<>';
    else if (v instanceof EncodedTerm) out += '<encoded>';
    else if (v !== null && typeof v === 'object') stack.push(new Map(Object.entries(v).map(([k, x]) => [Atom.of(k), x])));
    else out += String(v);
  }
  return stack.length > 0 || out.length > max ? `${out.slice(0, max)}...` : out;
}
