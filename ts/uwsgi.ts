/**
 * The `uwsgi` module object: the functions and globals of uWSGI's Python
 * module, for the calling thread. Names follow the seed reference.
 * @module
 */
import { UwsgiError, argCount, intArg, statusError, CoreStatus, typeName } from './kernel/errors.ts';
import type { ThreadContext } from './kernel/context.ts';
import { optDict } from './kernel/options.ts';
import { SharedArea, SharedAreas } from './sharedarea/sharedarea.ts';
import { SharedQueue, queueOf } from './queue/queue.ts';
import { type RpcResult, callRpc, registerRpc, rpcList } from './rpc/rpc.ts';
import { type MuleGetMsgOptions, mulesOf } from './mules/mules.ts';
import { type Bytes, Cache, CacheApi } from './cache/cache.ts';
import { runtime } from './platform/index.ts';
import { type SignalHandler, signalNumber, signalsOf } from './signals/signals.ts';
import { addCron, addFileMonitor, addProbe, addRbTimer, addTimer } from './signals/timers.ts';
import { type CacheResult, RemoteCacheClient, isRemoteCache, remoteUnsupported } from './client/client.ts';
import { ClientApi, type MultiMessageNode } from './client/connections.ts';
import { DEFAULT_SOCKET_TIMEOUT } from './client/connection.ts';
import { SPOOL_IGNORE, SPOOL_OK, SPOOL_RETRY, type SpoolOptions, type SpoolTask, type SpoolerFunction, setSpoolerFunction, spoolerFunctionOf, spoolerOf } from './spooler/spooler.ts';
import { type SnmpSlots, snmpOf } from './observability/snmp.ts';
import { VERSION, VERSION_INFO } from './kernel/version.ts';
import { type RequestInfo, type RequestResult, type RequestScope, type WorkerInfo, asyncSleep, processOf, waitFd, yieldToLoop } from './process/process.ts';
import { disconnectCurrent, sendfileResponse } from './server/server.ts';
import { listenQueueOf, mountsOf } from './server/serve.ts';
import { parsefile } from './protocol/codec.ts';

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


