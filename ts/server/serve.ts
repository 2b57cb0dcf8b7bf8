/**
 * Starting listeners: in every worker a master starts (`--socket`,
 * `--http-socket`, `--mount`), or by hand in any thread with {@link serve}.
 * @module
 */
import { UwsgiError, typeName } from '../kernel/errors.ts';
import { type Options, configFromOptions } from '../kernel/options.ts';
import type { ListenConfig, ListenTicket } from './listen.ts';
import { runtime } from '../platform/index.ts';
import { WorkerServer, listenQueue } from './server.ts';
import type { ServerHooks } from './context.ts';
import { type App, type FetchHandler, type NodeListener, appOf, appShape } from './apps.ts';
import type { ModuleHandle, ThreadContext } from '../kernel/context.ts';

let threadServer: WorkerServer | null = null;
let threadMounts: ListenConfig['mounts'] | null = null;

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
    const app = appOf(mod);
    if (app) apps.push({ mountpoint: m.mountpoint, app });
    else if (m.mountpoint !== '') throw new UwsgiError('ERR_OPTION', `option 'mount': '${m.file}' exports no app (default { fetch(request) { ... } }, or a (req, res) listener such as an Express app)`);
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
  /** Listener options by uWSGI name: `socket`, `http-socket`, `buffer-size`, `limit-post`, `socket-timeout`, `listen`, `http-keepalive`, `http-native`, `max-connections`, `http-headers-timeout`, `body-timeout`, `remote-*`. */
  options: Options;
  /** A Fetch handler (or an object with a `fetch` method) for requests; without an app, requests get a 500 and only management packets are answered. */
  fetch?: FetchHandler | App;
  /** An app of either shape (a `{ fetch }` object, or a `(req, res)` listener such as an Express app), mounted at ''. */
  app?: NodeListener | App | { listener: NodeListener } | { handle: NodeListener };
  /** Apps by mountpoint, besides the default one (a function is a Fetch handler; objects and Express apps as `app`). */
  mounts?: Record<string, FetchHandler | App | NodeListener>;
  /** Signals, spooler, accounting, error reporting. */
  hooks?: ServerHooks;
}

function toApp(what: string, v: unknown, fnIsFetch: boolean): App {
  if (typeof v === 'function' && fnIsFetch && typeof (v as { handle?: unknown }).handle !== 'function') return { fetch: v as FetchHandler };
  const a = appShape(v);
  if (a) return a;
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
  if (opts.fetch !== undefined) apps.push({ mountpoint: '', app: toApp('fetch', opts.fetch, true) });
  else if (opts.app !== undefined) apps.push({ mountpoint: '', app: toApp('app', opts.app, false) });
  for (const [mp, v] of Object.entries(opts.mounts ?? {})) {
    if (mp !== '' && (!mp.startsWith('/') || mp.endsWith('/'))) throw new UwsgiError('ERR_OPTION', `serve: mountpoint '${mp}' must start with '/' and not end with one`);
    apps.push({ mountpoint: mp, app: toApp(`mounts['${mp}']`, v, true) });
  }
  // Packets act on `u`'s engine (its caches, RPC functions); the listener options come from `opts.options`.
  return WorkerServer.start(u.ctx, lc, { apps, tickets: lc.listeners.map(() => ({ bind: true as const })), hooks: opts.hooks });
}
