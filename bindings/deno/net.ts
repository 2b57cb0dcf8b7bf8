/**
 * Deno sockets: `Deno.listen` for the streams this thread listens on alone
 * (the stats server); node:net (bindings/common/net.ts) for outgoing streams
 * and for the workers' listeners, which every worker binds with reusePort;
 * node:dgram (Deno's implementation) for UDP, since `Deno.listenDatagram`
 * still needs --unstable-net.
 */
import type { AcceptFn, Endpoint, Listener, RuntimeSockets, Socket, SocketError, SocketHandlers } from '../../ts/platform/binding.ts';
import { connect, listenWithTicket, prepareReusePort, tcpListenQueue, unixPath } from '../common/net.ts';
import { listenUdp, openUdp } from '../common/udp.ts';
import { fdLimit, httpBridge, listenHttp } from '../common/http.ts';
import { checkSharedServe, serveFetch } from './serve.ts';

type DenoAddr = { transport: 'tcp' | 'udp'; hostname: string; port: number } | { transport: 'unix' | 'unixpacket'; path: string };
interface DenoConn {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
  readonly remoteAddr: DenoAddr;
  readonly localAddr: DenoAddr;
}
interface DenoListener extends AsyncIterable<DenoConn> { addr: DenoAddr; close(): void }
interface DenoNet { listen(o: { hostname?: string; port?: number; transport?: 'tcp' | 'unix'; path?: string }): DenoListener }
const deno = () => (globalThis as unknown as { Deno: DenoNet }).Deno;

/** Bytes read per `read()` call. */
const READ_CHUNK = 16384;
/** Bytes queued before `write()` asks the caller to wait for `onDrain` (node:net's default high-water mark). */
const HIGH_WATER = 16384;

const errorOf = (e: unknown): SocketError => ({ code: (e as { code?: string })?.code ?? (e as Error)?.name ?? 'EIO', message: (e as Error)?.message ?? String(e) });

/**
 * A {@link Socket} over a `Deno.Conn`: a read loop delivers chunks, a write
 * queue is pumped one `write()` at a time. `end()` closes the connection in
 * both directions once the queue is written (what the stats server has always
 * done here); the peer's EOF ends our side the same way, as node:net does.
 */
class DenoSocket implements Socket {
  readonly #c: DenoConn;
  #h!: SocketHandlers;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #writing = false;
  #needDrain = false;
  #ending = false;
  #gone = false;
  #paused = false;
  #wakeReader: (() => void) | null = null;

  constructor(c: DenoConn) { this.#c = c; }

  /** Start delivering to `h`. */
  start(h: SocketHandlers): void {
    this.#h = h;
    void this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    for (;;) {
      if (this.#paused && !this.#gone) await new Promise<void>((r) => { this.#wakeReader = r; });
      if (this.#gone) return;
      const buf = new Uint8Array(READ_CHUNK);
      let n: number | null;
      try { n = await this.#c.read(buf); } catch (e) { this.#close(errorOf(e)); return; }
      if (this.#gone) return;
      if (n === null) { this.#h.onEnd(); this.end(); return; }
      this.#h.onData(buf.subarray(0, n));
    }
  }

  write(bytes: Uint8Array): boolean {
    if (this.#gone || this.#ending) return false;
    if (bytes.length === 0) return this.#queued < HIGH_WATER;
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#writing) void this.#pump();
    if (this.#queued < HIGH_WATER) return true;
    this.#needDrain = true;
    return false;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0 && !this.#gone) {
        const b = this.#queue[0]!;
        for (let at = 0; at < b.length;) at += await this.#c.write(b.subarray(at));
        this.#queue.shift();
        this.#queued -= b.length;
      }
    } catch (e) {
      this.#writing = false;
      this.#close(errorOf(e));
      return;
    }
    this.#writing = false;
    if (this.#gone) return;
    if (this.#ending) { this.#close(); return; }
    if (this.#needDrain) { this.#needDrain = false; this.#h.onDrain(); }
  }

  end(last?: Uint8Array): void {
    if (this.#gone || this.#ending) return;
    if (last && last.length > 0) this.write(last);
    this.#ending = true;
    if (!this.#writing) this.#close();
  }

  /** end() already closes both directions once the queue is written. */
  finish(last?: Uint8Array): void { this.end(last); }

  destroy(): void { this.#close(); }

  #close(error?: SocketError): void {
    if (this.#gone) return;
    this.#gone = true;
    this.#queue = [];
    this.#queued = 0;
    try { this.#c.close(); } catch { /* already closed */ }
    this.#wakeReader?.();
    // Never from inside a Socket method's call: the caller finishes first.
    queueMicrotask(() => this.#h.onClose(error));
  }

  pause(): void { this.#paused = true; }
  resume(): void {
    this.#paused = false;
    const w = this.#wakeReader;
    this.#wakeReader = null;
    w?.();
  }
  get closed(): boolean { return this.#gone; }
  get remoteAddress(): string | undefined { const a = this.#c.remoteAddr; return 'hostname' in a ? a.hostname : undefined; }
  get remotePort(): number | undefined { const a = this.#c.remoteAddr; return 'port' in a ? a.port : undefined; }
  get localAddress(): string | undefined { const a = this.#c.localAddr; return 'hostname' in a ? a.hostname : undefined; }
  get localPort(): number | undefined { const a = this.#c.localAddr; return 'port' in a ? a.port : undefined; }
}

/** Listen with `Deno.listen` on TCP or a unix socket (a stale socket file is replaced). */
async function listen(target: Endpoint, accept: AcceptFn): Promise<Listener> {
  const path = target.path;
  if (path !== undefined) unixPath.prepare(path);
  const l = path !== undefined ? deno().listen({ transport: 'unix', path }) : deno().listen({ hostname: target.host, port: target.port });
  let open = true;
  void (async () => {
    try {
      for await (const c of l) {
        const sock = new DenoSocket(c);
        sock.start(accept(sock));
      }
    } catch { /* closed */ }
  })();
  const a = l.addr;
  return {
    port: 'port' in a ? a.port : undefined,
    address: () => (!open ? null : 'path' in a ? a.path : { address: a.hostname, family: a.hostname.includes(':') ? 'IPv6' : 'IPv4', port: a.port }),
    async close() {
      if (!open) return;
      open = false;
      l.close();
      if (path !== undefined) unixPath.remove(path);
    },
  };
}

const prepareShared = prepareReusePort('deno');

/** This runtime's sockets (the RuntimeSockets part of its binding). */
export const sockets: RuntimeSockets = {
  connect, listen,
  prepareListener: async (target, workers, backlog) => { checkSharedServe(target, workers); return prepareShared(target, workers, backlog); },
  listenWithTicket, listenUdp, openUdp, tcpListenQueue, listenHttp, httpBridge, serveFetch, fdLimit,
};
