/**
 * `--http-socket`: HTTP/1.1 on the runtime's own `node:http` server (llhttp
 * on Node, Deno's and Bun's own implementations), serving both app shapes.
 * node:http does the protocol: keep-alive, pipelining, chunked bodies both
 * ways, `Expect: 100-continue`, HEAD, the head and request deadlines, and 400
 * for smuggling attempts (Content-Length with Transfer-Encoding, two
 * Content-Lengths, obs-fold). This file adds what uWSGI adds per request:
 * the connection cap and deadlines (./connections.ts), `--limit-post`,
 * header names that would alias another in the CGI environ, mountpoints,
 * request accounting and the request scope.
 * @module
 */
import type { HttpServeHandlers, HttpSocket, NodeRequest, NodeResponse } from '../platform/index.ts';
import type { ListenerSpec } from './listen.ts';
import type { TrackedConnection } from './connections.ts';
import { type RequestState, type ServedRequest, type ServingContext, ServedState, defaultOnError, runInRequest } from './context.ts';
import type { RequestContext, ServedListener } from './apps.ts';
import { lazyRequest, requestUrl, writeNodeResponse } from './fetch.ts';
import { UwsgiError, typeName } from '../kernel/errors.ts';

/** The request's body broke `--limit-post` (answered 413, not an app failure). */
const OVER_LIMIT = Symbol('limit-post');

const REASONS: Record<number, string> = { 400: 'Bad Request', 413: 'Content Too Large', 500: 'Internal Server Error' };

/** Answer with `status` and close the connection after it (the request is not handed to any app). */
function refuse(res: NodeResponse, status: number, text: string): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, REASONS[status], { 'content-type': 'text/plain', 'content-length': String(text.length) });
  res.end(text);
}

/** `Content-Type` → `CONTENT_TYPE`: a header's name in the CGI environ. */
export function cgiName(name: string): string { return name.toUpperCase().replace(/-/g, '_'); }

/**
 * A reason to refuse the request's headers, or null. Names that differ from
 * another header's only by '_' for '-' (`Content_Length` beside
 * `Content-Length`), and '_' spellings of the framing headers, would alias a
 * real header once the request is a CGI environ (as nginx drops such names
 * by default, and uWSGI's environ would carry both).
 */
export function aliasProblem(raw: string[]): string | null {
  let underscore = false;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.includes('_')) { underscore = true; break; }
  if (!underscore) return null;
  const seen = new Map<string, string>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const key = cgiName(name);
    if (name.includes('_') && (key === 'CONTENT_LENGTH' || key === 'CONTENT_TYPE' || key === 'TRANSFER_ENCODING')) return `header '${raw[i]}' aliases ${key.toLowerCase().replace(/_/g, '-')}`;
    const other = seen.get(key);
    if (other !== undefined && other !== name) return `header '${raw[i]}' aliases '${other}'`;
    seen.set(key, name);
  }
  return null;
}

/** The decoded path of a request target (its part before '?'), as PATH_INFO carries it. */
export function pathOf(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  const raw = q < 0 ? url : url.slice(0, q);
  let path = raw;
  if (raw.includes('%')) { try { path = decodeURIComponent(raw); } catch { /* keep it raw */ } }
  return { path, query: q < 0 ? '' : url.slice(q + 1) };
}

/** The CGI environ of a node:http request (what `ctx.env` and `route()` read). */
function envOf(req: NodeRequest, spec: ListenerSpec, scriptName: string, pathInfo: string, query: string): Record<string, string> {
  const env: Record<string, string> = Object.create(null);
  const sock = req.socket;
  env.REQUEST_METHOD = req.method ?? 'GET';
  env.REQUEST_URI = req.url ?? '/';
  env.PATH_INFO = pathInfo;
  env.SCRIPT_NAME = scriptName;
  env.QUERY_STRING = query;
  env.SERVER_PROTOCOL = `HTTP/${req.httpVersion}`;
  env.REQUEST_SCHEME = 'http';
  env.REMOTE_ADDR = sock.remoteAddress ?? '';
  env.REMOTE_PORT = String(sock.remotePort ?? '');
  env.SERVER_NAME = spec.host ?? 'localhost';
  env.SERVER_PORT = String(spec.port ?? sock.localPort ?? '');
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = cgiName(raw[i]!);
    const value = raw[i + 1]!;
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') env[key] = value;
    const hk = `HTTP_${key}`;
    env[hk] = env[hk] !== undefined ? `${env[hk]}, ${value}` : value;
  }
  return env;
}

