/**
 * A cache as uWSGI 2.0 lays it out in memory, which is what its dump (111/6)
 * sends and what its `sync=` copies verbatim into its own cache at start:
 *
 *  image (filesize = items × (88 + keysize) + blocks × blocksize):
 *  ┌──────────────────────────────────────────┬──────────────────────────────┐
 *  │ item slots: items × (88 + keysize) bytes │ data: blocks × blocksize     │
 *  └──────────────────────────────────────────┴──────────────────────────────┘
 *  item slot (u64 LE each; slot 0 is never used):
 *  ┌───────┬─────────┬──────┬─────────┬─────────────┬─────────┬──────┬──────┬──────┬──────────┬──────────┬─────┐
 *  │ flags │ keysize │ hash │ valsize │ first_block │ expires │ hits │ prev │ next │ lru_prev │ lru_next │ key │
 *  │ +0    │ +8      │ +16  │ +24     │ +32         │ +40     │ +48  │ +56  │ +64  │ +72      │ +80      │ +88 │
 *  └───────┴─────────┴──────┴─────────┴─────────────┴─────────┴──────┴──────┴──────┴──────────┴──────────┴─────┘
 *
 * A uWSGI that syncs from us rebuilds its hash table from the slots whose
 * `prev` is 0 (`hash % hashsize` names the bucket) and follows `next`, so the
 * image carries uWSGI's own hash of each key and chains per bucket. Our own
 * memory is laid out differently; this file translates both ways, checking
 * every field of an image it reads before copying a byte.
 * @module
 */
import { UwsgiError, statusError } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import type { CacheConfig } from '../kernel/options.ts';
import { CACHE_ITEM_KEY } from '../kernel/abi.ts';
import { encodeVarsPacket } from '../protocol/codec.ts';

/** Bytes of uWSGI's item header (11 × u64) before the key. */
export const ITEM_HEADER = 88;
/** The dump's request (111/6) and reply (111/7) modifier2. */
export const DUMP = { REQUEST: 6, REPLY: 7 } as const;

const F_KEYSIZE = 8, F_HASH = 16, F_VALSIZE = 24, F_FIRST_BLOCK = 32, F_EXPIRES = 40, F_PREV = 56, F_NEXT = 64;

/**
 * uWSGI's djb33x: `h = h * 33 ^ c` over the key's bytes taken as C signed
 * chars (bytes over 0x7f are sign-extended).
 */
export function djb33x(key: Uint8Array): number {
  let h = 5381;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 33) ^ ((key[i]! << 24) >> 24)) >>> 0;
  return h;
}

/**
 * uWSGI 2.0's MurmurHash2 (seed = length). Its 1..3-byte tail reads
 * `key[0..2]` from the start of the key, not the end (the original pointer,
 * where the loop advanced a copy), as signed chars: the bucket uWSGI computes,
 * which a synced uWSGI must find again.
 */
export function murmur2(key: Uint8Array): number {
  const m = 0x5bd1e995;
  let h = key.length >>> 0;
  let len = key.length;
  let i = 0;
  while (len >= 4) {
    let k = (key[i]! | (key[i + 1]! << 8) | (key[i + 2]! << 16) | (key[i + 3]! << 24)) >>> 0;
    k = Math.imul(k, m) >>> 0;
    k = (k ^ (k >>> 24)) >>> 0;
    k = Math.imul(k, m) >>> 0;
    h = Math.imul(h, m) >>> 0;
    h = (h ^ k) >>> 0;
    i += 4;
    len -= 4;
  }
  const s = (j: number) => (key[j]! << 24) >> 24;
  switch (len) {
    case 3: h = (h ^ (s(2) << 16)) >>> 0; // falls through
    case 2: h = (h ^ (s(1) << 8)) >>> 0; // falls through
    case 1: h = (h ^ s(0)) >>> 0; h = Math.imul(h, m) >>> 0;
  }
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, m) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
}

/** uWSGI's hash of `key` for a cache configured with `hash`. */
export function uwsgiHash(hash: CacheConfig['hash'], key: Uint8Array): number {
  return hash === 'murmur2' ? murmur2(key) : djb33x(key);
}

/** Bytes of uWSGI's image of a cache configured as `cfg` (its `filesize`). */
export function imageSize(cfg: CacheConfig): number {
  return cfg.items * (ITEM_HEADER + cfg.keysize) + cfg.blocksize * cfg.blocks;
}

/** Largest value a cache holds: one block, or every block with a bitmap. */
export function maxValueOf(cfg: CacheConfig): number {
  return cfg.bitmap ? cfg.blocksize * cfg.blocks : cfg.blocksize;
}

/** One item as the image carries it. */
export interface ImageItem {
  key: Uint8Array;
  value: Uint8Array;
  /** Absolute expiry, unix seconds; 0 never. */
  expires: number;
}

/**
 * Cache `index` as uWSGI's image: each live item in the slot it has here,
 * its value in that slot's block (or, with a bitmap, in consecutive blocks
 * from block 0), chains per bucket in slot order. The cache is held shared
 * while it is read, so the image is one consistent snapshot.
 */
