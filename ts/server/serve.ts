/**
 * Starting listeners: in every worker a master starts (`--socket`,
 * `--http-socket`, `--mount`), or by hand in any thread with {@link serve}.
 * @module
 */
import { UwsgiError, typeName } from '../kernel/errors.ts';
import { type Options, configFromOptions } from '../kernel/options.ts';
import type { ListenConfig, ListenTicket } from './listen.ts';
import { runtime } from '../platform/index.ts';
import { type App, type FetchHandler, type ServerHooks, WorkerServer, listenQueue } from './server.ts';
import type { ModuleHandle, ThreadContext } from '../kernel/context.ts';

let threadServer: WorkerServer | null = null;
let threadMounts: ListenConfig['mounts'] | null = null;

/** The app an imported module provides: `export default { fetch }`, `export default fetchFunction` is a job, not an app. */
export function appOf(mod: unknown, file: string): App | null {
  const m = mod as { default?: unknown; fetch?: unknown } | null;
  const d = m?.default as { fetch?: unknown } | undefined;
  if (d && typeof d === 'object' && typeof d.fetch === 'function') return { fetch: (d.fetch as FetchHandler).bind(d) };
  if (typeof m?.fetch === 'function') return { fetch: m.fetch as FetchHandler };
  void file;
  return null;
}

/**
 * In a worker started by a master: serve the configured listeners with the
 * mounted apps. `mainFile`/`mainModule` is the worker's app, already imported.
 * Resolves once every listener accepts. Does nothing without listeners.
 */
export async function startThreadServer(ctx: ThreadContext, mainFile: string | undefined, mainModule: unknown, tickets: ListenTicket[] | undefined): Promise<boolean> {
  const cfg = ctx.shared.config;
  const lc = cfg.listen;
  threadMounts = lc.mounts;
  if (lc.listeners.length === 0) return false;
  if (!tickets || tickets.length !== lc.listeners.length) throw new UwsgiError('ERR_INTERNAL', `worker ${ctx.ident}: the master sent ${tickets?.length ?? 0} listener ticket(s) for ${lc.listeners.length} listener(s)`);
  const apps: Array<{ mountpoint: string; app: App }> = [];
  for (const m of lc.mounts) {
    const mod = m.file === mainFile ? mainModule : await import(runtime().fileUrl(m.file).href);
    const app = appOf(mod, m.file);
    if (app) apps.push({ mountpoint: m.mountpoint, app });
    else if (m.mountpoint !== '') throw new UwsgiError('ERR_OPTION', `option 'mount': '${m.file}' does not export default { fetch(request) { ... } }`);
  }
  threadServer = await WorkerServer.start(ctx, lc, { apps, tickets });
  return true;
}

/** Close this thread's listeners (the worker is stopping). */
export async function stopThreadServer(): Promise<void> {
  const s = threadServer;
  threadServer = null;
  await s?.close();
}

/** This thread's running server, if any. */
export function currentServer(): WorkerServer | null { return threadServer; }

/** Mountpoints and files of this thread's apps (from its server, or else from the config). */
export function mountsOf(ctx: ThreadContext): ListenConfig['mounts'] {
  if (threadMounts) return threadMounts;
  return ctx.shared.config.listen.mounts;
}

/** `listen_queue(id)`: connections waiting in listener `id`'s accept queue. */
export function listenQueueOf(ctx: ThreadContext, id: number): number {
  const listeners = threadServer?.config.listeners ?? ctx.shared.config.listen.listeners;
  return listenQueue(listeners, id);
}

/** Options of {@link serve}. */
export interface ServeOptions {
  /** Listener options by uWSGI name: `socket`, `http-socket`, `buffer-size`, `limit-post`, `socket-timeout`, `listen`, `remote-cache`, `remote-rpc`, `remote-signal`, `remote-spool`. */
  options: Options;
  /** The handler (or an app object) for requests; without one, requests get a 500 and only management packets are answered. */
  fetch?: FetchHandler | App;
  /** Apps by mountpoint, besides `fetch` (mounted at ''). */
  mounts?: Record<string, FetchHandler | App>;
  /** Signals, spooler, accounting, error reporting. */
  hooks?: ServerHooks;
}

function toApp(what: string, v: unknown): App {
  if (typeof v === 'function') return { fetch: v as FetchHandler };
  if (v && typeof v === 'object' && typeof (v as App).fetch === 'function') return { fetch: (v as App).fetch.bind(v) };
  throw new UwsgiError('ERR_ARG_TYPE', `serve: ${what} must be a function or an object with a fetch method, got ${typeName(v)}`);
}

/**
 * Serve listeners from the calling thread, without a master: every listener is
 * bound by this thread alone. Management packets act on `u`'s engine (its
 * caches and RPC functions). Returns the running server (`close()` it).
 */
export async function serve(u: ModuleHandle, opts: ServeOptions): Promise<WorkerServer> {
  if (!opts || typeof opts !== 'object') throw new UwsgiError('ERR_ARG_TYPE', `serve: options must be an object, got ${typeName(opts)}`);
  const cfg = configFromOptions(opts.options ?? {});
  const lc = cfg.listen;
  if (lc.listeners.length === 0) throw new UwsgiError('ERR_OPTION', `serve: no listener: give options.socket or options['http-socket']`);
  const apps: Array<{ mountpoint: string; app: App }> = [];
  if (opts.fetch !== undefined) apps.push({ mountpoint: '', app: toApp('fetch', opts.fetch) });
  for (const [mp, v] of Object.entries(opts.mounts ?? {})) {
    if (mp !== '' && (!mp.startsWith('/') || mp.endsWith('/'))) throw new UwsgiError('ERR_OPTION', `serve: mountpoint '${mp}' must start with '/' and not end with one`);
    apps.push({ mountpoint: mp, app: toApp(`mounts['${mp}']`, v) });
  }
  // Packets act on `u`'s engine (its caches, RPC functions); the listener options come from `opts.options`.
  return WorkerServer.start(u.ctx, lc, { apps, tickets: lc.listeners.map(() => ({ bind: true as const })), hooks: opts.hooks });
}
