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
// Decoders write an index of the block (VARS_ENTRY bytes per pair, ARRAY_ENTRY per item)
// instead of copying: the caller slices its own copy of the bytes.
//  vars index entry:  koff u16 | klen u16 | voff u16 | vlen u16   (offsets from the block start)
//  array index entry: off u16  | len u16  | (unused)              (only 4 bytes per item)
//
// Encoders work in place: the caller writes the raw items one after the other
// into `dst`, leaving a 2-byte gap before each, and lists their lengths; the
// core checks every length and fills the gaps.

import {
  E_PKT_EMPTY_KEY, E_PKT_SHORT, E_PKT_TOO_BIG, E_PKT_TOO_MANY, PKT_ARRAY_ENTRY, PKT_HEADER_SIZE, PKT_INTERN_AREA,
  PKT_INTERN_NEW, PKT_INTERN_NONE, PKT_INTERN_SLOTS, PKT_MAX_BODY, PKT_VARS_ASCII, PKT_VARS_ENTRY,
} from "../kernel/abi";

// Sizes the callers share (abi.ts PKT_*), typed for this file's u32 arithmetic.
/** Bytes of the header. */
const HEADER: u32 = PKT_HEADER_SIZE;
/** Largest body a header can announce (u16). */
const MAX_BODY: u32 = PKT_MAX_BODY;
/** Bytes per vars index entry. */
const VARS_ENTRY: u32 = PKT_VARS_ENTRY;
/** Bytes per array index entry. */
const ARRAY_ENTRY: u32 = PKT_ARRAY_ENTRY;

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

/**
 * 1 when every byte of [p, p+len) is below 0x80 (ASCII), else 0: the decoders
 * then turn a whole block into one string and slice it, byte offsets being
 * character offsets.
 */
export function pktIsAscii(p: usize, len: u32): i32 {
  const end = p + <usize>len;
  let q = p;
  let acc: u64 = 0;
  // Eight bytes at a time: OR them together and test the high bits once.
  while (q + 8 <= end) { acc |= load<u64>(q); q += 8; }
  while (q < end) { acc |= <u64>load<u8>(q); q++; }
  return (acc & 0x8080808080808080) == 0 ? 1 : 0;
}

// ---- one-call vars decoding with interned keys ------------------------------------------
//
// `pktVarsIndex` does in one call what a decoder needs: the index of
// `pktVarsScan`, an id per key from an intern table the caller owns (so the
// caller can reuse the string it made for that key last time), and the ASCII
// check of `pktIsAscii`. The table is plain bytes at `table` (abi.ts PKT_INTERN_BYTES):
//  u32 used (bytes of the key area in use) | u32 pad
//  INTERN_SLOTS slots of 8 bytes: hash u32 (0 = empty) | off u16 | len u16
//  INTERN_AREA bytes of key text (what the slots point into)
// Keys are found by hash and compared byte for byte; a key not yet there is
// added while room remains, else it gets no id. The table only grows; a
// full table costs nothing but the missed reuse.

// The table's geometry, the id flags and the result flag are abi.ts's PKT_INTERN_*
// and PKT_VARS_ASCII (the caller allots the table and reads the ids).
/** Slots of an intern table (a power of two). */
const INTERN_SLOTS: u32 = PKT_INTERN_SLOTS;
/** Bytes of key text an intern table holds. */
const INTERN_AREA: u32 = PKT_INTERN_AREA;
/** Longest key interned. */
const INTERN_MAX_KEY: u32 = 255;
/** Id flag: the key was added by this call (the caller makes its string now). */
const INTERN_NEW: u32 = PKT_INTERN_NEW;
/** Id of a key the table could not take. */
const INTERN_NONE: u32 = PKT_INTERN_NONE;
/** Flag of `pktVarsIndex`'s result: every byte of the block is ASCII. */
const VARS_ASCII: i32 = PKT_VARS_ASCII;

/** Whether [a, a+n) and [b, b+n) hold the same bytes: 8 at a time (wasm loads need no alignment). */
@inline function sameBytes(a: usize, b: usize, n: u32): bool {
  let i: usize = 0;
  const end = <usize>n;
  while (i + 8 <= end) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < end) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

