// Caches: uWSGI's cache2, one region per cache, shared by every thread.
//
//  region:
//  ┌────────┬────────────┬─────────────┬────────┬──────────────────┬──────────────────────┬───────────────────┐
//  │ header │ hash table │ free stack  │ bitmap │ item slots       │ data blocks          │ counters          │
//  │ 256 B  │ u32 × hsize│ u32 × items │ blocks │ items × slotSize │ blocks × blocksize   │ threads × 64 B    │
//  └────────┴────────────┴─────────────┴────────┴──────────────────┴──────────────────────┴───────────────────┘
//  header (offsets in bytes; u32 unless marked):
//  ┌────────────┬───────┬───────┬───────┬─────────┬───────────┬────────┬──────────┬───────┬──────────┐
//  │ rwlock (8) │ dirty │ flags │ items │ keysize │ blocksize │ blocks │ hashsize │ count │ free_top │
//  │ +0         │ +8    │ +12   │ +16   │ +20     │ +24       │ +28    │ +32      │ +36   │ +40      │
//  ├──────────┬──────────┬────────────┬───────────────┬───────────┬───────────────┬──────────┬─────────────────┬─────────┤
//  │ lru_head │ lru_tail │ bitmap_pos │ sweep_on_full │ slot_size │ next_scan i64 │ full i64 │ math_initial i64│ repairs │
//  │ +44      │ +48      │ +52        │ +56           │ +60       │ +64           │ +72      │ +80             │ +88     │
//  ├──────────┴──────────┴────────────┴───────────────┴───────────┴───────────────┴──────────┴─────────────────┴─────────┤
//  │ pending change: slot +92, block +96, len +100, flags +104, expires i64 +112                                         │
//  │ section offsets from the region start: hash +120, free +124, bitmap +128, items +132, blocks +136, counters +140    │
//  │ threads +144, stamp i64 +152 (the last insert's stamp)                                                              │
//  │ +192: seq (the seqlock word optimistic readers check: odd while a writer changes anything; on its own line)        │
//  └─────────────────────────────────────────────────────────────────────────────────────────────────────────────────────┘
//  item slot (slot 0 is reserved: index 0 means "none", as in uWSGI):
//  ┌─────────┬──────┬─────────┬─────────────┬─────────────┬─────────┬──────┬──────┬──────┬──────────┬──────────┬───────────┐
//  │ keysize │ hash │ valsize │ first_block │ expires i64 │ version │ mark │ prev │ next │ lru_prev │ lru_next │ stamp i64 │ key
//  │ +0      │ +4   │ +8      │ +12         │ +16         │ +24     │ +28  │ +32  │ +36  │ +40      │ +44      │ +48       │ +56
//  └─────────┴──────┴─────────┴─────────────┴─────────────┴─────────┴──────┴──────┴──────┴──────────┴──────────┴───────────┴─────
//  `stamp` is unique per insert (a per-cache counter): a slot whose stamp is
//  unchanged still holds the same key (threads use it as a lookup hint).
//  `version` counts the changes of the slot (insert, update, expiry change,
//  delete, repair); it never goes back, and when it wraps the slot takes a
//  fresh stamp, so a (version, stamp) pair never comes back. A thread that
//  remembers the value it read with the pair knows the value is still current
//  while the pair is unchanged (the near cache, ts/cache/cache.ts; see bump()).
//  Per-thread counters (one line per thread slot, written only by that thread):
//  ┌──────────┬──────────┬───────┬───────────┬──────────────────────────────────────────────────────────────┐
//  │ hits i64 │ miss i64 │ fence │ near hits │ last hit: slot, version, stamp i64, expires i64, item address │
//  │ +0       │ +8       │ +16   │ +20       │ +24 +28 +32 +40 +48 (abi.ts CACHE_LINE_*)                      │
//  └──────────┴──────────┴───────┴───────────┴──────────────────────────────────────────────────────────────┘
//  Reads write nothing shared but their own line, so they scale. `near hits`
//  is counted by JS (reads served without the core), folded into `hits` by the core.
//  A slot is live when keysize != 0. Hash chains, the LRU list, the free stack
//  and the bitmap can all be rebuilt from the live slots: that is the repair.
//
// Concurrency: one rwlock per cache for writers (and for readers that fall
// back), plus a seqlock word for optimistic readers. A writer takes the rwlock
// exclusively, makes `seq` odd, changes things, makes it even again. A reader
// of a cache without purge_lru first reads without any lock: it loads an even
// `seq`, looks the key up and copies the value to its scratch with every index
// bounds-checked (a racing writer can show it garbage, never an address out of
// the region or an endless chain), then, after a fence (see readFence), loads
// `seq` again: unchanged means what it copied is a consistent snapshot. Otherwise (a writer is active, or was)
// it retries, then falls back to the shared rwlock hold. With purge_lru a get
// moves the item, so it holds exclusively.
//
// Crash consistency: a writer sets `dirty` and records the slot it works on
// before its first change and clears `dirty` after its last. Whoever next
// takes the lock and finds `dirty` set (its holder died mid-change) drops the
// recorded slot and rebuilds the structure from the item slots.

import {
  CACHE_FLAG_BITMAP, CACHE_FLAG_CLEAR_ON_FULL, CACHE_FLAG_LAZY, CACHE_FLAG_LRU, CACHE_FLAG_MURMUR2, CACHE_FLAG_NO_EXPIRE,
  CACHE_ITEM_KEY, CACHE_ITEM_STAMP, CACHE_ITEM_VERSION, CACHE_LINE_FOUND_EXPIRES, CACHE_LINE_FOUND_ITEM,
  CACHE_LINE_FOUND_SLOT, CACHE_LINE_FOUND_STAMP, CACHE_LINE_FOUND_VERSION, CACHE_LINE_NEAR_HITS, CACHE_MATH_DEC,
  CACHE_STORE_KEEP_EXPIRES, CACHE_STORE_UPDATE, CACHE_MATH_INC, CACHE_MATH_MUL, CACHE_VALUE_ALIGN, E_BAD_ID, E_CORRUPT, E_HINT, E_SCRATCH,
  E_BAD_STATE, E_STOPPED, E_VALUE_RANGE, OK, OWNER_DIED, REGION_CACHE,
} from "../kernel/abi";
import { alignUp, aload32, astore32, cas32, copyBytes, ld64, ldu32, sameBytes, st64, stu32 } from "../kernel/mem";
import { ownerAlive, regionOffset, scratchPtr, scratchSize, selfOwner, selfTid } from "../kernel/layout";
import { rwHeldBySelf, rwReadLock, rwReadUnlock, rwWriteLock, rwWriteUnlock } from "../locks/lock";

// ---- header fields ------------------------------------------------------------
const C_LOCK: u32 = 0;
const C_DIRTY: u32 = 8;
const C_FLAGS: u32 = 12;
const C_ITEMS: u32 = 16;
const C_KEYSIZE: u32 = 20;
const C_BLOCKSIZE: u32 = 24;
const C_BLOCKS: u32 = 28;
const C_HASHSIZE: u32 = 32;
const C_COUNT: u32 = 36;
const C_FREE_TOP: u32 = 40;
const C_LRU_HEAD: u32 = 44;
const C_LRU_TAIL: u32 = 48;
const C_BITMAP_POS: u32 = 52;
const C_SWEEP_ON_FULL: u32 = 56;
const C_SLOT_SIZE: u32 = 60;
const C_NEXT_SCAN: u32 = 64;
const C_FULL: u32 = 72;
const C_MATH_INITIAL: u32 = 80;
const C_REPAIRS: u32 = 88;
const C_OP_SLOT: u32 = 92;
const C_OP_BLOCK: u32 = 96;
const C_OP_LEN: u32 = 100;
const C_OP_FLAGS: u32 = 104;
const C_OP_EXPIRES: u32 = 112;
const C_HASH_OFF: u32 = 120;
const C_FREE_OFF: u32 = 124;
const C_BITMAP_OFF: u32 = 128;
const C_ITEMS_OFF: u32 = 132;
const C_BLOCKS_OFF: u32 = 136;
const C_COUNTERS_OFF: u32 = 140;
const C_THREADS: u32 = 144;
const C_STAMP: u32 = 152;
// The seqlock word, which optimistic readers load twice per lookup: its own line.
const C_SEQ: u32 = 192;
const C_HEADER: u32 = 256;

// ---- per-thread counters --------------------------------------------------------
const T_HITS: u32 = 0;
const T_MISS: u32 = 8;
const T_FENCE: u32 = 16;
const T_NEAR: u32 = CACHE_LINE_NEAR_HITS;
const T_FOUND_SLOT: u32 = CACHE_LINE_FOUND_SLOT;
const T_FOUND_VERSION: u32 = CACHE_LINE_FOUND_VERSION;
const T_FOUND_STAMP: u32 = CACHE_LINE_FOUND_STAMP;
const T_FOUND_EXPIRES: u32 = CACHE_LINE_FOUND_EXPIRES;
const T_FOUND_ITEM: u32 = CACHE_LINE_FOUND_ITEM;
const COUNTER_LINE: u32 = 64;

