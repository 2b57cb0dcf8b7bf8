/**
 * Options, named as in uWSGI, from a JS object, a command line or a uWSGI-style
 * `.ini` file. Unknown options are refused; options of subsystems not built yet
 * are accepted and recorded in `opt`.
 * @module
 */
import { UwsgiError } from './errors.ts';
import { allValues, intValue, lastValue, optionError } from './option-values.ts';
import { LISTEN_OPTIONS, type ListenConfig, listenConfig } from '../server/listen.ts';
import { SPOOLER_OPTIONS, type SpoolerConfig, spoolerConfig } from '../spooler/config.ts';
import { SERVICE_RULES, type SocketAddress, parseAddress } from '../protocol/address.ts';
import { CLUSTER_OPTIONS, type CachePeers, type ClusterConfig, cachePeers, clusterConfig } from '../cluster/config.ts';
import { ERLANG_OPTIONS, type ErlangConfig, erlangConfig } from '../erlang/config.ts';

/** A value as given: a string, `true` for a flag, or a list for a repeated option. */
export type OptionValue = string | number | boolean | Array<string | number>;

/** Options as a JS object: uWSGI's option names as keys (`{ workers: 2, 'buffer-size': 8192 }`). */
export interface Options {
  /** Worker threads the master starts (`--workers`, alias `--processes`, `-p`). Default 1. */
  workers?: number;
  processes?: number;
  /** Accepted for uWSGI configs; `uwsgi.run()` always has a master. */
  master?: boolean;
  /** `--locks N`: N+1 user locks, numbered 0..N (lock 0 always exists). Default 0. */
  locks?: number;
  /**
   * `--sharedarea`: one entry per area, in id order. A number is a count of 4096-byte
   * pages; a string may also be `pages=N` or `size=BYTES` (decimal or 0x hex).
   */
  sharedarea?: number | string | Array<number | string>;
  /** `--queue N`: slots of the shared queue (default 0: no queue; at most 1,000,000). */
  queue?: number;
  /**
   * `--queue-blocksize B`: bytes per queue slot, including a 16-byte header, so a
   * message holds at most B-16 bytes. Default 8192; 17..16 MiB.
   */
  'queue-blocksize'?: number;
  /** `--rpc-max N`: how many RPC functions can be registered at once, across all threads (default 64). */
  'rpc-max'?: number;
  /**
   * `--mules N`: add N plain mules (they run no file; they take messages and drop
   * them, as uWSGI's signal mules do). Repeatable; adds up. Mule ids follow option order.
   */
  mules?: number | number[];
  /** `--mule file.js`: add one mule running that file (`true`: a plain mule). Repeatable. */
  mule?: string | true | Array<string>;
  /** `--farm name:1,2`: a farm (a named group of mules sharing one mailbox). Repeatable. */
  farm?: string | string[];
  /**
   * `--max-mules N` (ours): the most mules there can be, those `mule_spawn()` starts at run
   * time included (default: the configured mules, so none can be added). Each id costs a
   * mailbox (8 × 64 KiB), a thread slot and a status row, laid out at start.
   */
  'max-mules'?: number;
  /** `--buffer-size`: the uwsgi packet buffer, in bytes (default 4096, max 65535). */
  'buffer-size'?: number;
  /** Thread slots reserved beyond the master, workers, mules and spoolers, for threads an embedder attaches (default 8). */
  'extra-threads'?: number;
  /** `--spooler DIR` (`-Q`): a spool directory served by spooler threads (created 0750 if missing). Repeatable; the first is the default target. */
  spooler?: string | string[];
  /** `--spooler-external DIR`: a spool directory tasks are written to but that no thread here serves. Repeatable. */
  'spooler-external'?: string | string[];
  /** `--spooler-processes N`: spooler threads per directory (default 1, at most 64). */
  'spooler-processes'?: number;
  /** `--spooler-frequency S` (alias `spooler-freq`): seconds between scans when nothing wakes the spooler (default 30). */
  'spooler-frequency'?: number;
  /** `--spooler-ordered`: scan in natural order (priority 1, 2, 10, then unprioritised tasks). */
  'spooler-ordered'?: boolean;
  /** `--spooler-quiet`: no log line per task. */
  'spooler-quiet'?: boolean;
  /** `--spooler-max-tasks N`: recycle a spooler thread after N tasks (default 0: never). */
  'spooler-max-tasks'?: number;
  /** `--spooler-harakiri S`: kill a spooler thread whose task runs longer than S seconds (default 0: never). */
  'spooler-harakiri'?: number;
  /** `--spooler-import FILE`: files the spooler threads import instead of the app. Repeatable. */
  'spooler-import'?: string | string[];
  /** `--spooler-packet-rate N`: spool packets (modifier 17) the engine accepts per second; more are refused (default 100, 0: no limit). */
  'spooler-packet-rate'?: number;
  /** `--spooler-max-bytes N`: a spool packet is refused while its spool directory holds N bytes or more (default 64 MiB, 0: no limit). */
  'spooler-max-bytes'?: number;
  /** `--erlang NAME` (`name` or `name@host`): run an Erlang distribution node (ts/erlang/). */
  erlang?: string;
  /** `--erlang-cookie`: the node's cookie (default: `~/.erlang.cookie`, as `erl`). */
  'erlang-cookie'?: string;
  /** Every other option of uWSGI that this project knows; see {@link KNOWN_OPTIONS}. */
  [name: string]: OptionValue | undefined;
}

