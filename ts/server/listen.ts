/**
 * Listener configuration (`--socket`, `--http-socket`, `--mount`, the remote
 * packet switches and limits) read from the options. How a listener is
 * shared between the workers is the runtime binding's part
 * (`runtime().prepareListener` in the master, `listenWithTicket` in a worker).
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { LISTEN_RULES, parseAddress } from '../protocol/address.ts';
import { type GivenOptions, allValues, intValue, lastValue, onOffValue, optionError } from '../kernel/option-values.ts';
import { type ListenTicket, runtime } from '../platform/index.ts';

/**
 * The listener options beyond those options.ts lists with the others: keep-alive,
 * the connection cap, the head and body deadlines, which peers may send
 * management packets that change state.
 */
export const LISTEN_OPTIONS = {
  'http-keepalive': { kind: 'value', built: true },
  'http-native': { kind: 'flag', built: true },
  'max-connections': { kind: 'value', built: true },
  'http-headers-timeout': { kind: 'value', built: true },
  'body-timeout': { kind: 'value', built: true },
  'remote-peers': { kind: 'value', built: true },
} as const;

/** Descriptors a process keeps for itself (the core, logs, the master's sockets) when the cap is derived from its limit. */
const RESERVED_FDS = 64;
/** The default cap when the descriptor limit cannot be read, or is higher than needs be. */
const DEFAULT_MAX_CONNECTIONS = 1024;

/** One configured listener. */
export interface ListenerSpec {
  /** Position among all listeners (`--socket`s first, then `--http-socket`s), as `listen_queue(id)` counts. */
  id: number;
  /** `uwsgi`: uwsgi packets (`--socket`); `http`: HTTP/1.x (`--http-socket`). */
  protocol: 'uwsgi' | 'http';
  /** The address as given. */
  address: string;
  /** TCP host (an IPv6 address without brackets) and port; absent for a unix socket. */
  host?: string;
  port?: number;
  /** Unix socket path. */
  path?: string;
}

export type { ListenTicket };

/** Every option of the protocol subsystem, validated. */
export interface ListenConfig {
  listeners: ListenerSpec[];
  /** `--listen`: the accept backlog (default 100, as uWSGI). */
  backlog: number;
  /** `--buffer-size`: the largest uwsgi vars block / HTTP request head, in bytes. */
  bufferSize: number;
  /** `--limit-post`: the largest request body, in bytes (0 = no limit). Over it: 413. */
  limitPost: number;
  /** `--socket-timeout`: seconds a peer may stay silent while we wait for its request (default 4, as uWSGI). */
  socketTimeout: number;
  /** `--remote-cache rw|ro|off`: what cache packets (modifier 111) may do. Default rw. */
  remoteCache: 'rw' | 'ro' | 'off';
  /** `--remote-rpc on|off`: answer RPC packets (modifier 173). Default on. */
  remoteRpc: boolean;
  /** `--remote-signal on|off`: answer signal packets (modifier 110). Default on. */
  remoteSignal: boolean;
  /** `--remote-spool on|off`: answer spool packets (modifier 17). Default on. */
  remoteSpool: boolean;
  /**
   * `--remote-peers local|any`: who may send management packets that change
   * state (cache writes and clear, spool, signal, RPC). `local` (default):
   * loopback peers and unix sockets only; other peers get the refusal each
   * packet has. A deviation from uWSGI, which accepts them from any peer.
   */
  remotePeers: 'local' | 'any';
  /** `--http-keepalive N`: 0 closes every HTTP connection after its response; anything else keeps them open (default). */
  keepAlive: boolean;
  /**
   * `--http-native`: serve `--http-socket` with the runtime's own Fetch server
   * (`Deno.serve`, `Bun.serve`) instead of its node:http; Fetch apps only. On
   * Node, node:http is the runtime's own server and nothing changes.
   */
  httpNative: boolean;
  /**
   * `--max-connections N`: connections each worker holds open at once, over all
   * its listeners. Default: the process's descriptor limit, less 64, shared by the
   * workers, at most 1024.
   */
  maxConnections: number;
  /** `--http-headers-timeout S`: the whole request head (HTTP head or uwsgi vars) must arrive within S seconds (default 10). */
  headersTimeout: number;
  /** `--body-timeout S`: the whole request body must arrive within S seconds of its head (default 300). */
  bodyTimeout: number;
  /** `--mount /path=app.js`, in option order; the app given on the command line is mounted at '' (the default app). */
  mounts: Array<{ mountpoint: string; file: string }>;
}