// ---- item fields --------------------------------------------------------------
const I_KEYSIZE: u32 = 0;
const I_HASH: u32 = 4;
const I_VALSIZE: u32 = 8;
const I_BLOCK: u32 = 12;
const I_EXPIRES: u32 = 16;
/** +24 (abi.ts CACHE_ITEM_VERSION: JS loads it to validate what it remembers). */
const I_VERSION: u32 = CACHE_ITEM_VERSION;
const I_MARK: u32 = 28;
const I_PREV: u32 = 32;
const I_NEXT: u32 = 36;
const I_LRU_PREV: u32 = 40;
const I_LRU_NEXT: u32 = 44;
/** +48 (abi.ts CACHE_ITEM_STAMP). */
const I_STAMP: u32 = CACHE_ITEM_STAMP;
/** +56, after the stamp (abi.ts CACHE_ITEM_KEY: JS reads keys there). */
const I_KEY: u32 = CACHE_ITEM_KEY;

// ---- flags (abi.ts CACHE_FLAG_*: cache_init takes them from JS) ----------------
const F_BITMAP: u32 = CACHE_FLAG_BITMAP;
const F_LRU: u32 = CACHE_FLAG_LRU;
const F_LAZY: u32 = CACHE_FLAG_LAZY;
const F_CLEAR_ON_FULL: u32 = CACHE_FLAG_CLEAR_ON_FULL;
const F_NO_EXPIRE: u32 = CACHE_FLAG_NO_EXPIRE;
const F_MURMUR2: u32 = CACHE_FLAG_MURMUR2;

const OP_NEW: u32 = 1;
const OP_KEEP_EXPIRES: u32 = 2;

// ---- accessors ----------------------------------------------------------------
@inline function hget(c: usize, f: u32): u32 { return ldu32(c + f); }
@inline function hset(c: usize, f: u32, v: u32): void { stu32(c + f, v); }
@inline function has(c: usize, flag: u32): bool { return (hget(c, C_FLAGS) & flag) != 0; }
@inline function item(c: usize, slot: u32): usize {
  return c + hget(c, C_ITEMS_OFF) + <usize>slot * hget(c, C_SLOT_SIZE);
}
@inline function iget(it: usize, f: u32): u32 { return ldu32(it + f); }
@inline function iset(it: usize, f: u32, v: u32): void { stu32(it + f, v); }
@inline function bucketAddr(c: usize, h: u32): usize { return c + hget(c, C_HASH_OFF) + (h % hget(c, C_HASHSIZE)) * 4; }
@inline function freeAddr(c: usize, i: u32): usize { return c + hget(c, C_FREE_OFF) + i * 4; }
@inline function blockAddr(c: usize, b: u32): usize { return c + hget(c, C_BLOCKS_OFF) + <usize>b * hget(c, C_BLOCKSIZE); }
@inline function bitmapByte(c: usize, b: u32): usize { return c + hget(c, C_BITMAP_OFF) + (b >> 3); }
@inline function bitOf(b: u32): u8 { return <u8>(<u32>0x80 >> (b & 7)); }

/** Largest value in bytes: one block, or every block with the bitmap. */
function maxValue(c: usize): f64 {
  const bs = <f64>hget(c, C_BLOCKSIZE);
  return has(c, F_BITMAP) ? bs * <f64>hget(c, C_BLOCKS) : bs;
}
@inline function blocksFor(c: usize, len: u32): u32 {
  const bs = hget(c, C_BLOCKSIZE);
  return (len + bs - 1) / bs;
}

// ---- sizing and init (the master, once) ---------------------------------------

function slotSize(keysize: u32): u32 { return alignUp(I_KEY + keysize, 8); }
function hashBytes(hashsize: u32): u32 { return alignUp(hashsize * 4, 8); }
function freeBytes(items: u32): u32 { return alignUp(items * 4, 8); }
function bitmapBytes(blocks: u32, bitmap: bool): u32 { return bitmap ? alignUp((blocks + 7) >> 3, 64) : 0; }

/** Bytes the region needs (f64: the planner refuses what does not fit in memory). */
export function cacheBytes(items: u32, keysize: u32, blocksize: u32, blocks: u32, hashsize: u32, bitmap: i32, threads: u32): f64 {
  let n: f64 = <f64>C_HEADER + <f64>hashBytes(hashsize) + <f64>freeBytes(items) + <f64>bitmapBytes(blocks, bitmap != 0);
  n = Math.ceil(n / 64) * 64;
  n += <f64>items * <f64>slotSize(keysize);
  n = Math.ceil(n / 64) * 64;
  n += <f64>blocks * <f64>blocksize;
  n = Math.ceil(n / 64) * 64;
  return n + <f64>threads * <f64>COUNTER_LINE;
}

export function cacheInit(c: usize, items: u32, keysize: u32, blocksize: u32, blocks: u32, hashsize: u32,
  flags: u32, sweepOnFull: u32, mathInitial: i64, threads: u32): void {
  hset(c, C_FLAGS, flags);
  hset(c, C_ITEMS, items);
  hset(c, C_KEYSIZE, keysize);
  hset(c, C_BLOCKSIZE, blocksize);
  hset(c, C_BLOCKS, blocks);
  hset(c, C_HASHSIZE, hashsize);
  hset(c, C_SWEEP_ON_FULL, sweepOnFull);
  hset(c, C_SLOT_SIZE, slotSize(keysize));
  hset(c, C_THREADS, threads);
  st64(c + C_MATH_INITIAL, mathInitial);
  let at: u32 = C_HEADER;
  hset(c, C_HASH_OFF, at); at += hashBytes(hashsize);
  hset(c, C_FREE_OFF, at); at += freeBytes(items);
  hset(c, C_BITMAP_OFF, at); at += bitmapBytes(blocks, (flags & F_BITMAP) != 0);
  at = alignUp(at, 64);
  hset(c, C_ITEMS_OFF, at); at += items * slotSize(keysize);
  at = alignUp(at, 64);
  hset(c, C_BLOCKS_OFF, at); at += blocks * blocksize;
  at = alignUp(at, 64);
  hset(c, C_COUNTERS_OFF, at);
  rebuild(c); // fresh memory is zero: this yields the empty structure
}

/** The address of cache `index`, or 0 when not configured. */
export function cacheHandle(index: i32): usize {
  return index < 0 ? 0 : <usize>regionOffset(REGION_CACHE, <u32>index);
}

// ---- hashing ------------------------------------------------------------------

/** djb33x over bytes taken as C signed chars, as uWSGI hashes. */
function djb33x(p: usize, len: u32): u32 {
  let h: u32 = 5381;
  for (let i: u32 = 0; i < len; i++) h = (h * 33) ^ <u32>(<i32>load<i8>(p + i));
  return h;
}

/**
 * MurmurHash2 (seed = length) as uWSGI 2.0 computes it (core/hash.c): the
 * 1..3 leftover bytes are mixed in as signed chars, and they are read from the
 * start of the key, not its end (uWSGI indexes `key`, which its loop never
 * advances). Kept so that buckets, and so `cache_keys`' order, match uWSGI's;
 * the cost, as there, is that keys differing only in their last len % 4 bytes
 * share a bucket (the default djb33x has no such blind spot).
 */
function murmur2(p: usize, len: u32): u32 {
  const m: u32 = 0x5bd1e995;
  let h: u32 = len;
  let i: u32 = 0;
  while (len - i >= 4) {
    let k = load<u32>(p + i);
    k *= m; k ^= k >> 24; k *= m;
    h *= m; h ^= k;
    i += 4;
  }
  const rest = len - i;
  if (rest == 3) h ^= <u32>(<i32>load<i8>(p + 2)) << 16;
  if (rest >= 2) h ^= <u32>(<i32>load<i8>(p + 1)) << 8;
  if (rest >= 1) { h ^= <u32>(<i32>load<i8>(p)); h *= m; }
  h ^= h >> 13; h *= m; h ^= h >> 15;
  return h;
}

@inline function hashKey(c: usize, p: usize, len: u32): u32 {
  return has(c, F_MURMUR2) ? murmur2(p, len) : djb33x(p, len);
}

// ---- locking with repair --------------------------------------------------------

/**
 * Whether this thread has been declared gone. A runtime may let a terminated
 * thread run a little after the master has recovered its locks (Deno); such a
 * thread must not touch the cache any more.
 */
@inline function declaredDead(): bool { return !ownerAlive(selfOwner); }

/** Exclusive hold; repairs the structure when the previous writer died mid-change. */
function wlock(c: usize): i32 {
  if (declaredDead()) return E_STOPPED;
  const rc = rwWriteLock(c + C_LOCK);
  if (rc < 0) return rc;
  seqBegin(c);
  // Observes the dirty mark a dead writer left (published by its atomic store).
  if (aload32(c + C_DIRTY) != 0) repair(c);
  else if (rc == OWNER_DIED && check(c) != OK) repair(c);
  return OK;
}

function wunlock(c: usize): void {
  seqEnd(c);
  rwWriteUnlock(c + C_LOCK);
}

/**
 * The exclusive holder makes `seq` odd before its first change. A writer that
 * died left it odd already: it stays odd (readers keep away) until this
 * holder's seqEnd, after the repair.
 */
@inline function seqBegin(c: usize): void {
  const q = aload32(c + C_SEQ);
  if ((q & 1) == 0) {
    // Publishes "a writer is active": optimistic readers that see it retry.
    astore32(c + C_SEQ, q + 1);
    // Keeps the changes that follow from becoming visible before the odd value: a seq-cst store
    // does not hold later plain stores back (the compiler or a weakly ordered CPU may hoist them).
    fence(c);
  }
}

