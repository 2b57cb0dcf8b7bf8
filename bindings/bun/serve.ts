/**
 * `--http-native` on Bun: HTTP/1.1 on `Bun.serve` (uWebSockets underneath),
 * the runtime's own server, for Fetch apps. Bun.serve drops a connection
 * silent for `idleTimeout` seconds once a request started; it has no head
 * deadline and no connection cap (the README says so).
 */
import type { FetchServeHandler, FetchServeOptions, Listener, ListenTarget, ListenTicket } from '../../ts/platform/binding.ts';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import { unixPath } from '../common/net.ts';

interface BunServer {
  readonly port?: number;
  readonly hostname?: string;
  requestIP(r: Request): { address: string; port: number } | null;
  stop(closeActive?: boolean): Promise<void> | void;
}
const bun = () => (globalThis as unknown as { Bun: { serve(o: Record<string, unknown>): BunServer } }).Bun;

/** A response whose body fails with no reason: Bun resets the connection before sending a byte, and logs nothing. */
function drop(): Response {
  return new Response(new ReadableStream({ start(c) { c.error(); } }));
}

/** Bun.serve's largest idleTimeout, in seconds. */
const MAX_IDLE_S = 255;
/**
 * The smallest idleTimeout given to Bun.serve. Measured on Bun 1.4: with 4 s
 * or less it drops busy keep-alive connections too (wrk saw every connection
 * reset every 4 to 5 s); with 5 s and more, in 20 s runs, none.
 */
const MIN_IDLE_S = 5;

/** Serve `handler` on `target` with Bun.serve. */
export async function serveFetch(target: ListenTarget, ticket: ListenTicket, _backlog: number, o: FetchServeOptions, handler: FetchServeHandler): Promise<Listener> {
  if ('fd' in ticket) throw new UwsgiError('ERR_INTERNAL', `listener '${target.address}': a shared descriptor cannot be served with Bun.serve`);
  const path = target.path;
  let server: BunServer;
  try {
    if (path !== undefined) unixPath.prepare(path);
    server = bun().serve({
      ...(path !== undefined ? { unix: path } : { hostname: target.host, port: target.port, reusePort: 'reusePort' in ticket }),
      development: false,
      idleTimeout: Math.min(MAX_IDLE_S, Math.max(MIN_IDLE_S, o.idleTimeoutS)),
      // The server refuses and counts bodies over maxBodySize itself (Bun's refusal would fail the app's
      // read as an app error); and Bun's own default limit (128 MiB) must not be one.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      fetch(r: Request, s: BunServer) {
        const ip = path === undefined ? s.requestIP(r) : null;
        const out = handler(r, { remoteAddr: ip?.address ?? '', remotePort: ip?.port ?? 0, gone: () => r.signal.aborted });
        return out instanceof Response ? out : out === null ? drop() : out.then((v) => v ?? drop());
      },
    });
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${(e as Error)?.message ?? String(e)}`);
  }
  let open = true;
  return {
    port: path === undefined ? server.port : undefined,
    address: () => (!open ? null : path !== undefined ? path : { address: server.hostname ?? target.host ?? '', family: (server.hostname ?? '').includes(':') ? 'IPv6' : 'IPv4', port: server.port ?? 0 }),
    async close() {
      if (!open) return;
      open = false;
      // The worker is stopping: every connection goes now, as node:http's closeAllConnections.
      await server.stop(true);
      if (path !== undefined && 'bind' in ticket) unixPath.remove(path);
    },
  };
}