interface OptionSpec {
  /** `flag` takes no value; `list` may repeat; `value` keeps the last one. */
  kind: 'flag' | 'value' | 'list';
  /** Built and meaningful in this version (others are recorded only). */
  built: boolean;
  /** Canonical name when this one is an alias. */
  alias?: string;
}

/** Every option name this project accepts, with whether it is built yet. */
export const KNOWN_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  workers: { kind: 'value', built: true },
  processes: { kind: 'value', built: true, alias: 'workers' },
  p: { kind: 'value', built: true, alias: 'workers' },
  master: { kind: 'flag', built: true },
  locks: { kind: 'value', built: true },
  sharedarea: { kind: 'list', built: true },
  A: { kind: 'list', built: true, alias: 'sharedarea' },
  'buffer-size': { kind: 'value', built: true },
  b: { kind: 'value', built: true, alias: 'buffer-size' },
  'extra-threads': { kind: 'value', built: true },
  // Each `mules` adds that many plain mules, each `mule` one (running a file if given): ids in option order.
  mules: { kind: 'list', built: true },
  mule: { kind: 'list', built: true },
  farm: { kind: 'list', built: true },
  'max-mules': { kind: 'value', built: true },
  'die-on-term': { kind: 'flag', built: true },
  ini: { kind: 'list', built: true },
  // uWSGI options that name a Python plugin or app: recorded so configs carry over.
  plugin: { kind: 'list', built: true },
  plugins: { kind: 'list', built: true, alias: 'plugin' },
  'wsgi-file': { kind: 'value', built: true },
  cache2: { kind: 'list', built: true },
  cache: { kind: 'value', built: true },
  'cache-blocksize': { kind: 'value', built: true },
  'cache-expire-freq': { kind: 'value', built: true },
  'cache-no-expire': { kind: 'flag', built: true },
  // The legacy cache's store file, and the default store_sync of every cache (seconds).
  'cache-store': { kind: 'value', built: true },
  'cache-store-sync': { kind: 'value', built: true },
  queue: { kind: 'value', built: true },
  'queue-blocksize': { kind: 'value', built: true },
  'queue-store': { kind: 'value', built: false },
  'queue-store-sync': { kind: 'value', built: false },
  harakiri: { kind: 'value', built: true },
  // Process control and logging (ts/process/process.ts).
  logto: { kind: 'value', built: true },
  'memory-report': { kind: 'flag', built: true },
  socket: { kind: 'list', built: true },
  s: { kind: 'list', built: true, alias: 'socket' },
  'http-socket': { kind: 'list', built: true },
  // Listeners (ts/server/listen.ts): accept backlog, body and idle limits, what remote packets may do.
  listen: { kind: 'value', built: true },
  l: { kind: 'value', built: true, alias: 'listen' },
  'limit-post': { kind: 'value', built: true },
  'socket-timeout': { kind: 'value', built: true },
  'remote-cache': { kind: 'value', built: true },
  'remote-rpc': { kind: 'value', built: true },
  'remote-signal': { kind: 'value', built: true },
  'remote-spool': { kind: 'value', built: true },
  ...LISTEN_OPTIONS,
  // Refused with ERR_UNSUPPORTED when given: FastCGI is not served.
  'fastcgi-socket': { kind: 'list', built: false },
  // The spooler's options (ts/spooler/config.ts).
  ...SPOOLER_OPTIONS,
  // The stats server and the SNMP agent (ts/observability/stats.ts, ts/observability/snmp-agent.ts).
  stats: { kind: 'value', built: true },
  'stats-server': { kind: 'value', built: true, alias: 'stats' },
  'stats-http': { kind: 'flag', built: true },
  'stats-minified': { kind: 'flag', built: true },
  'stats-min': { kind: 'flag', built: true, alias: 'stats-minified' },
  'stats-no-cores': { kind: 'flag', built: true },
  snmp: { kind: 'value', built: true },
  'snmp-community': { kind: 'value', built: true },
  'rpc-max': { kind: 'value', built: true },
  mount: { kind: 'list', built: true },
  // The Erlang distribution node (ts/erlang/config.ts).
  ...ERLANG_OPTIONS,
  'enable-metrics': { kind: 'flag', built: false },
  // The cluster: multicast membership, router subscriptions, cache replication (ts/cluster/config.ts).
  ...CLUSTER_OPTIONS,
};

