/**
 * The server side of uWSGI's management packets, answered on `--socket`:
 * 100 ping, 101 echo, 110 signal, 111 cache (sub-ops 0..6 and 17, the one
 * uWSGI's clients speak), 173 RPC, 17 spool, and 1.x's 26 fastfunc and 33
 * marshalled message (ts/server/handlers.ts). Replies are what uWSGI 2.0.21's
 * clients expect; where uWSGI sends garbage or silently closes although an
 * answer is possible, we answer (each difference is listed in the README).
 * @module
 */
import { HEADER_SIZE, MAX_BUFFER_SIZE, bytesToText, decodeArray, decodeVarsList, encodeVarsPacket, type Packet } from '../protocol/codec.ts';
import type { ListenConfig } from './listen.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { cachesOf } from '../cache/cache.ts';
import { callRpc as callLocalRpc } from '../rpc/rpc.ts';
import { MOD_FASTFUNC, MOD_MARSHAL, serveFastfunc, serveMarshal } from './handlers.ts';
import { cacheDumpReply } from '../cluster/cache-image.ts';

/** Where a packet handler reads the bytes after the packet and writes its answer. */
export interface PacketIO {
  /** Exactly `n` more bytes from the peer (n is bounded by the caller), or null if the peer stopped first. */
  readExactly(n: number): Promise<Uint8Array | null>;
  /** Send bytes; resolves once they are handed to the socket (with backpressure). */
  write(bytes: Uint8Array): Promise<void>;
}

/** Hooks other subsystems plug in (signals, spooler). Absent hooks answer as uWSGI does without that subsystem. */
export interface PacketHooks {
  /** Raise uwsgi signal `num` (modifier 110); true when it was queued. Absent: the signal is refused (`ff 00 00 00`). */
  raiseSignal?: (num: number) => boolean | Promise<boolean>;
  /** Write a spool job from a modifier-17 packet's vars; true when written. Absent: refused (`ff 00 00 00`), as uWSGI with no spooler. */
  spool?: (vars: Array<[Uint8Array, Uint8Array]>) => boolean | Promise<boolean>;
}

/** Modifier1 values. */
export const MOD = { REQUEST: 0, SPOOL: 17, REQUEST_STRIP: 30, PING: 100, ECHO: 101, SIGNAL: 110, CACHE: 111, RPC: 173, RESPONSE: 255 } as const;

const enc = new TextEncoder();
const ack = (ok: boolean) => Uint8Array.of(MOD.RESPONSE, 0, 0, ok ? 1 : 0);
const header = (m1: number, size: number, m2: number) => Uint8Array.of(m1, size & 0xff, size >>> 8, m2);
const concat = (a: Uint8Array, b: Uint8Array) => { const o = new Uint8Array(a.length + b.length); o.set(a); o.set(b, a.length); return o; };

/** The last value of `key` among the pairs (uWSGI's parsers overwrite as they go). */
function lastVar(vars: Array<[Uint8Array, Uint8Array]>, key: string): Uint8Array | undefined {
  let v: Uint8Array | undefined;
  for (const [k, val] of vars) if (k.length === key.length && bytesToText(k) === key) v = val;
  return v;
}

/** A decimal made of digits only (uWSGI's parser), or -1. */
function digits(v: Uint8Array | undefined): number {
  if (!v || v.length === 0 || v.length > 15) return -1;
  let n = 0;
  for (const c of v) { if (c < 48 || c > 57) return -1; n = n * 10 + (c - 48); }
  return n;
}

/** Largest value a cache stores: one block, or every block with a bitmap. */
function maxValue(ctx: ThreadContext, index: number): number {
  const c = cachesOf(ctx).configs[index]!;
  return c.bitmap ? c.blocksize * c.blocks : c.blocksize;
}

/**
 * Answer one management packet. Returns false when the modifier is not one of
 * these (the caller closes). `local`: the peer may change state (the listener
 * says so for loopback and unix peers, or for any peer with `--remote-peers
 * any`); otherwise cache writes, spool, signal, RPC, fastfunc and marshal
 * packets get the refusal each has, and reads are still answered.
 */
