/**
 * The uwsgi packet codec, for code that speaks the protocol directly: a 4-byte
 * header (modifier1, body size as u16 little-endian, modifier2), "vars" blocks
 * (u16-length-prefixed key/value pairs, as nginx's `uwsgi_pass` sends) and
 * arrays (u16-length-prefixed items, as RPC sends its arguments).
 *
 * ```ts
 * import { encodePacket, encodeVars, PacketReader, decodeVars } from 'uwsgi-wasm';
 * const pkt = encodePacket(111, 17, encodeVars({ cmd: 'get', key: 'k1' }));
 * const reader = new PacketReader({ bufferSize: 4096 });
 * const used = reader.push(chunk);            // any split of the input works
 * if (reader.complete) decodeVars(reader.packet().body); // { cmd: 'get', key: 'k1' }
 * ```
 *
 * Decoding and the length checks run in the WebAssembly core
 * (assembly/protocol/packet.ts): every length read from the input is checked against
 * the bytes that remain and against the size limit before anything is read,
 * and malformed input throws a {@link UwsgiError} with code `ERR_PROTOCOL`.
 * The core instance the codec uses is private to the calling thread (its own
 * small memory), so the codec works with or without an engine.
 * @module
 */
import { coreModule, instantiateCore, type CoreExports } from '../kernel/core.ts';
import { UwsgiError, intArg, statusError, typeName } from '../kernel/errors.ts';
import {
  CoreStatus, PKT_ARRAY_ENTRY, PKT_HEADER_SIZE, PKT_INTERN_NEW, PKT_INTERN_NONE, PKT_MAX_BODY, PKT_VARS_ASCII,
  PKT_VARS_ENTRY,
} from '../kernel/abi.ts';
import { runtime } from '../platform/index.ts';
import { copyOutBytes } from '../kernel/pool.ts';

/** Bytes of a packet header. */
export const HEADER_SIZE = PKT_HEADER_SIZE;
/** uWSGI's default `buffer-size`: the largest request body (vars block) a server accepts. */
export const DEFAULT_BUFFER_SIZE = 4096;
/** The largest body a header can announce; `buffer-size` is clamped to it. */
export const MAX_BUFFER_SIZE = PKT_MAX_BODY;

/** A byte string: a `Uint8Array` as is, or a string encoded as UTF-8. */
export type ByteString = string | Uint8Array;

/** The three fields of a packet header. */
export interface PacketHeader {
  /** Selects the handler: 0 request, 17 spool, 100 ping, 101 echo, 110 signal, 111 cache, 173 RPC, 255 response... */
  modifier1: number;
  /** Bytes of the body that follows the header (0..65535). */
  size: number;
  /** Handler-specific sub-command or flag. */
  modifier2: number;
}

/** A whole packet: its header and its `size` body bytes. */
export interface Packet extends PacketHeader {
  /** The body (for requests, the vars block). */
  body: Uint8Array;
}

/** Limits for decoders. */
export interface DecodeOptions {
  /** Largest block accepted, in bytes (uWSGI's `buffer-size`). Default 65535 for blocks, 4096 for {@link PacketReader}; at most 65535. */
  bufferSize?: number;
  /** Most pairs (vars) or items (arrays) accepted. Default: as many as the block holds. */
  maxEntries?: number;
}

/** Options of {@link decodeArray}. */
export interface DecodeArrayOptions extends DecodeOptions {
  /** Drop zero-length items, as uWSGI's RPC server does (`("a","","bc")` arrives as `("a","bc")`). Default false. */
  skipEmpty?: boolean;
}

/** Limits for encoders. */
export interface EncodeOptions {
  /** Largest block produced, in bytes (the header excluded). Default and maximum 65535. */
  bufferSize?: number;
}

/** Vars to encode: an object (insertion order) or any iterable of `[key, value]` pairs (duplicates kept). */
export type VarsInput = Record<string, ByteString> | Iterable<readonly [ByteString, ByteString]>;

