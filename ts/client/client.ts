/**
 * The client side of the uwsgi protocol: remote caches (modifier 111, sub-op
 * 17: uWSGI's "cache magic"), RPC (173), signals (110), spool requests (17)
 * and generic messages, byte-compatible with real uWSGI 2.0.21's clients (the
 * captured requests in `wire.json` are reproduced exactly). Packets go through
 * the one codec (ts/protocol/codec.ts); sockets through ts/client/connection.ts.
 *
 * Results follow uWSGI: a server that declines (a cache miss, an unknown RPC
 * function, a refused `set`) closes the connection without a byte, and that is
 * `null`. Everything else that goes wrong is a typed error: `ERR_CONNECT`,
 * `ERR_TIMEOUT`, `ERR_CLOSED` (the peer closed in the middle of a reply),
 * `ERR_BAD_REPLY` (a reply that breaks the protocol or exceeds
 * {@link MAX_REPLY_BYTES}), `ERR_REJECTED` (a signal or spool request the peer
 * answered "failed").
 * @module
 */
import { decodeVars, encodeArrayPacket, encodePacket, encodeVarsPacket, type ByteString } from '../protocol/codec.ts';
import { UwsgiError, bytesArg, intArg, typeName } from '../kernel/errors.ts';
import { CoreStatus } from '../kernel/abi.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { socketTimeoutMs } from '../kernel/thread-options.ts';
import { Connection, MAX_REPLY_BYTES, type NetAddress, netError, parseAddress } from './connection.ts';

const utf8 = new TextEncoder();

/** modifier1 values the client speaks. */
export const MODIFIER = { spool: 17, ping: 100, signal: 110, cache: 111, rpc: 173, response: 255 } as const;
/** Cache sub-command (modifier2) of uWSGI's key/value "magic" interface. */
const CACHE_MAGIC = 17;
/** RPC reply modifier2 announcing a 64-bit length in a `CONTENT_LENGTH` var. */
const RPC_REPLY_LONG = 5;

/** How long each client operation may wait for progress, in ms (-1: forever). */
export interface ClientEnv {
  timeoutMs: number;
}

/** A cache argument naming a remote cache: `name@host:port`, `@host:port` (the server's default cache), `name@/path.sock`. */
export type RemoteCacheName = `${string}@${string}`;
/**
 * What a cache function returns for a cache argument of type `C`: a promise
 * for a remote name, the plain result for a local one, either for a `string`
 * whose value is not known to the compiler.
 */
export type CacheResult<C, R> = [C] extends [undefined] ? R : C extends RemoteCacheName ? Promise<R> : string extends C ? R | Promise<R> : R;

/** Whether a cache argument names a remote cache (contains `@`). */
export function isRemoteCache(cache: unknown): cache is RemoteCacheName {
  return typeof cache === 'string' && cache.includes('@');
}

/** A remote cache: the name sent in the `cache` var and where its server listens. */
export interface RemoteCache {
  name: string;
  address: NetAddress;
}

/** Split `name@address` (at the first `@`, as uWSGI does). */
export function parseRemoteCache(fn: string, cache: string): RemoteCache {
  const at = cache.indexOf('@');
  return { name: cache.slice(0, at), address: parseAddress(fn, cache.slice(at + 1), 'cache address') };
}

function badReply(fn: string, c: Connection, detail: string): UwsgiError {
  return netError(CoreStatus.E_NET_BAD_REPLY, fn, c.address.text, detail);
}

/**
 * The 4-byte header of a reply, or null when the peer closed (or reset the
 * connection) without sending a byte: how uWSGI says no.
 */
async function readHeader(fn: string, c: Connection, env: ClientEnv, what: string): Promise<{ modifier1: number; size: number; modifier2: number } | null> {
  let h: Uint8Array | null;
  try {
    h = await c.readExactly(fn, 4, env.timeoutMs, `the ${what} header`);
  } catch (e) {
    if (c.resetBeforeReply) return null;
    throw e;
  }
  if (!h) return null;
  return { modifier1: h[0], size: h[1] | (h[2] << 8), modifier2: h[3] };
}

