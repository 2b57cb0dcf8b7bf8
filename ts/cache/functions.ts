/**
 * The cache functions of the `uwsgi` module: a local cache (`--cache2`) by
 * name, or a remote one (`name@host:port`) through uWSGI's cache protocol, in
 * which case the result is a promise.
 * @module
 */
import { argCount, typeName, UwsgiError } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type CacheResult, isRemoteCache, remoteCachesOf, remoteUnsupported } from '../client/client.ts';
import { type Bytes, Cache, cachesOf } from './cache.ts';

/** Options of `cache_update` (beyond uWSGI). */
export interface CacheUpdateOptions {
  /** Keep a live key's expiry (default false: `expires` replaces it, as in uWSGI). A new key takes `expires`. */
  keepTtl?: boolean;
}

/** Whether `options` asks to keep the expiry (validated). */
function updateOptions(fn: string, options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: options must be an object, got ${typeName(options)}`);
  const keep = (options as CacheUpdateOptions).keepTtl;
  if (keep !== undefined && typeof keep !== 'boolean') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: options.keepTtl must be a boolean, got ${typeName(keep)}`);
  return keep === true;
}

/**
 * This module object's cache service, remembered on the object itself (a symbol-keyed
 * own property; `Uwsgi.rebind` in ts/uwsgi.ts clears such memos with the view they came from).
 * A near hit then skips the thread-view accessor and the service lookup: measured
 * 5-8 ns of a 40-50 ns get on Node and Bun.
 */
const API = Symbol('uwsgi-wasm: cache service');
type Memo = { [API]?: ReturnType<typeof cachesOf> };

// What cache_get, cache_get_into and cache_exists do past their near hit, outside the methods: kept
// out, the methods stay small enough that a JIT inlining one into a hot caller also inlines its near
// hit, where the slow path (hot in the profile from every key's first get) had used up the budget.
// The get loop over 10k remembered keys ran in 0.78x (Deno), 0.81x (Node 24), 0.91x (Node 20) of
// the time with this (fresh processes, the builds alternating; Bun unchanged).

/** cache_get past the near hit: the argument count, then the remote or the local cache. */
function getRest(u: CacheFunctions, n: number, key: Bytes, cache: unknown): Uint8Array | null | Promise<Uint8Array | null> {
  argCount('cache_get', n, 1, 2);
  return isRemoteCache(cache) ? remoteCachesOf(u.ctx).get('cache_get', key, cache) : cachesOf(u.ctx).get('cache_get', key, cache);
}

/** cache_get_into past the near hit. */
function getIntoRest(u: CacheFunctions, n: number, key: Bytes, buf: Uint8Array, cache: unknown): number | Promise<number> {
  argCount('cache_get_into', n, 2, 3);
  if (!isRemoteCache(cache)) return cachesOf(u.ctx).getInto('cache_get_into', key, buf, cache);
  if (!(buf instanceof Uint8Array)) return Promise.reject(new UwsgiError('ERR_ARG_TYPE', `cache_get_into: buf must be a Uint8Array`));
  return remoteCachesOf(u.ctx).get('cache_get_into', key, cache).then((v) => {
    if (!v) return -1;
    buf.set(v.length > buf.length ? v.subarray(0, buf.length) : v);
    return v.length;
  });
}

/** cache_exists past the near hit. */
function existsRest(u: CacheFunctions, n: number, key: Bytes, cache: unknown): true | null | Promise<true | null> {
  argCount('cache_exists', n, 1, 2);
  return isRemoteCache(cache) ? remoteCachesOf(u.ctx).exists('cache_exists', key, cache) : cachesOf(u.ctx).exists('cache_exists', key, cache) || null;
}

/** cache_inc/dec/mul/div refuse a remote cache (see cache_mul). */
function noRemoteMath(fn: string, cache: unknown): void {
  if (isRemoteCache(cache)) throw remoteUnsupported(fn, cache, "uWSGI's cache protocol has no arithmetic (uWSGI 2.0.21 would overwrite the counter with the delta)");
}

