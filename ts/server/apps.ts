/**
 * The two app shapes a listener serves, picked from what the app file
 * exports (the README's Listeners section has the same table):
 *
 * | default export | shape |
 * |---|---|
 * | an object with a `fetch` method | Fetch: `fetch(request, ctx)` returns a `Response` |
 * | a function taking two or more parameters (`(req, res)`, Express's `(req, res, next)`) | Node: a `node:http` request listener |
 * | a function with a `handle` method (an Express app) | Node |
 * | an object with a `listener` or `handle` function (`{ listener: fastify.routing }`, `{ handle: koa.callback() }`) | Node |
 * | any other function (`export default function main(uwsgi) {}`) | a job: the worker runs it once |
 *
 * A module-level `export function fetch` is a Fetch app too.
 * @module
 */
import type { NodeRequest, NodeResponse } from '../platform/index.ts';
import type { ListenerSpec } from './listen.ts';

/** What a Fetch handler gets besides the `Request`. */
export interface RequestContext {
  /** The CGI/WSGI environ: nginx's uwsgi_params for `--socket`, built from the request for `--http-socket` (computed on first read). */
  readonly env: Record<string, string>;
  /** The peer's address and port (`REMOTE_ADDR`, `REMOTE_PORT`). */
  readonly remoteAddr: string;
  readonly remotePort: number;
  /** The listener the request came in on. */
  readonly listener: ListenerSpec;
  /** The mountpoint of the app serving it ('' for the default app). */
  readonly mountpoint: string;
}

/** A Fetch-style request handler. */
export type FetchHandler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;

/**
 * A Node-style request listener: the runtime's own `IncomingMessage` and
 * `ServerResponse` (typed loosely here so an Express or Koa handler fits).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type NodeListener = (req: any, res: any) => unknown;

/** An app as a listener serves it: `{ fetch }` (Fetch-style) or `{ listener }` (Node-style `(req, res)`). */
export type App = { fetch: FetchHandler; listener?: undefined } | { listener: NodeListener; fetch?: undefined };

/** @internal The listener as the server calls it (the runtime's objects, seen through the parts it reads). */
export type ServedListener = (req: NodeRequest, res: NodeResponse) => unknown;

const isFn = (v: unknown): v is (...a: unknown[]) => unknown => typeof v === 'function';

/** The shape of a value exported as an app (see the module comment), or null when it is not an app (a job, or nothing). */
export function appShape(v: unknown): App | null {
  if (isFn(v)) {
    // Express apps are functions with `handle`; (req, res[, next]) listeners declare two parameters or more.
    if (v.length >= 2 || isFn((v as { handle?: unknown }).handle)) return { listener: v as NodeListener };
    return null;
  }
  if (v && typeof v === 'object') {
    const o = v as { fetch?: unknown; listener?: unknown; handle?: unknown };
    if (isFn(o.fetch)) return { fetch: o.fetch.bind(o) as FetchHandler };
    if (isFn(o.listener)) return { listener: o.listener.bind(o) as NodeListener };
    if (isFn(o.handle)) return { listener: o.handle.bind(o) as NodeListener };
  }
  return null;
}

/** The app an imported module provides: its default export's shape, or a module-level `fetch`. */
export function appOf(mod: unknown): App | null {
  const m = mod as { default?: unknown; fetch?: unknown } | null;
  const d = appShape(m?.default);
  if (d) return d;
  if (isFn(m?.fetch)) return { fetch: m.fetch as FetchHandler };
  return null;
}

/** Whether a module's default export is a job (a function that is not a Node-style app): the worker runs it once. */
export function isJob(mod: unknown): boolean {
  const d = (mod as { default?: unknown } | null)?.default;
  return isFn(d) && appShape(d) === null;
}
