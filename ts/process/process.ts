/**
 * Process control, request accounting, logging and async helpers for one
 * thread: the per-thread side of the status table (assembly/process/workers.ts).
 *
 * Request accounting has one entry point: `request_begin()` / `request_end()`
 * (or `accounted(fn)`), called by listeners and user servers around each
 * request. It updates requests, delta_requests, tx, avg_rt, running_time,
 * exceptions and request_id in the shared table, arms `--harakiri`, and opens
 * the per-request scope that `set_logvar`, `get_logvar`, `cl()` and
 * `log_this_request()` use.
 * @module
 */
import { UwsgiError, bytesArg, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, engineService, threadService } from '../kernel/context.ts';
import { CoreStatus, RowField as F, ThreadKind, WK_HEADER_READY, WK_HEADER_RELOADS, WK_WARNING_MAX } from '../kernel/abi.ts';
import { runtime } from '../platform/index.ts';
import { type LongTimer, delayMs, longTimeout } from '../kernel/timers.ts';

/** Row states (F.STATE): the core only stores them, the master writes and workers() reads them. */
export const RowState = { NEVER: 0, RUNNING: 1, DEAD: 2, CHEAP: 3, PAUSE: 4 } as const;

const utf8 = new TextEncoder();
const bytesOf = (s: string) => utf8.encode(s);

/** What a request reports when it ends. */
export interface RequestResult {
  /** Bytes sent to the client (added to the scope's own `sent()` count). */
  tx?: number;
  /** The request failed with an exception (counted in `exceptions`). */
  exception?: boolean;
}

/**
 * What is known of a request when it starts: `request_begin(info)` takes it
 * (only `cl` is needed), and the listeners fill every field for their
 * accounting and error hooks.
 */
export interface RequestInfo {
  /** The request's CONTENT_LENGTH in bytes (what `cl()` returns), default 0. */
  cl?: number;
  /** `uwsgi` (`--socket`) or `http` (`--http-socket`). */
  protocol?: 'uwsgi' | 'http';
  modifier1?: number;
  modifier2?: number;
  /** HTTP method ('' for management packets). */
  method?: string;
  /** REQUEST_URI ('' for management packets). */
  uri?: string;
  /** The peer's address. */
  remoteAddr?: string;
  /** Id of the listener the request came in on. */
  listener?: number;
}

/**
 * One request in progress: its id, content length, log variables and bytes
 * sent. `request_begin()` returns it; `end()` (or `request_end()`) closes it.
 */