// ---- the private core instance ------------------------------------------------------
//
// Its own memory (not an engine's): page 0 holds the core's static data, then
//  IO     (64 KiB + 4) the block being decoded, or the packet being encoded
//  INDEX  (128 KiB)    the decoders' index: 8 bytes per vars pair, 4 per array item
//  LENS   (128 KiB)    the encoders' item lengths, u32 each
const PAGE = 65536;
const IO = PAGE;
const IO_BYTES = PAGE + HEADER_SIZE;
const INDEX = IO + 2 * PAGE;
//  IDS    (64 KiB)     decodeVars' key ids, u16 each
//  KEYS   (64 KiB)     decodeVars' key intern table (PKT_INTERN_BYTES of it)
const LENS = INDEX + 2 * PAGE;
const IDS = LENS + 2 * PAGE;
//  TEXT   (64 KiB)     the encoders' items, packed by one string encode before they are spread
const KEYS = IDS + PAGE;
const TEXT = KEYS + PAGE;
const CODEC_PAGES = (TEXT + PAGE) / PAGE;
/** Longest text the encoders' one-string path takes (3 UTF-8 bytes per unit must fit TEXT). */
const TEXT_FAST_MAX = Math.floor(PAGE / 3);
/** Most items an encoder takes: each needs at least its 2 length bytes in a 65535-byte block. */
const MAX_ITEMS = Math.floor(MAX_BUFFER_SIZE / 2);
/** The options object of calls that give none (not a new `{}` per call). */
const NO_OPTIONS: DecodeArrayOptions = Object.freeze({});

interface CodecCore {
  x: CoreExports; u8: Uint8Array; u16: Uint16Array; u32: Uint32Array;
  /** The TEXT area, where the encoders' fast path writes its one string. */
  text: Uint8Array;
  /** The string of each interned key id (pktVarsIndex's table lives in this core's memory). */
  names: string[];
}
let codecCore: CodecCore | undefined;

function core(): CodecCore {
  if (codecCore) return codecCore;
  const memory = new WebAssembly.Memory({ initial: CODEC_PAGES, maximum: CODEC_PAGES, shared: true });
  const x = instantiateCore(coreModule(), memory);
  const b = memory.buffer;
  codecCore = { x, u8: new Uint8Array(b), u16: new Uint16Array(b), u32: new Uint32Array(b), text: new Uint8Array(b, TEXT, PAGE), names: [] };
  return codecCore;
}

/**
 * Copy `b` into the core's memory at `at` (8-aligned) or just after: returns
 * where it went. Engines copy into and out of shared memory byte by byte
 * unless source and destination are aligned alike (V8: 0.6 ns a byte against
 * 0.05), so the copy lands at the same offset modulo 8 as `b`'s own.
 */
function copyIn(c: CodecCore, b: Uint8Array, at: number): number {
  const p = at + (b.byteOffset & 7);
  c.u8.set(b, p);
  return p;
}

// Encoders' results come out through the copy-out pool (ts/kernel/pool.ts): a
// new ArrayBuffer per packet costs more than encoding it.

/** Writes a string's UTF-8 into the TEXT area, the runtime's fastest way (see RuntimeBinding.utf8Writer). */
let textWriter: ((text: string) => number) | undefined;
function writeText(c: CodecCore, text: string): number {
  textWriter ??= runtime().utf8Writer(c.text);
  return textWriter(text);
}

const utf8enc = new TextEncoder();
const utf8dec = new TextDecoder();

/** Bytes as text: ASCII directly (the common case in CGI vars), anything else as UTF-8 (invalid bytes become U+FFFD). */
export function bytesToText(b: Uint8Array, start = 0, end = b.length): string {
  const n = end - start;
  if (n <= 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8dec.decode(b.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8dec.decode(b.subarray(start, end));
}

/** ASCII bytes as a string (the caller checked that every byte is below 0x80, so UTF-8 is exact). */
function latin1(b: Uint8Array): string {
  // TextDecoder refuses views of shared memory on some runtimes: decode a copy of those.
  return utf8dec.decode(typeof SharedArrayBuffer !== 'undefined' && b.buffer instanceof SharedArrayBuffer ? b.slice() : b);
}

function limitOf(fn: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = intArg(fn, 'bufferSize', v);
  if (n < 0 || n > MAX_BUFFER_SIZE) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: bufferSize must be 0..${MAX_BUFFER_SIZE}, got ${n}`);
  return n;
}

function entriesOf(fn: string, v: number | undefined): number {
  if (v === undefined) return MAX_ITEMS;
  const n = intArg(fn, 'maxEntries', v);
  if (n < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: maxEntries must be 0 or more, got ${n}`);
  return Math.min(n, MAX_ITEMS);
}

function bytesIn(fn: string, name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be a Uint8Array, got ${typeName(v)}`);
}

function modifier(fn: string, name: string, v: unknown): number {
  const n = intArg(fn, name, v);
  if (n < 0 || n > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be 0..255, got ${n}`);
  return n;
}