export async function servePacket(ctx: ThreadContext, lc: ListenConfig, hooks: PacketHooks, pkt: Packet, io: PacketIO, local = true): Promise<boolean> {
  if (!local) lc = { ...lc, remoteCache: lc.remoteCache === 'off' ? 'off' : 'ro', remoteRpc: false, remoteSignal: false, remoteSpool: false };
  switch (pkt.modifier1) {
    case MOD.PING:
      // uWSGI: the request header with modifier2 1 and the master's warning text (none here).
      await io.write(header(MOD.PING, 0, 1));
      return true;
    case MOD.ECHO:
      await io.write(pkt.body);
      return true;
    case MOD.SIGNAL: {
      let ok = false;
      if (lc.remoteSignal && hooks.raiseSignal) {
        try { ok = await hooks.raiseSignal(pkt.modifier2); } catch { ok = false; }
      }
      await io.write(ack(ok));
      return true;
    }
    case MOD.SPOOL: {
      let ok = false;
      if (lc.remoteSpool && hooks.spool) {
        try { ok = await hooks.spool(decodeVarsList(pkt.body, { bufferSize: MAX_BUFFER_SIZE })); } catch { ok = false; }
      }
      await io.write(ack(ok));
      return true;
    }
    case MOD.CACHE:
      await serveCache(ctx, lc, pkt, io);
      return true;
    case MOD.RPC:
      await serveRpc(ctx, lc, pkt, io);
      return true;
    // Both call the app's functions, as RPC does: refused with it (remote peers, --remote-rpc off) as an empty slot is.
    case MOD_FASTFUNC: // uwsgi.fastfuncs[modifier2]; nothing written (empty slot, failure) closes, as uWSGI
      if (lc.remoteRpc) await serveFastfunc(ctx, pkt, io);
      return true;
    case MOD_MARSHAL: // uwsgi.message_manager_marshal(obj, modifier2), answered marshalled
      if (lc.remoteRpc) await serveMarshal(ctx, pkt, io);
      return true;
    default:
      return false;
  }
}

// ---- cache (111) ----------------------------------------------------------------------

function magicReply(vars: Array<[string, string]>): Uint8Array {
  return encodeVarsPacket(MOD.CACHE, 17, vars);
}

async function serveCache(ctx: ThreadContext, lc: ListenConfig, pkt: Packet, io: PacketIO): Promise<void> {
  const api = cachesOf(ctx);
  const writable = lc.remoteCache === 'rw';
  const enabled = lc.remoteCache !== 'off';
  const def = api.configs.length ? 0 : -1;
  switch (pkt.modifier2) {
    case 0: // GET, raw key: the value until close; a miss closes (the only way old clients see "not found")
    case 5: { // GET, raw key: header 6f 00 00 01 + value, or 6f 00 00 00 on a miss
      const hit = enabled && def >= 0 ? cachesOf(ctx).readWithExpiry(def, pkt.body) : null;
      if (hit) await io.write(concat(header(MOD.CACHE, 0, 1), hit.value));
      else if (pkt.modifier2 === 5) await io.write(header(MOD.CACHE, 0, 0));
      return;
    }
    case 1: { // SET, array [key, value(, ignored)]: uWSGI sends nothing; we acknowledge
      let ok = false;
      if (writable && def >= 0) {
        try {
          const items = decodeArray(pkt.body, { bufferSize: MAX_BUFFER_SIZE });
          if (items.length >= 2 && items[0]!.length > 0) ok = api.store('cache (remote set)', items[0], items[1], 0, undefined, false);
        } catch { ok = false; }
      }
      await io.write(ack(ok));
      return;
    }
    case 2: { // DEL, raw key
      const ok = writable && def >= 0 && pkt.body.length > 0 && api.del('cache (remote del)', pkt.body, undefined);
      await io.write(ack(ok));
      return;
    }
    case 3: { // vars {key: K}: the value, raw, until close (uWSGI's lookup was always for the empty key)
      const key = safeVar(pkt.body, 'key');
      const hit = enabled && def >= 0 && key ? cachesOf(ctx).readWithExpiry(def, key) : null;
      if (hit) await io.write(hit.value);
      return;
    }
    case 4: { // vars {get: K}: an HTTP answer (uWSGI always sent its 404 page)
      const key = safeVar(pkt.body, 'get');
      const hit = enabled && def >= 0 && key ? cachesOf(ctx).readWithExpiry(def, key) : null;
      if (hit) await io.write(concat(enc.encode(`HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${hit.value.length}\r\n\r\n`), hit.value));
      else await io.write(enc.encode('HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nNot Found'));
      return;
    }
    case 6: { // DUMP, optional cache name: the cache as uWSGI's image (what a uWSGI's `sync=` reads); nothing when there is no such cache
      const name = bytesToText(pkt.body);
      const index = !enabled ? -1 : name === '' ? def : name.includes('@') ? -1 : api.index('cache (dump)', name);
      if (index >= 0) for (const part of cacheDumpReply(ctx, index)) await io.write(part);
      return;
    }
    case 17:
      try {
        await serveCacheMagic(ctx, lc, pkt, io);
      } catch (e) {
        await io.write(magicReply([['status', 'error'], ['error', (e as Error).message]]));
      }
      return;
    default:
      await io.write(ack(false));
  }
}