/** The reply's vars block, decoded; garbage is ERR_BAD_REPLY. */
async function readVars(fn: string, c: Connection, env: ClientEnv, size: number, what: string): Promise<Record<string, string>> {
  const block = await c.readExactly(fn, size, env.timeoutMs, `the ${what} vars`);
  if (!block) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, `the peer closed the connection before the ${size} bytes of the ${what} vars`);
  try {
    return decodeVars(block);
  } catch (e) {
    throw badReply(fn, c, `the ${what} vars are malformed (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** A decimal size from a reply var: digits only, within `max`. */
function sizeVar(fn: string, c: Connection, vars: Record<string, string>, key: string, max: number): number {
  const v = vars[key];
  if (v === undefined || !/^\d{1,20}$/.test(v)) throw badReply(fn, c, `the reply has no valid '${key}' (got ${v === undefined ? 'none' : `'${v.slice(0, 32)}'`})`);
  const n = Number(v);
  if (n > max) throw badReply(fn, c, `the reply announces ${v} bytes, over the ${max}-byte limit`);
  return n;
}

/** Open, send, run `reply`, close (always). */
async function exchange<T>(fn: string, env: ClientEnv, address: NetAddress, request: Uint8Array[], reply: (c: Connection) => Promise<T>): Promise<T> {
  const c = await Connection.open(fn, address, env.timeoutMs);
  try {
    try {
      for (const part of request) if (part.length) await c.write(fn, part, env.timeoutMs);
    } catch (e) {
      // A server that refused the request may reset the connection while the
      // rest of it is still being sent: its answer (none) is for `reply` to read.
      if (!c.resetBeforeReply) throw e;
    }
    return await reply(c);
  } finally {
    c.close();
  }
}

// ---- remote cache (111/17) ------------------------------------------------------------

/** The operations of uWSGI's cache magic interface. */
export type RemoteCacheCmd = 'get' | 'set' | 'update' | 'del' | 'exists' | 'clear';

/**
 * One remote cache operation, as uWSGI's client sends it: vars `cmd`, `key`,
 * (for set/update) `size`, `expires` when non-zero, `size` again, then `cache`;
 * a value follows the packet. Resolves with the reply's vars and, for `get`,
 * the value; null when the server declined (closed without a byte, or a status
 * other than `ok`).
 */
export async function remoteCacheOp(fn: string, env: ClientEnv, remote: RemoteCache, cmd: RemoteCacheCmd, key?: Uint8Array, value?: Uint8Array, expires = 0): Promise<{ vars: Record<string, string>; value?: Uint8Array } | null> {
  const pairs: Array<[ByteString, ByteString]> = [['cmd', cmd]];
  if (key !== undefined) pairs.push(['key', key]);
  if (value !== undefined) {
    const size = String(value.length);
    pairs.push(['size', size]);
    if (expires) pairs.push(['expires', String(expires)]);
    pairs.push(['size', size]);
  }
  pairs.push(['cache', remote.name]);
  let packet: Uint8Array;
  try {
    packet = encodeVarsPacket(MODIFIER.cache, CACHE_MAGIC, pairs);
  } catch (e) {
    if (e instanceof UwsgiError) throw new UwsgiError('ERR_BOUNDS', `${fn}: the request does not fit in one uwsgi packet (${e.message})`);
    throw e;
  }
  return exchange(fn, env, remote.address, value ? [packet, value] : [packet], async (c) => {
    const h = await readHeader(fn, c, env, 'cache reply');
    if (!h) return null;
    if (h.modifier1 !== MODIFIER.cache || h.modifier2 !== CACHE_MAGIC) {
      throw badReply(fn, c, `expected a cache reply (111/17), got modifier ${h.modifier1}/${h.modifier2}`);
    }
    const vars = await readVars(fn, c, env, h.size, 'cache reply');
    if (vars.status === undefined) throw badReply(fn, c, `the cache reply has no 'status'`);
    if (vars.status !== 'ok') return null;
    if (cmd !== 'get') return { vars };
    const size = sizeVar(fn, c, vars, 'size', MAX_REPLY_BYTES);
    // uWSGI's client treats an empty value as a miss (its caches cannot store one).
    if (size === 0) return null;
    const v = await c.readExactly(fn, size, env.timeoutMs, 'the cache value');
    if (!v) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, `the peer closed the connection before the ${size}-byte cache value`);
    return { vars, value: v };
  });
}

/** The calling thread's client settings: its current `socket-timeout`. */
export function clientEnv(ctx: ThreadContext): ClientEnv { return { timeoutMs: socketTimeoutMs(ctx) }; }

/** The calling thread's remote-cache client (one per thread view). */
export const remoteCachesOf = threadService<RemoteCacheClient>((ctx) => new RemoteCacheClient(() => clientEnv(ctx)));

/** The cache functions' remote forms (`cache_get(key, 'name@host:port')`...), each a promise. */
export class RemoteCacheClient {
  readonly #env: () => ClientEnv;
  /** @internal */
  constructor(env: () => ClientEnv) { this.#env = env; }

  #key(fn: string, key: unknown): Uint8Array {
    if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: key must be a string or Uint8Array, got ${typeName(key)}`);
    return bytesArg(fn, 'key', key);
  }

  /** cache_get on a remote cache: the value or null. */
  async get(fn: string, key: unknown, cache: string): Promise<Uint8Array | null> {
    const k = this.#key(fn, key);
    const r = await remoteCacheOp(fn, this.#env(), parseRemoteCache(fn, cache), 'get', k);
    return r?.value ?? null;
  }

  /** cache_exists: true or null. */
  async exists(fn: string, key: unknown, cache: string): Promise<true | null> {
    const k = this.#key(fn, key);
    return (await remoteCacheOp(fn, this.#env(), parseRemoteCache(fn, cache), 'exists', k)) ? true : null;
  }

  /** cache_set / cache_update: true or null. */
  async store(fn: string, key: unknown, value: unknown, expires: unknown, cache: string, update: boolean): Promise<true | null> {
    const k = this.#key(fn, key);
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: value must be a string or Uint8Array, got ${typeName(value)}`);
    const v = bytesArg(fn, 'value', value);
    const e = expires === undefined ? 0 : intArg(fn, 'expires', expires);
    if (e < 0) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: expires must be 0 or more seconds, got ${e}`);
    // uWSGI's servers refuse an empty value; sending one would only cost a round trip.
    const r = await remoteCacheOp(fn, this.#env(), parseRemoteCache(fn, cache), update ? 'update' : 'set', k, v, e);
    return r ? true : null;
  }

  /** cache_del: true or null. */
  async del(fn: string, key: unknown, cache: string): Promise<true | null> {
    const k = this.#key(fn, key);
    return (await remoteCacheOp(fn, this.#env(), parseRemoteCache(fn, cache), 'del', k)) ? true : null;
  }

  /** cache_clear: true or null. */
  async clear(fn: string, cache: string): Promise<true | null> {
    return (await remoteCacheOp(fn, this.#env(), parseRemoteCache(fn, cache), 'clear')) ? true : null;
  }

  /** cache_num: the value as int64 little-endian (0n when missing or not 8 bytes), as uWSGI. */
  async num(fn: string, key: unknown, cache: string): Promise<bigint> {
    const v = await this.get(fn, key, cache);
    if (!v || v.length !== 8) return 0n;
    return new DataView(v.buffer, v.byteOffset, 8).getBigInt64(0, true);
  }
}

/** ERR_UNSUPPORTED for cache functions the remote protocol cannot do. */
export function remoteUnsupported(fn: string, cache: string, why: string): UwsgiError {
  return new UwsgiError('ERR_UNSUPPORTED', `${fn}: '${cache}' is a remote cache; ${why}`);
}

// ---- RPC (173) ------------------------------------------------------------------------

/** Most items of an RPC request: the name and 254 arguments (uWSGI's server limit). */
export const REMOTE_RPC_MAX_ARGS = 254;

/**
 * Call `name(...args)` on the node at `address`: the result bytes, or null when
 * the node has no such function or it returned nothing (the node closes
 * without a byte, as uWSGI does).
 */
export async function remoteRpc(fn: string, env: ClientEnv, address: NetAddress, name: unknown, args: unknown[]): Promise<Uint8Array | null> {
  const n = bytesArg(fn, 'name', name);
  if (n.length === 0 || n.length > 255) throw new UwsgiError('ERR_BOUNDS', `${fn}: name must be 1..255 bytes, got ${n.length}`);
  if (args.length > REMOTE_RPC_MAX_ARGS) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: at most ${REMOTE_RPC_MAX_ARGS} arguments to a remote node, got ${args.length}`);
  const items: Uint8Array[] = [n];
  args.forEach((a, i) => {
    if (typeof a !== 'string' && !(a instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: argument ${i + 1} must be a string or Uint8Array, got ${typeName(a)}`);
    items.push(bytesArg(fn, `argument ${i + 1}`, a));
  });
  let packet: Uint8Array;
  try {
    packet = encodeArrayPacket(MODIFIER.rpc, 0, items);
  } catch (e) {
    if (e instanceof UwsgiError) throw new UwsgiError('ERR_BOUNDS', `${fn}: the call does not fit in one uwsgi packet (65535 bytes): ${e.message}`);
    throw e;
  }
  return exchange(fn, env, address, [packet], async (c) => {
    const h = await readHeader(fn, c, env, 'RPC reply');
    if (!h) return null;
    if (h.modifier1 !== MODIFIER.rpc) throw badReply(fn, c, `expected an RPC reply (173), got modifier ${h.modifier1}/${h.modifier2}`);
    let size = h.size;
    if (h.modifier2 === RPC_REPLY_LONG) {
      size = sizeVar(fn, c, await readVars(fn, c, env, h.size, 'RPC reply'), 'CONTENT_LENGTH', MAX_REPLY_BYTES);
    } else if (h.modifier2 !== 0) {
      throw badReply(fn, c, `unknown RPC reply form ${h.modifier2} (0 or 5 expected)`);
    }
    if (size === 0) return null;
    const v = await c.readExactly(fn, size, env.timeoutMs, 'the RPC result');
    if (!v) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, `the peer closed the connection before the ${size}-byte RPC result`);
    return v;
  });
}

// ---- acknowledged requests: signal (110) and spool (17) -------------------------------

/** Read uWSGI's `ff 00 00 <ok>` acknowledgement: true for 1, false for 0. */
async function readAck(fn: string, c: Connection, env: ClientEnv, what: string): Promise<boolean> {
  const h = await readHeader(fn, c, env, `${what} acknowledgement`);
  if (!h) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, `the peer closed the connection without acknowledging the ${what}`);
  if (h.modifier1 !== MODIFIER.response || h.size !== 0 || h.modifier2 > 1) {
    throw badReply(fn, c, `expected an acknowledgement (ff 00 00 00|01), got ${[h.modifier1, h.size & 0xff, h.size >> 8, h.modifier2].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`);
  }
  return h.modifier2 === 1;
}

/**
 * Raise uWSGI signal `num` (0..255) on the node at `address`. Resolves once
 * the node queued it; ERR_REJECTED when the node answered that it could not.
 * (The node does not check that a handler is registered, as in uWSGI.)
 */
export async function remoteSignal(fn: string, env: ClientEnv, address: NetAddress, num: unknown): Promise<void> {
  const n = intArg(fn, 'signum', num);
  if (n < 0 || n > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: signum must be 0..255, got ${n}`);
  const ok = await exchange(fn, env, address, [encodePacket(MODIFIER.signal, n)], (c) => readAck(fn, c, env, `signal ${n}`));
  if (!ok) throw netError(CoreStatus.E_NET_REJECTED, fn, address.text, `the node rejected signal ${n}`);
}

/** A spool request's vars: string or byte values (numbers as decimal text). */
export type SpoolVars = Record<string, string | Uint8Array | number> | Map<string, string | Uint8Array | number>;

/**
 * Enqueue a spooler job on the node at `address` (a modifier-17 packet whose
 * vars are the job's arguments). Resolves true once the node wrote the job;
 * ERR_REJECTED when it answered that it could not (no spooler, write failed).
 * The `spooler` key is not sent (it names the address here; on the node it
 * would select a spool directory). A `body` travels as an ordinary var, so it
 * must fit in the packet with the rest (65535 bytes).
 */
export async function remoteSpool(fn: string, env: ClientEnv, address: NetAddress, vars: unknown): Promise<true> {
  if (vars === null || typeof vars !== 'object' || vars instanceof Uint8Array || Array.isArray(vars)) {
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: the job must be an object (or Map) of string or Uint8Array values, got ${typeName(vars)}`);
  }
  const entries = vars instanceof Map ? [...(vars as Map<unknown, unknown>)] : Object.entries(vars as Record<string, unknown>);
  const pairs: Array<[string, ByteString]> = [];
  for (const [k, v] of entries) {
    if (typeof k !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: job keys must be strings, got ${typeName(k)}`);
    if (k === 'spooler' || v === undefined) continue;
    if (typeof v === 'number' && Number.isFinite(v)) pairs.push([k, String(v)]);
    else if (typeof v === 'string' || v instanceof Uint8Array) pairs.push([k, v]);
    else throw new UwsgiError('ERR_ARG_TYPE', `${fn}: job value '${k}' must be a string, Uint8Array or number, got ${typeName(v)}`);
  }
  let packet: Uint8Array;
  try {
    packet = encodeVarsPacket(MODIFIER.spool, 0, pairs);
  } catch (e) {
    if (e instanceof UwsgiError) throw new UwsgiError('ERR_BOUNDS', `${fn}: the job does not fit in one uwsgi packet (${e.message})`);
    throw e;
  }
  const ok = await exchange(fn, env, address, [packet], (c) => readAck(fn, c, env, 'spool request'));
  if (!ok) throw netError(CoreStatus.E_NET_REJECTED, fn, address.text, 'the node could not spool the job (no spooler there, or writing failed)');
  return true;
}

// ---- generic messages -----------------------------------------------------------------

/** A message body: raw bytes (strings as UTF-8), or vars (an object of string/bytes values) encoded as a vars block. */
export type MessagePayload = ByteString | Record<string, ByteString>;

/** Encode a packet for `send_message`-style functions. */
export function messagePacket(fn: string, modifier1: unknown, modifier2: unknown, payload: unknown): Uint8Array {
  const m1 = intArg(fn, 'modifier1', modifier1);
  const m2 = intArg(fn, 'modifier2', modifier2);
  if (m1 < 0 || m1 > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: modifier1 must be 0..255, got ${m1}`);
  if (m2 < 0 || m2 > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: modifier2 must be 0..255, got ${m2}`);
  try {
    if (typeof payload === 'string' || payload instanceof Uint8Array) return encodePacket(m1, m2, payload);
    if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) return encodeVarsPacket(m1, m2, payload as Record<string, ByteString>);
  } catch (e) {
    if (e instanceof UwsgiError) throw new UwsgiError(e.code === 'ERR_ARG_TYPE' ? 'ERR_ARG_TYPE' : 'ERR_BOUNDS', `${fn}: ${e.message}`);
    throw e;
  }
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: message must be a string, Uint8Array or an object of vars, got ${typeName(payload)}`);
}

/**
 * Read a reply the way uWSGI's message iterator does: a reply starting with
 * `H` (raw HTTP) is returned whole, until the peer closes; any other reply is
 * a header and its `size` body bytes, and the body is returned. A peer that
 * closes without a byte gives an empty result.
 */
export async function readMessageReply(fn: string, c: Connection, env: ClientEnv): Promise<Uint8Array> {
  const first = await c.readSome(fn, 1, env.timeoutMs);
  if (!first) return new Uint8Array(0);
  if (first[0] === 0x48 /* 'H' */) {
    const rest = await c.readToEnd(fn, MAX_REPLY_BYTES - 1, env.timeoutMs, 'the HTTP reply');
    const out = new Uint8Array(1 + rest.length);
    out[0] = first[0];
    out.set(rest, 1);
    return out;
  }
  const tail = await c.readExactly(fn, 3, env.timeoutMs, 'the reply header');
  if (!tail) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, 'the peer closed the connection after 1 of the 4 header bytes');
  const size = tail[0] | (tail[1] << 8);
  const body = await c.readExactly(fn, size, env.timeoutMs, 'the reply body');
  if (!body) throw netError(CoreStatus.E_NET_CLOSED, fn, c.address.text, `the peer closed the connection before the ${size}-byte reply body`);
  return body;
}