/** A decoder's failure: the core's status, with where it stopped. */
function decodeError(fn: string, rc: number, c: CodecCore, what: string, limit: number): UwsgiError {
  const at = c.x.pkt_error_at();
  const detail =
    rc === CoreStatus.E_PKT_SHORT ? `the ${what} at byte ${at} runs past the end of the block`
    : rc === CoreStatus.E_PKT_EMPTY_KEY ? `the key at byte ${at} is empty`
    : rc === CoreStatus.E_PKT_TOO_MANY ? `more entries than allowed (the one at byte ${at} is over the limit)`
    : rc === CoreStatus.E_PKT_TOO_BIG ? `the block is over ${limit} bytes`
    : '';
  if (!detail) return statusError(rc, fn);
  return new UwsgiError('ERR_PROTOCOL', `${fn}: ${detail}`);
}

// ---- header and packets ---------------------------------------------------------------

/**
 * Encode one packet: the header, then `body` (a vars block, an array, raw
 * bytes...). `body` over 65535 bytes throws `ERR_VALUE_RANGE`.
 */
export function encodePacket(modifier1: number, modifier2: number, body: ByteString = new Uint8Array(0)): Uint8Array {
  const m1 = modifier('encodePacket', 'modifier1', modifier1);
  const m2 = modifier('encodePacket', 'modifier2', modifier2);
  let b: Uint8Array;
  if (typeof body === 'string') b = utf8enc.encode(body);
  else b = bytesIn('encodePacket', 'body', body);
  if (b.length > MAX_BUFFER_SIZE) throw new UwsgiError('ERR_VALUE_RANGE', `encodePacket: body is ${b.length} bytes; a packet carries at most ${MAX_BUFFER_SIZE}`);
  const out = new Uint8Array(HEADER_SIZE + b.length);
  out[0] = m1;
  out[1] = b.length & 0xff;
  out[2] = b.length >>> 8;
  out[3] = m2;
  out.set(b, HEADER_SIZE);
  return out;
}

/**
 * Read the header at the start of `bytes`. Throws `ERR_PROTOCOL` when fewer
 * than 4 bytes are given, or when the announced size is over `bufferSize`
 * (default 65535: any size a header can carry).
 */
export function decodeHeader(bytes: Uint8Array, options: { bufferSize?: number } = NO_OPTIONS): PacketHeader {
  const b = bytesIn('decodeHeader', 'bytes', bytes);
  const limit = limitOf('decodeHeader', options.bufferSize, MAX_BUFFER_SIZE);
  if (b.length < HEADER_SIZE) throw new UwsgiError('ERR_PROTOCOL', `decodeHeader: a header is 4 bytes, got ${b.length}`);
  const size = b[1]! | (b[2]! << 8);
  if (size > limit) throw new UwsgiError('ERR_PROTOCOL', `decodeHeader: the packet announces ${size} bytes, over the limit of ${limit}`);
  return { modifier1: b[0]!, size, modifier2: b[3]! };
}

/**
 * Decode one whole packet at the start of `bytes` (bytes after it are
 * ignored). The body is a view into `bytes`, not a copy. Throws `ERR_PROTOCOL`
 * when the header or the body is incomplete or the size is over `bufferSize`.
 */
export function decodePacket(bytes: Uint8Array, options: { bufferSize?: number } = NO_OPTIONS): Packet {
  const h = decodeHeader(bytes, options);
  if (bytes.length < HEADER_SIZE + h.size) throw new UwsgiError('ERR_PROTOCOL', `decodePacket: the packet announces ${h.size} body bytes, only ${bytes.length - HEADER_SIZE} given`);
  // One literal (not a spread of the header): the same shape for every packet.
  return { modifier1: h.modifier1, size: h.size, modifier2: h.modifier2, body: bytes.subarray(HEADER_SIZE, HEADER_SIZE + h.size) };
}

// ---- encoders -------------------------------------------------------------------------

