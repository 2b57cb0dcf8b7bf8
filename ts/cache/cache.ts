/**
 * Caches: uWSGI's cache2 functions for one thread. Keys and values are bytes
 * (strings are UTF-8); results follow uWSGI's Python module: `true` or `null`,
 * values as `Uint8Array`, counters as 8-byte little-endian int64 (`bigint`).
 * The structure lives in the shared core (assembly/cache/cache.ts); this file only
 * validates arguments, moves keys through the thread's scratch slot and copies
 * values in and out while the core holds the cache.
 * @module
 */
import { UwsgiError, int64Arg, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import type { CacheConfig } from '../kernel/options.ts';
import { runtime } from '../platform/index.ts';
import { copyOutWords } from '../kernel/pool.ts';
import { CACHE_MATH_DEC, CACHE_MATH_DIV, CACHE_MATH_INC, CACHE_MATH_MUL, CACHE_VALUE_ALIGN, E_SCRATCH } from '../kernel/abi.ts';

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** The core's operation for each of cache_inc/dec/mul/div. */
const MATH = { cache_inc: CACHE_MATH_INC, cache_dec: CACHE_MATH_DEC, cache_mul: CACHE_MATH_MUL, cache_div: CACHE_MATH_DIV } as const;
type MathFn = keyof typeof MATH;
const MATH_DEFAULT: Record<MathFn, number> = { cache_inc: 1, cache_dec: 1, cache_mul: 2, cache_div: 2 };

/** A key or value argument: strings are UTF-8 encoded. */
/**
 * Seconds to live: an integer. A bigint within 64 bits (uWSGI's C long) is
 * taken as a number (past 2^53 seconds it is "never" either way); wider ones
 * are ERR_VALUE_RANGE, uWSGI's OverflowError.
 */
function expiryArg(fn: string, v: unknown): number {
  if (typeof v === 'bigint' && v >= -(1n << 63n) && v < 1n << 63n) return Number(v);
  return intArg(fn, 'expires', v);
}

export type Bytes = string | Uint8Array;

/** Strings up to this many UTF-16 units are tried as ASCII first (a plain loop beats TextEncoder there). */
const ASCII_MAX = 64;
/** Values up to this many bytes are copied byte by byte (cheaper than a subarray and set). */
const SMALL_COPY = 64;

/**
 * Copy string `s` (`n` UTF-16 units) to `u8` at `at` if it is all ASCII: a
 * plain loop beats TextEncoder for short strings. False at the first other
 * unit (what was copied is garbage; the caller encodes it as UTF-8 then).
 */
function asciiInto(u8: Uint8Array, at: number, s: string, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch > 0x7f) return false;
    u8[at + i] = ch;
  }
  return true;
}

/** Copy the first `n` bytes of `b` to `u8` at `at`, one by one (cheaper than `set` for a few bytes). */
function bytesInto(u8: Uint8Array, at: number, b: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) u8[at + i] = b[i];
}

/** Where the core puts a value in scratch after a key of `keylen` bytes (assembly/cache/cache.ts valueOffset). */
const valueOffset = (keylen: number) => (keylen + CACHE_VALUE_ALIGN - 1) & -CACHE_VALUE_ALIGN;

/** Hints kept per cache and thread at most (then the older half is dropped). */
const HINTS_MAX = 16384;

/**
 * Told of every local write that changed a cache configured with `nodes=`
 * (set/update, inc/dec/mul/div, del; not clear, as uWSGI), after the write,
 * in the writing thread. The cluster subsystem installs it to replicate the
 * write (ts/cluster/replication.ts); writes it applies itself from peers do
 * not come through here.
 */
export type CacheWriteHook = (ctx: ThreadContext, index: number, key: Bytes, deleted: boolean) => void;
let writeHook: CacheWriteHook | null = null;
/** Install the {@link CacheWriteHook} (one per JS thread; the cluster subsystem does, when it loads). */
export function setCacheWriteHook(hook: CacheWriteHook | null): void { writeHook = hook; }


/**
 * Where a key's item was last found: its slot and the item's stamp (unique per
 * insert) as its two 32-bit halves, so the core call takes only i32s.
 */
