/**
 * uWSGI signals (numbers 0..255, unrelated to POSIX signals) between the
 * threads of an engine. The signal table, the master's routing inbox and one
 * mailbox per thread live in shared memory (assembly/signals/signals.ts). A sender adds
 * the signal to the receiver's mailbox and rings its bell; the receiver waits
 * on the bell with Atomics.waitAsync, so its event loop stays free, and runs
 * its handler. Targets naming "the first available" thread of a group
 * (`worker`, `mule`, a farm, the spooler) go through the master, which picks
 * one (ts/signals/scheduler.ts).
 *
 * A handler is a JS function, so it runs in the thread that registered it. As
 * uWSGI's forked workers inherit what the master registered, views of one
 * engine in the same JS thread (createEngine, engine.attach) run a handler the
 * master view registered; worker threads register their own (each worker
 * imports the app, so its top-level register_signal runs in every worker).
 * @module
 */
import { UwsgiError, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, engineService, threadService } from '../kernel/context.ts';
import {
  SIGNAL_COUNT, SIGNAL_PAIR_BYTES, SIG_MB_BELL, SIG_MB_BUSY, SIG_MB_HANDLED, SIG_MB_LISTENING, SIG_MB_WAITING,
  SignalTarget as Target, ThreadKind, ThreadState,
} from '../kernel/abi.ts';
import { waitForChange } from '../kernel/atomics.ts';
import { markSignalHandler, noteSignal } from '../process/process.ts';

/** A signal handler: called with the signal number; a promise it returns is awaited before the next signal. */
export type SignalHandler = (signum: number) => unknown;

/** Every target string `register_signal` accepts. */
export const SIGNAL_TARGETS = "'' (= worker), worker, worker0, workers, workerN, active-workers, mule, mule0, mules, muleN, farm_NAME, farmN, spooler";

// Mailbox words, as i32 indexes from the mailbox start.
const MB_BELL = SIG_MB_BELL >> 2, MB_HANDLED = SIG_MB_HANDLED >> 2, MB_BUSY = SIG_MB_BUSY >> 2;
const MB_WAITING = SIG_MB_WAITING >> 2, MB_LISTENING = SIG_MB_LISTENING >> 2;
/** Largest signal number. */
const SIGNAL_MAX = SIGNAL_COUNT - 1;
/** Longest single wait of a listening thread, so it looks again (and notices its end) now and then (ms). */
const LISTEN_SLICE_MS = 1000;

const utf8 = new TextDecoder();

