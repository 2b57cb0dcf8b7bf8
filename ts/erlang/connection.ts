/**
 * One distribution connection: the OTP 23+ handshake as either side, then
 * 4-byte frames of `p` + control term (+ message term), ticks answered and
 * sent when idle, and liveness (a peer silent for `tickMs` is gone). Every
 * failure ends the connection with one typed error, which its owner hands to
 * whoever waits on it. The handshake is a synchronous state machine run by
 * each frame as it arrives, so the switch from 2-byte to 4-byte frames
 * happens exactly between the last handshake frame and the first data frame
 * even when both arrive in one chunk.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { type Endpoint, type Socket, type SocketHandlers, runtime } from '../platform/index.ts';
import { decodeTermAt, encodeTerms } from './codec.ts';
import type { Term, TermInput } from './terms.ts';
import { FrameReader, frame } from './frames.ts';
import {
  OUR_FLAGS, challenge, challengeAck, challengeReply, digest, hasMandatory, newChallenge, parseChallenge, parseSendName, parseStatus,
  sameDigest, sendName, status,
} from './handshake.ts';

/** The `p` (pass-through) byte that starts every message when no atom cache is used. */
const PASS_THROUGH = 0x70;
/** A tick: an empty 4-byte frame. */
const TICK = new Uint8Array(4);

/** What the acceptor answers to a node that wants to connect (see dist_util.erl). */
export type Admission = 'ok' | 'ok_simultaneous' | 'nok' | 'alive' | 'not_allowed';

/** What a connection needs from its node, and tells it. */
export interface ConnectionHost {
  /** Our full node name. */
  readonly nodeName: string;
  readonly cookie: string;
  /** Our creation (EPMD's, or a random one before registration). */
  readonly creation: number;
  /** The peer is silent for this long: the connection is dead (net_ticktime; ticks go out every quarter of it). */
  readonly tickMs: number;
  /** Largest frame accepted from a peer, in bytes. */
  readonly maxFrame: number;
  /** Acceptor side: may node `peer` connect now? */
  admit(conn: DistConnection, peer: string): Admission;
  /** The handshake is done. */
  up(conn: DistConnection): void;
  /** The connection is gone, with why. Called once. */
  closed(conn: DistConnection, error: UwsgiError): void;
  /** A message arrived: its control term, and its payload term (raw bytes too) if it has one. */
  message(conn: DistConnection, control: Term, payload: { term: Term; bytes: Uint8Array } | undefined): void;
  /** A line for the log. */
  log(line: string): void;
}

type State = 'connecting' | 'send-name' | 'await-status' | 'await-challenge' | 'await-ack'
  | 'await-name' | 'await-alive-answer' | 'await-reply' | 'up' | 'closed';

/** A distribution connection to one peer node. */
export class DistConnection {
  /** This node's id for it (the `erlang_connect` result). */
  readonly id: number;
  /** Who started it. */
  readonly role: 'initiator' | 'acceptor';
  /** The peer's full name: known from the start when we looked it up, else from its handshake. */
  peer: string | undefined;
  /** The peer's flags and creation, once its handshake message came. */
  peerFlags = 0n;
  peerCreation = 0;
  /** Resolves once the handshake is done; rejects with the connection's error. */
  readonly ready: Promise<void>;
  /** The error that ended it. */
  error: UwsgiError | undefined;
  /** When a byte last came from the peer, and when we last sent one (ms). */
  lastReceived = Date.now();
  lastSent = Date.now();
  /** Ticks received and answered (liveness, for tests and stats). */
  ticksReceived = 0;
  /** The handshake completed at some point (it may be closed now). */
  wasUp = false;

  readonly #host: ConnectionHost;
  readonly #reader: FrameReader;
  #sock: Socket | undefined;
  #state: State;
  #ourChallenge = 0;
  #peerChallenge = 0;
  #resolveReady!: () => void;
  #rejectReady!: (e: UwsgiError) => void;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #tickTimer: ReturnType<typeof setInterval> | undefined;
  #drainWaiters: Array<() => void> = [];
  /** Where we connected to (messages). */
  readonly #where: string;

