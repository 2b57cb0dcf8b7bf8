/**
 * The master's scheduler: it routes signals whose target is "the first
 * available" thread of a group, fires timers (the core's deadline heap), runs
 * the signal cron once per matching minute and watches files, all from one
 * loop that waits on the master's bell with Atomics.waitAsync until the next
 * deadline. A master (`uwsgi.run`, the CLI) starts it; an engine without a
 * master (`createEngine`, the standalone default) runs it in the thread that
 * created the engine, from the first signal or timer call on. The loop does
 * not keep a process alive by itself.
 * @module
 */
import type { ThreadContext } from '../kernel/context.ts';
import { SIGNAL_PAIR_BYTES, SIG_COUNT_LOST, SIG_COUNT_RAISED, SignalTarget as Target, ThreadKind } from '../kernel/abi.ts';
import { waitForChange } from '../kernel/atomics.ts';
import { deliverDirect, deliverTo, deliverToStandalone, realmOf, type RealmScheduler } from './signals.ts';
import { runtime } from '../platform/index.ts';

/** Longest wait of the master loop between two looks (ms). */
const MASTER_SLICE_MS = 1000;
/** Most timer or cron signals one pass fires (the rest fire on the next pass). */
const FIRE_ROOM = 256;

const utf8 = new TextDecoder();

export class Scheduler implements RealmScheduler {
  readonly ctx: ThreadContext;
  readonly #clock: () => number;
  readonly #i32: Int32Array;
  readonly #bell: number;
  readonly #watches = new Map<number, () => void>();
  #started = false;
  #stopped = false;
  #kicked = false;
  #farmCursor = 0;
  /** Where the master reports undeliverable signals and failed watches (default: stderr). */
  log: (line: string) => void = (l) => console.error(l);

  /** `ctx` is the master's (or the standalone engine's) thread; `clock` gives ms since the epoch. */
  constructor(ctx: ThreadContext, clock: () => number) {
    this.ctx = ctx;
    this.#clock = clock;
    this.#i32 = new Int32Array(ctx.memory.buffer);
    this.#bell = ctx.x.sig_route_bell() >> 2;
    ctx.x.sig_set_master(ctx.tid);
    realmOf(ctx.memory).scheduler = this;
  }

