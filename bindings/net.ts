/**
 * Outgoing stream sockets (TCP and unix) for every runtime: Node's `node:net`,
 * which Deno and Bun implement too (verified on Deno 2.9 and Bun 1.4, unix
 * abstract names included). ts/net.ts builds connections, timeouts and typed
 * errors on this; nothing else opens client sockets.
 */
import * as net from 'node:net';

/** Where to connect: a TCP host and port, or a unix socket path (`\0name` for Linux's abstract namespace). */
export type SocketTarget = { host: string; port: number } | { path: string };

/** What a socket reports; each callback runs on the event loop. */
export interface SocketEvents {
  /** The connection is established. */
  onConnect(): void;
  /** Bytes arrived (the chunk is the caller's to keep). */
  onData(chunk: Uint8Array): void;
  /** The peer finished sending (EOF). */
  onEnd(): void;
  /** The socket failed: `code` is the system error code (`ECONNREFUSED`, `ENOENT`, `ECONNRESET`...). */
  onError(code: string, message: string): void;
}

/** The handle ts/net.ts drives. */
export interface RawSocket {
  /** Queue bytes; `done` runs once they are handed to the system, or with the error. */
  write(bytes: Uint8Array, done: (err?: Error) => void): void;
  /** Stop / restart reading (back-pressure). */
  pause(): void;
  resume(): void;
  /** Release the socket at once; no more events after this. */
  destroy(): void;
}

/** Open a socket to `target`; events arrive through `ev`. */
export function openSocket(target: SocketTarget, ev: SocketEvents): RawSocket {
  const s = 'path' in target ? net.connect({ path: target.path }) : net.connect({ host: target.host, port: target.port });
  s.setNoDelay?.(true);
  s.on('connect', () => ev.onConnect());
  // A plain Uint8Array view: results must not be Buffers (whose slice() shares memory).
  s.on('data', (d: Uint8Array) => ev.onData(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  s.on('end', () => ev.onEnd());
  s.on('error', (e: Error & { code?: string }) => ev.onError(e.code ?? 'EIO', e.message));
  return {
    write: (bytes, done) => { s.write(bytes, (err?: Error | null) => done(err ?? undefined)); },
    pause: () => { s.pause(); },
    resume: () => { s.resume(); },
    destroy: () => {
      s.removeAllListeners('data');
      s.removeAllListeners('end');
      s.removeAllListeners('connect');
      // An error after destroy (a late reset) must not crash the process.
      s.removeAllListeners('error');
      s.on('error', () => {});
      s.destroy();
    },
  };
}
