/**
 * Pull-style reading and awaited writing over the runtime's push-style
 * {@link Socket}: the one reader the listeners, the stats server and the
 * client build on. It buffers what arrives, pauses the socket when enough is
 * buffered (and resumes it when readers need more), wakes waiting readers, and
 * times out a wait that sees no byte for a while.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { Socket, SocketError, SocketHandlers } from '../platform/index.ts';
import { type LongTimer, longTimeout } from '../kernel/timers.ts';

/** Options of a {@link SocketStream}. */
export interface SocketStreamOptions {
  /** Bytes buffered (or asked for by a waiting reader, if more) at which the socket is paused. */
  highWater: number;
  /** Bytes buffered below which a paused socket is resumed (at most `highWater`). */
  lowWater: number;
  /** Default wait of {@link SocketStream.read} for a byte, in ms (-1: none). */
  timeoutMs?: number;
  /** Runs once when the socket is gone (after the stream saw it). */
  onClosed?: () => void;
}

interface Waiter {
  /** Bytes this waiter needs buffered (the socket is not paused below that). */
  need: number;
  wake(): void;
}

/** A socket's bytes as a pull-style stream, and its writes with backpressure. It is the socket's {@link SocketHandlers}. */
export class SocketStream implements SocketHandlers {
  /** The socket; set by {@link attach} before any byte arrives. */
  socket!: Socket;
  /** Bytes received and not taken yet. */
  buffered = 0;
  /** The peer finished sending. */
  eof = false;
  /** The socket is gone (either side closed it, or it failed). */
  closed = false;
  /** Why the socket failed, if it did. */
  failure: SocketError | null = null;
  /** Increases whenever bytes arrive (a waiting reader restarts its timer). */
  progress = 0;
  /** Bytes written through {@link write} and {@link end}. */
  tx = 0;
  #chunks: Uint8Array[] = [];
  #paused = false;
  readonly #waiters = new Set<Waiter>();
  readonly #writers = new Set<() => void>();
  readonly #closedWaiters: Array<() => void> = [];
  readonly #high: number;
  readonly #low: number;
  readonly #timeoutMs: number;
  readonly #onClosed: (() => void) | undefined;

  constructor(opts: SocketStreamOptions) {
    this.#high = opts.highWater;
    this.#low = Math.min(opts.lowWater, opts.highWater);
    this.#timeoutMs = opts.timeoutMs ?? -1;
    this.#onClosed = opts.onClosed;
  }

  /** Read from `socket` (give this stream as its handlers). */
  attach(socket: Socket): this {
    this.socket = socket;
    return this;
  }

  // ---- the socket's handlers ------------------------------------------------------------

  onData(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.buffered += chunk.length;
    this.progress++;
    this.#flow();
    this.wake();
  }

  onEnd(): void {
    this.eof = true;
    this.wake();
  }

