/**
 * Stream sockets through `node:net`, which Node, Deno and Bun all implement
 * (verified on Deno 2.9 and Bun 1.4, unix abstract names included): the
 * {@link Socket} over a `net.Socket`, outgoing connections, listening with a
 * ticket, the reusePort preparation Deno and Bun share, the unix socket path
 * helper every listener uses, and the listen queue from /proc.
 */
import * as net from 'node:net';
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import type {
  AcceptFn, ConnectHandlers, Endpoint, Listener, ListenerAddress, ListenTarget, ListenTicket, PreparedListener, RuntimeSockets, Socket, SocketError, SocketHandlers,
} from '../../ts/platform/binding.ts';

// ---- unix socket paths -------------------------------------------------------------------

/**
 * The one helper for unix socket files: `prepare` before binding (a stale
 * socket file of a previous run is removed; anything else at the path is
 * refused), `remove` after closing (only a socket file is ever removed).
 */
export const unixPath = {
  /** Before binding `path`: remove a stale socket file; throw when something that is not a socket is there. */
  prepare(path: string): void {
    let st;
    try { st = lstatSync(path); } catch { return; }
    if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
    unlinkSync(path);
  },
  /** Remove the socket file at `path` if there is one; never anything else, never an error. */
  remove(path: string): void {
    try { if (lstatSync(path).isSocket()) unlinkSync(path); } catch { /* absent */ }
  },
};

// ---- the Socket over node:net ----------------------------------------------------------

/** The system error of a failed `net.Socket`. */
const socketError = (e: Error & { code?: string }): SocketError => ({ code: e.code ?? 'EIO', message: e.message });