@inline function seqEnd(c: usize): void {
  // Publishes every change made under the hold (a release store): a reader that loads the
  // new even value and then reads sees all of them; one that started before sees the value change.
  astore32(c + C_SEQ, aload32(c + C_SEQ) + 1);
}

/** Shared hold; a dirty structure is first repaired under an exclusive hold. */
function rlock(c: usize): i32 {
  if (declaredDead()) return E_STOPPED;
  while (true) {
    const rc = rwReadLock(c + C_LOCK);
    if (rc < 0) return rc;
    if (rc != OWNER_DIED && aload32(c + C_DIRTY) == 0) {
      // No writer can be active under a shared hold: an odd seq is a dead writer's leftover
      // (it died outside a change). Even it out so optimistic readers stop falling back.
      const q = aload32(c + C_SEQ);
      if ((q & 1) != 0) cas32(c + C_SEQ, q, q + 1);
      return OK;
    }
    rwReadUnlock(c + C_LOCK);
    const w = wlock(c);
    if (w < 0) return w;
    wunlock(c);
  }
}

function runlock(c: usize): void { rwReadUnlock(c + C_LOCK); }

/** Mark the start of a multi-step change on `slot`. */
@inline function beginChange(c: usize, slot: u32): void {
  hset(c, C_OP_SLOT, slot);
  // Publishes "mid-change" before any structural write.
  astore32(c + C_DIRTY, 1);
}
@inline function endChange(c: usize): void {
  // Publishes "consistent again" after the last structural write.
  astore32(c + C_DIRTY, 0);
}

/** The next insert stamp of the cache (never reused: a 64-bit counter). */
@inline function nextStamp(c: usize): i64 {
  const st = ld64(c + C_STAMP) + 1;
  st64(c + C_STAMP, st);
  return st;
}

/**
 * Announce a change of item `it` to the threads that remember its value (the
 * near cache, ts/cache/cache.ts). Every change of an item's key, value,
 * length, block or expiry calls this first, from the exclusive holder, inside
 * the seqlock window (seq odd).
 *
 * The freshness guarantee, and why it holds: a get never returns a value
 * older than the last write to its key that happens before the get, in the
 * memory model's sense: the write finished, and then the getting thread
 * synchronized with the writer, directly or through others (an atomic load of
 * something stored after the write, a lock, a signal, a message between
 * threads, a cache call that went to the core...).
 * - A thread remembers a value together with the item's version and stamp
 *   read in the same consistent snapshot (an optimistic read validated by
 *   `seq`, or one under the lock): no writer was active in between, and every
 *   writer bumps the version inside its window, so that value is the one
 *   current at that version.
 * - The version store below is atomic and comes before the writer's seqEnd
 *   and unlock. If a write happens before a get, so does its version store
 *   before the get's load of the version. That load is a plain JS load
 *   (ts/cache/cache.ts #fresh): an Int32Array element never tears, and no
 *   read, atomic or not, may return a value that a write happening before it
 *   had already replaced (the model's coherent reads). So the load returns
 *   that version or a later one, never the remembered one, and the get goes
 *   to the core, whose snapshot holds that write's value or a later one.
 * - A get that returns its remembered value observed nothing new, so it
 *   synchronizes with nobody and needs no ordering of its own; whatever a
 *   thread learns of other threads' writes comes through the core's atomic
 *   loads. No JIT may reuse one get's version load for a later get either:
 *   each near hit stores its hit count into the same array in between.
 * - A write not yet finished may or may not be seen, which the guarantee
 *   allows. In real time, a write that finished before a get began is seen
 *   by it in practice too: the CPUs these runtimes run on keep caches
 *   coherent, and a store reaches the other cores long before a call
 *   returns; the model itself only promises the statement above.
 * - Versions only grow, modulo 2^32. The bump that wraps to 0 first gives the
 *   slot a fresh stamp (plain stores before the version store; the reader
 *   loads the version and then the stamp), so a (version, stamp) pair could
 *   only come back after 2^32 writes to one item between two gets.
 */
@inline function bump(c: usize, it: usize): void {
  const v = iget(it, I_VERSION) + 1;
  if (v == 0) st64(it + I_STAMP, nextStamp(c));
  // Publishes "this item changed" to readers validating what they remember (see above).
  astore32(it + I_VERSION, v);
}

// ---- lists ----------------------------------------------------------------------

function find(c: usize, key: usize, keylen: u32, h: u32): u32 {
  const items = hget(c, C_ITEMS);
  let s = ldu32(bucketAddr(c, h));
  let guard = items;
  while (s != 0 && guard-- > 0) {
    if (s >= items) return 0; // only an optimistic reader racing a writer can see this
    const it = item(c, s);
    if (iget(it, I_HASH) == h && iget(it, I_KEYSIZE) == keylen && sameBytes(it + I_KEY, key, keylen)) return s;
    s = iget(it, I_NEXT);
  }
  return 0;
}

function chainAppend(c: usize, slot: u32): void {
  const it = item(c, slot);
  const b = bucketAddr(c, iget(it, I_HASH));
  iset(it, I_NEXT, 0);
  let s = ldu32(b);
  if (s == 0) { stu32(b, slot); iset(it, I_PREV, 0); return; }
  let guard = hget(c, C_ITEMS);
  while (guard-- > 0) {
    const n = iget(item(c, s), I_NEXT);
    if (n == 0) break;
    s = n;
  }
  iset(item(c, s), I_NEXT, slot);
  iset(it, I_PREV, s);
}

function chainRemove(c: usize, slot: u32): void {
  const it = item(c, slot);
  const prev = iget(it, I_PREV), next = iget(it, I_NEXT);
  if (prev != 0) iset(item(c, prev), I_NEXT, next);
  else stu32(bucketAddr(c, iget(it, I_HASH)), next);
  if (next != 0) iset(item(c, next), I_PREV, prev);
}

function lruAppend(c: usize, slot: u32): void {
  const it = item(c, slot);
  const tail = hget(c, C_LRU_TAIL);
  iset(it, I_LRU_PREV, tail);
  iset(it, I_LRU_NEXT, 0);
  if (tail != 0) iset(item(c, tail), I_LRU_NEXT, slot);
  else hset(c, C_LRU_HEAD, slot);
  hset(c, C_LRU_TAIL, slot);
}

function lruRemove(c: usize, slot: u32): void {
  const it = item(c, slot);
  const prev = iget(it, I_LRU_PREV), next = iget(it, I_LRU_NEXT);
  if (prev != 0) iset(item(c, prev), I_LRU_NEXT, next); else hset(c, C_LRU_HEAD, next);
  if (next != 0) iset(item(c, next), I_LRU_PREV, prev); else hset(c, C_LRU_TAIL, prev);
}

// ---- block bitmap -----------------------------------------------------------------

@inline function bitUsed(c: usize, b: u32): bool { return (load<u8>(bitmapByte(c, b)) & bitOf(b)) != 0; }
@inline function bitSet(c: usize, b: u32): void { const p = bitmapByte(c, b); store<u8>(p, load<u8>(p) | bitOf(b)); }
@inline function bitClear(c: usize, b: u32): void { const p = bitmapByte(c, b); store<u8>(p, load<u8>(p) & ~bitOf(b)); }

/** First fit of `n` contiguous free blocks from the bit after the last run, wrapping once; -1 if none. */
function runAlloc(c: usize, n: u32): i32 {
  const total = hget(c, C_BLOCKS);
  if (n == 0 || n > total) return -1;
  const pos = hget(c, C_BITMAP_POS) % total;
  let found: i32 = -1;
  let run: u32 = 0, start: u32 = pos;
  for (let i = pos; i < total; i++) {
    if (bitUsed(c, i)) { run = 0; start = i + 1; } else if (++run == n) { found = <i32>start; break; }
  }
  if (found < 0) {
    run = 0; start = 0;
    const end = min(total, pos + n - 1);
    for (let i: u32 = 0; i < end; i++) {
      if (bitUsed(c, i)) { run = 0; start = i + 1; } else if (++run == n) { found = <i32>start; break; }
    }
  }
  if (found < 0) return -1;
  for (let b = <u32>found; b < <u32>found + n; b++) bitSet(c, b);
  hset(c, C_BITMAP_POS, (<u32>found + n) % total);
  return found;
}

function runFree(c: usize, first: u32, n: u32): void {
  for (let b = first; b < first + n; b++) bitClear(c, b);
}

// ---- item life ---------------------------------------------------------------------

/** Unlink and free a live slot. Runs inside a change (dirty set by the caller). */
function itemDelete(c: usize, slot: u32): void {
  const it = item(c, slot);
  bump(c, it);
  chainRemove(c, slot);
  if (has(c, F_LRU)) lruRemove(c, slot);
  if (has(c, F_BITMAP)) runFree(c, iget(it, I_BLOCK), blocksFor(c, iget(it, I_VALSIZE)));
  iset(it, I_KEYSIZE, 0);
  const top = hget(c, C_FREE_TOP);
  stu32(freeAddr(c, top), slot);
  hset(c, C_FREE_TOP, top + 1);
  hset(c, C_COUNT, hget(c, C_COUNT) - 1);
}

