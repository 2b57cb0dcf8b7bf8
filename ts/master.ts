/**
 * The master: lays out the shared memory, starts the workers and mules
 * (threads of this process), respawns one that dies, and stops everything on
 * SIGINT/SIGTERM.
 * @module
 */
import { UwsgiError } from './errors.ts';
import { Engine } from './engine.ts';
import { type Options, configFromPairs, pairsFromObject, parseArgv } from './options.ts';
import { runtime, type ThreadHandle } from './runtime.ts';
import type { ThreadMessage } from './thread.ts';
import type { Uwsgi } from './uwsgi.ts';
import { MasterServices } from './services.ts';
import type { ThreadRow } from './stats.ts';

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
  kind: 'worker' | 'mule';
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
  /** Threads started for this id so far (stats: respawn_count). */
  spawns?: number;
}

const QUICK_DEATH_MS = 1000;
const MAX_BACKOFF_MS = 5000;
const STOP_GRACE_MS = 2000;
const EXIT_GRACE_MS = 2000;

/** A running master, its workers and its mules. */
export class Master {
  readonly engine: Engine;
  /**
   * Resolves with an exit code once every worker is done (mules still running are
   * then stopped) or the master was stopped.
   */
  readonly done: Promise<number>;
  readonly #workers: WorkerSlot[] = [];
  readonly #app?: string;
  readonly #log: (line: string) => void;
  #stopping = false;
  #finished = false;
  #resolveDone!: (code: number) => void;
  #removeSignals?: () => void;
  #readyWaiters: Array<() => void> = [];
  #exitWaiters: Array<() => void> = [];
  #sweeper?: ReturnType<typeof setInterval>;
  /** The stats server and SNMP agent (`--stats`, `--snmp`), started by `run()`. */
  readonly services: MasterServices;

  /** @internal Use `run()`. */
  constructor(engine: Engine, app: string | undefined, opts: MasterOptions) {
    this.engine = engine;
    this.#app = app;
    this.#log = opts.log ?? ((l) => console.error(l));
    this.done = new Promise((r) => { this.#resolveDone = r; });
    this.services = new MasterServices(engine, () => this.threadRows());
    if (opts.handleSignals ?? true) {
      this.#removeSignals = runtime().onTerminationSignal((sig) => {
        this.#log(`uwsgi-wasm: ${sig} received, stopping workers`);
        void this.stop();
      });
    }
  }

  /** The master thread's module object (worker_id 0). */
  get uwsgi(): Uwsgi { return this.engine.uwsgi; }

