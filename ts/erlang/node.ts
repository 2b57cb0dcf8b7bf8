/**
 * The Erlang distribution node: a hidden node (as uWSGI's libei C node was)
 * that listens for other nodes, registers with EPMD, connects out
 * (`name@host` through EPMD, or `host:port`), and routes what arrives:
 * - `rpc:call`/`rpc:cast` into the uWSGI RPC table (`register_rpc`): since
 *   OTP 23 a spawn request for `erpc:execute_call/4` (the call's "process"
 *   answers through the monitor the caller set, as erpc expects), and the
 *   older REG_SEND to `rex`, answered as rex answers;
 * - REG_SEND to a name registered with `erlang_register_process`: to the
 *   registering thread(s), in turn;
 * - a reply to one of our `erlang_rpc` calls: to that call;
 * - anything else (a SEND to our pid, a REG_SEND to an unknown name): the
 *   connection's receive queue, which `erlang_recv_message` reads.
 * It runs in one thread (the master's, or an engine's own without a master);
 * other threads reach it through ./bridge.ts. Terms cross its API encoded
 * (131 first) where they only pass through.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { type Listener, runtime } from '../platform/index.ts';
import { CONNECT_RULES, parseAddress } from '../protocol/address.ts';
import { EncodedTerm, formatTerm } from './codec.ts';
import { type Admission, type ConnectionHost, DistConnection } from './connection.ts';
import { type EpmdAddress, type EpmdRegistration, portPlease, register } from './epmd.ts';
import { ErlangRpcError } from './errors.ts';
import { Atom, ImproperList, Pid, Reference, type Term, type TermInput, Tuple } from './terms.ts';

/** What a registered process's callable gets beside the message. */
export interface ErlangSender {
  /** The sending process (reply with `erlang_send_message(connection, from, reply)`). */
  from: Pid;
  /** The sending node's name. */
  node: string;
  /** The connection id it came on. */
  connection: number;
}

/** Where messages to a registered name go: one per registering thread. */
export interface NameEndpoint {
  /** Who registered (a thread slot): a thread's names go when it does. */
  readonly key: number;
  /** Hand over one message (encoded, 131 first). */
  deliver(message: Uint8Array, sender: ErlangSender): void;
}

/** The node's view of the uWSGI RPC table. */
export interface RpcTable {
  /** Whether a function is registered under `name`. */
  exists(name: Uint8Array): boolean;
  /** Call it (null: no result). */
  call(name: Uint8Array, args: Uint8Array[]): Uint8Array | null | Promise<Uint8Array | null>;
}

/** How a node is started: the config's `--erlang` resolved, and what the tests may change. */
export interface ErlangNodeOptions {
  /** The part before `@`. */
  name: string;
  /** The part after `@`. */
  host: string;
  /** Address the listener binds. */
  bind: string;
  /** Port to listen on (0: any free one, as `erl`). */
  port?: number;
  cookie: string;
  /** EPMD to register with and to ask about `name@host` nodes (port only: each host's own EPMD); null: no registration (tests). */
  epmd: { port: number } | null;
  /** net_ticktime in ms: a peer silent this long is gone; ticks go out every quarter (default 60000, as OTP). */
  tickMs?: number;
  /** Largest message accepted from a peer, bytes (default {@link MAX_FRAME_BYTES}). */
  maxFrame?: number;
  /** How long an incoming handshake may take, ms (default 7000, OTP's net_setuptime). */
  acceptHandshakeMs?: number;
  /** Unread messages kept per connection before new ones are dropped (default 10000 messages, 64 MiB). */
  queueMessages?: number;
  queueBytes?: number;
  rpc: RpcTable;
  log(line: string): void;
}

/** Largest distribution message accepted from a peer: 64 MiB (the client's reply limit). */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** OTP's default net_ticktime. */
export const DEFAULT_TICK_MS = 60_000;
/** How often a lost EPMD registration is retried. */
const EPMD_RETRY_MS = 5000;
/** Timed-out RPC references remembered, so their late replies are dropped rather than queued. */
const LATE_REPLIES = 1024;

