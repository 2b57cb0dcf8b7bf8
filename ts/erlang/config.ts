/**
 * The Erlang options: `--erlang NAME` (`name` or `name@host`) starts a
 * distribution node, `--erlang-cookie` sets its cookie. kernel/options.ts
 * spreads {@link ERLANG_OPTIONS} into its table and calls {@link erlangConfig}.
 * @module
 */
import { type GivenOptions, lastValue, optionError } from '../kernel/option-values.ts';

/** The Erlang options, in kernel/options.ts's table. */
export const ERLANG_OPTIONS = {
  erlang: { kind: 'value', built: true },
  'erlang-cookie': { kind: 'value', built: true },
} as const;

/** `--erlang` and `--erlang-cookie`, validated (JSON-safe: it travels to every thread with the config). */
export interface ErlangConfig {
  /** The node's name before the `@` (what EPMD registers). */
  name: string;
  /**
   * The host after the `@`, as given; absent: the machine's short host name
   * (as `erl -sname` uses), and the node listens on 127.0.0.1 only.
   */
  host?: string;
  /**
   * `--erlang-cookie`: the secret both nodes must share. Absent: read from
   * `~/.erlang.cookie` when the node starts, as `erl` does.
   */
  cookie?: string;
}

/** Name characters `erl` accepts in a node name's alive part. */
const NAME = /^[A-Za-z0-9_-]+$/;
/** Host names and IP addresses (IPv6 in its own characters). */
const HOST = /^[A-Za-z0-9_.:-]+$/;
/** Cookies are atoms: at most 255 characters. */
const MAX_COOKIE = 255;

/** Check a node name `name` or `name@host`; `label` names the option or argument in messages. */
export function parseNodeName(v: string, label: string): { name: string; host?: string } {
  const at = v.indexOf('@');
  const name = at < 0 ? v : v.slice(0, at);
  const host = at < 0 ? undefined : v.slice(at + 1);
  if (!NAME.test(name)) optionError(`${label}: '${v}' is not a node name: expected name or name@host, the name in letters, digits, _ and -`);
  if (host !== undefined && !HOST.test(host)) optionError(`${label}: '${v}' has an invalid host part '${host}'`);
  if (new TextEncoder().encode(v).length > 255) optionError(`${label}: a node name is at most 255 bytes`);
  return host === undefined ? { name } : { name, host };
}

/** The `erlang` section of the config, or undefined without `--erlang`. */
export function erlangConfig(given: GivenOptions): ErlangConfig | undefined {
  const node = lastValue(given, 'erlang');
  const cookie = lastValue(given, 'erlang-cookie');
  if (cookie === true || cookie === '') optionError(`option 'erlang-cookie' needs a value`);
  if (cookie !== undefined && [...cookie].length > MAX_COOKIE) optionError(`option 'erlang-cookie': at most ${MAX_COOKIE} characters`);
  if (node === undefined) {
    if (cookie !== undefined) optionError(`option 'erlang-cookie' needs '--erlang NAME' too`);
    return undefined;
  }
  if (node === true || node === '') optionError(`option 'erlang' needs a node name (name or name@host)`);
  const parsed = parseNodeName(node, `option 'erlang'`);
  return cookie === undefined ? parsed : { ...parsed, cookie };
}