  /** @internal */
  start(): void {
    const cfg = this.engine.shared.config;
    // The cache sweeper: uWSGI's thread that deletes expired items every cache-expire-freq seconds.
    const swept = cfg.caches.some((c) => !c.lazyExpire && !c.purgeLru && !c.noExpire);
    if (swept && !cfg.cacheNoExpire) {
      this.#sweeper = setInterval(() => { this.engine.sweepCaches(); }, cfg.cacheExpireFreq * 1000);
      (this.#sweeper as { unref?: () => void }).unref?.();
    }
    const slots: WorkerSlot[] = [];
    for (let i = 1; i <= cfg.workers; i++) slots.push({ kind: 'worker', ident: i, file: this.#app, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' });
    cfg.mules.forEach((file, i) => slots.push({ kind: 'mule', ident: i + 1, file: file ?? undefined, tid: -1, spawnedAt: 0, quickDeaths: 0, state: 'starting' }));
    this.#workers.push(...slots);
    for (const slot of slots) this.#spawn(slot);
  }

  /** Resolves once every worker and mule has attached to the memory (and started importing its file). */
  ready(): Promise<void> {
    if (this.#workers.every((w) => w.state !== 'starting')) return Promise.resolve();
    return new Promise((r) => this.#readyWaiters.push(r));
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
    slot.tid = this.engine.reserveThread(slot.kind, slot.ident);
    slot.spawns = (slot.spawns ?? 0) + 1;
    slot.reportedExit = undefined;
    slot.spawnedAt = Date.now();
    slot.state = 'starting';
    const tid = slot.tid;
    const init = this.engine.threadInit(tid, { kind: slot.kind, ident: slot.ident, app: slot.file });
    slot.handle = runtime().spawnThread(new URL('./worker.js', import.meta.url), init, {
      onMessage: (m) => {
        const msg = m as ThreadMessage;
        if (msg?.type === 'uwsgi-wasm:ready') {
          slot.state = 'running';
          if (this.#workers.every((w) => w.state !== 'starting')) this.#readyWaiters.splice(0).forEach((r) => r());
        } else if (msg?.type === 'uwsgi-wasm:exit') {
          // The app's main function finished: the thread ends by itself once idle;
          // one that still runs after a grace period is terminated.
          slot.reportedExit = msg.code;
          const handle = slot.handle;
          setTimeout(() => { if (slot.handle === handle) void handle?.terminate(); }, EXIT_GRACE_MS);
        }
      },
      onExit: (code, error) => this.#exited(slot, tid, code, error),
    });
  }

  #exited(slot: WorkerSlot, tid: number, code: number, error?: unknown): void {
    if (slot.tid !== tid) return; // already handled
    const recovered = this.engine.threadExited(tid);
    slot.tid = -1;
    slot.handle = undefined;
    if (slot.reportedExit !== undefined) { code = slot.reportedExit; error = undefined; slot.reportedExit = undefined; }
    if (recovered > 0) this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} died holding ${recovered} lock(s); they were freed`);
    const failed = code !== 0 || error !== undefined;
    if (this.#stopping || slot.stopping || !failed) {
      slot.state = 'done';
      this.#exitWaiters.splice(0).forEach((f) => f());
      if (this.#readyWaiters.length && this.#workers.every((w) => w.state !== 'starting')) this.#readyWaiters.splice(0).forEach((r) => r());
      this.#maybeDone();
      return;
    }
    const lived = Date.now() - slot.spawnedAt;
    slot.quickDeaths = lived < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    const delay = slot.quickDeaths === 0 ? 0 : Math.min(MAX_BACKOFF_MS, 100 * 2 ** (slot.quickDeaths - 1));
    const why = error instanceof Error ? `: ${error.message}` : '';
    this.#log(`uwsgi-wasm: ${slot.kind} ${slot.ident} died (code ${code}${why}); respawning${delay ? ` in ${delay} ms` : ''}`);
    slot.state = 'starting';
    setTimeout(() => { if (!this.#stopping && !slot.stopping) this.#spawn(slot); else { slot.state = 'done'; this.#maybeDone(); } }, delay);
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
      void this.services.close().finally(() => this.#resolveDone(0));
    }
  }

  /**
   * Kill worker `ident` as if it crashed (its thread is terminated at once); the
   * master respawns it. Tests use it to show lock recovery.
   */
  killWorker(ident: number): Promise<void> { return this.#kill('worker', ident, 'killWorker'); }

  /** Kill mule `ident` as if it crashed; the master respawns it. */
  killMule(ident: number): Promise<void> { return this.#kill('mule', ident, 'killMule'); }

  async #kill(kind: WorkerSlot['kind'], ident: number, fn: string): Promise<void> {
    const slot = this.#workers.find((w) => w.kind === kind && w.ident === ident);
    if (!slot?.handle) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no running ${kind} ${ident}`);
    this.engine.requestStop(slot.tid);
    await slot.handle.terminate();
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
    await Promise.all(slots.filter((w) => w.handle).map((w) => w.handle!.terminate()));
    for (const w of slots) w.state = 'done';
    this.#maybeDone();
  }

  /** Stop every worker and mule: ask nicely, then terminate those still running after a grace period. */
  async stop(): Promise<void> {
    if (this.#stopping) return void (await this.done);
    this.#stopping = true;
    await this.#stopThreads(this.#workers);
    await this.done;
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
  const { default: uwsgi } = await import('./index.ts');
  uwsgi.rebind(engine.uwsgi.ctx);
  const master = new Master(engine, appPath, opts);
  try {
    await master.services.start();
  } catch (e) {
    await master.stop();
    throw e;
  }
  master.start();
  return master;
}