interface Hint { slot: number; lo: number; hi: number }

/** What one thread knows of one cache. */
interface Local {
  /** The core's handle (the region address). */
  c: number;
  /** lazy_expire: reads need the clock. */
  lazy: boolean;
  /** Writes need the clock even without an expiry (lazy_expire, sweep_on_full). */
  writeClock: boolean;
  /**
   * String key -> hint, so a repeated key skips encoding and hashing: the core
   * checks the slot still holds the same insert (stamps are never reused), so a
   * stale hint only costs the full lookup. Two generations bound the memory.
   * Null for purge_lru caches (their reads take the exclusive path anyway).
   */
  hints: Map<string, Hint> | null;
  older: Map<string, Hint> | null;
}

/** The cache functions of one thread of one engine. */
export class CacheApi {
  readonly #ctx: ThreadContext;
  readonly #handles: number[];
  readonly #byName = new Map<string, number>();
  readonly #scratch: Uint8Array;
  readonly #u8: Uint8Array;
  readonly #base: number;
  readonly #size: number;
  readonly #keyOff: number;
  readonly #locals: Local[];
  readonly #u32: Int32Array;
  readonly #own: boolean;
  /** Which caches replicate their writes (`nodes=`), and whether any does (one check on the write paths). */
  readonly #replicated: boolean[];
  readonly #replicating: boolean;
  /** @internal Use the `uwsgi` object's cache_* methods. */
  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    const caches = ctx.shared.config.caches;
    this.#handles = caches.map((_, i) => ctx.x.cache_handle(i) >>> 0);
    caches.forEach((c, i) => { if (!this.#byName.has(c.name)) this.#byName.set(c.name, i); });
    this.#locals = caches.map((c, i) => ({
      c: this.#handles[i], lazy: c.lazyExpire, writeClock: c.lazyExpire || c.sweepOnFull > 0,
      hints: c.purgeLru ? null : new Map(), older: c.purgeLru ? null : new Map(),
    }));
    this.#u8 = ctx.u8;
    this.#base = ctx.scratch;
    this.#size = ctx.shared.plan.scratchSize;
    this.#scratch = ctx.u8.subarray(ctx.scratch, ctx.scratch + this.#size);
    this.#keyOff = ctx.x.CACHE_ITEM_KEY.value as number;
    this.#u32 = new Int32Array(ctx.u8.buffer, ctx.u8.byteOffset, ctx.u8.byteLength >> 2);
    this.#own = runtime().smallOwnArrays;
    this.#replicated = caches.map((c) => c.nodes.length > 0);
    this.#replicating = this.#replicated.includes(true);
    // The core's optimistic readers keep their fence (an atomic add between the value copy and
    // the second sequence-word load) on every CPU. x86 keeps loads in order, but the wasm memory
    // model lets a compiler move the copy's plain loads after that seq-cst load (it only orders
    // later accesses); without the fence a torn copy could pass the check. It costs 2-4 ns a get.
    // `cache_set_read_fence(0)` stays in the core's ABI for measuring exactly that.
  }

  /** The configured caches, in creation order (the first is the default cache). */
  get configs(): readonly CacheConfig[] { return this.#ctx.shared.config.caches; }

  /** Seconds of the injectable clock. */
  now(): number { return Math.floor(this.#ctx.clock() / 1000); }

  /**
   * The index of the cache an argument names: omitted, null or '' is the default
   * (first) cache; -1 when no such local cache exists (uWSGI then returns None).
   */
  index(fn: string, cache: unknown): number {
    // Only an omitted name means the default cache; null is a wrong type (uWSGI's None is a TypeError).
    if (cache === undefined || cache === '') return this.#handles.length ? 0 : -1;
    if (typeof cache !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: cache must be a string, got ${typeName(cache)}`);
    if (cache.includes('@')) {
      // The cache_* functions send remote names to ts/client/client.ts before reaching here.
      throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: '${cache}' is a remote cache: use the cache_* functions, which return promises for remote caches`);
    }
    return this.#byName.get(cache) ?? -1;
  }

  /** The core handle of the cache an argument names, or 0 when there is none. */
  handle(fn: string, cache: unknown): number {
    if (cache === undefined && this.#handles.length) return this.#handles[0];
    const i = this.index(fn, cache);
    return i < 0 ? 0 : this.#handles[i];
  }

  /** This thread's view of the cache an argument names, or undefined. */
  #local(fn: string, cache: unknown): Local | undefined {
    if (cache === undefined) return this.#locals[0];
    const i = this.index(fn, cache);
    return i < 0 ? undefined : this.#locals[i];
  }

  #hint(l: Local, key: string): Hint | undefined {
    const h = l.hints!.get(key);
    if (h !== undefined) return h;
    const o = l.older!.get(key);
    if (o !== undefined) this.#remember(l, key, o);
    return o;
  }

  #remember(l: Local, key: string, h: Hint): void {
    if (l.hints!.size >= HINTS_MAX) { l.older = l.hints; l.hints = new Map(); }
    l.hints!.set(key, h);
  }

  /** After a full lookup that hit: keep where the key was found. */
  #learn(l: Local, key: string): void {
    const x = this.#ctx.x;
    const stamp = x.cache_found_stamp();
    if (stamp < 0) return;
    const slot = x.cache_found_slot() | 0;
    this.#remember(l, key, { slot, lo: stamp % 4294967296 | 0, hi: Math.floor(stamp / 4294967296) | 0 });
  }

  /** Put the key in scratch; returns its length, or -1 when it cannot be a key of any cache. */
  #key(fn: string, key: unknown): number {
    if (typeof key === 'string') {
      const n = key.length;
      if (n <= ASCII_MAX && asciiInto(this.#u8, this.#base, key, n)) return n;
      const r = utf8.encodeInto(key, this.#scratch);
      return r.read < n ? -1 : r.written;
    }
    if (key instanceof Uint8Array) {
      const n = key.length;
      if (n > this.#size) return -1;
      if (n <= SMALL_COPY) bytesInto(this.#u8, this.#base, key, n);
      else this.#scratch.set(key);
      return n;
    }
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: key must be a string or Uint8Array, got ${typeName(key)}`);
  }

  /** Put a value in scratch after a `keylen`-byte key; its length, or -1 when it does not fit. */
  #valueIn(fn: string, v: unknown, keylen: number): number {
    const at = this.#base + valueOffset(keylen);
    const room = this.#size - valueOffset(keylen);
    const u8 = this.#u8;
    if (v instanceof Uint8Array) {
      const n = v.length;
      if (n > room) return -1;
      if (n <= SMALL_COPY) bytesInto(u8, at, v, n);
      else u8.set(v, at);
      return n;
    }
    if (typeof v === 'string') {
      const n = v.length;
      if (n <= ASCII_MAX && n <= room && asciiInto(u8, at, v, n)) return n;
      const r = utf8.encodeInto(v, u8.subarray(at, at + room));
      return r.read < n ? -1 : r.written;
    }
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: value must be a string or Uint8Array, got ${typeName(v)}`);
  }

  #value(fn: string, v: unknown): Uint8Array {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return utf8.encode(v);
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: value must be a string or Uint8Array, got ${typeName(v)}`);
  }

  #check(fn: string, rc: number): void { if (rc < 0) throw statusError(rc, fn); }

  /** A local write changed the cache `cache` names: hand it to the {@link CacheWriteHook} if that cache replicates. */
  #written(cache: unknown, key: unknown, deleted: boolean): void {
    const i = cache === undefined ? 0 : this.index('cache', cache);
    if (i >= 0 && this.#replicated[i]) writeHook?.(this.#ctx, i, key as Bytes, deleted);
  }

  /** Copy `len` bytes at `from` in the shared memory into `out` (from its start). */
  #copyOut(from: number, len: number, out: Uint8Array): void {
    if (len <= SMALL_COPY) {
      const u8 = this.#u8;
      for (let i = 0; i < len; i++) out[i] = u8[from + i];
    } else out.set(this.#u8.subarray(from, from + len));
  }


  /**
   * A fresh array holding the `n` bytes at `from` (4-aligned) of the memory:
   * up to 64 bytes an array of its own, copied here where the JIT inlines the
   * loop, where those are cheap (the binding's smallOwnArrays); otherwise a
   * view cut from the copy-out pool (ts/kernel/pool.ts), filled by 4-byte words.
   */
  #out(from: number, n: number): Uint8Array {
    if (n <= SMALL_COPY && this.#own) {
      const o = new Uint8Array(n);
      const u8 = this.#u8;
      for (let i = 0; i < n; i++) o[i] = u8[from + i];
      return o;
    }
    return copyOutWords(this.#u8, this.#u32, from, n);
  }

  get(fn: string, key: unknown, cache: unknown): Uint8Array | null {
    const l = this.#local(fn, cache);
    const x = this.#ctx.x;
    if (l !== undefined && l.hints !== null && typeof key === 'string') {
      const h = this.#hint(l, key);
      if (h !== undefined) {
        const n = x.cache_get_hinted(l.c, h.slot, h.lo, h.hi, l.lazy ? this.now() : 0);
        if (n > 0) return this.#out(this.#base, n);
        if (n < 0 && n !== E_SCRATCH) throw statusError(n, fn);
        l.hints.delete(key);
        l.older!.delete(key);
      }
    }
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return null;
    // One call: the core looks the key up without a lock and copies the value to scratch.
    const n = x.cache_get(l.c, kl, l.lazy ? this.now() : 0);
    if (n > 0) {
      if (l.hints !== null && typeof key === 'string') this.#learn(l, key);
      return this.#out(this.#base + valueOffset(kl), n);
    }
    if (n === 0) return null;
    if (n !== E_SCRATCH) throw statusError(n, fn);
    // Larger than the scratch: the core holds the cache while the value is copied.
    const a = x.cache_get_begin(l.c, kl, this.now());
    if (a <= 0) { this.#check(fn, a); return null; }
    const out = this.#u8.slice(a, a + x.cache_last_len());
    x.cache_read_end(l.c);
    return out;
  }

  /** Copy the value into `buf` (as much as fits); its full length, or -1 on a miss. */
  getInto(fn: string, key: unknown, buf: unknown, cache: unknown): number {
    if (!(buf instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: buf must be a Uint8Array, got ${typeName(buf)}`);
    const l = this.#local(fn, cache);
    const x = this.#ctx.x;
    if (l !== undefined && l.hints !== null && typeof key === 'string') {
      const h = this.#hint(l, key);
      if (h !== undefined) {
        const n = x.cache_get_hinted(l.c, h.slot, h.lo, h.hi, l.lazy ? this.now() : 0);
        if (n > 0) {
          this.#copyOut(this.#base, Math.min(n, buf.length), buf);
          return n;
        }
        if (n < 0 && n !== E_SCRATCH) throw statusError(n, fn);
        l.hints.delete(key);
        l.older!.delete(key);
      }
    }
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return -1;
    const n = x.cache_get(l.c, kl, l.lazy ? this.now() : 0);
    if (n > 0) {
      if (l.hints !== null && typeof key === 'string') this.#learn(l, key);
      this.#copyOut(this.#base + valueOffset(kl), Math.min(n, buf.length), buf);
      return n;
    }
    if (n === 0) return -1;
    if (n !== E_SCRATCH) throw statusError(n, fn);
    const a = x.cache_get_begin(l.c, kl, this.now());
    if (a <= 0) { this.#check(fn, a); return -1; }
    const len = x.cache_last_len();
    buf.set(this.#u8.subarray(a, a + Math.min(len, buf.length)));
    x.cache_read_end(l.c);
    return len;
  }

  exists(fn: string, key: unknown, cache: unknown): boolean {
    const l = this.#local(fn, cache);
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return false;
    const rc = this.#ctx.x.cache_has(l.c, kl, l.lazy ? this.now() : 0);
    this.#check(fn, rc);
    return rc === 1;
  }

  /** cache_set (update false) / cache_update (update true): true when stored. */
  store(fn: string, key: unknown, value: unknown, expires: unknown, cache: unknown, update: boolean): boolean {
    if (!(value instanceof Uint8Array) && typeof value !== 'string') this.#value(fn, value); // throws the typed error
    const e = expires === undefined || expires === 0 ? 0 : expiryArg(fn, expires);
    const l = this.#local(fn, cache);
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return false;
    const c = l.c;
    const x = this.#ctx.x;
    const now = e !== 0 || l.writeClock ? this.now() : 0;
    const vl = this.#valueIn(fn, value, kl);
    if (vl >= 0) {
      // One call: the value is in scratch after the key.
      const rc = x.cache_set(c, kl, vl, e, now, update ? 1 : 0);
      this.#check(fn, rc);
      if (rc === 1 && this.#replicating) this.#written(cache, key, false);
      return rc === 1;
    }
    // Larger than the scratch: the core holds the cache exclusively while the value is copied in.
    const v = this.#value(fn, value);
    const a = x.cache_store_begin(c, kl, v.length, e, now, update ? 1 : 0);
    if (a <= 0) { this.#check(fn, a); return false; }
    this.#u8.set(v, a);
    x.cache_store_end(c);
    if (this.#replicating) this.#written(cache, key, false);
    return true;
  }

  del(fn: string, key: unknown, cache: unknown): boolean {
    const c = this.handle(fn, cache);
    const kl = this.#key(fn, key);
    if (c === 0 || kl < 0) return false;
    const rc = this.#ctx.x.cache_del(c, kl, this.now());
    this.#check(fn, rc);
    if (rc === 1 && this.#replicating) this.#written(cache, key, true);
    return rc === 1;
  }

  clear(fn: string, cache: unknown): boolean {
    const c = this.handle(fn, cache);
    if (c === 0) return false;
    this.#check(fn, this.#ctx.x.cache_clear(c));
    return true;
  }

  keys(fn: string, cache: unknown): Uint8Array[] {
    const c = this.handle(fn, cache);
    if (c === 0) throw new UwsgiError('ERR_NOT_FOUND', 'no local uWSGI cache available');
    const x = this.#ctx.x;
    const { u8, dv } = this.#ctx;
    this.#check(fn, x.cache_keys_begin(c));
    const out: Uint8Array[] = [];
    try {
      for (let s = x.cache_keys_next(c); s !== 0; s = x.cache_keys_next(c)) {
        const it = x.cache_item_addr(c, s) >>> 0;
        const ks = dv.getUint32(it, true);
        out.push(u8.slice(it + this.#keyOff, it + this.#keyOff + ks));
      }
    } finally {
      x.cache_keys_end(c);
    }
    return out;
  }

  num(fn: string, key: unknown, cache: unknown): bigint {
    const c = this.handle(fn, cache);
    const kl = this.#key(fn, key);
    if (c === 0 || kl < 0) return 0n;
    const rc = this.#ctx.x.cache_num(c, kl, this.now(), this.#ctx.scratch);
    this.#check(fn, rc);
    return rc === 1 ? this.#ctx.dv.getBigInt64(this.#ctx.scratch, true) : 0n;
  }

  math(fn: MathFn, key: unknown, delta: unknown, expires: unknown, cache: unknown): boolean {
    const d = delta === undefined ? MATH_DEFAULT[fn] : delta;
    if (typeof d !== 'bigint' && !(typeof d === 'number' && Number.isSafeInteger(d))) int64Arg(fn, 'delta', d); // throws the typed error
    const e = expires === undefined ? 0 : expiryArg(fn, expires);
    const c = this.handle(fn, cache);
    const kl = this.#key(fn, key);
    if (c === 0 || kl < 0) return false;
    const x = this.#ctx.x;
    const rc = typeof d === 'number'
      ? x.cache_math_f(c, kl, MATH[fn], d, e, this.now())
      : x.cache_math(c, kl, MATH[fn], BigInt.asIntN(64, int64Arg(fn, 'delta', d)), e, this.now());
    this.#check(fn, rc);
    if (rc === 1 && this.#replicating) this.#written(cache, key, false);
    return rc === 1;
  }

  /**
   * The value of `key` in cache `index` with the item's absolute expiry (unix
   * seconds, 0: never), or null: what the cache protocol's magic get answers.
   * It reads under the cache's lock (no hint, no lock-free path): packets are rare.
   */
  readWithExpiry(index: number, key: Uint8Array): { value: Uint8Array; expires: number } | null {
    const ctx = this.#ctx;
    const c = ctx.x.cache_handle(index) >>> 0;
    if (c === 0 || key.length > ctx.shared.plan.scratchSize) return null;
    ctx.u8.set(key, ctx.scratch);
    const a = ctx.x.cache_get_begin(c, key.length, this.now());
    if (a <= 0) return null;
    // The core holds the cache until read_end: the copy cannot tear.
    const value = ctx.u8.slice(a, a + ctx.x.cache_last_len());
    const expires = ctx.x.cache_last_expires();
    ctx.x.cache_read_end(c);
    return { value, expires };
  }

  /** Delete expired items of every cache the sweeper covers; returns how many. */
  sweep(now = this.now()): number {
    let n = 0;
    for (const c of this.#handles) {
      const rc = this.#ctx.x.cache_sweep(c, now);
      this.#check('cache sweep', rc);
      n += rc;
    }
    return n;
  }

  /** Validate cache `index`'s structure (repairing it first if a writer died mid-change). */
  check(index: number): void {
    const rc = this.#ctx.x.cache_check(index);
    if (rc < 0) throw statusError(rc, `cache '${this.configs[index]?.name ?? index}' check`);
  }

  /** Counters of cache `index`: items stored, lookups that hit / missed, full events, repairs after a crash. */
  stats(index: number): { items: number; hits: bigint; miss: bigint; full: bigint; repairs: number } {
    const c = this.#handles[index];
    if (c === undefined) throw new UwsgiError('ERR_NOT_FOUND', `cache_stats: no cache ${index} (${this.#handles.length} configured)`);
    const x = this.#ctx.x;
    return { items: x.cache_count(c), hits: x.cache_hits(c), miss: x.cache_miss(c), full: x.cache_full(c), repairs: x.cache_repairs(c) };
  }
}

/**
 * One named cache as an object, for code that prefers methods to uWSGI's
 * functions. `set` overwrites (like a Map); `add` keeps a live key (uWSGI's cache_set).
 */
export class Cache {
  /** Cache name; undefined for the default cache. */
  readonly name: string | undefined;
  readonly #api: CacheApi;

  /** @internal Use `uwsgi.cache(name)`. */
  constructor(api: CacheApi, name?: string) {
    if (name !== undefined && typeof name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `cache: name must be a string, got ${typeName(name)}`);
    if (api.index('cache', name) < 0) {
      throw new UwsgiError('ERR_NOT_FOUND', `cache: no cache named '${name ?? 'default'}' (configured: ${api.configs.map((c) => c.name).join(', ') || 'none'})`);
    }
    this.#api = api;
    this.name = name;
  }

  /** The value, or null. */
  get(key: Bytes): Uint8Array | null { return this.#api.get('Cache.get', key, this.name); }
  /** The value decoded as UTF-8, or null. */
  getString(key: Bytes): string | null {
    const v = this.#api.get('Cache.getString', key, this.name);
    return v === null ? null : utf8d.decode(v);
  }
  /** Copy the value into `buf`; its full length, or -1 when missing. */
  getInto(key: Bytes, buf: Uint8Array): number { return this.#api.getInto('Cache.getInto', key, buf, this.name); }
  /** Store or overwrite; `expires` in seconds (0 = never). False when refused (full, too big). */
  set(key: Bytes, value: Bytes, expires = 0): boolean { return this.#api.store('Cache.set', key, value, expires, this.name, true); }
  /** Store only if the key is not live. */
  add(key: Bytes, value: Bytes, expires = 0): boolean { return this.#api.store('Cache.add', key, value, expires, this.name, false); }
  has(key: Bytes): boolean { return this.#api.exists('Cache.has', key, this.name); }
  delete(key: Bytes): boolean { return this.#api.del('Cache.delete', key, this.name); }
  clear(): void { this.#api.clear('Cache.clear', this.name); }
  keys(): Uint8Array[] { return this.#api.keys('Cache.keys', this.name); }
}

/** The calling thread's cache functions (one object per thread view: it holds the thread's key hints). */
export const cachesOf = threadService<CacheApi>((ctx) => new CacheApi(ctx));