@inline function expired(it: usize, now: i64): bool {
  const e = ld64(it + I_EXPIRES);
  return e != 0 && e <= now;
}

/** Delete every expired item; returns how many. */
function sweepLocked(c: usize, now: i64): u32 {
  let freed: u32 = 0;
  const items = hget(c, C_ITEMS);
  for (let s: u32 = 1; s < items; s++) {
    const it = item(c, s);
    if (iget(it, I_KEYSIZE) != 0 && expired(it, now)) {
      beginChange(c, 0);
      itemDelete(c, s);
      endChange(c);
      freed++;
    }
  }
  return freed;
}

function clearLocked(c: usize): void {
  const items = hget(c, C_ITEMS);
  for (let s: u32 = 1; s < items; s++) {
    if (iget(item(c, s), I_KEYSIZE) != 0) {
      beginChange(c, 0);
      itemDelete(c, s);
      endChange(c);
    }
  }
}

/** uWSGI's "cache is full" sequence: purge the LRU item, sweep, clear. */
function full(c: usize, now: i64): void {
  st64(c + C_FULL, ld64(c + C_FULL) + 1);
  if (has(c, F_LRU)) {
    const head = hget(c, C_LRU_HEAD);
    if (head != 0) { beginChange(c, 0); itemDelete(c, head); endChange(c); }
  }
  const every = hget(c, C_SWEEP_ON_FULL);
  if (every != 0 && ld64(c + C_NEXT_SCAN) <= now) {
    const freed = sweepLocked(c, now);
    st64(c + C_NEXT_SCAN, now + <i64>every);
    if (freed > 0) return;
  }
  if (has(c, F_CLEAR_ON_FULL)) clearLocked(c);
}

/** The live item for the key in scratch, deleting it first when lazily expired. */
function lookupLive(c: usize, key: usize, keylen: u32, h: u32, now: i64): u32 {
  const s = find(c, key, keylen, h);
  if (s != 0 && has(c, F_LAZY) && expired(item(c, s), now)) {
    beginChange(c, 0);
    itemDelete(c, s);
    endChange(c);
    return 0;
  }
  return s;
}

@inline function validKey(c: usize, keylen: u32): bool { return keylen != 0 && keylen <= hget(c, C_KEYSIZE); }

// ---- reads --------------------------------------------------------------------------

/**
 * A full memory barrier. `atomic.fence` does not validate with this compiler's
 * Binaryen, so this is a sequentially consistent read-modify-write of a word on
 * this thread's own counter line: no other thread touches it, so it costs no
 * cache-line traffic.
 */
@inline function fence(c: usize): void {
  const t = selfTid < 0 || <u32>selfTid >= hget(c, C_THREADS) ? 0 : <u32>selfTid;
  atomic.add<i32>(c + hget(c, C_COUNTERS_OFF) + <usize>t * COUNTER_LINE + T_FENCE, 0);
}

/** This thread's counter line of cache `c`, or 0 when the thread has none. */
@inline function lineAddr(c: usize): usize {
  if (selfTid < 0 || <u32>selfTid >= hget(c, C_THREADS)) return 0;
  return c + hget(c, C_COUNTERS_OFF) + <usize>selfTid * COUNTER_LINE;
}

/** Bump one of this thread's counters: a plain add on a line no other thread writes. */
@inline function count(c: usize, field: u32): void {
  const line = lineAddr(c);
  if (line == 0) return;
  store<i64>(line + field, load<i64>(line + field) + 1);
}

/** Address of this thread's counter line of cache `c` (abi.ts CACHE_LINE_* fields), 0 when it has none. */
export function cacheLineAddr(c: usize): usize { return lineAddr(c); }

/**
 * Fold the near-cache hits JS counted on this thread's line into its hits
 * (JS calls it before the u32 count could wrap: abi.ts CACHE_NEAR_FOLD).
 */
export function cacheNearFold(c: usize): void {
  const line = lineAddr(c);
  if (line == 0) return;
  store<i64>(line + T_HITS, load<i64>(line + T_HITS) + <i64>ldu32(line + T_NEAR));
  stu32(line + T_NEAR, 0);
}

// What the last hit found, read in the same snapshot as its value (per thread).
let foundSlot: u32 = 0;
let foundItem: usize = 0;
let foundStamp: i64 = 0;
let foundVersion: u32 = 0;
let foundExpires: i64 = 0;

/** Note slot `s` (item `it`) as found: called where its value is read, inside the same snapshot. */
@inline function noteFound(it: usize, s: u32): void {
  foundSlot = s;
  foundItem = it;
  foundStamp = ld64(it + I_STAMP);
  foundVersion = iget(it, I_VERSION);
  foundExpires = ld64(it + I_EXPIRES);
}

/**
 * Copy the last hit to this thread's line, where JS reads it to remember the
 * key (its slot and stamp as a lookup hint, its version and expiry with the
 * value). Plain stores: only this thread reads them, right after this call.
 */
function recordFound(c: usize): void {
  const line = lineAddr(c);
  if (line == 0) return;
  stu32(line + T_FOUND_SLOT, foundSlot);
  stu32(line + T_FOUND_VERSION, foundVersion);
  st64(line + T_FOUND_STAMP, foundStamp);
  st64(line + T_FOUND_EXPIRES, foundExpires);
  stu32(line + T_FOUND_ITEM, <u32>foundItem);
}

/** Where cacheGet/cacheSet put the value in scratch: after the key, aligned to abi.ts CACHE_VALUE_ALIGN. */
@inline function valueOffset(keylen: u32): u32 { return alignUp(keylen, CACHE_VALUE_ALIGN); }
export function cacheValueOffset(keylen: u32): u32 { return valueOffset(keylen); }

/** Optimistic attempts before a reader falls back to the shared hold. */
const OPTIMISTIC_TRIES: i32 = 4;
/**
 * Loads of `seq` an optimistic reader spends waiting for an active writer to
 * leave its window before the attempt counts as failed. A window is one change
 * (about 100 ns); without the wait, a thread writing back to back made every
 * reader that met it use up its attempts at once and take the shared hold,
 * queueing behind the writer (the bench's rewrite row: 1% of the gets cost
 * about 3 us each). Bounded, so a writer that died mid-window (seq left odd)
 * costs a few hundred loads before the shared hold repairs it.
 */
const SEQ_WAIT: i32 = 128;

/** `seq` once no writer is active (even), or an odd value when one stayed active for SEQ_WAIT loads. */
@inline function settledSeq(c: usize): u32 {
  // Observes the last writer's seqEnd (its changes are visible after this load).
  let seq = aload32(c + C_SEQ);
  for (let i = 0; (seq & 1) != 0 && i < SEQ_WAIT; i++) seq = aload32(c + C_SEQ);
  return seq;
}
/** Returned by optimisticGet when it could not get a consistent snapshot. */
const RETRY: i32 = -1;

/**
 * One lock-free lookup: copy the value of the key in scratch to scratch +
 * valueOffset. Returns its length, 0 on a miss, RETRY when `seq` moved (or a
 * writer is active, or the item needs a change: a lazily expired one), or
 * E_SCRATCH (the value does not fit in scratch) for a consistent hit. Every
 * field read from the structure is validated before it is used as an index,
 * since a racing writer can show a half-made state: nothing here can leave the
 * cache's region or loop more than `items` times.
 */
function optimisticGet(c: usize, key: usize, keylen: u32, h: u32, now: i64): i32 {
  const seq = settledSeq(c);
  if ((seq & 1) != 0) return RETRY;
  const items = hget(c, C_ITEMS);
  let s = ldu32(bucketAddr(c, h));
  let guard = items;
  let len: i32 = 0;
  while (s != 0) {
    if (s >= items || guard-- == 0) return RETRY;
    const it = item(c, s);
    if (iget(it, I_HASH) == h && iget(it, I_KEYSIZE) == keylen && sameBytes(it + I_KEY, key, keylen)) {
      if (has(c, F_LAZY) && expired(it, now)) return RETRY; // deleting it needs the exclusive hold
      const vs = iget(it, I_VALSIZE);
      const b = iget(it, I_BLOCK);
      const blocks = hget(c, C_BLOCKS);
      if (vs == 0 || <f64>vs > maxValue(c) || b >= blocks || <u64>b + <u64>blocksFor(c, vs) > <u64>blocks) return RETRY;
      const off = valueOffset(keylen);
      if (<u64>off + <u64>vs > <u64>scratchSize()) len = E_SCRATCH;
      else { copyBytes(key + off, blockAddr(c, b), vs); len = <i32>vs; }
      noteFound(it, s);
      break;
    }
    s = iget(it, I_NEXT);
  }
  // Keeps the reads above before the check below (see readFence).
  if (readFence) fence(c);
  // Observes whether any writer started since the first load: if not, what was read is one snapshot.
  if (aload32(c + C_SEQ) != seq) return RETRY;
  return len;
}

/**
 * One read of the item a hint names (slot item `it`, insert stamp `want`): copies
 * its value to `out` and returns its length; 0 when the slot no longer holds that
 * insert or it is lazily expired (the full path deals with both); E_SCRATCH when
 * the value is larger than `room`; RETRY when what was read cannot be a finished
 * item (a writer was mid-change: only a lock-free read can meet that).
 */
