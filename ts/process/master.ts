/**
 * The master: lays out the shared memory, starts the workers and mules
 * (threads of this process), respawns one that dies, and stops everything on
 * SIGINT/SIGTERM.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { Engine } from '../kernel/engine.ts';
import { writeCacheStore } from '../cache/store.ts';
import { type Options, configFromPairs, pairsFromObject, parseArgv } from '../kernel/options.ts';
import { type PreparedListener, type ThreadHandle, runtime } from '../platform/index.ts';
import type { ThreadMessage } from './thread.ts';
import type { Uwsgi } from '../uwsgi.ts';
import { publishMainEngine } from '../kernel/current.ts';
import { RowField as F, ThreadKind, WK_HEADER_READY, WK_HEADER_RELOADS } from '../kernel/abi.ts';
import { RowState, setMasterControl, writeLog } from './process.ts';
import { spoolerThreads } from '../spooler/config.ts';
import { spoolerOf } from '../spooler/spooler.ts';
import { MasterServices } from '../observability/services.ts';
import type { ThreadRow } from '../observability/stats.ts';
import { type ClusterServices, startCluster } from '../cluster/service.ts';
import { MasterErlang } from '../erlang/bridge.ts';

/** How `run` is told what to start. */
export interface MasterOptions {
  /** Options by uWSGI name, or a command line (`['--workers', '2', 'app.js']`). */
  options?: Options | readonly string[];
  /** The app file every worker imports (a command line may name it instead). */
  app?: string;
  /** Install SIGINT/SIGTERM handlers that stop the master (default true). */
  handleSignals?: boolean;
  /** Where the master reports worker deaths and respawns (default: stderr). */
  log?: (line: string) => void;
}

interface WorkerSlot {
  kind: 'worker' | 'mule' | 'spooler';
  ident: number;
  /** The file the thread imports: the app for workers, the mule's own file (if any) for mules. */
  file?: string;
  tid: number;
  handle?: ThreadHandle;
  spawnedAt: number;
  /** Quick deaths in a row, for respawn back-off. */
  quickDeaths: number;
  state: 'starting' | 'running' | 'done';
  /** Told to stop: its end is not a death to respawn. */
  stopping?: boolean;
  /** Exit code the thread reported before its end (its app's main function returned). */
  reportedExit?: number;
  /** Its app (or mule file) is imported: it serves. */
  loaded?: boolean;
  /** Killed by harakiri: its end is a death to respawn. */
  harakiri?: boolean;
  /** It reported that it accepts on every listener. */
  serving?: boolean;
  /** Killed on purpose (killWorker, harakiri): respawned without back-off. */
  killed?: boolean;
  /** Threads started for this id so far (stats: respawn_count). */
  spawns?: number;
  /** Why the current thread's import failed (it reported it before dying). */
  importError?: string;
  /** The last import failure, and how many deaths in a row it caused. */
  lastImportError?: string;
  sameImportDeaths?: number;
}

/** How `killWorker`, `killMule` and `killSpooler` kill. */
export interface KillOptions {
  /**
   * How long to wait for the runtime to confirm that the thread is gone before
   * quarantining its slot (default 1500 ms). A runtime that cannot stop a
   * thread that never yields (Deno) never confirms: its locks pass on from that
   * moment, as if it had died wherever it then is.
   */
  confirmMs?: number;
}

/** A thread that dies at import this many times in a row with the same error is not respawned again. */
const IMPORT_DEATHS_MAX = 3;
const QUICK_DEATH_MS = 1000;
/** How long the master waits before trying again to start a thread when no thread slot is free. */
const SLOT_RETRY_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const STOP_GRACE_MS = 2000;
/** A worker with listeners that is not serving this long after its start is reported (ms). */
const START_REPORT_MS = 10_000;
const EXIT_GRACE_MS = 2000;
/** How often the master checks harakiri deadlines (uWSGI: once a second). */
const HARAKIRI_CHECK_MS = 250;
/** How long a terminated thread has to be confirmed gone before its slot is quarantined. */
const KILL_CONFIRM_MS = 1500;

