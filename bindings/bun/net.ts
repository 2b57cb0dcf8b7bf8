/**
 * Bun sockets: `Bun.listen` for the streams this thread listens on (the
 * stats server, and the workers' `--socket` listeners, which every worker
 * binds with reusePort) and `Bun.udpSocket` for the SNMP agent's UDP
 * (bindings/common/udp.ts's node:dgram for `openUdp`, which must share
 * ports); node:net (bindings/common/net.ts) for outgoing streams.
 */
import type { AcceptFn, Endpoint, Listener, ListenTarget, ListenTicket, RuntimeSockets, Socket, SocketError, SocketHandlers, UdpEndpoint } from '../../ts/platform/binding.ts';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import { connect, prepareReusePort, tcpListenQueue, unixPath } from '../common/net.ts';
import { type ListenAdjust, fdLimit, httpBridge, listenHttp } from '../common/http.ts';
import { openUdp } from '../common/udp.ts';
import { serveFetch } from './serve.ts';

interface BunUdp { port: number; send(d: Uint8Array, port: number, host: string): boolean; close(): void }
interface BunRawSocket {
  data: BunSocket;
  write(d: Uint8Array): number;
  /** Close both directions (after a FIN). */
  end(): void;
  /** Send a FIN and keep reading: Bun closes the socket once the peer ends too. */
  shutdown?(): void;
  pause(): void;
  resume(): void;
  setNoDelay?(on: boolean): void;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localAddress?: string;
  readonly localPort?: number;
}
interface BunListener { port?: number; hostname?: string; stop(closeActive?: boolean): void }
interface BunNet {
  udpSocket(o: { hostname: string; port: number; socket: { data(s: BunUdp, d: Uint8Array, port: number, host: string): void } }): Promise<BunUdp>;
  listen(o: Record<string, unknown>): BunListener;
}
const bun = () => (globalThis as unknown as { Bun: BunNet }).Bun;

async function listenUdp(addr: { host: string; port: number }, onMessage: (data: Uint8Array, reply: (data: Uint8Array) => void) => void): Promise<UdpEndpoint> {
  const s = await bun().udpSocket({
    hostname: addr.host,
    port: addr.port,
    socket: { data(sock, d, port, host) { onMessage(d, (out) => { sock.send(out, port, host); }); } },
  });
  return { port: s.port, close: async () => { s.close(); } };
}

/**
 * A {@link Socket} over a Bun socket: `write` hands bytes to Bun, which takes
 * what the kernel takes; the rest waits here for Bun's `drain`. `end()` sends
 * what is queued, then a FIN (Bun's `shutdown()`), and the socket closes when
 * the peer ends too; `finish()` closes it as soon as the bytes are out.
 * Closing at once under bytes the peer is still sending would reset the
 * connection and could make the peer lose the answer.
 */
