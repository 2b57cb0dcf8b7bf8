/**
 * Listeners in every worker: `--socket` (uwsgi protocol: requests from nginx's
 * `uwsgi_pass`, and uWSGI's management packets) and `--http-socket` (HTTP/1.1
 * on the runtime's node:http, ./http.ts). Each worker accepts on the shared
 * listeners and calls the app in either shape (./apps.ts):
 *
 * ```js
 * export default {
 *   async fetch(request, ctx) {            // a web-standard Request; ctx.env is the CGI/WSGI environ
 *     const body = await request.text();   // the request body, streamed from the socket
 *     return new Response(`hello ${ctx.env.REMOTE_ADDR}`); // its body is streamed back
 *   },
 * };
 * // or: export default expressApp;       // a (req, res) listener gets node:http's objects on both listeners
 * ```
 *
 * Why Fetch-style first: `Request` and `Response` are the one HTTP API that
 * Node, Deno and Bun share, their bodies are web streams with backpressure in
 * both directions, and the CGI variables are still there for code ported from
 * uWSGI (`ctx.env`). Node-style apps are the Node ecosystem's (Express,
 * Fastify, Koa): they get the runtime's own `IncomingMessage` and
 * `ServerResponse`, over uwsgi connections too (the request is handed to a
 * node:http server as HTTP bytes, and its answer, HTTP, is what the uwsgi
 * protocol sends back).
 * @module
 */
import { PacketReader, decodeVars, type Packet } from '../protocol/codec.ts';
import { UwsgiError, typeName } from '../kernel/errors.ts';
import type { ListenConfig, ListenerSpec } from './listen.ts';
import {
  type BridgeHead, type HttpBridge, type Listener, type ListenerAddress, type ListenTicket, type NodeRequest, type NodeResponse, type Socket, type SocketHandlers, runtime,
} from '../platform/index.ts';
import { SocketStream } from '../protocol/stream.ts';
import { MOD, type PacketIO, servePacket } from './packets.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { raiseSignal } from '../signals/signals.ts';
import { spoolPacketHook } from '../spooler/spooler.ts';
import type { App, RequestContext, ServedListener } from './apps.ts';
import {
  type MountedApp, type ServedRequest, type ServerHooks, type ServingContext, ServedState,
  defaultOnError, isLocalPeer, processAccounting, runInRequest, serverHooks,
} from './context.ts';
import { ConnectionGuard, type TrackedConnection } from './connections.ts';
import { bodySource, headerValueOk, lazyRequest, requestUrl } from './fetch.ts';
import { httpHandlers } from './http.ts';
import { nativeHandler } from './native.ts';

export type { App, FetchHandler, NodeListener, RequestContext } from './apps.ts';
export {
  type ServedRequest, type RequestTicket, type RequestAccounting, type ServerHooks,
  processAccounting, setServerHooks, serverHooks, disconnectCurrent, currentEnv,
} from './context.ts';

/** Bytes buffered from a connection before it is paused, and below which it is resumed. */
const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;
/** How long a finished connection waits for the peer to close before it is destroyed (ms). */
const LINGER_MS = 2000;

// ---- HTTP pieces of the uwsgi listener (its answers are HTTP, as uWSGI's are) -----------

const enc = new TextEncoder();
const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently',
  302: 'Found', 303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 413: 'Content Too Large', 414: 'URI Too Long',
  415: 'Unsupported Media Type', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** A complete HTTP/1.1 answer as bytes, for the paths that answer before any app runs. */