export class RequestScope {
  /** `request_id()` inside this request: how many requests this worker began before it. */
  readonly id: number;
  /** CONTENT_LENGTH of the request (`cl()`). */
  readonly cl: number;
  /** `performance.now()` at the start. */
  readonly startedAt: number;
  /** Per-request log variables (`set_logvar`), made on first use (most requests set none). */
  get logvars(): Map<string, Uint8Array> { return this.#logvars ??= new Map(); }
  #logvars: Map<string, Uint8Array> | undefined;
  /**
   * @internal What the listener serving this request keeps for it (the
   * server's request state), carried by this scope's async context so that a
   * served request needs one async context, not one per subsystem.
   */
  served: unknown = undefined;
  /** Set by `log_this_request()`: the listener logs this request even if its logging rules would skip it. */
  logThis = false;
  #tx = 0;
  #ended = false;
  readonly #owner: ProcessApi | undefined;
  /** @internal */
  constructor(owner: ProcessApi | undefined, id: number, cl: number) {
    this.#owner = owner;
    this.id = id;
    this.cl = cl;
    this.startedAt = performance.now();
  }
  /** Run `fn` as part of this request: `request_id()`, `cl()` and logvars inside it are this request's. */
  run<T>(fn: () => T): T { return als.run(this, fn); }
  /** Count `bytes` sent to the client. */
  sent(bytes: number): void {
    const n = intArg('RequestScope.sent', 'bytes', bytes);
    if (n < 0) throw new UwsgiError('ERR_VALUE_RANGE', `RequestScope.sent: bytes must be >= 0, got ${n}`);
    this.#tx += n;
  }
  /** Bytes counted so far. */
  get tx(): number { return this.#tx; }
  /** Whether the request has ended. */
  get ended(): boolean { return this.#ended; }
  /** Whether `grunt()` detached it: counted done for the worker, its work still running. */
  get grunt(): boolean { return this.#grunt; }
  #grunt = false;
  #gruntDone = false;
  /** @internal */
  markGrunt(): void { this.#grunt = true; }
  /** @internal The detached work ended: true the first time. */
  finishGrunt(): boolean { if (this.#gruntDone) return false; this.#gruntDone = true; return true; }
  /** @internal Whether it is a grunt whose work is still running. */
  get gruntRunning(): boolean { return this.#grunt && !this.#gruntDone; }
  /** End the request (once): its numbers go into the status table. */
  end(result: RequestResult = {}): void {
    if (!this.#owner) throw new UwsgiError('ERR_NOT_FOUND', 'request_end: this scope is not a request (outside any request)');
    this.#owner.endScope(this, result, 'RequestScope.end');
  }
  /** @internal */
  markEnded(): void { this.#ended = true; }
}

const als = runtime().asyncContext<RequestScope>();

/** @internal The request scope of the calling code's async context (undefined outside any). */
export function scopeInContext(): RequestScope | undefined { return als.get(); }

/** One entry of `workers()`'s `apps`. */
export interface WorkerApp {
  id: number; modifier1: number; mountpoint: Uint8Array; startup_time: number;
  interpreter: number; callable: number; requests: number; exceptions: number; chdir: Uint8Array;
}

/** One entry of `workers()`, with uWSGI's keys and types. */
export interface WorkerInfo {
  id: number; pid: number; requests: number; delta_requests: number; signals: number; exceptions: number;
  /** `idle`, `busy`, `cheap`, `pause` or `sig<N>`, as bytes (uWSGI's type). */
  status: Uint8Array;
  rss: number; vsz: number;
  /** Microseconds spent in requests. */
  running_time: number;
  /** Unix time (s) of the last spawn. */
  last_spawn: number;
  /** Respawns after the first spawn (stats' value minus one, as uWSGI's workers()). */
  respawn_count: number;
  tx: number;
  /** Moving average of response times, µs (each new time weighs as much as the past). */
  avg_rt: number;
  apps: WorkerApp[];
}

/** What the stats server needs beyond `workers()` (stats' worker keys). */
export interface WorkerStats extends WorkerInfo {
  accepting: number;
  harakiri_count: number;
  /** Requests `grunt()` detached that still run. */
  grunts: number;
  /** Stats' respawn_count: spawns so far (1 for a never-respawned worker). */
  spawns: number;
}

/** How a master is asked to reload or stop (installed by the master for its own engine). */
export interface MasterControl {
  reload(): void;
  stop(): void;
  /** Start mule `ident` (an id the caller claimed) running `file`, or a plain mule for null (`mule_spawn`). */
  spawnMule(ident: number, file: string | null): void;
}
/** The master's controls, when a master runs this engine in this JS thread. */
const masterControl = engineService<{ control?: MasterControl }>(() => ({}));
/** @internal The master registers itself so the main thread's `reload()`/`stop()` reach it. */
export function setMasterControl(engine: { readonly memory: WebAssembly.Memory }, c: MasterControl | undefined): void {
  masterControl(engine).control = c;
}
let threadControl: MasterControl | undefined;
/** @internal A master-started thread: how it posts control requests to its master. */
export function setThreadControl(c: MasterControl): void { threadControl = c; }
/** @internal How the calling thread reaches the master running its engine; undefined without a master. */
export function masterControlOf(ctx: ThreadContext): MasterControl | undefined {
  return ctx.shared.hasMaster ? masterControl(ctx).control ?? threadControl : undefined;
}

/** modifier1 values that have a request handler in this engine (`has_hook`). */
const HOOKS = new Set<number>([0, 173]);
/** Declare that requests with `modifier1` have a handler here (listeners call it at start). */
export function addRequestHook(modifier1: number): void { HOOKS.add(intArg('addRequestHook', 'modifier1', modifier1)); }

/** This thread's process API (one per thread view). */
export const processOf = threadService<ProcessApi>((ctx) => new ProcessApi(ctx));

/**
 * The signals engineer's delivery code calls this once per signal handled by
 * the calling thread: it feeds the `signals` column of `workers()`.
 */
export function noteSignal(ctx: ThreadContext): void { processOf(ctx).noteSignal(); }

/** While a signal handler runs: `workers()` shows status `sig<N>`. `null` when it is done. */
export function markSignalHandler(ctx: ThreadContext, signum: number | null): void { processOf(ctx).markSignalHandler(signum); }

/** The per-thread implementation behind the module functions. */
export class ProcessApi {
  readonly ctx: ThreadContext;
  /** Status-table row of this thread (0: none, only the totals count its requests). */
  readonly row: number;
  /** Whether this thread started after a graceful reload. */
  readonly isAReload: boolean;
  /** Requests begun and not ended, oldest first. */
  readonly #active: RequestScope[] = [];
  /** Scope outside any request (import time, timers): log variables live here. */
  readonly #outside = new RequestScope(undefined, 0, 0);
  #procname = '';
  /** Whether this thread set a user harakiri that its next request end must clear. */
  #userDeadline = false;

  constructor(ctx: ThreadContext) {
    this.ctx = ctx;
    const r = ctx.x.wk_row(ThreadKind[ctx.kind], ctx.ident);
    this.row = r > 0 ? r : 0;
    this.isAReload = ctx.x.wk_header_get(WK_HEADER_RELOADS) > 0;
  }

  #harakiri(): number {
    return this.ctx.shared.config.harakiri;
  }

  // ---- accounting ------------------------------------------------------------------

  /** The request the calling code runs in: the async context's, else the newest begun one. */
  current(): RequestScope | undefined {
    const s = als.get();
    if (s && !s.ended && this.#active.includes(s)) return s;
    // A grunt's code keeps its request (request_id, cl, logvars) after the worker counted it done.
    if (s && s.gruntRunning) return s;
    return this.#active[this.#active.length - 1];
  }

  begin(info: RequestInfo | undefined, fn = 'request_begin'): RequestScope {
    let cl = 0;
    if (info !== undefined) {
      if (info === null || typeof info !== 'object') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: info must be an object like { cl }, got ${typeName(info)}`);
      if (info.cl !== undefined) {
        cl = intArg(fn, 'info.cl', info.cl);
        if (cl < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: info.cl must be >= 0, got ${cl}`);
      }
    }
    const id = this.ctx.x.wk_begin(this.row);
    if (id < 0) throw statusError(id, fn);
    const scope = new RequestScope(this, id, cl);
    this.#active.push(scope);
    this.#armHarakiri();
    return scope;
  }

  /** @internal */
  endScope(scope: RequestScope, result: RequestResult, fn: string): void {
    // The end of a grunt's detached work (the listener ends its request): it no longer runs.
    if (scope.grunt) {
      if (scope.finishGrunt() && this.row > 0) this.ctx.x.wk_add(this.row, F.GRUNTS, -1);
      return;
    }
    if (scope.ended) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: request ${scope.id} has already ended`);
    if (result === null || typeof result !== 'object') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: result must be an object like { tx, exception }, got ${typeName(result)}`);
    let tx = scope.tx;
    if (result.tx !== undefined) {
      const n = intArg(fn, 'result.tx', result.tx);
      if (n < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: result.tx must be >= 0, got ${n}`);
      tx += n;
    }
    const active = this.#active;
    // Most often the newest request ends first.
    if (active[active.length - 1] === scope) active.pop();
    else { const i = active.indexOf(scope); if (i >= 0) active.splice(i, 1); }
    scope.markEnded();
    const rtUs = Math.max(0, Math.round((performance.now() - scope.startedAt) * 1000));
    const rc = this.ctx.x.wk_end(this.row, rtUs, tx, result.exception ? 1 : 0);
    if (rc < 0) throw statusError(rc, fn);
    // uWSGI clears a worker's user harakiri when its request ends (only this thread sets its row's; the master only clears it).
    if (this.#userDeadline) { this.#userDeadline = false; if (this.ctx.kind === 'worker') this.ctx.x.wk_set(this.row, F.USER_DEADLINE, 0); }
    this.#armHarakiri();
  }

  end(result: RequestResult | undefined, fn = 'request_end'): void {
    const s = this.current();
    if (!s) throw statusError(CoreStatus.E_NOT_IN_REQUEST, fn);
    this.endScope(s, result ?? {}, fn);
  }

  async accounted<T>(fn: (scope: RequestScope) => T | Promise<T>, info?: RequestInfo): Promise<T> {
    if (typeof fn !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `accounted: fn must be a function, got ${typeName(fn)}`);
    const scope = this.begin(info, 'accounted');
    // Inside a served request, the listener's state stays reachable (disconnect(), the environ).
    scope.served = als.get()?.served;
    let value: T;
    try {
      value = await als.run(scope, () => fn(scope));
    } catch (e) {
      if (!scope.ended || scope.gruntRunning) this.endScope(scope, { exception: true }, 'accounted');
      throw e;
    }
    // A grunt's end (the request was counted when it detached) only ends the grunt.
    if (!scope.ended || scope.gruntRunning) this.endScope(scope, {}, 'accounted');
    return value;
  }

  /**
   * uWSGI 1.x's grunt, for threads: the request in progress is counted done
   * for the worker now (requests, avg_rt, harakiri) and its remaining work goes
   * on detached, shown in the `grunts` column of the worker's stats until the
   * request really ends. Returns true: the calling code is the grunt (uWSGI's
   * forked child got True; there is no second copy of the code here to get None).
   */
  grunt(fn = 'grunt'): true {
    const s = this.current();
    if (!s) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no request in progress (a grunt continues a request)`);
    if (s.grunt) return true;
    this.endScope(s, {}, fn);
    s.markGrunt();
    if (this.row > 0) this.ctx.x.wk_add(this.row, F.GRUNTS, 1);
    return true;
  }

  /** `--harakiri N`: the deadline follows the oldest request in progress. */
  #armHarakiri(): void {
    if (this.row === 0 || this.ctx.kind !== 'worker') return;
    const n = this.#harakiri();
    if (!(n > 0)) return;
    const oldest = this.#active[0];
    const deadline = oldest ? Date.now() - (performance.now() - oldest.startedAt) + n * 1000 : 0;
    this.ctx.x.wk_set(this.row, F.DEADLINE, Math.round(deadline));
  }

  totalRequests(): number { return this.ctx.x.wk_get(0, F.REQUESTS); }

  requestId(): number {
    const s = this.current();
    return s ? s.id : this.ctx.x.wk_get(this.row, F.REQ_SEQ);
  }

  cl(): number { return this.current()?.cl ?? 0; }

  setUserHarakiri(seconds: number, log: (l: string) => void): void {
    const n = intArg('set_user_harakiri', 'seconds', seconds);
    if (n < 0) throw new UwsgiError('ERR_VALUE_RANGE', `set_user_harakiri: seconds must be >= 0, got ${n}`);
    if (n > 0x7fffffff) throw new UwsgiError('ERR_VALUE_RANGE', `set_user_harakiri: seconds ${n} do not fit in a signed 32-bit integer`);
    if (!this.ctx.shared.hasMaster) { log('unable to set user harakiri without the master process'); return; }
    if (this.row === 0) { log(`unable to set user harakiri in the ${this.ctx.kind} thread (only workers, mules and spoolers have one)`); return; }
    this.ctx.x.wk_set(this.row, F.USER_DEADLINE, n === 0 ? 0 : Date.now() + n * 1000);
    this.#userDeadline = n > 0;
  }

  noteSignal(): void { if (this.row > 0) this.ctx.x.wk_add(this.row, F.SIGNALS, 1); }
  markSignalHandler(signum: number | null): void {
    if (this.row > 0) this.ctx.x.wk_set(this.row, F.SIG, signum === null ? 0 : signum + 1);
  }

  accepting(flag: unknown): void {
    if (this.row > 0) this.ctx.x.wk_set(this.row, F.ACCEPTING, flag ? 1 : 0);
  }

  // ---- tables ------------------------------------------------------------------------

  #info(row: number, id: number): WorkerStats {
    const g = (f: number) => this.ctx.x.wk_get(row, f);
    const sig = g(F.SIG);
    const state = g(F.STATE);
    const status = sig > 0 ? `sig${sig - 1}` : g(F.BUSY) > 0 ? 'busy' : state === RowState.CHEAP ? 'cheap' : state === RowState.PAUSE ? 'pause' : 'idle';
    const spawns = g(F.SPAWNS);
    const requests = g(F.REQUESTS);
    const exceptions = g(F.EXCEPTIONS);
    const apps: WorkerApp[] = g(F.APP) ? [{
      id: 0, modifier1: 0, mountpoint: new Uint8Array(0), startup_time: g(F.STARTUP), interpreter: 0, callable: 0,
      requests, exceptions, chdir: new Uint8Array(0),
    }] : [];
    return {
      id, pid: g(F.PID), requests, delta_requests: g(F.DELTA), signals: g(F.SIGNALS), exceptions, status: bytesOf(status),
      rss: g(F.RSS), vsz: g(F.VSZ), running_time: g(F.RUNNING_TIME), last_spawn: g(F.LAST_SPAWN),
      respawn_count: Math.max(0, spawns - 1), tx: g(F.TX), avg_rt: g(F.AVG_RT), apps,
      accepting: g(F.ACCEPTING), harakiri_count: g(F.HARAKIRIS), spawns, grunts: g(F.GRUNTS),
    };
  }

  workers(): WorkerInfo[] {
    const n = this.ctx.x.wk_count(ThreadKind.worker);
    const out: WorkerInfo[] = [];
    for (let id = 1; id <= n; id++) {
      const { accepting: _a, harakiri_count: _h, spawns: _s, grunts: _g, ...info } = this.#info(id, id);
      out.push(info);
    }
    return out;
  }

  /** Every worker's stats row (the stats server's `workers` array, before formatting). */
  workerStats(): WorkerStats[] {
    const n = this.ctx.x.wk_count(ThreadKind.worker);
    return Array.from({ length: n }, (_, i) => this.#info(i + 1, i + 1));
  }

  ready(): boolean { return !this.ctx.shared.hasMaster || this.ctx.x.wk_header_get(WK_HEADER_READY) === 1; }

  control(op: 'reload' | 'stop'): boolean {
    const c = masterControl(this.ctx).control ?? threadControl;
    if (!c || !this.ctx.shared.hasMaster) return false;
    c[op]();
    return true;
  }

  // ---- logging ---------------------------------------------------------------------

  #logto(): string | undefined {
    return this.ctx.shared.config.logto;
  }

  /** Write one line to the log (`--logto` file, else stderr). */
  log(line: string): void { writeLog(this.ctx, line); }

  setLogvar(key: unknown, value: unknown): void {
    const k = logvarKey('set_logvar', key);
    const v = bytesArg('set_logvar', 'value', value);
    if (v.length > LOGVAR_MAX) throw new UwsgiError('ERR_VALUE_RANGE', `set_logvar: value is longer than ${LOGVAR_MAX} bytes`);
    (this.current() ?? this.#outside).logvars.set(k, v.slice());
  }

  getLogvar(key: unknown): Uint8Array | null {
    const k = logvarKey('get_logvar', key);
    const v = (this.current() ?? this.#outside).logvars.get(k);
    return v ? v.slice() : null;
  }

  logThisRequest(): void { const s = this.current(); if (s) s.logThis = true; }

  logsize(): number { return this.ctx.x.wk_log_size(); }

  setWarning(msg: unknown): void {
    const b = bytesArg('set_warning_message', 'message', msg);
    const { u8, scratch, x } = this.ctx;
    u8.set(b, scratch);
    const rc = x.wk_set_warning(scratch, b.length);
    if (rc === CoreStatus.E_BOUNDS) throw new UwsgiError('ERR_BOUNDS', `set_warning_message: the message is ${b.length} bytes; at most ${WK_WARNING_MAX} fit`);
    if (rc < 0) throw statusError(rc, 'set_warning_message');
  }

  warning(): string {
    const { u8, scratch, x } = this.ctx;
    const n = x.wk_get_warning(scratch);
    return n > 0 ? new TextDecoder().decode(u8.slice(scratch, scratch + n)) : '';
  }

  setProcname(name: unknown): void {
    if (typeof name !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `setprocname: name must be a string, got ${typeName(name)}`);
    this.#procname = name;
    const rt = runtime();
    // Only the main thread names the process; a thread keeps its name here (procname()).
    // Where the runtime cannot rename its process, the name stays recorded.
    if (rt.isMainThread()) rt.setProcessTitle(name);
  }
  /** The name `setprocname` gave this thread ('' when none). */
  procname(): string { return this.#procname; }

  hasHook(modifier1: unknown): true | null {
    const m = intArg('has_hook', 'modifier1', modifier1);
    if (m < 0 || m > 255) throw new UwsgiError('ERR_VALUE_RANGE', `has_hook: modifier1 must be 0..255, got ${m}`);
    return HOOKS.has(m) ? true : null;
  }

  /** @internal Is `--logto` set (logsize counts its bytes)? */
  logFile(): string | undefined { return this.#logto(); }
}

/** Longest logvar key or value, in bytes (uWSGI's struct uwsgi_logvar: one-byte lengths). */
const LOGVAR_MAX = 255;
const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

function logvarKey(fn: string, key: unknown): string {
  if (key instanceof Uint8Array) key = new TextDecoder().decode(key);
  if (typeof key !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: key must be a string or Uint8Array, got ${typeName(key)}`);
  // uWSGI keeps a logvar's key and value lengths in one byte each (255 at most; longer ones wrap).
  if (utf8Length(key) > LOGVAR_MAX) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: key is longer than ${LOGVAR_MAX} bytes`);
  return key;
}

/**
 * Write one log line: appended to the `--logto` file (its bytes counted by
 * `logsize()`), or to stderr when no file is set.
 */
export function writeLog(ctx: ThreadContext, line: string): void {
  const file = processOf(ctx).logFile();
  const text = line.endsWith('\n') ? line : `${line}\n`;
  if (file === undefined) { console.error(text.slice(0, -1)); return; }
  const b = utf8.encode(text);
  runtime().appendFile(file, b);
  ctx.x.wk_log_add(b.length);
}

// ---- async helpers ---------------------------------------------------------------------

function seconds(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be a finite number of seconds, got ${typeof v === 'number' ? String(v) : typeName(v)}`);
  if (v < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be >= 0, got ${v}`);
  return v;
}

/** Resolve after `secs` seconds (up to 2^53 - 1 ms, however long) without blocking the thread's event loop. */
export function asyncSleep(secs: unknown): Promise<void> {
  const ms = delayMs('async_sleep', 'seconds', seconds('async_sleep', 'seconds', secs));
  return new Promise((r) => { longTimeout(r, ms); });
}

/** Yield to the event loop: resolves (with true) after pending I/O and timers had a turn. */
export function yieldToLoop(): Promise<true> { return new Promise((r) => setTimeout(() => r(true), 0)); }

interface StreamLike {
  once(ev: string, fn: (...a: unknown[]) => void): unknown;
  removeListener(ev: string, fn: (...a: unknown[]) => void): unknown;
  readableLength?: number; readableEnded?: boolean; writableNeedDrain?: boolean; destroyed?: boolean;
}

const isStream = (v: unknown): v is StreamLike => typeof v === 'object' && v !== null && typeof (v as StreamLike).once === 'function' && typeof (v as StreamLike).removeListener === 'function';

/**
 * Wait until `target` can be read from (`mode` 'read') or written to ('write'):
 * true when ready, false when `timeout` seconds pass first. `target` is a
 * socket or pipe stream (an event-emitting stream, on every runtime). A raw file
 * descriptor number cannot be waited on by any of the runtimes without reading
 * it: ERR_UNSUPPORTED names the runtime.
 */
export function waitFd(fn: string, target: unknown, mode: 'read' | 'write', timeout?: unknown): Promise<boolean> {
  const t = timeout === undefined || timeout === null ? 0 : seconds(fn, 'timeout', timeout);
  const ms = delayMs(fn, 'timeout', t);
  if (typeof target === 'number') {
    throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: ${runtime().name} cannot wait on a raw file descriptor (${target}) without reading it; pass the socket or pipe stream instead`);
  }
  if (!isStream(target)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: expected a socket or pipe stream, got ${typeName(target)}`);
  if (target.destroyed) return Promise.resolve(true); // reading/writing now reports the closed state at once
  if (mode === 'read' && ((target.readableLength ?? 0) > 0 || target.readableEnded)) return Promise.resolve(true);
  if (mode === 'write' && !target.writableNeedDrain) return Promise.resolve(true);
  const events = mode === 'read' ? ['readable', 'end', 'close', 'error'] : ['drain', 'close', 'error'];
  return new Promise((resolve) => {
    let timer: LongTimer | undefined;
    const done = (v: boolean) => {
      timer?.cancel();
      for (const e of events) target.removeListener(e, ready);
      resolve(v);
    };
    const ready = () => done(true);
    for (const e of events) target.once(e, ready);
    if (t > 0) timer = longTimeout(() => done(false), ms);
  });
}