/** Write one item at `at + 2` in the core's IO area; returns its length, or -1 if it does not fit before `end`. */
function putItem(c: CodecCore, item: ByteString, at: number, end: number): number {
  const room = end - at - 2;
  if (room < 0) return -1;
  if (typeof item === 'string') {
    const n = item.length;
    if (n <= 64 && n <= room) {
      // Short strings are written by hand while they stay ASCII (most vars): no view to create.
      const u8 = c.u8;
      const o = at + 2;
      let i = 0;
      for (; i < n; i++) {
        const ch = item.charCodeAt(i);
        if (ch >= 0x80) break;
        u8[o + i] = ch;
      }
      if (i === n) return n;
    }
    const r = utf8enc.encodeInto(item, c.u8.subarray(at + 2, end));
    return r.read < item.length ? -1 : r.written;
  }
  if (item.length > room) return -1;
  c.u8.set(item, at + 2);
  return item.length;
}

/**
 * Encode `n` items of `items` into a block (with a header when `header` is
 * given). The common case, every item a string and all of them ASCII, costs
 * one string encode and one call into the core; anything else (bytes, non-ASCII
 * text, a block over the limit) takes the item-by-item path, which also
 * produces the precise errors.
 */
function encodeItems(fn: string, items: readonly unknown[], n: number, vars: boolean, limit: number, header: readonly [number, number] | null): Uint8Array {
  const c = core();
  const start = header ? IO + HEADER_SIZE : IO;
  let size = -1;
  if (n <= MAX_ITEMS) {
    let text = '';
    const lens = c.u32;
    const lensAt = LENS >>> 2;
    let i = 0;
    for (; i < n; i++) {
      const item = items[i];
      if (typeof item !== 'string') break;
      lens[lensAt + i] = item.length;
      text += item;
    }
    // All strings, all ASCII (as many bytes as UTF-16 units: any other character
    // takes more), then spread. At most a third of TEXT, so any text fits whole.
    if (i === n && text.length <= TEXT_FAST_MAX && writeText(c, text) === text.length) {
      size = c.x.pkt_spread_items(start, TEXT, LENS, n, vars ? 1 : 0, limit);
    }
  }
  if (size < 0) size = encodeSlow(fn, c, items, n, vars, limit, start);
  return finishBlock(fn, c, size, header);
}

/** The encoded block of `size` bytes (after its header, when there is one) as the result. */
function finishBlock(fn: string, c: CodecCore, size: number, header: readonly [number, number] | null): Uint8Array {
  if (header) {
    const rc = c.x.pkt_header_write(IO, header[0], size, header[1]);
    if (rc < 0) throw statusError(rc, fn);
    return copyOutBytes(c.u8, IO, HEADER_SIZE + size);
  }
  return copyOutBytes(c.u8, IO, size);
}