@inline function readByHint(c: usize, it: usize, slot: u32, want: i64, flags: u32, now: u32, out: usize, room: u32): i32 {
  if (iget(it, I_KEYSIZE) == 0 || ld64(it + I_STAMP) != want) return 0;
  if ((flags & F_LAZY) != 0 && expired(it, <i64>now)) return 0;
  const vs = iget(it, I_VALSIZE);
  const b = iget(it, I_BLOCK);
  const blocks = hget(c, C_BLOCKS);
  const bs = hget(c, C_BLOCKSIZE);
  if (vs == 0 || b >= blocks) return RETRY;
  if ((flags & F_BITMAP) != 0 ? <u64>b + <u64>((vs + bs - 1) / bs) > <u64>blocks : vs > bs) return RETRY;
  if (vs > room) return E_SCRATCH;
  copyBytes(out, blockAddr(c, b), vs);
  noteFound(it, slot);
  return <i32>vs;
}

/**
 * cache_get by hint: the item in `slot` if its stamp is still the one given
 * (then it holds the key the hint was made for: stamps are never reused).
 * Copies the value to the start of scratch and returns its length; 0 when the
 * hint is stale or the lookup needs the full path (lazy expiry); E_SCRATCH when
 * it does not fit. Lock-free, for caches without purge_lru, unless writers keep
 * it from a consistent snapshot: then it reads under the shared hold. Every
 * argument is an i32, which the engines pass without conversion: the stamp as
 * its two 32-bit halves, `now` as unsigned seconds (read only by lazy_expire caches).
 */
export function cacheGetHinted(c: usize, slot: u32, stampLo: u32, stampHi: u32, now: u32): i32 {
  if (declaredDead()) return E_STOPPED;
  const flags = hget(c, C_FLAGS);
  if ((flags & F_LRU) != 0 || slot == 0 || slot >= hget(c, C_ITEMS)) return 0;
  const want = (<i64>stampHi << 32) | <i64>stampLo;
  const it = item(c, slot);
  const out = scratchPtr();
  const room = scratchSize();
  let len: i32 = RETRY;
  for (let i = 0; i < OPTIMISTIC_TRIES && len == RETRY; i++) {
    const seq = settledSeq(c);
    if ((seq & 1) != 0) continue;
    const got = readByHint(c, it, slot, want, flags, now, out, room);
    // Keeps the reads above before the check below (see readFence).
    if (readFence) fence(c);
    // Observes whether a writer started meanwhile.
    if (aload32(c + C_SEQ) == seq) len = got;
  }
  if (len == RETRY) {
    // Writers kept changing the cache through every attempt: the same read under the shared
    // hold, still by the hint (returning 0 here would make JS forget it and look the key up).
    const rc = rlock(c);
    if (rc < 0) return rc;
    len = readByHint(c, it, slot, want, flags, now, out, room);
    runlock(c);
    // Under the hold the item is whole; an unreadable one is left to the full path.
    if (len == RETRY) len = 0;
  }
  if (len > 0) { count(c, T_HITS); recordFound(c); }
  return len;
}

/**
 * Whether optimistic readers of this instance (thread) fence before their
 * second load of `seq`. On, on every CPU: the wasm memory model orders a
 * seq-cst load only against the accesses after it, so a compiler may move the
 * value copy's plain loads past the second load of `seq`, and a torn copy would
 * then pass the check. That holds on x86 too, whose hardware keeps loads in
 * order but whose engines still compile wasm. ts/cache/cache.ts never turns it
 * off; cache_set_read_fence(0) is there to measure what the fence costs.
 */
let readFence: bool = true;
export function cacheSetReadFence(on: i32): void { readFence = on != 0; }

/**
 * cache_get in one call: the key in this thread's scratch (keylen bytes); the
 * value is copied to scratch + cacheValueOffset(keylen). Returns its length,
 * 0 on a miss, E_SCRATCH when it is larger than the scratch (then use
 * cacheGetBegin), or a negative status. Without purge_lru it takes no lock.
 */
export function cacheGet(c: usize, keylen: u32, now: f64): i32 {
  if (!validKey(c, keylen)) return 0;
  if (declaredDead()) return E_STOPPED;
  const key = scratchPtr();
  if (!has(c, F_LRU)) {
    const h = hashKey(c, key, keylen);
    const t = <i64>now;
    for (let i = 0; i < OPTIMISTIC_TRIES; i++) {
      const r = optimisticGet(c, key, keylen, h, t);
      if (r == RETRY) continue;
      count(c, r == 0 ? T_MISS : T_HITS);
      if (r > 0) recordFound(c);
      return r;
    }
  }
  // A writer is active, the item must change (LRU touch, lazy expiry): the locked path.
  const a = lookupBegin(c, keylen, now, true);
  if (a <= 0) return <i32>a;
  const off = valueOffset(keylen);
  if (<u64>off + <u64>readLen > <u64>scratchSize()) { cacheReadEnd(c); return E_SCRATCH; }
  copyBytes(key + off, <usize>a, readLen);
  const n = readLen;
  cacheReadEnd(c);
  return <i32>n;
}

/** 1 when the key exists, 0 otherwise; lock-free like cacheGet (no copy). */
export function cacheHas(c: usize, keylen: u32, now: f64): i32 {
  if (!validKey(c, keylen)) return 0;
  if (declaredDead()) return E_STOPPED;
  if (!has(c, F_LRU) && !has(c, F_LAZY)) {
    const key = scratchPtr();
    const h = hashKey(c, key, keylen);
    for (let i = 0; i < OPTIMISTIC_TRIES; i++) {
      const seq = settledSeq(c);
      if ((seq & 1) != 0) continue;
      const s = find(c, key, keylen, h);
      // Keeps the lookup's reads before the check (see readFence).
      if (readFence) fence(c);
      if (aload32(c + C_SEQ) == seq) { count(c, s != 0 ? T_HITS : T_MISS); return s != 0 ? 1 : 0; }
    }
  }
  return cacheExists(c, keylen, now);
}


// Per-instance (per-thread) state of an open read.
let readMode: i32 = 0; // 1 shared, 2 exclusive
let readLen: u32 = 0;
// Absolute expiry (unix s, 0 = never) of the item the last cacheGetBegin found (the remote get reply carries it).
let readExpires: i64 = 0;

/**
 * Find the key in this thread's scratch (keylen bytes) and keep the cache held
 * so JS can copy the value out: returns the value's address (its length via
 * cacheLastLen), then the caller must call cacheReadEnd. Returns 0 on a miss
 * (nothing held) or a negative status.
 */
export function cacheGetBegin(c: usize, keylen: u32, now: f64): f64 {
  return lookupBegin(c, keylen, now, true);
}

/** cacheGetBegin's work; `touch` moves the item to the LRU tail (get does, exists does not). */
function lookupBegin(c: usize, keylen: u32, now: f64, touch: bool): f64 {
  if (!validKey(c, keylen)) return 0;
  const key = scratchPtr();
  const h = hashKey(c, key, keylen);
  const t = <i64>now;
  const exclusive = has(c, F_LRU);
  const rc = exclusive ? wlock(c) : rlock(c);
  if (rc < 0) return <f64>rc;
  let s = find(c, key, keylen, h);
  if (s != 0 && has(c, F_LAZY) && expired(item(c, s), t)) {
    if (!exclusive) {
      // Deleting needs the exclusive hold: trade up, then look again.
      runlock(c);
      const w = wlock(c);
      if (w < 0) return <f64>w;
      s = lookupLive(c, key, keylen, h, t);
      wunlock(c);
    } else {
      s = lookupLive(c, key, keylen, h, t);
      wunlock(c);
    }
    count(c, T_MISS);
    return 0;
  }
  if (s == 0) {
    if (exclusive) wunlock(c); else runlock(c);
    count(c, T_MISS);
    return 0;
  }
  const it = item(c, s);
  if (exclusive && touch) { beginChange(c, 0); lruRemove(c, s); lruAppend(c, s); endChange(c); }
  count(c, T_HITS);
  // Under the hold no writer is active: the item's version and value agree.
  noteFound(it, s);
  recordFound(c);
  readMode = exclusive ? 2 : 1;
  readLen = iget(it, I_VALSIZE);
  readExpires = ld64(it + I_EXPIRES);
  return <f64>blockAddr(c, iget(it, I_BLOCK));
}

export function cacheLastLen(): u32 { return readLen; }

/** Expiry of the item the last cacheGetBegin found: unix seconds, 0 when it never expires. */
export function cacheLastExpires(): f64 { return <f64>readExpires; }

export function cacheReadEnd(c: usize): void {
  if (declaredDead()) { readMode = 0; return; } // the master already gave back this thread's holds
  if (readMode == 2) wunlock(c); else if (readMode == 1) runlock(c);
  readMode = 0;
}

/** 1 when the key exists (expired-but-unswept items exist, as in uWSGI), 0 otherwise. */
export function cacheExists(c: usize, keylen: u32, now: f64): i32 {
  const a = lookupBegin(c, keylen, now, false);
  if (a <= 0) return <i32>a;
  cacheReadEnd(c);
  return 1;
}

/** cache_num: the value as int64 when it is exactly 8 bytes, at `out`; 1 found, 0 not. */
export function cacheNum(c: usize, keylen: u32, now: f64, out: usize): i32 {
  const a = cacheGetBegin(c, keylen, now);
  if (a <= 0) { st64(out, 0); return <i32>a; }
  const ok = readLen == 8;
  st64(out, ok ? load<i64>(<usize>a) : 0);
  cacheReadEnd(c);
  return ok ? 1 : 0;
}

