/**
 * Node sockets: node:net for streams (bindings/common/net.ts), node:dgram for
 * UDP, and how the master shares a listener with its workers.
 *
 * The master binds each address once and every worker thread accepts on the
 * same socket (one backlog, as uWSGI's prefork workers share theirs). Each
 * worker gets its own duplicate of the descriptor, because a thread that ends
 * closes the descriptors it listened on: with one shared number, a worker
 * crash would close the socket under the others. Node has no dup(), so a tiny
 * helper process receives the socket as an inherited descriptor and sends it
 * back over its IPC channel once per worker (each arrival is a new descriptor).
 * The master never listens on its own handle, so it never accepts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { UwsgiError } from '../../ts/kernel/errors.ts';
import type { ListenTarget, PreparedListener, RuntimeSockets } from '../../ts/platform/binding.ts';
import { connect, listen, listenWithTicket, tcpListenQueue, unixPath } from '../common/net.ts';
import { listenUdp, openUdp } from '../common/udp.ts';
import { fdLimit, httpBridge, listenHttp } from '../common/http.ts';

interface RawHandle { fd: number; bind?(h: string, p: number): number; bind6?(h: string, p: number, f: number): number; getsockname?(out: { port?: number }): number; close(): void }
type Binding = (name: string) => Record<string, unknown>;

const internal = (name: string) => ((process as unknown as { binding: Binding }).binding)(name);

const HELPER = `
const kind = process.argv[1];
const w = process.binding(kind === 'tcp' ? 'tcp_wrap' : 'pipe_wrap');
const Ctor = kind === 'tcp' ? w.TCP : w.Pipe;
const h = new Ctor(w.constants.SERVER);
if (h.open(3) !== 0) process.exit(1);
process.on('message', () => process.send('fd', h, { keepOpen: true }));
process.on('disconnect', () => process.exit(0));
`;

/**
 * How long the master waits for the helper's descriptors. Starting the helper
 * is a whole node process: tens of ms on a quiet machine, 3-4 s measured with
 * both cores loaded; past this the start fails with the reason.
 */
const HELPER_TIMEOUT_MS = 30_000;

function bindHandle(target: ListenTarget): RawHandle {
  let h: RawHandle;
  let rc: number;
  if (target.path !== undefined) {
    const w = internal('pipe_wrap') as { Pipe: new (t: number) => RawHandle & { bind(p: string): number }; constants: { SERVER: number } };
    unixPath.remove(target.path);
    const p = new w.Pipe(w.constants.SERVER);
    rc = p.bind(target.path);
    h = p;
  } else {
    const w = internal('tcp_wrap') as { TCP: new (t: number) => RawHandle; constants: { SERVER: number } };
    h = new w.TCP(w.constants.SERVER);
    rc = target.host!.includes(':') ? h.bind6!(target.host!, target.port!, 0) : h.bind!(target.host!, target.port!);
    // libuv defers EADDRINUSE to listen(), which the master never calls: the socket stays unbound, and each
    // worker's listen() would bind it to a random port. Only the address it really got tells.
    const got: { port?: number } = {};
    if (rc === 0 && target.port !== 0 && (h.getsockname!(got) !== 0 || got.port !== target.port)) {
      h.close();
      throw new UwsgiError('ERR_OPTION', `cannot bind '${target.address}': EADDRINUSE (address already in use)`);
    }
  }
  if (rc !== 0) {
    h.close();
    const name = (internal('uv') as { errname?: (n: number) => string }).errname?.(rc) ?? `error ${rc}`;
    throw new UwsgiError('ERR_OPTION', `cannot bind '${target.address}': ${name}`);
  }
  return h;
}

/** Bind `target` once and keep a duplicate descriptor ready for each worker (see the module comment). */
async function prepareListener(target: ListenTarget, workers: number): Promise<PreparedListener> {
  const original = bindHandle(target);
  const child: ChildProcess = spawn(process.execPath, ['-e', HELPER, target.path !== undefined ? 'pipe' : 'tcp'], {
    stdio: ['ignore', 'ignore', 'inherit', original.fd, 'ipc'],
  });
  const pool: number[] = [];
  // Descriptors now owned by workers: the master keeps their handle objects so
  // nothing ever closes them from this thread.
  const handedOut: RawHandle[] = [];
  let waiters: Array<() => void> = [];
  let closed = false;
  child.on('message', (_m, handle) => {
    const h = handle as unknown as RawHandle;
    handedOut.push(h);
    pool.push(h.fd);
    waiters.splice(0).forEach((f) => f());
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ask = () => { if (!closed && child.connected) child.send('dup'); };
  const want = workers + 2;
  for (let i = 0; i < want; i++) ask();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      new Promise<void>((resolve) => {
        const check = () => (pool.length >= want ? resolve() : waiters.push(check));
        check();
      }),
      exited.then(() => { throw new UwsgiError('ERR_INTERNAL', `listener '${target.address}': the descriptor helper exited`); }),
      // A start never waits silently: a helper that does not hand the descriptors over fails the start, saying so.
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new UwsgiError('ERR_INTERNAL', `listener '${target.address}': the descriptor helper (pid ${child.pid}) handed over ${pool.length} of ${want} descriptors in ${HELPER_TIMEOUT_MS / 1000} s`)), HELPER_TIMEOUT_MS);
      }),
    ]);
  } catch (e) {
    child.kill();
    original.close();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  child.unref();
  (child as unknown as { channel?: { unref(): void } }).channel?.unref();
  return {
    ticket() {
      const fd = pool.shift();
      if (fd === undefined) throw new UwsgiError('ERR_INTERNAL', `listener '${target.address}': no descriptor ready for a new worker`);
      ask();
      return { fd };
    },
    close() {
      if (closed) return;
      closed = true;
      waiters = [];
      // Descriptors no worker took are the master's to close.
      for (const h of handedOut) if (pool.includes(h.fd)) h.close();
      pool.length = 0;
      if (child.connected) child.disconnect();
      child.kill();
      original.close();
      if (target.path !== undefined) unixPath.remove(target.path);
    },
  };
}

/** This runtime's sockets (the RuntimeSockets part of its binding). */
export const sockets: RuntimeSockets = { connect, listen, prepareListener, listenWithTicket, listenUdp, openUdp, tcpListenQueue, listenHttp, httpBridge: () => httpBridge({ direct: true }), fdLimit };
