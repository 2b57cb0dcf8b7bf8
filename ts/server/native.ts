/**
 * `--http-native`: Fetch apps on `--http-socket` served by the runtime's own
 * Fetch server (`Deno.serve`, `Bun.serve`; the binding's `serveFetch`)
 * instead of its node:http. The runtime parses the request and writes the
 * `Response` itself (keep-alive, pipelining, chunked bodies, 100-continue,
 * HEAD, and 400 for smuggling attempts); this file adds what uWSGI adds per
 * request, as ./http.ts does for node:http: `--buffer-size` (431),
 * `--limit-post` (413), header names that would alias another in the CGI
 * environ (400), a body that stalls for `--socket-timeout` (408), mountpoints,
 * request accounting and the request scope.
 *
 * What these servers do not let a server do is the README's to say: no
 * deadline for a head that never completes, no connection cap, no close
 * before the handler returns (`disconnect()` drops it then, the binding's way), and the
 * request's `tx` is what the `Response` declares (its Content-Length).
 * @module
 */
import type { FetchPeer, FetchServeHandler } from '../platform/index.ts';
import type { ListenerSpec } from './listen.ts';
import { type ServedRequest, type ServingContext, ServedState, defaultOnError, runInRequest } from './context.ts';
import { HttpRequestContext, aliasProblem, cgiName, pathOf } from './http.ts';
import { UwsgiError, typeName } from '../kernel/errors.ts';

const TEXT = { 'content-type': 'text/plain' };
/** `disconnect()` here: the connection is dropped when the handler returns no response. */
const NO_DROP = (): void => {};

/** A refusal that ends the connection (the request's body may be left unread). */
function refusal(status: number, text: string): Response {
  return new Response(text, { status, headers: { ...TEXT, connection: 'close' } });
}

/** `r`, answered with `Connection: close` (copied when its headers are immutable, as a fetch()'s are). */
function closing(r: Response): Response {
  try {
    r.headers.set('connection', 'close');
    return r;
  } catch {
    const c = new Response(r.body, { status: r.status, statusText: r.statusText, headers: r.headers });
    c.headers.set('connection', 'close');
    return c;
  }
}

/**
 * A chunked request body counted against `--limit-post` as the app reads it
 * (an announced one is refused before the app is asked). Only such bodies
 * are wrapped: any other stays the runtime's own, which it can pass on
 * without JS touching each chunk (`new Response(request.body)`).
 */
function countedBody(body: ReadableStream<Uint8Array>, limit: number, onOver: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let got = 0;
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      const r = await reader.read();
      if (r.done) { c.close(); return; }
      got += r.value.length;
      if (got > limit) {
        onOver();
        const e = new UwsgiError('ERR_VALUE_RANGE', `the request body is over limit-post (${limit} bytes)`);
        reader.cancel(e).catch(() => {});
        c.error(e);
        return;
      }
      c.enqueue(r.value);
    },
    cancel(reason) { return reader.cancel(reason); },
  }, { highWaterMark: 0 });
}

/** The CGI environ of a request the runtime's server parsed (what `ctx.env` and `route()` read). */
function envOfRequest(request: Request, target: string, peer: FetchPeer, spec: ListenerSpec, scriptName: string, pathInfo: string, query: string): Record<string, string> {
  const env: Record<string, string> = Object.create(null);
  env.REQUEST_METHOD = request.method;
  env.REQUEST_URI = target;
  env.PATH_INFO = pathInfo;
  env.SCRIPT_NAME = scriptName;
  env.QUERY_STRING = query;
  // Neither Deno.serve nor Bun.serve tells the request's version; both speak HTTP/1.1.
  env.SERVER_PROTOCOL = 'HTTP/1.1';
  env.REQUEST_SCHEME = 'http';
  env.REMOTE_ADDR = peer.remoteAddr;
  env.REMOTE_PORT = peer.remotePort ? String(peer.remotePort) : '';
  env.SERVER_NAME = spec.host ?? 'localhost';
  env.SERVER_PORT = spec.port !== undefined ? String(spec.port) : '';
  request.headers.forEach((value, name) => {
    const key = cgiName(name);
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') env[key] = value;
    env[`HTTP_${key}`] = value;
  });
  return env;
}

/** The request target (path and query) of an absolute URL as the runtime's server gives it. */
function targetOf(url: string): string {
  const authority = url.indexOf('//');
  const slash = url.indexOf('/', authority < 0 ? 0 : authority + 2);
  return slash < 0 ? '/' : url.slice(slash);
}

