/**
 * Listeners in every worker: `--socket` (uwsgi protocol: requests from nginx's
 * `uwsgi_pass`, and uWSGI's management packets) and `--http-socket`
 * (HTTP/1.x). Each worker accepts on the shared listeners, decodes the
 * request, and calls the app's Fetch-style handler:
 *
 * ```js
 * export default {
 *   async fetch(request, ctx) {            // a web-standard Request; ctx.env is the CGI/WSGI environ
 *     const body = await request.text();   // the request body, streamed from the socket
 *     return new Response(`hello ${ctx.env.REMOTE_ADDR}`); // its body is streamed back
 *   },
 * };
 * ```
 *
 * Why Fetch-style and not WSGI-like `(env, body) => response`: `Request` and
 * `Response` are the one HTTP API that Node, Deno and Bun share (Deno.serve,
 * Bun.serve and most JS frameworks take such a handler as is), their bodies are
 * web streams with backpressure in both directions, and the CGI variables are
 * still there for code ported from uWSGI (`ctx.env`).
 * @module
 */
import { DEFAULT_BUFFER_SIZE, PacketReader, decodeVars, type Packet } from '../protocol/codec.ts';
import { UwsgiError, typeName } from '../kernel/errors.ts';
import type { ListenConfig, ListenerSpec } from './listen.ts';
import { type Listener, type ListenerAddress, type ListenTicket, type Socket, type SocketHandlers, runtime } from '../platform/index.ts';
import { SocketStream } from '../protocol/stream.ts';
import { MOD, type PacketHooks, type PacketIO, servePacket } from './packets.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type RequestInfo, processOf } from '../process/process.ts';
import { raiseSignal } from '../signals/signals.ts';
import { spoolPacketHook } from '../spooler/spooler.ts';

/** What a handler gets besides the `Request`. */
export interface RequestContext {
  /** The CGI/WSGI environ: nginx's uwsgi_params for `--socket`, built from the request for `--http-socket`. */
  env: Record<string, string>;
  /** The peer's address and port (`REMOTE_ADDR`, `REMOTE_PORT`). */
  remoteAddr: string;
  remotePort: number;
  /** The listener the request came in on. */
  listener: ListenerSpec;
  /** The mountpoint of the app serving it ('' for the default app). */
  mountpoint: string;
}

/** A Fetch-style request handler. */
export type FetchHandler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;

/** An app: what an app file's default export is (`export default { fetch }`). */
export interface App { fetch: FetchHandler }

/** A request as a listener describes it to the accounting and error hooks: every field of {@link RequestInfo} is set. */
export type ServedRequest = Required<RequestInfo>;

/** One request being accounted: ended once, after its last byte was written. */
export interface RequestTicket {
  /** `tx`: bytes written to the peer; `exception`: what the handler threw, if it did. */
  end(tx: number, exception?: unknown): void;
  /** Run the app's handler inside the request's scope (so `request_id()`, `cl()`, logvars are this request's). */
  run?<T>(fn: () => T): T;
}

/**
 * Request accounting: `begin` before a request is handled returns its ticket.
 * Without a hook, a worker's server uses the process subsystem's (the status
 * table's requests, tx, avg_rt, request_id, harakiri deadline, `cl()`).
 */
export interface RequestAccounting {
  begin(info: ServedRequest): RequestTicket | void;
}

/** The process subsystem's accounting for a thread's view: one `RequestScope` per request. */
export function processAccounting(ctx: ThreadContext): RequestAccounting {
  return {
    begin(info) {
      const scope = processOf(ctx).begin(info);
      return {
        end: (tx, exception) => scope.end({ tx, exception: exception !== undefined }),
        run: (fn) => scope.run(fn),
      };
    },
  };
}

/** Everything a server can be given besides its listeners and apps. */
export interface ServerHooks extends PacketHooks {
  accounting?: RequestAccounting;
  /** Where handler failures are reported (default: one line on stderr, as uWSGI logs them). */
  onError?: (error: unknown, info: ServedRequest) => void;
}

let globalHooks: ServerHooks = {};

/**
 * Install hooks for the servers this thread starts from now on (signals,
 * spooler, accounting): the subsystems that own them call this at start-up.
 */
export function setServerHooks(hooks: ServerHooks): void {
  globalHooks = { ...globalHooks, ...hooks };
}

/** The hooks currently installed in this thread. */
export function serverHooks(): ServerHooks { return globalHooks; }