/** A running master, its workers and its mules. */
export class Master {
  readonly engine: Engine;
  /**
   * Resolves with an exit code once every worker is done (mules still running are
   * then stopped) or the master was stopped: 0, or 1 when a thread was left down
   * after failing at import three times in a row with the same error.
   */
  readonly done: Promise<number>;
  readonly #workers: WorkerSlot[] = [];
  readonly #app?: string;
  readonly #log: (line: string) => void;
  #stopping = false;
  #finished = false;
  /** A thread was left down after failing at import again and again: `done` resolves with 1. */
  #gaveUp = false;
  #resolveDone!: (code: number) => void;
  #removeSignals?: () => void;
  #readyWaiters: Array<() => void> = [];
  #exitWaiters: Array<() => void> = [];
  #sweeper?: ReturnType<typeof setInterval>;
  #checker?: ReturnType<typeof setInterval>;
  /** Thread slots of threads that did not stop when terminated (freed if the runtime ever confirms their end). */
  readonly #quarantined = new Set<number>();
  #reloading?: Promise<void>;
  #listeners: PreparedListener[] = [];
  #servingWaiters: Array<() => void> = [];
  #storeTimers: Array<ReturnType<typeof setInterval>> = [];
  #spoolerWatch?: ReturnType<typeof setInterval>;
  /** The stats server and SNMP agent (`--stats`, `--snmp`), started by `run()`. */
  readonly services: MasterServices;
  /** The cluster's services (`--cluster`, subscriptions, cache `udp=`/`sync=`), started by `run()` before the workers. */
  cluster?: ClusterServices;
  /** The Erlang node (`--erlang`), started by `run()`: it owns the connections every thread's erlang_* calls use. */
  #erlang?: MasterErlang;

  /** @internal Use `run()`. */
  constructor(engine: Engine, app: string | undefined, opts: MasterOptions) {
    this.engine = engine;
    this.#app = app;
    this.done = new Promise((r) => { this.#resolveDone = r; });
    // The main thread's uwsgi.reload()/uwsgi.stop() reach this master.
    setMasterControl(engine, { reload: () => void this.reload(), stop: () => void this.stop(), spawnMule: (ident, file) => this.#spawnMule(ident, file) });
    this.services = new MasterServices(engine, () => this.threadRows());
    // Every line also goes to the stats document's log tail (the dashboard shows it).
    const write = opts.log ?? ((l: string) => writeLog(engine.uwsgi.ctx, l));
    this.#log = (l) => { this.services.recordLog(l); write(l); };
    if (opts.handleSignals ?? true) {
      this.#removeSignals = runtime().onTerminationSignal((sig) => {
        this.#log(`uwsgi-wasm: ${sig} received, stopping workers`);
        void this.stop();
      });
    }
  }

  /** The master thread's module object (worker_id 0). */
  get uwsgi(): Uwsgi { return this.engine.uwsgi; }

  /** @internal Start the `--erlang` node (before the threads, which may use it at once). */
  async startErlang(): Promise<void> {
    this.#erlang = await MasterErlang.start(this.engine.uwsgi.ctx, (tid, msg) => {
      const slot = this.#workers.find((w) => w.tid === tid && w.handle);
      slot?.handle?.postMessage(msg);
      return slot !== undefined;
    });
  }