// Control message operations (erts/doc "Distribution Protocol").
const SEND = 2, REG_SEND = 6, SEND_TT = 12, REG_SEND_TT = 16, MONITOR_P = 19, MONITOR_P_EXIT = 21, SEND_SENDER = 22, SEND_SENDER_TT = 23;
const UNLINK_ID = 35, UNLINK_ID_ACK = 36, EXIT = 3, SPAWN_REQUEST = 29, SPAWN_REQUEST_TT = 30, SPAWN_REPLY = 31;
/** SPAWN_REPLY flags: a link, a monitor was set up. */
const SPAWN_LINKED = 1, SPAWN_MONITORED = 2;

const EMPTY = Atom.of('');
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** One connection's unread messages and the `erlang_recv_message` calls waiting for one. */
interface Mailbox {
  messages: Uint8Array[];
  bytes: number;
  waiters: Array<{ resolve(m: Uint8Array): void; reject(e: UwsgiError): void; timer?: ReturnType<typeof setTimeout> }>;
  dropped: number;
}

interface PendingRpc {
  conn: DistConnection;
  what: string;
  resolve(t: Term): void;
  reject(e: UwsgiError): void;
  timer?: ReturnType<typeof setTimeout>;
}

/** The reference of an rpc reply's tag: `Ref`, or `[alias | Ref]` (OTP 24+ gen:call). */
function tagRef(tag: Term): Reference | undefined {
  if (tag instanceof Reference) return tag;
  if (tag instanceof ImproperList && tag.elements.length === 1 && tag.elements[0] === Atom.of('alias') && tag.tail instanceof Reference) return tag.tail;
  return undefined;
}
const refKey = (r: Reference) => `${r.node.name}/${r.ids.join('.')}`;

/** A distribution node; see the module documentation. */
export class ErlangNode implements ConnectionHost {
  /** Our full name, `name@host`. */
  readonly nodeName: string;
  /** Our name as an atom (the node of our pids). */
  readonly atom: Atom;
  readonly cookie: string;
  creation: number;
  readonly tickMs: number;
  readonly maxFrame: number;
  /** The port our listener accepts on. */
  port = 0;
  /** Our one process identity: the sender of what we send, the destination of replies. */
  pid: Pid;
  /** The number of the next short-lived pid (one per spawn request served). */
  #nextPid = 2;

  readonly #opts: ErlangNodeOptions;
  #listener: Listener | undefined;
  #epmd: EpmdRegistration | undefined;
  #epmdRetry: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  #refCounter = 0;
  #stopped = false;
  readonly #conns = new Map<number, DistConnection>();
  /** The established connection to each node by name (one per node pair, as Erlang keeps). */
  readonly #byName = new Map<string, DistConnection>();
  /** Outgoing connections being set up, by the node name asked for. */
  readonly #connecting = new Map<string, Promise<DistConnection>>();
  readonly #mailboxes = new Map<number, Mailbox>();
  readonly #pending = new Map<string, PendingRpc>();
  readonly #late = new Set<string>();
  readonly #names = new Map<string, { endpoints: NameEndpoint[]; next: number }>();

  private constructor(opts: ErlangNodeOptions) {
    this.#opts = opts;
    this.nodeName = `${opts.name}@${opts.host}`;
    this.atom = Atom.of(this.nodeName);
    this.cookie = opts.cookie;
    // Until EPMD gives one: random, never 0 (0 means "any incarnation" in old pids).
    this.creation = (crypto.getRandomValues(new Uint32Array(1))[0]! % 0xfffffffe) + 1;
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    this.maxFrame = opts.maxFrame ?? MAX_FRAME_BYTES;
    this.pid = new Pid(this.atom, 1, 0, this.creation);
  }