function safeVar(body: Uint8Array, key: string): Uint8Array | undefined {
  try { return lastVar(decodeVarsList(body, { bufferSize: MAX_BUFFER_SIZE }), key); } catch { return undefined; }
}

async function serveCacheMagic(ctx: ThreadContext, lc: ListenConfig, pkt: Packet, io: PacketIO): Promise<void> {
  const api = cachesOf(ctx);
  const fail = (why: string, status = 'error') => io.write(magicReply([['status', status], ['error', why]]));
  let vars: Array<[Uint8Array, Uint8Array]>;
  try { vars = decodeVarsList(pkt.body, { bufferSize: MAX_BUFFER_SIZE }); } catch (e) { return fail(`malformed request: ${(e as Error).message}`); }
  const cmd = bytesToText(lastVar(vars, 'cmd') ?? new Uint8Array(0));
  if (lc.remoteCache === 'off') return fail('remote cache access is disabled on this server');
  const name = lastVar(vars, 'cache');
  const index = name === undefined || name.length === 0 ? (api.configs.length ? 0 : -1) : api.index('cache', bytesToText(name));
  if (index < 0) return fail(`no cache named '${name ? bytesToText(name) : ''}'`);
  const cacheName = api.configs[index]!.name;
  const key = lastVar(vars, 'key');
  const needKey = () => key !== undefined && key.length > 0;
  switch (cmd) {
    case 'get': {
      if (!needKey()) return fail('no key');
      const hit = cachesOf(ctx).readWithExpiry(index, key!);
      if (!hit) return io.write(magicReply([['status', 'notfound']]));
      const reply: Array<[string, string]> = [['status', 'ok'], ['size', String(hit.value.length)]];
      if (hit.expires > 0) reply.push(['expires', String(hit.expires)]);
      return io.write(concat(magicReply(reply), hit.value));
    }
    case 'exists':
      if (!needKey()) return fail('no key');
      return io.write(magicReply([['status', api.exists('cache', key, cacheName) ? 'ok' : 'notfound']]));
    case 'del':
      if (lc.remoteCache !== 'rw') return fail('the cache is read-only to remote peers');
      if (!needKey()) return fail('no key');
      return io.write(magicReply([['status', api.del('cache', key, cacheName) ? 'ok' : 'notfound']]));
    case 'clear':
      if (lc.remoteCache !== 'rw') return fail('the cache is read-only to remote peers');
      api.clear('cache', cacheName);
      return io.write(magicReply([['status', 'ok']]));
    case 'set':
    case 'update': {
      if (lc.remoteCache !== 'rw') return fail('the cache is read-only to remote peers');
      if (!needKey()) return fail('no key');
      const size = digits(lastVar(vars, 'size'));
      // Checked before reading a byte of the value: a peer cannot make us buffer more than the cache can hold.
      if (size <= 0 || size > maxValue(ctx, index)) return fail(`size must be 1..${maxValue(ctx, index)}, got '${bytesToText(lastVar(vars, 'size') ?? new Uint8Array(0))}'`);
      const expiresRaw = lastVar(vars, 'expires');
      const expires = expiresRaw === undefined || expiresRaw.length === 0 ? 0 : digits(expiresRaw);
      if (expires < 0) return fail('expires must be a number of seconds');
      const value = await io.readExactly(size);
      if (!value) return; // the peer left before sending the value: nobody to answer
      const ok = api.store('cache', key, value, expires, cacheName, cmd === 'update');
      return ok ? io.write(magicReply([['status', 'ok']])) : fail(cmd === 'set' ? 'not stored (the key exists, or the cache is full)' : 'not stored (the cache is full)');
    }
    default:
      return fail(`unknown cmd '${cmd}'`);
  }
}

