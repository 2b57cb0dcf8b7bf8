/**
 * Engines: one shared memory laid out from options, and the thread views over it.
 * @module
 */
import { UwsgiError, intArg, statusError } from './errors.ts';
import { coreModule, instantiateCore } from './core.ts';
import { type Config, type Options, configFromOptions, setIniReader } from './options.ts';
import { buildMemory, planLayout } from './layout.ts';
import { type EngineShared, ThreadContext, type ThreadKindName } from './context.ts';
import { ThreadKind } from './abi.ts';
import { Uwsgi } from '../uwsgi.ts';
import { loadCacheStore, writeCacheStore } from '../cache/store.ts';
import { cachesOf } from '../cache/cache.ts';
import { runtime, type ThreadInit } from '../platform/index.ts';
import { Scheduler } from '../signals/scheduler.ts';
import { prepareSpoolDirs } from '../spooler/spooler.ts';

setIniReader((path) => runtime().readTextFile(path));

/** An independent engine: its own shared memory, laid out from its options. */
export class Engine {
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly shared: EngineShared;
  /** The module API for the thread that created the engine (acting as its master, worker_id 0). */
  readonly uwsgi: Uwsgi;
  /** Thread views this engine made in the calling JS thread (they share its clock). */
  readonly #views: Uwsgi[] = [];
  #clock: () => number = Date.now;
  /**
   * The master's scheduler (signal routing, timers, cron, file monitors) for
   * this engine, run in the thread that created it: a master starts it, an
   * engine without one starts it on the first signal or timer call.
   */
  readonly scheduler: Scheduler;

  constructor(config: Config, opts: { hasMaster?: boolean } = {}) {
    prepareSpoolDirs(config);
    const plan = planLayout(config);
    const { memory, core } = buildMemory(config, plan);
    const rt = runtime();
    this.memory = memory;
    this.module = coreModule();
    this.shared = {
      config,
      plan,
      startedOn: Math.floor(Date.now() / 1000),
      masterPid: rt.pid(),
      hasMaster: opts.hasMaster ?? false,
      hostname: rt.hostname(),
      cwd: rt.cwd(),
    };
    const tid = core.thread_reserve(ThreadKind.master, 0);
    if (tid < 0) throw statusError(tid, 'reserve the master thread slot');
    this.uwsgi = new Uwsgi(new ThreadContext(memory, this.module, core, this.shared, tid, 'master', 0));
    this.scheduler = new Scheduler(this.uwsgi.ctx, () => this.#clock());
    // Persistent caches (store=): their items come back before any thread runs.
    config.caches.forEach((_, i) => loadCacheStore(this.uwsgi.ctx, i));
    if (config.snmpCommunity !== undefined) this.uwsgi.snmp_set_community(config.snmpCommunity);
  }

  /**
   * Write the store file of every cache configured with `store=` (atomically:
   * a crash leaves the previous file). The master does this every `store_sync`
   * seconds and when it stops; an engine without a master only when asked.
   * Returns how many items were written.
   */
  storeCaches(): number {
    let n = 0;
    this.shared.config.caches.forEach((c, i) => { if (c.store !== null) n += writeCacheStore(this.uwsgi.ctx, i); });
    return n;
  }

  /**
   * Run one pass of the master's scheduler now, at `now` (ms since the epoch,
   * default the engine's clock): route queued signals, fire due timers and
   * cron entries. Returns how many signals timers and cron raised. Tests pair
   * it with `setClock`; handlers in this JS thread run in the microtasks after.
   */
  tick(now?: number): number {
    return this.scheduler.tick(now === undefined ? this.#clock() : intArg('tick', 'now', now));
  }

  /** Start the scheduler's loop (a master does; an engine without one starts it on first use). */
  startScheduler(): void { this.scheduler.ensureStarted(); }

  /** Stop the scheduler's loop and its file watches: timers, cron and routed signals stop. */
  stopScheduler(): void { this.scheduler.stop(); }

  /**
   * Reserve a thread slot for a thread that will attach itself (a worker, a mule,
   * a thread of the embedder's own). The slot counts as alive from now on.
   */
  reserveThread(kind: ThreadKindName, ident: number): number {
    const tid = this.uwsgi.ctx.x.thread_reserve(ThreadKind[kind], ident);
    if (tid < 0) throw new UwsgiError('ERR_FULL', `no free thread slot (${this.shared.plan.maxThreads} in all): raise 'extra-threads'`);
    return tid;
  }

  /** What a thread needs to attach to this engine (post it to the thread). */
  threadInit(tid: number, role: ThreadInit['role']): ThreadInit {
    return { module: this.module, memory: this.memory, tid, config: this.shared, role };
  }

  /**
   * A second view of this engine in the calling JS thread, acting as another
   * thread (e.g. worker 1). Tests and embedders use it; `release()` it when done.
   */
  attach(kind: ThreadKindName = 'embedded', ident = 0): Uwsgi {
    const tid = this.reserveThread(kind, ident);
    const u = attachContext(this.threadInit(tid, { kind, ident }));
    u.ctx.clock = this.#clock;
    this.#views.push(u);
    return u;
  }

  /**
   * Replace the wall clock (ms since the epoch) that cache expiry, timers and
   * cron read, in this engine's views in the calling JS thread. Tests pass a
   * fake clock.
   */
  setClock(clock: () => number): void {
    if (typeof clock !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `setClock: clock must be a function returning milliseconds`);
    this.#clock = clock;
    this.uwsgi.ctx.clock = clock;
    for (const v of this.#views) v.ctx.clock = clock;
  }

  /**
   * Delete expired items of every cache the sweeper covers (not lazy_expire,
   * purge_lru or no_expire caches), as the master does every
   * `cache-expire-freq` seconds. `now` in seconds, default the engine's clock.
   * Returns how many items were deleted.
   */
  sweepCaches(now?: number): number {
    const api = cachesOf(this.uwsgi.ctx);
    return now === undefined ? api.sweep() : api.sweep(intArg('sweepCaches', 'now', now));
  }

  /**
   * The thread in slot `tid` is gone: locks it held become free for the next
   * locker (who is told), read holds it had are given back, the slot is reused.
   * Returns how many user locks were recovered.
   */
  threadExited(tid: number): number {
    const rc = this.uwsgi.ctx.x.thread_finish(tid);
    return rc < 0 ? 0 : rc;
  }

  /** Ask a thread to stop: its bounded waits give up with ERR_STOPPED. */
  requestStop(tid: number): void { this.uwsgi.ctx.x.thread_request_stop(tid); }
}

/** Create an independent engine with its own shared memory. */
export function createEngine(options: Options = {}): Engine {
  return new Engine(configFromOptions(options));
}

/** Build a thread's module API from the init data its parent posted. */
export function attachContext(init: ThreadInit): Uwsgi {
  const x = instantiateCore(init.module, init.memory);
  const rc = x.bind();
  if (rc < 0) throw statusError(rc, 'attach to the shared memory');
  const kind = init.role.kind as ThreadKindName;
  if (!(kind in ThreadKind)) throw new UwsgiError('ERR_INTERNAL', `unknown thread kind '${init.role.kind}'`);
  return new Uwsgi(new ThreadContext(init.memory, init.module, x, init.config as EngineShared, init.tid, kind, init.role.ident));
}
