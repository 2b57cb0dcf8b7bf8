/**
 * `--http-native` on Deno: HTTP/1.1 on `Deno.serve` (hyper), the runtime's
 * own server, for Fetch apps. Deno.serve takes no head, idle or body
 * deadline, no connection cap and no header-size limit; the server adds
 * what can be added per request (ts/server/native.ts) and the README says
 * what cannot.
 */
import type { FetchServeHandler, FetchServeOptions, Listener, ListenTarget, ListenTicket } from '../../ts/platform/binding.ts';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import { unixPath } from '../common/net.ts';

type DenoAddr = { transport: 'tcp'; hostname: string; port: number } | { transport: 'unix'; path: string };
interface DenoServer { finished: Promise<void>; addr: DenoAddr; shutdown(): Promise<void> }
interface DenoServeInfo { remoteAddr: DenoAddr; completed?: Promise<void> }
interface DenoServe {
  serve(o: Record<string, unknown>, h: (r: Request, info: DenoServeInfo) => Response | Promise<Response>): DenoServer;
  /** Present only under `--unstable-net` (what Deno.serve's reusePort needs too). */
  listenDatagram?: unknown;
}
const deno = () => (globalThis as unknown as { Deno: DenoServe }).Deno;

/**
 * A response whose body fails: Deno.serve sends the head and closes the
 * connection, and logs the reason (a line saying why).
 */
function drop(): Response {
  return new Response(new ReadableStream({ start(c) { c.error('uwsgi-wasm: connection dropped by uwsgi.disconnect()'); } }));
}

/**
 * Whether an error met while a request was handled is its connection's: Deno
 * fails a read of the body of a request whose peer went away with one of
 * these (measured: BadResource when the connection was dropped).
 */
function gone(e: unknown): boolean {
  const errors = (globalThis as unknown as { Deno: { errors: Record<string, new () => Error> } }).Deno.errors;
  return ['BadResource', 'Interrupted', 'ConnectionReset', 'BrokenPipe', 'UnexpectedEof'].some((n) => errors[n] !== undefined && e instanceof errors[n]);
}

/** The handler's answer as Deno.serve takes it (null: drop the connection). */
function answer(out: Response | null | Promise<Response | null>): Response | Promise<Response> {
  return out instanceof Response ? out : out === null ? drop() : out.then((v) => v ?? drop());
}

const UNSTABLE_HINT = "which Deno.serve offers under 'deno run --unstable-net'; add that flag, or use --workers 1, or leave out --http-native";

/** Whether Deno.serve may be asked for reusePort: only under --unstable-net (without it, asking ends the process, exit 70). */
const unstableNet = () => typeof deno().listenDatagram === 'function';

/** In the master: refuse a port that `workers` workers would share through Deno.serve when it cannot be shared. */
export function checkSharedServe(target: ListenTarget, workers: number): void {
  if (target.fetchServer && workers > 1 && target.path === undefined && !unstableNet()) {
    throw new UwsgiError('ERR_UNSUPPORTED', `'${target.address}': ${workers} workers share a port served by Deno.serve only with reusePort, ${UNSTABLE_HINT}`);
  }
}

/** Serve `handler` on `target` with Deno.serve. */
export async function serveFetch(target: ListenTarget, ticket: ListenTicket, backlog: number, o: FetchServeOptions, handler: FetchServeHandler): Promise<Listener> {
  if ('fd' in ticket) throw new UwsgiError('ERR_INTERNAL', `listener '${target.address}': a shared descriptor cannot be served with Deno.serve`);
  // Measured: Deno.serve sends a response's `Connection: close` and keeps the connection open.
  if (!o.keepAlive) throw new UwsgiError('ERR_UNSUPPORTED', `option 'http-native' with --http-keepalive 0: Deno.serve keeps every connection open (it cannot be told to close one); leave out one of the two on Deno`);
  const path = target.path;
  const reusePort = 'reusePort' in ticket && path === undefined && unstableNet();
  const ac = new AbortController();
  let server: DenoServer;
  try {
    if (path !== undefined) unixPath.prepare(path);
    const common = { signal: ac.signal, onListen() { /* no banner */ } };
    server = path !== undefined
      ? deno().serve({ ...common, transport: 'unix', path }, (r, info) => answer(handler(r, { remoteAddr: '', remotePort: 0, completed: info.completed, gone })))
      : deno().serve({ ...common, hostname: target.host, port: target.port, reusePort, tcpBacklog: backlog }, (r, info) => {
        const a = info.remoteAddr as { hostname: string; port: number };
        return answer(handler(r, { remoteAddr: a.hostname, remotePort: a.port, completed: info.completed, gone }));
      });
  } catch (e) {
    const msg = (e as Error)?.message ?? String(e);
    if ('reusePort' in ticket && !unstableNet() && /in use/i.test(msg)) {
      throw new UwsgiError('ERR_UNSUPPORTED', `cannot listen on '${target.address}' with Deno.serve: several workers share a port only with reusePort, ${UNSTABLE_HINT} (${msg})`);
    }
    throw new UwsgiError('ERR_OPTION', `cannot listen on '${target.address}': ${msg}`);
  }
  // The in-flight requests keep `finished` pending; a rejection there is the server's own end.
  server.finished.catch(() => {});
  const a = server.addr;
  let open = true;
  return {
    port: a.transport === 'tcp' ? a.port : undefined,
    address: () => (!open ? null : a.transport === 'unix' ? a.path : { address: a.hostname, family: a.hostname.includes(':') ? 'IPv6' : 'IPv4', port: a.port }),
    async close() {
      if (!open) return;
      open = false;
      // The worker is stopping: every connection goes now (abort), as node:http's closeAllConnections.
      ac.abort();
      await server.finished.catch(() => {});
      if (path !== undefined && 'bind' in ticket) unixPath.remove(path);
    },
  };
}
