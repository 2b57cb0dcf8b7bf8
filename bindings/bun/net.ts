/** Bun sockets: Bun.udpSocket for UDP, Bun.listen for TCP and UNIX stream sockets. */
import type { StreamConnection, StreamListener, UdpEndpoint } from '../../ts/platform/runtime.ts';
import type { SocketAddress } from '../../ts/protocol/address.ts';
import { ChunkQueue, prepareUnixPath, removeUnixPath } from '../shared.ts';

interface BunUdp { port: number; send(d: Uint8Array, port: number, host: string): boolean; close(): void }
interface BunSocket { data: { q: ChunkQueue; drained?: () => void }; write(d: Uint8Array): number; end(): void; flush(): void }
interface BunListener { port?: number; stop(closeActive?: boolean): void }
interface BunNet {
  udpSocket(o: { hostname: string; port: number; socket: { data(s: BunUdp, d: Uint8Array, port: number, host: string): void } }): Promise<BunUdp>;
  listen(o: Record<string, unknown>): BunListener;
}
const bun = () => (globalThis as unknown as { Bun: BunNet }).Bun;

export async function listenUdp(addr: { host: string; port: number }, onMessage: (data: Uint8Array, reply: (data: Uint8Array) => void) => void): Promise<UdpEndpoint> {
  const s = await bun().udpSocket({
    hostname: addr.host,
    port: addr.port,
    socket: { data(sock, d, port, host) { onMessage(d, (out) => { sock.send(out, port, host); }); } },
  });
  return { port: s.port, close: async () => { s.close(); } };
}

export async function listenStream(addr: SocketAddress, onConnection: (conn: StreamConnection) => void): Promise<StreamListener> {
  const handlers = {
    open(s: BunSocket) {
      const q = new ChunkQueue();
      s.data = { q };
      let pending: Uint8Array | null = null;
      const flushPending = () => {
        if (!pending) return true;
        const n = s.write(pending);
        pending = n < pending.length ? pending.subarray(n) : null;
        return pending === null;
      };
      let closing = false;
      onConnection({
        read: () => q.read(),
        write: (data) => new Promise<void>((resolve) => {
          pending = pending ? concat(pending, data) : data;
          if (flushPending()) { resolve(); return; }
          s.data.drained = () => { if (flushPending()) { s.data.drained = undefined; resolve(); if (closing) s.end(); } };
        }),
        close: () => { closing = true; if (!pending) s.end(); },
      });
    },
    data(s: BunSocket, d: Uint8Array) { s.data.q.push(new Uint8Array(d)); },
    drain(s: BunSocket) { s.data.drained?.(); },
    close(s: BunSocket) { s.data?.q.end(); },
    error(s: BunSocket) { s.data?.q.end(); },
  };
  if (addr.path !== undefined) prepareUnixPath(addr.path);
  const l = addr.path !== undefined ? bun().listen({ unix: addr.path, socket: handlers }) : bun().listen({ hostname: addr.host, port: addr.port, socket: handlers });
  return {
    port: addr.path !== undefined ? undefined : l.port,
    async close() { l.stop(true); if (addr.path !== undefined) removeUnixPath(addr.path); },
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
