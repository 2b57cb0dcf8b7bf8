/**
 * HTTP/1.1 through `node:http`, which Node, Deno and Bun each implement (Node
 * with llhttp, Deno with its port of Node's server, Bun over its own parser):
 * keep-alive, pipelining, chunked bodies both ways, `Expect: 100-continue`,
 * HEAD, trailers, and the head/request/keep-alive timeouts are the runtime's.
 * Also a node:http server that listens nowhere, fed by hand, so `(req, res)`
 * apps get the runtime's own `IncomingMessage`/`ServerResponse` for requests
 * that arrived over the uwsgi protocol.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import type {
  BridgeHead, BridgePeer, BridgeStream, HttpBridge, HttpServeHandlers, HttpServeOptions, HttpSocket, Listener, ListenerAddress, ListenTarget, ListenTicket, NodeRequest, NodeResponse,
} from '../../ts/platform/binding.ts';
import { listenDeadline, unixPath } from './net.ts';

function httpServer(opts: HttpServeOptions, h: HttpServeHandlers): http.Server {
  const server = http.createServer({
    maxHeaderSize: opts.maxHeaderSize,
    headersTimeout: opts.headersTimeoutMs,
    requestTimeout: opts.requestTimeoutMs,
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    // How often node:http checks the head and request deadlines (its default is 30 s).
    connectionsCheckingInterval: Math.max(250, Math.min(1000, opts.headersTimeoutMs / 4)),
    noDelay: true,
  }, h.request as unknown as http.RequestListener);
  server.on('checkContinue', h.checkContinue as unknown as http.RequestListener);
  server.on('connection', (s: net.Socket) => h.connection(s as unknown as HttpSocket));
  return server;
}

function listenerOf(server: net.Server, path: string | undefined): Listener {
  const a = server.address();
  let open = true;
  return {
    port: typeof a === 'object' && a ? a.port : undefined,
    address: () => (open ? server.address() as ListenerAddress | null : null),
    close: () => new Promise<void>((r) => {
      if (!open) { r(); return; }
      open = false;
      // Keep-alive connections would hold close() until they time out: the worker is stopping, so they go now.
      (server as http.Server).closeAllConnections?.();
      server.close(() => { if (path !== undefined) unixPath.remove(path); r(); });
    }),
  };
}

/** How a binding adjusts the listen call (Bun: reusePort through its own server's options). */
export interface ListenAdjust {
  /** Accept with node:net and hand each socket to node:http, instead of node:http's own listen. */
  acceptThroughNet?: boolean;
  /** Runs node:http's `listen()` call (synchronously), e.g. with a runtime's server factory patched around it. */
  around?: (listen: () => void) => void;
}