/** A {@link Socket} over a `net.Socket`; events reach the handlers given to {@link attach}. */
class NetSocket implements Socket {
  readonly #s: net.Socket;
  #gone = false;
  #finishing = false;
  constructor(s: net.Socket) { this.#s = s; }

  /** Deliver the socket's events to `h` (once). */
  attach(h: SocketHandlers): void {
    const s = this.#s;
    // A plain Uint8Array view: a Buffer's slice() shares memory, a trap for code written against Uint8Array.
    s.on('data', (d: Uint8Array) => h.onData(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    s.on('end', () => h.onEnd());
    s.on('drain', () => h.onDrain());
    // 'error' is followed by 'close'; the error is reported at once (and a late one never crashes the process).
    const gone = (err?: SocketError) => { if (!this.#gone) { this.#gone = true; h.onClose(err); } };
    s.on('error', (e: Error) => gone(socketError(e)));
    s.on('close', () => gone());
  }

  write(bytes: Uint8Array): boolean { return this.#s.write(bytes); }
  end(last?: Uint8Array): void { if (last && last.length > 0) this.#s.end(last); else this.#s.end(); }
  finish(last?: Uint8Array): void {
    const s = this.#s;
    if (this.#finishing || s.destroyed) return;
    this.#finishing = true;
    // node:net would wait for the peer's FIN (one more read and poll change a connection): close once
    // our bytes are out instead. A close sends the FIN after them, so no shutdown() is made either.
    if (s.writableEnded) {
      if (s.writableFinished) s.destroy(); else s.once('finish', () => s.destroy());
    } else if (last && last.length > 0) {
      // Destroyed after the write's callback has returned: destroyed inside it, node:net builds an
      // ERR_STREAM_DESTROYED error (a stack trace) that nobody reads, 5% of a hello world's CPU.
      s.write(last, () => queueMicrotask(() => s.destroy()));
    } else if (s.writableLength === 0) {
      s.destroy();
    } else {
      s.end();
      s.once('finish', () => s.destroy());
    }
  }
  destroy(): void { this.#s.destroy(); }
  pause(): void { this.#s.pause(); }
  resume(): void { this.#s.resume(); }
  get closed(): boolean { return this.#s.destroyed; }
  get remoteAddress(): string | undefined { return this.#s.remoteAddress; }
  get remotePort(): number | undefined { return this.#s.remotePort; }
  get localAddress(): string | undefined { return this.#s.localAddress; }
  get localPort(): number | undefined { return this.#s.localPort; }
}

/** A `net.Server` accepting into {@link Socket}s. */
function netServer(options: net.ServerOpts, accept: AcceptFn): net.Server {
  return net.createServer(options, (s) => {
    const sock = new NetSocket(s);
    sock.attach(accept(sock));
  });
}

/** A {@link Listener} over a listening `net.Server`; `onClosed` runs once it has stopped. */
function netListener(server: net.Server, onClosed?: () => void): Listener {
  const a = server.address();
  return {
    port: typeof a === 'object' && a ? a.port : undefined,
    address: () => server.address() as ListenerAddress | null,
    close: () => new Promise<void>((r) => server.close(() => { onClosed?.(); r(); })),
  };
}

/** Open a stream socket to `target` with node:net. */
export function connect(target: Endpoint, handlers: ConnectHandlers): Socket {
  const s = target.path !== undefined ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
  s.setNoDelay?.(true);
  const sock = new NetSocket(s);
  sock.attach(handlers);
  s.on('connect', () => handlers.onConnect());
  return sock;
}

/** Listen on `target` from this thread alone with node:net (a stale unix socket is replaced). */
export function listen(target: Endpoint, accept: AcceptFn): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = netServer({}, accept);
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve(netListener(server, () => { if (target.path !== undefined) unixPath.remove(target.path); }));
    };
    if (target.path !== undefined) {
      try { unixPath.prepare(target.path); } catch (e) { reject(e); return; }
      server.listen(target.path, ready);
    } else server.listen(target.port, target.host, ready);
  });
}

/** How long a worker waits for its listen to complete before it fails, saying so (ms). */
export const LISTEN_TIMEOUT_MS = 10_000;

/** Reject (and close `server`) when it is not listening after {@link LISTEN_TIMEOUT_MS}: a listener never comes up silently. */
export function listenDeadline(server: net.Server, target: ListenTarget, reject: (e: Error) => void): void {
  const t = setTimeout(() => {
    if (server.listening) return;
    server.close();
    reject(new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': not listening after ${LISTEN_TIMEOUT_MS / 1000} s`));
  }, LISTEN_TIMEOUT_MS);
  t.unref?.();
  server.once('listening', () => clearTimeout(t));
}

/** In a worker: listen with the ticket the master gave (a shared descriptor, reusePort, or a bind of its own). */
export function listenWithTicket(target: ListenTarget, ticket: ListenTicket, backlog: number, accept: AcceptFn): Promise<Listener> {
  const server = netServer({ noDelay: true }, accept);
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${e.message}`)));
    listenDeadline(server, target, reject);
    const opts: net.ListenOptions & { reusePort?: boolean; fd?: number } =
      'fd' in ticket ? { fd: ticket.fd, backlog }
      : target.path !== undefined ? { path: target.path, backlog }
      : { host: target.host, port: target.port, backlog, reusePort: 'reusePort' in ticket, exclusive: true };
    if ('bind' in ticket && target.path !== undefined) unixPath.remove(target.path);
    server.listen(opts, () => { server.removeAllListeners('error'); resolve(netListener(server)); });
  });
}

/**
 * Deno and Bun: every worker binds a TCP address itself with reusePort (the
 * kernel spreads the connections); a unix socket only with one worker, since
 * neither runtime can hand one listening descriptor to several threads.
 */
export function prepareReusePort(runtime: 'deno' | 'bun'): RuntimeSockets['prepareListener'] {
  return async (target: ListenTarget, workers: number): Promise<PreparedListener> => {
    if (target.path !== undefined) {
      const path = target.path;
      if (workers > 1) {
        throw new UwsgiError('ERR_UNSUPPORTED', `'${target.address}': a unix socket shared by ${workers} workers is not supported on ${runtime} (it cannot hand one listening descriptor to several threads); use a TCP address or --workers 1`);
      }
      return { ticket: () => ({ bind: true }), close: () => unixPath.remove(path) };
    }
    // Check the address now, so a port in use fails at start and not in every worker.
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', (e) => reject(new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${e.message}`)));
      probe.listen({ host: target.host, port: target.port, reusePort: true, exclusive: true } as net.ListenOptions, () => probe.close(() => resolve()));
    });
    return { ticket: () => ({ reusePort: true }), close: () => {} };
  };
}

/** The accept-queue length of the LISTEN sockets on `port` (Linux /proc/net/tcp*), 0 where it cannot be read. */
export function tcpListenQueue(port: number): number {
  let total = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try { text = readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== '0A') continue; // 0A = LISTEN
      const local = f[1]!;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) !== port) continue;
      // For a listening socket, rx_queue is the number of connections waiting to be accepted.
      total += parseInt(f[4]!.split(':')[1]!, 16) || 0;
    }
  }
  return total;
}