/**
 * Read the listener options out of the options as given (`bufferSize` is the
 * validated `--buffer-size`; `app` the app file, mounted at '').
 */
export function listenConfig(given: GivenOptions, bufferSize: number, app?: string, workers = 1): ListenConfig {
  const all = (n: string) => allValues(given, n);
  const last = (n: string) => lastValue(given, n);
  if (all('fastcgi-socket').length) {
    throw new UwsgiError('ERR_UNSUPPORTED', `option 'fastcgi-socket': FastCGI is not supported; use --socket (uwsgi protocol, nginx uwsgi_pass) or --http-socket`);
  }
  const listeners: ListenerSpec[] = [];
  for (const [protocol, option] of [['uwsgi', 'socket'], ['http', 'http-socket']] as const) {
    for (const v of all(option)) {
      if (v === true) optionError(`option '${option}' needs an address`);
      for (const one of v.split(',')) listeners.push({ id: listeners.length, protocol, address: one.trim(), ...parseAddress(one, { ...LISTEN_RULES, label: `option '${option}'` }) });
    }
  }
  const mounts: ListenConfig['mounts'] = [];
  if (app) mounts.push({ mountpoint: '', file: app });
  for (const v of all('mount')) {
    if (v === true || !v.includes('=')) optionError(`option 'mount' expects /path=app.js, got '${v === true ? '' : v}'`);
    const eq = v.indexOf('=');
    let mountpoint = v.slice(0, eq).trim();
    const file = v.slice(eq + 1).trim();
    if (mountpoint === '/') mountpoint = '';
    if (mountpoint !== '' && !mountpoint.startsWith('/')) optionError(`option 'mount': the mountpoint must start with '/', got '${mountpoint}'`);
    if (mountpoint.endsWith('/')) mountpoint = mountpoint.slice(0, -1);
    if (file === '') optionError(`option 'mount': no app file in '${v}'`);
    const same = mounts.findIndex((m) => m.mountpoint === mountpoint);
    if (same >= 0) mounts.splice(same, 1);
    mounts.push({ mountpoint, file });
  }
  const rp = last('remote-peers');
  if (rp !== undefined && rp !== 'local' && rp !== 'any') optionError(`option 'remote-peers' must be local or any, got '${rp === true ? '' : rp}'`);
  const ka = last('http-keepalive');
  const rc = last('remote-cache');
  if (rc !== undefined && rc !== 'rw' && rc !== 'ro' && rc !== 'off') optionError(`option 'remote-cache' must be rw, ro or off, got '${rc === true ? '' : rc}'`);
  return {
    listeners,
    backlog: intValue('listen', last('listen'), 100, 1, 65535),
    bufferSize,
    limitPost: intValue('limit-post', last('limit-post'), 0, 0, Number.MAX_SAFE_INTEGER),
    socketTimeout: intValue('socket-timeout', last('socket-timeout'), 4, 1, 86400),
    remoteCache: (rc ?? 'rw') as ListenConfig['remoteCache'],
    remoteRpc: onOffValue('remote-rpc', last('remote-rpc')),
    remoteSignal: onOffValue('remote-signal', last('remote-signal')),
    remoteSpool: onOffValue('remote-spool', last('remote-spool')),
    remotePeers: (rp ?? 'local') as ListenConfig['remotePeers'],
    keepAlive: ka === undefined || ka === true ? true : intValue('http-keepalive', ka, 1, 0, 86400) !== 0,
    httpNative: last('http-native') !== undefined && onOffValue('http-native', last('http-native')),
    maxConnections: intValue('max-connections', last('max-connections'), defaultMaxConnections(workers), 1, 1_000_000),
    headersTimeout: intValue('http-headers-timeout', last('http-headers-timeout'), 10, 1, 86400),
    bodyTimeout: intValue('body-timeout', last('body-timeout'), 300, 1, 86400),
    mounts,
  };
}

/** The default `--max-connections`: the descriptor limit, less what the process keeps, shared by the workers, at most 1024. */
function defaultMaxConnections(workers: number): number {
  const limit = runtime().fdLimit();
  if (limit <= 0) return DEFAULT_MAX_CONNECTIONS;
  return Math.max(1, Math.min(DEFAULT_MAX_CONNECTIONS, Math.floor((limit - RESERVED_FDS) / Math.max(1, workers))));
}