/** The item-by-item encoder: any mix of strings and bytes; returns the block's size or throws. */
function encodeSlow(fn: string, c: CodecCore, items: readonly unknown[], n: number, vars: boolean, limit: number, start: number): number {
  const end = start + limit;
  let at = start;
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (typeof item !== 'string' && !(item instanceof Uint8Array)) {
      throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${vars ? (i & 1 ? 'a value' : 'a key') : 'an item'} must be a string or Uint8Array, got ${typeName(item)}`);
    }
    if (i >= MAX_ITEMS) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the block is over ${limit} bytes`);
    const len = putItem(c, item, at, end);
    if (len < 0) {
      const size = typeof item === 'string' ? utf8enc.encode(item).length : item.length;
      if (size > MAX_BUFFER_SIZE) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${vars ? (i & 1 ? 'a value' : 'a key') : 'an item'} is ${size} bytes; the protocol carries at most ${MAX_BUFFER_SIZE}`);
      throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the block is over ${limit} bytes`);
    }
    if (vars && (i & 1) === 0 && len === 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: a key must not be empty (uWSGI rejects the whole block)`);
    c.u32[(LENS >>> 2) + i] = len;
    at += 2 + len;
  }
  const size = c.x.pkt_pack_lengths(start, LENS, n, vars ? 1 : 0, limit);
  if (size < 0) throw statusError(size, fn);
  return size;
}

// The flat item list of an encode, reused (a fresh one when an encode runs
// inside another's iteration, e.g. from a generator that encodes).
const flatItems: unknown[] = [];
let flatBusy = false;

/** Keys and values of `vars`, alternating, into `out`; returns how many. Checks the shape, not the item types. */
function flattenVars(fn: string, vars: VarsInput, out: unknown[], limit: number): number {
  if (vars === null || typeof vars !== 'object') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: vars must be an object or an iterable of [key, value] pairs, got ${typeName(vars)}`);
  let n = 0;
  const pair = (p: unknown) => {
    if (n >= MAX_ITEMS) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the block is over ${limit} bytes`);
    if (!Array.isArray(p) || p.length !== 2) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: each entry must be a [key, value] pair, got ${typeName(p)}`);
    out[n++] = p[0];
    out[n++] = p[1];
  };
  if (Array.isArray(vars)) {
    for (let i = 0; i < vars.length; i++) pair(vars[i]);
  } else if (Symbol.iterator in vars && typeof (vars as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const p of vars as Iterable<unknown>) pair(p);
  } else {
    for (const k of Object.keys(vars)) {
      if (n >= MAX_ITEMS) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the block is over ${limit} bytes`);
      out[n++] = k;
      out[n++] = (vars as Record<string, ByteString>)[k];
    }
  }
  return n;
}

/** Flatten `vars` and encode them: the shared item list, unless an encode is already using it. */
function encodeVarsWith(fn: string, vars: VarsInput, limit: number, header: readonly [number, number] | null): Uint8Array {
  // The common shape, an array of [string, string] pairs, goes straight to the
  // one-string path; anything else (and any failure) takes the general one.
  if (Array.isArray(vars) && vars.length <= MAX_ITEMS >>> 1) {
    const c = core();
    const lens = c.u32;
    const lensAt = LENS >>> 2;
    let text = '';
    let i = 0;
    for (; i < vars.length; i++) {
      const p: unknown = vars[i];
      if (!Array.isArray(p) || p.length !== 2) break;
      const k: unknown = p[0];
      const v: unknown = p[1];
      if (typeof k !== 'string' || typeof v !== 'string') break;
      lens[lensAt + 2 * i] = k.length;
      lens[lensAt + 2 * i + 1] = v.length;
      text += k;
      text += v;
    }
    if (i === vars.length && text.length <= TEXT_FAST_MAX && writeText(c, text) === text.length) {
      const start = header ? IO + HEADER_SIZE : IO;
      const size = c.x.pkt_spread_items(start, TEXT, LENS, 2 * i, 1, limit);
      if (size >= 0) return finishBlock(fn, c, size, header);
    }
  }
  const nested = flatBusy;
  const items = nested ? [] : flatItems;
  flatBusy = true;
  try {
    const n = flattenVars(fn, vars, items, limit);
    return encodeItems(fn, items, n, true, limit, header);
  } finally {
    if (!nested) { flatBusy = false; items.length = 0; }
  }
}

/**
 * Encode a vars block (no header): u16 LE key length, key, u16 LE value
 * length, value, per pair, in order. Keys must not be empty; each key and value
 * is at most 65535 bytes and the block at most `bufferSize` (default 65535):
 * otherwise `ERR_VALUE_RANGE`.
 *
 * A result of up to 4 KiB is a view into a shared 64 KiB pool
 * (ts/kernel/pool.ts) (its `byteOffset` may be non-zero): transfer a copy
 * (`result.slice()`), not `result.buffer`. This holds for every encoder here.
 */
export function encodeVars(vars: VarsInput, options: EncodeOptions = {}): Uint8Array {
  return encodeVarsWith('encodeVars', vars, limitOf('encodeVars', options.bufferSize, MAX_BUFFER_SIZE), null);
}

/** {@link encodeVars} with a header in front, in one step (one copy). */
export function encodeVarsPacket(modifier1: number, modifier2: number, vars: VarsInput, options: EncodeOptions = {}): Uint8Array {
  const m1 = modifier('encodeVarsPacket', 'modifier1', modifier1);
  const m2 = modifier('encodeVarsPacket', 'modifier2', modifier2);
  return encodeVarsWith('encodeVarsPacket', vars, limitOf('encodeVarsPacket', options.bufferSize, MAX_BUFFER_SIZE), [m1, m2]);
}

function arrayItems(fn: string, items: readonly ByteString[]): readonly ByteString[] {
  if (!Array.isArray(items)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: items must be an array, got ${typeName(items)}`);
  return items;
}

/**
 * Encode an array block (no header): u16 LE length then the bytes, per item.
 * Empty items are encoded (uWSGI's RPC server drops them on arrival). Each item
 * is at most 65535 bytes and the block at most `bufferSize` (default 65535).
 */