  get tid(): number { return this.ctx.tid; }
  get stopped(): boolean { return this.#stopped; }

  /** Start the loop (once). */
  ensureStarted(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    void schedulerLoop(new WeakRef(this), this.#i32, this.#bell);
  }

  /** Stop the loop and every file watch. */
  stop(): void {
    this.#stopped = true;
    for (const close of this.#watches.values()) close();
    this.#watches.clear();
    Atomics.add(this.#i32, this.#bell, 1);
    Atomics.notify(this.#i32, this.#bell);
  }

  kick(): void {
    if (this.#kicked || this.#stopped) return;
    this.#kicked = true;
    queueMicrotask(() => { this.#kicked = false; this.pass(); });
  }

  /**
   * One pass of the master loop at `now` (ms, default the engine's clock):
   * route queued signals, fire due timers and cron entries, set up new file
   * watches. Returns the ms until the next deadline (Infinity when none).
   */
  pass(now: number = this.#clock()): number {
    this.tick(now);
    const next = this.ctx.x.timers_next();
    let wake = next >= 0 ? Math.max(0, next - now) : Infinity;
    // uWSGI looks at its cron table every second; an entry can start matching at a minute boundary.
    if (this.ctx.x.cron_count() > 0) wake = Math.min(wake, 60_000 - (now % 60_000) + 1, 1000);
    return wake;
  }

  /** A pass without the wait computation: returns how many signals timers and cron fired (`engine.tick`). */
  tick(now: number): number {
    const { x, scratch, dv } = this.ctx;
    this.#routeQueued();
    // Copy the due signals out of the scratch before routing: routing may use it.
    const sigs: number[] = [];
    const k = x.timers_due(now, scratch, FIRE_ROOM);
    for (let i = 0; i < k; i++) sigs.push(dv.getInt32(scratch + i * 4, true));
    if (x.cron_count() > 0) {
      const t = new Date(now);
      const c = x.cron_due(Math.floor(now / 1000), t.getMinutes(), t.getHours(), t.getDate(), t.getMonth() + 1, t.getDay(), scratch, FIRE_ROOM);
      for (let i = 0; i < c; i++) sigs.push(dv.getInt32(scratch + i * 4, true));
    }
    for (const s of sigs) this.#fire(s);
    this.#adoptMonitors();
    return sigs.length;
  }

  #routeQueued(): void {
    const { x, scratch, dv } = this.ctx;
    for (;;) {
      const k = x.sig_route_drain(scratch);
      if (k <= 0) return;
      const pairs: number[] = [];
      for (let i = 0; i < k; i++) pairs.push(dv.getInt32(scratch + i * SIGNAL_PAIR_BYTES, true), dv.getInt32(scratch + i * SIGNAL_PAIR_BYTES + 4, true));
      for (let i = 0; i < pairs.length; i += 2) for (let n = 0; n < pairs[i + 1]; n++) this.route(pairs[i]);
    }
  }

  /** A signal no thread could take: counted (stats) and logged. */
  #lost(num: number, line: string): void {
    this.ctx.x.sig_note(num, SIG_COUNT_LOST);
    this.log(line);
  }

  /** Raise `num` from the scheduler (a timer, cron entry or file monitor fired): counted, then routed. */
  #fire(num: number): void {
    this.ctx.x.sig_note(num, SIG_COUNT_RAISED);
    this.route(num);
  }

  /** Route one signal as uWSGI's master does, by the target in the signal table. */
  route(num: number): void {
    const { x } = this.ctx;
    const kind = x.sig_target_kind(num);
    const arg = x.sig_target_arg(num);
    switch (kind) {
      case Target.NONE:
      case Target.WORKER_ANY: {
        // An unregistered signal goes to the worker pool too, as in uWSGI (the worker logs it).
        const tid = x.sig_pick(ThreadKind.worker, num, -1);
        if (tid >= 0) deliverTo(this.ctx, tid, num);
        else if (this.ctx.shared.hasMaster || deliverToStandalone(this.ctx, num) === 0) this.#lost(num, `could not deliver signal ${num} to workers pool: no worker is running`);
        return;
      }
      case Target.MULE_ANY: {
        const tid = x.sig_pick(ThreadKind.mule, num, -1);
        if (tid >= 0) deliverTo(this.ctx, tid, num);
        else this.#lost(num, `could not deliver signal ${num} to a mule: no mule is running`);
        return;
      }
      case Target.SPOOLER: {
        const tid = x.sig_pick(ThreadKind.spooler, num, -1);
        if (tid >= 0) deliverTo(this.ctx, tid, num);
        else this.#lost(num, `could not deliver signal ${num} to the spooler: no spooler is running`);
        return;
      }
      case Target.FARM: {
        const farm = this.ctx.shared.config.farms[arg];
        const tid = farm ? this.#pickFarmMule(num, farm.mules) : -1;
        if (tid >= 0) deliverTo(this.ctx, tid, num);
        else this.#lost(num, `could not deliver signal ${num} to farm ${farm?.name ?? arg}: none of its mules is running`);
        return;
      }
      default:
        deliverDirect(this.ctx, num, kind, arg, this.log);
    }
  }

  /** One mule of a farm: the best-placed candidate (handler, listening, idle), rotating among equals. */
  #pickFarmMule(num: number, mules: number[]): number {
    const { x } = this.ctx;
    const n = mules.length;
    let fallback = -1;
    for (let i = 0; i < n; i++) {
      const ident = mules[(this.#farmCursor + i) % n];
      const tid = x.sig_pick(ThreadKind.mule, num, ident);
      if (tid < 0) continue;
      if (fallback < 0) fallback = tid;
      if (x.sig_has_handler(tid, num) === 1) { this.#farmCursor = (this.#farmCursor + i + 1) % n; return tid; }
    }
    this.#farmCursor = (this.#farmCursor + 1) % Math.max(1, n);
    return fallback;
  }

  /** Watch every file monitor added since the last pass. */
  #adoptMonitors(): void {
    const { x, scratch, u8 } = this.ctx;
    for (let i = x.monitor_take(); i >= 0; i = x.monitor_take()) {
      const sig = x.monitor_sig(i);
      const len = x.monitor_path(i, scratch);
      const path = utf8.decode(u8.slice(scratch, scratch + len));
      try {
        this.#watches.set(i, runtime().watchPath(path, () => { if (!this.#stopped) this.#fire(sig); }));
      } catch (e) {
        x.monitor_drop(i);
        this.log(`unable to monitor ${path} for signal ${sig}: ${(e as Error).message}`);
      }
    }
  }
}

/** The master loop; holds the scheduler only weakly between waits, so a dropped engine ends it. */
async function schedulerLoop(ref: WeakRef<Scheduler>, i32: Int32Array, bell: number): Promise<void> {
  for (;;) {
    let s = ref.deref();
    if (!s || s.stopped) return;
    // Read the bell before the pass: a ring during the pass makes the wait return at once.
    const seen = Atomics.load(i32, bell);
    let wake: number;
    try { wake = s.pass(); } catch (e) { s.log(`signal scheduler pass failed: ${String(e)}`); wake = MASTER_SLICE_MS; }
    s = undefined;
    await waitForChange(i32, bell, seen, Math.max(0.05, Math.min(wake, MASTER_SLICE_MS)));
  }
}