function rawHttp(status: number, text: string): Uint8Array {
  const body = enc.encode(text);
  return enc.encode(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${text}`);
}

function simpleResponse(status: number, text: string): Response {
  return new Response(text, { status, headers: { 'content-type': 'text/plain' } });
}

/** `HTTP_ACCEPT_ENCODING` → `accept-encoding` (cached: the same few names come in every request). */
const headerNames = new Map<string, string>();
function headerName(key: string, from: number): string {
  let n = headerNames.get(key);
  if (n === undefined) {
    n = key.slice(from).toLowerCase().replace(/_/g, '-');
    if (headerNames.size < 1024) headerNames.set(key, n);
  }
  return n;
}

/** A header name made only of token characters (what an HTTP head may carry). */
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** The request headers an environ carries (HTTP_* and CONTENT_*), as pairs; values `Headers` would refuse are left out. */
function envHeaders(env: Record<string, string>): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const k in env) {
    let name: string | undefined;
    if (k.startsWith('HTTP_')) {
      if (k === 'HTTP_CONTENT_TYPE' || k === 'HTTP_CONTENT_LENGTH') continue;
      name = headerName(k, 5);
    } else if (k === 'CONTENT_TYPE' || k === 'CONTENT_LENGTH') {
      if (env[k] === '') continue;
      name = headerName(k, 0);
    }
    if (name !== undefined && name !== '' && TOKEN.test(name) && headerValueOk(env[k]!)) pairs.push([name, env[k]!]);
  }
  return pairs;
}

/**
 * The request head of the environ for a `(req, res)` app over a uwsgi
 * connection ({@link HttpBridge}: answered as HTTP/1.0, so node:http neither
 * chunks nor keeps the connection, which is the uwsgi protocol's framing).
 * Null when a name or value could not travel in an HTTP head (the request
 * gets 400).
 */
function nodeHead(env: Record<string, string>, target: string, contentLength: number): BridgeHead | null {
  const method = env.REQUEST_METHOD || 'GET';
  if (!TOKEN.test(method) || !/^[\x21-\x7e\x80-\xff]+$/.test(target)) return null;
  const rawHeaders: string[] = [];
  for (const k in env) {
    let name: string;
    if (k.startsWith('HTTP_')) {
      if (k === 'HTTP_CONTENT_TYPE' || k === 'HTTP_CONTENT_LENGTH' || k === 'HTTP_TRANSFER_ENCODING' || k === 'HTTP_CONNECTION') continue;
      name = headerName(k, 5);
    } else if (k === 'CONTENT_TYPE' || k === 'CONTENT_LENGTH') {
      if (env[k] === '') continue;
      name = headerName(k, 0);
    } else continue;
    const v = env[k]!;
    if (name === '' || !TOKEN.test(name) || !headerValueOk(v)) return null;
    rawHeaders.push(name, v);
  }
  return { method, url: target, rawHeaders, contentLength };
}

/** A file to send as a response body: `uwsgi.sendfile(path | fd)`. */
export function sendfileResponse(file: unknown, chunk?: unknown, pos?: unknown, filesize?: unknown): Promise<Response> {
  if (typeof file !== 'string' && !(typeof file === 'number' && Number.isInteger(file) && file >= 0)) {
    throw new UwsgiError('ERR_ARG_TYPE', `sendfile: file must be a path or a file descriptor, got ${typeName(file)}`);
  }
  const num = (name: string, v: unknown, dflt: number) => {
    if (v === undefined || v === 0) return dflt;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UwsgiError('ERR_ARG_TYPE', `sendfile: ${name} must be a non-negative integer, got ${typeName(v)}`);
    return v;
  };
  const c = num('chunk', chunk, 64 * 1024);
  const p = num('pos', pos, 0);
  const size = filesize === undefined || filesize === 0 ? undefined : num('filesize', filesize, 0);
  // Arguments are checked at once (a throw); reading the file is the promise's part.
  return runtime().fileStream(file as string | number, c, p, size).then(
    (fs) => new Response(fs.stream, { headers: { 'content-length': String(fs.size) } }),
    (e) => { throw new UwsgiError('ERR_NOT_FOUND', `sendfile: cannot read ${typeof file === 'string' ? `'${file}'` : `descriptor ${file}`}: ${(e as Error).message}`); },
  );
}

/** Options of {@link WorkerServer}. */
export interface WorkerServerOptions {
  /** Apps by mountpoint ('' is the default app). */
  apps: Array<{ mountpoint: string; app: App }>;
  /** One ticket per listener of `lc.listeners` (from the master, or `{ bind: true }` to bind alone). */
  tickets: ListenTicket[];
  hooks?: ServerHooks;
}

/** The listeners of one worker and the apps they serve. */
export class WorkerServer implements ServingContext {
  /** The thread view whose engine answers management packets and counts requests. */
  readonly ctx: ThreadContext;
  readonly config: ListenConfig;
  readonly apps: MountedApp[];
  /** The connections of every listener of this worker: the cap and the deadlines. */
  readonly guard: ConnectionGuard;
  readonly #servers: Listener[] = [];
  readonly #hooks: ServerHooks;
  #bridge: HttpBridge | undefined;

  private constructor(ctx: ThreadContext, lc: ListenConfig, opts: WorkerServerOptions) {
    this.ctx = ctx;
    this.config = lc;
    // Longest mountpoint first, so /a/b wins over /a.
    this.apps = [...opts.apps].sort((a, b) => b.mountpoint.length - a.mountpoint.length);
    this.#hooks = opts.hooks ?? {};
    this.guard = new ConnectionGuard({
      max: lc.maxConnections, headMs: lc.headersTimeout * 1000, bodyMs: lc.bodyTimeout * 1000,
      idleMs: lc.socketTimeout * 1000, lingerMs: LINGER_MS,
    });
  }

  /** Start accepting on every listener of `lc`. */
  static async start(ctx: ThreadContext, lc: ListenConfig, opts: WorkerServerOptions): Promise<WorkerServer> {
    const s = new WorkerServer(ctx, lc, opts);
    if (lc.httpNative && runtime().serveFetch && lc.listeners.some((l) => l.protocol === 'http')) {
      const node = s.apps.find((a) => a.app.listener);
      if (node) throw new UwsgiError('ERR_OPTION', `option 'http-native': ${runtime().name}'s own Fetch server serves Fetch apps only, and the app mounted at '${node.mountpoint || '/'}' is a (req, res) listener; leave out --http-native to serve it on node:http`);
    }
    try {
      for (const spec of lc.listeners) {
        const ticket = opts.tickets[spec.id];
        if (!ticket) throw new UwsgiError('ERR_INTERNAL', `no ticket for listener ${spec.id} (${spec.address})`);
        const serveFetch = runtime().serveFetch;
        if (spec.protocol === 'http' && lc.httpNative && serveFetch) {
          s.#servers.push(await serveFetch(spec, ticket, lc.backlog, {
            idleTimeoutS: lc.socketTimeout, maxBodySize: lc.limitPost, keepAlive: lc.keepAlive,
          }, nativeHandler(s, spec)));
        } else if (spec.protocol === 'http') {
          s.#servers.push(await runtime().listenHttp(spec, ticket, lc.backlog, {
            maxHeaderSize: Math.max(lc.bufferSize, 4096),
            headersTimeoutMs: lc.headersTimeout * 1000,
            requestTimeoutMs: (lc.headersTimeout + lc.bodyTimeout) * 1000,
            keepAliveTimeoutMs: lc.socketTimeout * 1000,
          }, httpHandlers(s, spec)));
        } else {
          s.#servers.push(await runtime().listenWithTicket(spec, ticket, lc.backlog, (sock) => s.#accept(spec, sock)));
        }
      }
    } catch (e) {
      await s.close();
      throw e;
    }
    return s;
  }

  /** Where each listener is bound (resolved ports for port 0 are not used: ports are configured). */
  addresses(): Array<ListenerAddress | null> { return this.#servers.map((sv) => sv.address()); }

  /** Stop accepting and close every open connection. */
  async close(): Promise<void> {
    const closing = this.#servers.splice(0).map((sv) => sv.close());
    this.guard.closeAll();
    await Promise.all(closing);
  }

  hook<K extends keyof ServerHooks>(k: K): ServerHooks[K] { return this.#hooks[k] ?? serverHooks()[k] ?? this.#defaults()[k]; }

  #defaultHooks?: ServerHooks;
  /** What a server uses when no hook was given: this engine's own accounting, signals and spooler. */
  #defaults(): ServerHooks {
    return this.#defaultHooks ??= {
      accounting: processAccounting(this.ctx),
      raiseSignal: (num: number) => raiseSignal(this, num),
      // Without a configured spooler this refuses (ff 00 00 00), as uWSGI.
      spool: spoolPacketHook(this.ctx),
    };
  }

  pickApp(scriptName: string, pathInfo: string): { mounted: MountedApp; scriptName: string; pathInfo: string } | undefined {
    for (const a of this.apps) {
      if (a.mountpoint === '') continue;
      if (scriptName === a.mountpoint) return { mounted: a, scriptName, pathInfo };
      if (!scriptName && (pathInfo === a.mountpoint || pathInfo.startsWith(`${a.mountpoint}/`))) {
        return { mounted: a, scriptName: a.mountpoint, pathInfo: pathInfo.slice(a.mountpoint.length) };
      }
    }
    // uWSGI's default app: the one mounted at '' or else the first loaded.
    const d = this.apps.find((a) => a.mountpoint === '') ?? this.apps[this.apps.length - 1];
    return d && { mounted: d, scriptName, pathInfo };
  }

  // ---- the uwsgi listener ------------------------------------------------------------------

  #accept(spec: ListenerSpec, sock: Socket): SocketHandlers {
    const t = this.guard.admit(() => sock.destroy());
    // A failed socket (a reset peer) shows in the stream's reads; it is not an app error.
    const io = new SocketStream({ highWater: HIGH_WATER, lowWater: LOW_WATER, timeoutMs: this.config.socketTimeout * 1000, onClosed: () => t?.closed() }).attach(sock);
    if (!t) {
      // Over the cap with every connection being served: refused at once.
      queueMicrotask(() => sock.destroy());
      return io;
    }
    // A request read whole, with nothing after it, is closed as soon as its answer is out (as
    // uWSGI does); otherwise our side ends and the peer's close is awaited (bytes still coming
    // in when we close would reset the connection under the answer).
    this.#uwsgi(spec, sock, io, t).catch(() => false).then((whole) => {
      if (sock.closed) return;
      if (whole && io.buffered === 0) io.finish(); else io.end();
      t.enter('closing');
    });
    return io;
  }

  /** Serve the connection's one packet. True when the request and its body were read whole. */
  async #uwsgi(spec: ListenerSpec, sock: Socket, io: SocketStream, t: TrackedConnection): Promise<boolean> {
    const reader = new PacketReader({ bufferSize: this.config.bufferSize });
    let firstByte = -1;
    while (!reader.complete) {
      const c = await io.read();
      if (!c) return false; // EOF before a whole packet: nobody to answer
      if (firstByte < 0 && c.length > 0) firstByte = c[0]!;
      let used: number;
      try {
        used = reader.push(c);
      } catch {
        // Over buffer-size: uWSGI logs and drops. A request gets a status line nginx can pass on.
        if (firstByte === MOD.REQUEST) await io.write(rawHttp(413, 'request vars are larger than buffer-size'));
        return false;
      }
      io.unshift(c.subarray(used));
    }
    const pkt = reader.packet();
    if (pkt.modifier1 === MOD.REQUEST || pkt.modifier1 === MOD.REQUEST_STRIP) {
      let env: Record<string, string>;
      try {
        env = decodeVars(pkt.body, { bufferSize: this.config.bufferSize });
      } catch {
        await this.#respond(sock, io, simpleResponse(400, 'malformed uwsgi request vars'), 'GET');
        return false;
      }
      if (pkt.modifier1 === MOD.REQUEST_STRIP && env.SCRIPT_NAME && env.PATH_INFO?.startsWith(env.SCRIPT_NAME)) {
        env.PATH_INFO = env.PATH_INFO.slice(env.SCRIPT_NAME.length);
      }
      return this.#request(spec, sock, io, env, pkt, t);
    }
    t.enter('app');
    const info: ServedRequest = { protocol: 'uwsgi', modifier1: pkt.modifier1, modifier2: pkt.modifier2, method: '', uri: '', remoteAddr: sock.remoteAddress ?? '', cl: 0, listener: spec.id };
    const ticket = this.hook('accounting')?.begin(info);
    let failure: unknown;
    try {
      // Packets that change state come only from this machine unless --remote-peers any.
      const local = this.config.remotePeers === 'any' || isLocalPeer(sock.remoteAddress, spec.path !== undefined);
      const known = await servePacket(this.ctx, this.config, { raiseSignal: this.hook('raiseSignal'), spool: this.hook('spool') }, pkt, io satisfies PacketIO, local);
      // Unknown modifier: uWSGI closes without a byte; there is no reply format to use.
      if (!known) sock.destroy();
    } catch (e) {
      failure = e;
      sock.destroy();
    } finally {
      ticket?.end(io.tx, failure);
    }
    return false;
  }

  async #request(spec: ListenerSpec, sock: Socket, io: SocketStream, env: Record<string, string>, pkt: Packet, t: TrackedConnection): Promise<boolean> {
    const clRaw = env.CONTENT_LENGTH ?? '';
    const cl = /^\d{1,15}$/.test(clRaw) ? Number(clRaw) : 0;
    const method = env.REQUEST_METHOD || 'GET';
    t.enter(cl > 0 ? 'body' : 'app');
    if (clRaw !== '' && !/^\d{1,15}$/.test(clRaw)) {
      await this.#respond(sock, io, simpleResponse(400, 'malformed CONTENT_LENGTH'), method);
      return false;
    }
    if (this.config.limitPost > 0 && cl > this.config.limitPost) {
      await this.#respond(sock, io, simpleResponse(413, `request body over limit-post (${this.config.limitPost} bytes)`), method);
      sock.destroy();
      return false;
    }
    const picked = this.pickApp(env.SCRIPT_NAME ?? '', env.PATH_INFO ?? '/');
    if (picked) { env.SCRIPT_NAME = picked.scriptName; env.PATH_INFO = picked.pathInfo; }
    const info: ServedRequest = {
      protocol: spec.protocol, modifier1: pkt.modifier1, modifier2: pkt.modifier2, method,
      uri: env.REQUEST_URI ?? env.PATH_INFO ?? '', remoteAddr: env.REMOTE_ADDR || sock.remoteAddress || '', cl, listener: spec.id,
    };
    if (picked?.mounted.app.listener) return this.#nodeRequest(spec, sock, io, env, info, picked.mounted.app.listener as ServedListener, picked.scriptName, t);
    const ticket = this.hook('accounting')?.begin(info);
    let failure: unknown;
    let left = cl;
    let state: ServedState | undefined;
    try {
      let body: ReadableStream<Uint8Array> | null = null;
      if (cl > 0) {
        body = new ReadableStream<Uint8Array>({
          async pull(ctrl) {
            try {
              const c = await io.read(left);
              if (!c) { ctrl.error(new UwsgiError('ERR_PROTOCOL', `the request body ended ${left} bytes early`)); return; }
              left -= c.length;
              ctrl.enqueue(c);
              if (left === 0) { ctrl.close(); t.enter('app'); }
            } catch (e) {
              ctrl.error(e);
            }
          },
        });
      }
      let res: Response;
      if (!picked) {
        res = simpleResponse(500, 'uwsgi-wasm: no app loaded (an app file exports default { fetch(request) { ... } } or a (req, res) listener)');
      } else {
        const scheme = env.REQUEST_SCHEME || (env.HTTPS === 'on' ? 'https' : 'http');
        const fallbackHost = env.SERVER_NAME ? `${env.SERVER_NAME}${env.SERVER_PORT ? `:${env.SERVER_PORT}` : ''}` : 'localhost';
        const target = env.REQUEST_URI || `${env.SCRIPT_NAME ?? ''}${env.PATH_INFO ?? '/'}${env.QUERY_STRING ? `?${env.QUERY_STRING}` : ''}`;
        const url = requestUrl(scheme, env.HTTP_HOST || fallbackHost, fallbackHost, target);
        if (url === null) {
          res = simpleResponse(400, 'Bad Request');
        } else {
          const req = lazyRequest({ url, method, headers: () => envHeaders(env), body: () => body });
          const ctx: RequestContext = {
            env, remoteAddr: info.remoteAddr, remotePort: Number(env.REMOTE_PORT || sock.remotePort || 0), listener: spec, mountpoint: picked.mounted.mountpoint,
          };
          state = new ServedState(cl, () => env, () => sock.destroy());
          const app = picked.mounted.app;
          try {
            const r = await runInRequest(state, ticket, () => app.fetch!(req, ctx));
            if (!(r instanceof Response)) throw new UwsgiError('ERR_ARG_TYPE', `the app's fetch must return a Response, got ${typeName(r)}`);
            res = r;
          } catch (e) {
            failure = e;
            (this.hook('onError') ?? defaultOnError)(e, info);
            res = simpleResponse(500, 'Internal Server Error');
          }
          if (state.disconnected) return false;
        }
      }
      // Read whole already (no body, or the app read it): the answer's last write closes the socket.
      await this.#respond(sock, io, res, method, left === 0 && io.buffered === 0);
      // A body the app left unread is drained, so closing does not reset the connection under the response.
      if (left > 0 && !sock.closed && await io.discard(left).catch(() => false)) left = 0;
      return left === 0;
    } catch (e) {
      failure ??= e;
      sock.destroy();
      return false;
    } finally {
      ticket?.end(io.tx, failure);
      state?.release();
    }
  }

  /** A `(req, res)` app over a uwsgi connection: the request goes to node:http as HTTP/1.0 bytes, its answer back to the peer. */
  async #nodeRequest(spec: ListenerSpec, sock: Socket, io: SocketStream, env: Record<string, string>, info: ServedRequest, listener: ServedListener, scriptName: string, t: TrackedConnection): Promise<boolean> {
    const uri = info.uri || '/';
    // A mounted app sees its own part of the path, as under an Express mount.
    const target = scriptName !== '' && uri.startsWith(scriptName) ? uri.slice(scriptName.length) || '/' : uri;
    const head = nodeHead(env, target, info.cl);
    if (!head) {
      await this.#respond(sock, io, simpleResponse(400, 'a request header cannot travel in HTTP'), info.method);
      return false;
    }
    const ticket = this.hook('accounting')?.begin(info);
    let failure: unknown;
    let finished!: () => void;
    const done = new Promise<void>((r) => { finished = r; });
    const state = new ServedState(info.cl, () => env, () => sock.destroy());
    const bridge = this.#bridge ??= runtime().httpBridge();
    const stream = bridge.open({
      remoteAddress: info.remoteAddr,
      remotePort: Number(env.REMOTE_PORT || 0),
      write: (b) => io.write(b),
      end: () => finished(),
      destroy: () => { sock.destroy(); finished(); },
      request: (req: NodeRequest, res: NodeResponse) => {
        if (scriptName !== '') (req as NodeRequest & { originalUrl?: string }).originalUrl = uri;
        const fail = (e: unknown) => {
          failure = e;
          (this.hook('onError') ?? defaultOnError)(e, info);
          if (!res.headersSent) { res.statusCode = 500; res.end('Internal Server Error'); } else sock.destroy();
        };
        try {
          const out = runInRequest(state, ticket, () => listener(req, res));
          if (out && typeof (out as Promise<unknown>).then === 'function') (out as Promise<unknown>).then(undefined, fail);
        } catch (e) {
          fail(e);
        }
      },
    }, head);
    // The peer going away ends the request for node:http too.
    void io.whenClosed().then(() => { stream.destroy(); finished(); });
    try {
      let left = info.cl;
      // The body goes to node:http as the app reads it, until the answer is out:
      // an app may answer without reading it (not every node:http drains it then).
      let answered = false;
      void done.then(() => { answered = true; });
      while (left > 0 && !answered) {
        const c = await io.read(left);
        if (!c) { stream.destroy(); break; }
        left -= c.length;
        if (!stream.push(c)) await Promise.race([stream.wanted(), done]);
      }
      t.enter('app');
      await done;
      // What is left unread is drained, so closing does not reset the connection under the response.
      if (left > 0 && !sock.closed && await io.discard(left).catch(() => false)) left = 0;
      return left === 0;
    } catch (e) {
      failure ??= e;
      stream.destroy();
      sock.destroy();
      return false;
    } finally {
      ticket?.end(io.tx, failure);
      state.release();
    }
  }

  /** Send `res`; with `close`, the socket closes as soon as it is out (the request was read whole). */
  async #respond(sock: Socket, io: SocketStream, res: Response, method: string, close = false): Promise<void> {
    const last = (b?: Uint8Array) => { if (close) io.finish(b); else io.end(b); };
    if (method !== 'HEAD' && res.body) {
      const src = bodySource(res);
      if (src !== undefined) {
        const bytes = typeof src === 'string' ? enc.encode(src) : src;
        last(headBytes(res, bytes.length, bytes));
        return;
      }
    }
    const reader = method === 'HEAD' || !res.body ? null : res.body.getReader();
    if (!reader) {
      last(headBytes(res, !res.body && !res.headers.has('content-length') ? 0 : undefined, null));
      return;
    }
    // A body of at most one chunk (most responses) goes out with its head in one
    // write, with a Content-Length when the app gave none; longer ones stream until close.
    const a = await reader.read();
    if (a.done) { last(headBytes(res, 0, null)); return; }
    const b = await reader.read();
    if (b.done) { last(headBytes(res, a.value.length, a.value)); return; }
    await io.write(headBytes(res, undefined, null));
    await io.write(a.value);
    await io.write(b.value);
    for (;;) {
      if (sock.closed) { await reader.cancel().catch(() => undefined); break; }
      const r = await reader.read();
      if (r.done) break;
      await io.write(r.value);
    }
    last();
  }
}