/** Serve HTTP on `target` with the master's ticket (see {@link ListenAdjust} for what a binding may change). */
export function listenHttp(target: ListenTarget, ticket: ListenTicket, backlog: number, opts: HttpServeOptions, h: HttpServeHandlers, adjust: ListenAdjust = {}): Promise<Listener> {
  const server = httpServer(opts, h);
  const front: net.Server = adjust.acceptThroughNet ? net.createServer({ noDelay: true }, (s) => server.emit('connection', s)) : server;
  return new Promise((resolve, reject) => {
    front.once('error', (e) => reject(new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${e.message}`)));
    listenDeadline(front, target, reject);
    const o: net.ListenOptions & { reusePort?: boolean; fd?: number } =
      'fd' in ticket ? { fd: ticket.fd, backlog }
      : target.path !== undefined ? { path: target.path, backlog }
      : { host: target.host, port: target.port, backlog, reusePort: 'reusePort' in ticket, exclusive: true };
    if ('bind' in ticket && target.path !== undefined) unixPath.remove(target.path);
    const listen = () => { front.listen(o, ready); };
    const ready = () => {
      front.removeAllListeners('error');
      const l = listenerOf(front, 'bind' in ticket ? target.path : undefined);
      if (front === server) { resolve(l); return; }
      resolve({ ...l, close: async () => { server.closeAllConnections?.(); await l.close(); } });
    };
    if (adjust.around) adjust.around(listen); else listen();
  });
}

/** A `net.Socket`-shaped stream over a {@link BridgePeer}: what node:http reads the request from and writes the answer to. */
class BridgeSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteFamily: string;
  readonly localPort = 0;
  bytesWritten = 0;
  readonly peer: BridgePeer;
  #finished = false;
  #wake: (() => void) | null = null;
  constructor(peer: BridgePeer) {
    super({ allowHalfOpen: true });
    this.peer = peer;
    this.remoteAddress = peer.remoteAddress;
    this.remotePort = peer.remotePort;
    this.remoteFamily = peer.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
  }
  /** node:http wants more: the peer's reader may push again. */
  override _read(): void { const w = this.#wake; this.#wake = null; w?.(); }
  wanted(): Promise<void> { return this.destroyed ? Promise.resolve() : new Promise((r) => { this.#wake = r; }); }
  override _write(chunk: Uint8Array, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.bytesWritten += chunk.length;
    this.peer.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)).then(() => cb(), (e: Error) => cb(e));
  }
  override _final(cb: (e?: Error | null) => void): void {
    this.#finished = true;
    this.peer.end();
    cb();
  }
  override _destroy(e: Error | null, cb: (e?: Error | null) => void): void {
    if (!this.#finished) this.peer.destroy();
    this._read();
    cb(e);
  }
  // What node:http and apps call on a net.Socket; a bridged connection has no such settings.
  setTimeout(): this { return this; }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
}

/** The HTTP/1.0 head node:http's parser reads for `head` (latin1: bytes above 0x7f travel as they came). */
function headBytes(head: BridgeHead): Uint8Array {
  let text = `${head.method} ${head.url} HTTP/1.0\r\n`;
  const raw = head.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  text += '\r\n';
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** What a runtime's node:http offers to build a request without its parser (Node's own internals, checked before use). */
interface DirectParts {
  /** Node's `IncomingMessage.prototype._addHeaderLines(rawHeaders, n)`: what its parser calls with a head's headers. */
  _addHeaderLines(raw: string[], n: number): void;
}

/** Node's node:http builds a request from headers it is given and writes to any socket it is given: checked, not assumed. */
function directSupported(): boolean {
  const inc = http.IncomingMessage.prototype as unknown as Partial<DirectParts>;
  const res = http.ServerResponse.prototype as unknown as { assignSocket?: unknown; detachSocket?: unknown };
  return typeof inc._addHeaderLines === 'function' && typeof res.assignSocket === 'function' && typeof res.detachSocket === 'function';
}

let drainKey: symbol | null | undefined = null;
/** The symbol under which Node's `OutgoingMessage` remembers a write that returned false (what `writableNeedDrain` reads); undefined if it has none. */
function needDrainKey(res: http.ServerResponse): symbol | undefined {
  if (drainKey === null) drainKey = Object.getOwnPropertySymbols(res).find((k) => k.description === 'kNeedDrain');
  return drainKey;
}

/**
 * The request straight into an `IncomingMessage` and `ServerResponse` over a
 * {@link BridgeSocket}: no HTTP text, no parser and no server connection
 * set-up per request. What node:http's server does around a request it
 * parsed is done here: HTTP/1.0 (no chunking, `Connection: close`), the
 * socket detached once the answer is out, `close` on the response after
 * `finish`, a body the app did not read drained, and a request cut short
 * by the peer destroyed with `aborted` (ECONNRESET).
 */
function directOpen(peer: BridgePeer, head: BridgeHead): BridgeStream {
  const s = new BridgeSocket(peer);
  const req = new http.IncomingMessage(s as unknown as net.Socket);
  req.method = head.method;
  req.url = head.url;
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 0;
  req.httpVersion = '1.0';
  (req as unknown as DirectParts)._addHeaderLines(head.rawHeaders, head.rawHeaders.length);
  let left = head.contentLength;
  let wake: (() => void) | null = null;
  // The body is pushed by the peer's reader; reading more only lets it push again.
  req._read = () => { const w = wake; wake = null; w?.(); };
  const complete = () => { req.complete = true; req.push(null); };
  if (left <= 0) complete();
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  let closed = false;
  const emitClose = () => {
    if (closed) return;
    closed = true;
    res.destroyed = true;
    res.emit('close');
  };
  res.assignSocket(s as unknown as net.Socket);
  // What node:http's server does on its socket's 'drain': the response may take writes again.
  s.on('drain', () => {
    if (res.writableEnded) return;
    const key = needDrainKey(res);
    if (key === undefined) { res.emit('drain'); return; }
    const r = res as unknown as Record<symbol, boolean>;
    if (r[key]) { r[key] = false; res.emit('drain'); }
  });
  // A failed write to the peer: the socket is destroyed ('close' below); nothing is thrown.
  s.on('error', () => {});
  res.on('finish', () => {
    // A body the app never read flows away (as node:http's server dumps it), so the peer's reader
    // is not left waiting and the request ends and closes, as it does there.
    if (req.readableFlowing === null && !req.readableEnded) req.resume();
    res.detachSocket(s as unknown as net.Socket);
    s.end();
    process.nextTick(emitClose);
  });
  s.on('close', () => {
    if (!req.complete && !req.destroyed) req.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    emitClose();
    const w = wake;
    wake = null;
    w?.();
  });
  peer.request(req as unknown as NodeRequest, res as unknown as NodeResponse);
  return {
    push: (bytes) => {
      if (req.destroyed || left <= 0) return false;
      left -= bytes.length;
      const more = req.push(bytes);
      if (left <= 0) complete();
      return more;
    },
    wanted: () => (req.destroyed || s.destroyed ? Promise.resolve() : new Promise((r) => { wake = r; })),
    destroy: () => { s.destroy(); },
  };
}

/**
 * node:http for requests that arrived over another protocol. With `direct`
 * (and a node:http that has what {@link directSupported} checks), each request
 * becomes an `IncomingMessage`/`ServerResponse` pair directly; otherwise its
 * HTTP/1.0 head goes through the runtime's parser on a server that listens
 * nowhere (Deno's and Bun's node:http build requests only that way).
 */
export function httpBridge(opts: { direct?: boolean } = {}): HttpBridge {
  if (opts.direct && directSupported()) return { open: directOpen };
  // The head and body were bounded by the listener that read them; node:http adds no deadline of its own.
  const server = http.createServer({ maxHeaderSize: 256 * 1024, headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
    (req.socket as unknown as BridgeSocket).peer.request(req as unknown as NodeRequest, res as unknown as NodeResponse);
  });
  return {
    open(peer: BridgePeer, head: BridgeHead): BridgeStream {
      const s = new BridgeSocket(peer);
      server.emit('connection', s);
      s.push(headBytes(head));
      return {
        push: (bytes) => (s.destroyed ? false : s.push(bytes)),
        wanted: () => s.wanted(),
        destroy: () => { s.destroy(); },
      };
    },
  };
}

/** The soft RLIMIT_NOFILE of this process (Linux /proc/self/limits), 0 where it cannot be read. */
export function fdLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return 0;
    return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    return 0;
  }
}