// ---- writes -------------------------------------------------------------------------

/** Absolute expiry for a relative `expires` (0 = never). With purge_lru uWSGI stores it as given. */
@inline function absExpires(c: usize, expires: i64, now: i64): i64 {
  if (expires == 0) return 0;
  return has(c, F_LRU) ? expires : now + expires;
}

/**
 * Prepare a store under the exclusive hold (taken by the caller): returns the
 * address where the value's `vallen` bytes go, or 0 when uWSGI refuses (the key
 * exists and !update, sizes, full). storeCommit finishes it.
 */
function storePrepare(c: usize, key: usize, keylen: u32, vallen: u32, expiresAbs: i64, keep: bool, update: bool, now: i64): usize {
  if (!validKey(c, keylen) || !validValue(c, vallen)) return 0;
  const h = hashKey(c, key, keylen);
  const found = lookupLive(c, key, keylen, h, now);
  if (found != 0) return update ? storeBegin(c, found, vallen, expiresAbs, keep, 0, now) : 0;
  if (hget(c, C_FREE_TOP) == 0) {
    full(c, now);
    if (hget(c, C_FREE_TOP) == 0) return 0;
  }
  const s = ldu32(freeAddr(c, hget(c, C_FREE_TOP) - 1));
  const a = storeBegin(c, s, vallen, expiresAbs, keep, OP_NEW, now);
  if (a == 0) return 0;
  hset(c, C_FREE_TOP, hget(c, C_FREE_TOP) - 1);
  const it = item(c, s);
  copyBytes(it + I_KEY, key, keylen);
  iset(it, I_HASH, h);
  iset(it, I_VALSIZE, vallen);
  iset(it, I_BLOCK, hget(c, C_OP_BLOCK));
  st64(it + I_EXPIRES, expiresAbs);
  st64(it + I_STAMP, nextStamp(c));
  iset(it, I_KEYSIZE, keylen);
  chainAppend(c, s);
  if (has(c, F_LRU)) lruAppend(c, s);
  hset(c, C_COUNT, hget(c, C_COUNT) + 1);
  return a;
}

@inline function validValue(c: usize, vallen: u32): bool { return vallen != 0 && <f64>vallen <= maxValue(c); }

/**
 * The part of a store that follows the choice of slot `s` (a live item to
 * overwrite, or a free slot when `opFlags` has OP_NEW): the value's blocks
 * (bitmap caches), the item's version bump and the journal entry that
 * storeCommit (or a repair) completes. The value's address, or 0 when no run
 * of blocks is free (nothing changed but the full counter).
 */
function storeBegin(c: usize, s: u32, vallen: u32, expiresAbs: i64, keep: bool, opFlags: u32, now: i64): usize {
  let block = s;
  if (has(c, F_BITMAP)) {
    beginChange(c, 0); // the run's bits are set before the item points at them
    const b = runAlloc(c, blocksFor(c, vallen));
    if (b < 0) { endChange(c); full(c, now); return 0; } // uWSGI does not retry after a bitmap failure
    block = <u32>b;
  }
  bump(c, item(c, s));
  beginChange(c, s);
  hset(c, C_OP_BLOCK, block);
  hset(c, C_OP_LEN, vallen);
  hset(c, C_OP_FLAGS, opFlags | (keep ? OP_KEEP_EXPIRES : 0));
  st64(c + C_OP_EXPIRES, expiresAbs);
  return blockAddr(c, block);
}

function storeCommit(c: usize): void {
  const s = hget(c, C_OP_SLOT);
  const flags = hget(c, C_OP_FLAGS);
  if ((flags & OP_NEW) == 0) {
    const it = item(c, s);
    const block = hget(c, C_OP_BLOCK);
    if (has(c, F_BITMAP)) runFree(c, iget(it, I_BLOCK), blocksFor(c, iget(it, I_VALSIZE)));
    iset(it, I_BLOCK, block);
    iset(it, I_VALSIZE, hget(c, C_OP_LEN));
    if ((flags & OP_KEEP_EXPIRES) == 0) st64(it + I_EXPIRES, ld64(c + C_OP_EXPIRES));
    if (has(c, F_LRU)) { lruRemove(c, s); lruAppend(c, s); }
  }
  endChange(c);
}

/**
 * cache_set / cache_update, first half: key in scratch; `mode` is abi.ts
 * CACHE_STORE_* bits (UPDATE: overwrite a live key; KEEP_EXPIRES: it keeps its
 * expiry). Returns the address for the value's bytes with the cache held (JS
 * copies the value there, then calls cacheStoreEnd), 0 when refused, or a
 * negative status.
 */
export function cacheStoreBegin(c: usize, keylen: u32, vallen: u32, expires: f64, now: f64, mode: i32): f64 {
  const rc = wlock(c);
  if (rc < 0) return <f64>rc;
  const t = <i64>now;
  const a = storePrepare(c, scratchPtr(), keylen, vallen, absExpires(c, <i64>expires, t),
    (mode & CACHE_STORE_KEEP_EXPIRES) != 0, (mode & CACHE_STORE_UPDATE) != 0, t);
  if (a == 0) { wunlock(c); return 0; }
  return <f64>a;
}

/**
 * cache_set / cache_update in one call: key in scratch, the value's `vallen`
 * bytes at scratch + cacheValueOffset(keylen) (the caller checked they fit);
 * `mode` as cacheStoreBegin's. Returns 1 stored, 0 refused, or a negative status.
 */
export function cacheSet(c: usize, keylen: u32, vallen: u32, expires: f64, now: f64, mode: i32): i32 {
  const rc = wlock(c);
  if (rc < 0) return rc;
  const key = scratchPtr();
  const t = <i64>now;
  const a = storePrepare(c, key, keylen, vallen, absExpires(c, <i64>expires, t),
    (mode & CACHE_STORE_KEEP_EXPIRES) != 0, (mode & CACHE_STORE_UPDATE) != 0, t);
  if (a == 0) { wunlock(c); return 0; }
  copyBytes(a, key + valueOffset(keylen), vallen);
  storeCommit(c);
  storeFound(c);
  wunlock(c);
  return 1;
}

/**
 * cache_set / cache_update of a key whose item this thread found before
 * (`slot` and its insert stamp, as cacheGetHinted takes them), with the value's
 * `vallen` bytes at the start of scratch: no key, no hashing, no chain walk.
 * Under the exclusive hold the slot must still hold that live item (stamps are
 * never reused, so the same stamp means the same key). Returns 1 stored, 0
 * refused as cacheSet would (cache_set of a live key, sizes, full), a negative
 * status, or E_HINT when the slot no longer holds the item (or a lazy_expire
 * item has expired, which only the full path may drop): nothing was changed.
 */
export function cacheSetHinted(c: usize, slot: u32, stampLo: u32, stampHi: u32, vallen: u32, expires: f64, now: f64, mode: i32): i32 {
  if (slot == 0 || slot >= hget(c, C_ITEMS)) return E_HINT;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const it = item(c, slot);
  const t = <i64>now;
  if (iget(it, I_KEYSIZE) == 0 || ld64(it + I_STAMP) != ((<i64>stampHi << 32) | <i64>stampLo) || (has(c, F_LAZY) && expired(it, t))) {
    wunlock(c);
    return E_HINT;
  }
  if ((mode & CACHE_STORE_UPDATE) == 0 || !validValue(c, vallen)) { wunlock(c); return 0; }
  const a = storeBegin(c, slot, vallen, absExpires(c, <i64>expires, t), (mode & CACHE_STORE_KEEP_EXPIRES) != 0, 0, t);
  if (a == 0) { wunlock(c); return 0; }
  copyBytes(a, scratchPtr(), vallen);
  storeCommit(c);
  wunlock(c);
  return 1;
}

/** After a store's commit, under the hold: note its item on this thread's line, where JS learns the key's slot hint. */
@inline function storeFound(c: usize): void {
  const s = hget(c, C_OP_SLOT);
  noteFound(item(c, s), s);
  recordFound(c);
}

export function cacheStoreEnd(c: usize): void {
  // A thread declared dead meanwhile no longer holds the cache: its change is the repairer's to drop.
  if (rwHeldBySelf(c + C_LOCK) != 1 || declaredDead()) return;
  storeCommit(c);
  wunlock(c);
}

/** 1 deleted, 0 missing. */
export function cacheDel(c: usize, keylen: u32, now: f64): i32 {
  if (!validKey(c, keylen)) return 0;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const key = scratchPtr();
  const s = lookupLive(c, key, keylen, hashKey(c, key, keylen), <i64>now);
  if (s != 0) { beginChange(c, s); itemDelete(c, s); endChange(c); }
  wunlock(c);
  return s != 0 ? 1 : 0;
}

export function cacheClear(c: usize): i32 {
  const rc = wlock(c);
  if (rc < 0) return rc;
  clearLocked(c);
  wunlock(c);
  return OK;
}

/**
 * cache_touch: give the live key in scratch a new expiry (`expires` seconds
 * from now, 0 never) without changing its value. 1 done, 0 missing.
 */
