/**
 * Listening helpers every runtime uses as they are: node:net, which Node, Deno
 * and Bun all implement. Only how the master shares the socket differs per
 * runtime (bindings/<runtime>/listen.ts).
 */
import * as net from 'node:net';
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { UwsgiError } from '../ts/kernel/errors.ts';
import type { ListenBinding, ListenTicket, ListenerSpec, NetServer, NetSocket, PreparedListener } from '../ts/server/listen.ts';

/** In a worker: listen with the ticket the master gave (a shared descriptor, reusePort, or a bind of its own). */
export function netListen(spec: ListenerSpec, ticket: ListenTicket, backlog: number, onConnection: (s: NetSocket) => void): Promise<NetServer> {
  const server = net.createServer({ noDelay: true }, (s) => onConnection(s as unknown as NetSocket));
  return new Promise((resolve, reject) => {
    server.once('error', (e) => reject(new UwsgiError('ERR_OPTION', `cannot listen on '${spec.address}': ${e.message}`)));
    const opts: net.ListenOptions & { reusePort?: boolean; fd?: number } =
      'fd' in ticket ? { fd: ticket.fd, backlog }
      : spec.path !== undefined ? { path: spec.path, backlog }
      : { host: spec.host, port: spec.port, backlog, reusePort: 'reusePort' in ticket, exclusive: true };
    if ('bind' in ticket && spec.path !== undefined) unlinkStaleSocket(spec.path);
    server.listen(opts, () => { server.removeAllListeners('error'); resolve(server as unknown as NetServer); });
  });
}

/** Remove `path` if it is a socket file (a previous run's), never anything else. */
export function unlinkStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch { /* absent */ }
}

/** Deno and Bun: every worker binds a TCP address with reusePort; a unix socket only with one worker. */
export function reusePortBinding(runtime: 'deno' | 'bun'): ListenBinding {
  return {
    runtime,
    async prepare(spec: ListenerSpec, workers: number): Promise<PreparedListener> {
      if (spec.path !== undefined) {
        if (workers > 1) {
          throw new UwsgiError('ERR_UNSUPPORTED', `'${spec.address}': a unix socket shared by ${workers} workers is not supported on ${runtime} (it cannot hand one listening descriptor to several threads); use a TCP address or --workers 1`);
        }
        return { spec, ticket: () => ({ bind: true }), close: () => unlinkStaleSocket(spec.path!) };
      }
      // Check the address now, so a port in use fails at start and not in every worker.
      await new Promise<void>((resolve, reject) => {
        const probe = net.createServer();
        probe.once('error', (e) => reject(new UwsgiError('ERR_OPTION', `cannot listen on '${spec.address}': ${e.message}`)));
        probe.listen({ host: spec.host, port: spec.port, reusePort: true, exclusive: true } as net.ListenOptions, () => probe.close(() => resolve()));
      });
      return { spec, ticket: () => ({ reusePort: true }), close: () => {} };
    },
    listen: netListen,
  };
}

/** A file (path or open descriptor) as a byte stream and its size, for uwsgi.sendfile. */
export async function fileStream(file: string | number, chunk: number, pos: number, size?: number): Promise<{ size: number; stream: ReadableStream<Uint8Array> }> {
  const fs = await import('node:fs');
  const fd = typeof file === 'number' ? file : await new Promise<number>((res, rej) => fs.open(file, 'r', (e, d) => (e ? rej(e) : res(d))));
  const ownFd = typeof file !== 'number';
  const total = size ?? Math.max(0, (await new Promise<number>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st.size))))) - pos);
  let at = pos;
  let left = total;
  const close = () => { if (ownFd) fs.close(fd, () => {}); };
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (left <= 0) { close(); ctrl.close(); return; }
      const buf = new Uint8Array(Math.min(chunk, left));
      const n = await new Promise<number>((res, rej) => fs.read(fd, buf, 0, buf.length, at, (e, r) => (e ? rej(e) : res(r))));
      if (n === 0) { close(); ctrl.close(); return; }
      at += n;
      left -= n;
      ctrl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
    },
    cancel() { close(); },
  });
  return { size: total, stream };
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

/** Per-request context that follows async calls (node:async_hooks, which Node, Deno and Bun implement). */
export { AsyncLocalStorage } from 'node:async_hooks';
