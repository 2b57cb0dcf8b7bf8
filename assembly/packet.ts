// The uwsgi packet codec: every server and client path decodes and encodes
// through these functions. They are pure: they read and write only the byte
// ranges they are given (no shared state, no allocation), so any thread may
// call them on any instance. Every length read from the input is checked
// against the bytes that remain before anything is read past it.
//
// Packet:
//  ┌───────────┬──────────────────┬───────────┬──────────────────────────────┐
//  │ modifier1 │ size (u16 LE)    │ modifier2 │ body: `size` bytes           │
//  │ +0        │ +1               │ +3        │ +4                           │
//  └───────────┴──────────────────┴───────────┴──────────────────────────────┘
//
// Vars block (a "uwsgi dictionary"), repeated until the block ends:
//  ┌──────────────┬─────────┬──────────────┬───────────┐
//  │ klen (u16LE) │ key     │ vlen (u16LE) │ value     │   klen > 0, vlen ≥ 0
//  └──────────────┴─────────┴──────────────┴───────────┘
// Array block (RPC arguments), repeated until the block ends:
//  ┌──────────────┬─────────┐
//  │ len (u16LE)  │ item    │
//  └──────────────┴─────────┘
//
// Decoders write an index of the block (INDEX_ENTRY bytes per pair or item)
// instead of copying: the caller slices its own copy of the bytes.
//  vars index entry:  koff u16 | klen u16 | voff u16 | vlen u16   (offsets from the block start)
//  array index entry: off u16  | len u16  | (unused)              (only 4 bytes per item)
//
// Encoders work in place: the caller writes the raw items one after the other
// into `dst`, leaving a 2-byte gap before each, and lists their lengths; the
// core checks every length and fills the gaps.

import { E_PKT_EMPTY_KEY, E_PKT_SHORT, E_PKT_TOO_BIG, E_PKT_TOO_MANY } from "./status";

/** Bytes of the header. */
export const HEADER: u32 = 4;
/** Largest body a header can announce (u16). */
export const MAX_BODY: u32 = 65535;
/** Bytes per vars index entry. */
export const VARS_ENTRY: u32 = 8;
/** Bytes per array index entry. */
export const ARRAY_ENTRY: u32 = 4;

// Where the last failure was found (this instance's own global: per thread).
let errorAt: u32 = 0;

/** Byte offset, within the block, of the structure the last failed decode stopped at. */
export function pktErrorAt(): u32 { return errorAt; }

@inline function fail(at: u32, status: i32): i32 { errorAt = at; return status; }
@inline function u16At(p: usize): u32 { return <u32>load<u16>(p); }

/**
 * Check the header at `p` (`avail` bytes readable there) against `limit`, the
 * largest body accepted. Returns the body size, or E_PKT_SHORT (fewer than 4
 * bytes) / E_PKT_TOO_BIG (size > limit).
 */
export function pktHeaderCheck(p: usize, avail: u32, limit: u32): i32 {
  if (avail < HEADER) return fail(avail, E_PKT_SHORT);
  const size = u16At(p + 1);
  if (size > limit) return fail(1, E_PKT_TOO_BIG);
  return <i32>size;
}

/** Write a header: modifier1, size (u16 LE), modifier2. Size over 65535 or a modifier over 255: E_PKT_TOO_BIG. */
export function pktHeaderWrite(dst: usize, modifier1: u32, size: u32, modifier2: u32): i32 {
  if (size > MAX_BODY || modifier1 > 255 || modifier2 > 255) return fail(0, E_PKT_TOO_BIG);
  store<u8>(dst, <u8>modifier1);
  store<u16>(dst + 1, <u16>size);
  store<u8>(dst + 3, <u8>modifier2);
  return 0;
}