/** The response head (and `body`, when given, right after it in the same buffer). */
function headBytes(res: Response, contentLength: number | undefined, body: Uint8Array | null): Uint8Array {
  let head = `HTTP/1.1 ${res.status} ${res.statusText || REASONS[res.status] || 'Unknown'}\r\n`;
  let hasCl = false;
  res.headers.forEach((v, k) => {
    if (k === 'content-length') hasCl = true;
    if (k !== 'set-cookie' && k !== 'connection' && k !== 'transfer-encoding') head += `${k}: ${v}\r\n`;
  });
  const cookies = (res.headers as Headers & { getSetCookie?: () => string[] }).getSetCookie?.() ?? [];
  for (const c of cookies) head += `set-cookie: ${c}\r\n`;
  if (contentLength !== undefined && !hasCl) head += `content-length: ${contentLength}\r\n`;
  head += 'connection: close\r\n\r\n';
  if (!body || body.length === 0) return enc.encode(head);
  // Header values are ByteStrings (code points below 256): at most 2 UTF-8 bytes each.
  const buf = new Uint8Array(head.length * 2 + body.length);
  const n = enc.encodeInto(head, buf).written;
  buf.set(body, n);
  return buf.subarray(0, n + body.length);
}

/** Accept-queue length of listener `id` (connections the kernel holds that no worker has accepted yet). */
export function listenQueue(listeners: ListenerSpec[], id: number): number {
  const spec = listeners[id];
  if (!spec) throw new UwsgiError('ERR_NOT_FOUND', `listen_queue: no listener ${id} (${listeners.length} configured)`);
  return spec.port === undefined ? 0 : runtime().tcpListenQueue(spec.port);
}