/**
 * One cache (`--cache2 name=...,items=...`), after validation. Sizes in bytes.
 * Its replication keys (`nodes=`, `udp=`, `sync=`) are {@link CachePeers}.
 */
export interface CacheConfig extends CachePeers {
  /** Cache name (required). Several caches may share a name; lookups find the first. */
  name: string;
  /** Item slots; slot 0 is reserved, so `items - 1` items fit (as in uWSGI). */
  items: number;
  /** Bytes per data block (default 65536). */
  blocksize: number;
  /** Data blocks (default `items`); at least `items`. */
  blocks: number;
  /** Largest key in bytes (default 2048, 1..65534). */
  keysize: number;
  /** `djb33x` (default) or `murmur2`. */
  hash: 'djb33x' | 'murmur2';
  /** Hash buckets (default 65536). */
  hashsize: number;
  /** Variable-size values over contiguous blocks found in a bitmap (max value = blocksize × blocks). */
  bitmap: boolean;
  /** When full, evict the least recently used item. */
  purgeLru: boolean;
  /** Check expiry on lookup (and skip the sweeper). */
  lazyExpire: boolean;
  /** When full, delete expired items, at most once per this many seconds (0 = off). */
  sweepOnFull: number;
  /** When full (and nothing swept), delete every item. */
  clearOnFull: boolean;
  /** uWSGI only silences its "cache is FULL" log line with it; accepted for configs. */
  ignoreFull: boolean;
  /** The sweeper skips this cache. */
  noExpire: boolean;
  /** Start value of inc/dec/mul/div on a missing key (default 0). */
  mathInitial: number;
  /**
   * `store=PATH`: a file the cache is loaded from when the engine starts and
   * written to (atomically) by the master every `storeSync` seconds and when it
   * stops; null: no file.
   */
  store: string | null;
  /** `store_sync=N`: seconds between two writes of the store by the master; 0: only when it stops (default `--cache-store-sync`, 0). */
  storeSync: number;
  /** `store_delete`: a store file that cannot be loaded (other layout, corrupt) is deleted and the cache starts empty, instead of an error. */
  storeDelete: boolean;
  /**
   * `near_items=N` (beyond uWSGI): keys whose value each thread remembers (its
   * near cache, ts/cache/cache.ts), default 16384; 0 turns the near cache off.
   * Never used with `purge_lru` (a get there must move the item).
   */
  nearItems: number;
  /** `near_bytes=N` (beyond uWSGI): value bytes each thread's near cache holds at most, default 8 MiB; 0 turns it off. */
  nearBytes: number;
  /** `near_check` (beyond uWSGI, for debugging): each near-cache hit first checks that the caller did not modify the value it was handed. */
  nearCheck: boolean;
}

