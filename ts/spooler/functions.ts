/**
 * The spooler functions of the `uwsgi` module: write a task for this
 * instance's spoolers (or another instance's, `host:port`), and look at the
 * spool directories.
 * @module
 */
import { UwsgiError, argCount, typeName } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { clientOf } from '../client/connections.ts';
import { SPOOL_IGNORE, SPOOL_OK, SPOOL_RETRY, type SpoolOptions, type SpoolTask, type SpoolerFunction, setSpoolerFunction, spoolerFunctionOf, spoolerOf } from './spooler.ts';

/** A spooler address on another instance (`host:port`), as the `spooler` key of a task or its options. */
export type RemoteSpooler = `${string}:${number}`;

const REMOTE_SPOOLER = /^[^/]*:\d+$/;

/** The `host:port` a task is sent to (options win over the task's own key), or undefined for a local spooler. */
function remoteSpooler(task: unknown, options: unknown): string | undefined {
  const pick = (o: unknown): unknown => (o instanceof Map ? o.get('spooler') : o !== null && typeof o === 'object' ? (o as Record<string, unknown>).spooler : undefined);
  const v = pick(options) ?? pick(task);
  const text = typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : undefined;
  return text !== undefined && REMOTE_SPOOLER.test(text) ? text : undefined;
}

/** The task with its options' keys (options win), without the `spooler` address itself. */
function mergeTask(task: unknown, options: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const add = (o: unknown) => {
    if (o instanceof Map) for (const [k, v] of o) out.set(String(k), v);
    else if (o !== null && typeof o === 'object') for (const [k, v] of Object.entries(o)) out.set(k, v);
    else if (o !== undefined) throw new UwsgiError('ERR_ARG_TYPE', `spool: the task must be an object or a Map, got ${typeName(o)}`);
  };
  add(task);
  add(options);
  out.delete('spooler');
  return out;
}

/** `spool`/`send_to_spooler`: to another instance when the task names one (`host:port`), else to a spool directory here. */
function spoolTask(ctx: ThreadContext, fn: string, task: SpoolTask, options: SpoolOptions | undefined, argc: number): string | Promise<true> {
  const remote = remoteSpooler(task, options);
  if (remote === undefined) return spoolerOf(ctx).spool(fn, task, options, argc);
  argCount(fn, argc, 1, 2);
  return clientOf(ctx).spool(fn, remote, mergeTask(task, options));
}

/** The spooler functions and constants of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class SpoolerFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** `SPOOL_OK` (-2): a spooler function's "done" return code. */
  get SPOOL_OK(): number { return SPOOL_OK; }
  /** `SPOOL_RETRY` (-1): run the task again later. */
  get SPOOL_RETRY(): number { return SPOOL_RETRY; }
  /** `SPOOL_IGNORE` (0): not this function's task; the file is kept. */
  get SPOOL_IGNORE(): number { return SPOOL_IGNORE; }

  /**
   * Write a task for the spooler; returns its file's absolute path. `task`: an
   * object or Map of names to bytes (strings as UTF-8). The reserved keys
   * `spooler` (target directory), `priority` (integer, a subdirectory), `at` (unix
   * time before which it does not run) and `body` (raw bytes after the vars) may
   * be in `task` or in `options` (options win). ERR_NOT_CONFIGURED without a
   * spooler; a `spooler` of the form `host:port` is another instance: the task goes
   * there as a modifier-17 packet and the call returns a promise of true
   * (ERR_REJECTED when that instance could not spool it).
   */
  send_to_spooler(task: SpoolTask, options: SpoolOptions & { spooler: RemoteSpooler }): Promise<true>;
  send_to_spooler(task: SpoolTask, options?: SpoolOptions): string;
  send_to_spooler(task: SpoolTask, options?: SpoolOptions): string | Promise<true> {
    return spoolTask(this.ctx, 'send_to_spooler', task, options, arguments.length);
  }
  /** Same as {@link send_to_spooler}. */
  spool(task: SpoolTask, options: SpoolOptions & { spooler: RemoteSpooler }): Promise<true>;
  spool(task: SpoolTask, options?: SpoolOptions): string;
  spool(task: SpoolTask, options?: SpoolOptions): string | Promise<true> {
    return spoolTask(this.ctx, 'spool', task, options, arguments.length);
  }
  /** Seconds between two scans of the spooler directories, shared by every spooler (0: back to `spooler-frequency`). Returns true. */
  set_spooler_frequency(seconds: number): true {
    argCount('set_spooler_frequency', arguments.length, 1, 1);
    return spoolerOf(this.ctx).setFrequency(seconds);
  }
  /** Absolute paths of the tasks waiting in the first spool directory. */
  spooler_jobs(): string[] {
    argCount('spooler_jobs', arguments.length, 0, 0);
    return spoolerOf(this.ctx).jobs();
  }
  /** The process id once the first spooler thread runs (spoolers are threads of this process), else 0. */
  spooler_pid(): number {
    argCount('spooler_pid', arguments.length, 0, 0);
    return spoolerOf(this.ctx).pid();
  }
  /** One entry per spooler: the process id while its thread runs, else 0. */
  spooler_pids(): number[] {
    argCount('spooler_pids', arguments.length, 0, 0);
    return spoolerOf(this.ctx).pids();
  }
  /**
   * The task dict stored at `path` (what the spooler function would get), or
   * null when no complete task is there. Paths outside the spool directories are
   * refused with ERR_BOUNDS.
   */
  spooler_get_task(path: string | Uint8Array): Record<string, Uint8Array> | null {
    argCount('spooler_get_task', arguments.length, 1, 1);
    return spoolerOf(this.ctx).getTask(path);
  }
  /** The spool directories (real paths), or undefined when none is configured (uWSGI has no `spoolers` then). */
  get spoolers(): string[] | undefined {
    const d = spoolerOf(this.ctx).dirs;
    return d.length ? d : undefined;
  }
  /**
   * This thread's spooler function (`uwsgi.spooler = fn`, as in uWSGI's Python
   * module). Spooler threads import the app (or the `spooler-import` files), so
   * setting it at the app's top level registers it where tasks run.
   */
  get spooler(): SpoolerFunction | undefined { return spoolerFunctionOf(this.ctx); }
  set spooler(fn: SpoolerFunction | undefined) { setSpoolerFunction(this.ctx, fn); }
}