  private constructor(host: ConnectionHost, id: number, role: 'initiator' | 'acceptor', where: string, peer: string | undefined, handshakeMs: number) {
    this.#host = host;
    this.id = id;
    this.role = role;
    this.peer = peer;
    this.#where = where;
    this.#state = role === 'initiator' ? 'connecting' : 'await-name';
    this.#reader = new FrameReader(2, host.maxFrame, (f) => this.#frame(f));
    this.ready = new Promise((resolve, reject) => { this.#resolveReady = resolve; this.#rejectReady = reject; });
    // Nobody may be waiting on an incoming connection's handshake: its failure is reported through closed().
    this.ready.catch(() => {});
    this.#handshakeTimer = handshakeMs < 0 ? undefined : setTimeout(() => {
      this.close(new UwsgiError('ERR_TIMEOUT', `${this.#label()}: the handshake did not finish within ${handshakeMs} ms`));
    }, handshakeMs);
  }

  /** Connect to a node listening at `target`; `peer` is its name when known (an EPMD lookup). */
  static connect(host: ConnectionHost, id: number, target: Endpoint, where: string, peer: string | undefined, handshakeMs: number): DistConnection {
    const c = new DistConnection(host, id, 'initiator', where, peer, handshakeMs);
    c.#sock = runtime().connect(target, {
      ...c.#handlers(),
      onConnect: () => {
        if (c.#state !== 'connecting') return;
        c.#state = 'await-status';
        c.#sendHandshake(sendName(OUR_FLAGS, host.creation, host.nodeName));
      },
    });
    return c;
  }

  /** A connection a peer opened to our listener: returns its socket handlers. */
  static accept(host: ConnectionHost, id: number, sock: Socket, handshakeMs: number): { conn: DistConnection; handlers: SocketHandlers } {
    const where = `${sock.remoteAddress ?? 'a peer'}:${sock.remotePort ?? 0}`;
    const c = new DistConnection(host, id, 'acceptor', where, undefined, handshakeMs);
    c.#sock = sock;
    return { conn: c, handlers: c.#handlers() };
  }

  /** Established and not closed. */
  get isUp(): boolean { return this.#state === 'up'; }
  /** Closed (see {@link error}). */
  get isClosed(): boolean { return this.#state === 'closed'; }

  #label(): string { return this.peer ? `${this.peer} (${this.#where})` : this.#where; }

  #handlers(): SocketHandlers {
    return {
      onData: (chunk) => {
        this.lastReceived = Date.now();
        try {
          this.#reader.push(chunk);
        } catch (e) {
          this.close(e instanceof UwsgiError ? new UwsgiError(e.code, `${this.#label()}: ${e.message}`) : new UwsgiError('ERR_INTERNAL', `${this.#label()}: ${String(e)}`));
        }
      },
      onEnd: () => { this.#sock?.end(); },
      onDrain: () => { for (const w of this.#drainWaiters.splice(0)) w(); },
      onClose: (error) => {
        if (this.#state === 'closed') return;
        this.close(this.#closeError(error?.code, error?.message));
      },
    };
  }

  /** Why the socket closed, in terms of where the connection was. */
  #closeError(code: string | undefined, message: string | undefined): UwsgiError {
    const why = code ? `${code}${message ? `: ${message}` : ''}` : 'closed';
    switch (this.#state) {
      case 'connecting': return new UwsgiError('ERR_CONNECT', `${this.#label()}: cannot connect (${why})`);
      case 'await-ack':
        // OTP closes without a word when the digest is wrong (dist_util: "Invalid challenge reply").
        return new UwsgiError('ERR_REJECTED', `${this.#label()}: handshake: the peer closed the connection after our challenge reply: the cookies differ`);
      case 'await-status': case 'await-challenge':
        return new UwsgiError('ERR_REJECTED', `${this.#label()}: handshake: the peer closed the connection (${why}) before accepting us (does it speak distribution version 6, OTP 23+?)`);
      case 'up': return new UwsgiError('ERR_CLOSED', `${this.#label()}: the connection closed (${why})`);
      default: return new UwsgiError('ERR_CLOSED', `${this.#label()}: the peer closed the connection during the handshake (${why})`);
    }
  }

  #sendHandshake(payload: Uint8Array): void {
    this.lastSent = Date.now();
    this.#sock?.write(frame(2, payload));
  }

  #fail(code: 'ERR_REJECTED' | 'ERR_PROTOCOL', msg: string, reply?: string): void {
    if (reply !== undefined) this.#sendHandshake(status(reply));
    this.close(new UwsgiError(code, `${this.#label()}: handshake: ${msg}`));
  }

  #frame(f: Uint8Array): void {
    switch (this.#state) {
      case 'up': return this.#data(f);
      // ---- initiator ----
      case 'await-status': {
        const s = parseStatus(f);
        if (s === 'ok' || s === 'ok_simultaneous') { this.#state = 'await-challenge'; return; }
        // The peer holds a connection to us it believes alive; we have none, so it is stale: go on.
        if (s === 'alive') { this.#sendHandshake(status('true')); this.#state = 'await-challenge'; return; }
        if (s === undefined) return this.#fail('ERR_PROTOCOL', 'expected a status message');
        return this.#fail('ERR_REJECTED', `the peer answered '${s}'${s === 'not_allowed' ? ' (it does not allow this node, or our flags)' : s === 'nok' ? ' (it is connecting to us at the same time)' : ''}`);
      }
      case 'await-challenge': {
        const m = parseChallenge(f);
        if (!m) return this.#fail('ERR_PROTOCOL', 'expected a challenge (N) message');
        if (!hasMandatory(m.flags)) return this.#fail('ERR_REJECTED', `the peer lacks flags OTP 25 requires (flags 0x${m.flags.toString(16)})`);
        if (this.peer !== undefined && m.name !== this.peer) return this.#fail('ERR_REJECTED', `the node there is '${m.name}', not '${this.peer}'`);
        this.peer = m.name;
        this.peerFlags = m.flags;
        this.peerCreation = m.creation;
        this.#ourChallenge = newChallenge();
        this.#state = 'await-ack';
        this.#sendHandshake(challengeReply(this.#ourChallenge, digest(this.#host.cookie, m.challenge!)));
        return;
      }
      case 'await-ack': {
        if (f.length !== 17 || f[0] !== 0x61) return this.#fail('ERR_PROTOCOL', 'expected a challenge ack (a) message');
        if (!sameDigest(f.subarray(1), digest(this.#host.cookie, this.#ourChallenge))) {
          return this.#fail('ERR_REJECTED', 'the peer\'s challenge ack does not match our cookie (the cookies differ)');
        }
        return this.#established();
      }
      // ---- acceptor ----
      case 'await-name': {
        if (f[0] === 0x6e) return this.#fail('ERR_REJECTED', 'the peer speaks distribution version 5 only (OTP 22 or older)', 'not_allowed');
        const m = parseSendName(f);
        if (!m) return this.#fail('ERR_PROTOCOL', 'expected a send_name (N) message');
        this.peer = m.name;
        this.peerFlags = m.flags;
        this.peerCreation = m.creation;
        if (!hasMandatory(m.flags)) return this.#fail('ERR_REJECTED', `the peer lacks flags OTP 25 requires (flags 0x${m.flags.toString(16)})`, 'not_allowed');
        const verdict = this.#host.admit(this, m.name);
        if (verdict === 'nok' || verdict === 'not_allowed') return this.#fail('ERR_REJECTED', `refused (${verdict})`, verdict);
        if (verdict === 'alive') { this.#state = 'await-alive-answer'; this.#sendHandshake(status('alive')); return; }
        this.#sendHandshake(status(verdict));
        return this.#sendChallenge();
      }
      case 'await-alive-answer': {
        const s = parseStatus(f);
        if (s === 'true') return this.#sendChallenge();
        return this.#fail('ERR_REJECTED', 'the peer keeps its existing connection');
      }
      case 'await-reply': {
        if (f.length !== 21 || f[0] !== 0x72) return this.#fail('ERR_PROTOCOL', 'expected a challenge reply (r) message');
        const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
        this.#peerChallenge = dv.getUint32(1);
        if (!sameDigest(f.subarray(5), digest(this.#host.cookie, this.#ourChallenge))) {
          this.#host.log(`uwsgi-wasm: erlang: ${this.#label()} tried to connect with a wrong cookie`);
          return this.#fail('ERR_REJECTED', 'the peer\'s challenge reply does not match our cookie (the cookies differ)');
        }
        this.#sendHandshake(challengeAck(digest(this.#host.cookie, this.#peerChallenge)));
        return this.#established();
      }
      default: return undefined;
    }
  }

  #sendChallenge(): void {
    this.#ourChallenge = newChallenge();
    this.#state = 'await-reply';
    this.#sendHandshake(challenge(OUR_FLAGS, this.#ourChallenge, this.#host.creation, this.#host.nodeName));
  }

  #established(): void {
    this.#state = 'up';
    this.wasUp = true;
    // The frames after this one (possibly in the same chunk) have 4-byte lengths.
    this.#reader.prefix = 4;
    clearTimeout(this.#handshakeTimer);
    const quarter = Math.max(1, Math.floor(this.#host.tickMs / 4));
    this.#tickTimer = setInterval(() => this.#tick(), quarter);
    (this.#tickTimer as { unref?: () => void }).unref?.();
    this.#host.up(this);
    this.#resolveReady();
  }

  /** Every quarter of the tick time: send a tick when idle, give up on a silent peer. */
  #tick(): void {
    const now = Date.now();
    if (now - this.lastReceived > this.#host.tickMs) {
      this.close(new UwsgiError('ERR_CLOSED', `${this.#label()}: nothing (not even a tick) came from the peer in ${this.#host.tickMs} ms: it is gone`));
      return;
    }
    if (now - this.lastSent >= this.#host.tickMs / 4) this.#write(TICK);
  }

  #data(f: Uint8Array): void {
    if (f.length === 0) {
      // A tick: answer it, as libei does, so the peer sees us alive even if our own ticker lags.
      this.ticksReceived++;
      this.#write(TICK);
      return;
    }
    if (f[0] !== PASS_THROUGH) {
      this.close(new UwsgiError('ERR_PROTOCOL', `${this.#label()}: a message starts with ${f[0]}, not 112 (no atom cache was negotiated)`));
      return;
    }
    let control: Term;
    let payload: { term: Term; bytes: Uint8Array } | undefined;
    try {
      const c = decodeTermAt(f, 1);
      control = c.term;
      if (c.end < f.length) {
        const m = decodeTermAt(f, c.end);
        if (m.end !== f.length) throw new UwsgiError('ERR_PROTOCOL', `erlang term: ${f.length - m.end} byte(s) after the message`);
        payload = { term: m.term, bytes: f.subarray(c.end) };
      }
    } catch (e) {
      this.close(new UwsgiError('ERR_PROTOCOL', `${this.#label()}: a malformed message: ${(e as Error).message}`));
      return;
    }
    this.#host.message(this, control, payload);
  }

  #write(bytes: Uint8Array): boolean {
    if (!this.#sock || this.#state === 'closed') return true;
    this.lastSent = Date.now();
    return this.#sock.write(bytes);
  }

  /**
   * Send a control message and, if given, a message term (already encoded,
   * 131 first, or a value to encode). Resolves once the bytes are handed to
   * the system; rejects with the connection's error when it is not up.
   */
  async send(control: TermInput, message?: TermInput | Uint8Array): Promise<void> {
    if (this.#state !== 'up') throw this.error ?? new UwsgiError('ERR_CLOSED', `${this.#label()}: the connection is not established`);
    const ctl = encodeTerms(control);
    const msg = message === undefined ? new Uint8Array(0) : message instanceof Uint8Array ? message : encodeTerms(message);
    const out = new Uint8Array(5 + ctl.length + msg.length);
    new DataView(out.buffer).setUint32(0, 1 + ctl.length + msg.length);
    out[4] = PASS_THROUGH;
    out.set(ctl, 5);
    out.set(msg, 5 + ctl.length);
    if (this.#write(out)) return;
    await new Promise<void>((r) => this.#drainWaiters.push(r));
    if (this.#state !== 'up') throw this.error!;
  }

  /** End the connection with `error` (the first error wins); the node is told once. */
  close(error: UwsgiError = new UwsgiError('ERR_CLOSED', `${this.#label()}: closed by this node`)): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.error = error;
    this.#reader.stop();
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#tickTimer);
    this.#sock?.destroy();
    for (const w of this.#drainWaiters.splice(0)) w();
    this.#rejectReady(error);
    this.#host.closed(this, error);
  }
}