// ---- per-request state (uwsgi.cl(), uwsgi.disconnect()) -------------------------------

interface RequestState { cl: number; sock: Socket; env: Record<string, string>; disconnected: boolean }
const requestStore = runtime().asyncContext<RequestState>();


/** Close the connection of the request being served; the handler goes on. False outside a request. */
export function disconnectCurrent(): boolean {
  const st = requestStore.get();
  if (!st) return false;
  st.disconnected = true;
  st.sock.destroy();
  return true;
}

/** The environ of the request being served (null outside a request). */
export function currentEnv(): Record<string, string> | null { return requestStore.get()?.env ?? null; }

// ---- socket input ---------------------------------------------------------------------

/** Bytes buffered from a connection before it is paused, and below which it is resumed. */
const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;

// ---- HTTP pieces ----------------------------------------------------------------------

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

/** Parse an HTTP/1.x request head into a CGI environ, or an HTTP status to answer with. */
function parseHttpHead(head: string, sock: Socket, spec: ListenerSpec): Record<string, string> | number {
  const lines = head.split('\r\n');
  const m = /^([A-Z][A-Z0-9!#$%&'*+.^_`|~-]*) (\S+) HTTP\/(1\.[01])$/.exec(lines[0] ?? '');
  if (!m) return 400;
  const uri = m[2]!;
  const q = uri.indexOf('?');
  const rawPath = q < 0 ? uri : uri.slice(0, q);
  let path = rawPath;
  try { path = decodeURIComponent(rawPath); } catch { /* keep it raw */ }
  const env: Record<string, string> = Object.create(null);
  env.REQUEST_METHOD = m[1]!;
  env.REQUEST_URI = uri;
  env.PATH_INFO = path;
  env.QUERY_STRING = q < 0 ? '' : uri.slice(q + 1);
  env.SERVER_PROTOCOL = `HTTP/${m[3]}`;
  env.SCRIPT_NAME = '';
  env.REQUEST_SCHEME = 'http';
  env.REMOTE_ADDR = sock.remoteAddress ?? '';
  env.REMOTE_PORT = String(sock.remotePort ?? '');
  env.SERVER_NAME = spec.host ?? 'localhost';
  env.SERVER_PORT = String(spec.port ?? sock.localPort ?? '');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return 400;
    const name = line.slice(0, colon).trim();
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return 400;
    const value = line.slice(colon + 1).trim();
    const key = name.toUpperCase().replace(/-/g, '_');
    if (key === 'CONTENT_TYPE' || key === 'CONTENT_LENGTH') env[key] = value;
    const hk = `HTTP_${key}`;
    env[hk] = env[hk] !== undefined ? `${env[hk]}, ${value}` : value;
  }
  return env;
}

/** A host[:port] whose concatenation into a URL cannot move the URL's other parts. */
const PLAIN_HOST = /^[A-Za-z0-9.\-]+(?::\d*)?$|^\[[0-9A-Fa-f:.]+\](?::\d*)?$/;

/** The `Request` for an environ: its URL from scheme, host and REQUEST_URI, its headers from HTTP_*. */
function requestFromEnv(env: Record<string, string>, body: ReadableStream<Uint8Array> | null): Request | number {
  const scheme = env.REQUEST_SCHEME || (env.HTTPS === 'on' ? 'https' : 'http');
  const hostRaw = env.HTTP_HOST || (env.SERVER_NAME ? `${env.SERVER_NAME}${env.SERVER_PORT ? `:${env.SERVER_PORT}` : ''}` : 'localhost');
  const target = env.REQUEST_URI || `${env.SCRIPT_NAME ?? ''}${env.PATH_INFO ?? '/'}${env.QUERY_STRING ? `?${env.QUERY_STRING}` : ''}`;
  const init = requestInit(env, body);
  // The common case, a plain host and a path: the Request parses
  // `scheme://host/path` once (resolving it against a base first would parse
  // it twice). Anything else (a host with '/', '?', '@'... that would change
  // the URL's parts once concatenated, a target not a path), or a URL the
  // parser refuses, takes the careful path below.
  const second = target.charCodeAt(1);
  if (target.charCodeAt(0) === 47 && second !== 47 && second !== 92 && PLAIN_HOST.test(hostRaw)) {
    try { return new Request(`${scheme}://${hostRaw}${target}`, init); } catch { /* below */ }
  }
  let url: URL;
  try {
    url = new URL(target.startsWith('/') ? target : `/${target}`, `${scheme}://${hostRaw}`);
  } catch {
    try { url = new URL(target.startsWith('/') ? target : `/${target}`, `${scheme}://localhost`); } catch { return 400; }
  }
  try {
    return new Request(url, init);
  } catch {
    // A value fetch refuses (control bytes) fails the whole list: add them one by one, skipping those.
    const headers = new Headers();
    for (const [k, v] of init.headers as Array<[string, string]>) {
      try { headers.append(k, v); } catch { /* skip it */ }
    }
    init.headers = headers;
    try {
      return new Request(url, init);
    } catch {
      return 400;
    }
  }
}

/** The Request's method, headers (from the environ's HTTP_* and CONTENT_*) and body. */
function requestInit(env: Record<string, string>, body: ReadableStream<Uint8Array> | null): RequestInit & { duplex?: 'half' } {
  // Headers as pairs: the Request fills its own list from them (no Headers object to copy).
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
    if (name !== undefined) pairs.push([name, env[k]!]);
  }
  const method = env.REQUEST_METHOD || 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers: pairs };
  if (body && method !== 'GET' && method !== 'HEAD') { init.body = body; init.duplex = 'half'; }
  return init;
}

