/**
 * The stats document (`--stats`): uWSGI 2.0.21's JSON, so tools such as
 * uwsgitop read it, with this project's extra sections. One collector function
 * per top-level key, in uWSGI's emission order, then the extras; each reads
 * the shared memory or the master's thread table at the moment it is called.
 * @module
 */
import type { Engine } from '../kernel/engine.ts';
import { runtime } from '../platform/index.ts';
import { VERSION } from '../kernel/version.ts';
import { cachesOf } from '../cache/cache.ts';
import { snmpOf } from './snmp.ts';
import { SNMP_SLOTS } from '../kernel/abi.ts';

/** A JSON value of the document (bigint for 64-bit counters). */
export type StatsValue = string | number | bigint | boolean | null | StatsValue[] | { [key: string]: StatsValue };

/** One thread the master runs, as its thread table says (ts/process/master.ts `threadRows`). */
export interface ThreadRow {
  kind: 'worker' | 'mule' | 'spooler';
  /** Worker id (1..N) or mule id (1..M). */
  ident: number;
  /** Thread slot in the shared thread table, -1 while not running. */
  tid: number;
  /** `starting` (spawned, not attached yet), `running`, or `done` (ended, not respawned). */
  state: 'starting' | 'running' | 'done';
  /** When the current thread was started, ms since the epoch (0 before the first start). */
  spawnedAt: number;
  /** Times a thread was started for this id (1 for one never respawned, as uWSGI counts). */
  spawns: number;
  /** The file the thread runs (the app, or a mule's file). */
  file?: string;
}

/**
 * Per-worker numbers that the worker status table (`uwsgi.workers()`, issue 5)
 * provides. Every field is optional: what a source leaves out reads 0 (uWSGI's
 * value for a worker that did nothing), `status` defaults from the thread state.
 */
export interface WorkerCounters {
  requests?: number | bigint;
  delta_requests?: number | bigint;
  exceptions?: number | bigint;
  harakiri_count?: number;
  /** Requests `grunt()` detached that still run (ours). */
  grunts?: number;
  signals?: number | bigint;
  signal_queue?: number;
  /** `idle`, `busy`, `cheap`, `pause` or `sig<N>`. */
  status?: string;
  /** Bytes. */
  rss?: number;
  vsz?: number;
  /** Microseconds spent in requests. */
  running_time?: number | bigint;
  tx?: number | bigint;
  /** Microseconds. */
  avg_rt?: number;
  apps?: StatsValue[];
  cores?: StatsValue[];
}

/** What the collectors read. */
export interface StatsSources {
  engine: Engine;
  /** The master's thread table (absent for an engine without a master: no workers). */
  threads?: () => ThreadRow[];
  /** Per-worker counters by worker id (the worker status table, when there is one). */
  workerCounters?: (id: number) => WorkerCounters | undefined;
  /** Registered signals (the signal table, when there is one): the `signals` section. */
  signals?: () => StatsValue[];
  /** Listening sockets (the protocol servers, when there are any): the `sockets` section. */
  sockets?: () => StatsValue[];
  /** Configured spoolers: the `spoolers` section, emitted only when it returns an array. */
  spoolers?: () => StatsValue[] | undefined;
  /** Omit each worker's `cores` array (`--stats-no-cores`). */
  noCores?: boolean;
}

/** A collector: the value of one top-level key, or undefined to leave the key out. */
export type Collector = (s: StatsSources) => StatsValue | undefined;

const ids = (): { uid: number; gid: number } => runtime().ids();

function workerRows(s: StatsSources): ThreadRow[] {
  return (s.threads?.() ?? []).filter((t) => t.kind === 'worker').sort((a, b) => a.ident - b.ident);
}

/** uWSGI's worker object, in its key order, from the thread table and the counters. */
function workerObject(s: StatsSources, t: ThreadRow): { [key: string]: StatsValue } {
  const c = s.workerCounters?.(t.ident) ?? {};
  const running = t.state === 'running';
  const o: { [key: string]: StatsValue } = {
    id: t.ident,
    pid: s.engine.shared.masterPid,
    accepting: running ? 1 : 0,
    requests: c.requests ?? 0,
    delta_requests: c.delta_requests ?? 0,
    exceptions: c.exceptions ?? 0,
    harakiri_count: c.harakiri_count ?? 0,
    signals: c.signals ?? 0,
    signal_queue: c.signal_queue ?? 0,
    status: c.status ?? (running ? 'idle' : 'cheap'),
    rss: c.rss ?? 0,
    vsz: c.vsz ?? 0,
    running_time: c.running_time ?? 0,
    last_spawn: Math.floor(t.spawnedAt / 1000),
    respawn_count: t.spawns,
    tx: c.tx ?? 0,
    avg_rt: c.avg_rt ?? 0,
    apps: c.apps ?? [],
  };
  if (!s.noCores) o.cores = c.cores ?? [];
  // Ours, after uWSGI's keys: the thread slot and its state in the thread table.
  o.tid = t.tid;
  o.thread_state = t.state;
  o.grunts = c.grunts ?? 0;
  return o;
}