  /**
   * Start a node: listen, then register with EPMD. A name EPMD already has is
   * `ERR_EXISTS`; an address that cannot be bound `ERR_OPTION`. Without an
   * EPMD the node still starts (and says so in the log): it retries every 5 s.
   */
  static async start(opts: ErlangNodeOptions): Promise<ErlangNode> {
    const node = new ErlangNode(opts);
    try {
      node.#listener = await runtime().listen({ host: opts.bind, port: opts.port ?? 0 }, (sock) => {
        const { conn, handlers } = DistConnection.accept(node, node.#nextId++, sock, opts.acceptHandshakeMs ?? 7000);
        node.#conns.set(conn.id, conn);
        return handlers;
      });
    } catch (e) {
      throw new UwsgiError('ERR_OPTION', `option 'erlang': cannot listen on ${opts.bind}: ${(e as Error).message}`);
    }
    node.port = node.#listener.port!;
    if (opts.epmd) {
      try {
        await node.#register();
      } catch (e) {
        if (!(e instanceof UwsgiError) || (e.code !== 'ERR_CONNECT' && e.code !== 'ERR_TIMEOUT')) { await node.close(); throw e; }
        opts.log(`uwsgi-wasm: erlang: ${e.message}; node ${node.nodeName} listens on port ${node.port} unregistered, retrying every ${EPMD_RETRY_MS / 1000} s`);
        node.#retryEpmd();
      }
    }
    return node;
  }

  async #register(): Promise<void> {
    const epmd = this.#opts.epmd!;
    const reg = await register({ host: '127.0.0.1', port: epmd.port }, this.#opts.name, this.port, 5000, () => {
      if (this.#stopped) return;
      this.#epmd = undefined;
      this.#opts.log(`uwsgi-wasm: erlang: lost the EPMD registration of ${this.nodeName}; retrying every ${EPMD_RETRY_MS / 1000} s`);
      this.#retryEpmd();
    });
    if (this.#stopped) { reg.close(); return; }
    this.#epmd = reg;
    this.creation = reg.creation;
    this.pid = new Pid(this.atom, 1, 0, this.creation);
  }

  #retryEpmd(): void {
    if (this.#stopped || this.#epmdRetry) return;
    this.#epmdRetry = setTimeout(() => {
      this.#epmdRetry = undefined;
      this.#register().then(
        () => this.#opts.log(`uwsgi-wasm: erlang: ${this.nodeName} is registered with EPMD again`),
        () => this.#retryEpmd(),
      );
    }, EPMD_RETRY_MS);
    (this.#epmdRetry as { unref?: () => void }).unref?.();
  }

  /** Whether EPMD has this node's name now. */
  get registered(): boolean { return this.#epmd !== undefined; }

  // ---- ConnectionHost ---------------------------------------------------------------

  /** @internal */
  admit(conn: DistConnection, peer: string): Admission {
    if (this.#stopped) return 'not_allowed';
    const existing = this.#byName.get(peer);
    if (existing && existing !== conn && existing.isUp) return 'alive';
    if (this.#connecting.has(peer)) {
      // Both sides connect at once: the greater name keeps its own attempt (dist_util's rule).
      return this.nodeName > peer ? 'nok' : 'ok_simultaneous';
    }
    return 'ok';
  }

  /** @internal */
  up(conn: DistConnection): void {
    const old = this.#byName.get(conn.peer!);
    // The peer said our old connection is dead (it answered `true` to `alive`): replace it.
    if (old && old !== conn) old.close(new UwsgiError('ERR_CLOSED', `${conn.peer}: replaced by a new connection`));
    this.#byName.set(conn.peer!, conn);
    this.#mailboxes.set(conn.id, { messages: [], bytes: 0, waiters: [], dropped: 0 });
  }

  /** @internal */
  closed(conn: DistConnection, error: UwsgiError): void {
    if (conn.peer !== undefined && this.#byName.get(conn.peer) === conn) this.#byName.delete(conn.peer);
    for (const [k, p] of this.#pending) {
      if (p.conn !== conn) continue;
      this.#pending.delete(k);
      clearTimeout(p.timer);
      p.reject(new UwsgiError('ERR_CLOSED', `${p.what}: ${error.message}`));
    }
    const box = this.#mailboxes.get(conn.id);
    if (box) {
      for (const w of box.waiters.splice(0)) { clearTimeout(w.timer); w.reject(new UwsgiError('ERR_CLOSED', `erlang_recv_message: ${error.message}`)); }
      // Messages that arrived before the end can still be read by its id.
      if (box.messages.length === 0) this.#mailboxes.delete(conn.id);
    }
    if (!this.#mailboxes.has(conn.id)) this.#conns.delete(conn.id);
    // An established connection's end, or bad input, is news for the log; a failed connect is its caller's error.
    if (!this.#stopped && (conn.wasUp || error.code === 'ERR_PROTOCOL')) this.#opts.log(`uwsgi-wasm: erlang: connection ${conn.id} ended: ${error.message}`);
  }

  /** @internal */
  log(line: string): void { this.#opts.log(line); }

  /** @internal A message arrived on `conn`. */
  message(conn: DistConnection, control: Term, payload: { term: Term; bytes: Uint8Array } | undefined): void {
    if (!(control instanceof Tuple) || typeof control.elements[0] !== 'number') {
      conn.close(new UwsgiError('ERR_PROTOCOL', `${conn.peer}: a control message that is not a tuple starting with an operation: ${formatTerm(control, 120)}`));
      return;
    }
    const e = control.elements;
    const bad = (what: string) => conn.close(new UwsgiError('ERR_PROTOCOL', `${conn.peer}: a malformed ${what} control message: ${formatTerm(control, 120)}`));
    switch (e[0]) {
      case SEND: case SEND_TT: case SEND_SENDER: case SEND_SENDER_TT: {
        // {2, '', ToPid}, {12, '', ToPid, Token}, {22, FromPid, ToPid}, {23, FromPid, ToPid, Token}: the destination is element 3 in each.
        const to = e[2];
        if (!(to instanceof Pid) || !payload) return bad('SEND');
        return this.#toPid(conn, to, payload);
      }
      case REG_SEND: case REG_SEND_TT: {
        const [, from, , to] = e;
        if (!(from instanceof Pid) || !(to instanceof Atom || typeof to === 'boolean') || !payload) return bad('REG_SEND');
        return this.#toName(conn, from, typeof to === 'boolean' ? String(to) : to.name, payload);
      }
      case MONITOR_P: {
        // {19, FromPid, ToProc, Ref}: a monitor of a name nobody here has ends at once (noproc), so a gen call to it fails instead of hanging.
        const [, from, to, ref] = e;
        if (to instanceof Atom && to.name !== 'rex' && !this.#names.has(to.name) && from instanceof Pid && ref instanceof Reference) {
          void conn.send(new Tuple(MONITOR_P_EXIT, to, from, ref, Atom.of('noproc'))).catch(() => {});
        }
        return;
      }
      case SPAWN_REQUEST: case SPAWN_REQUEST_TT: {
        // {29, ReqId, From, GroupLeader, {Module, Function, Arity}, OptList}, then ArgList.
        const [, reqId, from, , mfa, opts] = e;
        if (!(reqId instanceof Reference) || !(from instanceof Pid) || !(mfa instanceof Tuple) || !Array.isArray(opts) || !payload) return bad('SPAWN_REQUEST');
        void this.#spawn(conn, reqId, from, mfa, opts, payload.term);
        return;
      }
      case UNLINK_ID: {
        // {35, Id, FromPid, ToPid}: acknowledge, so the peer's unlink completes (we never link).
        const [, id, from, to] = e;
        if (from instanceof Pid && to instanceof Pid) void conn.send(new Tuple(UNLINK_ID_ACK, id!, to, from)).catch(() => {});
        return;
      }
      default:
        // Links, exits, demonitors: this node has no processes to link or monitor.
        return;
    }
  }

  #toPid(conn: DistConnection, to: Pid, payload: { term: Term; bytes: Uint8Array }): void {
    if (to.node !== this.atom) {
      this.#opts.log(`uwsgi-wasm: erlang: ${conn.peer} sent a message for ${formatTerm(to)}, which is not on this node; dropped`);
      return;
    }
    const m = payload.term;
    if (m instanceof Tuple && m.length === 2) {
      const ref = tagRef(m.elements[0]!);
      if (ref) {
        const key = refKey(ref);
        const p = this.#pending.get(key);
        if (p) {
          this.#pending.delete(key);
          clearTimeout(p.timer);
          const result = m.elements[1]!;
          if (result instanceof Tuple && result.length === 2 && result.elements[0] === Atom.of('badrpc')) {
            p.reject(new ErlangRpcError(`${p.what}: {badrpc, ${formatTerm(result.elements[1]!)}}`, result.elements[1]!));
          } else p.resolve(result);
          return;
        }
        if (this.#late.has(key)) { this.#late.delete(key); return; }
      }
    }
    this.#enqueue(conn, payload.bytes);
  }

  #toName(conn: DistConnection, from: Pid, name: string, payload: { term: Term; bytes: Uint8Array }): void {
    if (name === 'rex') { void this.#rex(conn, payload.term); return; }
    const reg = this.#names.get(name);
    if (!reg || reg.endpoints.length === 0) { this.#enqueue(conn, payload.bytes); return; }
    const ep = reg.endpoints[reg.next++ % reg.endpoints.length]!;
    try {
      ep.deliver(payload.bytes, { from, node: conn.peer!, connection: conn.id });
    } catch (e) {
      this.#opts.log(`uwsgi-wasm: erlang: the process registered as '${name}' failed on a message: ${(e as Error).message}`);
    }
  }

  #enqueue(conn: DistConnection, bytes: Uint8Array): void {
    const box = this.#mailboxes.get(conn.id);
    if (!box) return;
    const w = box.waiters.shift();
    if (w) { clearTimeout(w.timer); w.resolve(bytes); return; }
    const maxMessages = this.#opts.queueMessages ?? 10_000;
    const maxBytes = this.#opts.queueBytes ?? 64 * 1024 * 1024;
    if (box.messages.length >= maxMessages || box.bytes + bytes.length > maxBytes) {
      // Bounded memory per connection: past the limit new messages are dropped, and the log says so (once per thousand).
      if (box.dropped++ % 1000 === 0) {
        this.#opts.log(`uwsgi-wasm: erlang: the receive queue of ${conn.peer} is full (${box.messages.length} messages, ${box.bytes} bytes unread): dropped ${box.dropped} message(s) so far`);
      }
      return;
    }
    // A copy: the frame it came in may be much larger than the message.
    box.messages.push(bytes.slice());
    box.bytes += bytes.length;
  }

  /** `rpc:call(ThisNode, M, F, Args)` and `rpc:cast` from a peer: the uWSGI RPC table answers, as the old plugin did. */
  async #rex(conn: DistConnection, m: Term): Promise<void> {
    const el = m instanceof Tuple ? m.elements : [];
    const isCall = el[0] === Atom.of('$gen_call') && el.length === 3;
    const isCast = el[0] === Atom.of('$gen_cast') && el.length === 2;
    const req = isCall ? el[2] : isCast ? el[1] : undefined;
    const from = isCall && el[1] instanceof Tuple && el[1].length === 2 ? el[1].elements : undefined;
    if (!(req instanceof Tuple) || req.length !== 5 || (req.elements[0] !== Atom.of('call') && req.elements[0] !== Atom.of('cast'))) {
      this.#opts.log(`uwsgi-wasm: erlang: ${conn.peer} sent rex a request this node does not serve: ${formatTerm(m, 200)}`);
      return;
    }
    const [, mod, fun, args] = req.elements;
    const reply = await this.#runRpc(mod!, fun!, args!);
    if (!isCall || !from || !(from[0] instanceof Pid)) return;
    // gen_server's reply: {Tag, Reply} to the caller's pid (Tag is Ref or [alias | Ref]).
    await conn.send(new Tuple(SEND, EMPTY, from[0]), new Tuple(from[1]!, reply)).catch(() => {});
  }

  /**
   * A spawn request. Only erpc's entry points have a meaning here (a call of
   * the RPC table); anything else is refused with `notsup`. The "process" is
   * the call: its exit reason, `{Ref, return, Result}` as erpc's own
   * execute_call makes it, reaches the caller through the monitor (or link)
   * it asked for.
   */
  async #spawn(conn: DistConnection, reqId: Reference, from: Pid, mfa: Tuple<Term>, opts: Term[], args: Term): Promise<void> {
    const [m, f, arity] = mfa.elements;
    const call = m === Atom.of('erpc') && f === Atom.of('execute_call') && arity === 4 && Array.isArray(args) && args.length === 4;
    const cast = m === Atom.of('erpc') && f === Atom.of('execute_cast') && arity === 3 && Array.isArray(args) && args.length === 3;
    if (!call && !cast) {
      await conn.send(new Tuple(SPAWN_REPLY, reqId, from, 0, Atom.of('notsup'))).catch(() => {});
      return;
    }
    const monitored = opts.some((o) => o === Atom.of('monitor') || (o instanceof Tuple && o.elements[0] === Atom.of('monitor')));
    const linked = opts.some((o) => o === Atom.of('link'));
    const pid = new Pid(this.atom, this.#nextPid++, 0, this.creation);
    if (this.#nextPid > 0x7fff) this.#nextPid = 2;
    await conn.send(new Tuple(SPAWN_REPLY, reqId, from, (linked ? SPAWN_LINKED : 0) | (monitored ? SPAWN_MONITORED : 0), pid)).catch(() => {});
    const a = args as Term[];
    const [ref, mod, fun, fargs] = call ? a : [undefined, ...a];
    const result = await this.#runRpc(mod!, fun!, fargs!);
    if (!call) return;
    let reason: TermInput;
    if (result instanceof Tuple && result.elements[0] === Atom.of('badrpc')) {
      // {badrpc, {'EXIT', Why}}: erpc turns {Ref, exit, Why} into exactly that for rpc:call.
      const why = result.elements[1] instanceof Tuple ? (result.elements[1] as Tuple).elements[1]! : result.elements[1]!;
      reason = new Tuple(ref!, Atom.of('exit'), why);
    } else reason = new Tuple(ref!, Atom.of('return'), result);
    if (monitored) await conn.send(new Tuple(MONITOR_P_EXIT, pid, from, reqId, reason)).catch(() => {});
    if (linked) await conn.send(new Tuple(EXIT, pid, from, reason)).catch(() => {});
  }

  async #runRpc(mod: Term, fun: Term, args: Term): Promise<TermInput> {
    const badrpc = (why: string) => new Tuple(Atom.of('badrpc'), new Tuple(Atom.of('EXIT'), new Tuple(Atom.of('uwsgi'), utf8.encode(why))));
    const name = fun instanceof Atom ? fun.name : typeof fun === 'boolean' ? String(fun) : fun instanceof Uint8Array ? utf8d.decode(fun) : Array.isArray(fun) && fun.every((c) => typeof c === 'number') ? String.fromCodePoint(...(fun as number[])) : undefined;
    if (name === undefined) return badrpc(`the function must be an atom, got ${formatTerm(fun, 80)}`);
    if (!Array.isArray(args)) return badrpc(`the arguments must be a proper list, got ${formatTerm(args, 80)}`);
    const argBytes: Uint8Array[] = [];
    for (let i = 0; i < args.length; i++) {
      const b = argumentBytes(args[i]!);
      if (!b) return badrpc(`argument ${i + 1} must be a binary, a string, an atom or an integer (uWSGI RPC arguments are bytes), got ${formatTerm(args[i]!, 80)}`);
      argBytes.push(b);
    }
    const nameBytes = utf8.encode(name);
    if (!this.#opts.rpc.exists(nameBytes)) {
      // What rex answers for an undefined function.
      return new Tuple(Atom.of('badrpc'), new Tuple(Atom.of('EXIT'), new Tuple(Atom.of('undef'), [new Tuple(mod, fun, args, [])])));
    }
    try {
      const r = await this.#opts.rpc.call(nameBytes, argBytes);
      return r ?? new Uint8Array(0);
    } catch (e) {
      return badrpc((e as Error).message);
    }
  }

  // ---- what the erlang_* functions use ---------------------------------------------------

  /** Connect to `address` (`name@host` through that host's EPMD, or `host:port`); resolves with the connection id. */
  async connect(fn: string, address: string, timeoutMs: number): Promise<number> {
    return (await this.#connection(fn, address, timeoutMs)).id;
  }

  /** The established connection `node` names (an id, a node name), connecting to a name not connected yet. */
  async #connection(fn: string, node: number | string, timeoutMs: number): Promise<DistConnection> {
    if (this.#stopped) throw new UwsgiError('ERR_CLOSED', `${fn}: the Erlang node ${this.nodeName} has stopped`);
    if (typeof node === 'number') {
      const c = this.#conns.get(node);
      // Ids are handed out in order: one below the next that is gone has ended.
      if (!c && node > 0 && node < this.#nextId) throw new UwsgiError('ERR_CLOSED', `${fn}: Erlang connection ${node} has ended`);
      if (!c) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no Erlang connection ${node}`);
      if (c.isClosed) throw new UwsgiError(c.error!.code, `${fn}: ${c.error!.message}`);
      await c.ready;
      return c;
    }
    const existing = this.#byName.get(node);
    if (existing?.isUp) return existing;
    if (node.includes('@')) {
      const going = this.#connecting.get(node);
      if (going) return going;
      const p = this.#open(fn, node, timeoutMs);
      this.#connecting.set(node, p);
      try { return await p; } finally { this.#connecting.delete(node); }
    }
    return this.#open(fn, node, timeoutMs);
  }

  async #open(fn: string, address: string, timeoutMs: number): Promise<DistConnection> {
    const deadline = timeoutMs < 0 ? Infinity : Date.now() + timeoutMs;
    const left = () => (deadline === Infinity ? -1 : Math.max(1, deadline - Date.now()));
    let host: string;
    let port: number;
    let peer: string | undefined;
    const at = address.indexOf('@');
    if (at >= 0) {
      peer = address;
      const name = address.slice(0, at);
      host = address.slice(at + 1);
      if (!name || !host) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: '${address}' is not a node name (name@host)`);
      const epmdPort = this.#opts.epmd?.port ?? 4369;
      port = (await portPlease(fn, { host, port: epmdPort }, name, left())).port;
    } else {
      const a = parseAddress(address, { ...CONNECT_RULES, paths: false, abstract: false, label: `${fn}: address` });
      host = a.host!;
      port = a.port!;
    }
    const conn = DistConnection.connect(this, this.#nextId++, { host, port }, `${host}:${port}`, peer, left());
    this.#conns.set(conn.id, conn);
    try {
      await conn.ready;
    } catch (e) {
      const err = e as UwsgiError;
      // Both nodes connected at once and the peer kept its own attempt: use that one once it is up.
      if (peer !== undefined && /'nok'/.test(err.message)) {
        const theirs = await this.#awaitIncoming(peer, left());
        if (theirs) return theirs;
      }
      throw new UwsgiError(err.code, `${fn}: ${err.message}`);
    }
    return conn;
  }

  /** Wait until a connection to `peer` that the peer opened is up (a simultaneous connect). */
  async #awaitIncoming(peer: string, ms: number): Promise<DistConnection | undefined> {
    const until = ms < 0 ? Infinity : Date.now() + ms;
    while (Date.now() < until) {
      const c = this.#byName.get(peer);
      if (c?.isUp) return c;
      const pending = [...this.#conns.values()].find((x) => x.peer === peer && !x.isClosed && x.role === 'acceptor');
      if (!pending) return undefined;
      await pending.ready.catch(() => {});
    }
    return undefined;
  }

  /**
   * Send `message` (encoded, 131 first) to a registered name or a pid on
   * `node`; resolves once it is handed to the system.
   */
  async send(fn: string, node: number | string, to: string | Pid, message: Uint8Array, timeoutMs: number): Promise<void> {
    const conn = await this.#connection(fn, node, timeoutMs);
    const control = to instanceof Pid ? new Tuple(SEND, EMPTY, to) : new Tuple(REG_SEND, this.pid, EMPTY, Atom.of(to));
    try {
      await conn.send(control, message);
    } catch (e) {
      throw new UwsgiError((e as UwsgiError).code ?? 'ERR_CLOSED', `${fn}: ${(e as Error).message}`);
    }
  }

  /** The next unread message on `node`'s connection (encoded, 131 first), waiting up to `timeoutMs` (-1: forever). */
  async recv(fn: string, node: number | string, timeoutMs: number): Promise<Uint8Array> {
    let id: number;
    if (typeof node === 'number' && this.#mailboxes.has(node)) id = node;
    else id = (await this.#connection(fn, node, timeoutMs)).id;
    const box = this.#mailboxes.get(id);
    if (!box) {
      const c = this.#conns.get(id);
      throw new UwsgiError('ERR_CLOSED', `${fn}: ${c?.error?.message ?? `connection ${id} has ended`}`);
    }
    const m = box.messages.shift();
    if (m) {
      box.bytes -= m.length;
      if (box.messages.length === 0 && this.#conns.get(id)?.isClosed) { this.#mailboxes.delete(id); this.#conns.delete(id); }
      return m;
    }
    const conn = this.#conns.get(id);
    if (!conn || conn.isClosed) throw new UwsgiError('ERR_CLOSED', `${fn}: ${conn?.error?.message ?? `connection ${id} has ended`}`);
    return new Promise((resolve, reject) => {
      const waiter: Mailbox['waiters'][number] = { resolve, reject };
      if (timeoutMs >= 0) {
        waiter.timer = setTimeout(() => {
          const i = box.waiters.indexOf(waiter);
          if (i >= 0) box.waiters.splice(i, 1);
          reject(new UwsgiError('ERR_TIMEOUT', `${fn}: no message from ${conn.peer} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      box.waiters.push(waiter);
    });
  }

  /**
   * `rpc:call(Node, Module, Function, Args)` through the peer's `rex`:
   * resolves with the result; `{badrpc, Reason}` rejects with an
   * {@link ErlangRpcError}. `args` is the encoded argument list.
   */
  async rpc(fn: string, node: number | string, module: string, func: string, args: Uint8Array, timeoutMs: number): Promise<Term> {
    const conn = await this.#connection(fn, node, timeoutMs);
    const ref = new Reference(this.atom, this.creation, [++this.#refCounter & 0x3ffff, ...crypto.getRandomValues(new Uint32Array(2))]);
    const key = refKey(ref);
    const what = `${fn}: ${module}:${func} on ${conn.peer}`;
    const result = new Promise<Term>((resolve, reject) => {
      const p: PendingRpc = { conn, what, resolve, reject };
      if (timeoutMs >= 0) {
        p.timer = setTimeout(() => {
          this.#pending.delete(key);
          this.#late.add(key);
          if (this.#late.size > LATE_REPLIES) this.#late.delete(this.#late.values().next().value!);
          reject(new UwsgiError('ERR_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#pending.set(key, p);
    });
    // The group leader `user`: output of the call goes to the peer's console, not to us (rex's rule for hidden C nodes).
    const call = new Tuple(Atom.of('$gen_call'), new Tuple(this.pid, ref),
      new Tuple(Atom.of('call'), Atom.of(module), Atom.of(func), EncodedTerm.fromTerm(args), Atom.of('user')));
    try {
      await conn.send(new Tuple(REG_SEND, this.pid, EMPTY, Atom.of('rex')), call);
    } catch (e) {
      const p = this.#pending.get(key);
      this.#pending.delete(key);
      clearTimeout(p?.timer);
      throw new UwsgiError((e as UwsgiError).code ?? 'ERR_CLOSED', `${what}: ${(e as Error).message}`);
    }
    return result;
  }

  /** Route messages sent to `name` on this node to `endpoint` (beside other threads that registered it: they take turns). */
  register(name: string, endpoint: NameEndpoint): void {
    if (name === 'rex') throw new UwsgiError('ERR_EXISTS', `erlang_register_process: 'rex' is this node's RPC server (it serves the uWSGI RPC table)`);
    const reg = this.#names.get(name) ?? { endpoints: [], next: 0 };
    reg.endpoints = reg.endpoints.filter((e) => e.key !== endpoint.key);
    reg.endpoints.push(endpoint);
    this.#names.set(name, reg);
  }

  /** Forget every name registered by `key` (its thread is gone). */
  unregisterAll(key: number): void {
    for (const [name, reg] of this.#names) {
      reg.endpoints = reg.endpoints.filter((e) => e.key !== key);
      if (reg.endpoints.length === 0) this.#names.delete(name);
    }
  }

  /** Connection ids, with their peers and state (tests, diagnostics). */
  connections(): Array<{ id: number; peer: string | undefined; up: boolean; ticksReceived: number; lastReceived: number }> {
    return [...this.#conns.values()].map((c) => ({ id: c.id, peer: c.peer, up: c.isUp, ticksReceived: c.ticksReceived, lastReceived: c.lastReceived }));
  }

  /** Stop: close every connection (their waiters get ERR_CLOSED), the listener and the EPMD registration. */
  async close(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#epmdRetry);
    this.#epmd?.close();
    for (const c of [...this.#conns.values()]) c.close(new UwsgiError('ERR_CLOSED', `${c.peer ?? 'connection'}: the node ${this.nodeName} stopped`));
    await this.#listener?.close();
  }
}

/** A uWSGI RPC argument from an Erlang term: binaries as they are, strings and atoms as UTF-8, integers in decimal. */
function argumentBytes(t: Term): Uint8Array | undefined {
  if (t instanceof Uint8Array) return t;
  if (t instanceof Atom) return utf8.encode(t.name);
  if (typeof t === 'boolean') return utf8.encode(String(t));
  if (typeof t === 'number' && Number.isInteger(t)) return utf8.encode(String(t));
  if (typeof t === 'bigint') return utf8.encode(t.toString());
  if (Array.isArray(t) && t.every((c) => typeof c === 'number' && Number.isInteger(c) && c >= 0 && c <= 0x10ffff)) {
    try { return utf8.encode(String.fromCodePoint(...(t as number[]))); } catch { return undefined; }
  }
  return undefined;
}
