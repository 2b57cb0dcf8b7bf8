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
  BridgePeer, BridgeStream, HttpBridge, HttpServeHandlers, HttpServeOptions, HttpSocket, Listener, ListenerAddress, ListenTarget, ListenTicket, NodeRequest, NodeResponse,
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

/** A node:http server that listens nowhere: each {@link HttpBridge.connect} is one connection carrying one request. */
export function httpBridge(): HttpBridge {
  // The head and body were bounded by the listener that read them; node:http adds no deadline of its own.
  const server = http.createServer({ maxHeaderSize: 256 * 1024, headersTimeout: 0, requestTimeout: 0, keepAliveTimeout: 0 }, (req, res) => {
    (req.socket as unknown as BridgeSocket).peer.request(req as unknown as NodeRequest, res as unknown as NodeResponse);
  });
  return {
    connect(peer: BridgePeer): BridgeStream {
      const s = new BridgeSocket(peer);
      server.emit('connection', s);
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