/** The handler of one `--http-socket` listener served by the runtime's own Fetch server. */
export function nativeHandler(sc: ServingContext, spec: ListenerSpec): FetchServeHandler {
  const lc = sc.config;
  const maxHead = Math.max(lc.bufferSize, 4096);

  return (incoming, peer) => {
    const method = incoming.method;
    const target = targetOf(incoming.url);
    // One pass over the headers: the head's size (--buffer-size) and whether a name has a '_'.
    let size = method.length + target.length + 12;
    let underscore = false;
    let clRaw: string | null = null;
    incoming.headers.forEach((value, name) => {
      size += name.length + value.length + 4;
      if (name.includes('_')) underscore = true;
      else if (name === 'content-length') clRaw = value;
    });
    if (size > maxHead) return refusal(431, `request head over buffer-size (${maxHead} bytes)`);
    if (underscore) {
      const raw: string[] = [];
      incoming.headers.forEach((value, name) => { raw.push(name, value); });
      const alias = aliasProblem(raw);
      if (alias) return refusal(400, alias);
    }
    const cl = clRaw !== null && /^\d{1,15}$/.test(clRaw) ? Number(clRaw) : 0;
    if (lc.limitPost > 0 && cl > lc.limitPost) return refusal(413, `request body over limit-post (${lc.limitPost} bytes)`);

    let over = false;
    let request = incoming;
    if (lc.limitPost > 0 && clRaw === null && incoming.body !== null && method !== 'GET' && method !== 'HEAD') {
      const body = countedBody(incoming.body, lc.limitPost, () => { over = true; });
      request = new Request(incoming.url, { method, headers: incoming.headers, body, duplex: 'half' } as RequestInit);
    }

    const { path, query } = pathOf(target);
    const picked = sc.pickApp('', path);
    const info: ServedRequest = { protocol: 'http', modifier1: 0, modifier2: 0, method, uri: target, remoteAddr: peer.remoteAddr, cl, listener: spec.id };
    const ticket = sc.hook('accounting')?.begin(info);
    let failure: unknown;
    let tx = 0;
    // Made before the app is known to exist: its environ is only asked for by the app, so `picked` is there then. The
    // runtime's server gives no handle on the connection: it is dropped when the handler returns no response (below).
    const state = new ServedState(cl, () => envOfRequest(incoming, target, peer, spec, picked!.scriptName, picked!.pathInfo, query), NO_DROP);
    const end = () => { ticket?.end(tx, failure); state.release(); };
    const settle = <R extends Response | null>(r: R): R => {
      if (peer.completed) peer.completed.then(end, end); else end();
      return r;
    };
    const fail = (e: unknown): Response => {
      if (over) return settle(refusal(413, `request body over limit-post (${lc.limitPost} bytes)`));
      // The peer went away under its body: not the app's failure, and nobody reads an answer.
      if (peer.gone(e)) return settle(refusal(400, 'the request was cut short'));
      failure = e;
      (sc.hook('onError') ?? defaultOnError)(e, info);
      return settle(refusal(500, 'Internal Server Error'));
    };
    if (!picked) return fail(new UwsgiError('ERR_NOT_CONFIGURED', 'no app loaded (an app file exports default { fetch(request) { ... } })'));
    const app = picked.mounted.app;
    if (!app.fetch) return fail(new UwsgiError('ERR_UNSUPPORTED', `--http-native serves Fetch apps only; the app at '${picked.mounted.mountpoint || '/'}' is a (req, res) listener`));
    const answer = (r: unknown): Response | null => {
      // disconnect(): the runtime's server drops the connection (its way: the binding's) when given no response.
      if (state.disconnected) { settle(null); return null; }
      if (!(r instanceof Response)) throw new UwsgiError('ERR_ARG_TYPE', `the app's fetch must return a Response, got ${typeName(r)}`);
      const declared = r.headers.get('content-length');
      if (declared !== null) tx = Number(declared) || 0;
      return settle(lc.keepAlive ? r : closing(r));
    };
    const ctx = new HttpRequestContext(state, peer.remoteAddr, peer.remotePort, spec, picked.mounted.mountpoint);
    try {
      const out = runInRequest(state, ticket, () => app.fetch(request, ctx));
      if (out instanceof Response) return answer(out);
      return Promise.resolve(out).then(answer).then(undefined, fail);
    } catch (e) {
      return fail(e);
    }
  };
}
