/**
 * The process functions of the `uwsgi` module: who this thread is, the
 * options and globals, process control, request accounting, logging and the
 * async helpers.
 * @module
 */
import { UwsgiError, argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { threadOptions } from '../kernel/thread-options.ts';
import { VERSION, VERSION_INFO } from '../kernel/version.ts';
import { runtime } from '../platform/index.ts';
import { extractFile, magicTable } from './info.ts';
import { type RequestInfo, type RequestResult, type RequestScope, type WorkerInfo, asyncSleep, processOf, waitFd, yieldToLoop } from './process.ts';

/** The process functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ProcessFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** Number of workers (`--workers`). */
  get numproc(): number { return this.ctx.shared.config.workers; }
  /** Unix time (s) the engine started. */
  get started_on(): number { return this.ctx.shared.startedOn; }
  /** Every option as given: the last value (string) of each, flags as `true`. */
  get opt(): Record<string, string | true> { return threadOptions(this.ctx); }
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
    return threadOptions(this.ctx)[name];
  }
  /**
   * Set option `name` in this thread's `opt` (uWSGI's runtime option dict). It
   * does not re-lay out the engine: sizes are fixed at start.
   */
  set_option(name: string, value: string | true): void {
    argCount('set_option', arguments.length, 2, 2);
    if (typeof name !== 'string' || name === '') throw new UwsgiError('ERR_ARG_TYPE', `set_option: name must be a non-empty string`);
    if (value !== true && typeof value !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `set_option: value must be a string or true`);
    threadOptions(this.ctx)[name] = value;
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
    return extractFile(name);
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

  // ---- logging (ts/process/process.ts) ----------------------------------------------------------

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
  /**
   * uWSGI 1.x's grunt (it forked the worker so a request went on in the
   * background while the worker served again), for threads: the request in
   * progress is counted done for this worker now (its requests, avg_rt, status
   * and harakiri free it) and the rest of its work continues detached, shown in
   * the worker's `grunts` stats until the request ends. Returns true (the
   * caller is the grunt). Outside a request ERR_NOT_FOUND.
   */
  grunt(): true { argCount('grunt', arguments.length, 0, 0); return processOf(this.ctx).grunt(); }
  has_hook(modifier1: number): true | null { argCount('has_hook', arguments.length, 1, 1); return processOf(this.ctx).hasHook(modifier1); }
  /** CONTENT_LENGTH of the current request (0 outside a request). */
  cl(): number { argCount('cl', arguments.length, 0, 0); return processOf(this.ctx).cl(); }
  /**
   * uWSGI's hint that an async core is about to block. Each worker is its own
   * thread with its own event loop, so blocking holds up only that worker: a no-op.
   */
  sorry_i_need_to_block(): void { argCount('sorry_i_need_to_block', arguments.length, 0, 0); }

  // ---- async helpers (ts/process/process.ts) --------------------------------------------------

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
}
