/**
 * Client connections: uWSGI's address forms, and a buffered stream with
 * per-operation timeouts whose every failure is a typed {@link UwsgiError}:
 * `ERR_CONNECT` (refused, no such unix socket, unreachable), `ERR_TIMEOUT` (no
 * progress within the timeout), `ERR_CLOSED` (the peer closed or reset before
 * the bytes the protocol needs), `ERR_BAD_REPLY` (more bytes than allowed).
 * The sockets come from the runtime (`runtime().connect`), read through a
 * {@link SocketStream}.
 * @module
 */
import { UwsgiError, statusError, typeName } from '../kernel/errors.ts';
import { CoreStatus } from '../kernel/abi.ts';
import { CONNECT_RULES, parseAddress as parseSocketAddress } from '../protocol/address.ts';
import { type Endpoint, type Socket, runtime } from '../platform/index.ts';
import { SocketStream } from '../protocol/stream.ts';
import { delayMs } from '../kernel/timers.ts';

const utf8d = new TextDecoder();

/** uWSGI's default `--socket-timeout`: seconds a client operation may wait for progress. */
export const DEFAULT_SOCKET_TIMEOUT = 4;
/**
 * Largest reply body a client call accepts (a remote cache value, an RPC
 * result, a `send_message` answer): 64 MiB. A peer announcing more gets
 * `ERR_BAD_REPLY` before anything is allocated for it.
 */
export const MAX_REPLY_BYTES = 64 * 1024 * 1024;
/** Bytes read ahead of what callers asked for before the socket is paused. */
const READ_AHEAD = 256 * 1024;

/** A parsed address: what the user wrote (`text`) and where to connect. */
export interface NetAddress {
  /** The address as given, for messages. */
  readonly text: string;
  readonly target: Endpoint;
}

/** A failure with one of the network status codes, message `fn: address: detail`. */
export function netError(status: number, fn: string, addr: string, detail: string): UwsgiError {
  const e = statusError(status, fn);
  return new UwsgiError(e.code, `${fn}: ${addr}: ${detail}`);
}

/**
 * Parse the address argument `arg` of client function `fn` (a string or its
 * UTF-8 bytes) with the client's rules: `host:port` (no host: 127.0.0.1),
 * `[ipv6]:port`, a unix socket path, `@name` for Linux's abstract namespace.
 */