const headerNames = new Map<string, string>();
/** `HTTP_ACCEPT_ENCODING` → `accept-encoding` (cached: the same few names come in every request). */
function headerName(key: string, from: number): string {
  let n = headerNames.get(key);
  if (n === undefined) {
    n = key.slice(from).toLowerCase().replace(/_/g, '-');
    if (headerNames.size < 1024) headerNames.set(key, n);
  }
  return n;
}

// ---- the server -----------------------------------------------------------------------

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
export class WorkerServer {
  /** The thread view whose engine answers management packets and counts requests. */
  readonly ctx: ThreadContext;
  readonly config: ListenConfig;
  readonly apps: Array<{ mountpoint: string; app: App }>;
  readonly #servers: Listener[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #hooks: ServerHooks;

  private constructor(ctx: ThreadContext, lc: ListenConfig, opts: WorkerServerOptions) {
    this.ctx = ctx;
    this.config = lc;
    // Longest mountpoint first, so /a/b wins over /a.
    this.apps = [...opts.apps].sort((a, b) => b.mountpoint.length - a.mountpoint.length);
    this.#hooks = opts.hooks ?? {};
  }

  /** Start accepting on every listener of `lc`. */
  static async start(ctx: ThreadContext, lc: ListenConfig, opts: WorkerServerOptions): Promise<WorkerServer> {
    const s = new WorkerServer(ctx, lc, opts);
    try {
      for (const spec of lc.listeners) {
        const ticket = opts.tickets[spec.id];
        if (!ticket) throw new UwsgiError('ERR_INTERNAL', `no ticket for listener ${spec.id} (${spec.address})`);
        s.#servers.push(await runtime().listenWithTicket(spec, ticket, lc.backlog, (sock) => s.#accept(spec, sock)));
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
    await Promise.all(this.#servers.splice(0).map((sv) => sv.close()).concat(
      [...this.#sockets].map(async (sk) => { sk.destroy(); }),
    ));
  }

  #hook<K extends keyof ServerHooks>(k: K): ServerHooks[K] { return this.#hooks[k] ?? globalHooks[k] ?? this.#defaults()[k]; }

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

  #accept(spec: ListenerSpec, sock: Socket): SocketHandlers {
    this.#sockets.add(sock);
    // A failed socket (a reset peer) shows in the stream's reads; it is not an app error.
    const io = new SocketStream({ highWater: HIGH_WATER, lowWater: LOW_WATER, timeoutMs: this.config.socketTimeout * 1000, onClosed: () => this.#sockets.delete(sock) }).attach(sock);
    const run = spec.protocol === 'http' ? this.#http(spec, sock, io) : this.#uwsgi(spec, sock, io);
    run.catch(() => undefined).finally(() => {
      if (!sock.closed) io.end();
    });
    return io;
  }

  async #uwsgi(spec: ListenerSpec, sock: Socket, io: SocketStream): Promise<void> {
    const reader = new PacketReader({ bufferSize: this.config.bufferSize });
    let firstByte = -1;
    while (!reader.complete) {
      const c = await io.read();
      if (!c) return; // EOF before a whole packet: nobody to answer
      if (firstByte < 0 && c.length > 0) firstByte = c[0]!;
      let used: number;
      try {
        used = reader.push(c);
      } catch {
        // Over buffer-size: uWSGI logs and drops. A request gets a status line nginx can pass on.
        if (firstByte === MOD.REQUEST) await io.write(rawHttp(413, 'request vars are larger than buffer-size'));
        sock.destroy();
        return;
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
        return;
      }
      if (pkt.modifier1 === MOD.REQUEST_STRIP && env.SCRIPT_NAME && env.PATH_INFO?.startsWith(env.SCRIPT_NAME)) {
        env.PATH_INFO = env.PATH_INFO.slice(env.SCRIPT_NAME.length);
      }
      await this.#request(spec, sock, io, env, pkt);
      return;
    }
    const info: ServedRequest = { protocol: 'uwsgi', modifier1: pkt.modifier1, modifier2: pkt.modifier2, method: '', uri: '', remoteAddr: sock.remoteAddress ?? '', cl: 0, listener: spec.id };
    const ticket = this.#hook('accounting')?.begin(info);
    let failure: unknown;
    try {
      const known = await servePacket(this.ctx, this.config, { raiseSignal: this.#hook('raiseSignal'), spool: this.#hook('spool') }, pkt, io satisfies PacketIO);
      // Unknown modifier: uWSGI closes without a byte; there is no reply format to use.
      if (!known) sock.destroy();
    } catch (e) {
      failure = e;
      sock.destroy();
    } finally {
      ticket?.end(io.tx, failure);
    }
  }

  async #http(spec: ListenerSpec, sock: Socket, io: SocketStream): Promise<void> {
    const limit = Math.max(this.config.bufferSize, DEFAULT_BUFFER_SIZE);
    let buf = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const c = await io.read();
      if (!c) return;
      const from = Math.max(0, buf.length - 3);
      const nb = new Uint8Array(buf.length + c.length);
      nb.set(buf);
      nb.set(c, buf.length);
      buf = nb;
      for (let i = from; i + 3 < buf.length; i++) {
        if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) { end = i; break; }
      }
      if (end < 0 && buf.length > limit) {
        await this.#respond(sock, io, simpleResponse(431, 'request head larger than buffer-size'), 'GET');
        return;
      }
    }
    if (end > limit) {
      await this.#respond(sock, io, simpleResponse(431, 'request head larger than buffer-size'), 'GET');
      return;
    }
    io.unshift(buf.subarray(end + 4));
    const head = new TextDecoder('latin1').decode(buf.subarray(0, end));
    const env = parseHttpHead(head, sock, spec);
    if (typeof env === 'number') {
      await this.#respond(sock, io, simpleResponse(env, REASONS[env] ?? 'error'), 'GET');
      return;
    }
    if (env.HTTP_TRANSFER_ENCODING && env.HTTP_TRANSFER_ENCODING.toLowerCase() !== 'identity') {
      await this.#respond(sock, io, simpleResponse(411, 'chunked request bodies are not supported: send Content-Length'), 'GET');
      return;
    }
    await this.#request(spec, sock, io, env, null);
  }

  #pickApp(env: Record<string, string>): { mountpoint: string; app: App } | undefined {
    const path = env.PATH_INFO ?? '/';
    const script = env.SCRIPT_NAME ?? '';
    for (const a of this.apps) {
      if (a.mountpoint === '') continue;
      if (script === a.mountpoint) return a;
      if (!script && (path === a.mountpoint || path.startsWith(`${a.mountpoint}/`))) {
        env.SCRIPT_NAME = a.mountpoint;
        env.PATH_INFO = path.slice(a.mountpoint.length);
        return a;
      }
    }
    // uWSGI's default app: the one mounted at '' or else the first loaded.
    return this.apps.find((a) => a.mountpoint === '') ?? this.apps[this.apps.length - 1];
  }

