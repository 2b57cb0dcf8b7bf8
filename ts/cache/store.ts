/**
 * Persistent caches (`--cache2 ...,store=PATH`): a cache's items written to a
 * file and loaded back when an engine starts, so its contents survive a restart.
 *
 * uWSGI maps the store file as the cache's memory (`mmap`) and `msync`s it
 * every `store_sync` master cycles. Our caches live in the shared wasm memory,
 * which cannot be a file mapping, so the store is a snapshot instead: the
 * master writes every live item (key, value, absolute expiry) every
 * `store_sync` seconds and when it stops, through a temporary file that is
 * fsynced and renamed over the old one. A crash at any moment leaves the last
 * complete snapshot; a file that is truncated, corrupted or written for
 * another layout is never loaded (its checksum or header says so): the engine
 * refuses to start with ERR_LAYOUT, or with `store_delete` deletes the file
 * and starts empty (uWSGI's store_delete does the same for a size mismatch).
 *
 * File format (little-endian):
 * ```
 *  ┌──────────────────┬─────────┬───────┬─────────┬───────────┬────────┬──────────┬───────┬───────┬──────────┐
 *  │ "uwsgi-wasm-cache"│ version │ items │ keysize │ blocksize │ blocks │ hashsize │ flags │ count │ saved_at │
 *  │ 16 B             │ u32 +16 │ +20   │ +24     │ +28       │ +32    │ +36      │ +40   │ +44   │ f64 +48  │
 *  └──────────────────┴─────────┴───────┴─────────┴───────────┴────────┴──────────┴───────┴───────┴──────────┘
 *  then `count` records: keylen u32, vallen u32, expires f64 (absolute s, 0 never), key, value
 *  then crc32 u32 of every byte before it
 * ```
 * @module
 */
import { UwsgiError, statusError } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import type { CacheConfig } from '../kernel/options.ts';
import { runtime } from '../platform/index.ts';

