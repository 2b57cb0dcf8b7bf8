/**
 * Timers of any length. Every runtime keeps a timer's delay as a signed 32-bit
 * number of milliseconds: a longer delay (2^31 ms is under 25 days) fires
 * after 1 ms instead (Node warns, Deno and Bun say nothing). `longTimeout`
 * chains timers of at most that size towards a deadline on the monotonic
 * clock, so `async_sleep(2.2e6)` or a `socket-timeout` of 3000000 s waits as
 * long as asked. No dependency: the npm packages that do this (`long-timeout`,
 * `safe-timers`) are CommonJS without types and unchanged since 2017.
 * @module
 */
import { UwsgiError } from './errors.ts';

/** The longest delay one runtime timer takes (2^31 - 1 ms, about 24.8 days). */
export const TIMER_CHUNK_MS = 2 ** 31 - 1;
/** The longest delay `longTimeout` takes: 2^53 - 1 ms (Number.MAX_SAFE_INTEGER, about 285,000 years). */
export const LONG_TIMER_MAX_MS = Number.MAX_SAFE_INTEGER;

/** A pending long timer. */
export interface LongTimer {
  /** Cancel it (a no-op once it fired or was cancelled). */
  cancel(): void;
}

/** Call `fn` once, `ms` milliseconds from now (0 ≤ ms ≤ LONG_TIMER_MAX_MS), however long that is. */
export function longTimeout(fn: () => void, ms: number): LongTimer {
  const deadline = performance.now() + ms;
  let handle: ReturnType<typeof setTimeout> | undefined;
  let live = true;
  const arm = (left: number) => {
    handle = setTimeout(() => {
      const rest = deadline - performance.now();
      // A chunk (or a timer the runtime ran a little early) leaves time: wait for the rest.
      if (rest > 0 && left > TIMER_CHUNK_MS) arm(rest);
      else { live = false; fn(); }
    }, Math.min(left, TIMER_CHUNK_MS));
  };
  arm(ms);
  return { cancel: () => { if (live) { live = false; clearTimeout(handle); } } };
}

/**
 * A delay in seconds as milliseconds for `longTimeout`: ERR_VALUE_RANGE past
 * LONG_TIMER_MAX_MS (the caller checked it is a finite number ≥ 0).
 */
export function delayMs(fn: string, name: string, seconds: number): number {
  const ms = seconds * 1000;
  if (ms > LONG_TIMER_MAX_MS) {
    throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be at most ${LONG_TIMER_MAX_MS / 1000} seconds (2^53 - 1 ms), got ${seconds}`);
  }
  return ms;
}
