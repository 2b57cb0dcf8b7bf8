/**
 * Timers, signal cron and file monitors: any thread adds them to the shared
 * tables (assembly/signals/timers.ts); the master's scheduler (./scheduler.ts) fires
 * them by raising their signal, routed as `signal(num)` would be.
 * @module
 */
import { UwsgiError, intArg, statusError, typeName } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { realmOf, signalNumber } from './signals.ts';
import { runtime } from '../platform/index.ts';
import { CRON_SLOTS, E_FULL, MONITOR_PATH_MAX, MONITOR_SLOTS, TIMERS_PER_KIND, TIMER_KIND_PLAIN, TIMER_KIND_RB } from '../kernel/abi.ts';

/** Timers of each kind (add_timer, add_rb_timer) an engine holds: uWSGI's 64 (as many cron entries and file monitors). */
export const SCHEDULER_SLOTS = TIMERS_PER_KIND;
/** Longest path `add_file_monitor` takes, in bytes (uWSGI's limit). */
export const FILE_MONITOR_PATH_MAX = MONITOR_PATH_MAX;
/** Shortest timer interval, in seconds. */
export const TIMER_MIN_SECONDS = 0.001;

const utf8 = new TextEncoder();

/** A timer interval: a finite number of seconds, at least 1 ms (uWSGI takes whole seconds; fractions are allowed here). */
function seconds(fn: string, v: unknown): number {
  if (typeof v === 'bigint') v = Number(v);
  if (typeof v !== 'number' || Number.isNaN(v)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: seconds must be a number, got ${typeName(v)}`);
  if (!Number.isFinite(v) || v < TIMER_MIN_SECONDS) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: seconds must be at least ${TIMER_MIN_SECONDS} and finite, got ${v}`);
  return v;
}

/** After an add: wake the master so it sees the new entry at once. */
function wakeMaster(ctx: ThreadContext): void {
  ctx.x.sig_wake_master();
  const s = realmOf(ctx.memory).scheduler;
  s?.ensureStarted();
  s?.kick();
}

function addTimerKind(ctx: ThreadContext, fn: string, kind: number, sig: unknown, secs: unknown, iterations: unknown): void {
  const num = signalNumber(fn, sig);
  const interval = seconds(fn, secs);
  let iter = 0;
  if (iterations !== undefined) {
    iter = intArg(fn, 'iterations', iterations);
    if (iter < 0 || iter > 0x7fffffff) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: iterations must be 0 (forever) or a positive count, got ${iter}`);
  }
  const rc = ctx.x.timer_add(kind, num, interval * 1000, iter, ctx.clock());
  if (rc === E_FULL) throw new UwsgiError('ERR_FULL', `${fn}: unable to add timer: ${TIMERS_PER_KIND} ${kind === TIMER_KIND_PLAIN ? 'timers' : 'rb timers'} exist already`);
  if (rc < 0) throw statusError(rc, fn);
  wakeMaster(ctx);
}

/** `add_timer(signum, seconds)`: raise `signum` every `seconds`, forever. */
export function addTimer(ctx: ThreadContext, sig: unknown, secs: unknown): void {
  addTimerKind(ctx, 'add_timer', TIMER_KIND_PLAIN, sig, secs, undefined);
}

/** `add_rb_timer(signum, seconds, iterations=0)`: raise `signum` every `seconds`, `iterations` times (0: forever). */
export function addRbTimer(ctx: ThreadContext, sig: unknown, secs: unknown, iterations: unknown): void {
  addTimerKind(ctx, 'add_rb_timer', TIMER_KIND_RB, sig, secs, iterations ?? 0);
}

/** Cron fields: name, smallest and largest value, largest N of "-N". */
const CRON_FIELDS = [
  ['minute', 0, 59, 60], ['hour', 0, 23, 24], ['day', 1, 31, 31], ['month', 1, 12, 12], ['weekday', 0, 7, 7],
] as const;

/** `add_cron(signum, minute, hour, day, month, weekday)`: -1 is any, -N every N; day and weekday are ORed when both are set. */
export function addCron(ctx: ThreadContext, sig: unknown, fields: unknown[]): true {
  const fn = 'add_cron';
  const num = signalNumber(fn, sig);
  const v = CRON_FIELDS.map(([name, lo, hi, span], i) => {
    const n = intArg(fn, name, fields[i]);
    const ok = n >= 0 ? n >= lo && n <= hi : -n <= span;
    if (!ok) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be -1 (any), -N (every N, N up to ${span}) or ${lo}..${hi}, got ${n}`);
    return n;
  });
  const rc = ctx.x.cron_add(num, v[0], v[1], v[2], v[3], v[4]);
  if (rc === E_FULL) throw new UwsgiError('ERR_FULL', `${fn}: unable to add cron: ${CRON_SLOTS} cron entries exist already`);
  if (rc < 0) throw statusError(rc, fn);
  wakeMaster(ctx);
  return true;
}

/** `add_file_monitor(signum, path)`: raise `signum` whenever the file or directory at `path` changes. */
export function addFileMonitor(ctx: ThreadContext, sig: unknown, path: unknown): void {
  const fn = 'add_file_monitor';
  const num = signalNumber(fn, sig);
  if (typeof path !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: path must be a string, got ${typeName(path)}`);
  if (path === '') throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: path must not be empty`);
  const bytes = utf8.encode(path);
  if (bytes.length > FILE_MONITOR_PATH_MAX) throw new UwsgiError('ERR_BOUNDS', `${fn}: path is ${bytes.length} bytes; at most ${FILE_MONITOR_PATH_MAX}`);
  if (!runtime().pathExists(path)) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no file or directory at '${path}'`);
  ctx.u8.set(bytes, ctx.scratch);
  const rc = ctx.x.monitor_add(num, ctx.scratch, bytes.length);
  if (rc === E_FULL) throw new UwsgiError('ERR_FULL', `${fn}: unable to add file monitor: ${MONITOR_SLOTS} exist already`);
  if (rc < 0) throw statusError(rc, fn);
  wakeMaster(ctx);
}

/** `add_probe`: uWSGI 1.x's probes were removed in 2.0; it always throws ERR_UNSUPPORTED. */
export function addProbe(): never {
  throw new UwsgiError('ERR_UNSUPPORTED', 'add_probe: probes were removed in uWSGI 2.0; use add_timer or add_cron with a handler that checks what the probe checked');
}