export function parseAddress(fn: string, addr: unknown, arg = 'address'): NetAddress {
  let text: string;
  if (typeof addr === 'string') text = addr;
  else if (addr instanceof Uint8Array) text = utf8d.decode(addr);
  else throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${arg} must be a string, got ${typeName(addr)}`);
  return { text, target: parseSocketAddress(text, { ...CONNECT_RULES, label: `${fn}: ${arg}` }) };
}

/** A timeout argument in seconds (fractions allowed): -1 waits forever; anything else must be > 0 (and at most 2^53 - 1 ms). */
export function timeoutArg(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be a number of seconds, got ${typeName(v)}`);
  if (v === -1) return -1;
  if (!(v > 0) || !Number.isFinite(v)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} must be > 0 seconds (or -1: no timeout), got ${v}`);
  return delayMs(fn, name, v);
}

/**
 * One client connection. Reads are buffered; each operation waits at most
 * `timeoutMs` for progress (the timer restarts whenever bytes arrive), -1 for
 * no limit. After a failure the connection is unusable and every further
 * operation fails with the same error.
 */
export class Connection {
  readonly address: NetAddress;
  readonly #sock: Socket;
  readonly #in: SocketStream;
  #connected = false;
  #closed = false;
  /** Bytes the peer sent on this connection, read or not. */
  #received = 0;
  /** The peer reset the connection (ECONNRESET, or EPIPE while we were sending). */
  #peerReset = false;
  /** Set when the socket failed: [status, detail]. */
  #failure?: [number, string];

  /** Start connecting to `address` (does not wait). */
  constructor(address: NetAddress) {
    this.address = address;
    const input = new SocketStream({ highWater: READ_AHEAD, lowWater: READ_AHEAD });
    this.#in = input;
    this.#sock = runtime().connect(address.target, {
      onConnect: () => { this.#connected = true; input.wake(); },
      onData: (chunk) => { this.#received += chunk.length; input.onData(chunk); },
      onEnd: () => input.onEnd(),
      onDrain: () => input.onDrain(),
      onClose: (error) => {
        // Before the connection is up every failure means nobody accepts there.
        if (error && this.#connected && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) this.#peerReset = true;
        if (error && !this.#failure) {
          this.#failure = this.#connected
            ? [CoreStatus.E_NET_CLOSED, `the connection failed (${error.code}: ${error.message})`]
            : [CoreStatus.E_NET_CONNECT, `cannot connect (${error.code}: ${error.message})`];
        }
        input.onClose(error);
      },
    });
    input.attach(this.#sock);
  }

  /** Connect to `address`, waiting at most `timeoutMs` (-1: no limit). */
  static async open(fn: string, address: NetAddress, timeoutMs: number): Promise<Connection> {
    const c = new Connection(address);
    try {
      await c.ready(fn, timeoutMs);
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** Established, not failed, not closed by us (the peer may have finished sending). */
  get connected(): boolean { return this.#connected && !this.#failure && !this.#closed; }
  /** The peer finished sending and every byte it sent was read. */
  get drained(): boolean { return this.#in.eof && this.#in.buffered === 0; }
  /**
   * The peer reset the connection before sending a byte. A server that refuses
   * a request and closes without reading all of it (uWSGI does, for a cache
   * value over its blocksize) makes the kernel send a reset instead of an
   * orderly close; which one arrives depends on timing, so callers that take
   * "closed without a byte" as the server's no take this the same way.
   */
  get resetBeforeReply(): boolean { return this.#peerReset && this.#received === 0; }
  /** Bytes received and not read yet. */
  get buffered(): number { return this.#in.buffered; }

  /** Wait until the connection is established. */
  ready(fn: string, timeoutMs: number): Promise<void> {
    return this.#until(fn, timeoutMs, 0, () => this.#connected, 'connecting');
  }

  /** Send `bytes` (after the connection is established); waits while the socket's queue is full. */
  async write(fn: string, bytes: Uint8Array, timeoutMs: number): Promise<void> {
    await this.ready(fn, timeoutMs);
    this.#throwIfFailed(fn);
    if (this.#sock.write(bytes)) return;
    if (!await this.#in.drained(timeoutMs)) this.#fail(CoreStatus.E_TIMEOUT, `no progress sending ${bytes.length} bytes within ${timeoutMs} ms`);
    this.#throwIfFailed(fn);
  }

  /**
   * Exactly `n` bytes. Resolves null when the peer closed cleanly before the
   * first of them (uWSGI's "no answer"); a close after some of them is ERR_CLOSED.
   */
  async readExactly(fn: string, n: number, timeoutMs: number, what: string): Promise<Uint8Array | null> {
    if (n > MAX_REPLY_BYTES) throw netError(CoreStatus.E_NET_BAD_REPLY, fn, this.address.text, `${what}: ${n} bytes announced, over the ${MAX_REPLY_BYTES}-byte limit`);
    const input = this.#in;
    await this.#until(fn, timeoutMs, n, () => input.buffered >= n || input.eof, what);
    if (input.buffered >= n) return input.take(n);
    if (input.buffered === 0) return n === 0 ? new Uint8Array(0) : null;
    throw netError(CoreStatus.E_NET_CLOSED, fn, this.address.text, `the peer closed the connection after ${input.buffered} of the ${n} bytes of ${what}`);
  }

  /** Whatever is available, 1..`max` bytes, waiting for at least one; null at EOF. */
  async readSome(fn: string, max: number, timeoutMs: number): Promise<Uint8Array | null> {
    const input = this.#in;
    await this.#until(fn, timeoutMs, 1, () => input.buffered > 0 || input.eof, 'data');
    if (input.buffered === 0) return null;
    return input.take(Math.min(max, input.buffered));
  }

  /** Everything until the peer closes; ERR_BAD_REPLY past `max` bytes. */
  async readToEnd(fn: string, max: number, timeoutMs: number, what: string): Promise<Uint8Array> {
    const input = this.#in;
    await this.#until(fn, timeoutMs, max + 1, () => input.eof || input.buffered > max, what);
    if (input.buffered > max) {
      const err = netError(CoreStatus.E_NET_BAD_REPLY, fn, this.address.text, `${what} is longer than the ${max}-byte limit`);
      this.close();
      throw err;
    }
    return input.take(input.buffered);
  }

  /**
   * The bytes between the next `prefix` byte and the following `suffix` byte
   * (both dropped; bytes before the prefix are skipped). Null when the peer
   * closes before a prefix; ERR_CLOSED when it closes inside a frame;
   * ERR_BAD_REPLY for a frame longer than `max`.
   */
  async readFrame(fn: string, prefix: number, suffix: number, max: number, timeoutMs: number): Promise<Uint8Array | null> {
    const input = this.#in;
    // Skip up to the prefix.
    for (;;) {
      await this.#until(fn, timeoutMs, 1, () => input.buffered > 0 || input.eof, 'a frame');
      if (input.buffered === 0) return null;
      const at = input.indexOf(prefix, 0);
      if (at >= 0) { input.take(at + 1); break; }
      input.take(input.buffered);
    }
    let scanned = 0;
    for (;;) {
      const end = input.indexOf(suffix, scanned);
      if (end >= 0) {
        if (end > max) break;
        const frame = input.take(end);
        input.take(1);
        return frame;
      }
      scanned = input.buffered;
      if (scanned > max) break;
      if (input.eof) throw netError(CoreStatus.E_NET_CLOSED, fn, this.address.text, `the peer closed the connection inside a frame (${scanned} bytes, no closing byte)`);
      const have = scanned;
      await this.#until(fn, timeoutMs, have + 1, () => input.buffered > have || input.eof, 'the end of a frame');
    }
    const err = netError(CoreStatus.E_NET_BAD_REPLY, fn, this.address.text, `a frame is longer than the ${max}-byte limit`);
    this.close();
    throw err;
  }

  /** Release the socket. Pending operations fail with ERR_CLOSED. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.destroy();
    this.#fail(CoreStatus.E_NET_CLOSED, 'the connection was closed');
  }

  // ---- internals -----------------------------------------------------------------

  #fail(status: number, detail: string): void {
    if (!this.#failure) this.#failure = [status, detail];
    if (status === CoreStatus.E_TIMEOUT && !this.#closed) { this.#closed = true; this.#sock.destroy(); }
    this.#in.wake();
  }

  #error(fn: string): UwsgiError {
    const [status, detail] = this.#failure!;
    return netError(status, fn, this.address.text, detail);
  }

  #throwIfFailed(fn: string): void { if (this.#failure) throw this.#error(fn); }

  /** Wait until `cond()` holds; fail on a socket failure or when no bytes arrive within `timeoutMs`. */
  async #until(fn: string, timeoutMs: number, need: number, cond: () => boolean, what: string): Promise<void> {
    // Bytes already buffered satisfy a read even after the peer failed.
    if (cond()) return;
    this.#throwIfFailed(fn);
    const held = await this.#in.wait(() => cond() || this.#failure !== undefined, need, timeoutMs);
    if (cond()) return;
    if (!held) this.#fail(CoreStatus.E_TIMEOUT, `nothing came within ${timeoutMs} ms while waiting for ${what}`);
    throw this.#error(fn);
  }
}
