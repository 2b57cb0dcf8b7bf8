/**
 * The master's own servers: the stats server (`--stats`, `--stats-http`) and
 * the SNMP agent (`--snmp=ADDR`). Both run in the master's event loop, as in
 * uWSGI, and read the shared memory directly; no worker is involved.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { Engine } from '../kernel/engine.ts';
import { type SocketAddress, formatAddress } from '../protocol/address.ts';
import { type Listener, type UdpEndpoint, runtime } from '../platform/index.ts';
import { SocketStream } from '../protocol/stream.ts';
import { MAX_SNMP_REQUEST, SnmpResponder, type SnmpSource } from './snmp-agent.ts';
import { snmpOf } from './snmp.ts';
import { type StatsSources, type WorkerCounters, collectStats, renderStats } from './stats.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { processOf, type WorkerStats } from '../process/process.ts';
import { spoolerOf } from '../spooler/spooler.ts';
import { signalRows } from './sections.ts';
import { RowField, ThreadKind } from '../kernel/abi.ts';
import { listenQueueOf } from '../server/serve.ts';
import { ConnectionGuard } from '../server/connections.ts';

const utf8 = new TextEncoder();
/** uWSGI's answer head for `--stats-http` (HTTP/1.0, no length: the connection closes). */
const HTTP_JSON_HEAD = 'HTTP/1.0 200 OK\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\nContent-Type: application/json\r\n\r\n';
const HTTP_HTML_HEAD = 'HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n\r\n';
/** Bytes of an HTTP request head read at most (uWSGI reads one 4096-byte buffer); a client's further bytes are never read. */
const HTTP_HEAD_MAX = 4096;
/** A client that sends no request head within this time is dropped (ms). */
const HTTP_READ_TIMEOUT_MS = 3000;
/** Master log lines the stats document keeps (its `log` section). */
export const LOG_TAIL = 30;
/** Stats clients connected at once; over it the oldest one not being answered makes room, or the new one is refused. */
export const STATS_MAX_CONNECTIONS = 32;
/** How long an answered client may keep its side open before it is destroyed (ms). */
const STATS_LINGER_MS = 3000;