  onDrain(): void { this.#wakeWriters(); }

  onClose(error?: SocketError): void {
    this.closed = true;
    if (error && !this.failure) this.failure = error;
    this.wake();
    this.#wakeWriters();
    this.#onClosed?.();
    for (const f of this.#closedWaiters.splice(0)) f();
  }

  /** Resolves once the socket is gone. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => { this.#closedWaiters.push(r); });
  }

  // ---- waiting --------------------------------------------------------------------------

  /** Wake every waiting reader (each checks its condition again). */
  wake(): void { for (const w of [...this.#waiters]) w.wake(); }

  /**
   * Wait until `cond()` holds (checked whenever bytes arrive, the peer ends,
   * the socket closes, or {@link wake} is called), with `need` bytes wanted
   * buffered. True once it holds; false when no byte arrived for `timeoutMs`
   * (the timer restarts with each arrival; -1: no limit).
   */
  wait(cond: () => boolean, need: number, timeoutMs: number): Promise<boolean> {
    if (cond()) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: LongTimer | undefined;
      let seen = this.progress;
      const arm = () => {
        if (timeoutMs < 0) return;
        timer?.cancel();
        timer = longTimeout(() => { finish(); resolve(false); }, timeoutMs);
      };
      const finish = () => { timer?.cancel(); this.#waiters.delete(w); this.#flow(); };
      const w: Waiter = {
        need,
        wake: () => {
          if (cond()) { finish(); resolve(true); return; }
          if (this.progress !== seen) { seen = this.progress; arm(); }
        },
      };
      this.#waiters.add(w);
      this.#flow();
      arm();
    });
  }

  /** Pause the socket when enough is buffered for every waiter and more; resume it when readers need bytes. */
  #flow(): void {
    if (this.closed) return;
    let need = 0;
    for (const w of this.#waiters) if (w.need > need) need = w.need;
    if (!this.#paused) {
      if (this.buffered >= Math.max(need, this.#high)) { this.#paused = true; this.socket.pause(); }
    } else if (this.buffered < Math.max(need, this.#low)) {
      this.#paused = false;
      this.socket.resume();
    }
  }

  // ---- taking bytes -------------------------------------------------------------------

  /** Exactly `n` buffered bytes (the caller checked `buffered >= n`) in an array of their own. */
  take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[0]!;
    let out: Uint8Array;
    if (first.length >= n) {
      out = first.slice(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = new Uint8Array(n);
      let at = 0;
      while (at < n) {
        const c = this.#chunks[0]!;
        const k = Math.min(c.length, n - at);
        out.set(c.subarray(0, k), at);
        at += k;
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    this.#flow();
    return out;
  }

  /** Up to `max` bytes of the first buffered chunk (a view, no copy; the caller checked `buffered > 0`). */
  takeSome(max: number): Uint8Array {
    let c = this.#chunks[0]!;
    if (c.length > max) { this.#chunks[0] = c.subarray(max); c = c.subarray(0, max); } else this.#chunks.shift();
    this.buffered -= c.length;
    this.#flow();
    return c;
  }

  /** Put bytes back in front (what a parser read past its end). */
  unshift(c: Uint8Array): void {
    if (c.length === 0) return;
    this.#chunks.unshift(c);
    this.buffered += c.length;
  }

  /** Where `byte` is among the buffered bytes, searching from offset `from`; -1 if absent. */
  indexOf(byte: number, from: number): number {
    let base = 0;
    for (const c of this.#chunks) {
      if (from < base + c.length) {
        const i = c.indexOf(byte, Math.max(0, from - base));
        if (i >= 0) return base + i;
      }
      base += c.length;
    }
    return -1;
  }

  // ---- reading as a server does ---------------------------------------------------------

  /**
   * The next bytes (at most `max`, a view of what arrived), or null at the end
   * of the stream (the peer ended, or the socket closed). `ERR_TIMEOUT` when no
   * byte arrives for `timeoutMs`; `ERR_PROTOCOL` when the socket failed.
   */
  async read(max = Infinity, timeoutMs = this.#timeoutMs): Promise<Uint8Array | null> {
    while (this.buffered === 0) {
      if (this.failure) throw new UwsgiError('ERR_PROTOCOL', `connection failed: ${this.failure.message}`);
      if (this.eof || this.closed) return null;
      if (!await this.wait(() => this.buffered > 0 || this.eof || this.closed || this.failure !== null, 1, timeoutMs)) {
        throw new UwsgiError('ERR_TIMEOUT', `the peer sent nothing for ${timeoutMs} ms`);
      }
    }
    return this.takeSome(max);
  }

  /** Exactly `n` bytes, or null if the stream ends first (errors as {@link read}). */
  async readExactly(n: number): Promise<Uint8Array | null> {
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const c = await this.read(n - at);
      if (!c) return null;
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** Read and drop `n` bytes (a body the handler left unread), so closing does not reset the connection. False when the peer ended first. */
  async discard(n: number): Promise<boolean> {
    let left = n;
    while (left > 0) {
      const c = await this.read(left);
      if (!c) return false;
      left -= c.length;
    }
    return true;
  }

  // ---- writing --------------------------------------------------------------------------

  /** Resolves once the socket drained what was queued, or closed: true; false when neither happened within `timeoutMs` (-1: no limit). */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      let timer: LongTimer | undefined;
      const done = () => { timer?.cancel(); this.#writers.delete(done); resolve(true); };
      this.#writers.add(done);
      if (timeoutMs >= 0) timer = longTimeout(() => { this.#writers.delete(done); resolve(false); }, timeoutMs);
    });
  }

  #wakeWriters(): void { for (const w of [...this.#writers]) w(); }

  /**
   * Send `b`, waiting for the socket to drain when its queue is full.
   * `ERR_PROTOCOL` when the socket is gone; `ERR_TIMEOUT` (and the socket is
   * destroyed) when the peer takes nothing for `timeoutMs`: a peer that stops
   * reading cannot hold a connection and its queued bytes forever.
   */
  async write(b: Uint8Array): Promise<void> {
    if (b.length === 0) return;
    if (this.socket.closed) throw new UwsgiError('ERR_PROTOCOL', 'the connection is closed');
    this.tx += b.length;
    if (!this.socket.write(b) && !await this.drained(this.#timeoutMs)) {
      this.socket.destroy();
      throw new UwsgiError('ERR_TIMEOUT', `the peer took no byte for ${this.#timeoutMs} ms`);
    }
  }

  /** Finish our side, with `last` as the final bytes (one write, then FIN: a whole small response goes out in one syscall). */
  end(last?: Uint8Array): void {
    if (this.socket.closed) return;
    if (last && last.length > 0) {
      this.tx += last.length;
      this.socket.end(last);
    } else this.socket.end();
  }

  /** As {@link end}, then the socket closes once our bytes are out, without waiting for the peer (see `Socket.finish`). */
  finish(last?: Uint8Array): void {
    if (this.socket.closed) return;
    if (last && last.length > 0) this.tx += last.length;
    this.socket.finish(last);
  }
}