/** The cache functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts); uWSGI's results: true or null. */
export abstract class CacheFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;


  /**
   * The value of `key`, or null (missing, unknown cache, bad key). A remote
   * cache (`'name@host:port'`, `'@host:port'` for the server's default cache,
   * `'name@/path.sock'`) gives a promise of it (uWSGI's cache protocol, 111/17).
   */
  cache_get<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, Uint8Array | null> {
    // A near hit of the default cache first: nothing to check or look up on that path.
    if (arguments.length === 1 && typeof key === 'string') {
      const v = ((this as Memo)[API] ??= cachesOf(this.ctx)).nearGet(key);
      if (v !== undefined) return v as CacheResult<C, Uint8Array | null>;
    }
    return getRest(this, arguments.length, key, cache) as CacheResult<C, Uint8Array | null>;
  }
  /** Copy the value into `buf` (as much as fits) without allocating: its full length, or -1 when missing. A remote cache gives a promise. */
  cache_get_into<C extends string | undefined = undefined>(key: Bytes, buf: Uint8Array, cache?: C): CacheResult<C, number> {
    // A near hit of the default cache first, as in cache_get.
    if (arguments.length === 2 && typeof key === 'string' && buf instanceof Uint8Array) {
      const n = ((this as Memo)[API] ??= cachesOf(this.ctx)).nearGetInto(key, buf);
      if (n !== undefined) return n as CacheResult<C, number>;
    }
    return getIntoRest(this, arguments.length, key, buf, cache) as CacheResult<C, number>;
  }
  /** true when the key exists (an expired item exists until swept, as in uWSGI), else null. A remote cache gives a promise. */
  cache_exists<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, true | null> {
    // A near hit of the default cache first, as in cache_get (and counted as a hit, as the core counts an exists).
    if (arguments.length === 1 && typeof key === 'string' && ((this as Memo)[API] ??= cachesOf(this.ctx)).nearGet(key) !== undefined) {
      return true as CacheResult<C, true | null>;
    }
    return existsRest(this, arguments.length, key, cache) as CacheResult<C, true | null>;
  }
  /** Store a new key; a live key is NOT overwritten (null). `expires` in seconds, 0 = never. A remote cache gives a promise. */
  cache_set<C extends string | undefined = undefined>(key: Bytes, value: Bytes, expires: number = 0, cache?: C): CacheResult<C, true | null> {
    argCount('cache_set', arguments.length, 2, 4);
    return (isRemoteCache(cache) ? remoteCachesOf(this.ctx).store('cache_set', key, value, expires, cache, false) : cachesOf(this.ctx).store('cache_set', key, value, expires, cache, false) || null) as CacheResult<C, true | null>;
  }
  /**
   * Store or overwrite; the expiry is replaced (0 = never). A remote cache
   * gives a promise. Beyond uWSGI: `{ keepTtl: true }` keeps a live key's
   * expiry (uWSGI's cache_update always resets it); `expires` then applies to
   * a new key only. Local caches only (the cache protocol cannot say it).
   */
  cache_update<C extends string | undefined = undefined>(key: Bytes, value: Bytes, expires: number = 0, cache?: C, options?: CacheUpdateOptions): CacheResult<C, true | null> {
    argCount('cache_update', arguments.length, 2, 5);
    const keepTtl = updateOptions('cache_update', options);
    if (isRemoteCache(cache)) {
      if (keepTtl) throw remoteUnsupported('cache_update', cache, "uWSGI's cache protocol cannot keep an item's expiry");
      return remoteCachesOf(this.ctx).store('cache_update', key, value, expires, cache, true) as CacheResult<C, true | null>;
    }
    return (cachesOf(this.ctx).store('cache_update', key, value, expires, cache, true, keepTtl) || null) as CacheResult<C, true | null>;
  }
  /**
   * Beyond uWSGI: give a live key a new expiry, `expires` seconds from now (0 =
   * never), without rewriting its value. true, or null when the key is
   * missing. Local caches only.
   */
  cache_touch(key: Bytes, expires: number, cache?: string): true | null {
    argCount('cache_touch', arguments.length, 2, 3);
    if (isRemoteCache(cache)) throw remoteUnsupported('cache_touch', cache, "uWSGI's cache protocol has no touch");
    return cachesOf(this.ctx).touch('cache_touch', key, expires, cache) || null;
  }
  /**
   * Beyond uWSGI: compare-and-swap. Stores `value` only if the key's value is
   * `expected` byte for byte (`null`: only if the key is missing), as one
   * atomic step under the cache's write lock: of several threads swapping from
   * the same value, exactly one wins. `expires` (seconds, 0 = never) replaces
   * the expiry; omitted, the item keeps its own (a new key never expires).
   * true when swapped; null when the value was not `expected`, or the cache
   * refused the new one (full, too big). Local caches only.
   */
  cache_cas(key: Bytes, expected: Bytes | null, value: Bytes, expires?: number, cache?: string): true | null {
    argCount('cache_cas', arguments.length, 3, 5);
    if (isRemoteCache(cache)) throw remoteUnsupported('cache_cas', cache, "uWSGI's cache protocol has no compare-and-swap");
    return cachesOf(this.ctx).cas('cache_cas', key, expected, value, expires, cache) || null;
  }
  /**
   * Beyond uWSGI: an atomic read-modify-write. `fn(current)` runs while this
   * thread holds the cache's write lock, so no other write to the cache lands
   * between the read and the write. `current` is a copy of the value (null when
   * the key is missing); `fn` returns the new value (string or bytes), null to
   * delete the key, or undefined to leave it unchanged.
   *
   * What `fn` may do: compute from `current` and return, synchronously. It
   * must not call any cache function (they throw ERR_LOCK_STATE: the same
   * cache would wait for itself, another cache could deadlock with a thread
   * doing the same the other way round), must not wait for other threads, and
   * should be short: other writers of the cache (and readers that find it
   * locked) wait meanwhile; lock-free readers keep seeing the old value. A
   * promise returned is ERR_ARG_TYPE, a throw leaves the key unchanged; either
   * way the lock is released.
   *
   * Returns the key's value afterwards (null: missing, or an unknown cache).
   * `expires` (seconds, 0 = never) replaces the expiry; omitted, the item keeps
   * its own (a new key never expires). ERR_FULL when the cache refuses the new
   * value. Local caches only.
   */
  cache_update_with(key: Bytes, fn: (current: Uint8Array | null) => Bytes | null | undefined, expires?: number, cache?: string): Uint8Array | null {
    argCount('cache_update_with', arguments.length, 2, 4);
    if (isRemoteCache(cache)) throw remoteUnsupported('cache_update_with', cache, 'a remote server cannot run a local function under its lock');
    return cachesOf(this.ctx).updateWith('cache_update_with', key, fn, expires, cache);
  }
  /** true when deleted, null when missing. A remote cache gives a promise. */
  cache_del<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, true | null> {
    argCount('cache_del', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? remoteCachesOf(this.ctx).del('cache_del', key, cache) : cachesOf(this.ctx).del('cache_del', key, cache) || null) as CacheResult<C, true | null>;
  }
  /** Delete every item; null for an unknown cache. A remote cache gives a promise. */
  cache_clear<C extends string | undefined = undefined>(cache?: C): CacheResult<C, true | null> {
    argCount('cache_clear', arguments.length, 0, 1);
    return (isRemoteCache(cache) ? remoteCachesOf(this.ctx).clear('cache_clear', cache) : cachesOf(this.ctx).clear('cache_clear', cache) || null) as CacheResult<C, true | null>;
  }
  /** Every key, in hash-bucket order. An unknown cache throws ERR_NOT_FOUND ("no local uWSGI cache available"); a remote one ERR_UNSUPPORTED (the protocol cannot list keys). */
  cache_keys(cache?: string): Uint8Array[] {
    argCount('cache_keys', arguments.length, 0, 1);
    if (isRemoteCache(cache)) throw remoteUnsupported('cache_keys', cache, 'uWSGI\'s cache protocol has no command to list keys');
    return cachesOf(this.ctx).keys('cache_keys', cache);
  }
  /** The value as a signed 64-bit little-endian integer; 0n when missing or not exactly 8 bytes. A remote cache gives a promise. */
  cache_num<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, bigint> {
    argCount('cache_num', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? remoteCachesOf(this.ctx).num('cache_num', key, cache) : cachesOf(this.ctx).num('cache_num', key, cache)) as CacheResult<C, bigint>;
  }
  /** Add `delta` (default 1) to the int64 counter (a missing key starts at math_initial, default 0). Local caches only (see {@link CacheFunctions.cache_mul}). */
  cache_inc(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_inc', arguments.length, 1, 4); noRemoteMath('cache_inc', cache); return cachesOf(this.ctx).math('cache_inc', key, delta, expires, cache) || null; }
  /** Subtract `delta` (default 1). Local caches only. */
  cache_dec(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_dec', arguments.length, 1, 4); noRemoteMath('cache_dec', cache); return cachesOf(this.ctx).math('cache_dec', key, delta, expires, cache) || null; }
  /**
   * Multiply by `factor` (default 2). Local caches only: uWSGI's cache protocol
   * has no arithmetic, and uWSGI 2.0.21 sends a remote cache_inc/dec/mul/div as
   * an `update` storing the delta itself, which silently replaces the counter;
   * here a remote cache is ERR_UNSUPPORTED.
   */
  cache_mul(key: Bytes, factor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_mul', arguments.length, 1, 4); noRemoteMath('cache_mul', cache); return cachesOf(this.ctx).math('cache_mul', key, factor, expires, cache) || null; }
  /** Divide by `divisor` (default 2), truncating; division by zero stores 0, as in uWSGI. Local caches only. */
  cache_div(key: Bytes, divisor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_div', arguments.length, 1, 4); noRemoteMath('cache_div', cache); return cachesOf(this.ctx).math('cache_div', key, divisor, expires, cache) || null; }
  /** Cache `name` (default: the default cache) as an object with get/set/add/has/delete/getString. */
  cache(name?: string): Cache { return new Cache(cachesOf(this.ctx), name); }
}
