/**
 * Connection lifetimes and the per-worker connection cap, shared by the
 * listeners (and, with its own cap, the stats server).
 *
 * Each connection is in one phase, and each phase but `app` has an absolute
 * deadline, so a peer that trickles one byte at a time is dropped as surely
 * as a silent one:
 *
 * | phase | from | until | deadline |
 * |---|---|---|---|
 * | `head` | accepted | the request head (uwsgi vars, HTTP head) is complete | `http-headers-timeout` |
 * | `body` | the head | the body is read | `body-timeout` |
 * | `app` | the body (or the head, without one) | the response is written | none here (`harakiri` bounds the app) |
 * | `idle` | a response, on a keep-alive connection | the next head is complete | `socket-timeout` |
 * | `closing` | our last byte was queued | the peer closed too | a short grace, then destroyed |
 *
 * Over the cap, a new connection first evicts the oldest one that is not being
 * served (idle, still sending its head, or closing); when every connection is
 * being served, the new one is refused (closed at once). So a peer holding
 * many idle or trickling connections cannot lock out a normal request.
 * @module
 */

/** Where a phase begins: see the module comment. */
export type ConnectionPhase = 'head' | 'body' | 'app' | 'idle' | 'closing';

/** Limits of a {@link ConnectionGuard}, in ms (0: no deadline) and connections. */
export interface ConnectionLimits {
  /** Connections open at once. */
  max: number;
  /** Deadline of the `head` phase. */
  headMs: number;
  /** Deadline of the `body` phase. */
  bodyMs: number;
  /** Deadline of the `idle` phase. */
  idleMs: number;
  /** How long a closing connection waits for the peer's close before it is destroyed. */
  lingerMs: number;
}

/** Counters of a guard (for tests and the stats document). */
export interface ConnectionCounts {
  open: number;
  /** Admitted since the start. */
  admitted: number;
  /** Refused over the cap (every open connection was being served). */
  refused: number;
  /** Closed to make room for a new connection. */
  evicted: number;
  /** Closed because a phase's deadline passed. */
  timedOut: number;
}

/** The clock deadlines are measured on (ms, monotonic). */
const now = (): number => performance.now();

/**
 * One connection a guard tracks.
 *
 * A phase change only records the new deadline: a keep-alive connection
 * changes phase two or three times per request, and creating and clearing a
 * timer each time cost more than the rest of the guard's work. The
 * connection keeps at most one timer; when it fires before the current
 * deadline (the deadline moved since it was armed), it is armed again for
 * the time left, so a deadline is enforced at the same moment as if a timer
 * had been set at every change.
 */
export class TrackedConnection {
  phase: ConnectionPhase = 'head';
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the armed timer fires (ms on {@link now}). */
  #timerAt = 0;
  /** The current phase's deadline (ms on {@link now}), 0: none. */
  #deadline = 0;
  #gone = false;
  readonly #guard: ConnectionGuard;
  readonly #destroy: () => void;

  /** @internal Use {@link ConnectionGuard.admit}. */
  constructor(guard: ConnectionGuard, destroy: () => void) {
    this.#guard = guard;
    this.#destroy = destroy;
  }

  /** Whether the guard still tracks it (not closed, not killed). */
  get open(): boolean { return !this.#gone; }

  /** Move to `phase`, starting its deadline. */
  enter(phase: ConnectionPhase): void {
    if (this.#gone) return;
    this.phase = phase;
    const ms = this.#guard.deadline(phase);
    if (ms <= 0) { this.#deadline = 0; return; }
    const at = now() + ms;
    this.#deadline = at;
    // An armed timer that fires no later than the deadline re-arms itself for the rest.
    if (this.#timer === undefined || this.#timerAt > at) this.#arm(at);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - now()));
    // A deadline never keeps a stopping thread alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #fire(): void {
    this.#timer = undefined;
    if (this.#gone || this.#deadline === 0) return;
    // Timers may fire a little early on some runtimes: only a passed deadline kills.
    if (this.#deadline > now() + 1) { this.#arm(this.#deadline); return; }
    if (this.phase !== 'closing') this.#guard.counts.timedOut++;
    this.kill();
  }

  /** Destroy it now (a deadline passed, eviction, the server closes). */
  kill(): void {
    if (this.#gone) return;
    this.closed();
    this.#destroy();
  }

  /** The connection closed (by either side): stop tracking it. Idempotent. */
  closed(): void {
    if (this.#gone) return;
    this.#gone = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#guard.forget(this);
  }
}

/** The connections of one worker's listeners: the cap, eviction and deadlines (see the module comment). */
export class ConnectionGuard {
  readonly limits: ConnectionLimits;
  readonly counts: ConnectionCounts = { open: 0, admitted: 0, refused: 0, evicted: 0, timedOut: 0 };
  // Insertion order is age order: eviction scans from the oldest.
  readonly #conns = new Set<TrackedConnection>();

  constructor(limits: ConnectionLimits) { this.limits = limits; }

  /** @internal The deadline of `phase` in ms (0: none). */
  deadline(phase: ConnectionPhase): number {
    switch (phase) {
      case 'head': return this.limits.headMs;
      case 'body': return this.limits.bodyMs;
      case 'idle': return this.limits.idleMs;
      case 'closing': return this.limits.lingerMs;
      default: return 0;
    }
  }

  /**
   * A connection was accepted: track it (phase `head`), making room over the
   * cap; null when it is refused (the caller destroys it).
   */
  admit(destroy: () => void): TrackedConnection | null {
    if (this.#conns.size >= this.limits.max) {
      for (const c of this.#conns) {
        if (c.phase !== 'app' && c.phase !== 'body') {
          this.counts.evicted++;
          c.kill();
          break;
        }
      }
      if (this.#conns.size >= this.limits.max) {
        this.counts.refused++;
        return null;
      }
    }
    const c = new TrackedConnection(this, destroy);
    this.#conns.add(c);
    this.counts.admitted++;
    this.counts.open = this.#conns.size;
    c.enter('head');
    return c;
  }

  /** @internal */
  forget(c: TrackedConnection): void {
    this.#conns.delete(c);
    this.counts.open = this.#conns.size;
  }

  /** Destroy every tracked connection (the server is closing). */
  closeAll(): void { for (const c of [...this.#conns]) c.kill(); }
}
