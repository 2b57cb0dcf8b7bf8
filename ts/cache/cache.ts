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
import { POOL_MAX, copyOutWords } from '../kernel/pool.ts';
import {
  CACHE_ITEM_STAMP, CACHE_ITEM_VERSION, CACHE_LINE_FOUND_EXPIRES, CACHE_LINE_FOUND_ITEM, CACHE_LINE_FOUND_SLOT,
  CACHE_LINE_FOUND_STAMP, CACHE_LINE_FOUND_VERSION, CACHE_LINE_NEAR_HITS, CACHE_MATH_DEC, CACHE_MATH_DIV,
  CACHE_MATH_INC, CACHE_MATH_MUL, CACHE_NEAR_FOLD, CACHE_STORE_KEEP_EXPIRES, CACHE_STORE_UPDATE, CACHE_VALUE_ALIGN,
  E_HINT, E_SCRATCH, E_VALUE_RANGE,
} from '../kernel/abi.ts';

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

/** Matches a lone surrogate: under the `u` flag a well-formed pair is one code point, not in Cs. */
const LONE_SURROGATE = /\p{Cs}/u;

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

/** cache_get_into's copy of a remembered value `v`: as much as fits in `buf`; returns the value's whole length. */
function valueInto(buf: Uint8Array, v: Uint8Array): number {
  const n = Math.min(v.length, buf.length);
  if (n <= SMALL_COPY) bytesInto(buf, 0, v, n); else buf.set(n === v.length ? v : v.subarray(0, n));
  return v.length;
}

/** Where the core puts a value in scratch after a key of `keylen` bytes (assembly/cache/cache.ts valueOffset). */
const valueOffset = (keylen: number) => (keylen + CACHE_VALUE_ALIGN - 1) & -CACHE_VALUE_ALIGN;

/** Keys a thread remembers per cache when the near cache is off (hints only). */
const HINTS_MAX = 32768;
/** Int32 words from an item's version word to the low word of its stamp. */
const STAMP_WORD = (CACHE_ITEM_STAMP - CACHE_ITEM_VERSION) >> 2;

/**
 * Told of every local write that changed a cache configured with `nodes=`
 * (set/update, inc/dec/mul/div, del, and ours: touch, cas, update_with; not
 * clear, as uWSGI), after the write and with the cache's lock released,
 * in the writing thread. The cluster subsystem installs it to replicate the
 * write (ts/cluster/replication.ts); writes it applies itself from peers do
 * not come through here.
 */
export type CacheWriteHook = (ctx: ThreadContext, index: number, key: Bytes, deleted: boolean) => void;
let writeHook: CacheWriteHook | null = null;
/** Install the {@link CacheWriteHook} (one per JS thread; the cluster subsystem does, when it loads). */
export function setCacheWriteHook(hook: CacheWriteHook | null): void { writeHook = hook; }

/**
 * What a thread knows of one key (string keys only). Where its item was: the
 * slot and the item's insert stamp (stamps are never reused), a hint that lets
 * the core skip encoding, hashing and the chain walk; a stale hint only costs
 * the full lookup. With the near cache on, also the value read there and the
 * item's version at that moment: while the version and the stamp's low word
 * in the shared memory are unchanged, that value is still the current one (see
 * bump() in assembly/cache/cache.ts for why), so a get returns it without
 * calling the core or copying anything.
 */
interface Known {
  /** The item's slot. */
  slot: number;
  /** The item's insert stamp, low and high 32-bit halves (the core call takes only i32s). */
  lo: number;
  hi: number;
  /** Int32 index, in the shared memory, of the item's version word (the stamp's low word is STAMP_WORD after it). */
  vi: number;
  /** The item's version when `value` was read. */
  ver: number;
  /** The value read at `ver`, returned as is by every get that finds the item unchanged; null: a hint only. */
  value: Uint8Array | null;
  /** The pooled buffer `value` is a view of (what remembering it keeps alive), or null when it has its own. */
  buf: ArrayBuffer | null;
  /** The item's absolute expiry (unix seconds, 0: never): lazy_expire caches check it on every hit. */
  exp: number;
  /** near_check: a private copy of `value`, compared with it on every hit. */
  copy: Uint8Array | null;
  /**
   * `value` when a near hit may return it with no check beyond the item's
   * version and stamp (no near_check copy, no expiry the clock must be compared
   * with), else null: `nearGet` reads this one field of the entry's state.
   */
  hit: Uint8Array | null;
}

