/**
 * The signal, timer, cron and file-monitor functions of the `uwsgi` module.
 * @module
 */
import { UwsgiError, argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { clientOf } from '../client/connections.ts';
import { type SignalHandler, signalNumber, signalsOf } from './signals.ts';
import { addCron, addFileMonitor, addProbe, addRbTimer, addTimer } from './timers.ts';

/** The signal, timer and cron functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class SignalFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /**
   * Run `handler(signum)` in this thread when signal `signum` (0..255) is
   * raised. `who` says who receives it: `''`/`worker`/`worker0` the first
   * available worker, `workers` every worker, `workerN` worker N,
   * `active-workers` every running worker, `mule`/`mule0` the first available
   * mule, `mules` every mule, `muleN` mule N, `farm_NAME` (or `farmN`) one mule
   * of that farm, `spooler` the spooler. A worker may register again (its
   * handler is replaced); the master may not (ERR_EXISTS, as uWSGI). Unknown
   * targets, and ids the configuration does not have, are ERR_NOT_FOUND;
   * `cluster` and `subscribed` are ERR_UNSUPPORTED.
   */
  register_signal(signum: number, who: string, handler: SignalHandler): void {
    argCount('register_signal', arguments.length, 3, 3);
    signalsOf(this.ctx).register(signalNumber('register_signal', signum), who, handler);
  }

  /**
   * Raise signal `signum`: it is routed by the target it was registered with
   * (an unregistered signal goes to a worker, which logs it, as uWSGI). It
   * never waits; handlers run later in their threads. With `remote`
   * ('host:port' or a unix socket path) the signal is sent to that node (a
   * modifier-110 packet) and the promise resolves once the node accepted it;
   * ERR_REJECTED when it refused, ERR_CONNECT/ERR_TIMEOUT/ERR_CLOSED on failure.
   */
  signal(signum: number, remote?: string): void | Promise<void> {
    argCount('signal', arguments.length, 1, 2);
    const num = signalNumber('signal', signum);
    if (remote !== undefined && remote !== null) {
      if (typeof remote !== 'string' && !((remote as unknown) instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `signal: remote must be a 'host:port' string, got ${typeof remote}`);
      if (remote.length > 0) return clientOf(this.ctx).signal(num, remote);
    }
    signalsOf(this.ctx).raise(num);
  }

  /** true when this thread can run a handler for `signum` (its own, or its master view's), else null (never false, as uWSGI). */
  signal_registered(signum: number): true | null {
    argCount('signal_registered', arguments.length, 1, 1);
    return signalsOf(this.ctx).registered(signalNumber('signal_registered', signum));
  }

  /**
   * Resolves with an empty Uint8Array (uWSGI's `b''`) once this thread has
   * received a signal and run its handler (if it has one); with `signum`, once
   * that signal came (others are still handled). The event loop stays free.
   */
  signal_wait(signum?: number): Promise<Uint8Array> {
    argCount('signal_wait', arguments.length, 0, 1);
    return signalsOf(this.ctx).wait(signum === undefined ? undefined : signalNumber('signal_wait', signum));
  }

  /** The signal the last `signal_wait` of this thread got: -1 while one waits, 0 before any. */
  signal_received(): number {
    argCount('signal_received', arguments.length, 0, 0);
    return signalsOf(this.ctx).received;
  }

  /** Where this thread reports signals it has no handler for and handlers that throw (default: stderr). */
  get onSignalLog(): (line: string) => void { return signalsOf(this.ctx).log; }
  set onSignalLog(fn: (line: string) => void) {
    if (typeof fn !== 'function') throw new UwsgiError('ERR_ARG_TYPE', 'onSignalLog must be a function');
    signalsOf(this.ctx).log = fn;
  }

  /** Raise `signum` every `seconds` (fractions allowed, at least 1 ms), forever; the master fires it. At most 64. */
  add_timer(signum: number, seconds: number): void {
    argCount('add_timer', arguments.length, 2, 2);
    addTimer(this.ctx, signum, seconds);
  }

  /** Raise `signum` every `seconds`, `iterations` times (0, the default: forever). At most 64. */
  add_rb_timer(signum: number, seconds: number, iterations: number = 0): void {
    argCount('add_rb_timer', arguments.length, 2, 3);
    addRbTimer(this.ctx, signum, seconds, iterations);
  }

  /**
   * Raise `signum` at matching local times, checked by the master as uWSGI
   * does: at most once a minute. Each field is a value, -1 (any) or -N (every
   * N: `hour = -2` is every even hour). `day` and `weekday` (0 = Sunday, 7 also
   * Sunday) are ORed when both are set. Returns true. At most 64 entries.
   */
  add_cron(signum: number, minute: number, hour: number, day: number, month: number, weekday: number): true {
    argCount('add_cron', arguments.length, 6, 6);
    return addCron(this.ctx, signum, [minute, hour, day, month, weekday]);
  }

  /** Raise `signum` whenever the file or directory at `path` changes (it must exist; at most 254 bytes). At most 64. */
  add_file_monitor(signum: number, path: string): void {
    argCount('add_file_monitor', arguments.length, 2, 2);
    addFileMonitor(this.ctx, signum, path);
  }

  /** Removed in uWSGI 2.0: always ERR_UNSUPPORTED. */
  add_probe(..._args: unknown[]): never { return addProbe(); }
}
