/**
 * Deno sockets: Deno.listen for TCP and UNIX stream sockets; node:dgram (Deno's
 * own implementation) for UDP, since Deno.listenDatagram still needs --unstable-net.
 */
import type { StreamConnection, StreamListener } from '../../ts/platform/runtime.ts';
import type { SocketAddress } from '../../ts/protocol/address.ts';
import { prepareUnixPath, removeUnixPath } from '../shared.ts';
export { listenUdp } from '../node/net.ts';

interface DenoConn { read(p: Uint8Array): Promise<number | null>; write(p: Uint8Array): Promise<number>; close(): void }
interface DenoListener extends AsyncIterable<DenoConn> { addr: { port?: number }; close(): void }
interface DenoNet { listen(o: { hostname?: string; port?: number; transport?: 'tcp' | 'unix'; path?: string }): DenoListener }
const deno = () => (globalThis as unknown as { Deno: DenoNet }).Deno;

function connection(c: DenoConn): StreamConnection {
  let closed = false;
  return {
    async read() {
      if (closed) return null;
      const buf = new Uint8Array(16384);
      try {
        const n = await c.read(buf);
        return n === null ? null : buf.subarray(0, n);
      } catch { return null; }
    },
    async write(data) {
      for (let at = 0; at < data.length;) at += await c.write(data.subarray(at));
    },
    close() { if (!closed) { closed = true; try { c.close(); } catch { /* already closed */ } } },
  };
}

export async function listenStream(addr: SocketAddress, onConnection: (conn: StreamConnection) => void): Promise<StreamListener> {
  if (addr.path !== undefined) prepareUnixPath(addr.path);
  const l = addr.path !== undefined ? deno().listen({ transport: 'unix', path: addr.path }) : deno().listen({ hostname: addr.host, port: addr.port });
  let open = true;
  void (async () => {
    try { for await (const c of l) onConnection(connection(c)); } catch { /* closed */ }
  })();
  return {
    port: addr.path !== undefined ? undefined : l.addr.port,
    async close() {
      if (!open) return;
      open = false;
      l.close();
      if (addr.path !== undefined) removeUnixPath(addr.path);
    },
  };
}
