/**
 * Addresses of the master's own sockets (`--snmp=127.0.0.1:1161`,
 * `--stats 127.0.0.1:9191` or `--stats /run/stats.sock`), parsed as uWSGI does:
 * `host:port` is IP, anything else a UNIX socket path.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';

/** A parsed socket address: TCP/UDP `host`+`port`, or a UNIX socket `path`. */
export type SocketAddress = { host: string; port: number; path?: undefined } | { path: string; host?: undefined; port?: undefined };

/**
 * Parse `spec` for option `option`. `host:port` (IPv4 or a name; an empty host
 * is 0.0.0.0, as uWSGI binds it; `[v6]:port` for IPv6) is an IP address; with
 * `allowPath`, anything without a colon is a UNIX socket path. Port 0 asks the
 * system for a free port (the server reports the one it got).
 */
export function parseSocketAddress(option: string, spec: string, allowPath: boolean): SocketAddress {
  const fail = (why: string): never => { throw new UwsgiError('ERR_OPTION', `option '${option}': ${why}`); };
  if (spec === '') fail('needs an address such as 127.0.0.1:9191');
  const colon = spec.lastIndexOf(':');
  if (colon < 0 || spec.startsWith('/') || spec.startsWith('.')) {
    if (!allowPath) fail(`expected host:port, got '${spec}'`);
    return { path: spec };
  }
  let host = spec.slice(0, colon);
  const portText = spec.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) fail(`bad port '${portText}' in '${spec}' (0..65535)`);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) fail(`an IPv6 host must be in brackets: '[${host}]:${portText}'`);
  return { host: host === '' || host === '*' ? '0.0.0.0' : host, port: Number(portText) };
}

/** `host:port` or the path, for logs and messages. */
export function formatSocketAddress(a: SocketAddress): string {
  if (a.path !== undefined) return a.path;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