/** Options after validation: what the engine is laid out from. */
export interface Config {
  workers: number;
  locks: number;
  /** Size in bytes of each shared area, in id order. */
  sharedareas: number[];
  bufferSize: number;
  extraThreads: number;
  /** Slots of the shared queue (`--queue`); 0: no queue. */
  queue: number;
  /** Bytes per queue slot, its 16-byte header included (`--queue-blocksize`, default 8192). */
  queueBlocksize: number;
  /** Functions the RPC registry holds (`--rpc-max`, default 64). */
  rpcMax: number;
  /** One entry per mule, in id order (mule id = index + 1): the file it runs, or null for a plain mule. */
  mules: Array<string | null>;
  /** Farms in option order, each with its mule ids (1-based). */
  farms: Array<{ name: string; mules: number[] }>;
  /** Mule ids with a mailbox (`--max-mules`, at least `mules.length`): ids past the configured mules are for `mule_spawn()`. */
  maxMules: number;
  /** Caches in creation order: the legacy `--cache N` first, then each `--cache2`. The first is the default cache. */
  caches: CacheConfig[];
  /** Seconds between two sweeps of expired cache items by the master (`--cache-expire-freq`, default 3). */
  cacheExpireFreq: number;
  /** `--cache-no-expire`: the master never sweeps. */
  cacheNoExpire: boolean;
  /** Every option as given, canonical names, in the order given (last value for single options). */
  given: Array<[string, string | true]>;
  /** The app file (command-line positional argument), if any. */
  app?: string;
  /** The listeners (`--socket`, `--http-socket`), mounts, their limits and what remote packets may do. */
  listen: ListenConfig;
  /** `--harakiri N`: seconds a worker may spend in one request before the master kills it (0: never). */
  harakiri: number;
  /** `--logto FILE`: where log lines go (none: stderr). */
  logto?: string;
  /** `--memory-report`: the master fills the workers' rss/vsz. */
  memoryReport: boolean;
  /** Spool directories and spooler threads (`--spooler`, `--spooler-external`, `--spooler-processes`...). */
  spooler: SpoolerConfig;
  /** `--snmp=ADDR`: the UDP address the master's SNMP agent binds; `true` for `--snmp` without an address (slots only). */
  snmp?: SocketAddress | true;
  /** `--snmp-community`: the community the agent answers (at most 72 bytes; none: it answers nobody until `snmp_set_community`). */
  snmpCommunity?: string;
  /** `--stats ADDR`: where the master serves the stats JSON (`host:port` TCP, else a UNIX socket path). */
  stats?: SocketAddress;
  /** `--stats-http`: answer stats clients over HTTP (and serve the dashboard at `/dashboard`). */
  statsHttp: boolean;
  /** `--stats-minified`: no tabs or newlines in the JSON. */
  statsMinified: boolean;
  /** `--stats-no-cores`: leave out each worker's `cores` array. */
  statsNoCores: boolean;
  /** The cluster: `--cluster`, subscriptions to routers, who may write to caches over UDP. */
  cluster: ClusterConfig;
  /** `--erlang` and `--erlang-cookie`: the Erlang distribution node the master runs (absent: none). */
  erlang?: ErlangConfig;
}

const PAGE_SIZE = 4096;


function canonical(name: string): [string, OptionSpec] {
  const spec = KNOWN_OPTIONS[name];
  if (!spec) optionError(`unknown option '${name}'`);
  return spec.alias ? [spec.alias, KNOWN_OPTIONS[spec.alias]] : [name, spec];
}

function toStr(name: string, v: unknown): string | true {
  if (v === true) return true;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  optionError(`option '${name}': expected a string, number or true, got ${v === null ? 'null' : typeof v}`);
}

/** Flatten any accepted form into (name, value) pairs with canonical names. */
export function pairsFromObject(opts: Options): Array<[string, string | true]> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) optionError('options must be an object');
  const out: Array<[string, string | true]> = [];
  for (const [rawName, value] of Object.entries(opts)) {
    if (value === undefined || value === false) continue;
    const [name, spec] = canonical(rawName);
    if (Array.isArray(value)) {
      if (spec.kind !== 'list') optionError(`option '${rawName}' does not take a list`);
      for (const v of value) out.push([name, toStr(rawName, v)]);
    } else {
      if (spec.kind === 'flag' && value !== true && value !== 'true' && value !== 1 && value !== '1') {
        optionError(`option '${rawName}' is a flag: use true`);
      }
      out.push([name, spec.kind === 'flag' ? true : toStr(rawName, value)]);
    }
  }
  return out;
}

/**
 * Parse command-line arguments (`--workers 2 --cache2 name=a,items=10 app.js`).
 * `--name=value` and `--name value` are both accepted; flags take no value.
 * Returns the options and the positional app path.
 */
