/**
 * The network functions of the `uwsgi` module for one thread: remote RPC,
 * signals and spooling, generic messages, and uWSGI's descriptor-style
 * connection API (`connect`, `send`, `recv`, `recv_block`, `recv_frame`,
 * `is_connected`, `close`). JavaScript has no portable socket descriptors, so
 * a connection is named by a small integer id from this thread's table; the
 * ids are not OS descriptors and mean nothing in another thread.
 * @module
 */
import { type ThreadContext, threadService } from '../kernel/context.ts';
import {
  type ClientEnv, type MessagePayload, clientEnv, bodyArg, forwardRequest, messagePacket, readMessageReply,
  remoteRpc, remoteSignal, remoteSpool, sendMessageTo,
} from './client.ts';
import { currentEnv } from '../server/server.ts';
import { UwsgiError, bytesArg, intArg, typeName } from '../kernel/errors.ts';
import { Connection, MAX_REPLY_BYTES, parseAddress, timeoutArg } from './connection.ts';

/** Largest `recv` read, as uWSGI (a bigger `max` is lowered to it: the rest stays readable). */
export const RECV_MAX = 4096;
/** Largest frame `recv_frame` accepts. */
export const FRAME_MAX = 65536;

/** One node of `send_multi_message`: `[host, port, message]`. */
export type MultiMessageNode = readonly [host: string, port: number, message: MessagePayload];

/** The calling thread's network client (one per thread view: its connection ids are the view's). */
export const clientOf = threadService<ClientApi>((ctx) => new ClientApi(() => clientEnv(ctx)), (c) => c.closeAll());

/** The network functions behind the `uwsgi` module's connect/send/recv/send_message/remote rpc, signal and spool. */
export class ClientApi {
  readonly #env: () => ClientEnv;
  readonly #conns = new Map<number, Connection>();
  #nextId = 1;

  /** @internal `env` gives the current socket timeout (it follows `set_option('socket-timeout', ...)`). */
  constructor(env: () => ClientEnv) { this.#env = env; }

  /** The timeout in ms for an optional seconds argument (omitted or 0: the socket timeout). */
  #timeout(fn: string, name: string, v: unknown): number {
    if (v === undefined || v === 0) return this.#env().timeoutMs;
    return timeoutArg(fn, name, v);
  }

