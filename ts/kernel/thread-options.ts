/**
 * A thread's own copy of the options (`uwsgi.opt`): every option as given,
 * which `set_option` may change for the calling thread (sizes stay as laid
 * out), and the values the thread's clients read from it at each call.
 * @module
 */
import { UwsgiError } from './errors.ts';
import { type ThreadContext, threadService } from './context.ts';
import { optDict } from './options.ts';
import { LONG_TIMER_MAX_MS } from './timers.ts';

/** The calling thread's option dict: the last value (string) of each option, flags as `true`. */
export const threadOptions = threadService<Record<string, string | true>>((ctx) => optDict(ctx.shared.config));

/** uWSGI's default `--socket-timeout`, in seconds. */
export const DEFAULT_SOCKET_TIMEOUT = 4;

/**
 * `socket-timeout` in ms for the thread's network clients (default 4 s), read
 * at each call so `set_option('socket-timeout', ...)` applies at once.
 */
export function socketTimeoutMs(ctx: ThreadContext): number {
  const v = threadOptions(ctx)['socket-timeout'];
  if (v === undefined) return DEFAULT_SOCKET_TIMEOUT * 1000;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1) || n * 1000 > LONG_TIMER_MAX_MS) {
    throw new UwsgiError('ERR_OPTION', `socket-timeout must be a whole number of seconds from 1 to ${Math.floor(LONG_TIMER_MAX_MS / 1000)}, got '${String(v)}'`);
  }
  return n * 1000;
}