/** A signal number: an integer 0..255 (uWSGI wraps other values silently; we refuse them). */
export function signalNumber(fn: string, v: unknown, name = 'signum'): number {
  const n = intArg(fn, name, v);
  if (n < 0 || n > SIGNAL_MAX) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be 0..${SIGNAL_MAX}, got ${n} (uWSGI would silently use ${((n % SIGNAL_COUNT) + SIGNAL_COUNT) % SIGNAL_COUNT})`);
  return n;
}

/** Parse a `register_signal` target against the engine's configuration. */
export function parseTarget(fn: string, who: unknown, ctx: ThreadContext): { kind: number; arg: number } {
  if (typeof who !== 'string' && !(who instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: who must be a string, got ${typeName(who)}`);
  const s = typeof who === 'string' ? who : utf8.decode(who);
  const cfg = ctx.shared.config;
  const id = (prefix: string, count: number, what: string): number | undefined => {
    const m = new RegExp(`^${prefix}([0-9]+)$`).exec(s);
    if (!m) return undefined;
    const n = Number(m[1]);
    if (n === 0) return 0;
    if (n > count) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: signal target '${s}' names ${what} ${n}, but ${count === 0 ? `no ${what} is configured` : `${what}s are 1..${count}`}`);
    return n;
  };
  if (s === '' || s === 'worker') return { kind: Target.WORKER_ANY, arg: 0 };
  if (s === 'workers') return { kind: Target.WORKERS, arg: 0 };
  if (s === 'active-workers') return { kind: Target.ACTIVE_WORKERS, arg: 0 };
  if (s === 'mules') return { kind: Target.MULES, arg: 0 };
  if (s === 'mule') return { kind: Target.MULE_ANY, arg: 0 };
  if (s === 'spooler') return { kind: Target.SPOOLER, arg: 0 };
  if (s === 'cluster' || s === 'subscribed') {
    throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: signal target '${s}' is not supported (uWSGI documents it as not implemented; uwsgi-wasm has no clustering)`);
  }
  const w = id('worker', cfg.workers, 'worker');
  if (w !== undefined) return w === 0 ? { kind: Target.WORKER_ANY, arg: 0 } : { kind: Target.WORKER_N, arg: w };
  const m = id('mule', cfg.mules.length, 'mule');
  if (m !== undefined) return m === 0 ? { kind: Target.MULE_ANY, arg: 0 } : { kind: Target.MULE_N, arg: m };
  if (s.startsWith('farm_')) {
    const i = cfg.farms.findIndex((f) => f.name === s.slice(5));
    if (i < 0) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: signal target '${s}': no farm named '${s.slice(5)}'`);
    return { kind: Target.FARM, arg: i };
  }
  const f = id('farm', cfg.farms.length, 'farm');
  if (f !== undefined && f > 0) return { kind: Target.FARM, arg: f - 1 };
  throw new UwsgiError('ERR_NOT_FOUND', `${fn}: unknown signal target '${s}' (targets: ${SIGNAL_TARGETS})`);
}

/** What the threads of one engine in this JS thread share: their signal sides and the master's scheduler. */
interface Realm {
  threads: Map<number, SignalThread>;
  scheduler?: RealmScheduler;
}

/** The part of the master's scheduler (ts/signals/scheduler.ts) the signal side uses. */
export interface RealmScheduler {
  readonly tid: number;
  /** Start the master loop if it is not running (a standalone engine starts it on first use). */
  ensureStarted(): void;
  /** Run a routing pass soon (a microtask), for senders in the same JS thread. */
  kick(): void;
  /** Route one signal now, from the master. */
  route(num: number): void;
}

const realm = engineService<Realm>(() => ({ threads: new Map() }));

/** @internal The engine's views and scheduler in this JS thread. */
export function realmOf(memory: WebAssembly.Memory): Realm { return realm({ memory }); }


/** The signal side of a thread: its handlers, its mailbox listener, signal_wait. */
export class SignalThread {
  readonly ctx: ThreadContext;
  readonly i32: Int32Array;
  /** Index (in i32 words) of this thread's mailbox. */
  readonly mb: number;
  readonly handlers = new Map<number, SignalHandler>();
  /** Where this thread reports signals it cannot handle and handlers that throw (default: stderr). */
  log: (line: string) => void = (l) => console.error(l);
  /** signal_received(): the last signal a signal_wait got; -1 while waiting; 0 before any. */
  received = 0;
  #listening = false;
  #draining = false;
  #again = false;
  #kicked = false;
  #waiters: Array<{ num: number | undefined; resolve: (v: Uint8Array) => void }> = [];

  constructor(ctx: ThreadContext) {
    this.ctx = ctx;
    this.i32 = new Int32Array(ctx.memory.buffer);
    this.mb = ctx.x.sig_mailbox(ctx.tid) >> 2;
    const realm = realmOf(ctx.memory);
    realm.threads.set(ctx.tid, this);
    // A view created after its master view registered handlers inherits them (as a forked worker
    // inherits the master's): it must listen, or a signal routed to it waits in its mailbox unseen.
    if (ctx.kind !== 'master' && [...realm.threads.values()].some((t) => t.ctx.kind === 'master' && t.handlers.size > 0)) this.listen();
  }

  get realm(): Realm { return realmOf(this.ctx.memory); }

  /** Who this thread is, as uWSGI names it in its log lines. */
  get label(): string {
    const { kind, ident } = this.ctx;
    return kind === 'worker' || kind === 'mule' ? `${kind} ${ident}` : kind;
  }

  register(num: number, who: unknown, handler: unknown): void {
    const fn = 'register_signal';
    const { kind, arg } = parseTarget(fn, who, this.ctx);
    if (typeof handler !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: handler must be a function, got ${typeName(handler)}`);
    const rc = this.ctx.x.sig_register(num, kind, arg, ThreadKind[this.ctx.kind]);
    if (rc < 0) throw statusError(rc, `${fn}(${num})`);
    this.handlers.set(num, handler as SignalHandler);
    this.listen();
    // The other views of this engine in this JS thread run what the master view registered (see handlerFor).
    if (this.ctx.kind === 'master') for (const t of this.realm.threads.values()) if (t.ctx.kind !== 'master') t.listen();
    this.realm.scheduler?.ensureStarted();
  }

  /** The handler this thread runs for `num`: its own, or the master view's in this JS thread. */
  handlerFor(num: number): SignalHandler | undefined {
    const own = this.handlers.get(num);
    if (own) return own;
    if (this.ctx.x.sig_master_owned(num) !== 1) return undefined;
    for (const t of this.realm.threads.values()) if (t.ctx.kind === 'master' && t.handlers.has(num)) return t.handlers.get(num);
    return undefined;
  }

  registered(num: number): true | null {
    return this.ctx.x.sig_has_handler(this.ctx.tid, num) === 1 || this.handlerFor(num) !== undefined ? true : null;
  }

  /** Raise `num` from this thread. */
  raise(num: number): void {
    const realm = this.realm;
    realm.scheduler?.ensureStarted();
    const kind = this.ctx.x.sig_target_kind(num);
    const viaMaster = kind === Target.NONE || kind === Target.WORKER_ANY || kind === Target.MULE_ANY || kind === Target.FARM || kind === Target.SPOOLER;
    if (viaMaster) {
      if (realm.scheduler?.tid === this.ctx.tid) { realm.scheduler.route(num); return; }
      const rc = this.ctx.x.sig_route_push(num);
      if (rc < 0) throw statusError(rc, `signal(${num})`);
      realm.scheduler?.kick();
      return;
    }
    deliverDirect(this.ctx, num, kind, this.ctx.x.sig_target_arg(num), this.log);
  }

  /** Start waiting on this thread's mailbox (once). */
  listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    // Tells the master this thread runs handlers ("first available" prefers it).
    Atomics.store(this.i32, this.mb + MB_LISTENING, 1);
    void listenLoop(new WeakRef(this), this.i32, this.mb + MB_BELL);
  }

  /** Drain soon, in a microtask: a sender in this JS thread needs no wake-up through the event loop. */
  kick(): void {
    if (this.#kicked || !this.#listening) return;
    this.#kicked = true;
    queueMicrotask(() => { this.#kicked = false; void this.drain(); });
  }

  /** Run the handlers of every signal waiting in this thread's mailbox. */
  async drain(): Promise<void> {
    if (this.#draining) { this.#again = true; return; }
    this.#draining = true;
    try {
      const { x, scratch, dv } = this.ctx;
      for (;;) {
        this.#again = false;
        const k = x.sig_drain(scratch);
        if (k <= 0) { if (this.#again) continue; break; }
        const batch: number[] = [];
        for (let i = 0; i < k; i++) batch.push(dv.getInt32(scratch + i * SIGNAL_PAIR_BYTES, true), dv.getInt32(scratch + i * SIGNAL_PAIR_BYTES + 4, true));
        for (let i = 0; i < batch.length; i += 2) {
          for (let n = 0; n < batch[i + 1]; n++) await this.#handle(batch[i]);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #handle(num: number): Promise<void> {
    const fn = this.handlerFor(num);
    if (!fn) {
      // As uWSGI: signal_wait takes a signal without a handler quietly; otherwise it is an error.
      if (!this.#waiters.some((w) => w.num === undefined || w.num === num)) this.log(`error managing signal ${num} on ${this.label}`);
    } else {
      // uWSGI counts a signal as handled when its handler starts.
      Atomics.add(this.i32, this.mb + MB_HANDLED, 1);
      Atomics.store(this.i32, this.mb + MB_BUSY, 1);
      // The status table's `signals` column and `sig<N>` status (workers(), stats).
      noteSignal(this.ctx);
      markSignalHandler(this.ctx, num);
      try {
        const r = fn(num);
        if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') await r;
      } catch (e) {
        this.log(`signal ${num} handler failed on ${this.label}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      } finally {
        markSignalHandler(this.ctx, null);
        Atomics.store(this.i32, this.mb + MB_BUSY, 0);
      }
    }
    if (this.#waiters.length === 0) return;
    const done = this.#waiters.filter((w) => w.num === undefined || w.num === num);
    if (done.length === 0) return;
    this.received = num;
    this.#waiters = this.#waiters.filter((w) => !done.includes(w));
    if (this.#waiters.length === 0) Atomics.store(this.i32, this.mb + MB_WAITING, 0);
    for (const w of done) w.resolve(new Uint8Array(0));
  }

  wait(num: number | undefined): Promise<Uint8Array> {
    this.received = -1;
    const p = new Promise<Uint8Array>((resolve) => this.#waiters.push({ num, resolve }));
    // Tells the master this thread waits for a signal ("first available" prefers it).
    Atomics.store(this.i32, this.mb + MB_WAITING, 1);
    this.listen();
    this.realm.scheduler?.ensureStarted();
    return p;
  }
}

/** Wait on a thread's bell and drain; holds the thread only weakly between waits, so a dropped view ends its loop. */
async function listenLoop(ref: WeakRef<SignalThread>, i32: Int32Array, bell: number): Promise<void> {
  for (;;) {
    let t = ref.deref();
    if (!t || t.ctx.x.thread_state(t.ctx.tid) !== ThreadState.ALIVE) return;
    // Read the bell before draining: a ring during the drain makes the wait return at once.
    const seen = Atomics.load(i32, bell);
    try { await t.drain(); } catch (e) { t.log(`signal drain failed: ${String(e)}`); }
    t = undefined;
    await waitForChange(i32, bell, seen, LISTEN_SLICE_MS);
  }
}

/** The calling thread's signal side. */
export const signalsOf = threadService<SignalThread>((ctx) => new SignalThread(ctx));

/** Kick the listener of thread `tid` if it lives in this JS thread. */
function kickLocal(ctx: ThreadContext, tid: number): void { realmOf(ctx.memory).threads.get(tid)?.kick(); }
function kickAllLocal(ctx: ThreadContext): void { for (const t of realmOf(ctx.memory).threads.values()) t.kick(); }

/**
 * Deliver `num` to a target that names its receivers (every worker, worker N,
 * every mule, mule N). In an engine without a master and without worker
 * threads (the standalone engine), the engine's own thread stands in for the
 * workers. Returns how many threads got it.
 */
export function deliverDirect(ctx: ThreadContext, num: number, kind: number, arg: number, log: (l: string) => void): number {
  const x = ctx.x;
  let sent = 0;
  switch (kind) {
    case Target.WORKERS:
    case Target.ACTIVE_WORKERS:
      sent = x.sig_deliver_kind(num, ThreadKind.worker, -1);
      if (sent === 0 && !ctx.shared.hasMaster) sent = deliverToStandalone(ctx, num);
      if (sent === 0) log(`could not deliver signal ${num} to the workers: none is running`);
      break;
    case Target.WORKER_N:
      sent = x.sig_deliver_kind(num, ThreadKind.worker, arg);
      if (sent === 0) log(`could not deliver signal ${num} to worker ${arg}: it is not running`);
      break;
    case Target.MULES:
      sent = x.sig_deliver_kind(num, ThreadKind.mule, -1);
      if (sent === 0) log(`could not deliver signal ${num} to the mules: none is running`);
      break;
    case Target.MULE_N:
      sent = x.sig_deliver_kind(num, ThreadKind.mule, arg);
      if (sent === 0) log(`could not deliver signal ${num} to mule ${arg}: it is not running`);
      break;
    default:
      throw new UwsgiError('ERR_INTERNAL', `signal ${num}: target kind ${kind} has no direct receivers`);
  }
  if (sent > 0) kickAllLocal(ctx);
  return sent;
}

/** The standalone engine's own thread (kind master) receives what workers would. */
export function deliverToStandalone(ctx: ThreadContext, num: number): number {
  const tid = ctx.x.sig_tid_of(ThreadKind.master, 0);
  if (tid < 0) return 0;
  ctx.x.sig_deliver(tid, num);
  kickLocal(ctx, tid);
  return 1;
}

/** Deliver `num` to thread `tid` and wake it (the master's routing). */
export function deliverTo(ctx: ThreadContext, tid: number, num: number): void {
  ctx.x.sig_deliver(tid, num);
  kickLocal(ctx, tid);
}

/**
 * Signals handled by thread `tid` (a handler started), as uWSGI's per-worker
 * `signals` counter: `workers()` reads it. 0 for a free slot.
 */
export function signalsHandled(ctx: ThreadContext, tid: number): number {
  return ctx.x.sig_handled(tid);
}

/**
 * Raise signal `num` in an engine as if one of its threads called
 * `signal(num)`: the uwsgi protocol server calls it for a packet with
 * modifier1 110 (modifier2 is the signal). `on` is the engine, or the module
 * object of the thread the server runs in. Returns true once the signal is
 * handed to routing (uWSGI answers modifier2 = 1 then); ERR_VALUE_RANGE for a
 * number outside 0..255.
 */
export function raiseSignal(on: { uwsgi: { ctx: ThreadContext } } | { ctx: ThreadContext }, num: number): boolean {
  const ctx = 'ctx' in on ? on.ctx : on.uwsgi.ctx;
  signalsOf(ctx).raise(signalNumber('raiseSignal', num));
  return true;
}

/**
 * The registered signals, for the stats server's `signals` section: each with
 * its target as `register_signal` spells it.
 */
export function signalTable(ctx: ThreadContext): Array<{ signum: number; target: string }> {
  const cfg = ctx.shared.config;
  const out: Array<{ signum: number; target: string }> = [];
  for (let num = 0; num < SIGNAL_COUNT; num++) {
    const kind = ctx.x.sig_target_kind(num);
    if (kind === Target.NONE) continue;
    const arg = ctx.x.sig_target_arg(num);
    const target =
      kind === Target.WORKER_ANY ? 'worker' : kind === Target.WORKERS ? 'workers' : kind === Target.WORKER_N ? `worker${arg}`
      : kind === Target.ACTIVE_WORKERS ? 'active-workers' : kind === Target.MULE_ANY ? 'mule' : kind === Target.MULES ? 'mules'
      : kind === Target.MULE_N ? `mule${arg}` : kind === Target.FARM ? `farm_${cfg.farms[arg]?.name ?? arg}` : kind === Target.SPOOLER ? 'spooler' : `kind ${kind}`;
    out.push({ signum: num, target });
  }
  return out;
}