export function cacheTouch(c: usize, keylen: u32, expires: f64, now: f64): i32 {
  if (!validKey(c, keylen)) return 0;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const key = scratchPtr();
  const t = <i64>now;
  const s = lookupLive(c, key, keylen, hashKey(c, key, keylen), t);
  if (s != 0) {
    const it = item(c, s);
    // The expiry is part of what a near cache remembers (lazy_expire checks it).
    bump(c, it);
    st64(it + I_EXPIRES, absExpires(c, <i64>expires, t));
  }
  wunlock(c);
  return s != 0 ? 1 : 0;
}

// ---- read-modify-write under the exclusive hold (cache_cas, cache_update_with) ----------
//
// cacheRmwBegin takes the hold and finds the key; JS reads the value where it
// is, decides, then ends with exactly one of cacheRmwStore (+ cacheStoreEnd),
// cacheRmwDelete or cacheRmwEnd, each of which gives the hold back. The key is
// put in scratch again before each of them (JS may have used the scratch meanwhile).

/**
 * Take the cache exclusively and look the key in scratch up (a lazily expired
 * item is deleted first). Returns the value's address (length: cacheLastLen,
 * expiry: cacheLastExpires) or 0 when the key is missing, with the hold kept
 * either way; a negative status (nothing held) when the hold cannot be taken.
 */
export function cacheRmwBegin(c: usize, keylen: u32, now: f64): f64 {
  const rc = wlock(c);
  if (rc < 0) return <f64>rc;
  readLen = 0;
  readExpires = 0;
  if (!validKey(c, keylen)) return 0;
  const key = scratchPtr();
  const s = lookupLive(c, key, keylen, hashKey(c, key, keylen), <i64>now);
  if (s == 0) return 0;
  const it = item(c, s);
  readLen = iget(it, I_VALSIZE);
  readExpires = ld64(it + I_EXPIRES);
  return <f64>blockAddr(c, iget(it, I_BLOCK));
}

/** Whether this thread still holds cache `c` exclusively (a thread declared dead no longer does). */
@inline function heldExclusively(c: usize): bool { return rwHeldBySelf(c + C_LOCK) == 1 && !declaredDead(); }

/**
 * Under cacheRmwBegin's hold: store `vallen` bytes for the key in scratch
 * (`mode` as cacheStoreBegin's). Returns the address for the value (then
 * cacheStoreEnd commits and gives the hold back), or 0 when refused (the hold
 * is given back), or E_BAD_STATE when the hold is not this thread's.
 */
export function cacheRmwStore(c: usize, keylen: u32, vallen: u32, expires: f64, now: f64, mode: i32): f64 {
  if (!heldExclusively(c)) return <f64>E_BAD_STATE;
  const t = <i64>now;
  const a = storePrepare(c, scratchPtr(), keylen, vallen, absExpires(c, <i64>expires, t),
    (mode & CACHE_STORE_KEEP_EXPIRES) != 0, (mode & CACHE_STORE_UPDATE) != 0, t);
  if (a == 0) { wunlock(c); return 0; }
  return <f64>a;
}

/** Under cacheRmwBegin's hold: delete the key in scratch and give the hold back. 1 deleted, 0 missing. */
export function cacheRmwDelete(c: usize, keylen: u32, now: f64): i32 {
  if (!heldExclusively(c)) return E_BAD_STATE;
  const key = scratchPtr();
  const s = validKey(c, keylen) ? lookupLive(c, key, keylen, hashKey(c, key, keylen), <i64>now) : 0;
  if (s != 0) { beginChange(c, s); itemDelete(c, s); endChange(c); }
  wunlock(c);
  return s != 0 ? 1 : 0;
}

/** Give cacheRmwBegin's hold back without a change. */
export function cacheRmwEnd(c: usize): void {
  if (heldExclusively(c)) wunlock(c);
}

const I64_MIN: i64 = -9223372036854775807 - 1;
/** Set by applyMath when the result does not fit in a signed 64-bit integer. */
let mathOverflow = false;

/**
 * `op` is one of abi.ts CACHE_MATH_*: anything other than INC, DEC and MUL
 * divides. A result past the int64 range sets mathOverflow (uWSGI wraps it).
 */
function applyMath(v: i64, op: i32, d: i64): i64 {
  mathOverflow = false;
  let r: i64;
  if (op == CACHE_MATH_INC) {
    r = v + d;
    mathOverflow = ((v ^ r) & (d ^ r)) < 0;
  } else if (op == CACHE_MATH_DEC) {
    r = v - d;
    mathOverflow = ((v ^ d) & (v ^ r)) < 0;
  } else if (op == CACHE_MATH_MUL) {
    r = v * d;
    mathOverflow = v != 0 && ((v == -1 && d == I64_MIN) || (d == -1 && v == I64_MIN) || r / v != d);
  } else if (d == 0) {
    r = 0; // uWSGI stores 0 on division by zero
  } else if (d == -1) {
    r = 0 - v; // INT64_MIN / -1 would trap
    mathOverflow = v == I64_MIN;
  } else {
    r = v / d;
  }
  return r;
}

/**
 * cache_inc/dec/mul/div: 1 done, 0 refused (full...), E_VALUE_RANGE when the
 * result does not fit in int64 (nothing is changed). A missing key starts at
 * math_initial and takes `expires`; an existing one keeps its expiry. An
 * existing value of any size is read as the first 8 bytes of its block(s).
 */
export function cacheMath(c: usize, keylen: u32, op: i32, delta: i64, expires: f64, now: f64): i32 {
  if (!validKey(c, keylen)) return 0;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const key = scratchPtr();
  const t = <i64>now;
  const s = lookupLive(c, key, keylen, hashKey(c, key, keylen), t);
  let v: i64 = ld64(c + C_MATH_INITIAL);
  if (s != 0) {
    const it = item(c, s);
    const cap = has(c, F_BITMAP) ? blocksFor(c, iget(it, I_VALSIZE)) * hget(c, C_BLOCKSIZE) : hget(c, C_BLOCKSIZE);
    const p = blockAddr(c, iget(it, I_BLOCK));
    if (cap >= 8) v = load<i64>(p);
    else { v = 0; for (let i: u32 = 0; i < cap; i++) v |= (<i64>load<u8>(p + i)) << (<i64>(i * 8)); }
  }
  v = applyMath(v, op, delta);
  if (mathOverflow) { wunlock(c); return E_VALUE_RANGE; }
  const a = storePrepare(c, key, keylen, 8, absExpires(c, <i64>expires, t), s != 0, true, t);
  if (a == 0) { wunlock(c); return 0; }
  store<i64>(a, v);
  storeCommit(c);
  wunlock(c);
  return 1;
}

export function cacheMathF(c: usize, keylen: u32, op: i32, delta: f64, expires: f64, now: f64): i32 {
  return cacheMath(c, keylen, op, <i64>delta, expires, now);
}

// ---- keys ----------------------------------------------------------------------------

let iterBucket: u32 = 0;
let iterSlot: u32 = 0;

/** Hold the cache for reading and start walking keys in bucket order. */
export function cacheKeysBegin(c: usize): i32 {
  const rc = rlock(c);
  if (rc < 0) return rc;
  iterBucket = 0;
  iterSlot = 0;
  return OK;
}

/** The next live slot in bucket then chain order, or 0 at the end. */
export function cacheKeysNext(c: usize): u32 {
  if (iterSlot != 0) {
    iterSlot = iget(item(c, iterSlot), I_NEXT);
    if (iterSlot != 0) return iterSlot;
    iterBucket++;
  }
  const hs = hget(c, C_HASHSIZE);
  const base = c + hget(c, C_HASH_OFF);
  while (iterBucket < hs) {
    const s = ldu32(base + iterBucket * 4);
    if (s != 0) { iterSlot = s; return s; }
    iterBucket++;
  }
  return 0;
}

export function cacheKeysEnd(c: usize): void { if (!declaredDead()) runlock(c); }

/** Address of slot `s`'s item (its keysize at +0, key bytes at +I_KEY). */
export function cacheItemAddr(c: usize, s: u32): usize { return item(c, s); }

// ---- store snapshots (the caller holds the cache: cacheKeysBegin) ---------------------

/** Address of slot `s`'s value. */
export function cacheItemValueAddr(c: usize, s: u32): usize { return blockAddr(c, iget(item(c, s), I_BLOCK)); }
/** Length of slot `s`'s value. */
export function cacheItemValueLen(c: usize, s: u32): u32 { return iget(item(c, s), I_VALSIZE); }
/** Slot `s`'s expiry as stored (absolute seconds; 0 = never). */
export function cacheItemExpires(c: usize, s: u32): f64 { return <f64>ld64(item(c, s) + I_EXPIRES); }

/**
 * Put back an item read from a store file: key in scratch, `expiresAbs` as
 * stored (not relative to now). Returns the address for the value's bytes with
 * the cache held exclusively (then cacheStoreEnd), 0 when refused, or a status.
 */
export function cacheRestoreBegin(c: usize, keylen: u32, vallen: u32, expiresAbs: f64): f64 {
  const rc = wlock(c);
  if (rc < 0) return <f64>rc;
  const a = storePrepare(c, scratchPtr(), keylen, vallen, <i64>expiresAbs, false, true, 0);
  if (a == 0) { wunlock(c); return 0; }
  return <f64>a;
}

// ---- expiry sweep --------------------------------------------------------------------