const MAGIC = new TextEncoder().encode('uwsgi-wasm-cache');
const VERSION = 1;
const HEADER = 56;
const RECORD = 16;
const FLAG_BITMAP = 1;
const FLAG_MURMUR2 = 2;
const FLAG_LRU = 4;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE) of `chunks`, in order. */
export function crc32(chunks: readonly Uint8Array[]): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  const t = crcTable;
  let crc = 0xffffffff;
  for (const b of chunks) for (let i = 0; i < b.length; i++) crc = t[(crc ^ b[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function flagsOf(c: CacheConfig): number {
  return (c.bitmap ? FLAG_BITMAP : 0) | (c.hash === 'murmur2' ? FLAG_MURMUR2 : 0) | (c.purgeLru ? FLAG_LRU : 0);
}

/**
 * Every live item of cache `index`, as the chunks of a store file. The cache
 * is held for reading meanwhile (writers wait; lock-free readers go on).
 */
export function snapshotCache(ctx: ThreadContext, index: number, nowSeconds: number): Uint8Array[] {
  const cfg = ctx.shared.config.caches[index];
  const x = ctx.x;
  const c = x.cache_handle(index) >>> 0;
  const keyOff = x.CACHE_ITEM_KEY.value as number;
  const chunks: Uint8Array[] = [];
  const head = new Uint8Array(HEADER);
  const hv = new DataView(head.buffer);
  head.set(MAGIC, 0);
  hv.setUint32(16, VERSION, true);
  hv.setUint32(20, cfg.items, true);
  hv.setUint32(24, cfg.keysize, true);
  hv.setUint32(28, cfg.blocksize, true);
  hv.setUint32(32, cfg.blocks, true);
  hv.setUint32(36, cfg.hashsize, true);
  hv.setUint32(40, flagsOf(cfg), true);
  hv.setFloat64(48, nowSeconds, true);
  chunks.push(head);
  let count = 0;
  const rc = x.cache_keys_begin(c);
  if (rc < 0) throw statusError(rc, `cache '${cfg.name}' store`);
  try {
    for (let s = x.cache_keys_next(c); s !== 0; s = x.cache_keys_next(c)) {
      const it = x.cache_item_addr(c, s) >>> 0;
      const kl = ctx.dv.getUint32(it, true);
      const va = x.cache_item_value_addr(c, s) >>> 0;
      const vl = x.cache_item_value_len(c, s) >>> 0;
      const rec = new Uint8Array(RECORD + kl + vl);
      const rv = new DataView(rec.buffer);
      rv.setUint32(0, kl, true);
      rv.setUint32(4, vl, true);
      rv.setFloat64(8, x.cache_item_expires(c, s), true);
      rec.set(ctx.u8.subarray(it + keyOff, it + keyOff + kl), RECORD);
      rec.set(ctx.u8.subarray(va, va + vl), RECORD + kl);
      chunks.push(rec);
      count++;
    }
  } finally {
    x.cache_keys_end(c);
  }
  hv.setUint32(44, count, true);
  const tail = new Uint8Array(4);
  new DataView(tail.buffer).setUint32(0, crc32(chunks), true);
  chunks.push(tail);
  return chunks;
}

/** Write cache `index`'s store file (it must have one). Returns how many items were written. */
export function writeCacheStore(ctx: ThreadContext, index: number): number {
  const cfg = ctx.shared.config.caches[index];
  if (cfg.store === null) throw new UwsgiError('ERR_NOT_CONFIGURED', `cache '${cfg.name}' has no store file`);
  const chunks = snapshotCache(ctx, index, Math.floor(ctx.clock() / 1000));
  try {
    runtime().writeFileAtomic(cfg.store, chunks);
  } catch (e) {
    throw new UwsgiError('ERR_INTERNAL', `cache '${cfg.name}': cannot write its store '${cfg.store}': ${(e as Error).message}`, { cause: e });
  }
  return chunks.length - 2;
}

/** Why a store file cannot be loaded into `cfg`'s cache, or null when it can. */
function fileProblem(bytes: Uint8Array, cfg: CacheConfig): string | null {
  if (bytes.length < HEADER + 4) return `truncated (${bytes.length} bytes)`;
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) return 'not a uwsgi-wasm cache store (bad magic)';
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = v.getUint32(16, true);
  if (version !== VERSION) return `store format version ${version}, this build reads ${VERSION}`;
  const want = crc32([bytes.subarray(0, bytes.length - 4)]);
  if (v.getUint32(bytes.length - 4, true) !== want) return 'checksum mismatch (truncated or corrupted)';
  const file = { items: v.getUint32(20, true), keysize: v.getUint32(24, true), blocksize: v.getUint32(28, true), blocks: v.getUint32(32, true), bitmap: (v.getUint32(40, true) & FLAG_BITMAP) !== 0 };
  const differ = (['items', 'keysize', 'blocksize', 'blocks', 'bitmap'] as const).filter((k) => file[k] !== cfg[k]);
  if (differ.length) {
    return `written for another layout (${differ.map((k) => `${k}=${String(file[k])}`).join(',')}; this cache has ${differ.map((k) => `${k}=${String(cfg[k])}`).join(',')})`;
  }
  // Walk the records: every one must end inside the body, and the count must match.
  const count = v.getUint32(44, true);
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    if (at + RECORD > bytes.length - 4) return `record ${i} of ${count} is cut short`;
    const kl = v.getUint32(at, true), vl = v.getUint32(at + 4, true);
    if (kl === 0 || kl > cfg.keysize || vl === 0) return `record ${i} has a bad key or value size`;
    at += RECORD + kl + vl;
  }
  if (at !== bytes.length - 4) return `${bytes.length - 4 - at} stray bytes after ${count} records`;
  return null;
}

/**
 * Load cache `index` from its store file, if the file exists. An engine calls
 * this once, before any thread uses the cache. Returns how many items were loaded.
 */
export function loadCacheStore(ctx: ThreadContext, index: number): number {
  const cfg = ctx.shared.config.caches[index];
  if (cfg.store === null) return 0;
  const rt = runtime();
  let bytes: Uint8Array | null;
  try {
    bytes = rt.readFileBytes(cfg.store);
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `cache '${cfg.name}': cannot read its store '${cfg.store}': ${(e as Error).message}`, { cause: e });
  }
  if (bytes === null) return 0;
  const problem = fileProblem(bytes, cfg);
  if (problem !== null) {
    if (cfg.storeDelete) { rt.removeFile(cfg.store); return 0; }
    throw new UwsgiError('ERR_LAYOUT', `cache '${cfg.name}': store '${cfg.store}' cannot be loaded: ${problem}; delete it, or add store_delete to start empty`);
  }
  const x = ctx.x;
  const c = x.cache_handle(index) >>> 0;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = v.getUint32(44, true);
  let at = HEADER;
  for (let i = 0; i < count; i++) {
    const kl = v.getUint32(at, true), vl = v.getUint32(at + 4, true);
    const expires = v.getFloat64(at + 8, true);
    ctx.u8.set(bytes.subarray(at + RECORD, at + RECORD + kl), ctx.scratch);
    const a = x.cache_restore_begin(c, kl, vl, expires);
    if (a < 0) throw statusError(a, `cache '${cfg.name}' store load`);
    if (a === 0) throw new UwsgiError('ERR_LAYOUT', `cache '${cfg.name}': store '${cfg.store}' item ${i} does not fit in the cache`);
    ctx.u8.set(bytes.subarray(at + RECORD + kl, at + RECORD + kl + vl), a);
    x.cache_store_end(c);
    at += RECORD + kl + vl;
  }
  return count;
}