/** A request body as a web stream over the `IncomingMessage` (paused while the stream's queue is full). */
function bodyStream(req: NodeRequest, limit: number, onOver: () => void): ReadableStream<Uint8Array> {
  let got = 0;
  return new ReadableStream<Uint8Array>({
    start(c) {
      req.on('data', (d: Uint8Array) => {
        got += d.length;
        if (limit > 0 && got > limit) { c.error(new UwsgiError('ERR_VALUE_RANGE', `the request body is over limit-post (${limit} bytes)`)); onOver(); return; }
        c.enqueue(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        if ((c.desiredSize ?? 1) <= 0) req.pause();
      });
      req.on('end', () => { try { c.close(); } catch { /* errored */ } });
      req.on('error', (e) => { try { c.error(e); } catch { /* closed */ } });
    },
    pull() { req.resume(); },
  }, { highWaterMark: 4 });
}

/**
 * `--limit-post` for a chunked body a `(req, res)` app reads itself: the
 * parser hands each piece to the request stream's `push`, so counting there
 * sees every byte before the app does, without reading on the app's behalf.
 */
function limitPushes(req: NodeRequest, limit: number, over: () => void): void {
  const r = req as unknown as { push(chunk: unknown, encoding?: unknown): boolean };
  const push = r.push;
  let got = 0;
  let refused = false;
  r.push = function counted(this: unknown, chunk: unknown, encoding?: unknown): boolean {
    if (refused) return false;
    if (chunk !== null && chunk !== undefined) got += (chunk as Uint8Array).length ?? 0;
    if (got > limit) { refused = true; over(); return false; }
    return push.call(this, chunk, encoding);
  };
}

/**
 * What a Fetch handler gets besides the request, for an HTTP request: the
 * environ is built on its first read. A class rather than an object literal
 * with a getter, which V8 builds through a runtime call on every request.
 */
export class HttpRequestContext implements RequestContext {
  readonly #state: RequestState;
  readonly remoteAddr: string;
  readonly remotePort: number;
  readonly listener: ListenerSpec;
  readonly mountpoint: string;
  constructor(state: RequestState, remoteAddr: string, remotePort: number, listener: ListenerSpec, mountpoint: string) {
    this.#state = state;
    this.remoteAddr = remoteAddr;
    this.remotePort = remotePort;
    this.listener = listener;
    this.mountpoint = mountpoint;
  }
  get env(): Record<string, string> { return this.#state.env(); }
}

/** The node:http handlers of one `--http-socket` listener. */
export function httpHandlers(sc: ServingContext, spec: ListenerSpec): HttpServeHandlers {
  const lc = sc.config;
  const tracked = new WeakMap<HttpSocket, TrackedConnection>();
  const stallMs = lc.socketTimeout * 1000;

  const handlers: HttpServeHandlers = {
    connection(sock) {
      const t = sc.guard.admit(() => sock.destroy());
      if (!t) { sock.destroy(); return; }
      tracked.set(sock, t);
      sock.on('close', () => t.closed());
    },

    checkContinue(req, res) {
      const cl = Number(req.headers['content-length'] ?? 0);
      // Refused before the client sends the body it announced.
      if (lc.limitPost > 0 && cl > lc.limitPost) { refuse(res, 413, `request body over limit-post (${lc.limitPost} bytes)`); return; }
      res.writeContinue();
      handlers.request(req, res);
    },

    request(req, res) {
      const sock = req.socket;
      const t = tracked.get(sock);
      const te = req.headers['transfer-encoding'];
      const clRaw = req.headers['content-length'];
      const cl = typeof clRaw === 'string' && /^\d{1,15}$/.test(clRaw) ? Number(clRaw) : 0;
      const hasBody = cl > 0 || te !== undefined;
      if (t) {
        t.enter(hasBody ? 'body' : 'app');
        if (hasBody) req.on('end', () => { if (t.phase === 'body') t.enter('app'); });
        res.on('finish', () => t.enter(lc.keepAlive && res.shouldKeepAlive ? 'idle' : 'closing'));
      }
      if (!lc.keepAlive) res.shouldKeepAlive = false;
      const alias = aliasProblem(req.rawHeaders);
      if (alias) { refuse(res, 400, alias); return; }
      if (lc.limitPost > 0 && cl > lc.limitPost) { refuse(res, 413, `request body over limit-post (${lc.limitPost} bytes)`); return; }
      const url = req.url ?? '/';
      const { path, query } = pathOf(url);
      const picked = sc.pickApp('', path);
      const method = req.method ?? 'GET';
      const info: ServedRequest = { protocol: 'http', modifier1: 0, modifier2: 0, method, uri: url, remoteAddr: sock.remoteAddress ?? '', cl, listener: spec.id };
      const ticket = sc.hook('accounting')?.begin(info);
      const sent0 = sock.bytesWritten ?? 0;
      let failure: unknown;
      let ended = false;
      // Made before the app is known to exist: its environ is only asked for by the app, so `picked` is there then.
      const state = new ServedState(cl, () => envOf(req, spec, picked!.scriptName, picked!.pathInfo, query), () => sock.destroy());
      const end = () => {
        if (ended) return;
        ended = true;
        ticket?.end(Math.max(0, (sock.bytesWritten ?? 0) - sent0), failure === OVER_LIMIT ? undefined : failure);
        state.release();
      };
      res.on('finish', end);
      res.on('close', end);
      const fail = (e: unknown) => {
        // The client went away, or its body broke limit-post: not the app's failure.
        if (sock.destroyed || failure === OVER_LIMIT) { if (!res.writableEnded) sock.destroy(); return; }
        failure = e;
        (sc.hook('onError') ?? defaultOnError)(e, info);
        if (!res.headersSent && !res.writableEnded) refuse(res, 500, 'Internal Server Error');
        else sock.destroy();
      };
      if (!picked) { fail(new UwsgiError('ERR_NOT_CONFIGURED', 'no app loaded (an app file exports default { fetch(request) { ... } } or a (req, res) listener)')); return; }
      const app = picked.mounted.app;
      const over = () => { failure = OVER_LIMIT; if (!res.headersSent) refuse(res, 413, `request body over limit-post (${lc.limitPost} bytes)`); else sock.destroy(); };
      if (app.listener && lc.limitPost > 0 && te !== undefined) limitPushes(req, lc.limitPost, over);
      const run = (): unknown => {
        if (app.listener) {
          if (picked.scriptName !== '') {
            // As Express mounts do: the app sees its own part of the path; originalUrl keeps the whole.
            const r = req as NodeRequest & { url?: string; originalUrl?: string };
            r.originalUrl ??= url;
            r.url = url.slice(picked.scriptName.length) || '/';
          }
          return (app.listener as ServedListener)(req, res);
        }
        const host = req.headers.host;
        const full = requestUrl('http', typeof host === 'string' ? host : '', `${spec.host ?? 'localhost'}${spec.port ? `:${spec.port}` : ''}`, url);
        if (full === null) { refuse(res, 400, 'Bad Request'); return undefined; }
        const request = lazyRequest({
          url: full, method,
          headers: () => {
            const raw = req.rawHeaders;
            const out: Array<[string, string]> = [];
            for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
            return out;
          },
          body: () => (hasBody ? bodyStream(req, lc.limitPost, over) : null),
        });
        const ctx = new HttpRequestContext(state, info.remoteAddr, sock.remotePort ?? 0, spec, picked.mounted.mountpoint);
        return Promise.resolve(app.fetch(request, ctx)).then((r) => {
          if (state.disconnected || sock.destroyed) return undefined;
          if (!(r instanceof Response)) throw new UwsgiError('ERR_ARG_TYPE', `the app's fetch must return a Response, got ${typeName(r)}`);
          if (res.headersSent) return undefined;
          return writeNodeResponse(r, res, method === 'HEAD', stallMs);
        });
      };
      try {
        const out = runInRequest(state, ticket, run);
        if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, fail);
      } catch (e) {
        fail(e);
      }
    },
  };
  return handlers;
}
