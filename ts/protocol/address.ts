/**
 * uWSGI's socket addresses, parsed once for every use: the listeners
 * (`--socket`, `--http-socket`), the master's own servers (`--stats`,
 * `--snmp`) and the network client (`rpc('host:port', ...)`, remote caches,
 * `connect`...). The forms:
 * - `host:port`, `:port` (no host: every interface to bind, 127.0.0.1 to connect; `*` too),
 * - `[ipv6]:port`,
 * - a unix socket path: anything with a `/`, or without a `:`,
 * - `@name` (or `\0name`): Linux's abstract namespace, where the use allows it.
 * What differs per use (paths, abstract names, port 0, the default host, the
 * error code) is the {@link AddressRules} it passes.
 * @module
 */
import { UwsgiError, type UwsgiErrorCode } from '../kernel/errors.ts';

/** A parsed socket address: TCP/UDP `host` + `port`, or a unix socket `path` (`\0name` for an abstract one). */
export type SocketAddress = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

/** What one use of an address accepts. */
export interface AddressRules {
  /** Who asks, at the start of every message: `option 'stats'`, `rpc: node`. */
  label: string;
  /** Code of the error for a malformed address: `ERR_OPTION` for options, `ERR_VALUE_RANGE` for function arguments. */
  code: UwsgiErrorCode;
  /** Unix socket paths are accepted. */
  paths: boolean;
  /** Abstract names (`@name`) are accepted (otherwise ERR_UNSUPPORTED). */
  abstract: boolean;
  /** Port 0 (the system picks a free port) is accepted. */
  anyPort: boolean;
  /** The host of `:port` and `*:port`. */
  defaultHost: string;
}

/** Binding a listener of the workers (`--socket`, `--http-socket`). */
export const LISTEN_RULES = { code: 'ERR_OPTION', paths: true, abstract: false, anyPort: false, defaultHost: '0.0.0.0' } as const;
/** Binding one of the master's servers (`--stats` may be a path, `--snmp` may not; port 0 picks a free port). */
export const SERVICE_RULES = { code: 'ERR_OPTION', paths: true, abstract: false, anyPort: true, defaultHost: '0.0.0.0' } as const;
/** Connecting to a peer (the network client). */
export const CONNECT_RULES = { code: 'ERR_VALUE_RANGE', paths: true, abstract: true, anyPort: false, defaultHost: '127.0.0.1' } as const;

/** Parse `text` under `rules`; every malformed address is a UwsgiError whose message starts with `rules.label`. */
export function parseAddress(text: string, rules: AddressRules): SocketAddress {
  const fail = (why: string): never => { throw new UwsgiError(rules.code, `${rules.label} ${why}`); };
  const a = text.trim();
  if (a === '') fail('must not be empty (host:port or a unix socket path)');
  if (a.includes('\0') && !a.startsWith('\0')) fail('contains a NUL byte');
  const abstract = a.startsWith('@') ? a.slice(1) : a.startsWith('\0') ? a.slice(1) : a.startsWith('\\0') ? a.slice(2) : undefined;
  if (abstract !== undefined) {
    if (!rules.abstract) throw new UwsgiError('ERR_UNSUPPORTED', `${rules.label}: abstract unix sockets ('${a}') are not supported here; use a path`);
    if (abstract === '') fail(`'${a}' names no abstract socket`);
    return { path: `\0${abstract}` };
  }
  let host: string;
  let portText: string;
  if (a.startsWith('[')) {
    const close = a.indexOf(']:');
    if (close < 2 || a.indexOf(']') !== close) fail(`'${a}' must be [ipv6]:port`);
    host = a.slice(1, close);
    portText = a.slice(close + 2);
  } else if (a.includes('/') || !a.includes(':')) {
    if (!rules.paths) fail(`expected host:port, got '${a}'`);
    return { path: a };
  } else {
    const colon = a.indexOf(':');
    host = a.slice(0, colon);
    portText = a.slice(colon + 1);
    if (portText.includes(':')) fail(`'${a}' is neither host:port nor a unix socket path (an IPv6 host goes in brackets: [addr]:port)`);
    if (host === '' || host === '*') host = rules.defaultHost;
  }
  const min = rules.anyPort ? 0 : 1;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= min && port <= 65535)) fail(`'${a}' needs a port ${min}..65535 after the ':', got '${portText}'`);
  return { host, port };
}

/** `host:port` (`[v6]:port`) or the path, for logs and messages. */
export function formatAddress(a: SocketAddress): string {
  if (a.path !== undefined) return a.path.startsWith('\0') ? `@${a.path.slice(1)}` : a.path;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