export function parseArgv(argv: readonly string[]): { pairs: Array<[string, string | true]>; app?: string } {
  const pairs: Array<[string, string | true]> = [];
  let app: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('-') && a.length > 1) {
      const body = a.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const rawName = eq >= 0 ? body.slice(0, eq) : body;
      const [name, spec] = canonical(rawName);
      if (spec.kind === 'flag') {
        if (eq >= 0) optionError(`option '--${rawName}' is a flag and takes no value`);
        pairs.push([name, true]);
      } else if (eq >= 0) {
        pairs.push([name, body.slice(eq + 1)]);
      } else {
        if (i + 1 >= argv.length) optionError(`option '--${rawName}' needs a value`);
        pairs.push([name, argv[++i]]);
      }
    } else if (app === undefined) {
      app = a;
    } else {
      optionError(`unexpected argument '${a}' (the app file is already '${app}')`);
    }
  }
  return { pairs, app };
}

/** Parse a uWSGI-style ini text; only the `[uwsgi]` section is read. */
export function parseIni(text: string, source = 'ini'): Array<[string, string | true]> {
  const pairs: Array<[string, string | true]> = [];
  let inSection = false;
  text.split(/\r?\n/).forEach((line, n) => {
    const t = line.trim();
    if (t === '' || t.startsWith(';') || t.startsWith('#')) return;
    const sec = /^\[(.+)\]$/.exec(t);
    if (sec) { inSection = sec[1].trim() === 'uwsgi'; return; }
    if (!inSection) return;
    const eq = t.indexOf('=');
    const rawName = (eq >= 0 ? t.slice(0, eq) : t).trim();
    if (rawName === '') optionError(`${source}:${n + 1}: missing option name`);
    const [name, spec] = canonical(rawName);
    const value = eq >= 0 ? t.slice(eq + 1).trim() : 'true';
    if (spec.kind === 'flag') {
      if (!/^(true|1|yes|on)?$/i.test(value)) return; // 'false'/'0' leaves the flag off
      pairs.push([name, true]);
    } else {
      pairs.push([name, value]);
    }
  });
  return pairs;
}

function sharedareaSize(spec: string): number {
  if (/^\s*\d+\s*$/.test(spec)) return intValue('sharedarea', spec, 0, 1, 65535) * PAGE_SIZE;
  let size: number | undefined;
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const val = part.slice(eq + 1).trim();
    if (eq < 0) optionError(`option 'sharedarea': expected key=value, got '${part}'`);
    if (key === 'pages') size = intValue('sharedarea pages', val, 0, 1, 65535) * PAGE_SIZE;
    else if (key === 'size') size = intValue('sharedarea size', val, 0, 1, 0xffff0000);
    else if (key === 'file' || key === 'fd' || key === 'ptr' || key === 'offset') {
      throw new UwsgiError('ERR_UNSUPPORTED', `option 'sharedarea': '${key}=' (file- or fd-backed areas) is not supported; areas live in the shared wasm memory`);
    } else optionError(`option 'sharedarea': unknown key '${key}'`);
  }
  if (size === undefined) optionError(`option 'sharedarea': one of pages= or size= is required in '${spec}'`);
  return size;
}

const CACHE_KEYS: Record<string, string> = {
  name: 'name', items: 'items', max_items: 'items', maxitems: 'items', blocksize: 'blocksize', blocks: 'blocks',
  keysize: 'keysize', key_size: 'keysize', hash: 'hash', hashsize: 'hashsize', hash_size: 'hashsize',
  bitmap: 'bitmap', purge_lru: 'purge_lru', lru: 'purge_lru', lazy_expire: 'lazy_expire', lazy: 'lazy_expire',
  sweep_on_full: 'sweep_on_full', clear_on_full: 'clear_on_full', ignore_full: 'ignore_full', no_expire: 'no_expire',
  math_initial: 'math_initial', lastmod: 'lastmod', near_items: 'near_items', near_bytes: 'near_bytes', near_check: 'near_check',
  store: 'store', store_sync: 'store_sync', storesync: 'store_sync', store_delete: 'store_delete', storedelete: 'store_delete',
  node: 'nodes', nodes: 'nodes', udp: 'udp', udp_server: 'udp', udp_servers: 'udp',
  udpserver: 'udp', udpservers: 'udp', sync: 'sync',
};