  async #request(spec: ListenerSpec, sock: Socket, io: SocketStream, env: Record<string, string>, pkt: Packet | null): Promise<void> {
    const clRaw = env.CONTENT_LENGTH ?? '';
    const cl = /^\d{1,15}$/.test(clRaw) ? Number(clRaw) : 0;
    const method = env.REQUEST_METHOD || 'GET';
    const info: ServedRequest = {
      protocol: spec.protocol, modifier1: pkt?.modifier1 ?? 0, modifier2: pkt?.modifier2 ?? 0, method,
      uri: env.REQUEST_URI ?? env.PATH_INFO ?? '', remoteAddr: env.REMOTE_ADDR || sock.remoteAddress || '', cl, listener: spec.id,
    };
    const ticket = this.#hook('accounting')?.begin(info);
    let failure: unknown;
    let left = cl;
    try {
      if (clRaw !== '' && !/^\d{1,15}$/.test(clRaw)) {
        await this.#respond(sock, io, simpleResponse(400, 'malformed CONTENT_LENGTH'), method);
        return;
      }
      if (this.config.limitPost > 0 && cl > this.config.limitPost) {
        await this.#respond(sock, io, simpleResponse(413, `request body over limit-post (${this.config.limitPost} bytes)`), method);
        left = 0;
        sock.destroy();
        return;
      }
      const picked = this.#pickApp(env);
      let body: ReadableStream<Uint8Array> | null = null;
      if (cl > 0) {
        body = new ReadableStream<Uint8Array>({
          async pull(ctrl) {
            try {
              const c = await io.read(left);
              if (!c) { ctrl.error(new UwsgiError('ERR_PROTOCOL', `the request body ended ${left} bytes early`)); return; }
              left -= c.length;
              ctrl.enqueue(c);
              if (left === 0) ctrl.close();
            } catch (e) {
              ctrl.error(e);
            }
          },
        });
      }
      let res: Response;
      if (!picked) {
        res = simpleResponse(500, 'uwsgi-wasm: no app loaded (an app file exports default { fetch(request) { ... } })');
      } else {
        const req = requestFromEnv(env, body);
        if (typeof req === 'number') {
          res = simpleResponse(req, REASONS[req] ?? 'error');
        } else {
          const ctx: RequestContext = {
            env, remoteAddr: info.remoteAddr, remotePort: Number(env.REMOTE_PORT || sock.remotePort || 0), listener: spec, mountpoint: picked.mountpoint,
          };
          const state: RequestState = { cl, sock, env, disconnected: false };
          try {
            const r = await requestStore.run(state, () => (ticket?.run ? ticket.run(() => picked.app.fetch(req, ctx)) : picked.app.fetch(req, ctx)));
            if (!(r instanceof Response)) throw new UwsgiError('ERR_ARG_TYPE', `the app's fetch must return a Response, got ${typeName(r)}`);
            res = r;
          } catch (e) {
            failure = e;
            (this.#hook('onError') ?? defaultOnError)(e, info);
            res = simpleResponse(500, 'Internal Server Error');
          }
          if (state.disconnected) return;
        }
      }
      await this.#respond(sock, io, res, method);
      // A body the app left unread is drained, so closing does not reset the connection under the response.
      if (left > 0 && !sock.closed) await io.discard(left).catch(() => undefined);
    } catch (e) {
      failure ??= e;
      sock.destroy();
    } finally {
      ticket?.end(io.tx, failure);
    }
  }

