/**
 * Cache replication as uWSGI 2.0 does it. A cache with `nodes=` sends each
 * local set/update/inc... (111/10) and delete (111/11) as one UDP datagram to
 * every node, from the thread that wrote (uWSGI's workers send theirs too);
 * a cache with `udp=` applies its peers' datagrams in the master (uWSGI's
 * "cache udp server" thread), as an update with the absolute expiry it was
 * given and without sending it on. `sync=` copies a whole cache from a peer's
 * dump (111/6) before the workers start.
 *
 * What a peer can make us store is bounded before a byte is copied: a key
 * of at most the cache's `keysize`, a value of at most what the cache holds,
 * a dump of exactly this cache's size; `--cache-udp-allow` restricts who may
 * write at all. Anything else is dropped and counted.
 * @module
 */
import { UwsgiError, statusError } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { type Bytes, cachesOf, setCacheWriteHook } from '../cache/cache.ts';
import { writeLog } from '../process/process.ts';
import { type UdpSocket, runtime } from '../platform/index.ts';
import { Connection, parseAddress } from '../client/connection.ts';
import { socketTimeoutMs } from '../kernel/thread-options.ts';
import { type CacheUpdate, decodeCacheUpdate, digitsOf, encodeCacheDel, encodeCacheSet, varsOf } from './packets.ts';
import { type AllowRule, type UdpAddress, allowed } from './config.ts';
import { DUMP, decodeCacheImage, imageSize, maxValueOf } from './cache-image.ts';

const utf8 = new TextEncoder();
/** Datagrams a thread queues while its socket opens; more are dropped (and counted). */
const MAX_PENDING = 1024;

// ---- applying a peer's write (no re-send: uWSGI's UWSGI_CACHE_FLAG_LOCAL) -------------

/** Store `value` under `key` in cache `index` with an absolute expiry, as a peer sent it; false when the cache refused it (full). */
export function applySet(ctx: ThreadContext, index: number, key: Uint8Array, value: Uint8Array, expires: number): boolean {
  const x = ctx.x;
  const c = x.cache_handle(index) >>> 0;
  ctx.u8.set(key, ctx.scratch);
  // An update with the expiry as given (uWSGI: UPDATE|LOCAL|ABSEXPIRE); the core holds the cache until store_end.
  const a = x.cache_restore_begin(c, key.length, value.length, expires);
  if (a < 0) throw statusError(a, `cache '${ctx.shared.config.caches[index]!.name}' (replicated set)`);
  if (a === 0) return false;
  ctx.u8.set(value, a);
  x.cache_store_end(c);
  return true;
}

/** Delete `key` from cache `index`, as a peer asked; false when it was not there. */
export function applyDel(ctx: ThreadContext, index: number, key: Uint8Array): boolean {
  const x = ctx.x;
  const c = x.cache_handle(index) >>> 0;
  ctx.u8.set(key, ctx.scratch);
  const rc = x.cache_del(c, key.length, Math.floor(ctx.clock() / 1000));
  if (rc < 0) throw statusError(rc, `cache '${ctx.shared.config.caches[index]!.name}' (replicated del)`);
  return rc === 1;
}

// ---- sending this thread's writes -----------------------------------------------------

/** What one thread sent: datagrams handed to the system, and those it could not send. */
export interface SenderStats {
  sent: number;
  /** A value too large for one datagram, a full queue while the socket opened, or a send error. */
  failed: number;
}

/** One thread's sender: a UDP socket opened on its first replicated write. */
export class ReplicationSender {
  readonly #ctx: ThreadContext;
  #sock: UdpSocket | null = null;
  #opening: Promise<void> | null = null;
  #pending: Array<{ packet: Uint8Array; nodes: readonly UdpAddress[] }> = [];
  #closed = false;
  readonly stats: SenderStats = { sent: 0, failed: 0 };

