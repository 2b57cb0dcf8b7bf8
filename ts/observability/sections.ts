/**
 * The parts of the stats document that uWSGI's JSON lacks and the dashboard
 * shows: who holds each user lock, which threads handle each signal, how
 * many wait and how many were raised, delivered and lost, the timers and cron entries with their next firing. Each reads
 * the shared memory through the core's read-only accessors at the moment it
 * is called; none takes a lock another thread could be kept waiting on.
 * @module
 */
import type { ThreadContext } from '../kernel/context.ts';
import {
  CRON_SLOTS, SIGNAL_COUNT, SIG_COUNT_DELIVERED, SIG_COUNT_LOST, SIG_COUNT_RAISED, TIMER_KIND_RB, TIMERS_PER_KIND, ThreadKind, ThreadState,
} from '../kernel/abi.ts';
import { signalTable } from '../signals/signals.ts';

const KIND_NAMES = new Map<number, string>(Object.entries(ThreadKind).map(([name, n]) => [n, name]));

/** `worker 2`, `mule 1`, `spooler 1`, `master`: the thread in slot `tid` as people name it. */
export function threadName(ctx: ThreadContext, tid: number): string {
  const kind = KIND_NAMES.get(ctx.x.thread_kind(tid)) ?? 'thread';
  if (kind === 'master') return 'master';
  const ident = ctx.x.thread_ident(tid);
  return ident > 0 ? `${kind} ${ident}` : `${kind} (slot ${tid})`;
}

/** Thread slots that are running now. */
function liveThreads(ctx: ThreadContext): number[] {
  const out: number[] = [];
  for (let tid = 0; tid < ctx.x.max_threads(); tid++) if (ctx.x.thread_state(tid) === ThreadState.ALIVE) out.push(tid);
  return out;
}

/** One held user lock: its uWSGI name, the holder's thread slot and name. */
export type LockHolder = { lock: string; tid: number; holder: string };

/** The user locks held now, with their holders (a dead holder's lock reads as held until someone takes it over). */
export function lockHolders(ctx: ThreadContext): LockHolder[] {
  const out: LockHolder[] = [];
  for (let i = 0; i < ctx.x.lock_count(); i++) {
    const tid = ctx.x.lock_holder(i);
    if (tid >= 0) out.push({ lock: `user ${i}`, tid, holder: threadName(ctx, tid) });
  }
  return out;
}

/**
 * One signal: uWSGI's target, the threads with a handler, how many wait to be
 * handled, and how many were raised, delivered to a thread and lost (no thread
 * to take them) since the engine started.
 */
export type SignalRow = { signum: number; target: string; handlers: string[]; queued: number; raised: number; delivered: number; lost: number };

/**
 * The signal table with, per signal, the running threads that registered a
 * handler, the deliveries waiting (in their mailboxes and the master's routing
 * inbox) and the counters the core keeps per signal; then the signals nobody
 * registered that were raised all the same (target `none`: uWSGI sends them to
 * a worker, which logs them).
 */
export function signalRows(ctx: ThreadContext): SignalRow[] {
  const live = liveThreads(ctx);
  const x = ctx.x;
  const row = (signum: number, target: string): SignalRow => {
    const handlers = live.filter((tid) => x.sig_has_handler(tid, signum) === 1);
    const queued = live.reduce((n, tid) => n + x.sig_queued(tid, signum), x.sig_queued(-1, signum));
    return {
      signum, target, handlers: handlers.map((tid) => threadName(ctx, tid)), queued,
      // The core's counters are u32 that only grow; read them as such.
      raised: x.sig_count(signum, SIG_COUNT_RAISED) >>> 0, delivered: x.sig_count(signum, SIG_COUNT_DELIVERED) >>> 0, lost: x.sig_count(signum, SIG_COUNT_LOST) >>> 0,
    };
  };
  const rows = signalTable(ctx).map(({ signum, target }) => row(signum, target));
  const registered = new Set(rows.map((r) => r.signum));
  for (let num = 0; num < SIGNAL_COUNT; num++) {
    if (!registered.has(num) && x.sig_count(num, SIG_COUNT_RAISED) !== 0) rows.push(row(num, 'none'));
  }
  return rows.sort((a, b) => a.signum - b.signum);
}

/** Signals waiting in thread `tid`'s mailbox (uWSGI's per-worker `signal_queue`). */
export function queuedFor(ctx: ThreadContext, tid: number): number {
  return tid >= 0 ? ctx.x.sig_queued(tid, -1) : 0;
}

/** Signals waiting in the master's routing inbox (uWSGI's top-level `signal_queue`). */
export function masterQueue(ctx: ThreadContext): number {
  return ctx.x.sig_queued(-1, -1);
}

