/**
 * Listener configuration (`--socket`, `--http-socket`, `--mount`, the remote
 * packet switches and limits) read from a {@link Config}. How a listener is
 * shared between the workers is the runtime binding's part
 * (`runtime().prepareListener` in the master, `listenWithTicket` in a worker).
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { Config } from '../kernel/options.ts';
import type { ListenTicket } from '../platform/index.ts';

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
  /** `--mount /path=app.js`, in option order; the app given on the command line is mounted at '' (the default app). */
  mounts: Array<{ mountpoint: string; file: string }>;
}

function fail(msg: string): never { throw new UwsgiError('ERR_OPTION', msg); }

function intValue(name: string, v: string | true | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (v === true || !/^\s*\d+\s*$/.test(v)) fail(`option '${name}' must be an integer, got '${v === true ? '' : v}'`);
  const n = Number(v);
  if (n < min || n > max) fail(`option '${name}' must be ${min}..${max}, got ${n}`);
  return n;
}

function onOff(name: string, v: string | true | undefined): boolean {
  if (v === undefined || v === true || v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  fail(`option '${name}' must be on or off, got '${v}'`);
}

/**
 * Parse one listener address: `host:port`, `:port` (every interface, as in
 * uWSGI), `[v6]:port`, or a unix socket path (anything with a `/`, or without
 * a colon). Abstract unix sockets (`@name`) are refused.
 */
export function parseAddress(option: string, address: string): Omit<ListenerSpec, 'id' | 'protocol'> {
  const a = address.trim();
  if (a === '') fail(`option '${option}' needs an address`);
  if (a.startsWith('@')) throw new UwsgiError('ERR_UNSUPPORTED', `option '${option}': abstract unix sockets ('${a}') are not supported; use a path`);
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:/\s]*)):(\d+)$/.exec(a);
  if (m) {
    const port = Number(m[3]);
    if (port < 1 || port > 65535) fail(`option '${option}': port must be 1..65535, got ${port} in '${a}'`);
    const host = m[1] ?? (m[2] === '' || m[2] === '*' ? '0.0.0.0' : m[2]!);
    return { address: a, host, port };
  }
  if (a.includes('/') || !a.includes(':')) return { address: a, path: a };
  fail(`option '${option}': '${a}' is neither host:port nor a unix socket path`);
}

/** Read the protocol options out of a validated config. */
export function listenConfig(cfg: Config, app?: string): ListenConfig {
  const all = (n: string) => cfg.given.filter(([k]) => k === n).map(([, v]) => v);
  const last = (n: string) => { const v = all(n); return v.length ? v[v.length - 1] : undefined; };
  if (all('fastcgi-socket').length) {
    throw new UwsgiError('ERR_UNSUPPORTED', `option 'fastcgi-socket': FastCGI is not supported; use --socket (uwsgi protocol, nginx uwsgi_pass) or --http-socket`);
  }
  const listeners: ListenerSpec[] = [];
  for (const [protocol, option] of [['uwsgi', 'socket'], ['http', 'http-socket']] as const) {
    for (const v of all(option)) {
      if (v === true) fail(`option '${option}' needs an address`);
      for (const one of v.split(',')) listeners.push({ id: listeners.length, protocol, ...parseAddress(option, one) });
    }
  }
  const mounts: ListenConfig['mounts'] = [];
  if (app) mounts.push({ mountpoint: '', file: app });
  for (const v of all('mount')) {
    if (v === true || !v.includes('=')) fail(`option 'mount' expects /path=app.js, got '${v === true ? '' : v}'`);
    const eq = v.indexOf('=');
    let mountpoint = v.slice(0, eq).trim();
    const file = v.slice(eq + 1).trim();
    if (mountpoint === '/') mountpoint = '';
    if (mountpoint !== '' && !mountpoint.startsWith('/')) fail(`option 'mount': the mountpoint must start with '/', got '${mountpoint}'`);
    if (mountpoint.endsWith('/')) mountpoint = mountpoint.slice(0, -1);
    if (file === '') fail(`option 'mount': no app file in '${v}'`);
    const same = mounts.findIndex((m) => m.mountpoint === mountpoint);
    if (same >= 0) mounts.splice(same, 1);
    mounts.push({ mountpoint, file });
  }
  const rc = last('remote-cache');
  if (rc !== undefined && rc !== 'rw' && rc !== 'ro' && rc !== 'off') fail(`option 'remote-cache' must be rw, ro or off, got '${rc === true ? '' : rc}'`);
  return {
    listeners,
    backlog: intValue('listen', last('listen'), 100, 1, 65535),
    bufferSize: cfg.bufferSize,
    limitPost: intValue('limit-post', last('limit-post'), 0, 0, Number.MAX_SAFE_INTEGER),
    socketTimeout: intValue('socket-timeout', last('socket-timeout'), 4, 1, 86400),
    remoteCache: (rc ?? 'rw') as ListenConfig['remoteCache'],
    remoteRpc: onOff('remote-rpc', last('remote-rpc')),
    remoteSignal: onOff('remote-signal', last('remote-signal')),
    remoteSpool: onOff('remote-spool', last('remote-spool')),
    mounts,
  };
}