export function encodeCacheImage(ctx: ThreadContext, index: number): Uint8Array {
  const cfg = ctx.shared.config.caches[index]!;
  const x = ctx.x;
  const c = x.cache_handle(index) >>> 0;
  const slotSize = ITEM_HEADER + cfg.keysize;
  const dataAt = cfg.items * slotSize;
  const image = new Uint8Array(imageSize(cfg));
  const dv = new DataView(image.buffer);
  const set64 = (at: number, v: number) => dv.setBigUint64(at, BigInt(v), true);
  const buckets = new Map<number, number[]>();
  let nextBlock = 0;
  const rc = x.cache_keys_begin(c);
  if (rc < 0) throw statusError(rc, `cache '${cfg.name}' dump`);
  try {
    for (let s = x.cache_keys_next(c); s !== 0; s = x.cache_keys_next(c)) {
      const it = x.cache_item_addr(c, s) >>> 0;
      const kl = ctx.dv.getUint32(it, true);
      const key = ctx.u8.subarray(it + CACHE_ITEM_KEY, it + CACHE_ITEM_KEY + kl);
      const va = x.cache_item_value_addr(c, s) >>> 0;
      const vl = x.cache_item_value_len(c, s) >>> 0;
      const block = cfg.bitmap ? nextBlock : s;
      if (cfg.bitmap) nextBlock += Math.ceil(vl / cfg.blocksize);
      const hash = uwsgiHash(cfg.hash, key);
      const at = s * slotSize;
      set64(at + F_KEYSIZE, kl);
      set64(at + F_HASH, hash);
      set64(at + F_VALSIZE, vl);
      set64(at + F_FIRST_BLOCK, block);
      set64(at + F_EXPIRES, x.cache_item_expires(c, s));
      image.set(key, at + ITEM_HEADER);
      image.set(ctx.u8.subarray(va, va + vl), dataAt + block * cfg.blocksize);
      const b = hash % cfg.hashsize;
      const chain = buckets.get(b);
      if (chain) chain.push(s);
      else buckets.set(b, [s]);
    }
  } finally {
    x.cache_keys_end(c);
  }
  for (const chain of buckets.values()) {
    for (let i = 0; i < chain.length; i++) {
      const at = chain[i]! * slotSize;
      if (i > 0) set64(at + F_PREV, chain[i - 1]!);
      if (i + 1 < chain.length) set64(at + F_NEXT, chain[i + 1]!);
    }
  }
  return image;
}

/** uWSGI's dump reply for cache `index`: `6f <len> 07` + vars `items`, `blocksize`, then the image. */
export function cacheDumpReply(ctx: ThreadContext, index: number): Uint8Array[] {
  const cfg = ctx.shared.config.caches[index]!;
  const head = encodeVarsPacket(111, DUMP.REPLY, [['items', String(cfg.items)], ['blocksize', String(cfg.blocksize)]]).slice();
  return [head, encodeCacheImage(ctx, index)];
}

/**
 * The items of a uWSGI image made for a cache configured as `cfg` (the same
 * items, keysize, blocksize and blocks: uWSGI sends only the first two and
 * copies blindly). Every slot's sizes, block and expiry are checked against
 * `cfg` and the image before its bytes are taken; a slot that fails is
 * counted in `skipped`, never copied.
 */
export function decodeCacheImage(cfg: CacheConfig, image: Uint8Array): { items: ImageItem[]; skipped: number } {
  if (image.length !== imageSize(cfg)) throw new UwsgiError('ERR_LAYOUT', `cache '${cfg.name}': a uWSGI image of ${image.length} bytes, this cache's is ${imageSize(cfg)}`);
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const slotSize = ITEM_HEADER + cfg.keysize;
  const dataAt = cfg.items * slotSize;
  const dataSize = cfg.blocksize * cfg.blocks;
  const max = maxValueOf(cfg);
  const u64 = (at: number) => {
    // Sizes and blocks are small numbers: a high word set makes the field unusable (returns -1).
    const hi = dv.getUint32(at + 4, true);
    return hi > 0x1fffff ? -1 : hi * 4294967296 + dv.getUint32(at, true);
  };
  const items: ImageItem[] = [];
  let skipped = 0;
  for (let s = 1; s < cfg.items; s++) {
    const at = s * slotSize;
    const kl = u64(at + F_KEYSIZE);
    if (kl === 0) continue;
    const vl = u64(at + F_VALSIZE);
    const block = u64(at + F_FIRST_BLOCK);
    const expires = u64(at + F_EXPIRES);
    const ok = kl > 0 && kl <= cfg.keysize && vl > 0 && vl <= max && block >= 0 && block < cfg.blocks
      && block * cfg.blocksize + vl <= dataSize && expires >= 0;
    if (!ok) { skipped++; continue; }
    const from = dataAt + block * cfg.blocksize;
    items.push({ key: image.slice(at + ITEM_HEADER, at + ITEM_HEADER + kl), value: image.slice(from, from + vl), expires });
  }
  return { items, skipped };
}