class BunSocket implements Socket {
  readonly #s: BunRawSocket;
  h!: SocketHandlers;
  #pending: Uint8Array[] = [];
  #ending = false;
  /** Close both directions once the queue is out (finish), instead of a FIN alone (end). */
  #closeAfter = false;
  #gone = false;
  #error: SocketError | undefined;
  constructor(s: BunRawSocket) { this.#s = s; }

  write(bytes: Uint8Array): boolean {
    if (this.#gone || this.#ending) return false;
    if (this.#pending.length > 0) { this.#pending.push(bytes); return false; }
    const n = this.#s.write(bytes);
    if (n >= bytes.length) return true;
    this.#pending.push(n > 0 ? bytes.subarray(n) : bytes);
    return false;
  }

  /** Bun's drain: write what waits; tell the handlers once everything is out. */
  drained(): void {
    while (this.#pending.length > 0) {
      const b = this.#pending[0]!;
      const n = this.#s.write(b);
      if (n < b.length) { this.#pending[0] = n > 0 ? b.subarray(n) : b; return; }
      this.#pending.shift();
    }
    if (this.#ending) this.#done();
    else if (!this.#gone) this.h.onDrain();
  }

  /** Everything queued is out: a FIN (end), or close both directions (finish). */
  #done(): void {
    if (!this.#closeAfter && typeof this.#s.shutdown === 'function') this.#s.shutdown();
    else this.#s.end();
  }

  end(last?: Uint8Array): void {
    if (this.#gone || this.#ending) return;
    if (last && last.length > 0) this.write(last);
    this.#ending = true;
    if (this.#pending.length === 0) this.#done();
  }

  finish(last?: Uint8Array): void {
    if (this.#gone) return;
    if (this.#ending) {
      // Already ended: close as soon as the queue is out (now, if it is).
      if (!this.#closeAfter) { this.#closeAfter = true; if (this.#pending.length === 0) this.#s.end(); }
      return;
    }
    this.#closeAfter = true;
    this.end(last);
  }

  destroy(): void {
    if (this.#gone) return;
    this.#pending = [];
    // Bun's end() closes both directions at once with a FIN, as a destroyed node:net socket does;
    // terminate() would reset the connection, and a peer reading to the end would see ECONNRESET.
    this.#s.end();
  }

  /** Bun's error: reported with the close that follows. */
  failed(e: unknown): void { this.#error ??= { code: (e as { code?: string })?.code ?? 'EIO', message: (e as Error)?.message ?? String(e) }; }

  /** Bun's close. */
  gone(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#pending = [];
    const err = this.#error;
    // Bun may close inside end(): never call the handlers from inside a Socket method.
    queueMicrotask(() => this.h.onClose(err));
  }

  pause(): void { this.#s.pause(); }
  resume(): void { this.#s.resume(); }
  get closed(): boolean { return this.#gone; }
  get remoteAddress(): string | undefined { return this.#s.remoteAddress; }
  get remotePort(): number | undefined { return this.#s.remotePort; }
  get localAddress(): string | undefined { return this.#s.localAddress; }
  get localPort(): number | undefined { return this.#s.localPort; }
}

/**
 * Listen with `Bun.listen` on TCP or a unix socket (a stale socket file is
 * replaced); `reusePort` lets every worker bind the same TCP address. Bun
 * takes no backlog: it listens with the system's maximum.
 */
async function bunListen(target: Endpoint | ListenTarget, accept: AcceptFn, reusePort: boolean): Promise<Listener> {
  const handlers = {
    open(s: BunRawSocket) {
      s.setNoDelay?.(true);
      const sock = new BunSocket(s);
      s.data = sock;
      sock.h = accept(sock);
    },
    // A copy: Bun reuses the buffer it reads into.
    data(s: BunRawSocket, d: Uint8Array) { s.data.h.onData(new Uint8Array(d)); },
    drain(s: BunRawSocket) { s.data.drained(); },
    error(s: BunRawSocket, e: unknown) { s.data?.failed(e); },
    close(s: BunRawSocket) { s.data?.gone(); },
  };
  const path = target.path;
  if (path !== undefined) unixPath.prepare(path);
  const l = path !== undefined ? bun().listen({ unix: path, socket: handlers })
    : bun().listen({ hostname: target.host, port: target.port, reusePort, socket: handlers });
  let open = true;
  return {
    port: path !== undefined ? undefined : l.port,
    address: () => (!open ? null : path ?? { address: l.hostname ?? target.host!, family: (l.hostname ?? target.host!).includes(':') ? 'IPv6' : 'IPv4', port: l.port! }),
    async close() {
      if (!open) return;
      open = false;
      l.stop(true);
      if (path !== undefined) unixPath.remove(path);
    },
  };
}

/** Listen from this thread alone (the stats server). */
const listen = (target: Endpoint, accept: AcceptFn): Promise<Listener> => bunListen(target, accept, false);

/**
 * In a worker: the `--socket` listeners on `Bun.listen` (measured faster than
 * Bun's node:net; see the README's Listeners section), with reusePort; a
 * shared descriptor (Node's ticket) never reaches Bun.
 */
async function listenWithTicket(target: ListenTarget, ticket: ListenTicket, _backlog: number, accept: AcceptFn): Promise<Listener> {
  if ('fd' in ticket) throw new UwsgiError('ERR_INTERNAL', `listener '${target.address}': a shared descriptor cannot be listened on with Bun`);
  try {
    return await bunListen(target, accept, 'reusePort' in ticket);
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${(e as Error)?.message ?? String(e)}`);
  }
}

/**
 * Bun's node:http server is Bun.serve underneath, and asks it for reusePort
 * only in cluster workers, never in a thread. Its listen() calls Bun.serve
 * synchronously, so for that one call Bun.serve is wrapped to add reusePort.
 * Where Bun.serve cannot be wrapped, node:net (which takes reusePort) accepts
 * and hands each socket to node:http: measured about half as fast.
 */
function reusePortAdjust(): ListenAdjust {
  const b = globalThis as unknown as { Bun: { serve: (o: Record<string, unknown>) => unknown } };
  const d = Object.getOwnPropertyDescriptor(b.Bun, 'serve');
  if (!d?.writable) return { acceptThroughNet: true };
  return {
    around(listen) {
      const serve = b.Bun.serve;
      b.Bun.serve = function withReusePort(this: unknown, o: Record<string, unknown>) { return serve.call(this, { ...o, reusePort: true }); };
      try { listen(); } finally { b.Bun.serve = serve; }
    },
  };
}

/** This runtime's sockets (the RuntimeSockets part of its binding). */
export const sockets: RuntimeSockets = {
  connect, listen, prepareListener: prepareReusePort('bun'), listenWithTicket, listenUdp, openUdp, tcpListenQueue,
  listenHttp: (target, ticket, backlog, options, handlers) => ('reusePort' in ticket
    ? listenHttp(target, { bind: true }, backlog, options, handlers, reusePortAdjust())
    : listenHttp(target, ticket, backlog, options, handlers)),
  httpBridge, serveFetch, fdLimit,
};