/** Send one message to `address` (optionally followed by `body`) and read the reply ({@link readMessageReply}). */
export function sendMessageTo(fn: string, env: ClientEnv, address: NetAddress, packet: Uint8Array, body?: Uint8Array): Promise<Uint8Array> {
  return exchange(fn, env, address, body ? [packet, body] : [packet], (c) => readMessageReply(fn, c, env));
}

/** A body argument (bytes sent after the packet), or undefined. */
export function bodyArg(fn: string, v: unknown): Uint8Array | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return utf8.encode(v);
  if (v instanceof Uint8Array) return v;
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: body must be a string or Uint8Array, got ${typeName(v)}`);
}

// ---- forwarding the request being served (route) ----------------------------------------

/**
 * Forward a request (its CGI vars and body) to the uwsgi node at `address` as
 * modifier1/modifier2 and turn the node's raw HTTP answer into a `Response`.
 * A reply that is not HTTP/1.x is ERR_BAD_REPLY.
 */
export async function forwardRequest(fn: string, env: ClientEnv, address: NetAddress, modifier1: number, modifier2: number, vars: Record<string, string>, body: Uint8Array): Promise<Response> {
  const packet = messagePacket(fn, modifier1, modifier2, vars);
  const raw = await exchange(fn, env, address, body.length ? [packet, body] : [packet], (c) => c.readToEnd(fn, MAX_REPLY_BYTES, env.timeoutMs, 'the HTTP reply'));
  let end = -1;
  for (let i = 0; i + 3 < raw.length && i < 65536; i++) {
    if (raw[i] === 13 && raw[i + 1] === 10 && raw[i + 2] === 13 && raw[i + 3] === 10) { end = i; break; }
  }
  const fail = (why: string) => netError(CoreStatus.E_NET_BAD_REPLY, fn, address.text, why);
  if (raw.length === 0) throw netError(CoreStatus.E_NET_CLOSED, fn, address.text, 'the node closed the connection without answering');
  if (end < 0) throw fail('the reply has no complete HTTP head');
  const lines = new TextDecoder().decode(raw.subarray(0, end)).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0]);
  if (!m) throw fail(`the reply does not start with an HTTP/1.x status line: '${lines[0].slice(0, 40)}'`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw fail(`malformed header line '${line.slice(0, 40)}'`);
    try { headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim()); } catch { throw fail(`invalid header '${line.slice(0, 40)}'`); }
  }
  const status = Number(m[1]);
  if (status < 200 || status > 599) throw fail(`status ${status} cannot be forwarded`);
  const nullBody = status === 204 || status === 205 || status === 304;
  return new Response(nullBody ? null : raw.slice(end + 4), { status, headers });
}