function internKey(table: usize, p: usize, len: u32): u32 {
  if (len > INTERN_MAX_KEY) return INTERN_NONE;
  // A cheap hash of the length and three words (first, middle, last): the
  // byte comparison below settles equality. 0 marks an empty slot, never a hash.
  let h: u32 = len * 0x9e3779b1;
  if (len >= 4) {
    h = rotl<u32>(h ^ (load<u32>(p) * 0x85ebca6b), 13);
    h = rotl<u32>(h ^ (load<u32>(p + <usize>(len - 4)) * 0xc2b2ae35), 13);
    h = rotl<u32>(h ^ (load<u32>(p + <usize>((len >>> 1) - 2)) * 0x27d4eb2f), 13);
  } else {
    for (let i: u32 = 0; i < len; i++) h = (h ^ <u32>load<u8>(p + i)) * 16777619;
  }
  h ^= h >>> 16;
  if (h == 0) h = 1;
  const slots = table + 8;
  const area = slots + <usize>(INTERN_SLOTS * 8);
  let s = h & (INTERN_SLOTS - 1);
  for (let probe: u32 = 0; probe < 16; probe++) {
    const e = slots + <usize>(s * 8);
    const eh = load<u32>(e);
    if (eh == 0) {
      const used = load<u32>(table);
      if (used + len > INTERN_AREA) return INTERN_NONE;
      memory.copy(area + used, p, len);
      store<u32>(table, used + len);
      store<u16>(e + 4, <u16>used);
      store<u16>(e + 6, <u16>len);
      store<u32>(e, h); // last: a slot is live once its hash is set
      return s | INTERN_NEW;
    }
    if (eh == h && <u32>load<u16>(e + 6) == len && sameBytes(area + <usize>load<u16>(e + 4), p, len)) return s;
    s = (s + 1) & (INTERN_SLOTS - 1);
  }
  return INTERN_NONE;
}

/**
 * `pktVarsScan` of [p, p+len) into `out`, plus the interned id of each pair's
 * key as a u16 at `ids` (see INTERN_NEW / INTERN_NONE) using the table at
 * `table`. Returns the pair count, with VARS_ASCII set when the whole block is
 * ASCII, or one of `pktVarsScan`'s errors.
 */
export function pktVarsIndex(p: usize, len: u32, out: usize, max: u32, ids: usize, table: usize): i32 {
  const n = pktVarsScan(p, len, out, max);
  if (n < 0) return n;
  for (let i: u32 = 0; i < <u32>n; i++) {
    const e = out + <usize>(i * VARS_ENTRY);
    store<u16>(ids + (<usize>i << 1), <u16>internKey(table, p + <usize>load<u16>(e), <u32>load<u16>(e + 2)));
  }
  return pktIsAscii(p, len) == 1 ? n | VARS_ASCII : n;
}

/**
 * Copy n bytes from `src` to `dst` (no overlap) 8 at a time, rounding up: it
 * reads and writes up to 7 bytes past both ends (short items, where
 * memory.copy's call and a byte tail cost more than the bytes).
 */
@inline function copyForward(dst: usize, src: usize, n: u32): void {
  for (let i: usize = 0; i < <usize>n; i += 8) store<u64>(dst + i, load<u64>(src + i));
}

/**
 * Lay out a block at `dst` from `n` items packed back to back at `src` (no
 * gaps: the caller wrote all of them with one string encode), their lengths
 * the u32s at `lens`: each item gets its u16 length in front. Same checks and
 * results as `pktPackLengths`. `src` and `dst` must not overlap, and both need
 * 7 bytes of slack after their end (items are copied in 8-byte words; later
 * items overwrite the excess, which past the block's end is left as is).
 */
export function pktSpreadItems(dst: usize, src: usize, lens: usize, n: u32, vars: u32, limit: u32): i32 {
  let at: u32 = 0;
  let from: usize = src;
  for (let i: u32 = 0; i < n; i++) {
    const l = load<u32>(lens + (<usize>i << 2));
    if (l > MAX_BODY) return fail(i, E_PKT_TOO_BIG);
    if (vars != 0 && (i & 1) == 0 && l == 0) return fail(i, E_PKT_EMPTY_KEY);
    if (l + 2 > limit - min(at, limit)) return fail(i, E_PKT_TOO_BIG);
    store<u16>(dst + at, <u16>l);
    copyForward(dst + at + 2, from, l);
    from += l;
    at += 2 + l;
  }
  if (vars != 0 && (n & 1) != 0) return fail(n, E_PKT_SHORT);
  return <i32>at;
}
