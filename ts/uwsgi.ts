/**
 * The `uwsgi` module object: the functions and globals of uWSGI's Python
 * module, for the calling thread. Names follow the seed reference.
 * @module
 */
import { UwsgiError, argCount, intArg, statusError, CoreStatus } from './errors.ts';
import type { ThreadContext } from './context.ts';
import { optDict } from './options.ts';
import { SharedArea, SharedAreas } from './sharedarea.ts';
import { SharedQueue, queueOf } from './queue.ts';
import { type RpcResult, callRpc, registerRpc, rpcList } from './rpc.ts';
import { type MuleGetMsgOptions, mulesOf } from './mules.ts';
import { type Bytes, Cache, CacheApi } from './cache.ts';
import { runtime } from './runtime.ts';
import { type SnmpSlots, snmpOf } from './snmp.ts';
import { VERSION, VERSION_INFO } from './version.ts';

/** A held user lock, for `using`-style code: `const l = uwsgi.Lock(2); l.acquire(); try {...} finally { l.release(); }`. */
export class Lock {
  readonly #u: Uwsgi;
  /** Lock number (0..locks). */
  readonly num: number;
  /** @internal Use `uwsgi.Lock(n)`. */
  constructor(u: Uwsgi, num: number) { this.#u = u; this.num = num; }
  /**
   * Block until held. Returns true when the previous holder died holding it:
   * the data it protects may be half-updated. `timeoutMs` bounds the wait (ERR_TIMEOUT).
   */
  acquire(timeoutMs?: number): boolean { return this.#u.lockWithStatus(this.num, timeoutMs ?? -1, 'Lock.acquire'); }
  /** Take it only if free now. */
  tryAcquire(): boolean { return this.#u.ctx.x.lock_try(this.#u.checkLock('Lock.tryAcquire', this.num)) === 0; }
  release(): void { this.#u.unlock(this.num); }
  get locked(): boolean { return this.#u.is_locked(this.num); }
}

const SPOOL_OK = -2;
const SPOOL_RETRY = -1;
const SPOOL_IGNORE = 0;

/** The uwsgi module API for one thread of one engine. */
export class Uwsgi {
  #ctx?: ThreadContext;
  readonly #resolve?: () => ThreadContext;
  #sharedareas?: SharedAreas;
  #opt?: Record<string, string | true>;
  #area0?: SharedArea;
  #queue?: SharedQueue;
  #caches?: CacheApi;
  /** Called when a lock is recovered from a dead holder (default: a line on stderr, as uWSGI logs). */
  onLockRecovered: (lock: number) => void = (n) => {
    console.error(`[deadlock-detector] a thread holding lock ${n} died. recovering...`);
  };

  /**
   * @internal Use `import uwsgi from 'uwsgi-wasm'` or `createEngine()`. A function
   * is resolved on first use (the default export attaches lazily).
   */
  constructor(ctx: ThreadContext | (() => ThreadContext)) {
    if (typeof ctx === 'function') this.#resolve = ctx;
    else this.#ctx = ctx;
  }

  /** @internal The calling thread's view of the engine. */
  get ctx(): ThreadContext { return this.#ctx ??= this.#resolve!(); }

  /** @internal Point this module object at another thread view (uwsgi.run() in the main thread). */
  rebind(ctx: ThreadContext): void {
    this.#ctx = ctx;
    this.#sharedareas = undefined;
    this.#opt = undefined;
    this.#area0 = undefined;
    this.#queue = undefined;
    this.#caches = undefined;
  }

  /** @internal This thread's cache functions. */
  get caches(): CacheApi { return (this.#caches ??= new CacheApi(this.ctx)); }

  /** uWSGI 2.0's id-first sharedarea functions (`uwsgi.sharedareas.sharedarea_read(id, pos, len)`). */
  get sharedareas(): SharedAreas { return (this.#sharedareas ??= new SharedAreas(this.ctx)); }

  // ---- module globals ------------------------------------------------------------

  /** `SPOOL_OK` (-2): a spooler function's "done" return code. */
  get SPOOL_OK(): number { return SPOOL_OK; }
  /** `SPOOL_RETRY` (-1): run the task again later. */
  get SPOOL_RETRY(): number { return SPOOL_RETRY; }
  /** `SPOOL_IGNORE` (0): leave the task file alone. */
  get SPOOL_IGNORE(): number { return SPOOL_IGNORE; }
  /** Number of workers (`--workers`). */
  get numproc(): number { return this.ctx.shared.config.workers; }
  /** The uwsgi packet buffer size (`--buffer-size`, default 4096). */
  get buffer_size(): number { return this.ctx.shared.config.bufferSize; }
  /** Unix time (s) the engine started. */
  get started_on(): number { return this.ctx.shared.startedOn; }
  /** Every option as given: the last value (string) of each, flags as `true`. */
  get opt(): Record<string, string | true> { return (this.#opt ??= optDict(this.ctx.shared.config)); }
  /** Host name of the machine. */
  get hostname(): string { return this.ctx.shared.hostname; }
  /** Version of the uWSGI API implemented, with this implementation's tag: `2.0.21-uwsgi-wasm`. */
  get version(): string { return VERSION; }
  /** `[2, 0, 21, 0, 'uwsgi-wasm']`: base, major, minor, revision, custom tag. */
  get version_info(): [number, number, number, number, string] { return [...VERSION_INFO]; }
  /** Async cores per worker: always 1 (each worker is one event loop). */
  get cores(): number { return 1; }
  /** uWSGI's `--enable-threads` flag: 0, since a worker runs no extra Python-style threads. */
  get has_threads(): number { return 0; }
  /** Whether this start is a graceful reload of a previous one. */
  get is_a_reload(): boolean { return false; }
  /** The async loop engine's name: null (none). */
  get loop(): null { return null; }
  /** Slots in the queue (`--queue`), or undefined when no queue is configured. */
  get queue_size(): number | undefined {
    const n = this.ctx.shared.config.queue;
    return n > 0 ? n : undefined;
  }
  /**
   * uWSGI's config magic variables (`%h`, `%v`...), keyed by their letter:
   * `%` percent sign, `(` the opening of a `%(name)` reference, `G` group name,
   * `T` start time in µs, `U` user name, `V` version, `[` ANSI escape, `g` gid,
   * `h` host name, `k` CPU count, `t` start time in s, `u` uid, `v` working directory.
   */
  get magic_table(): Record<string, string> { return magicTable(this.ctx); }

  /** Value of option `name` as given (last value), `true` for a flag, undefined if not set. */
  get_option(name: string): string | true | undefined {
    argCount('get_option', arguments.length, 1, 1);
    if (typeof name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `get_option: name must be a string`);
    return this.opt[name];
  }
  /**
   * Set option `name` in this thread's `opt` (uWSGI's runtime option dict). It
   * does not re-lay out the engine: sizes are fixed at start.
   */
  set_option(name: string, value: string | true): void {
    argCount('set_option', arguments.length, 2, 2);
    if (typeof name !== 'string' || name === '') throw new UwsgiError('ERR_ARG_TYPE', `set_option: name must be a non-empty string`);
    if (value !== true && typeof value !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `set_option: value must be a string or true`);
    this.opt[name] = value;
  }

  /** 1..N in a worker, 0 in the master, mules and spoolers. */
  worker_id(): number { return this.ctx.kind === 'worker' ? this.ctx.ident : 0; }
  /** 1..N in a mule, 0 elsewhere. */
  mule_id(): number { return this.ctx.kind === 'mule' ? this.ctx.ident : 0; }
  /** Process id of the master (the process running the engine). */
  masterpid(): number { return this.ctx.shared.masterPid; }
  /** Wall clock in microseconds since the epoch. */
  micros(): number { return Math.floor((performance.timeOrigin + performance.now()) * 1000); }
  /** `[rss, vsz]` of the process, in bytes. */
  mem(): [number, number] {
    const m = runtime().memoryUsage();
    return [m.rss, m.vsz];
  }

  // ---- locks -----------------------------------------------------------------------

  /** @internal Validate a lock number and return it. */
  checkLock(fn: string, num: unknown): number {
    const n = intArg(fn, 'locknum', num);
    const count = this.ctx.x.lock_count();
    if (n < 0 || n >= count) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: invalid lock number ${n} (locks 0..${count - 1} exist)`);
    return n;
  }

  /** @internal */
  lockWithStatus(num: number, timeoutMs: number, fn: string): boolean {
    const n = this.checkLock(fn, num);
    const rc = this.ctx.x.lock_acquire(n, timeoutMs);
    if (rc < 0) throw statusError(rc, `${fn}(${n})`);
    if (rc === CoreStatus.OWNER_DIED) { this.onLockRecovered(n); return true; }
    return false;
  }

  /**
   * Block until user lock `locknum` (default 0) is held by this thread. Not
   * recursive. If its holder died, the lock is taken over and `onLockRecovered` runs.
   */
  lock(locknum: number = 0): void {
    argCount('lock', arguments.length, 0, 1);
    this.lockWithStatus(locknum, -1, 'lock');
  }

  /** Release user lock `locknum`. Releasing a lock nobody holds, or another thread holds, does nothing (as in uWSGI). */
  unlock(locknum: number = 0): void {
    argCount('unlock', arguments.length, 0, 1);
    this.ctx.x.lock_release(this.checkLock('unlock', locknum));
  }

  /** Whether lock `locknum` is held by a running thread (the caller included). */
  is_locked(locknum: number = 0): boolean {
    argCount('is_locked', arguments.length, 0, 1);
    return this.ctx.x.lock_is_locked(this.checkLock('is_locked', locknum)) === 1;
  }

  /** A handle on user lock `num`, with acquire/tryAcquire/release. */
  Lock(num: number = 0): Lock { return new Lock(this, this.checkLock('Lock', num)); }

  // ---- sharedarea (the seed's signatures: area 0) ----------------------------------

  /** Shared area `id` as an object (read/write/read8..64/inc64/rlock/view...). */
  sharedarea(id: number = 0): SharedArea { return this.sharedareas.area(id); }

  #a0(fn: string): SharedArea {
    if (this.#area0) return this.#area0;
    if (this.ctx.x.sa_count() === 0) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no sharedarea configured (use the 'sharedarea' option)`);
    return (this.#area0 = this.sharedareas.area(0));
  }

  /** Read `len` bytes at `pos` of area 0 (`len` omitted or 0: to the end). */
  sharedarea_read(pos: number, len?: number): Uint8Array {
    argCount('sharedarea_read', arguments.length, 1, 2);
    return this.#a0('sharedarea_read').read(pos, len ?? 0);
  }
  /** Write bytes (strings as UTF-8) at `pos` of area 0; returns the number of bytes written. */
  sharedarea_write(pos: number, data: string | Uint8Array): number {
    argCount('sharedarea_write', arguments.length, 2, 2);
    return this.#a0('sharedarea_write').write(pos, data);
  }
  /** Signed byte at `pos` of area 0. */
  sharedarea_readbyte(pos: number): number {
    argCount('sharedarea_readbyte', arguments.length, 1, 1);
    return this.#a0('sharedarea_readbyte').read8(pos);
  }
  /** Write byte `val` (0..255) at `pos` of area 0; returns it. */
  sharedarea_writebyte(pos: number, val: number): number {
    argCount('sharedarea_writebyte', arguments.length, 2, 2);
    this.#a0('sharedarea_writebyte').write8(pos, val);
    return val;
  }
  /** Signed 64-bit little-endian value at `pos` of area 0. */
  sharedarea_readlong(pos: number): bigint {
    argCount('sharedarea_readlong', arguments.length, 1, 1);
    return this.#a0('sharedarea_readlong').read64(pos);
  }
  /** Write a signed 64-bit value at `pos` of area 0; returns it as bigint. */
  sharedarea_writelong(pos: number, val: bigint | number): bigint {
    argCount('sharedarea_writelong', arguments.length, 2, 2);
    const a = this.#a0('sharedarea_writelong');
    a.write64(pos, val);
    return BigInt(val);
  }
  /** Atomically add `delta` (default 1) to the 64-bit value at `pos` of area 0; returns the new value. */
  sharedarea_inclong(pos: number, delta: bigint | number = 1): bigint {
    argCount('sharedarea_inclong', arguments.length, 1, 2);
    return this.#a0('sharedarea_inclong').add64('sharedarea_inclong', pos, delta, 1);
  }

  // ---- queue ---------------------------------------------------------------------

  #q(fn: string): SharedQueue { return (this.#queue ??= queueOf(this.ctx, fn)); }

  /** Append `msg` (string as UTF-8) at the push head, overwriting whatever the slot holds. `true`, or `null` for an empty or oversized message. */
  queue_push(msg: string | Uint8Array): true | null {
    argCount('queue_push', arguments.length, 1, 1);
    return this.#q('queue_push').push(msg);
  }
  /** Take the oldest message (FIFO head); `null` when that slot is empty. */
  queue_pull(): Uint8Array | null {
    argCount('queue_pull', arguments.length, 0, 0);
    return this.#q('queue_pull').pull();
  }
  /** Step the push head back and take that slot's message (LIFO); `null` if it is empty. */
  queue_pop(): Uint8Array | null {
    argCount('queue_pop', arguments.length, 0, 0);
    return this.#q('queue_pop').pop();
  }
  /** Copy of slot `index` (not removed); `null` when empty or outside 0..queue_size-1. */
  queue_get(index: number): Uint8Array | null {
    argCount('queue_get', arguments.length, 1, 1);
    return this.#q('queue_get').get(index);
  }
  /** Write slot `index` directly; `true`, or `null` for a bad index or an empty message. ERR_BOUNDS when it does not fit a slot. */
  queue_set(index: number, msg: string | Uint8Array): true | null {
    argCount('queue_set', arguments.length, 2, 2);
    return this.#q('queue_set').set(index, msg);
  }
  /** The newest message, or (with `n` > 0) the `n` newest slots, newest first, `null` for empty ones. Nothing is removed. */
  queue_last(n: number = 0): Uint8Array | null | Array<Uint8Array | null> {
    argCount('queue_last', arguments.length, 0, 1);
    return this.#q('queue_last').last(n);
  }
  /** The push head: the slot the next push writes. */
  queue_slot(): number {
    argCount('queue_slot', arguments.length, 0, 0);
    return this.#q('queue_slot').slot();
  }
  /** The FIFO head: the slot the next pull reads. */
  queue_pull_slot(): number {
    argCount('queue_pull_slot', arguments.length, 0, 0);
    return this.#q('queue_pull_slot').pullSlot();
  }

  // ---- RPC -----------------------------------------------------------------------

  /**
   * Register `fn` as RPC function `name` (1..255 bytes), callable from every
   * thread; it runs in this thread and receives each argument as a Uint8Array.
   * Only a non-empty Uint8Array it returns (or resolves to) is a result; anything
   * else, or a throw, makes the call return null, as in uWSGI. Registering an
   * existing name takes it over. `argc` is accepted for uWSGI compatibility.
   */
  register_rpc(name: string | Uint8Array, fn: (...args: Uint8Array[]) => unknown, argc?: number): true {
    argCount('register_rpc', arguments.length, 2, 3);
    return registerRpc(this.ctx, name, fn, argc);
  }

  /**
   * Call RPC function `name` with up to 255 arguments (strings as UTF-8). When
   * this thread registered it, the result comes back at once; when another
   * thread did, a promise of it. null for an unknown function.
   */
  call(name: string | Uint8Array, ...args: Array<string | Uint8Array>): RpcResult | Promise<RpcResult> {
    argCount('call', arguments.length, 1, Infinity);
    return callRpc(this.ctx, 'call', name, args);
  }

  /**
   * `call` on `node`: null, undefined or '' is this engine. Remote nodes
   * ('host:port') are not available yet (ERR_UNSUPPORTED).
   */
  rpc(node: string | Uint8Array | null | undefined, name: string | Uint8Array, ...args: Array<string | Uint8Array>): RpcResult | Promise<RpcResult> {
    argCount('rpc', arguments.length, 2, Infinity);
    if (node !== null && node !== undefined) {
      if (typeof node !== 'string' && !(node instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `rpc: node must be a string, Uint8Array or null, got ${typeof node}`);
      if (node.length > 0) throw new UwsgiError('ERR_UNSUPPORTED', 'rpc: remote RPC is not available yet (protocol issue)');
    }
    return callRpc(this.ctx, 'rpc', name, args);
  }

  /** Names of every registered RPC function (all threads), as Uint8Array. */
  rpc_list(): Uint8Array[] {
    argCount('rpc_list', arguments.length, 0, 0);
    return rpcList(this.ctx);
  }

  // ---- mules and farms -------------------------------------------------------------

  /**
   * Send `msg` (string as UTF-8, at most 65536 bytes) to a mule. `target`: omitted
   * or 0, the mailbox every mule reads (the first mule to look takes it); a mule id
   * 1..M, that mule; a farm name, the farm's mailbox (one of its mules takes it).
   * True once queued, false when the mailbox is full (it never waits).
   * ERR_NOT_CONFIGURED without mules, ERR_NOT_FOUND for an unknown mule or farm.
   */
  mule_msg(msg: string | Uint8Array, target?: number | string | Uint8Array): boolean {
    argCount('mule_msg', arguments.length, 1, 2);
    return mulesOf(this.ctx).msg(msg, target);
  }

  /**
   * In a mule: the next message for it (its own mailbox first, then the shared
   * one, then its farms'), without blocking the event loop. With `timeout`
   * (seconds) it resolves with an empty Uint8Array when nothing came, as uWSGI's
   * `b''`. Anywhere else: ERR_UNSUPPORTED.
   */
  mule_get_msg(options?: MuleGetMsgOptions): Promise<Uint8Array> {
    argCount('mule_get_msg', arguments.length, 0, 1);
    return mulesOf(this.ctx).getMsg(options);
  }

  /** Send `msg` to farm `farm`'s mailbox. Always undefined, even for an unknown farm or a full mailbox (as uWSGI). */
  farm_msg(farm: string | Uint8Array, msg: string | Uint8Array): void {
    argCount('farm_msg', arguments.length, 2, 2);
    mulesOf(this.ctx).farmMsg(farm, msg);
  }

  /** In a mule: the next message sent to one of its farms; null at once when it is in no farm. */
  farm_get_msg(): Promise<Uint8Array | null> {
    argCount('farm_get_msg', arguments.length, 0, 0);
    return mulesOf(this.ctx).farmGetMsg();
  }

  /** In a mule: true when it belongs to farm `name` (any farm without a name), else null. Always null outside mules. */
  in_farm(name?: string | Uint8Array): true | null {
    argCount('in_farm', arguments.length, 0, 1);
    return mulesOf(this.ctx).inFarm(name);
  }
  // ---- caches (uWSGI's results: true or null; `cache` names a --cache2, default the first) ----

  /** The value of `key`, or null (missing, unknown cache, bad key). */
  cache_get(key: Bytes, cache?: string): Uint8Array | null { argCount('cache_get', arguments.length, 1, 2); return this.caches.get('cache_get', key, cache); }
  /** Copy the value into `buf` (as much as fits) without allocating: its full length, or -1 when missing. */
  cache_get_into(key: Bytes, buf: Uint8Array, cache?: string): number { argCount('cache_get_into', arguments.length, 2, 3); return this.caches.getInto('cache_get_into', key, buf, cache); }
  /** true when the key exists (an expired item exists until swept, as in uWSGI), else null. */
  cache_exists(key: Bytes, cache?: string): true | null { argCount('cache_exists', arguments.length, 1, 2); return this.caches.exists('cache_exists', key, cache) || null; }
  /** Store a new key; a live key is NOT overwritten (null). `expires` in seconds, 0 = never. */
  cache_set(key: Bytes, value: Bytes, expires: number = 0, cache?: string): true | null { argCount('cache_set', arguments.length, 2, 4); return this.caches.store('cache_set', key, value, expires, cache, false) || null; }
  /** Store or overwrite; the expiry is replaced (0 = never). */
  cache_update(key: Bytes, value: Bytes, expires: number = 0, cache?: string): true | null { argCount('cache_update', arguments.length, 2, 4); return this.caches.store('cache_update', key, value, expires, cache, true) || null; }
  /** true when deleted, null when missing. */
  cache_del(key: Bytes, cache?: string): true | null { argCount('cache_del', arguments.length, 1, 2); return this.caches.del('cache_del', key, cache) || null; }
  /** Delete every item; null for an unknown cache. */
  cache_clear(cache?: string): true | null { argCount('cache_clear', arguments.length, 0, 1); return this.caches.clear('cache_clear', cache) || null; }
  /** Every key, in hash-bucket order. An unknown cache throws ERR_NOT_FOUND ("no local uWSGI cache available"). */
  cache_keys(cache?: string): Uint8Array[] { argCount('cache_keys', arguments.length, 0, 1); return this.caches.keys('cache_keys', cache); }
  /** The value as a signed 64-bit little-endian integer; 0n when missing or not exactly 8 bytes. */
  cache_num(key: Bytes, cache?: string): bigint { argCount('cache_num', arguments.length, 1, 2); return this.caches.num('cache_num', key, cache); }
  /** Add `delta` (default 1) to the int64 counter (a missing key starts at math_initial, default 0). */
  cache_inc(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_inc', arguments.length, 1, 4); return this.caches.math('cache_inc', key, delta, expires, cache) || null; }
  /** Subtract `delta` (default 1). */
  cache_dec(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_dec', arguments.length, 1, 4); return this.caches.math('cache_dec', key, delta, expires, cache) || null; }
  /** Multiply by `factor` (default 2). */
  cache_mul(key: Bytes, factor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_mul', arguments.length, 1, 4); return this.caches.math('cache_mul', key, factor, expires, cache) || null; }
  /** Divide by `divisor` (default 2), truncating; division by zero stores 0, as in uWSGI. */
  cache_div(key: Bytes, divisor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_div', arguments.length, 1, 4); return this.caches.math('cache_div', key, divisor, expires, cache) || null; }
  /** Cache `name` (default: the default cache) as an object with get/set/add/has/delete/getString. */
  cache(name?: string): Cache { return new Cache(this.caches, name); }

  // ---- SNMP user slots (ts/snmp.ts): OIDs 1.3.6.1.4.1.35156.17.2.1 to .2.100 ----------------

  /** The SNMP slots as an object: `get(n)` reads a slot as the agent serves it, `community()` the community. */
  get snmp(): SnmpSlots { return snmpOf(this.ctx); }
  /** Set the community the master's SNMP agent answers (at most 72 bytes; '' answers nobody). Returns true. */
  snmp_set_community(community: string | Uint8Array): true { argCount('snmp_set_community', arguments.length, 1, 1); return this.snmp.setCommunity('snmp_set_community', community); }
  /** Set slot `oidnum` (1..100) to Counter32 `value` (0..2^32-1). Returns true. */
  snmp_set_counter32(oidnum: number, value: number | bigint): true { argCount('snmp_set_counter32', arguments.length, 2, 2); return this.snmp.apply('snmp_set_counter32', 'set', 'counter32', oidnum, value); }
  /** Set slot `oidnum` (1..100) to Counter64 `value` (0..2^64-1; a bigint above 2^53). Returns true. */
  snmp_set_counter64(oidnum: number, value: number | bigint): true { argCount('snmp_set_counter64', arguments.length, 2, 2); return this.snmp.apply('snmp_set_counter64', 'set', 'counter64', oidnum, value); }
  /** Set slot `oidnum` (1..100) to Gauge32 `value` (0..2^32-1). Returns true. */
  snmp_set_gauge(oidnum: number, value: number | bigint): true { argCount('snmp_set_gauge', arguments.length, 2, 2); return this.snmp.apply('snmp_set_gauge', 'set', 'gauge32', oidnum, value); }
  /** Add `amount` (default 1) to slot `oidnum` as a Counter32, wrapping modulo 2^32. Returns true. */
  snmp_incr_counter32(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_counter32', arguments.length, 1, 2); return this.snmp.apply('snmp_incr_counter32', 'incr', 'counter32', oidnum, amount); }
  /** Add `amount` (default 1) to slot `oidnum` as a Counter64, wrapping modulo 2^64. Returns true. */
  snmp_incr_counter64(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_counter64', arguments.length, 1, 2); return this.snmp.apply('snmp_incr_counter64', 'incr', 'counter64', oidnum, amount); }
  /** Add `amount` (default 1) to slot `oidnum` as a Gauge32; past 2^32-1 is ERR_VALUE_RANGE. Returns true. */
  snmp_incr_gauge(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_gauge', arguments.length, 1, 2); return this.snmp.apply('snmp_incr_gauge', 'incr', 'gauge32', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Counter32; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_counter32(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_counter32', arguments.length, 1, 2); return this.snmp.apply('snmp_decr_counter32', 'decr', 'counter32', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Counter64; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_counter64(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_counter64', arguments.length, 1, 2); return this.snmp.apply('snmp_decr_counter64', 'decr', 'counter64', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Gauge32; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_gauge(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_gauge', arguments.length, 1, 2); return this.snmp.apply('snmp_decr_gauge', 'decr', 'gauge32', oidnum, amount); }
}

function magicTable(ctx: ThreadContext): Record<string, string> {
  const s = ctx.shared;
  const env = (typeof process !== 'undefined' ? process.env : {}) as Record<string, string | undefined>;
  const ids = typeof process !== 'undefined' && typeof process.getuid === 'function' ? [process.getuid(), process.getgid?.() ?? 0] : [0, 0];
  const cpus = typeof navigator !== 'undefined' ? (navigator as { hardwareConcurrency?: number }).hardwareConcurrency ?? 1 : 1;
  return {
    '%': '%',
    '(': '%(',
    G: env.GROUP ?? String(ids[1]),
    T: String(s.startedOn * 1_000_000),
    U: env.USER ?? env.LOGNAME ?? String(ids[0]),
    V: VERSION,
    '[': '\x1b',
    g: String(ids[1]),
    h: s.hostname,
    k: String(cpus),
    t: String(s.startedOn),
    u: String(ids[0]),
    v: s.cwd,
  };
}