/** What one thread knows of one cache. */
interface Local {
  /** The core's handle (the region address). */
  c: number;
  /** lazy_expire: reads need the clock. */
  lazy: boolean;
  /** Writes need the clock even without an expiry (lazy_expire, sweep_on_full). */
  writeClock: boolean;
  /**
   * String key -> what this thread knows of it, oldest first (a Map keeps
   * insertion order: the oldest is dropped when a bound is reached). Null for
   * purge_lru caches, whose reads must move the item (the exclusive path), and
   * for a thread without a counter line in the cache.
   */
  known: Map<string, Known> | null;
  /** Whether values are remembered (near_items and near_bytes both above 0). */
  near: boolean;
  /** Keys remembered at most (near_items, or HINTS_MAX with the near cache off). */
  maxKeys: number;
  /** near_bytes: bytes the remembered values may keep alive. */
  maxBytes: number;
  /** Bytes they keep alive now: each pooled buffer once, plus values with buffers of their own. */
  bytes: number;
  /** Pooled buffers the remembered values are views of, with how many values each holds. */
  buffers: Map<ArrayBuffer, number>;
  /** near_check. */
  check: boolean;
  /** Int32 index of this thread's counter line in the cache (abi.ts CACHE_LINE_*), 0 without one. */
  line: number;
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
  readonly #i32: Int32Array;
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
    this.#locals = caches.map((c, i) => {
      const line = ctx.x.cache_line_addr(this.#handles[i]) >>> 2;
      const near = c.nearItems > 0 && c.nearBytes > 0;
      return {
        c: this.#handles[i], lazy: c.lazyExpire, writeClock: c.lazyExpire || c.sweepOnFull > 0,
        known: c.purgeLru || line === 0 ? null : new Map(), near, maxKeys: near ? c.nearItems : HINTS_MAX,
        maxBytes: c.nearBytes, bytes: 0, buffers: new Map(), check: c.nearCheck, line,
      };
    });
    this.#u8 = ctx.u8;
    this.#base = ctx.scratch;
    this.#size = ctx.shared.plan.scratchSize;
    this.#scratch = ctx.u8.subarray(ctx.scratch, ctx.scratch + this.#size);
    this.#keyOff = ctx.x.CACHE_ITEM_KEY.value as number;
    this.#i32 = new Int32Array(ctx.u8.buffer, ctx.u8.byteOffset, ctx.u8.byteLength >> 2);
    const first = this.#locals[0];
    // Without the near cache (values not remembered) nothing could answer here.
    if (first !== undefined && first.known !== null && first.near) {
      this.#nearKnown = first.known;
      this.#nearHitsAt = first.line + (CACHE_LINE_NEAR_HITS >> 2);
    }
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

  // ---- what a thread remembers of its keys (hints and the near cache) ----------------------

  /**
   * Whether `k`'s value is still the item's current value: the near cache's
   * whole check, two loads from the shared memory and no call into the core.
   * A lazy_expire cache also checks the item's expiry against the clock.
   */
  #fresh(l: Local, k: Known): boolean {
    const i32 = this.#i32;
    // Plain loads, on purpose (an Atomics.load is a builtin call on V8, costing more than the rest of a near hit): an
    // Int32Array element never tears, and no read may return a value older than a write that happens before it, atomic
    // or not. Every writer stores a new version before it finishes, so a write that happens before this get changes
    // what this load sees (bump() in assembly/cache/cache.ts has the whole argument). The version first, then the stamp.
    if (i32[k.vi] !== k.ver || i32[k.vi + STAMP_WORD] !== k.lo) return false;
    return k.exp === 0 || !l.lazy || k.exp > this.now();
  }

  /** Count a hit the near cache served on this thread's line (the core counts the others), folding it before it could wrap. */
  #nearHit(l: Local): void {
    const i32 = this.#i32;
    const at = l.line + (CACHE_LINE_NEAR_HITS >> 2);
    // A plain store: only this thread writes the word; the stats read it atomically. Being a store to the array the
    // version checks load from, it also keeps any JIT from reusing one get's version load for the next get.
    const n = i32[at] + 1;
    i32[at] = n;
    if (n >= CACHE_NEAR_FOLD) this.#ctx.x.cache_near_fold(l.c);
  }

  /** near_check: throw if the caller changed the value `k` hands out (and forget it, so later gets are right). */
  #verify(fn: string, l: Local, key: string, k: Known): void {
    const v = k.value!;
    const copy = k.copy!;
    let same = v.length === copy.length;
    for (let i = 0; same && i < v.length; i++) same = v[i] === copy[i];
    if (same) return;
    this.#forget(l, key, k);
    throw new UwsgiError('ERR_MODIFIED', `${fn}: the value returned for key '${key}' was modified by the caller; a get returns the same array to every later get while the value is unchanged (copy it before changing it)`);
  }

  /** Whether `#out` gives a view of the pooled copy-out buffer for a value of `n` bytes. */
  #pooled(n: number): boolean { return !(n <= SMALL_COPY && this.#own) && n <= POOL_MAX; }

  /** Forget `key`. */
  #forget(l: Local, key: string, k: Known): void {
    this.#release(l, k);
    l.known!.delete(key);
  }

  /** Stop remembering `k`'s value (and counting what it keeps alive). */
  #release(l: Local, k: Known): void {
    const v = k.value;
    if (v === null) return;
    if (k.buf === null) l.bytes -= v.length;
    else {
      const n = l.buffers.get(k.buf)! - 1;
      if (n === 0) { l.buffers.delete(k.buf); l.bytes -= k.buf.byteLength; } else l.buffers.set(k.buf, n);
    }
    if (k.copy !== null) l.bytes -= k.copy.length;
    k.value = null;
    k.buf = null;
    k.copy = null;
    k.hit = null;
  }

  /**
   * After the core served a hit of `key` (it recorded the item on this
   * thread's line, read in the same snapshot as the value): remember where the
   * item is and, with the near cache on, `value`, the array just handed out
   * (`pooled`: a view of the copy-out pool, whose whole buffer it keeps alive).
   * The oldest keys are dropped past near_items keys or near_bytes bytes.
   */
  #learn(l: Local, key: string, value: Uint8Array | null, pooled: boolean): void {
    const i32 = this.#i32;
    const at = l.line;
    const slot = i32[at + (CACHE_LINE_FOUND_SLOT >> 2)];
    const ver = i32[at + (CACHE_LINE_FOUND_VERSION >> 2)];
    const lo = i32[at + (CACHE_LINE_FOUND_STAMP >> 2)];
    const hi = i32[at + (CACHE_LINE_FOUND_STAMP >> 2) + 1];
    const exp = (i32[at + (CACHE_LINE_FOUND_EXPIRES >> 2)] >>> 0) + i32[at + (CACHE_LINE_FOUND_EXPIRES >> 2) + 1] * 4294967296;
    const vi = ((i32[at + (CACHE_LINE_FOUND_ITEM >> 2)] >>> 0) + CACHE_ITEM_VERSION) >>> 2;
    const known = l.known!;
    let k = known.get(key);
    if (k === undefined) {
      if (known.size >= l.maxKeys) this.#evictOldest(l);
      k = { slot, lo, hi, vi, ver, value: null, buf: null, exp, copy: null, hit: null };
      known.set(key, k);
    } else {
      this.#release(l, k);
      k.slot = slot; k.lo = lo; k.hi = hi; k.vi = vi; k.ver = ver; k.exp = exp;
    }
    if (!l.near || value === null) return;
    k.value = value;
    if (pooled) {
      const buf = value.buffer as ArrayBuffer;
      const n = l.buffers.get(buf);
      if (n === undefined) { l.buffers.set(buf, 1); l.bytes += buf.byteLength; } else l.buffers.set(buf, n + 1);
      k.buf = buf;
    } else l.bytes += value.length;
    if (l.check) { k.copy = value.slice(); l.bytes += value.length; } else if (exp === 0 || !l.lazy) k.hit = value;
    while (l.bytes > l.maxBytes) this.#evictOldest(l);
  }

  /** Forget the key remembered longest ago. */
  #evictOldest(l: Local): void {
    const first = l.known!.entries().next();
    if (!first.done) this.#forget(l, first.value[0], first.value[1]);
  }

  /**
   * Put the key in scratch; returns its length, or -1 when it cannot be a key of any cache.
   * A string with a lone surrogate is ERR_ARG_TYPE: UTF-8 has no form for it (the encoder
   * would make it U+FFFD, so '\ud800', '\udfff' and '\ufffd' would be one key), and
   * uWSGI's Python 3 refuses such a str as well.
   */
  #key(fn: string, key: unknown): number {
    if (typeof key === 'string') {
      const n = key.length;
      if (n <= ASCII_MAX && asciiInto(this.#u8, this.#base, key, n)) return n;
      if (LONE_SURROGATE.test(key)) {
        throw new UwsgiError('ERR_ARG_TYPE', `${fn}: key has a lone surrogate (an unpaired code unit U+D800..U+DFFF), which has no UTF-8 form; pass a well-formed string or the key's bytes`);
      }
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

  #value(fn: string, v: unknown, what = 'value'): Uint8Array {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return utf8.encode(v);
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${what} must be a string or Uint8Array, got ${typeName(v)}`);
  }

  #check(fn: string, rc: number): void { if (rc < 0) throw statusError(rc, fn); }

  /** A local write changed the cache `cache` names: hand it to the {@link CacheWriteHook} if that cache replicates. */
  #written(cache: unknown, key: unknown, deleted: boolean): void {
    const i = cache === undefined ? 0 : this.index('cache', cache);
    if (i >= 0 && this.#replicated[i]) writeHook?.(this.#ctx, i, key as Bytes, deleted);
  }

  /** A write call's status: throws a failure, hands a change (1) to replication; whether it changed the cache. */
  #wrote(fn: string, rc: number, cache: unknown, key: unknown, deleted: boolean): boolean {
    this.#check(fn, rc);
    if (rc === 1 && this.#replicating) this.#written(cache, key, deleted);
    return rc === 1;
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
    return copyOutWords(this.#u8, this.#i32, from, n);
  }

  /**
   * `cache_get(key)` of the default cache when this thread remembers the key's
   * value and the item is unchanged: that value; otherwise undefined, and the
   * caller takes {@link get}, which answers the same by the longer way. The
   * module function tries this first, so a near hit runs no argument checks,
   * no cache-name lookup and nothing else (worth 5-10 ns of a 30-50 ns get).
   */
  nearGet(key: string): Uint8Array | undefined {
    // Only the loads a near hit needs: whether the entry's value may be returned as is (a value, no
    // near_check copy, no expiry to compare with the clock) was settled when it was learned (`hit`),
    // and whether this path may answer at all when the service was made or went busy (`#nearKnown`).
    const known = this.#nearKnown;
    if (known === null) return undefined;
    const k = known.get(key);
    if (k === undefined) return undefined;
    const v = k.hit;
    const i32 = this.#i32;
    const vi = k.vi;
    // #fresh's check (its comment has the memory-order argument).
    if (v === null || i32[vi] !== k.ver || i32[vi + STAMP_WORD] !== k.lo) return undefined;
    const at = this.#nearHitsAt;
    const n = i32[at] + 1;
    i32[at] = n;
    if (n >= CACHE_NEAR_FOLD) this.#ctx.x.cache_near_fold(this.#locals[0].c);
    return v;
  }

  /** `nearGet` for cache_get_into: the value's length once copied into `buf` (as much as fits), or undefined. */
  nearGetInto(key: string, buf: Uint8Array): number | undefined {
    const v = this.nearGet(key);
    return v === undefined ? undefined : valueInto(buf, v);
  }

  get(fn: string, key: unknown, cache: unknown): Uint8Array | null {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const l = this.#local(fn, cache);
    if (l !== undefined && l.known !== null && typeof key === 'string') {
      const k = l.known.get(key);
      if (k !== undefined) {
        const v = k.value;
        if (v !== null && this.#fresh(l, k)) {
          if (k.copy !== null) this.#verify(fn, l, key, k);
          this.#nearHit(l);
          return v;
        }
        return this.#getHinted(fn, l, key, k);
      }
    }
    return this.#getFull(fn, l, key);
  }

  /** A get of a key whose item was found before: the core checks the slot still holds it (no lookup) and copies the value. */
  #getHinted(fn: string, l: Local, key: string, k: Known): Uint8Array | null {
    const n = this.#ctx.x.cache_get_hinted(l.c, k.slot, k.lo, k.hi, l.lazy ? this.now() : 0);
    if (n > 0) {
      const v = this.#out(this.#base, n);
      this.#learn(l, key, v, this.#pooled(n));
      return v;
    }
    if (n < 0 && n !== E_SCRATCH) throw statusError(n, fn);
    if (n === 0) this.#forget(l, key, k);
    return this.#getFull(fn, l, key);
  }

  /** A get by the full lookup (key encoded and hashed by the core). */
  #getFull(fn: string, l: Local | undefined, key: unknown): Uint8Array | null {
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return null;
    const x = this.#ctx.x;
    const learn = l.known !== null && typeof key === 'string';
    // One call: the core looks the key up without a lock and copies the value to scratch.
    const n = x.cache_get(l.c, kl, l.lazy ? this.now() : 0);
    if (n > 0) {
      const v = this.#out(this.#base + valueOffset(kl), n);
      if (learn) this.#learn(l, key as string, v, this.#pooled(n));
      return v;
    }
    if (n === 0) return null;
    if (n !== E_SCRATCH) throw statusError(n, fn);
    // Larger than the scratch: the core holds the cache while the value is copied.
    const a = x.cache_get_begin(l.c, kl, this.now());
    if (a <= 0) { this.#check(fn, a); return null; }
    const out = this.#u8.slice(a, a + x.cache_last_len());
    x.cache_read_end(l.c);
    if (learn) this.#learn(l, key as string, out, false);
    return out;
  }

  /** Copy the value into `buf` (as much as fits); its full length, or -1 on a miss. */
  getInto(fn: string, key: unknown, buf: unknown, cache: unknown): number {
    if (this.#busy !== null) this.#refuseBusy(fn);
    if (!(buf instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: buf must be a Uint8Array, got ${typeName(buf)}`);
    const l = this.#local(fn, cache);
    if (l !== undefined && l.known !== null && typeof key === 'string') {
      const k = l.known.get(key);
      if (k !== undefined) {
        const v = k.value;
        if (v !== null && this.#fresh(l, k)) {
          if (k.copy !== null) this.#verify(fn, l, key, k);
          this.#nearHit(l);
          return valueInto(buf, v);
        }
        const n = this.#ctx.x.cache_get_hinted(l.c, k.slot, k.lo, k.hi, l.lazy ? this.now() : 0);
        if (n > 0) {
          this.#copyOut(this.#base, Math.min(n, buf.length), buf);
          // Without the near cache nothing is allocated: only where the item is gets remembered.
          this.#learn(l, key, l.near ? this.#out(this.#base, n) : null, this.#pooled(n));
          return n;
        }
        if (n < 0 && n !== E_SCRATCH) throw statusError(n, fn);
        if (n === 0) this.#forget(l, key, k);
      }
    }
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return -1;
    const x = this.#ctx.x;
    const learn = l.known !== null && typeof key === 'string';
    const n = x.cache_get(l.c, kl, l.lazy ? this.now() : 0);
    if (n > 0) {
      const at = this.#base + valueOffset(kl);
      this.#copyOut(at, Math.min(n, buf.length), buf);
      if (learn) this.#learn(l, key as string, l.near ? this.#out(at, n) : null, this.#pooled(n));
      return n;
    }
    if (n === 0) return -1;
    if (n !== E_SCRATCH) throw statusError(n, fn);
    const a = x.cache_get_begin(l.c, kl, this.now());
    if (a <= 0) { this.#check(fn, a); return -1; }
    const len = x.cache_last_len();
    buf.set(this.#u8.subarray(a, a + Math.min(len, buf.length)));
    const v = learn && l.near ? this.#u8.slice(a, a + len) : null;
    x.cache_read_end(l.c);
    if (learn) this.#learn(l, key as string, v, false);
    return len;
  }

  exists(fn: string, key: unknown, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const l = this.#local(fn, cache);
    if (l !== undefined && l.known !== null && typeof key === 'string') {
      const k = l.known.get(key);
      if (k !== undefined && k.value !== null && this.#fresh(l, k)) { this.#nearHit(l); return true; }
    }
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return false;
    const rc = this.#ctx.x.cache_has(l.c, kl, l.lazy ? this.now() : 0);
    this.#check(fn, rc);
    return rc === 1;
  }

  /**
   * cache_set (update false) / cache_update (update true): true when stored.
   * `keepTtl`: a live key keeps its expiry (`expires` applies to a new one).
   */
  store(fn: string, key: unknown, value: unknown, expires: unknown, cache: unknown, update: boolean, keepTtl = false): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    if (!(value instanceof Uint8Array) && typeof value !== 'string') this.#value(fn, value); // throws the typed error
    const e = expires === undefined || expires === 0 ? 0 : expiryArg(fn, expires);
    const l = this.#local(fn, cache);
    if (l === undefined) {
      this.#key(fn, key); // a key of a wrong type throws even for a missing cache
      return false;
    }
    const c = l.c;
    const x = this.#ctx.x;
    const now = e !== 0 || l.writeClock ? this.now() : 0;
    const mode = (update ? CACHE_STORE_UPDATE : 0) | (keepTtl ? CACHE_STORE_KEEP_EXPIRES : 0);
    const known = l.known;
    if (known !== null && typeof key === 'string') {
      const k = known.get(key);
      if (k !== undefined) {
        // A key this thread found before: the core checks that the slot still holds its item and stores there,
        // with no key to encode, hash or look up. A stale hint changes nothing and falls through to the full path.
        const vl = this.#valueIn(fn, value, 0);
        if (vl >= 0) {
          const rc = x.cache_set_hinted(c, k.slot, k.lo, k.hi, vl, e, now, mode);
          if (rc !== E_HINT) return this.#wrote(fn, rc, cache, key, false);
          this.#forget(l, key, k);
        }
      }
    }
    const kl = this.#key(fn, key);
    if (kl < 0) return false;
    const vl = this.#valueIn(fn, value, kl);
    if (vl >= 0) {
      // One call: the value is in scratch after the key.
      const rc = x.cache_set(c, kl, vl, e, now, mode);
      // Remembers where the item is (not its value), so the next write of the key can take the hinted path; only
      // while there is room, so that a stream of keys written once never pushes out the keys this thread reads.
      if (rc === 1 && known !== null && typeof key === 'string' && known.size < l.maxKeys) this.#learn(l, key, null, false);
      return this.#wrote(fn, rc, cache, key, false);
    }
    // Larger than the scratch: the core holds the cache exclusively while the value is copied in.
    const v = this.#value(fn, value);
    const a = x.cache_store_begin(c, kl, v.length, e, now, mode);
    if (a <= 0) { this.#check(fn, a); return false; }
    this.#u8.set(v, a);
    x.cache_store_end(c);
    if (this.#replicating) this.#written(cache, key, false);
    return true;
  }

  // ---- beyond uWSGI: touch, compare-and-swap, read-modify-write ------------------------------

  /**
   * The function cache_update_with is running on this thread (it holds a
   * cache's write lock meanwhile), or null. Every cache function refuses to
   * run from it: the same cache would wait for itself, and another cache could
   * wait for a thread that waits for this one.
   */
  #busy: string | null = null;

  /** What `nearGet` looks keys up in: the default cache's remembered keys, or null when it must not answer (no near cache, or `#busy`). */
  #nearKnown: Map<string, Known> | null = null;
  /** Int32 index of the default cache's near-hit count on this thread's line. */
  #nearHitsAt = 0;

  #refuseBusy(fn: string): never {
    throw new UwsgiError('ERR_LOCK_STATE', `${fn}: called from the function given to ${this.#busy}, which runs holding the cache's write lock; it must not call cache functions`);
  }

  /** cache_touch: a new expiry (`expires` s from now, 0 never) for a live key, its value unchanged. */
  touch(fn: string, key: unknown, expires: unknown, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const e = intArg(fn, 'expires', expires);
    if (e < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: expires must be 0 (never) or more seconds, got ${e}`);
    const l = this.#local(fn, cache);
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return false;
    const rc = this.#ctx.x.cache_touch(l.c, kl, e, this.now());
    // Peers get the value again with its new expiry (the cache protocol has no touch).
    return this.#wrote(fn, rc, cache, key, false);
  }

  /**
   * cache_cas: store `value` only if the key's value is `expected` byte for
   * byte (null: only if the key is missing), atomically: under the cache's
   * write lock. `expires` omitted keeps the item's expiry (never, for a new key).
   * False when the value differs, or the cache refused the new one (full, too big).
   */
  cas(fn: string, key: unknown, expected: unknown, value: unknown, expires: unknown, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const want = expected === null ? null : this.#value(fn, expected, 'expected');
    const v = this.#value(fn, value);
    const e = expires === undefined ? undefined : intArg(fn, 'expires', expires);
    const l = this.#local(fn, cache);
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return false;
    return this.#underRmw(fn, l, kl, (a, now, released) => {
      let same = a === 0 ? want === null : want !== null && this.#ctx.x.cache_last_len() === want.length;
      if (same && a !== 0) {
        const u8 = this.#u8;
        for (let i = 0; same && i < want!.length; i++) same = u8[a + i] === want![i];
      }
      if (!same) return false;
      return this.#rmwStore(fn, l, cache, key, kl, v, e, now, released);
    });
  }

  /**
   * cache_update_with: `f(current)` decides the key's next value while the
   * cache's write lock is held, so no other write lands in between. `current`
   * is a copy (null when missing); `f` returns the new value (string or
   * bytes), null to delete the key, or undefined to leave it as it is. It must
   * return synchronously, must not call cache functions (ERR_LOCK_STATE) and
   * should be short: other writers wait meanwhile (readers do not: they keep
   * seeing the value before). If it throws, nothing changes. Returns the value
   * the key holds afterwards (null: missing). `expires` omitted keeps the
   * item's expiry (never, for a new key). ERR_FULL when the cache refuses the
   * new value (full, or larger than it holds). An unknown cache or a key no
   * cache can hold gives null without calling `f`, as uWSGI's functions do.
   */
  updateWith(fn: string, key: unknown, f: unknown, expires: unknown, cache: unknown): Uint8Array | null {
    if (this.#busy !== null) this.#refuseBusy(fn);
    if (typeof f !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: fn must be a function, got ${typeName(f)}`);
    const e = expires === undefined ? undefined : intArg(fn, 'expires', expires);
    const l = this.#local(fn, cache);
    const kl = this.#key(fn, key);
    if (l === undefined || kl < 0) return null;
    const x = this.#ctx.x;
    return this.#underRmw(fn, l, kl, (a, now, released) => {
      const current = a === 0 ? null : this.#u8.slice(a, a + x.cache_last_len());
      let next: unknown;
      const near = this.#nearKnown;
      this.#busy = fn;
      this.#nearKnown = null;
      try { next = (f as (v: Uint8Array | null) => unknown)(current); } finally { this.#busy = null; this.#nearKnown = near; }
      if (next !== null && typeof next === 'object' && typeof (next as { then?: unknown }).then === 'function') {
        throw new UwsgiError('ERR_ARG_TYPE', `${fn}: fn returned a promise; it runs holding the cache's write lock and must return the new value synchronously`);
      }
      if (next === undefined) return current;
      // The function may have used this thread's scratch (other uwsgi functions do): the key goes in again.
      this.#key(fn, key);
      if (next === null) {
        released();
        const rc = x.cache_rmw_delete(l.c, kl, now);
        this.#check(fn, rc);
        if (rc === 1 && this.#replicating) this.#written(cache, key, true);
        return null;
      }
      const v = this.#value(fn, next, 'the value fn returned');
      if (!this.#rmwStore(fn, l, cache, key, kl, v, e, now, released)) {
        throw new UwsgiError('ERR_FULL', `${fn}: the cache refused the new value (${v.length} bytes: full, or larger than it holds); the key is unchanged`);
      }
      return v;
    });
  }

  /**
   * The frame cas and updateWith share: take the cache's read-modify-write
   * hold on the key (`a`: its value's address, 0 when missing), run `body`,
   * and give the hold back unless `body` called `released` (the core gave it
   * back itself, in a store or a delete). A throw gives it back too.
   */
  #underRmw<T>(fn: string, l: Local, kl: number, body: (a: number, now: number, released: () => void) => T): T {
    const x = this.#ctx.x;
    const now = this.now();
    const a = x.cache_rmw_begin(l.c, kl, now);
    this.#check(fn, a);
    let held = true;
    try {
      return body(a, now, () => { held = false; });
    } finally {
      if (held) x.cache_rmw_end(l.c);
    }
  }

  /** The store half of cas/updateWith, under cache_rmw_begin's hold; `released` is called once the core has given it back. */
  #rmwStore(fn: string, l: Local, cache: unknown, key: unknown, kl: number, v: Uint8Array, e: number | undefined, now: number, released: () => void): boolean {
    const x = this.#ctx.x;
    this.#key(fn, key);
    const mode = CACHE_STORE_UPDATE | (e === undefined ? CACHE_STORE_KEEP_EXPIRES : 0);
    const b = x.cache_rmw_store(l.c, kl, v.length, e ?? 0, now, mode);
    if (b <= 0) {
      if (b === 0) released(); // refused: the core gave the hold back
      this.#check(fn, b);
      return false;
    }
    released();
    this.#u8.set(v, b);
    x.cache_store_end(l.c);
    // After the hold is given back: the hook reads the stored value and expiry.
    if (this.#replicating) this.#written(cache, key, false);
    return true;
  }

  del(fn: string, key: unknown, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const c = this.handle(fn, cache);
    const kl = this.#key(fn, key);
    if (c === 0 || kl < 0) return false;
    const rc = this.#ctx.x.cache_del(c, kl, this.now());
    return this.#wrote(fn, rc, cache, key, true);
  }

  clear(fn: string, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
    const c = this.handle(fn, cache);
    if (c === 0) return false;
    this.#check(fn, this.#ctx.x.cache_clear(c));
    return true;
  }

  keys(fn: string, cache: unknown): Uint8Array[] {
    if (this.#busy !== null) this.#refuseBusy(fn);
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
    if (this.#busy !== null) this.#refuseBusy(fn);
    const c = this.handle(fn, cache);
    const kl = this.#key(fn, key);
    if (c === 0 || kl < 0) return 0n;
    const rc = this.#ctx.x.cache_num(c, kl, this.now(), this.#ctx.scratch);
    this.#check(fn, rc);
    return rc === 1 ? this.#ctx.dv.getBigInt64(this.#ctx.scratch, true) : 0n;
  }

  math(fn: MathFn, key: unknown, delta: unknown, expires: unknown, cache: unknown): boolean {
    if (this.#busy !== null) this.#refuseBusy(fn);
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
    if (rc === E_VALUE_RANGE) {
      throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the result does not fit in a signed 64-bit integer; the counter is left unchanged (uWSGI wraps it)`);
    }
    return this.#wrote(fn, rc, cache, key, false);
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

  /**
   * What this thread remembers of cache `index`: keys (where their items are),
   * values held by the near cache, and the bytes those values keep alive
   * (each pooled buffer counted once; bounded by near_bytes).
   */
  near(index: number): { keys: number; values: number; bytes: number } {
    const l = this.#locals[index];
    if (l === undefined) throw new UwsgiError('ERR_NOT_FOUND', `cache near: no cache ${index} (${this.#locals.length} configured)`);
    let values = 0;
    if (l.known !== null) for (const k of l.known.values()) if (k.value !== null) values++;
    return { keys: l.known?.size ?? 0, values, bytes: l.bytes };
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
  /** Give a live key a new expiry (`expires` seconds from now, 0 = never), its value unchanged. False when missing. */
  touch(key: Bytes, expires: number): boolean { return this.#api.touch('Cache.touch', key, expires, this.name); }
  /** Store `value` only if the current value is `expected` (null: only if missing), atomically. See `uwsgi.cache_cas`. */
  cas(key: Bytes, expected: Bytes | null, value: Bytes, expires?: number): boolean { return this.#api.cas('Cache.cas', key, expected, value, expires, this.name); }
  /** Read-modify-write under the cache's write lock. See `uwsgi.cache_update_with` for what `fn` may do. */
  updateWith(key: Bytes, fn: (current: Uint8Array | null) => Bytes | null | undefined, expires?: number): Uint8Array | null {
    return this.#api.updateWith('Cache.updateWith', key, fn, expires, this.name);
  }
  has(key: Bytes): boolean { return this.#api.exists('Cache.has', key, this.name); }
  delete(key: Bytes): boolean { return this.#api.del('Cache.delete', key, this.name); }
  clear(): void { this.#api.clear('Cache.clear', this.name); }
  keys(): Uint8Array[] { return this.#api.keys('Cache.keys', this.name); }
}

/** The calling thread's cache functions (one object per thread view: it holds what the thread remembers of its keys). */
export const cachesOf = threadService<CacheApi>((ctx) => new CacheApi(ctx));