  async #respond(sock: Socket, io: SocketStream, res: Response, method: string): Promise<void> {
    const reader = method === 'HEAD' || !res.body ? null : res.body.getReader();
    if (!reader) {
      io.end(headBytes(res, !res.body && !res.headers.has('content-length') ? 0 : undefined, null));
      return;
    }
    // A body of at most one chunk (most responses) goes out with its head in one
    // write, with a Content-Length when the app gave none; longer ones stream until close.
    const a = await reader.read();
    if (a.done) { io.end(headBytes(res, 0, null)); return; }
    const b = await reader.read();
    if (b.done) { io.end(headBytes(res, a.value.length, a.value)); return; }
    await io.write(headBytes(res, undefined, null));
    await io.write(a.value);
    await io.write(b.value);
    for (;;) {
      if (sock.closed) { await reader.cancel().catch(() => undefined); break; }
      const r = await reader.read();
      if (r.done) break;
      await io.write(r.value);
    }
    io.end();
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

function defaultOnError(e: unknown, info: ServedRequest): void {
  console.error(`[uwsgi-wasm] ${info.method} ${info.uri}: the app failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

/** Accept-queue length of listener `id` (connections the kernel holds that no worker has accepted yet). */
export function listenQueue(listeners: ListenerSpec[], id: number): number {
  const spec = listeners[id];
  if (!spec) throw new UwsgiError('ERR_NOT_FOUND', `listen_queue: no listener ${id} (${listeners.length} configured)`);
  return spec.port === undefined ? 0 : runtime().tcpListenQueue(spec.port);
}