/** The uwsgi module API for one thread of one engine. */
export class Uwsgi {
  #ctx?: ThreadContext;
  readonly #resolve?: () => ThreadContext;
  #sharedareas?: SharedAreas;
  #opt?: Record<string, string | true>;
  #area0?: SharedArea;
  #queue?: SharedQueue;
  #caches?: CacheApi;
  #remoteCaches?: RemoteCacheClient;
  #client?: ClientApi;
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
    this.#remoteCaches = undefined;
    this.#client?.closeAll();
    this.#client = undefined;
  }

  /** @internal This thread's cache functions. */
  get caches(): CacheApi { return (this.#caches ??= new CacheApi(this.ctx)); }

  /**
   * This thread's network client: `client.signal(num, 'host:port')` (a remote
   * signal, modifier 110) and `client.spool(fn, 'host:port', job)` (a remote spool
   * request, modifier 17), plus what `connect`, `send_message`, remote `rpc`... use.
   */
  get client(): ClientApi { return (this.#client ??= new ClientApi(() => this.#clientEnv())); }
  /** @internal The remote forms of the cache functions. */
  get remoteCaches(): RemoteCacheClient { return (this.#remoteCaches ??= new RemoteCacheClient(() => this.#clientEnv())); }

  /** `socket-timeout` (seconds, default 4) as the client's per-operation timeout; read at each call, so set_option applies. */
  #clientEnv(): { timeoutMs: number } {
    const v = this.opt['socket-timeout'];
    if (v === undefined) return { timeoutMs: DEFAULT_SOCKET_TIMEOUT * 1000 };
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= 1)) throw new UwsgiError('ERR_OPTION', `socket-timeout must be a whole number of seconds >= 1, got '${String(v)}'`);
    return { timeoutMs: n * 1000 };
  }

  /** uWSGI 2.0's id-first sharedarea functions (`uwsgi.sharedareas.sharedarea_read(id, pos, len)`). */
  get sharedareas(): SharedAreas { return (this.#sharedareas ??= new SharedAreas(this.ctx)); }

  // ---- module globals ------------------------------------------------------------

  /** `SPOOL_OK` (-2): a spooler function's "done" return code. */
  get SPOOL_OK(): number { return SPOOL_OK; }
  /** `SPOOL_RETRY` (-1): run the task again later. */
  get SPOOL_RETRY(): number { return SPOOL_RETRY; }
  /** `SPOOL_IGNORE` (0): not this function's task; the file is kept. */
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
  /** Whether this thread was started by a graceful `reload()`. */
  get is_a_reload(): boolean { return processOf(this.ctx).isAReload; }
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
   * `call` on `node`: null, undefined or '' is this engine (the result at once
   * or a promise, as `call`). A remote node (`'host:port'`, a unix socket path)
   * gives a promise of the result (uWSGI's RPC packet, modifier 173): null when
   * the node has no such function or it returned nothing; ERR_CONNECT,
   * ERR_TIMEOUT, ERR_CLOSED or ERR_BAD_REPLY when the exchange fails.
   */
  rpc(node: string | Uint8Array | null | undefined, name: string | Uint8Array, ...args: Array<string | Uint8Array>): RpcResult | Promise<RpcResult> {
    argCount('rpc', arguments.length, 2, Infinity);
    if (node !== null && node !== undefined) {
      if (typeof node !== 'string' && !(node instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `rpc: node must be a string, Uint8Array or null, got ${typeof node}`);
      if (node.length > 0) return this.client.rpc(node, name, args);
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
  // ---- signals, timers, cron, file monitors (ts/signals.ts, ts/timers.ts) ---------------

  /**
   * Run `handler(signum)` in this thread when signal `signum` (0..255) is
   * raised. `who` says who receives it: `''`/`worker`/`worker0` the first
   * available worker, `workers` every worker, `workerN` worker N,
   * `active-workers` every running worker, `mule`/`mule0` the first available
   * mule, `mules` every mule, `muleN` mule N, `farm_NAME` (or `farmN`) one mule
   * of that farm, `spooler` the spooler. A worker may register again (its
   * handler is replaced); the master may not (ERR_EXISTS, as uWSGI). Unknown
   * targets, and ids the configuration does not have, are ERR_NOT_FOUND;
   * `cluster` and `subscribed` are ERR_UNSUPPORTED.
   */
  register_signal(signum: number, who: string, handler: SignalHandler): void {
    argCount('register_signal', arguments.length, 3, 3);
    signalsOf(this.ctx).register(signalNumber('register_signal', signum), who, handler);
  }

  /**
   * Raise signal `signum`: it is routed by the target it was registered with
   * (an unregistered signal goes to a worker, which logs it, as uWSGI). It
   * never waits; handlers run later in their threads. With `remote`
   * ('host:port' or a unix socket path) the signal is sent to that node (a
   * modifier-110 packet) and the promise resolves once the node accepted it;
   * ERR_REJECTED when it refused, ERR_CONNECT/ERR_TIMEOUT/ERR_CLOSED on failure.
   */
  signal(signum: number, remote?: string): void | Promise<void> {
    argCount('signal', arguments.length, 1, 2);
    const num = signalNumber('signal', signum);
    if (remote !== undefined && remote !== null) {
      if (typeof remote !== 'string' && !((remote as unknown) instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `signal: remote must be a 'host:port' string, got ${typeof remote}`);
      if (remote.length > 0) return this.client.signal(num, remote);
    }
    signalsOf(this.ctx).raise(num);
  }

  /** true when this thread can run a handler for `signum` (its own, or its master view's), else null (never false, as uWSGI). */
  signal_registered(signum: number): true | null {
    argCount('signal_registered', arguments.length, 1, 1);
    return signalsOf(this.ctx).registered(signalNumber('signal_registered', signum));
  }

  /**
   * Resolves with an empty Uint8Array (uWSGI's `b''`) once this thread has
   * received a signal and run its handler (if it has one); with `signum`, once
   * that signal came (others are still handled). The event loop stays free.
   */
  signal_wait(signum?: number): Promise<Uint8Array> {
    argCount('signal_wait', arguments.length, 0, 1);
    return signalsOf(this.ctx).wait(signum === undefined ? undefined : signalNumber('signal_wait', signum));
  }

  /** The signal the last `signal_wait` of this thread got: -1 while one waits, 0 before any. */
  signal_received(): number {
    argCount('signal_received', arguments.length, 0, 0);
    return signalsOf(this.ctx).received;
  }

  /** Where this thread reports signals it has no handler for and handlers that throw (default: stderr). */
  get onSignalLog(): (line: string) => void { return signalsOf(this.ctx).log; }
  set onSignalLog(fn: (line: string) => void) {
    if (typeof fn !== 'function') throw new UwsgiError('ERR_ARG_TYPE', 'onSignalLog must be a function');
    signalsOf(this.ctx).log = fn;
  }

  /** Raise `signum` every `seconds` (fractions allowed, at least 1 ms), forever; the master fires it. At most 64. */
  add_timer(signum: number, seconds: number): void {
    argCount('add_timer', arguments.length, 2, 2);
    addTimer(this.ctx, signum, seconds);
  }

  /** Raise `signum` every `seconds`, `iterations` times (0, the default: forever). At most 64. */
  add_rb_timer(signum: number, seconds: number, iterations: number = 0): void {
    argCount('add_rb_timer', arguments.length, 2, 3);
    addRbTimer(this.ctx, signum, seconds, iterations);
  }

  /**
   * Raise `signum` at matching local times, checked by the master as uWSGI
   * does: at most once a minute. Each field is a value, -1 (any) or -N (every
   * N: `hour = -2` is every even hour). `day` and `weekday` (0 = Sunday, 7 also
   * Sunday) are ORed when both are set. Returns true. At most 64 entries.
   */
  add_cron(signum: number, minute: number, hour: number, day: number, month: number, weekday: number): true {
    argCount('add_cron', arguments.length, 6, 6);
    return addCron(this.ctx, signum, [minute, hour, day, month, weekday]);
  }

  /** Raise `signum` whenever the file or directory at `path` changes (it must exist; at most 254 bytes). At most 64. */
  add_file_monitor(signum: number, path: string): void {
    argCount('add_file_monitor', arguments.length, 2, 2);
    addFileMonitor(this.ctx, signum, path);
  }

  /** Removed in uWSGI 2.0: always ERR_UNSUPPORTED. */
  add_probe(..._args: unknown[]): never { return addProbe(); }

  // ---- caches (uWSGI's results: true or null; `cache` names a --cache2, default the first) ----

  /**
   * The value of `key`, or null (missing, unknown cache, bad key). A remote
   * cache (`'name@host:port'`, `'@host:port'` for the server's default cache,
   * `'name@/path.sock'`) gives a promise of it (uWSGI's cache protocol, 111/17).
   */
  cache_get<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, Uint8Array | null> {
    argCount('cache_get', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? this.remoteCaches.get('cache_get', key, cache) : this.caches.get('cache_get', key, cache)) as CacheResult<C, Uint8Array | null>;
  }
  /** Copy the value into `buf` (as much as fits) without allocating: its full length, or -1 when missing. A remote cache gives a promise. */
  cache_get_into<C extends string | undefined = undefined>(key: Bytes, buf: Uint8Array, cache?: C): CacheResult<C, number> {
    argCount('cache_get_into', arguments.length, 2, 3);
    if (!isRemoteCache(cache)) return this.caches.getInto('cache_get_into', key, buf, cache) as CacheResult<C, number>;
    if (!(buf instanceof Uint8Array)) return Promise.reject(new UwsgiError('ERR_ARG_TYPE', `cache_get_into: buf must be a Uint8Array`)) as CacheResult<C, number>;
    return this.remoteCaches.get('cache_get_into', key, cache).then((v) => {
      if (!v) return -1;
      buf.set(v.length > buf.length ? v.subarray(0, buf.length) : v);
      return v.length;
    }) as CacheResult<C, number>;
  }
  /** true when the key exists (an expired item exists until swept, as in uWSGI), else null. A remote cache gives a promise. */
  cache_exists<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, true | null> {
    argCount('cache_exists', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? this.remoteCaches.exists('cache_exists', key, cache) : this.caches.exists('cache_exists', key, cache) || null) as CacheResult<C, true | null>;
  }
  /** Store a new key; a live key is NOT overwritten (null). `expires` in seconds, 0 = never. A remote cache gives a promise. */
  cache_set<C extends string | undefined = undefined>(key: Bytes, value: Bytes, expires: number = 0, cache?: C): CacheResult<C, true | null> {
    argCount('cache_set', arguments.length, 2, 4);
    return (isRemoteCache(cache) ? this.remoteCaches.store('cache_set', key, value, expires, cache, false) : this.caches.store('cache_set', key, value, expires, cache, false) || null) as CacheResult<C, true | null>;
  }
  /** Store or overwrite; the expiry is replaced (0 = never). A remote cache gives a promise. */
  cache_update<C extends string | undefined = undefined>(key: Bytes, value: Bytes, expires: number = 0, cache?: C): CacheResult<C, true | null> {
    argCount('cache_update', arguments.length, 2, 4);
    return (isRemoteCache(cache) ? this.remoteCaches.store('cache_update', key, value, expires, cache, true) : this.caches.store('cache_update', key, value, expires, cache, true) || null) as CacheResult<C, true | null>;
  }
  /** true when deleted, null when missing. A remote cache gives a promise. */
  cache_del<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, true | null> {
    argCount('cache_del', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? this.remoteCaches.del('cache_del', key, cache) : this.caches.del('cache_del', key, cache) || null) as CacheResult<C, true | null>;
  }
  /** Delete every item; null for an unknown cache. A remote cache gives a promise. */
  cache_clear<C extends string | undefined = undefined>(cache?: C): CacheResult<C, true | null> {
    argCount('cache_clear', arguments.length, 0, 1);
    return (isRemoteCache(cache) ? this.remoteCaches.clear('cache_clear', cache) : this.caches.clear('cache_clear', cache) || null) as CacheResult<C, true | null>;
  }
  /** Every key, in hash-bucket order. An unknown cache throws ERR_NOT_FOUND ("no local uWSGI cache available"); a remote one ERR_UNSUPPORTED (the protocol cannot list keys). */
  cache_keys(cache?: string): Uint8Array[] {
    argCount('cache_keys', arguments.length, 0, 1);
    if (isRemoteCache(cache)) throw remoteUnsupported('cache_keys', cache, 'uWSGI\'s cache protocol has no command to list keys');
    return this.caches.keys('cache_keys', cache);
  }
  /** The value as a signed 64-bit little-endian integer; 0n when missing or not exactly 8 bytes. A remote cache gives a promise. */
  cache_num<C extends string | undefined = undefined>(key: Bytes, cache?: C): CacheResult<C, bigint> {
    argCount('cache_num', arguments.length, 1, 2);
    return (isRemoteCache(cache) ? this.remoteCaches.num('cache_num', key, cache) : this.caches.num('cache_num', key, cache)) as CacheResult<C, bigint>;
  }
  /** Add `delta` (default 1) to the int64 counter (a missing key starts at math_initial, default 0). Local caches only (see {@link Uwsgi.cache_mul}). */
  cache_inc(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_inc', arguments.length, 1, 4); noRemoteMath('cache_inc', cache); return this.caches.math('cache_inc', key, delta, expires, cache) || null; }
  /** Subtract `delta` (default 1). Local caches only. */
  cache_dec(key: Bytes, delta: number | bigint = 1, expires: number = 0, cache?: string): true | null { argCount('cache_dec', arguments.length, 1, 4); noRemoteMath('cache_dec', cache); return this.caches.math('cache_dec', key, delta, expires, cache) || null; }
  /**
   * Multiply by `factor` (default 2). Local caches only: uWSGI's cache protocol
   * has no arithmetic, and uWSGI 2.0.21 sends a remote cache_inc/dec/mul/div as
   * an `update` storing the delta itself, which silently replaces the counter;
   * here a remote cache is ERR_UNSUPPORTED.
   */
  cache_mul(key: Bytes, factor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_mul', arguments.length, 1, 4); noRemoteMath('cache_mul', cache); return this.caches.math('cache_mul', key, factor, expires, cache) || null; }
  /** Divide by `divisor` (default 2), truncating; division by zero stores 0, as in uWSGI. Local caches only. */
  cache_div(key: Bytes, divisor: number | bigint = 2, expires: number = 0, cache?: string): true | null { argCount('cache_div', arguments.length, 1, 4); noRemoteMath('cache_div', cache); return this.caches.math('cache_div', key, divisor, expires, cache) || null; }
  /** Cache `name` (default: the default cache) as an object with get/set/add/has/delete/getString. */
  cache(name?: string): Cache { return new Cache(this.caches, name); }

  // ---- process control, request accounting (ts/process.ts) ---------------------------

  /**
   * A request starts: listeners and user servers call this (or `accounted`)
   * around each request. `info.cl` is its CONTENT_LENGTH (`cl()`). Returns the
   * request's scope; end it with `scope.end({ tx })` or `request_end({ tx })`.
   */
  request_begin(info?: RequestInfo): RequestScope { argCount('request_begin', arguments.length, 0, 1); return processOf(this.ctx).begin(info); }
  /**
   * The current request ends (the async context's, else the newest begun):
   * `tx` bytes sent, `exception` when it failed. Updates requests,
   * delta_requests, tx, avg_rt, running_time and exceptions.
   */
  request_end(result?: RequestResult): void { argCount('request_end', arguments.length, 0, 1); processOf(this.ctx).end(result); }
  /**
   * Run `fn` as one accounted request: `request_begin`, then `fn(scope)` in its
   * own async context (so overlapping requests keep their own logvars, cl and
   * request_id), then `request_end` (an exception is counted and rethrown).
   * Count bytes sent with `scope.sent(n)`.
   */
  accounted<T>(fn: (scope: RequestScope) => T | Promise<T>, info?: RequestInfo): Promise<T> { argCount('accounted', arguments.length, 1, 2); return processOf(this.ctx).accounted(fn, info); }
  /** Requests completed by every worker so far. */
  total_requests(): number { argCount('total_requests', arguments.length, 0, 0); return processOf(this.ctx).totalRequests(); }
  /** Id of the current request: how many requests this worker began before it (outside a request: the next one's). */
  request_id(): number { argCount('request_id', arguments.length, 0, 0); return processOf(this.ctx).requestId(); }
  /** One entry per worker, with uWSGI's keys and types (status and byte strings as Uint8Array). */
  workers(): WorkerInfo[] { argCount('workers', arguments.length, 0, 0); return processOf(this.ctx).workers(); }
  /** Ask the master for a graceful reload (new workers up before the old ones leave): true, or null without a master. */
  reload(): true | null { argCount('reload', arguments.length, 0, 0); return processOf(this.ctx).control('reload') ? true : null; }
  /** Ask the master to stop every thread: true, or null without a master. */
  stop(): true | null { argCount('stop', arguments.length, 0, 0); return processOf(this.ctx).control('stop') ? true : null; }
  /** true once the master has every worker up (always true without a master), else null. */
  ready(): true | null { argCount('ready', arguments.length, 0, 0); return processOf(this.ctx).ready() ? true : null; }
  /** Set this worker's accepting flag (stats only; default 1). */
  accepting(flag: boolean | number = 1): void { argCount('accepting', arguments.length, 0, 1); processOf(this.ctx).accepting(flag); }
  /**
   * The master terminates this worker (or mule, spooler) if it still runs in
   * `seconds` (0 clears); a worker's is cleared when its request ends. Without a
   * master it logs a line and does nothing, as uWSGI.
   */
  set_user_harakiri(seconds: number): void { argCount('set_user_harakiri', arguments.length, 1, 1); processOf(this.ctx).setUserHarakiri(seconds, (l) => this.log(l)); }
  /** true in a spooler thread, null elsewhere. */
  i_am_the_spooler(): true | null { argCount('i_am_the_spooler', arguments.length, 0, 0); return this.ctx.kind === 'spooler' ? true : null; }

  // ---- logging (ts/process.ts) ----------------------------------------------------------

  /** Write a line to the log (the `--logto` file, else stderr). Returns true. */
  log(message: string | Uint8Array): true {
    argCount('log', arguments.length, 1, 1);
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `log: message must be a string or Uint8Array, got ${typeof message}`);
    processOf(this.ctx).log(typeof message === 'string' ? message : new TextDecoder().decode(message));
    return true;
  }
  /** Mark the current request to be logged even when logging rules would skip it (no-op outside a request). */
  log_this_request(): void { argCount('log_this_request', arguments.length, 0, 0); processOf(this.ctx).logThisRequest(); }
  /** Set a log variable of the current request (outside a request: of this thread). */
  set_logvar(key: string | Uint8Array, value: string | Uint8Array): void { argCount('set_logvar', arguments.length, 2, 2); processOf(this.ctx).setLogvar(key, value); }
  /** A log variable of the current request (outside a request: of this thread), or null. */
  get_logvar(key: string | Uint8Array): Uint8Array | null { argCount('get_logvar', arguments.length, 1, 1); return processOf(this.ctx).getLogvar(key); }
  /** Bytes written to the `--logto` file so far (0 when logging to stderr). */
  logsize(): number { argCount('logsize', arguments.length, 0, 0); return processOf(this.ctx).logsize(); }
  /** Set the instance's warning message (at most 128 bytes), shown by the stats server. Returns true. */
  set_warning_message(message: string | Uint8Array): true { argCount('set_warning_message', arguments.length, 1, 1); processOf(this.ctx).setWarning(message); return true; }
  /** Name this thread (the process title when called on the main thread, where the runtime allows it). */
  setprocname(name: string): void { argCount('setprocname', arguments.length, 1, 1); processOf(this.ctx).setProcname(name); }
  /** true when requests with this modifier1 have a handler here (0: the app, 173: RPC), else null. */
  has_hook(modifier1: number): true | null { argCount('has_hook', arguments.length, 1, 1); return processOf(this.ctx).hasHook(modifier1); }
  /** CONTENT_LENGTH of the current request (0 outside a request). */
  cl(): number { argCount('cl', arguments.length, 0, 0); return processOf(this.ctx).cl(); }
  /**
   * uWSGI's hint that an async core is about to block. Each worker is its own
   * thread with its own event loop, so blocking holds up only that worker: a no-op.
   */
  sorry_i_need_to_block(): void { argCount('sorry_i_need_to_block', arguments.length, 0, 0); }

  // ---- async helpers (ts/process.ts) --------------------------------------------------

  /** Resolve after `seconds` without blocking the event loop. */
  async_sleep(seconds: number): Promise<void> { argCount('async_sleep', arguments.length, 1, 1); return asyncSleep(seconds); }
  /** Yield to the event loop; resolves with true. */
  suspend(): Promise<true> { argCount('suspend', arguments.length, 0, 0); return yieldToLoop(); }
  /** Same as `suspend()` (uWSGI's green-thread name for it). */
  green_schedule(): Promise<true> { argCount('green_schedule', arguments.length, 0, 0); return yieldToLoop(); }
  /** Resolve true once `stream` (a socket or pipe) has data or ended, false after `timeout` seconds. Raw fds: ERR_UNSUPPORTED. */
  wait_fd_read(stream: unknown, timeout?: number): Promise<boolean> { argCount('wait_fd_read', arguments.length, 1, 2); return waitFd('wait_fd_read', stream, 'read', timeout); }
  /** Resolve true once `stream` accepts writes (no pending drain), false after `timeout` seconds. Raw fds: ERR_UNSUPPORTED. */
  wait_fd_write(stream: unknown, timeout?: number): Promise<boolean> { argCount('wait_fd_write', arguments.length, 1, 2); return waitFd('wait_fd_write', stream, 'write', timeout); }
  // ---- network client: connections and messages (ids are this thread's, not OS descriptors) ----

  /** Connect to `address` (`host:port`, a unix path, `@abstract`); resolves with a connection id. `timeout` in seconds (default: socket-timeout). */
  connect(address: string, timeout?: number): Promise<number> { argCount('connect', arguments.length, 1, 2); return this.client.connect(address, timeout); }
  /** Start connecting and return the connection id at once; `is_connected` tells when it is up, and a failure surfaces on the next use. */
  async_connect(address: string): number { argCount('async_connect', arguments.length, 1, 1); return this.client.asyncConnect(address); }
  /** Whether connection `fd` is established and has not failed. */
  is_connected(fd: number): boolean { argCount('is_connected', arguments.length, 1, 1); return this.client.isConnected(fd); }
  /** Close connection `fd` (an unknown id is ignored). */
  close(fd: number): void { argCount('close', arguments.length, 1, 1); this.client.close(fd); }
  /** Send bytes (strings as UTF-8) on connection `fd`; resolves true once handed to the system. */
  send(fd: number, data: Bytes): Promise<true> { argCount('send', arguments.length, 2, 2); return this.client.send(fd, data); }
  /** Up to `max_size` bytes (default and at most 4096) from connection `fd`, waiting for at least one; null at end of stream. */
  recv(fd: number, max_size?: number): Promise<Uint8Array | null> { argCount('recv', arguments.length, 1, 2); return this.client.recv(fd, max_size); }
  /** Exactly `size` bytes from connection `fd`; null when the stream ends before the first; ERR_CLOSED when it ends part-way. `timeout` in seconds (-1: none; default socket-timeout). */
  recv_block(fd: number, size: number, timeout?: number): Promise<Uint8Array | null> { argCount('recv_block', arguments.length, 2, 3); return this.client.recvBlock(fd, size, timeout); }
  /** The next frame on connection `fd`: the bytes between a `prefix` byte (default 0x00) and a `suffix` byte (default 0xff); null at end of stream. */
  recv_frame(fd: number, prefix?: string | number, suffix?: string | number): Promise<Uint8Array | null> { argCount('recv_frame', arguments.length, 1, 3); return this.client.recvFrame(fd, prefix, suffix); }
  /**
   * Send a uwsgi packet (`modifier1`, `modifier2`, `message`: bytes, or an
   * object sent as vars), then `body` if given, to `destination` (an address,
   * or a connection id that stays open), and resolve with the reply: its body,
   * or a whole raw-HTTP reply (one starting with `H`); empty when the peer
   * closed without answering.
   */
  send_message(destination: string | number, modifier1: number, modifier2: number, message: Bytes | Record<string, Bytes>, timeout?: number, body?: Bytes): Promise<Uint8Array> {
    argCount('send_message', arguments.length, 4, 6);
    return this.client.sendMessage(destination, modifier1, modifier2, message, timeout, body);
  }
  /** `send_message` to every `[host, port, message]` node at once; the replies in order (the first failure rejects). */
  send_multi_message(nodes: readonly MultiMessageNode[], modifier1: number, modifier2: number, timeout?: number): Promise<Uint8Array[]> {
    argCount('send_multi_message', arguments.length, 3, 4);
    return this.client.sendMultiMessage(nodes, modifier1, modifier2, timeout);
  }
  /**
   * Forward the request being served with one of uWSGI's routing actions; only
   * the `uwsgi` router: `return uwsgi.route('uwsgi', '127.0.0.1:3032,0,0', request)`
   * sends the request's vars and body to that node and resolves with its answer
   * as a Response.
   */
  route(router: string, args: string, request?: Request): Promise<Response> {
    argCount('route', arguments.length, 2, 3);
    return this.client.route(router, args, request);
  }
  /**
   * uWSGI's descriptor of the request's connection. Not available: a request's
   * socket belongs to the listener here (handlers read the `Request` and return
   * a `Response`, the server streams both), so writing to it behind the
   * server's back would corrupt the reply. Always ERR_UNSUPPORTED; connection
   * ids for `send`/`recv` come from `connect`/`async_connect`.
   */
  connection_fd(): never {
    throw new UwsgiError('ERR_UNSUPPORTED', 'connection_fd: the request\'s connection belongs to the listener (read the Request, return a Response); connection ids for send/recv come from connect/async_connect');
  }
  /** Send a uwsgi packet on connection `fd` without waiting for a reply. */
  async_send_message(fd: number, modifier1: number, modifier2: number, message: Bytes | Record<string, Bytes>): Promise<void> {
    argCount('async_send_message', arguments.length, 4, 4);
    return this.client.asyncSendMessage(fd, modifier1, modifier2, message);
  }

  // ---- listeners and requests (ts/server.ts, ts/serve.ts) ----------------------------
  /** Connections waiting in listener `id`'s accept queue (TCP on Linux; 0 for unix sockets). */
  listen_queue(id: number = 0): number { argCount('listen_queue', arguments.length, 0, 1); return listenQueueOf(this, intArg('listen_queue', 'id', id)); }
  /** Close the connection of the request being served (the handler goes on); false outside a request. */
  disconnect(): boolean { argCount('disconnect', arguments.length, 0, 0); return disconnectCurrent(); }
  /**
   * A `Response` whose body is the file (a path or an open descriptor), with its
   * Content-Length: `return uwsgi.sendfile('big.bin')` from a handler. `chunk`
   * (read size, default 64 KiB), `pos` (start offset) and `filesize` (bytes to send) as in uWSGI.
   */
  sendfile(file: string | number, chunk?: number, pos?: number, filesize?: number): Promise<Response> {
    argCount('sendfile', arguments.length, 1, 4);
    return sendfileResponse(file, chunk, pos, filesize);
  }
  /**
   * Read a file holding one uwsgi packet (a spool file, a saved request) and
   * return its vars (keys as text, values as bytes); null when the file cannot
   * be read or is not a request/spool packet. Malformed content: ERR_PROTOCOL.
   */
  parsefile(path: string): Record<string, Uint8Array> | null { argCount('parsefile', arguments.length, 1, 1); return parsefile(path); }
  /**
   * The bytes of a file, as uWSGI's `extract(name)` (which reads through its
   * `uwsgi_open_and_read`): a path, or `file://path`; null when the file does
   * not exist. uWSGI's other schemes read from its binary image or run things
   * (`sym://`, `data://`, `section://`, `http://`, `exec://`, `fd://`...):
   * there is no binary image here and fetching or running is not this
   * function's job, so they are ERR_UNSUPPORTED naming the scheme.
   */
  extract(name: string): Uint8Array | null {
    argCount('extract', arguments.length, 1, 1);
    if (typeof name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `extract: name must be a string, got ${typeof name}`);
    if (name.length === 0) throw new UwsgiError('ERR_VALUE_RANGE', 'extract: name is empty');
    let path = name;
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(name);
    if (scheme) {
      if (scheme[1]!.toLowerCase() !== 'file') throw new UwsgiError('ERR_UNSUPPORTED', `extract: the '${scheme[1]}://' scheme is not supported by uwsgi-wasm (only paths and file://)`);
      path = name.slice(scheme[0].length);
    }
    try {
      return runtime().readFileBytes(path);
    } catch (e) {
      throw new UwsgiError('ERR_NOT_FOUND', `extract: cannot read '${path}': ${(e as Error).message}`);
    }
  }
  /**
   * uWSGI returns the data linked into its binary under `symbol_name`
   * (`uwsgi_resource_<name>_start`). A JavaScript process has no such symbols,
   * so every lookup misses: null, as uWSGI for an unknown symbol.
   */
  embedded_data(symbol_name: string): null {
    argCount('embedded_data', arguments.length, 1, 1);
    if (typeof symbol_name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `embedded_data: symbol_name must be a string, got ${typeof symbol_name}`);
    return null;
  }
  /** FastCGI is not served (use `--socket` or `--http-socket`): always throws ERR_UNSUPPORTED. */
  fcgi(..._args: unknown[]): never {
    throw new UwsgiError('ERR_UNSUPPORTED', 'fcgi: FastCGI is not supported by uwsgi-wasm; serve nginx with uwsgi_pass to --socket, or HTTP with --http-socket');
  }
  /** Mountpoints of the apps this worker serves ('' is the default app), in configuration order. */
  get applist(): string[] { return mountsOf(this).map((m) => m.mountpoint); }
  /** The apps this worker serves: mountpoint → app file. */
  get applications(): Record<string, string> { return Object.fromEntries(mountsOf(this).map((m) => [m.mountpoint, m.file])); }

  // ---- spooler (ts/spooler.ts) -----------------------------------------------------------

  /**
   * Write a task for the spooler; returns its file's absolute path. `task`: an
   * object or Map of names to bytes (strings as UTF-8). The reserved keys
   * `spooler` (target directory), `priority` (integer, a subdirectory), `at` (unix
   * time before which it does not run) and `body` (raw bytes after the vars) may
   * be in `task` or in `options` (options win). ERR_NOT_CONFIGURED without a
   * spooler; a `spooler` of the form `host:port` is another instance: the task goes
   * there as a modifier-17 packet and the call returns a promise of true
   * (ERR_REJECTED when that instance could not spool it).
   */
  send_to_spooler(task: SpoolTask, options: SpoolOptions & { spooler: RemoteSpooler }): Promise<true>;
  send_to_spooler(task: SpoolTask, options?: SpoolOptions): string;
  send_to_spooler(task: SpoolTask, options?: SpoolOptions): string | Promise<true> {
    const remote = remoteSpooler(task, options);
    if (remote !== undefined) { argCount('send_to_spooler', arguments.length, 1, 2); return this.client.spool('send_to_spooler', remote, mergeTask(task, options)); }
    return spoolerOf(this.ctx).spool('send_to_spooler', task, options, arguments.length);
  }
  /** Same as {@link send_to_spooler}. */
  spool(task: SpoolTask, options: SpoolOptions & { spooler: RemoteSpooler }): Promise<true>;
  spool(task: SpoolTask, options?: SpoolOptions): string;
  spool(task: SpoolTask, options?: SpoolOptions): string | Promise<true> {
    const remote = remoteSpooler(task, options);
    if (remote !== undefined) { argCount('spool', arguments.length, 1, 2); return this.client.spool('spool', remote, mergeTask(task, options)); }
    return spoolerOf(this.ctx).spool('spool', task, options, arguments.length);
  }
  /** Seconds between two scans of the spooler directories, shared by every spooler (0: back to `spooler-frequency`). Returns true. */
  set_spooler_frequency(seconds: number): true {
    argCount('set_spooler_frequency', arguments.length, 1, 1);
    return spoolerOf(this.ctx).setFrequency(seconds);
  }
  /** Absolute paths of the tasks waiting in the first spool directory. */
  spooler_jobs(): string[] {
    argCount('spooler_jobs', arguments.length, 0, 0);
    return spoolerOf(this.ctx).jobs();
  }
  /** The process id once the first spooler thread runs (spoolers are threads of this process), else 0. */
  spooler_pid(): number {
    argCount('spooler_pid', arguments.length, 0, 0);
    return spoolerOf(this.ctx).pid();
  }
  /** One entry per spooler: the process id while its thread runs, else 0. */
  spooler_pids(): number[] {
    argCount('spooler_pids', arguments.length, 0, 0);
    return spoolerOf(this.ctx).pids();
  }
  /**
   * The task dict stored at `path` (what the spooler function would get), or
   * null when no complete task is there. Paths outside the spool directories are
   * refused with ERR_BOUNDS.
   */
  spooler_get_task(path: string | Uint8Array): Record<string, Uint8Array> | null {
    argCount('spooler_get_task', arguments.length, 1, 1);
    return spoolerOf(this.ctx).getTask(path);
  }
  /** The spool directories (real paths), or undefined when none is configured (uWSGI has no `spoolers` then). */
  get spoolers(): string[] | undefined {
    const d = spoolerOf(this.ctx).dirs;
    return d.length ? d : undefined;
  }
  /**
   * This thread's spooler function (`uwsgi.spooler = fn`, as in uWSGI's Python
   * module). Spooler threads import the app (or the `spooler-import` files), so
   * setting it at the app's top level registers it where tasks run.
   */
  get spooler(): SpoolerFunction | undefined { return spoolerFunctionOf(this.ctx); }
  set spooler(fn: SpoolerFunction | undefined) { setSpoolerFunction(this.ctx, fn); }

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


/** A spooler address on another instance (`host:port`), as the `spooler` key of a task or its options. */
export type RemoteSpooler = `${string}:${number}`;

const REMOTE_SPOOLER = /^[^/]*:\d+$/;

/** The `host:port` a task is sent to (options win over the task's own key), or undefined for a local spooler. */
function remoteSpooler(task: unknown, options: unknown): string | undefined {
  const pick = (o: unknown): unknown => (o instanceof Map ? o.get('spooler') : o !== null && typeof o === 'object' ? (o as Record<string, unknown>).spooler : undefined);
  const v = pick(options) ?? pick(task);
  const text = typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : undefined;
  return text !== undefined && REMOTE_SPOOLER.test(text) ? text : undefined;
}

/** The task with its options' keys (options win), without the `spooler` address itself. */
function mergeTask(task: unknown, options: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const add = (o: unknown) => {
    if (o instanceof Map) for (const [k, v] of o) out.set(String(k), v);
    else if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) out.set(k, v);
    else if (o !== undefined) throw new UwsgiError('ERR_ARG_TYPE', `spool: the task must be an object or a Map, got ${typeName(o)}`);
  };
  add(task);
  add(options);
  out.delete('spooler');
  return out;
}

/** cache_inc/dec/mul/div refuse a remote cache (see cache_mul). */
function noRemoteMath(fn: string, cache: unknown): void {
  if (isRemoteCache(cache)) throw remoteUnsupported(fn, cache, "uWSGI's cache protocol has no arithmetic (uWSGI 2.0.21 would overwrite the counter with the delta)");
}

function magicTable(ctx: ThreadContext): Record<string, string> {
  const s = ctx.shared;
  const rt = runtime();
  const env = rt.env();
  const { uid, gid } = rt.ids();
  const ids = [uid, gid];
  const cpus = rt.cpuCount();
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