export function encodeArray(items: readonly ByteString[], options: EncodeOptions = {}): Uint8Array {
  const a = arrayItems('encodeArray', items);
  return encodeItems('encodeArray', a, a.length, false, limitOf('encodeArray', options.bufferSize, MAX_BUFFER_SIZE), null);
}

/** {@link encodeArray} with a header in front (an RPC request is `encodeArrayPacket(173, 0, [name, ...args])`). */
export function encodeArrayPacket(modifier1: number, modifier2: number, items: readonly ByteString[], options: EncodeOptions = {}): Uint8Array {
  const h: [number, number] = [modifier('encodeArrayPacket', 'modifier1', modifier1), modifier('encodeArrayPacket', 'modifier2', modifier2)];
  const a = arrayItems('encodeArrayPacket', items);
  return encodeItems('encodeArrayPacket', a, a.length, false, limitOf('encodeArrayPacket', options.bufferSize, MAX_BUFFER_SIZE), h);
}

// ---- decoders -------------------------------------------------------------------------

/** Copy `block` into the core and index it; returns the entry count (throws on malformed input). */
function scan(fn: string, block: Uint8Array, vars: boolean, options: DecodeArrayOptions): { c: CodecCore; n: number } {
  const b = bytesIn(fn, 'block', block);
  const limit = limitOf(fn, options.bufferSize, MAX_BUFFER_SIZE);
  const max = entriesOf(fn, options.maxEntries);
  if (b.length > limit) throw new UwsgiError('ERR_PROTOCOL', `${fn}: the block is ${b.length} bytes, over the limit of ${limit}`);
  const c = core();
  const p = copyIn(c, b, IO);
  const n = vars ? c.x.pkt_vars_scan(p, b.length, INDEX, max) : c.x.pkt_array_scan(p, b.length, INDEX, max, options.skipEmpty ? 1 : 0);
  if (n < 0) throw decodeError(fn, n, c, vars ? 'pair' : 'item', limit);
  return { c, n };
}

/**
 * Decode a vars block into an object that inherits nothing (its prototype is
 * an empty frozen object without a prototype), keys and values as text
 * (UTF-8; invalid bytes become U+FFFD). When a key repeats, the last value
 * wins, as in a WSGI environ; {@link decodeVarsList} keeps every pair as bytes.
 * Throws `ERR_PROTOCOL` on a truncated block, an empty key, a block over
 * `bufferSize` (default 65535) or more than `maxEntries` pairs.
 */
export function decodeVars(block: Uint8Array, options: DecodeOptions = NO_OPTIONS): Record<string, string> {
  const b = bytesIn('decodeVars', 'block', block);
  const limit = options.bufferSize === undefined ? MAX_BUFFER_SIZE : limitOf('decodeVars', options.bufferSize, MAX_BUFFER_SIZE);
  const max = entriesOf('decodeVars', options.maxEntries);
  if (b.length > limit) throw new UwsgiError('ERR_PROTOCOL', `decodeVars: the block is ${b.length} bytes, over the limit of ${limit}`);
  const c = core();
  const p = copyIn(c, b, IO);
  // One call: the index, an id per key (its string is made once per thread), the ASCII check.
  const rc = c.x.pkt_vars_index(p, b.length, INDEX, max, IDS, KEYS);
  if (rc < 0) throw decodeError('decodeVars', rc, c, 'pair', limit);
  const n = rc & (PKT_VARS_ASCII - 1);
  const out = new VarsObject() as Record<string, string>;
  const u16 = c.u16;
  const names = c.names;
  const base = INDEX >>> 1;
  const idBase = IDS >>> 1;
  // One string for an ASCII block, then slices: byte offsets are character offsets.
  const all = (rc & PKT_VARS_ASCII) !== 0 ? latin1(b) : null;
  const stride = PKT_VARS_ENTRY >>> 1;
  for (let i = 0; i < n; i++) {
    const e = base + i * stride;
    const ko = u16[e]!;
    const vo = u16[e + 2]!;
    const id = u16[idBase + i]!;
    let key: string;
    if (id === PKT_INTERN_NONE) key = bytesToText(b, ko, ko + u16[e + 1]!);
    else if ((id & PKT_INTERN_NEW) !== 0) key = names[id & ~PKT_INTERN_NEW] = internalized(bytesToText(b, ko, ko + u16[e + 1]!));
    else key = names[id]!;
    out[key] = all !== null ? all.slice(vo, vo + u16[e + 3]!) : bytesToText(b, vo, vo + u16[e + 3]!);
  }
  return out;
}