/**
 * Index the vars block [p, p+len): at most `max` pairs into `out`. Returns the
 * number of pairs, or E_PKT_SHORT (a length or a string runs past the block),
 * E_PKT_EMPTY_KEY (a key of length 0), E_PKT_TOO_MANY (more than `max` pairs),
 * E_PKT_TOO_BIG (a block over 65535 bytes: offsets would not fit the index).
 */
export function pktVarsScan(p: usize, len: u32, out: usize, max: u32): i32 {
  if (len > MAX_BODY) return fail(0, E_PKT_TOO_BIG);
  let at: u32 = 0;
  let n: u32 = 0;
  while (at < len) {
    const pair = at;
    if (len - at < 2) return fail(pair, E_PKT_SHORT);
    const klen = u16At(p + at);
    if (klen == 0) return fail(pair, E_PKT_EMPTY_KEY);
    at += 2;
    if (len - at < klen) return fail(pair, E_PKT_SHORT);
    const koff = at;
    at += klen;
    if (len - at < 2) return fail(pair, E_PKT_SHORT);
    const vlen = u16At(p + at);
    at += 2;
    if (len - at < vlen) return fail(pair, E_PKT_SHORT);
    if (n >= max) return fail(pair, E_PKT_TOO_MANY);
    const e = out + <usize>(n * VARS_ENTRY);
    store<u16>(e, <u16>koff);
    store<u16>(e + 2, <u16>klen);
    store<u16>(e + 4, <u16>at);
    store<u16>(e + 6, <u16>vlen);
    at += vlen;
    n++;
  }
  return <i32>n;
}

/**
 * Index the array block [p, p+len): at most `max` items into `out`. With
 * `skipEmpty`, zero-length items are dropped, as uWSGI's server parser does.
 * Returns the number of items or E_PKT_SHORT / E_PKT_TOO_MANY / E_PKT_TOO_BIG.
 */
export function pktArrayScan(p: usize, len: u32, out: usize, max: u32, skipEmpty: u32): i32 {
  if (len > MAX_BODY) return fail(0, E_PKT_TOO_BIG);
  let at: u32 = 0;
  let n: u32 = 0;
  while (at < len) {
    const item = at;
    if (len - at < 2) return fail(item, E_PKT_SHORT);
    const ilen = u16At(p + at);
    at += 2;
    if (len - at < ilen) return fail(item, E_PKT_SHORT);
    if (ilen != 0 || skipEmpty == 0) {
      if (n >= max) return fail(item, E_PKT_TOO_MANY);
      const e = out + <usize>(n * ARRAY_ENTRY);
      store<u16>(e, <u16>at);
      store<u16>(e + 2, <u16>ilen);
      n++;
    }
    at += ilen;
  }
  return <i32>n;
}

/**
 * Fill the length gaps of a block laid out in place at `dst`: `n` items whose
 * lengths are the u32s at `lens`, each preceded by a 2-byte gap. With `vars`,
 * items alternate key, value (n must be even) and keys must not be empty.
 * `limit` bounds the whole block. Returns the block's size, or E_PKT_TOO_BIG
 * (an item over 65535 bytes, or the block over `limit`), E_PKT_EMPTY_KEY, E_PKT_SHORT
 * (an odd count of vars items).
 */
export function pktPackLengths(dst: usize, lens: usize, n: u32, vars: u32, limit: u32): i32 {
  let at: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const l = load<u32>(lens + (<usize>i << 2));
    if (l > MAX_BODY) return fail(i, E_PKT_TOO_BIG);
    if (vars != 0 && (i & 1) == 0 && l == 0) return fail(i, E_PKT_EMPTY_KEY);
    // Compare before adding so the sum cannot wrap.
    if (l + 2 > limit - min(at, limit)) return fail(i, E_PKT_TOO_BIG);
    store<u16>(dst + at, <u16>l);
    at += 2 + l;
  }
  if (vars != 0 && (n & 1) != 0) return fail(n, E_PKT_SHORT); // a key without its value
  return <i32>at;
}