function cacheInt(key: string, v: string, min: number, max: number): number {
  return intValue(`cache2 ${key}`, v, 0, min, max);
}

/** Parse one `--cache2` value (uWSGI's key=value list; boolean keys are on by presence). */
export function parseCache2(spec: string, defaultStoreSync = 0): CacheConfig {
  const kv = new Map<string, string>();
  for (const part of spec.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    const raw = (eq < 0 ? part : part.slice(0, eq)).trim();
    const key = CACHE_KEYS[raw];
    if (!key) optionError(`option 'cache2': unknown key '${raw}' in '${spec}'`);
    kv.set(key, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  const name = kv.get('name');
  if (!name) optionError(`option 'cache2': 'name=' is required in '${spec}'`);
  if (name.includes('@')) optionError(`option 'cache2': a cache name cannot contain '@' ('${name}')`);
  if (!kv.has('items')) optionError(`option 'cache2': 'items=' is required in '${spec}'`);
  const items = cacheInt('items', kv.get('items')!, 1, 0x7fffffff);
  const blocks = kv.has('blocks') ? cacheInt('blocks', kv.get('blocks')!, 1, 0x7fffffff) : items;
  if (blocks < items) optionError(`option 'cache2': invalid number of cache blocks (${blocks} < items ${items})`);
  const hash = kv.get('hash') ?? 'djb33x';
  if (hash !== 'djb33x' && hash !== 'murmur2') {
    if (hash === 'random' || hash === 'rand' || hash === 'rr') throw new UwsgiError('ERR_UNSUPPORTED', `option 'cache2': hash '${hash}' cannot find keys again; use djb33x or murmur2`);
    optionError(`option 'cache2': unknown hash '${hash}' (djb33x or murmur2)`);
  }
  const mi = kv.get('math_initial');
  let mathInitial = 0;
  if (mi !== undefined) {
    if (!/^\s*-?\d+\s*$/.test(mi) || !Number.isSafeInteger(Number(mi))) optionError(`option 'cache2': math_initial must be an integer, got '${mi}'`);
    mathInitial = Number(mi);
  }
  return {
    name,
    items,
    blocksize: kv.has('blocksize') ? cacheInt('blocksize', kv.get('blocksize')!, 1, 0x7fffffff) : 65536,
    blocks,
    keysize: kv.has('keysize') ? cacheInt('keysize', kv.get('keysize')!, 1, 65534) : 2048,
    hash,
    hashsize: kv.has('hashsize') ? cacheInt('hashsize', kv.get('hashsize')!, 1, 0x3fffffff) : 65536,
    bitmap: kv.has('bitmap'),
    purgeLru: kv.has('purge_lru'),
    lazyExpire: kv.has('lazy_expire'),
    sweepOnFull: kv.has('sweep_on_full') ? cacheInt('sweep_on_full', kv.get('sweep_on_full')!, 0, 0x7fffffff) : 0,
    clearOnFull: kv.has('clear_on_full'),
    ignoreFull: kv.has('ignore_full'),
    noExpire: kv.has('no_expire'),
    mathInitial,
    store: cacheStore(kv.get('store')),
    storeSync: kv.has('store_sync') ? cacheInt('store_sync', kv.get('store_sync')!, 0, 86400) : defaultStoreSync,
    storeDelete: kv.has('store_delete'),
    nearItems: kv.has('near_items') ? cacheInt('near_items', kv.get('near_items')!, 0, 0x7fffffff) : 16384,
    nearBytes: kv.has('near_bytes') ? cacheInt('near_bytes', kv.get('near_bytes')!, 0, Number.MAX_SAFE_INTEGER) : 8 * 1024 * 1024,
    nearCheck: kv.has('near_check'),
    ...cachePeers(name, kv.get('nodes'), kv.get('udp'), kv.get('sync')),
  };
}

function cacheStore(v: string | undefined): string | null {
  if (v === undefined) return null;
  if (v === '') optionError(`option 'cache2': 'store=' needs a file path`);
  return v;
}

/**
 * Validate options from any source into a {@link Config}. `pairs` are canonical
 * (name, value) pairs in order; `ini` options are expanded in place.
 */
export function configFromPairs(pairs: Array<[string, string | true]>, app?: string): Config {
  const expanded: Array<[string, string | true]> = [];
  for (const [name, value] of pairs) {
    if (name === 'ini') {
      if (value === true) optionError(`option 'ini' needs a file path`);
      expanded.push([name, value]);
      // Read lazily through the runtime binding so options.ts stays runtime-neutral.
      expanded.push(...parseIni(readFileForIni(value), value));
    } else expanded.push([name, value]);
  }
  const last = (n: string) => lastValue(expanded, n);
  const all = (n: string) => allValues(expanded, n);
  const sharedareas = all('sharedarea').map((v) => {
    if (v === true) optionError(`option 'sharedarea' needs a value`);
    return sharedareaSize(v);
  });
  const mules: Array<string | null> = [];
  for (const [k, v] of expanded) {
    if (k === 'mules') for (let i = intValue('mules', v, 0, 0, 1024); i > 0; i--) mules.push(null);
    else if (k === 'mule') mules.push(v === true || v === '' || v === 'true' ? null : v);
  }
  if (mules.length > 1024) optionError(`option 'mules': at most 1024 mules, got ${mules.length}`);
  const farms = all('farm').map((v) => farmSpec(v, mules.length));
  const maxMules = intValue('max-mules', last('max-mules'), mules.length, 0, 1024);
  if (maxMules < mules.length) optionError(`option 'max-mules': ${maxMules} is fewer than the ${mules.length} mule(s) configured`);
  for (let i = 0; i < farms.length; i++) {
    if (farms.findIndex((f) => f.name === farms[i].name) !== i) optionError(`option 'farm': farm '${farms[i].name}' is defined twice`);
  }
  const caches: CacheConfig[] = [];
  const legacy = last('cache');
  const storeSync = intValue('cache-store-sync', last('cache-store-sync'), 0, 0, 86400);
  const legacyStore = last('cache-store');
  if (legacyStore === true || legacyStore === '') optionError(`option 'cache-store' needs a file path`);
  if (legacy !== undefined) {
    const items = intValue('cache', legacy, 0, 1, 0x7fffffff);
    const blocksize = intValue('cache-blocksize', last('cache-blocksize'), 65536, 1, 0x7fffffff);
    const c = parseCache2(`name=default,items=${items},blocksize=${blocksize}`, storeSync);
    c.store = legacyStore ?? null;
    // uWSGI's legacy replication options belong to this cache.
    const sync = last('cache-sync');
    const peers = cachePeers('default', all('cache-udp-node').join(';'), all('cache-udp-server').join(';'), sync === true ? '' : sync);
    c.nodes = peers.nodes;
    c.udp = peers.udp;
    c.sync = peers.sync;
    caches.push(c);
  } else if (legacyStore !== undefined) optionError(`option 'cache-store' is for the legacy cache: give '--cache N' too, or store= in a --cache2`);
  for (const o of ['cache-udp-node', 'cache-udp-server', 'cache-sync']) {
    if (legacy === undefined && last(o) !== undefined) optionError(`option '${o}' is for the legacy cache: give '--cache N' too, or ${o === 'cache-sync' ? 'sync' : o === 'cache-udp-node' ? 'nodes' : 'udp'}= in a --cache2`);
  }
  for (const v of all('cache2')) {
    if (v === true) optionError(`option 'cache2' needs a value`);
    caches.push(parseCache2(v, storeSync));
  }
  const bufferSize = intValue('buffer-size', last('buffer-size'), 4096, 1, 65535);
  const listen = listenConfig(expanded, bufferSize, app, intValue('workers', last('workers'), 1, 1, 1024));
  const logto = last('logto');
  const stores = caches.map((c) => c.store).filter((p): p is string => p !== null);
  const twice = stores.find((p, i) => stores.indexOf(p) !== i);
  if (twice !== undefined) optionError(`option 'cache2': two caches cannot share the store file '${twice}'`);
  return {
    mules,
    farms,
    maxMules,
    workers: intValue('workers', last('workers'), 1, 1, 1024),
    locks: intValue('locks', last('locks'), 0, 0, 4096),
    sharedareas,
    bufferSize,
    extraThreads: intValue('extra-threads', last('extra-threads'), 8, 0, 1024),
    queue: intValue('queue', last('queue'), 0, 0, 1_000_000),
    rpcMax: intValue('rpc-max', last('rpc-max'), 64, 1, 65536),
    queueBlocksize: intValue('queue-blocksize', last('queue-blocksize'), 8192, 17, 16 * 1024 * 1024),
    caches,
    cacheExpireFreq: intValue('cache-expire-freq', last('cache-expire-freq'), 3, 1, 86400),
    cacheNoExpire: last('cache-no-expire') === true,
    given: expanded,
    app,
    spooler: spoolerConfig(expanded),
    listen,
    cluster: clusterConfig(expanded, listen),
    harakiri: intValue('harakiri', last('harakiri'), 0, 0, 2_147_483),
    logto: logto === true || logto === '' ? undefined : logto,
    memoryReport: last('memory-report') === true,
    ...statsSnmpConfig(last),
    ...optionalErlang(erlangConfig(expanded)),
  };
}

/** The `erlang` key only when `--erlang` is given (a config without it has no such key). */
const optionalErlang = (erlang: ErlangConfig | undefined): Pick<Config, 'erlang'> => (erlang ? { erlang } : {});

/** The `--snmp*` and `--stats*` options. */
function statsSnmpConfig(last: (n: string) => string | true | undefined): Pick<Config, 'snmp' | 'snmpCommunity' | 'stats' | 'statsHttp' | 'statsMinified' | 'statsNoCores'> {
  const snmp = last('snmp');
  const community = last('snmp-community');
  if (community === true) optionError(`option 'snmp-community' needs a value`);
  if (community !== undefined && new TextEncoder().encode(community).length > 72) optionError(`option 'snmp-community': at most 72 bytes (uWSGI truncates; uwsgi-wasm refuses)`);
  const stats = last('stats');
  if (stats === true) optionError(`option 'stats' needs an address (host:port or a UNIX socket path)`);
  return {
    snmp: snmp === undefined ? undefined : snmp === true || snmp === '' || snmp === 'true' ? true : parseAddress(snmp, { ...SERVICE_RULES, label: `option 'snmp'`, paths: false }),
    snmpCommunity: community,
    stats: stats === undefined ? undefined : parseAddress(stats, { ...SERVICE_RULES, label: `option 'stats'` }),
    statsHttp: last('stats-http') === true,
    statsMinified: last('stats-minified') === true,
    statsNoCores: last('stats-no-cores') === true,
  };
}

/** `name:1,2,3`: a farm name and the ids (1..mules) of its mules. */
function farmSpec(v: string | true, mules: number): { name: string; mules: number[] } {
  if (v === true) optionError(`option 'farm' needs a value such as 'name:1,2'`);
  const colon = v.indexOf(':');
  if (colon < 0) optionError(`option 'farm': expected 'name:1,2' (a name, a colon, mule ids), got '${v}'`);
  const name = v.slice(0, colon).trim();
  if (name === '') optionError(`option 'farm': empty farm name in '${v}'`);
  if (new TextEncoder().encode(name).length > FARM_NAME_MAX) optionError(`option 'farm': farm name '${name}' is longer than ${FARM_NAME_MAX} bytes`);
  const ids: number[] = [];
  for (const part of v.slice(colon + 1).split(',')) {
    if (part.trim() === '') continue;
    const id = intValue('farm', part, 0, 1, 1024);
    if (id > mules) optionError(`option 'farm': farm '${name}' names mule ${id}, but ${mules === 0 ? 'no mule is configured' : `mules are 1..${mules}`}`);
    if (!ids.includes(id)) ids.push(id);
  }
  if (ids.length === 0) optionError(`option 'farm': farm '${name}' has no mule ids`);
  return { name, mules: ids };
}

/** Longest farm name, in UTF-8 bytes. */
export const FARM_NAME_MAX = 255;

let iniReader: (path: string) => string = () => optionError(`option 'ini' is not available here`);
/** Installed by the engine: how `ini=` files are read on this runtime. */
export function setIniReader(fn: (path: string) => string): void { iniReader = fn; }
function readFileForIni(path: string): string {
  try { return iniReader(path); } catch (e) {
    if (e instanceof UwsgiError) throw e;
    throw new UwsgiError('ERR_OPTION', `option 'ini': cannot read '${path}': ${(e as Error).message}`);
  }
}

/** Options from a JS object. */
export function configFromOptions(opts: Options = {}): Config {
  return configFromPairs(pairsFromObject(opts));
}

/** uWSGI's `opt` dict: each option's last value (strings), flags as `true`. */
export function optDict(cfg: Config): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const [k, v] of cfg.given) out[k] = v;
  return out;
}