/**
 * The prototype of decodeVars' objects: empty, frozen, itself without a
 * prototype, so an environ inherits nothing (`__proto__`, `constructor` are
 * plain keys). Not `Object.create(null)` itself: V8 keeps null-prototype
 * objects as hash tables, three times slower to fill than an object of a class.
 */
class VarsObject {}
delete (VarsObject.prototype as { constructor?: unknown }).constructor;
Object.setPrototypeOf(VarsObject.prototype, null);
Object.freeze(VarsObject.prototype);

/** `s` as the engine's unique copy of that text (a property key then needs no lookup). */
function internalized(s: string): string {
  const o: Record<string, number> = {};
  o[s] = 0;
  return Object.keys(o)[0] ?? s;
}

/**
 * Decode a vars block into `[key, value]` pairs, in order, duplicates kept.
 * Keys and values are views into `block` (no copy): copy them to keep them
 * past a reuse of `block`. Same errors as {@link decodeVars}.
 */
export function decodeVarsList(block: Uint8Array, options: DecodeOptions = {}): Array<[Uint8Array, Uint8Array]> {
  const { c, n } = scan('decodeVarsList', block, true, options);
  const out: Array<[Uint8Array, Uint8Array]> = new Array(n);
  const base = INDEX >>> 1;
  const stride = PKT_VARS_ENTRY >>> 1;
  for (let i = 0; i < n; i++) {
    const e = base + i * stride;
    const ko = c.u16[e]!;
    const vo = c.u16[e + 2]!;
    out[i] = [block.subarray(ko, ko + c.u16[e + 1]!), block.subarray(vo, vo + c.u16[e + 3]!)];
  }
  return out;
}

/**
 * Decode an array block into its items (views into `block`, no copy). With
 * `skipEmpty`, zero-length items are dropped as uWSGI's RPC server does.
 * Throws `ERR_PROTOCOL` on a truncated block, a block over `bufferSize`
 * (default 65535) or more than `maxEntries` items.
 */
export function decodeArray(block: Uint8Array, options: DecodeArrayOptions = {}): Uint8Array[] {
  const { c, n } = scan('decodeArray', block, false, options);
  const out: Uint8Array[] = new Array(n);
  const base = INDEX >>> 1;
  const stride = PKT_ARRAY_ENTRY >>> 1;
  for (let i = 0; i < n; i++) {
    const o = c.u16[base + i * stride]!;
    out[i] = block.subarray(o, o + c.u16[base + i * stride + 1]!);
  }
  return out;
}

// ---- streaming ------------------------------------------------------------------------

/**
 * Reads one packet from a byte stream split at arbitrary points. Memory is
 * bounded: it holds at most 4 + `bufferSize` bytes, allocated once the header
 * has announced a size within the limit, and it never consumes bytes past the
 * packet's end (what follows, such as a request body, stays with the caller).
 *
 * ```ts
 * const r = new PacketReader();
 * socket.on('data', (chunk) => {
 *   const used = r.push(chunk);
 *   if (r.complete) handle(r.packet(), chunk.subarray(used));
 * });
 * ```
 */
export class PacketReader {
  /** Largest body accepted (uWSGI's `buffer-size`). */
  readonly bufferSize: number;
  readonly #hdr = new Uint8Array(HEADER_SIZE);
  #hdrLen = 0;
  #header: PacketHeader | null = null;
  #body: Uint8Array | null = null;
  #bodyLen = 0;
  #failed: UwsgiError | null = null;

  /** `bufferSize`: largest body accepted, default 4096 (uWSGI's default `buffer-size`), at most 65535. */
  constructor(options: { bufferSize?: number } = {}) {
    this.bufferSize = limitOf('PacketReader', options.bufferSize, DEFAULT_BUFFER_SIZE);
  }