/** A running stats server. */
export class StatsServer {
  readonly #listener: Listener;
  readonly address: SocketAddress;
  /** Its clients: at most {@link STATS_MAX_CONNECTIONS}, each answered and closed within a deadline. */
  readonly guard: ConnectionGuard;
  /** @internal Use {@link startStatsServer}. */
  constructor(listener: Listener, address: SocketAddress, guard: ConnectionGuard) { this.#listener = listener; this.address = address; this.guard = guard; }
  /** The TCP port it listens on (undefined for a UNIX socket). */
  get port(): number | undefined { return this.#listener.port; }
  close(): Promise<void> { this.guard.closeAll(); return this.#listener.close(); }
}

/** Options of {@link startStatsServer}. */
export interface StatsServerOptions {
  address: SocketAddress;
  /** Answer over HTTP (and serve the dashboard at `/dashboard`). */
  http?: boolean;
  minified?: boolean;
}

/**
 * Serve the stats document on `address`. Plain mode writes the JSON as soon as
 * a client connects, then closes (uWSGI's behaviour); HTTP mode reads the
 * request head first, answers `/dashboard` with the page and any other path
 * with the JSON.
 */
export async function startStatsServer(sources: StatsSources, opts: StatsServerOptions): Promise<StatsServer> {
  const json = () => utf8.encode(renderStats(collectStats(sources), opts.minified));
  const serve = async (conn: SocketStream) => {
    let answer: Uint8Array | undefined;
    try {
      if (!opts.http) answer = json();
      else {
        const path = await readRequestPath(conn);
        if (path === '/dashboard' || path === '/dashboard/' || path?.startsWith('/dashboard?')) answer = utf8.encode(HTTP_HTML_HEAD + DASHBOARD_HTML);
        else if (path !== null) answer = concat(utf8.encode(HTTP_JSON_HEAD), json());
      }
    } catch {
      // The client went away: nothing to answer.
    }
    conn.end(answer);
  };
  // A client is answered, then closed: the head must come within the read timeout, and an answered client that
  // keeps its side open is destroyed after a short linger. Its bytes past the head are never read (the socket is
  // paused once HTTP_HEAD_MAX bytes wait), so sending more only fills the kernel's buffers.
  const guard = new ConnectionGuard({ max: STATS_MAX_CONNECTIONS, headMs: HTTP_READ_TIMEOUT_MS, bodyMs: 0, idleMs: 0, lingerMs: STATS_LINGER_MS });
  let listener: Listener;
  try {
    listener = await runtime().listen(opts.address, (sock) => {
      const t = guard.admit(() => sock.destroy());
      const conn = new SocketStream({ highWater: HTTP_HEAD_MAX, lowWater: HTTP_HEAD_MAX, onClosed: () => t?.closed() }).attach(sock);
      // After the binding has the handlers: an answer may be written (or the refusal made) at once.
      queueMicrotask(() => {
        if (!t) { sock.destroy(); return; }
        void serve(conn).finally(() => t.enter('closing'));
      });
      return conn;
    });
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `stats: cannot listen on ${formatAddress(opts.address)}: ${(e as Error).message}`, { cause: e });
  }
  return new StatsServer(listener, opts.address, guard);
}

/** The path of the HTTP request whose head arrives on `conn`, or null (timeout, EOF, failure, oversized or not HTTP). */
async function readRequestPath(conn: SocketStream): Promise<string | null> {
  let head = '';
  const dec = new TextDecoder('latin1');
  const deadline = Date.now() + HTTP_READ_TIMEOUT_MS;
  while (!head.includes('\r\n\r\n') && !head.includes('\n\n')) {
    let chunk: Uint8Array | null;
    try {
      chunk = await conn.read(Infinity, Math.max(1, deadline - Date.now()));
    } catch {
      chunk = null; // no head in time, or the connection failed
    }
    if (chunk === null) return head.length ? pathOf(head) : null;
    head += dec.decode(chunk);
    if (head.length > HTTP_HEAD_MAX) return pathOf(head);
  }
  return pathOf(head);
}

function pathOf(head: string): string | null {
  const m = /^[A-Z]+ (\S+)/.exec(head);
  return m ? m[1] : null;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** A running SNMP agent. */
export class SnmpAgent {
  readonly #udp: UdpEndpoint;
  /** @internal Use {@link startSnmpAgent}. */
  constructor(udp: UdpEndpoint) { this.#udp = udp; }
  /** The UDP port it listens on. */
  get port(): number { return this.#udp.port; }
  close(): Promise<void> { return this.#udp.close(); }
}

/** Answer SNMP requests on UDP `address` from `source` (see ts/observability/snmp-agent.ts for what it answers). */
export async function startSnmpAgent(source: SnmpSource, address: { host: string; port: number }): Promise<SnmpAgent> {
  const responder = new SnmpResponder(source);
  try {
    const udp = await runtime().listenUdp(address, (data, reply) => {
      // A datagram no manager sends (over MAX_SNMP_REQUEST) is dropped unread.
      if (data.length > MAX_SNMP_REQUEST) return;
      let answer: Uint8Array | null = null;
      try { answer = responder.respond(data); } catch { answer = null; }
      if (answer) reply(answer);
    });
    return new SnmpAgent(udp);
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `snmp: cannot bind UDP ${formatAddress(address)}: ${(e as Error).message}`, { cause: e });
  }
}

/** The SNMP source of an engine: its slots and community, and the workers' request counters. */
export function engineSnmpSource(engine: Engine, sources: Pick<StatsSources, 'threads' | 'workerCounters'>): SnmpSource {
  const workers = () => (sources.threads?.() ?? []).filter((t) => t.kind === 'worker').sort((a, b) => a.ident - b.ident);
  const requests = (id: number) => BigInt(sources.workerCounters?.(id)?.requests ?? 0);
  return {
    community: () => snmpOf(engine.uwsgi.ctx).community(),
    slot: (n) => snmpOf(engine.uwsgi.ctx).get(n),
    workerRequests: () => {
      const ws = workers();
      const max = ws.reduce((m, t) => Math.max(m, t.ident), 0);
      const out: bigint[] = [];
      for (let id = 1; id <= max; id++) out.push(requests(id));
      return out;
    },
    totalRequests: () => workers().reduce((n, t) => n + requests(t.ident), 0n),
  };
}

/**
 * Everything the stats document reads from `engine`: the worker status table,
 * the signal table, the spoolers, the listeners; `threads` is the master's
 * thread table (without it there are no workers or mules). A master's services
 * use it; an engine without a master (`createEngine`) can too:
 * `collectStats(engineStatsSources(engine))`.
 */
export function engineStatsSources(engine: Engine, threads?: StatsSources['threads']): StatsSources {
  return {
    engine, threads, noCores: engine.shared.config.statsNoCores,
    workerCounters: statusTableCounters(engine),
    signals: () => signalRows(engine.uwsgi.ctx),
    spoolers: () => (engine.shared.config.spooler.dirs.length ? spoolerOf(engine.uwsgi.ctx).stats() : undefined),
    sockets: () => {
      const lc = engine.shared.config.listen;
      return lc.listeners.map((l) => ({ name: l.address, proto: l.protocol, queue: listenQueueOf(engine.uwsgi.ctx, l.id), max_queue: lc.backlog, shared: 0, can_offload: 0 }));
    },
  };
}

/**
 * The stats server and SNMP agent of a master, started from its options.
 * `workerCounters` and `signals` are where the worker status table and the
 * signal table plug in.
 */
export class MasterServices {
  readonly #engine: Engine;
  readonly #sources: StatsSources;
  #stats?: StatsServer;
  #snmp?: SnmpAgent;
  /** The master's latest log lines (respawns, harakiri...), for the `log` section and the dashboard's tail. */
  readonly #log: string[] = [];

  constructor(engine: Engine, threads: StatsSources['threads']) {
    this.#engine = engine;
    this.#sources = { ...engineStatsSources(engine, threads), log: () => [...this.#log] };
  }

  /** What the stats document and the SNMP agent read (collectors take it as is). */
  get sources(): StatsSources { return this.#sources; }

  /** Keep `line` (one of the master's log lines) among the last {@link LOG_TAIL} the stats document shows. */
  recordLog(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_TAIL) this.#log.splice(0, this.#log.length - LOG_TAIL);
  }

  /** Plug in the per-worker counters (the worker status table). */
  setWorkerCounters(fn: (id: number) => WorkerCounters | undefined): void { this.#sources.workerCounters = fn; }

  /** The running stats server, if `--stats` was given. */
  get stats(): StatsServer | undefined { return this.#stats; }
  /** The running SNMP agent, if `--snmp=ADDR` was given. */
  get snmp(): SnmpAgent | undefined { return this.#snmp; }

  /** Start what the options ask for. On failure nothing stays open. */
  async start(): Promise<void> {
    const cfg = this.#engine.shared.config;
    try {
      if (cfg.stats) this.#stats = await startStatsServer(this.#sources, { address: cfg.stats, http: cfg.statsHttp, minified: cfg.statsMinified });
      if (cfg.snmp && cfg.snmp !== true && cfg.snmp.path === undefined) this.#snmp = await startSnmpAgent(engineSnmpSource(this.#engine, this.#sources), cfg.snmp);
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  async close(): Promise<void> {
    const s = this.#stats, a = this.#snmp;
    this.#stats = undefined;
    this.#snmp = undefined;
    await Promise.all([s?.close(), a?.close()]);
  }
}

/**
 * Per-worker counters for the stats document and the SNMP agent, read from the
 * process status table (`workers()`'s source). One read of the table serves a
 * whole document: rows are cached for 5 ms.
 */
export function statusTableCounters(engine: Engine): (id: number) => WorkerCounters | undefined {
  const text = new TextDecoder();
  let at = -Infinity;
  let rows: WorkerStats[] = [];
  return (id) => {
    const now = performance.now();
    if (now - at > 5) { rows = processOf(engine.uwsgi.ctx).workerStats(); at = now; }
    const w = rows[id - 1];
    if (!w) return undefined;
    const row = engine.uwsgi.ctx.x.wk_row(ThreadKind.worker, id);
    return {
      last_rt: row > 0 ? engine.uwsgi.ctx.x.wk_get(row, RowField.LAST_RT) : 0,
      requests: w.requests, delta_requests: w.delta_requests, exceptions: w.exceptions, harakiri_count: w.harakiri_count, grunts: w.grunts,
      signals: w.signals, status: text.decode(w.status), rss: w.rss, vsz: w.vsz, running_time: w.running_time, tx: w.tx, avg_rt: w.avg_rt,
      apps: w.apps.map((a) => ({
        id: a.id, modifier1: a.modifier1, mountpoint: text.decode(a.mountpoint), startup_time: a.startup_time,
        requests: a.requests, exceptions: a.exceptions, chdir: text.decode(a.chdir),
      })),
    };
  };
}