  /** @internal Use {@link replicationOf}. */
  constructor(ctx: ThreadContext) { this.#ctx = ctx; }

  /** A local write changed cache `index` (the {@link setCacheWriteHook} hook). */
  written(index: number, key: Bytes, deleted: boolean): void {
    const cfg = this.#ctx.shared.config.caches[index]!;
    const k = typeof key === 'string' ? utf8.encode(key) : key;
    // What the cache holds now (after a math op: the result, where uWSGI 2.0.21 sends the delta),
    // with its absolute expiry as stored (uWSGI sends the expiry it computed for the write).
    const now = deleted ? null : cachesOf(this.#ctx).readWithExpiry(index, k);
    const packet = now ? encodeCacheSet(k, now.value, now.expires) : encodeCacheDel(k);
    if (!packet) {
      // uWSGI sends it with its length wrapped; we do not send it, and say so as uWSGI logs its send errors.
      this.stats.failed++;
      writeLog(this.#ctx, `uwsgi-wasm: [cache-udp-node] cache '${cfg.name}': a key of ${k.length} bytes with its value does not fit one datagram; not replicated`);
      return;
    }
    this.#send(packet, cfg.nodes);
  }

  #send(packet: Uint8Array, nodes: readonly UdpAddress[]): void {
    if (this.#closed) return;
    if (!this.#sock) {
      if (this.#pending.length >= MAX_PENDING) { this.stats.failed += nodes.length; return; }
      this.#pending.push({ packet, nodes });
      this.#opening ??= this.#open();
      return;
    }
    for (const n of nodes) {
      this.#sock.send(packet, n.host, n.port).then(() => { this.stats.sent++; }, () => { this.stats.failed++; });
    }
  }

  async #open(): Promise<void> {
    try {
      this.#sock = await runtime().openUdp({ host: '0.0.0.0', port: 0 }, () => { /* replies: none in this protocol */ });
    } catch {
      // No socket: this thread's datagrams are lost (as uWSGI's failed sendmsg); the next write tries again.
      for (const p of this.#pending) this.stats.failed += p.nodes.length;
      this.#pending = [];
      this.#opening = null;
      return;
    }
    if (this.#closed) { void this.#sock.close(); this.#sock = null; return; }
    const queued = this.#pending;
    this.#pending = [];
    for (const p of queued) this.#send(p.packet, p.nodes);
  }

  /** Release the socket (the thread view is released). */
  close(): void {
    this.#closed = true;
    this.#pending = [];
    if (this.#sock) void this.#sock.close();
    this.#sock = null;
  }
}

/** The calling thread's replication sender. */
export const replicationOf = threadService<ReplicationSender>((ctx) => new ReplicationSender(ctx), (s) => s.close());

// Every JS thread that loads the module object replicates its writes.
setCacheWriteHook((ctx, index, key, deleted) => replicationOf(ctx).written(index, key, deleted));

// ---- receiving peers' writes (the master) ---------------------------------------------

/** What a cache's UDP servers did with the datagrams they got. */
export interface ReceiverStats {
  /** Sets and deletes applied. */
  applied: number;
  /** Well-formed writes the cache refused (full). */
  refused: number;
  /** Datagrams from senders `--cache-udp-allow` does not list. */
  denied: number;
  /** Malformed datagrams, or keys/values over the cache's limits. */
  dropped: number;
}

/** The UDP servers (`udp=`) of every cache, in the master. */
export class ReplicationReceiver {
  readonly #ctx: ThreadContext;
  readonly #sockets: UdpSocket[] = [];
  readonly #allow: readonly AllowRule[];
  /** Per cache index. */
  readonly stats = new Map<number, ReceiverStats>();

  /** @internal Use {@link startReplication}. */
  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    this.#allow = ctx.shared.config.cluster.cacheUdpAllow;
  }

  /** Bind every `udp=` address of every cache. */
  async start(): Promise<void> {
    const caches = this.#ctx.shared.config.caches;
    for (let i = 0; i < caches.length; i++) {
      const cfg = caches[i]!;
      if (cfg.udp.length === 0) continue;
      const stats: ReceiverStats = { applied: 0, refused: 0, denied: 0, dropped: 0 };
      this.stats.set(i, stats);
      const limits = { keysize: cfg.keysize, maxValue: maxValueOf(cfg) };
      for (const a of cfg.udp) {
        try {
          this.#sockets.push(await runtime().openUdp({ host: a.host, port: a.port }, (d, from) => {
            if (!allowed(this.#allow, from.address)) { stats.denied++; return; }
            const u = decodeCacheUpdate(d, limits);
            if (!u) { stats.dropped++; return; }
            this.#apply(i, u, stats);
          }));
        } catch (e) {
          await this.close();
          throw new UwsgiError('ERR_OPTION', `cache '${cfg.name}': cannot bind its udp server on ${a.host}:${a.port}: ${(e as Error).message}`, { cause: e });
        }
      }
    }
  }

  #apply(index: number, u: CacheUpdate, stats: ReceiverStats): void {
    try {
      const ok = u.op === 'set' ? applySet(this.#ctx, index, u.key, u.value, u.expires) : (applyDel(this.#ctx, index, u.key), true);
      if (ok) stats.applied++;
      else stats.refused++;
    } catch {
      // The core refused (the master is stopping): nothing changed.
      stats.refused++;
    }
  }

  /** Stop receiving. */
  async close(): Promise<void> {
    await Promise.all(this.#sockets.splice(0).map((s) => s.close()));
  }
}

// ---- sync= (a whole cache from a peer's dump, at start) -------------------------------

/**
 * Fill cache `index` from the first of its `sync=` nodes that sends a dump
 * of this cache's layout (uWSGI asks each in turn and exits when none does;
 * so does this: the error says what each node answered). Returns how many
 * items were copied.
 */
export async function syncCache(ctx: ThreadContext, index: number): Promise<number> {
  const cfg = ctx.shared.config.caches[index]!;
  const fn = `cache '${cfg.name}' sync`;
  const timeoutMs = socketTimeoutMs(ctx);
  const failures: string[] = [];
  for (const node of cfg.sync) {
    let conn: Connection | undefined;
    try {
      conn = await Connection.open(fn, parseAddress(fn, node), timeoutMs);
      const name = utf8.encode(cfg.name);
      const req = new Uint8Array(4 + name.length);
      req.set([111, name.length & 0xff, name.length >>> 8, DUMP.REQUEST]);
      req.set(name, 4);
      await conn.write(fn, req, timeoutMs);
      const h = await conn.readExactly(fn, 4, timeoutMs, 'the dump header');
      if (!h) throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${node} sent no dump (no cache named '${cfg.name}' there?)`);
      if (h[0] !== 111 || h[3] !== DUMP.REPLY) throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${node} answered ${h[0]}/${h[3]}, not a cache dump (111/7)`);
      const vars = varsOf((await conn.readExactly(fn, h[1]! | (h[2]! << 8), timeoutMs, 'the dump vars')) ?? new Uint8Array(0));
      const items = digitsOf(vars?.get('items'));
      const blocksize = digitsOf(vars?.get('blocksize'));
      if (items !== cfg.items || blocksize !== cfg.blocksize) {
        throw new UwsgiError('ERR_LAYOUT', `${fn}: ${node} has items=${items} blocksize=${blocksize}; this cache has items=${cfg.items} blocksize=${cfg.blocksize} (sync needs the same items, blocksize, keysize and blocks)`);
      }
      const image = new Uint8Array(imageSize(cfg));
      // In pieces: the client's reads stop at 64 MiB each.
      for (let at = 0; at < image.length;) {
        const n = Math.min(image.length - at, 16 * 1024 * 1024);
        const part = await conn.readExactly(fn, n, timeoutMs, 'the dump');
        if (!part) throw new UwsgiError('ERR_CLOSED', `${fn}: ${node} closed after ${at} of the ${image.length} bytes of the dump`);
        image.set(part, at);
        at += n;
      }
      const { items: got } = decodeCacheImage(cfg, image);
      let n = 0;
      for (const it of got) if (applySet(ctx, index, it.key, it.value, it.expires)) n++;
      return n;
    } catch (e) {
      failures.push(`${node}: ${(e as Error).message}`);
    } finally {
      conn?.close();
    }
  }
  throw new UwsgiError('ERR_CONNECT', `${fn}: no node sent a usable dump (${failures.join('; ')})`);
}