/** One timer: `add_timer` or `add_rb_timer`, its period, how often it fired, and when it fires next. */
export type TimerRow = {
  signum: number;
  kind: 'timer' | 'rb_timer';
  /** Seconds between firings. */
  interval: number;
  /** Firings an rb_timer makes before it stops (0: forever). */
  iterations: number;
  fired: number;
  /** Seconds from now until the next firing (≤ 0: due, the master fires it on its next pass). */
  next_in: number;
};

/** The timers in use, earliest first. */
export function timerRows(ctx: ThreadContext): TimerRow[] {
  const out: TimerRow[] = [];
  const at = ctx.scratch;
  const now = ctx.clock();
  for (let slot = 0; slot < 2 * TIMERS_PER_KIND; slot++) {
    // abi.ts TIMER_INFO_BYTES describes what timer_info writes at `at`.
    if (ctx.x.timer_info(slot, at) !== 1) continue;
    const dv = ctx.dv;
    out.push({
      signum: dv.getInt32(at, true),
      kind: dv.getInt32(at + 4, true) === TIMER_KIND_RB ? 'rb_timer' : 'timer',
      iterations: dv.getInt32(at + 8, true),
      fired: dv.getInt32(at + 12, true),
      interval: dv.getFloat64(at + 16, true) / 1000,
      next_in: round3((dv.getFloat64(at + 24, true) - now) / 1000),
    });
  }
  return out.sort((a, b) => a.next_in - b.next_in);
}

/** One cron entry: uWSGI's five fields, when it last fired and when it fires next. */
export type CronRow = {
  signum: number;
  minute: number; hour: number; day: number; month: number; weekday: number;
  /** Unix seconds of the last firing, 0 before the first. */
  last: number;
  /** Seconds from now until the next firing, or null when none comes within a year (day 31 of February...). */
  next_in: number | null;
};

/** The cron entries in use, soonest first. */
export function cronRows(ctx: ThreadContext): CronRow[] {
  const out: CronRow[] = [];
  const at = ctx.scratch;
  const now = ctx.clock();
  for (let slot = 0; slot < CRON_SLOTS; slot++) {
    // abi.ts CRON_INFO_BYTES describes what cron_info writes at `at`.
    if (ctx.x.cron_info(slot, at) !== 1) continue;
    const dv = ctx.dv;
    const f = [0, 1, 2, 3, 4].map((i) => dv.getInt32(at + 4 + 4 * i, true)) as [number, number, number, number, number];
    const last = dv.getFloat64(at + 24, true);
    const next = nextCronFiring(ctx, f, last, now);
    out.push({
      signum: dv.getInt32(at, true), minute: f[0], hour: f[1], day: f[2], month: f[3], weekday: f[4], last,
      next_in: next === null ? null : round3((next - now) / 1000),
    });
  }
  return out.sort((a, b) => (a.next_in ?? Infinity) - (b.next_in ?? Infinity));
}

const MINUTE = 60_000;

/**
 * When (ms since the epoch) the master next fires a cron entry with fields `f`
 * that last fired at `lastSec`, looking at local time as the scheduler does:
 * now, if this minute matches and it did not fire in the last 60 s; else the
 * start of the first matching minute ahead (within a year, else null). The
 * match itself is the core's (`cron_matches`): with the minute and hour
 * fields set to "any" it tells whether a day can match at all, so the search
 * skips whole days and hours instead of testing every minute.
 */
export function nextCronFiring(ctx: ThreadContext, f: readonly [number, number, number, number, number], lastSec: number, nowMs: number): number | null {
  const x = ctx.x;
  const matches = (t: Date, minute: number, hour: number) =>
    x.cron_matches(minute, hour, f[2], f[3], f[4], t.getMinutes(), t.getHours(), t.getDate(), t.getMonth() + 1, t.getDay()) === 1;
  const now = new Date(nowMs);
  if (matches(now, f[0], f[1]) && nowMs / 1000 - lastSec >= 60) return nowMs;
  const t = new Date(Math.floor(nowMs / MINUTE) * MINUTE + MINUTE);
  const end = nowMs + 366 * 24 * 60 * MINUTE;
  while (t.getTime() <= end) {
    if (!matches(t, -1, -1)) { t.setHours(24, 0, 0, 0); continue; }         // no minute of this day matches
    if (!matches(t, -1, f[1])) { t.setHours(t.getHours() + 1, 0, 0, 0); continue; } // nor of this hour
    if (matches(t, f[0], f[1])) return t.getTime();
    t.setTime(t.getTime() + MINUTE);
  }
  return null;
}

function round3(v: number): number { return Math.round(v * 1000) / 1000; }
