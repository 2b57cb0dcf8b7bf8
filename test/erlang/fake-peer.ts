/**
 * A scripted Erlang peer for the behaviour suites (every runtime): a fake
 * EPMD and a fake node that speak the wire bytes of ../shared/spec/erlang.md
 * step by step, so a test can also misbehave on purpose (a wrong cookie, a
 * silent peer, a malformed term). The interop suite checks the same node
 * against a real `erl`.
 */
import * as net from 'node:net';
import { Atom, DFLAG, MANDATORY_FLAGS, Pid, Tuple, decodeTermAt, digest, encodeTerms, type Term, type TermInput } from 'uwsgi-wasm/erlang';

/** The flags `erl` (OTP 25) offers, as recorded in the spec's worked example, plus SPAWN. */
export const ERL_FLAGS = 0xd07df7fbdn;
/** What a peer that wants to look like OTP 25 offers at least. */
export const PEER_FLAGS = MANDATORY_FLAGS | DFLAG.DIST_MONITOR | DFLAG.UNICODE_IO;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A socket read as a byte stream: `read(n)` resolves with exactly n bytes (null at the end). */
export class ByteStream {
  readonly sock: net.Socket;
  #buf = new Uint8Array(0);
  #ended = false;
  #wake: (() => void) | undefined;
  constructor(sock: net.Socket) {
    this.sock = sock;
    sock.on('data', (d: Uint8Array) => {
      const b = new Uint8Array(this.#buf.length + d.length);
      b.set(this.#buf);
      b.set(d, this.#buf.length);
      this.#buf = b;
      this.#wake?.();
    });
    const end = () => { this.#ended = true; this.#wake?.(); };
    sock.on('end', end);
    sock.on('close', end);
    sock.on('error', end);
  }
  get ended(): boolean { return this.#ended && this.#buf.length === 0; }
  async read(n: number, ms = 5000): Promise<Uint8Array | null> {
    const deadline = Date.now() + ms;
    while (this.#buf.length < n) {
      if (this.#ended) return null;
      if (Date.now() > deadline) throw new Error(`fake peer: waited ${ms} ms for ${n} bytes, have ${this.#buf.length}`);
      await new Promise<void>((r) => { this.#wake = r; setTimeout(r, 50); });
    }
    const out = this.#buf.slice(0, n);
    this.#buf = this.#buf.slice(n);
    return out;
  }
  async frame(prefix: 2 | 4, ms = 5000): Promise<Uint8Array | null> {
    const h = await this.read(prefix, ms);
    if (!h) return null;
    const len = prefix === 2 ? (h[0]! << 8) | h[1]! : new DataView(h.buffer).getUint32(0);
    return len === 0 ? new Uint8Array(0) : this.read(len, ms);
  }
  write(b: Uint8Array): void { this.sock.write(b); }
  close(): void { this.sock.destroy(); }
}

function u16(n: number): Uint8Array { return Uint8Array.of(n >> 8, n & 255); }
function u32(n: number): Uint8Array { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; }
function u64(n: bigint): Uint8Array { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n); return b; }
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
/** A 2-byte-length handshake frame. */
export const hs = (...parts: Uint8Array[]) => { const b = cat(...parts); return cat(u16(b.length), b); };

/** A message a peer got: control and payload decoded. */
export interface Got { control: Tuple<Term>; message?: Term }

/** One established (or scripted) distribution connection of the fake node. */
export class PeerConn {
  readonly io: ByteStream;
  readonly peer: FakeNode;
  ticks = 0;
  constructor(io: ByteStream, peer: FakeNode) { this.io = io; this.peer = peer; }

  /** Send a distribution message: control and optional payload. */
  send(control: TermInput, message?: TermInput): void {
    const body = message === undefined ? encodeTerms(control) : encodeTerms(control, message);
    this.io.write(cat(u32(body.length + 1), Uint8Array.of(0x70), body));
  }
  /** Send raw frame bytes (4-byte length added). */
  sendRaw(payload: Uint8Array): void { this.io.write(cat(u32(payload.length), payload)); }
  tick(): void { this.io.write(new Uint8Array(4)); }

  /** The next message, answering ticks and counting them; null when the connection ends. */
  async next(ms = 5000): Promise<Got | null> {
    for (;;) {
      const f = await this.io.frame(4, ms);
      if (f === null) return null;
      if (f.length === 0) { this.ticks++; continue; }
      if (f[0] !== 0x70) throw new Error(`fake peer: a message starting with ${f[0]}`);
      const c = decodeTermAt(f, 1);
      const m = c.end < f.length ? decodeTermAt(f, c.end).term : undefined;
      return { control: c.term as Tuple<Term>, message: m };
    }
  }
}

/** A fake Erlang node: a name, a cookie, a listener that accepts handshakes, and a way to connect out. */
export class FakeNode {
  readonly name: string;
  cookie: string;
  readonly creation = 0x12345678;
  readonly atom: Atom;
  readonly pid: Pid;
  readonly server: net.Server;
  port = 0;
  /** Connections the fake node accepted, once their handshake is done. */
  readonly accepted: PeerConn[] = [];
  #acceptWaiters: Array<(c: PeerConn) => void> = [];
  /** What the acceptor does: finish the handshake, or misbehave. */
  acceptMode: 'ok' | 'not_allowed' | 'close-after-reply' | 'bad-ack' | 'silent' = 'ok';

  constructor(name: string, cookie: string) {
    this.name = name;
    this.cookie = cookie;
    this.atom = Atom.of(name);
    this.pid = new Pid(this.atom, 42, 0, this.creation);
    this.server = net.createServer((s) => { void this.#accept(new ByteStream(s)); });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** The next connection accepted (the node connecting to us). */
  nextAccepted(ms = 5000): Promise<PeerConn> {
    const have = this.accepted.shift();
    if (have) return Promise.resolve(have);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('fake peer: no connection accepted')), ms);
      this.#acceptWaiters.push((c) => { clearTimeout(t); resolve(c); });
    });
  }

  /** Acceptor side of the OTP 23 handshake, as dist_util does it. */
  async #accept(io: ByteStream): Promise<void> {
    try {
      const name = await io.frame(2);
      if (!name || name[0] !== 0x4e) { io.close(); return; }
      if (this.acceptMode === 'not_allowed') { io.write(hs(enc.encode('snot_allowed'))); io.sock.end(); return; }
      io.write(hs(enc.encode('sok')));
      const challenge = 0x8cf73a6b;
      io.write(hs(Uint8Array.of(0x4e), u64(ERL_FLAGS), u32(challenge), u32(this.creation), u16(this.name.length), enc.encode(this.name)));
      const reply = await io.frame(2);
      if (!reply || reply[0] !== 0x72) { io.close(); return; }
      const theirs = new DataView(reply.buffer, reply.byteOffset).getUint32(1);
      const ok = reply.subarray(5).every((b, i) => b === digest(this.cookie, challenge)[i]);
      if (!ok || this.acceptMode === 'close-after-reply') { io.close(); return; }
      if (this.acceptMode === 'silent') return;
      const ack = this.acceptMode === 'bad-ack' ? new Uint8Array(16) : digest(this.cookie, theirs);
      io.write(hs(Uint8Array.of(0x61), ack));
      const conn = new PeerConn(io, this);
      const w = this.#acceptWaiters.shift();
      if (w) w(conn); else this.accepted.push(conn);
    } catch {
      io.close();
    }
  }

  /**
   * Initiator side: connect to a node at `port` and do the handshake with
   * `cookie` (default ours). Resolves with the connection, or with the
   * status text when the node refused.
   */
  async connect(port: number, opts: { cookie?: string; flags?: bigint; name?: string } = {}): Promise<PeerConn | string> {
    const sock = net.connect(port, '127.0.0.1');
    await new Promise<void>((r, j) => { sock.once('connect', () => r()); sock.once('error', j); });
    const io = new ByteStream(sock);
    const name = opts.name ?? this.name;
    io.write(hs(Uint8Array.of(0x4e), u64(opts.flags ?? PEER_FLAGS), u32(this.creation), u16(name.length), enc.encode(name)));
    const status = await io.frame(2);
    if (!status) return 'closed';
    const s = dec.decode(status.subarray(1));
    if (s !== 'ok' && s !== 'ok_simultaneous') { io.close(); return s; }
    const ch = await io.frame(2);
    if (!ch || ch[0] !== 0x4e) return 'no challenge';
    const dv = new DataView(ch.buffer, ch.byteOffset);
    const theirChallenge = dv.getUint32(9);
    const ours = 0xcafebabe;
    io.write(hs(Uint8Array.of(0x72), u32(ours), digest(opts.cookie ?? this.cookie, theirChallenge)));
    const ack = await io.frame(2);
    if (!ack) return 'closed';
    if (!ack.subarray(1).every((b, i) => b === digest(opts.cookie ?? this.cookie, ours)[i])) return 'bad ack';
    return new PeerConn(io, this);
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** A fake EPMD: registrations (kept while their connection lives) and PORT_PLEASE2 answers. */
export class FakeEpmd {
  readonly server: net.Server;
  port = 0;
  readonly nodes = new Map<string, number>();
  readonly #registrations = new Set<net.Socket>();

  constructor() {
    this.server = net.createServer((s) => { void this.#serve(new ByteStream(s)); });
  }
  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }
  async #serve(io: ByteStream): Promise<void> {
    const req = await io.frame(2).catch(() => null);
    if (!req) { io.close(); return; }
    if (req[0] === 0x7a) {
      const port = this.nodes.get(dec.decode(req.subarray(1)));
      if (port === undefined) io.write(Uint8Array.of(0x77, 1));
      else io.write(cat(Uint8Array.of(0x77, 0), u16(port), Uint8Array.of(0x4d, 0), u16(6), u16(6), u16(0), u16(0)));
      io.sock.end();
    } else if (req[0] === 0x78) {
      const dv = new DataView(req.buffer, req.byteOffset);
      const port = dv.getUint16(1);
      const nlen = dv.getUint16(9);
      const name = dec.decode(req.subarray(11, 11 + nlen));
      if (this.nodes.has(name)) { io.write(Uint8Array.of(0x76, 1, 0, 0, 0, 0)); io.sock.end(); return; }
      this.nodes.set(name, port);
      this.#registrations.add(io.sock);
      io.write(Uint8Array.of(0x76, 0, 0, 0, 0, 7));
      io.sock.on('close', () => { this.nodes.delete(name); this.#registrations.delete(io.sock); });
    } else io.close();
  }
  close(): Promise<void> {
    for (const s of this.#registrations) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** Poll `fn` until it is truthy (or fail after `ms`). */
export async function until<T>(fn: () => T | undefined | false | null, ms = 5000, what = 'a condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