// ---- RPC (173) ------------------------------------------------------------------------

/** Call a registered function with the packet's arguments: the result, or null (unknown, failed, empty). */
async function callRpc(ctx: ThreadContext, name: Uint8Array, args: Uint8Array[]): Promise<Uint8Array | null> {
  if (name.length === 0 || name.length > 255) return null;
  try {
    const r = await callLocalRpc(ctx, 'call', name, args);
    return r && r.length > 0 ? r : null;
  } catch {
    return null;
  }
}

async function serveRpc(ctx: ThreadContext, lc: ListenConfig, pkt: Packet, io: PacketIO): Promise<void> {
  if (pkt.modifier2 === 2) return serveRpcHttp(ctx, lc, pkt, io);
  if (pkt.modifier2 === 3) return httpReply(io, '501 Not Implemented', 'text/plain', enc.encode('XML-RPC is not supported'));
  let result: Uint8Array | null = null;
  if (lc.remoteRpc) {
    let items: Uint8Array[] = [];
    try { items = decodeArray(pkt.body, { bufferSize: MAX_BUFFER_SIZE, skipEmpty: true, maxEntries: 256 }); } catch { items = []; }
    if (items.length > 0) result = await callRpc(ctx, items[0]!, items.slice(1));
  }
  if (pkt.modifier2 !== 0) {
    // Raw replies have no framing: the result until close, nothing on failure.
    if (result) await io.write(result);
    return;
  }
  if (!result) return io.write(header(MOD.RPC, 0, 0)); // uWSGI closes; an empty result reads as None in its client either way
  if (result.length <= MAX_BUFFER_SIZE) return io.write(concat(header(MOD.RPC, result.length, 0), result));
  return io.write(concat(encodeVarsPacket(MOD.RPC, 5, [['CONTENT_LENGTH', String(result.length)]]), result));
}

function httpReply(io: PacketIO, status: string, type: string, body: Uint8Array): Promise<void> {
  return io.write(concat(enc.encode(`HTTP/1.0 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${body.length}\r\n\r\n`), body));
}

async function serveRpcHttp(ctx: ThreadContext, lc: ListenConfig, pkt: Packet, io: PacketIO): Promise<void> {
  const reply = (status: string, type: string, body: Uint8Array) => httpReply(io, status, type, body);
  let vars: Array<[Uint8Array, Uint8Array]> = [];
  try { vars = decodeVarsList(pkt.body, { bufferSize: MAX_BUFFER_SIZE }); } catch { /* treated as no PATH_INFO */ }
  const path = lastVar(vars, 'PATH_INFO');
  if (!path || path.length === 0) return reply('500 Internal Server Error', 'text/plain', enc.encode('no PATH_INFO'));
  const parts = bytesToText(path).split('/').filter((p) => p !== '');
  const result = lc.remoteRpc && parts.length ? await callRpc(ctx, enc.encode(parts[0]!), parts.slice(1).map((p) => enc.encode(p))) : null;
  if (!result) return reply('404 Not Found', 'text/plain', enc.encode('Not Found'));
  const accept = lastVar(vars, 'HTTP_ACCEPT');
  const a = accept ? bytesToText(accept) : '';
  // A peer's Accept becomes our Content-Type only as a plain media type: no control byte reaches a response.
  return reply('200 OK', a && a !== '*' && a !== '*/*' && /^[\x20-\x7e]+$/.test(a) ? a : 'application/binary', result);
}

/** Bytes of a packet header (re-exported for the server). */
export { HEADER_SIZE };