  #conn(fn: string, fd: unknown): Connection {
    const id = intArg(fn, 'fd', fd);
    const c = this.#conns.get(id);
    if (!c) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no open connection ${id} in this thread (ids come from connect/async_connect)`);
    return c;
  }

  #add(c: Connection): number {
    const id = this.#nextId++;
    this.#conns.set(id, c);
    return id;
  }

  /** @internal Close every connection (the module object is re-pointed at another thread view). */
  closeAll(): void {
    for (const c of this.#conns.values()) c.close();
    this.#conns.clear();
  }

  // ---- descriptor-style connections ---------------------------------------------------

  /** connect(address, timeout?): resolves with a connection id once connected. */
  async connect(address: unknown, timeout?: unknown): Promise<number> {
    const a = parseAddress('connect', address);
    const c = await Connection.open('connect', a, this.#timeout('connect', 'timeout', timeout));
    return this.#add(c);
  }

  /** async_connect(address): a connection id at once; the connection is made in the background. */
  asyncConnect(address: unknown): number {
    const c = new Connection(parseAddress('async_connect', address));
    // Reading nothing yet: a failure is kept and reported by the next operation or is_connected.
    return this.#add(c);
  }

  /** is_connected(fd): established and not failed. False for an unknown id. */
  isConnected(fd: unknown): boolean {
    const c = this.#conns.get(intArg('is_connected', 'fd', fd));
    return c !== undefined && c.connected;
  }

  /** close(fd): release it. An unknown id is ignored (as close(2) on a bad descriptor in uWSGI). */
  close(fd: unknown): void {
    const id = intArg('close', 'fd', fd);
    this.#conns.get(id)?.close();
    this.#conns.delete(id);
  }

  /** send(fd, data): resolves true once the bytes are handed to the system. */
  async send(fd: unknown, data: unknown): Promise<true> {
    const c = this.#conn('send', fd);
    await c.write('send', bytesArg('send', 'data', data), this.#env().timeoutMs);
    return true;
  }

  /** recv(fd, max=4096): up to `max` bytes (at least one), null at end of stream. */
  async recv(fd: unknown, max?: unknown): Promise<Uint8Array | null> {
    const c = this.#conn('recv', fd);
    const m = max === undefined ? RECV_MAX : intArg('recv', 'max_size', max);
    if (m < 1) throw new UwsgiError('ERR_VALUE_RANGE', `recv: max_size must be at least 1, got ${m}`);
    return c.readSome('recv', Math.min(m, RECV_MAX), this.#env().timeoutMs);
  }

  /** recv_block(fd, size, timeout?): exactly `size` bytes, or null when the stream ends first without any. */
  async recvBlock(fd: unknown, size: unknown, timeout?: unknown): Promise<Uint8Array | null> {
    const c = this.#conn('recv_block', fd);
    const n = intArg('recv_block', 'size', size);
    if (n < 1 || n > MAX_REPLY_BYTES) throw new UwsgiError('ERR_VALUE_RANGE', `recv_block: size must be 1..${MAX_REPLY_BYTES}, got ${n}`);
    return c.readExactly('recv_block', n, this.#timeout('recv_block', 'timeout', timeout), `a ${n}-byte block`);
  }

  /** recv_frame(fd, prefix='\x00', suffix='\xff'): the bytes between the two delimiters, null at end of stream. */
  async recvFrame(fd: unknown, prefix?: unknown, suffix?: unknown): Promise<Uint8Array | null> {
    const c = this.#conn('recv_frame', fd);
    return c.readFrame('recv_frame', delimiter('prefix', prefix, 0x00), delimiter('suffix', suffix, 0xff), FRAME_MAX, this.#env().timeoutMs);
  }

  // ---- messages -----------------------------------------------------------------------

  /**
   * send_message(destination, modifier1, modifier2, message, timeout?, body?):
   * `destination` is an address (a connection is opened and closed) or a
   * connection id (used and left open).
   */
  async sendMessage(destination: unknown, modifier1: unknown, modifier2: unknown, message: unknown, timeout?: unknown, body?: unknown): Promise<Uint8Array> {
    const fn = 'send_message';
    const packet = messagePacket(fn, modifier1, modifier2, message);
    const b = bodyArg(fn, body);
    const env = { timeoutMs: this.#timeout(fn, 'timeout', timeout) };
    if (typeof destination === 'number' || typeof destination === 'bigint') {
      const c = this.#conn(fn, destination);
      await c.write(fn, packet, env.timeoutMs);
      if (b?.length) await c.write(fn, b, env.timeoutMs);
      return readMessageReply(fn, c, env);
    }
    return sendMessageTo(fn, env, parseAddress(fn, destination, 'destination'), packet, b);
  }

  /** send_multi_message(nodes, modifier1, modifier2, timeout?): every node's reply, in order; the first failure rejects. */
  async sendMultiMessage(nodes: unknown, modifier1: unknown, modifier2: unknown, timeout?: unknown): Promise<Uint8Array[]> {
    const fn = 'send_multi_message';
    if (!Array.isArray(nodes)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: nodes must be an array of [host, port, message], got ${typeName(nodes)}`);
    const env = { timeoutMs: this.#timeout(fn, 'timeout', timeout) };
    const jobs = nodes.map((node, i) => {
      if (!Array.isArray(node) || node.length !== 3) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: node ${i} must be [host, port, message], got ${typeName(node)}`);
      const [host, port, message] = node as unknown[];
      if (typeof host !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: node ${i}: host must be a string, got ${typeName(host)}`);
      const p = intArg(fn, `node ${i} port`, port);
      const address = parseAddress(fn, host.includes(':') ? `[${host}]:${p}` : `${host}:${p}`, `node ${i}`);
      return { address, packet: messagePacket(fn, modifier1, modifier2, message) };
    });
    return Promise.all(jobs.map((j) => sendMessageTo(fn, env, j.address, j.packet)));
  }

  /** async_send_message(fd, modifier1, modifier2, message): send on a connection without reading a reply. */
  async asyncSendMessage(fd: unknown, modifier1: unknown, modifier2: unknown, message: unknown): Promise<void> {
    const fn = 'async_send_message';
    const c = this.#conn(fn, fd);
    await c.write(fn, messagePacket(fn, modifier1, modifier2, message), this.#env().timeoutMs);
  }

  /**
   * route(router, args, request?): run one of uWSGI's routing actions on the
   * request being served. Only the `uwsgi` router is built: `args` is
   * `address[,modifier1[,modifier2]]` (default 0,0); the request's vars go to
   * that node, then its body (taken from `request`, which must be given when
   * the request has one), and the node's HTTP answer comes back as a Response.
   */
  async route(router: unknown, args: unknown, request?: unknown): Promise<Response> {
    const fn = 'route';
    if (typeof router !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: router must be a string, got ${typeName(router)}`);
    if (router !== 'uwsgi') throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: only the 'uwsgi' router is available, got '${router}'`);
    if (typeof args !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: args must be a string 'address[,modifier1[,modifier2]]', got ${typeName(args)}`);
    const [addr, m1 = '0', m2 = '0', ...extra] = args.split(',');
    if (extra.length || !/^\d{1,3}$/.test(m1) || !/^\d{1,3}$/.test(m2)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: args must be 'address[,modifier1[,modifier2]]', got '${args}'`);
    const address = parseAddress(fn, addr, 'address');
    const env = currentEnv();
    if (!env) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no request is being served here (call it from a handler of --socket/--http-socket)`);
    let body: Uint8Array = new Uint8Array(0);
    if (request !== undefined) {
      if (!(request instanceof Request)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: request must be the Request being served, got ${typeName(request)}`);
      body = new Uint8Array(await request.arrayBuffer());
    } else if (Number(env.CONTENT_LENGTH || 0) > 0) {
      throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the request has a ${env.CONTENT_LENGTH}-byte body: pass the Request so it can be forwarded`);
    }
    return forwardRequest(fn, this.#env(), address, Number(m1), Number(m2), { ...env, CONTENT_LENGTH: body.length ? String(body.length) : '' }, body);
  }

  // ---- remote RPC, signals, spool -----------------------------------------------------

  /** rpc('host:port', name, ...args) on a remote node. */
  async rpc(node: unknown, name: unknown, args: unknown[]): Promise<Uint8Array | null> {
    return remoteRpc('rpc', this.#env(), parseAddress('rpc', node, 'node'), name, args);
  }

  /** signal(num, 'host:port') on a remote node. */
  async signal(num: unknown, node: unknown): Promise<void> {
    return remoteSignal('signal', this.#env(), parseAddress('signal', node, 'remote'), num);
  }

  /** A spool request to the node at `address` (send_to_spooler/spool with spooler='host:port'). */
  async spool(fn: string, address: unknown, job: unknown): Promise<true> {
    return remoteSpool(fn, this.#env(), parseAddress(fn, address, 'spooler'), job);
  }
}

function delimiter(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  if (typeof v === 'string' && v.length === 1 && v.charCodeAt(0) <= 255) return v.charCodeAt(0);
  if (v instanceof Uint8Array && v.length === 1) return v[0];
  throw new UwsgiError('ERR_ARG_TYPE', `recv_frame: ${name} must be one byte (a 1-character string, a Uint8Array of 1 or 0..255), got ${typeName(v)}`);
}