/** Every top-level key with its collector, in emission order: uWSGI's keys, then ours. */
export const COLLECTORS: ReadonlyArray<readonly [string, Collector]> = [
  ['version', () => VERSION],
  ['signal_queue', (s) => {
    // Pending signals of the master's queue, once signals exist; nothing pends without them.
    const rows = s.signals?.() ?? [];
    return rows.reduce<number>((n, r) => n + (typeof r === 'object' && r && !Array.isArray(r) && typeof r.pending === 'number' ? r.pending : 0), 0);
  }],
  ['load', (s) => workerRows(s).filter((t) => (s.workerCounters?.(t.ident)?.status ?? 'idle') === 'busy').length],
  ['pid', (s) => s.engine.shared.masterPid],
  ['uid', () => ids().uid],
  ['gid', () => ids().gid],
  ['cwd', (s) => s.engine.shared.cwd],
  ['locks', (s) => {
    const x = s.engine.uwsgi.ctx.x;
    const out: StatsValue[] = [];
    // uWSGI's form: one {"<name>": holder pid or 0} per lock. Every thread is in this process.
    for (let i = 0; i < x.lock_count(); i++) out.push({ [`user ${i}`]: x.lock_holder(i) >= 0 ? s.engine.shared.masterPid : 0 });
    return out;
  }],
  ['caches', (s) => {
    const cfg = s.engine.shared.config.caches;
    if (cfg.length === 0) return undefined;
    const api = cachesOf(s.engine.uwsgi.ctx);
    return cfg.map((c, i) => {
      const st = api.stats(i);
      return {
        name: c.name, hash: c.hash, hashsize: c.hashsize, keysize: c.keysize, max_items: c.items, blocks: c.blocks,
        blocksize: c.blocksize, items: st.items, hits: st.hits, miss: st.miss, full: st.full,
        // uWSGI tracks it only with `lastmod=1`, which uwsgi-wasm does not build: uWSGI's default 0.
        last_modified_at: 0,
        repairs: st.repairs,
      };
    });
  }],
  ['sockets', (s) => s.sockets?.() ?? []],
  ['workers', (s) => workerRows(s).map((t) => workerObject(s, t))],
  ['spoolers', (s) => s.spoolers?.()],
  // ---- ours --------------------------------------------------------------------
  ['mules', (s) => {
    const rows = (s.threads?.() ?? []).filter((t) => t.kind === 'mule').sort((a, b) => a.ident - b.ident);
    if (rows.length === 0) return undefined;
    return rows.map((t) => ({
      id: t.ident, pid: s.engine.shared.masterPid, tid: t.tid, file: t.file ?? null, thread_state: t.state,
      last_spawn: Math.floor(t.spawnedAt / 1000), respawn_count: t.spawns,
    }));
  }],
  ['queue', (s) => {
    const cfg = s.engine.shared.config;
    if (cfg.queue === 0) return undefined;
    const x = s.engine.uwsgi.ctx.x;
    return { slots: cfg.queue, blocksize: cfg.queueBlocksize, push_slot: x.queue_slot(), pull_slot: x.queue_pull_slot() };
  }],
  ['sharedareas', (s) => {
    const x = s.engine.uwsgi.ctx.x;
    const out: StatsValue[] = [];
    for (let i = 0; i < x.sa_count(); i++) out.push({ id: i, size: x.sa_size(i), updates: x.sa_updates(i), hits: x.sa_hits(i) });
    return out.length ? out : undefined;
  }],
  ['signals', (s) => s.signals?.()],
  ['snmp', (s) => {
    const snmp = snmpOf(s.engine.uwsgi.ctx);
    const slots: StatsValue[] = [];
    for (let n = 1; n <= SNMP_SLOTS; n++) {
      const v = snmp.get(n);
      if (v.type) slots.push({ oid: `1.3.6.1.4.1.35156.17.2.${n}`, slot: n, type: v.type, value: v.value });
    }
    return { agent: s.engine.shared.config.snmp === undefined ? null : 'enabled', community_set: snmp.community().length > 0, slots };
  }],
  ['memory', (s) => {
    const m = runtime().memoryUsage();
    return { rss: m.rss, vsz: m.vsz, shared: s.engine.memory.buffer.byteLength };
  }],
];

/** The whole document as a JS object (bigint counters kept exact). */
export function collectStats(s: StatsSources): { [key: string]: StatsValue } {
  const doc: { [key: string]: StatsValue } = {};
  for (const [key, collect] of COLLECTORS) {
    const v = collect(s);
    if (v !== undefined) doc[key] = v;
  }
  return doc;
}

/**
 * JSON text in uWSGI's layout: tab indentation, no space after the colon, no
 * trailing newline (`minified`: no whitespace at all). Unlike uWSGI, strings
 * are escaped, so a path with a quote still gives valid JSON.
 */
export function renderStats(doc: StatsValue, minified = false): string {
  const nl = minified ? '' : '\n';
  const tabs = (n: number) => (minified ? '' : '\t'.repeat(n));
  const render = (v: StatsValue, depth: number): string => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (v === null || typeof v !== 'object') return JSON.stringify(v);
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      return `[${nl}${v.map((x) => tabs(depth + 1) + render(x, depth + 1)).join(`,${nl}`)}${nl}${tabs(depth)}]`;
    }
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    return `{${nl}${keys.map((k) => `${tabs(depth + 1)}${JSON.stringify(k)}:${render(v[k], depth + 1)}`).join(`,${nl}`)}${nl}${tabs(depth)}}`;
  };
  return render(doc, 0);
}