  /** @internal */
  start(): void {
    const cfg = this.engine.shared.config;
    // The cache sweeper: uWSGI's thread that deletes expired items every cache-expire-freq seconds.
    const swept = cfg.caches.some((c) => !c.lazyExpire && !c.purgeLru && !c.noExpire);
    if (swept && !cfg.cacheNoExpire) {
      this.#sweeper = setInterval(() => { this.engine.sweepCaches(); }, cfg.cacheExpireFreq * 1000);
      (this.#sweeper as { unref?: () => void }).unref?.();
    }
    // Harakiri deadlines (and --memory-report sizes), checked like uWSGI's master cycle.
    this.#checker = setInterval(() => this.#check(), HARAKIRI_CHECK_MS);
    (this.#checker as { unref?: () => void }).unref?.();
    // Signal routing, timers, cron and file monitors.
    this.engine.startScheduler();
    // Persistent caches: written every store_sync seconds (and when the master stops).
    cfg.caches.forEach((c, i) => {
      if (c.store === null || c.storeSync === 0) return;
      const t = setInterval(() => this.#writeStore(i), c.storeSync * 1000);
      (t as { unref?: () => void }).unref?.();
      this.#storeTimers.push(t);
    });
    const slots: WorkerSlot[] = [];
    for (let i = 1; i <= cfg.workers; i++) slots.push({ kind: 'worker', ident: i, file: this.#app, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' });
    cfg.mules.forEach((file, i) => slots.push({ kind: 'mule', ident: i + 1, file: file ?? undefined, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' }));
    // Spooler threads import the app too (or the spooler-import files), to find the spooler function.
    for (const t of spoolerThreads(cfg.spooler)) slots.push({ kind: 'spooler', ident: t.ident, file: this.#app, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' });
    if (cfg.spooler.harakiri > 0) {
      // uWSGI's spooler harakiri: a task that runs too long costs its thread (the task runs again later).
      this.#spoolerWatch = setInterval(() => {
        for (const ident of spoolerOf(this.engine.uwsgi.ctx).overdue(Math.floor(Date.now() / 1000))) {
          this.#log(`uwsgi-wasm: spooler ${ident} ran a task for more than ${cfg.spooler.harakiri} s (spooler-harakiri): killing it`);
          void this.#kill('spooler', ident, 'harakiri').catch(() => {});
        }
      }, 1000);
      (this.#spoolerWatch as { unref?: () => void }).unref?.();
    }
    this.#workers.push(...slots);
    for (const slot of slots) this.#spawn(slot);
  }

  /** Resolves once every worker and mule has attached to the memory (and started importing its file). */
  ready(): Promise<void> {
    if (this.#workers.every((w) => w.state !== 'starting')) return Promise.resolve();
    return new Promise((r) => this.#readyWaiters.push(r));
  }

  /** @internal Start the cluster's services (`run()` does, before the workers: `sync=` fills the caches first). */
  async startCluster(): Promise<void> { this.cluster = await startCluster(this.engine.uwsgi, this.#log); }

  /** @internal The listeners `run()` prepared; each worker started gets a ticket for each. */
  setListeners(listeners: PreparedListener[]): void { this.#listeners = listeners; }

  /**
   * Resolves once every running worker accepts on every listener (`--socket`,
   * `--http-socket`); at once when there are none.
   */
  serving(): Promise<void> {
    const ok = () => this.#listeners.length === 0 || this.#workers.every((w) => w.kind !== 'worker' || w.state === 'done' || w.serving);
    if (ok()) return Promise.resolve();
    return new Promise((r) => { const check = () => (ok() ? r() : this.#servingWaiters.push(check)); this.#servingWaiters.push(check); });
  }

  /** Thread slots of the running workers, by worker id (for tests and tools). */
  workerTids(): Map<number, number> {
    return new Map(this.#workers.filter((w) => w.kind === 'worker' && w.state !== 'done').map((w) => [w.ident, w.tid]));
  }

  /** The master's thread table: each worker and mule id, its thread slot, state and spawns (for stats). */
  threadRows(): ThreadRow[] {
    return this.#workers.map((w) => ({ kind: w.kind, ident: w.ident, tid: w.tid, state: w.state, spawnedAt: w.spawnedAt, spawns: w.spawns ?? 0, file: w.file }));
  }

  #spawn(slot: WorkerSlot): void {
    try {
      slot.tid = this.engine.reserveThread(slot.kind, slot.ident);
    } catch (e) {
      // Every slot is taken, by threads the runtime could not stop (quarantined) or by attached
      // views: try again later rather than end the process from a timer.
      if (!(e instanceof UwsgiError) || e.code !== 'ERR_FULL' || this.#stopping) throw e;
      slot.state = 'starting';
      this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident}: ${e.message}; ${this.#quarantined.size} slot(s) held by threads that did not stop; retrying in ${SLOT_RETRY_MS} ms`);
      setTimeout(() => { if (!this.#stopping && !slot.stopping && slot.tid < 0) this.#spawn(slot); else if (slot.tid < 0) { slot.state = 'done'; this.#maybeDone(); } }, SLOT_RETRY_MS);
      return;
    }
    slot.spawns = (slot.spawns ?? 0) + 1;
    slot.reportedExit = undefined;
    slot.spawnedAt = Date.now();
    slot.state = 'starting';
    slot.loaded = false;
    slot.harakiri = false;
    const tid = slot.tid;
    this.#rowSpawned(slot);
    slot.serving = false;
    const listen = slot.kind === 'worker' && this.#listeners.length ? this.#listeners.map((l) => l.ticket()) : undefined;
    const init = this.engine.threadInit(tid, { kind: slot.kind, ident: slot.ident, app: slot.file, listen });
    if (listen) {
      // A worker that is not serving after a while is reported, with how far it got: a start never hangs silently.
      const t = setTimeout(() => {
        if (slot.tid !== tid || slot.serving || slot.state === 'done' || this.#stopping) return;
        const where = slot.state === 'starting' ? 'its thread has not started' : slot.file ? `still importing ${slot.file} or opening its listeners` : 'still opening its listeners';
        this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} is not serving ${START_REPORT_MS / 1000} s after its start (${where})`);
      }, START_REPORT_MS);
      (t as { unref?: () => void }).unref?.();
    }
    slot.handle = runtime().spawnThread(new URL('./worker.js', import.meta.url), init, {
      onMessage: (m) => {
        // A thread the master gave up on (quarantined, then replaced) may still talk: only the slot's current thread counts.
        if (slot.tid !== tid) return;
        const msg = m as ThreadMessage;
        if (msg?.type === 'uwsgi-wasm:ready') {
          slot.state = 'running';
          if (this.#workers.every((w) => w.state !== 'starting')) this.#readyWaiters.splice(0).forEach((r) => r());
        } else if (msg?.type === 'uwsgi-wasm:loaded') {
          slot.loaded = true;
          if (this.#workers.every((w) => w.kind !== 'worker' || w.loaded || w.state === 'done' || w.stopping)) this.#core.wk_header_set(WK_HEADER_READY, 1);
          this.#exitWaiters.splice(0).forEach((f) => f());
        } else if (msg?.type === 'uwsgi-wasm:control') {
          if (msg.op === 'reload') void this.reload();
          else if (msg.op === 'stop') void this.stop();
          else if (msg.op === 'mule_spawn') this.#spawnMule(msg.ident, msg.file);
        } else if (msg?.type === 'uwsgi-wasm:import-failed') {
          slot.importError = `${msg.file}: ${msg.error}`;
        } else if (this.#erlang?.handle(tid, msg)) {
          // An erlang_* call of the thread: the node answers it.
        } else if (msg?.type === 'uwsgi-wasm:serving') {
          slot.serving = true;
          this.#servingWaiters.splice(0).forEach((f) => f());
        } else if (msg?.type === 'uwsgi-wasm:exit') {
          // The app's main function finished: the thread ends by itself once idle;
          // one that still runs after a grace period is terminated.
          slot.reportedExit = msg.code;
          const handle = slot.handle;
          setTimeout(() => { if (slot.handle === handle) void handle?.terminate(); }, EXIT_GRACE_MS);
        }
      },
      onExit: (code, error) => {
        if (this.#quarantined.delete(tid)) {
          // A thread that had not stopped when terminated is finally gone: its slot can be reused.
          this.engine.threadExited(tid);
          this.#log(`uwsgi-wasm: the quarantined thread of ${slot.kind} ${slot.ident} (slot ${tid}) has stopped`);
          return;
        }
        this.#exited(slot, tid, code, error);
      },
    });
  }

  get #core() { return this.engine.uwsgi.ctx.x; }

  /** The slot's status-table row, 0 when it has none. */
  #row(slot: WorkerSlot): number {
    const r = this.#core.wk_row(ThreadKind[slot.kind], slot.ident);
    return r > 0 ? r : 0;
  }

  #rowSpawned(slot: WorkerSlot): void {
    const row = this.#row(slot);
    if (row === 0) return;
    const x = this.#core;
    // A reload's new worker shares the row with the old one until it leaves: keep the old one's in-flight count.
    const sharing = this.#workers.some((w) => w !== slot && w.kind === slot.kind && w.ident === slot.ident && w.handle);
    if (!sharing) { x.wk_set(row, F.BUSY, 0); x.wk_set(row, F.SIG, 0); }
    x.wk_set(row, F.PID, runtime().pid());
    x.wk_set(row, F.TID, slot.tid);
    x.wk_set(row, F.LAST_SPAWN, Math.floor(Date.now() / 1000));
    x.wk_add(row, F.SPAWNS, 1);
    x.wk_set(row, F.DELTA, 0);
    x.wk_set(row, F.DEADLINE, 0);
    x.wk_set(row, F.USER_DEADLINE, 0);
    x.wk_set(row, F.APP, 0);
    if (!sharing) x.wk_set(row, F.GRUNTS, 0);
    x.wk_set(row, F.STATE, RowState.RUNNING);
  }

  #rowGone(slot: WorkerSlot): void {
    const row = this.#row(slot);
    if (row === 0) return;
    const other = this.#workers.find((w) => w !== slot && w.kind === slot.kind && w.ident === slot.ident && w.handle);
    const x = this.#core;
    if (other) { x.wk_set(row, F.TID, other.tid); return; }
    x.wk_set(row, F.PID, 0);
    x.wk_set(row, F.BUSY, 0);
    x.wk_set(row, F.GRUNTS, 0); // its grunts were threads' work: they died with it
    x.wk_set(row, F.DEADLINE, 0);
    x.wk_set(row, F.USER_DEADLINE, 0);
    x.wk_set(row, F.STATE, RowState.DEAD);
  }

  /** The master cycle: kill threads past their harakiri deadline, sample memory for --memory-report. */
  #check(): void {
    if (this.#stopping) return;
    const now = Date.now();
    const x = this.#core;
    const memReport = this.engine.shared.config.memoryReport;
    const mem = memReport ? runtime().memoryUsage() : undefined;
    for (const slot of this.#workers) {
      const row = this.#row(slot);
      if (row === 0 || !slot.handle || slot.stopping || slot.harakiri) continue;
      if (mem) { x.wk_set(row, F.RSS, mem.rss); x.wk_set(row, F.VSZ, mem.vsz); }
      if (x.wk_get(row, F.TID) !== slot.tid) continue; // the row follows the newest thread during a reload
      const d = x.wk_get(row, F.DEADLINE);
      const u = x.wk_get(row, F.USER_DEADLINE);
      const due = (d > 0 && d < now) || (u > 0 && u < now);
      if (due) void this.#harakiri(slot, row, d > 0 && d < now ? 'harakiri' : 'user harakiri');
    }
  }

  /** Terminate a thread stuck past its deadline; the master respawns it and its locks are recovered. */
  async #harakiri(slot: WorkerSlot, row: number, why: string): Promise<void> {
    slot.harakiri = true;
    const x = this.#core;
    x.wk_add(row, F.HARAKIRIS, 1);
    x.wk_set(row, F.DEADLINE, 0);
    x.wk_set(row, F.USER_DEADLINE, 0);
    this.#log(`uwsgi-wasm: HARAKIRI ON ${slot.kind.toUpperCase()} ${slot.ident} (slot ${slot.tid}, ${why} deadline passed)`);
    // Ask first (bounded waits in the core give up on the stop flag, an idle loop sees the message), then terminate.
    slot.handle?.postMessage({ type: 'uwsgi-wasm:stop' } satisfies ThreadMessage);
    await this.#terminate(slot);
  }

  /**
   * Stop the slot's thread now and wait until the runtime confirms it is gone.
   * A thread that is not confirmed gone in time (Deno cannot stop a worker
   * that never yields) is quarantined: its locks pass on, its slot is never
   * reused while it may run, and the worker is respawned in a fresh slot.
   */
  async #terminate(slot: WorkerSlot, confirmMs = KILL_CONFIRM_MS): Promise<void> {
    const handle = slot.handle;
    const tid = slot.tid;
    if (!handle) return;
    this.engine.requestStop(tid);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const confirmed = await Promise.race([
      handle.terminate().then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), confirmMs); }),
    ]);
    clearTimeout(timer);
    if (confirmed || slot.tid !== tid) return;
    const recovered = this.#core.thread_quarantine(tid);
    this.#quarantined.add(tid);
    this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} did not stop when terminated (${runtime().name} cannot interrupt a thread that never yields); slot ${tid} is quarantined`);
    this.#exited(slot, tid, 1, undefined, recovered < 0 ? 0 : recovered);
  }

  #exited(slot: WorkerSlot, tid: number, code: number, error?: unknown, quarantinedLocks?: number): void {
    if (slot.tid !== tid) return; // already handled
    const recovered = quarantinedLocks ?? this.engine.threadExited(tid);
    this.#erlang?.threadGone(tid);
    slot.serving = false;
    slot.tid = -1;
    slot.handle = undefined;
    this.#rowGone(slot);
    if (slot.harakiri) { code = code || 1; slot.reportedExit = undefined; }
    if (slot.reportedExit !== undefined) { code = slot.reportedExit; error = undefined; slot.reportedExit = undefined; }
    if (recovered > 0) this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} died holding ${recovered} lock(s); they were freed`);
    const failed = code !== 0 || error !== undefined;
    const killed = slot.killed === true;
    slot.killed = false;
    const gaveUp = failed && !killed && this.#importDeath(slot);
    if (slot.kind === 'spooler') {
      // A spooler ends cleanly only when stopped or recycled (spooler-max-tasks): respawn unless stopping.
      const respawn = !this.#stopping && !slot.stopping && !gaveUp;
      spoolerOf(this.engine.uwsgi.ctx).threadGone(slot.ident, respawn);
      if (respawn && !failed) { slot.quickDeaths = 0; this.#spawn(slot); return; }
    }
    if (this.#stopping || slot.stopping || !failed || gaveUp) {
      slot.state = 'done';
      this.#exitWaiters.splice(0).forEach((f) => f());
      this.#servingWaiters.splice(0).forEach((f) => f());
      if (this.#readyWaiters.length && this.#workers.every((w) => w.state !== 'starting')) this.#readyWaiters.splice(0).forEach((r) => r());
      this.#maybeDone();
      return;
    }
    const lived = Date.now() - slot.spawnedAt;
    slot.quickDeaths = lived < QUICK_DEATH_MS && !killed ? slot.quickDeaths + 1 : 0;
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (slot.quickDeaths - 1));
    const why = error instanceof Error ? `: ${error.message}` : '';
    this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} died (code ${code}${why}); respawning${delay ? ` in ${delay} ms` : ''}`);
    slot.state = 'starting';
    setTimeout(() => { if (!this.#stopping && !slot.stopping) this.#spawn(slot); else { slot.state = 'done'; this.#maybeDone(); } }, delay);
  }

  /**
   * Count a death at import: true when the slot's thread failed at import
   * IMPORT_DEATHS_MAX times in a row with the same error, so respawning it
   * again would only fail again (a broken app, or one that throws in a
   * spooler); the master then says why and leaves the slot down.
   */
  #importDeath(slot: WorkerSlot): boolean {
    const why = slot.importError;
    slot.importError = undefined;
    if (why === undefined) { slot.sameImportDeaths = 0; slot.lastImportError = undefined; return false; }
    slot.sameImportDeaths = why === slot.lastImportError ? (slot.sameImportDeaths ?? 0) + 1 : 1;
    slot.lastImportError = why;
    if (slot.sameImportDeaths < IMPORT_DEATHS_MAX) return false;
    this.#gaveUp = true;
    this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} failed at import ${slot.sameImportDeaths} times in a row with the same error (${why}); not respawning it`);
    return true;
  }

  #maybeDone(): void {
    if (!this.#stopping && !this.#finished && this.#workers.every((w) => w.kind !== 'worker' || w.state === 'done')) {
      // The workers are done: mules, which would serve forever, are stopped with them.
      const mules = this.#workers.filter((w) => w.state !== 'done' && !w.stopping);
      if (mules.length > 0) { void this.#stopThreads(mules); return; }
    }
    if (this.#workers.every((w) => w.state === 'done') && !this.#finished) {
      this.#finished = true;
      if (this.#stopping) this.#log('uwsgi-wasm: all workers stopped');
      this.#removeSignals?.();
      if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
      if (this.#checker !== undefined) clearInterval(this.#checker);
      setMasterControl(this.engine, undefined);
      this.engine.stopScheduler();
      for (const l of this.#listeners.splice(0)) l.close();
      this.#servingWaiters.splice(0).forEach((f) => f());
      for (const t of this.#storeTimers) clearInterval(t);
      this.engine.shared.config.caches.forEach((c, i) => { if (c.store !== null) this.#writeStore(i); });
      if (this.#spoolerWatch !== undefined) clearInterval(this.#spoolerWatch);
      // Every spooler thread is gone: tasks one of them held go back to their directory.
      if (this.engine.shared.config.spooler.dirs.length > 0) spoolerOf(this.engine.uwsgi.ctx).recoverAll();
      const code = this.#gaveUp ? 1 : 0;
      void this.#erlang?.close();
      this.#resolveDone(code);
      void this.cluster?.stop(true);
      void this.services.close().finally(() => this.#resolveDone(code));
    }
  }

  /** Write cache `index`'s store; a failure is logged (the master goes on, as uWSGI's msync would). */
  #writeStore(index: number): void {
    try {
      writeCacheStore(this.engine.uwsgi.ctx, index);
    } catch (e) {
      this.#log(`uwsgi-wasm: ${(e as Error).message}`);
    }
  }

  /**
   * Kill worker `ident` as if it crashed (its thread is terminated at once); the
   * master respawns it. Tests use it to show lock recovery.
   */
  killWorker(ident: number, opts?: KillOptions): Promise<void> { return this.#kill('worker', ident, 'killWorker', opts); }

  /** Start mule `ident`, claimed by `mule_spawn()`; from then on it is respawned like a configured one. */
  #spawnMule(ident: number, file: string | null): void {
    if (this.#stopping || this.#finished || this.#workers.some((w) => w.kind === 'mule' && w.ident === ident)) return;
    const slot: WorkerSlot = { kind: 'mule', ident, file: file ?? undefined, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' };
    this.#workers.push(slot);
    this.#log(`uwsgi-wasm: spawned mule ${ident}${file ? ` (${file})` : ''}`);
    this.#spawn(slot);
  }

  /** Kill mule `ident` as if it crashed; the master respawns it. */
  killMule(ident: number, opts?: KillOptions): Promise<void> { return this.#kill('mule', ident, 'killMule', opts); }

  /** Kill spooler thread `ident` (1-based) as if it crashed, even mid-task; the master respawns it and its task runs again. */
  killSpooler(ident: number, opts?: KillOptions): Promise<void> { return this.#kill('spooler', ident, 'killSpooler', opts); }

  async #kill(kind: WorkerSlot['kind'], ident: number, fn: string, opts?: KillOptions): Promise<void> {
    const slot = this.#workers.find((w) => w.kind === kind && w.ident === ident && w.handle && !w.stopping);
    if (!slot?.handle) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no running ${kind} ${ident}`);
    const confirmMs = opts?.confirmMs ?? KILL_CONFIRM_MS;
    if (!Number.isFinite(confirmMs) || confirmMs < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: confirmMs must be a number of milliseconds >= 0, got ${confirmMs}`);
    slot.killed = true;
    await this.#terminate(slot, confirmMs);
  }

  /** Ask `slots`' threads to stop, then terminate those still running after a grace period. */
  async #stopThreads(slots: WorkerSlot[]): Promise<void> {
    for (const w of slots) {
      w.stopping = true;
      if (!w.handle) continue;
      w.handle.postMessage({ type: 'uwsgi-wasm:stop' } satisfies ThreadMessage);
      this.engine.requestStop(w.tid);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((r) => { timer = setTimeout(r, STOP_GRACE_MS); });
    const gone = new Promise<void>((r) => {
      const check = () => (slots.every((w) => w.state === 'done') ? r() : this.#exitWaiters.push(check));
      check();
    });
    await Promise.race([gone, grace]);
    clearTimeout(timer);
    await Promise.all(slots.filter((w) => w.handle).map((w) => this.#terminate(w)));
    for (const w of slots) w.state = 'done';
    this.#maybeDone();
  }

  /**
   * Graceful reload (`uwsgi.reload()`): start a new generation of workers, wait
   * until each has imported the app, then stop the old ones (asked nicely,
   * terminated after a grace period). Some worker runs at every moment.
   * The new workers see `is_a_reload` true. Mules keep running.
   */
  reload(): Promise<void> {
    if (this.#stopping || this.#finished) return Promise.resolve();
    return (this.#reloading ??= this.#reload().finally(() => { this.#reloading = undefined; }));
  }

  async #reload(): Promise<void> {
    const x = this.#core;
    x.wk_header_set(WK_HEADER_RELOADS, x.wk_header_get(WK_HEADER_RELOADS) + 1);
    x.wk_header_set(WK_HEADER_READY, 0);
    const old = this.#workers.filter((w) => w.kind === 'worker' && w.state !== 'done' && !w.stopping);
    this.#log(`uwsgi-wasm: graceful reload: starting ${old.length} new worker(s)`);
    const fresh: WorkerSlot[] = old.map((w) => ({ kind: 'worker', ident: w.ident, file: this.#app, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' }));
    this.#workers.push(...fresh);
    for (const s of fresh) this.#spawn(s);
    // Waits until every new worker has its app loaded (or died trying and is being respawned).
    await new Promise<void>((r) => {
      const check = () => (this.#stopping || fresh.every((w) => w.loaded || w.state === 'done') ? r() : this.#exitWaiters.push(check));
      check();
    });
    if (this.#stopping) return;
    this.#log('uwsgi-wasm: graceful reload: new workers are up, stopping the old ones');
    await this.#stopThreads(old);
    for (const w of old) {
      const i = this.#workers.indexOf(w);
      if (i >= 0) this.#workers.splice(i, 1);
    }
    x.wk_header_set(WK_HEADER_READY, 1);
  }

  /** Stop every worker and mule: ask nicely, then terminate those still running after a grace period. */
  async stop(): Promise<void> {
    if (this.#stopping) return void (await this.done);
    this.#stopping = true;
    const wasFinished = this.#finished;
    // Leave the cluster and unsubscribe from routers first, so no new request comes while the workers stop (as uWSGI).
    await this.cluster?.stop(true);
    await this.#stopThreads(this.#workers);
    await this.done;
    // Workers that were done long ago already had the stores written; the main thread may have changed them since.
    if (wasFinished) this.engine.shared.config.caches.forEach((c, i) => { if (c.store !== null) this.#writeStore(i); });
  }
}

/**
 * Start a master: lay out the shared memory from the options and start the
 * workers, each importing `app`. The main thread's default `uwsgi` object is
 * pointed at the master's engine (worker_id 0).
 */
export async function run(opts: MasterOptions = {}): Promise<Master> {
  let pairs: Array<[string, string | true]>;
  let app = opts.app;
  if (Array.isArray(opts.options)) {
    const parsed = parseArgv(opts.options as readonly string[]);
    pairs = parsed.pairs;
    app ??= parsed.app;
  } else {
    pairs = pairsFromObject((opts.options ?? {}) as Options);
  }
  const rt = runtime();
  const appPath = app === undefined ? undefined : new URL(rt.fileUrl(app)).pathname;
  const config = configFromPairs(pairs, appPath);
  const engine = new Engine(config, { hasMaster: true });
  publishMainEngine(engine.uwsgi.ctx);
  const master = new Master(engine, appPath, opts);
  // Listeners are bound before any worker starts, so a bad address fails here.
  const lc = config.listen;
  const prepared: PreparedListener[] = [];
  try {
    // Side by side: on Node each listener starts a descriptor helper process, seconds each on a loaded machine.
    const settled = await Promise.allSettled(lc.listeners.map((spec) => runtime().prepareListener({ ...spec, fetchServer: spec.protocol === 'http' && lc.httpNative }, config.workers, lc.backlog)));
    for (const r of settled) if (r.status === 'fulfilled') prepared.push(r.value);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (e) {
    for (const p of prepared) p.close();
    await master.stop();
    throw e;
  }
  master.setListeners(prepared);
  try {
    await master.services.start();
    await master.startCluster();
    await master.startErlang();
  } catch (e) {
    await master.stop();
    throw e;
  }
  master.start();
  return master;
}