/** Delete expired items (the master's sweeper); caches with lazy_expire, purge_lru or no_expire are skipped. */
export function cacheSweep(c: usize, now: f64): i32 {
  if (has(c, F_LAZY) || has(c, F_LRU) || has(c, F_NO_EXPIRE)) return 0;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const n = sweepLocked(c, <i64>now);
  wunlock(c);
  return <i32>n;
}

// ---- statistics ------------------------------------------------------------------------

export function cacheCount(c: usize): u32 { return aload32(c + C_COUNT); }
export function cacheRepairs(c: usize): u32 { return aload32(c + C_REPAIRS); }
export function cacheDirty(c: usize): i32 { return aload32(c + C_DIRTY); }
/** Hits counted by the core plus the near-cache hits JS counted on each line (u32 words, not yet folded). */
export function cacheHits(c: usize): i64 {
  const n = hget(c, C_THREADS);
  const base = c + hget(c, C_COUNTERS_OFF);
  let near: i64 = 0;
  for (let t: u32 = 0; t < n; t++) near += <i64>atomic.load<u32>(base + t * COUNTER_LINE + T_NEAR);
  return counterSum(c, T_HITS) + near;
}
export function cacheMiss(c: usize): i64 { return counterSum(c, T_MISS); }

/** One counter summed over every thread's line (each line is written by its own thread only). */
function counterSum(c: usize, field: u32): i64 {
  const n = hget(c, C_THREADS);
  const base = c + hget(c, C_COUNTERS_OFF);
  let sum: i64 = 0;
  for (let t: u32 = 0; t < n; t++) sum += atomic.load<i64>(base + t * COUNTER_LINE + field);
  return sum;
}
export function cacheFull(c: usize): i64 { return ld64(c + C_FULL); }

// ---- repair and check --------------------------------------------------------------------

/** Whether a slot's fields describe a storable item (used by repair to decide what survives). */
function itemSane(c: usize, s: u32): bool {
  const it = item(c, s);
  const ks = iget(it, I_KEYSIZE);
  const vs = iget(it, I_VALSIZE);
  if (ks == 0 || ks > hget(c, C_KEYSIZE)) return false;
  if (vs == 0 || <f64>vs > maxValue(c)) return false;
  if (iget(it, I_HASH) != hashKey(c, it + I_KEY, ks)) return false;
  const b = iget(it, I_BLOCK);
  if (has(c, F_BITMAP)) return <u64>b + <u64>blocksFor(c, vs) <= <u64>hget(c, C_BLOCKS);
  return b == s;
}

/** Rebuild chains, LRU, free stack, bitmap and count from the live slots. */
function rebuild(c: usize): void {
  const items = hget(c, C_ITEMS);
  const blocks = hget(c, C_BLOCKS);
  memory.fill(c + hget(c, C_HASH_OFF), 0, hget(c, C_HASHSIZE) * 4);
  const bitmap = has(c, F_BITMAP);
  if (bitmap) {
    memory.fill(c + hget(c, C_BITMAP_OFF), 0, (blocks + 7) >> 3);
    for (let b = blocks; b < ((blocks + 7) & ~7); b++) bitSet(c, b); // padding bits count as used
  }
  hset(c, C_LRU_HEAD, 0);
  hset(c, C_LRU_TAIL, 0);
  hset(c, C_FREE_TOP, 0);
  hset(c, C_COUNT, 0);
  for (let s: u32 = 1; s < items; s++) {
    const it = item(c, s);
    // A repair may drop or keep any slot: whatever a thread remembers of it is stale.
    bump(c, it);
    let live = iget(it, I_KEYSIZE) != 0 && itemSane(c, s);
    if (live && find(c, it + I_KEY, iget(it, I_KEYSIZE), iget(it, I_HASH)) != 0) live = false; // duplicate key
    if (live && bitmap) {
      const first = iget(it, I_BLOCK), n = blocksFor(c, iget(it, I_VALSIZE));
      for (let b = first; b < first + n; b++) if (bitUsed(c, b)) { live = false; break; }
      if (live) for (let b = first; b < first + n; b++) bitSet(c, b);
    }
    if (live) {
      chainAppend(c, s);
      if (has(c, F_LRU)) lruAppend(c, s);
      hset(c, C_COUNT, hget(c, C_COUNT) + 1);
    } else {
      iset(it, I_KEYSIZE, 0);
      const top = hget(c, C_FREE_TOP);
      stu32(freeAddr(c, top), s);
      hset(c, C_FREE_TOP, top + 1);
    }
  }
  hset(c, C_BITMAP_POS, 0);
}

/** A writer died mid-change: drop the slot it worked on, rebuild the rest. */
function repair(c: usize): void {
  astore32(c + C_DIRTY, 1);
  const s = hget(c, C_OP_SLOT);
  if (s != 0 && s < hget(c, C_ITEMS)) iset(item(c, s), I_KEYSIZE, 0);
  hset(c, C_OP_SLOT, 0);
  rebuild(c);
  hset(c, C_REPAIRS, hget(c, C_REPAIRS) + 1);
  astore32(c + C_DIRTY, 0);
}

const MARK_CHAIN: u32 = 1;
const MARK_FREE: u32 = 2;
const MARK_LRU: u32 = 4;

/** Validate every invariant of the structure (the caller holds it exclusively). */
function check(c: usize): i32 {
  const items = hget(c, C_ITEMS);
  if (aload32(c + C_DIRTY) != 0) return E_CORRUPT;
  let live: u32 = 0;
  for (let s: u32 = 1; s < items; s++) {
    const it = item(c, s);
    iset(it, I_MARK, 0);
    if (iget(it, I_KEYSIZE) != 0) {
      if (!itemSane(c, s)) return E_CORRUPT;
      live++;
    }
  }
  if (hget(c, C_COUNT) != live) return E_CORRUPT;
  // Every chain: links agree, members are live and in their bucket, each slot once.
  const hs = hget(c, C_HASHSIZE);
  let chained: u32 = 0;
  for (let b: u32 = 0; b < hs; b++) {
    let s = ldu32(c + hget(c, C_HASH_OFF) + b * 4);
    let prev: u32 = 0;
    while (s != 0) {
      if (s >= items || chained > live) return E_CORRUPT;
      const it = item(c, s);
      if (iget(it, I_KEYSIZE) == 0 || iget(it, I_HASH) % hs != b || iget(it, I_PREV) != prev) return E_CORRUPT;
      if (iget(it, I_MARK) & MARK_CHAIN) return E_CORRUPT;
      iset(it, I_MARK, iget(it, I_MARK) | MARK_CHAIN);
      chained++;
      prev = s;
      s = iget(it, I_NEXT);
    }
  }
  if (chained != live) return E_CORRUPT;
  // Free stack: exactly the free slots, each once.
  const top = hget(c, C_FREE_TOP);
  if (top + live != items - 1) return E_CORRUPT;
  for (let i: u32 = 0; i < top; i++) {
    const s = ldu32(freeAddr(c, i));
    if (s == 0 || s >= items) return E_CORRUPT;
    const it = item(c, s);
    if (iget(it, I_KEYSIZE) != 0 || (iget(it, I_MARK) & MARK_FREE)) return E_CORRUPT;
    iset(it, I_MARK, iget(it, I_MARK) | MARK_FREE);
  }
  // Bitmap: every run's bits set, and no more bits than runs (so runs do not overlap).
  if (has(c, F_BITMAP)) {
    const blocks = hget(c, C_BLOCKS);
    let want: u32 = ((blocks + 7) & ~7) - blocks;
    for (let s: u32 = 1; s < items; s++) {
      const it = item(c, s);
      if (iget(it, I_KEYSIZE) == 0) continue;
      const first = iget(it, I_BLOCK), n = blocksFor(c, iget(it, I_VALSIZE));
      for (let b = first; b < first + n; b++) if (!bitUsed(c, b)) return E_CORRUPT;
      want += n;
    }
    let got: u32 = 0;
    const bytes = (blocks + 7) >> 3;
    for (let i: u32 = 0; i < bytes; i++) got += <u32>popcnt<u32>(<u32>load<u8>(c + hget(c, C_BITMAP_OFF) + i));
    if (got != want) return E_CORRUPT;
  }
  // LRU list: every live item once, links agree both ways.
  if (has(c, F_LRU)) {
    let s = hget(c, C_LRU_HEAD);
    let prev: u32 = 0;
    let n: u32 = 0;
    while (s != 0) {
      if (s >= items || n > live) return E_CORRUPT;
      const it = item(c, s);
      if (iget(it, I_KEYSIZE) == 0 || iget(it, I_LRU_PREV) != prev || (iget(it, I_MARK) & MARK_LRU)) return E_CORRUPT;
      iset(it, I_MARK, iget(it, I_MARK) | MARK_LRU);
      n++;
      prev = s;
      s = iget(it, I_LRU_NEXT);
    }
    if (n != live || hget(c, C_LRU_TAIL) != prev) return E_CORRUPT;
  }
  return OK;
}

/** Take the cache exclusively (repairing it if a writer died mid-change), then validate it. */
export function cacheCheck(index: i32): i32 {
  const c = cacheHandle(index);
  if (c == 0) return E_BAD_ID;
  const rc = wlock(c);
  if (rc < 0) return rc;
  const r = check(c);
  wunlock(c);
  return r;
}