  /** The header, once its 4 bytes have arrived (already checked against `bufferSize`). */
  get header(): PacketHeader | null { return this.#header; }

  /** Whether the whole packet (header and body) has arrived. */
  get complete(): boolean { return this.#header !== null && this.#bodyLen === this.#header.size; }

  /** Bytes of the packet received so far. */
  get received(): number { return this.#hdrLen + this.#bodyLen; }

  /**
   * Take bytes from `chunk`; returns how many were used (fewer than
   * `chunk.length` only when the packet completed inside it). Throws
   * `ERR_PROTOCOL` when the header announces a body over `bufferSize`; after
   * that the reader stays failed until {@link reset}.
   */
  push(chunk: Uint8Array): number {
    const b = bytesIn('PacketReader.push', 'chunk', chunk);
    if (this.#failed) throw this.#failed;
    let used = 0;
    if (this.#hdrLen < HEADER_SIZE) {
      const take = Math.min(HEADER_SIZE - this.#hdrLen, b.length);
      this.#hdr.set(b.subarray(0, take), this.#hdrLen);
      this.#hdrLen += take;
      used = take;
      if (this.#hdrLen < HEADER_SIZE) return used;
      const c = core();
      c.u8.set(this.#hdr, IO);
      const size = c.x.pkt_header_check(IO, HEADER_SIZE, this.bufferSize);
      if (size < 0) {
        const announced = this.#hdr[1]! | (this.#hdr[2]! << 8);
        this.#failed = new UwsgiError('ERR_PROTOCOL', `PacketReader: the packet (modifier1 ${this.#hdr[0]}) announces ${announced} bytes, over the buffer size of ${this.bufferSize}`);
        throw this.#failed;
      }
      this.#header = { modifier1: this.#hdr[0]!, size, modifier2: this.#hdr[3]! };
      // The whole body is in this chunk: keep a view, no copy.
      if (b.length - used >= size) {
        this.#body = b.subarray(used, used + size);
        this.#bodyLen = size;
        return used + size;
      }
      this.#body = new Uint8Array(size);
    }
    const h = this.#header!;
    const take = Math.min(h.size - this.#bodyLen, b.length - used);
    if (take > 0) {
      this.#body!.set(b.subarray(used, used + take), this.#bodyLen);
      this.#bodyLen += take;
      used += take;
    }
    return used;
  }

  /** The complete packet (its body may be a view into the last chunk pushed). Throws `ERR_PROTOCOL` before it is complete. */
  packet(): Packet {
    if (!this.complete) throw new UwsgiError('ERR_PROTOCOL', `PacketReader.packet: the packet is incomplete (${this.received} bytes received)`);
    const h = this.#header!;
    return { modifier1: h.modifier1, size: h.size, modifier2: h.modifier2, body: this.#body! };
  }

  /** Forget the current packet (and any failure) to read the next one. */
  reset(): void {
    this.#hdrLen = 0;
    this.#header = null;
    this.#body = null;
    this.#bodyLen = 0;
    this.#failed = null;
  }
}

// ---- files ----------------------------------------------------------------------------

/**
 * uWSGI's `parsefile(path)`: read a file holding one packet (a spool file, a
 * saved request) and return its vars as `{ key: value }` (keys as text, values
 * as bytes; the last of repeated keys wins). As in uWSGI, `null` when the file
 * cannot be read or its modifier1 is neither 0 (request) nor 17 (spool);
 * bytes after the vars block (a spool body) are ignored. Where uWSGI returns
 * None for a malformed or truncated file, this throws `ERR_PROTOCOL`.
 */
export function parsefile(path: string): Record<string, Uint8Array> | null {
  if (typeof path !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `parsefile: path must be a string, got ${typeName(path)}`);
  let data: Uint8Array | null;
  try {
    data = runtime().readFileBytes(path);
  } catch {
    return null;
  }
  if (data === null) return null;
  if (data.length < HEADER_SIZE) throw new UwsgiError('ERR_PROTOCOL', `parsefile: ${path} is ${data.length} bytes, shorter than a packet header`);
  const h = decodeHeader(data);
  if (h.modifier1 !== 0 && h.modifier1 !== 17) return null;
  if (data.length < HEADER_SIZE + h.size) throw new UwsgiError('ERR_PROTOCOL', `parsefile: ${path} announces ${h.size} bytes of vars, only ${data.length - HEADER_SIZE} present`);
  const out: Record<string, Uint8Array> = Object.create(null);
  for (const [k, v] of decodeVarsList(data.subarray(HEADER_SIZE, HEADER_SIZE + h.size))) out[bytesToText(k)] = v;
  return out;
}
