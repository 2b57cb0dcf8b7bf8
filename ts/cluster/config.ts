/**
 * The options of the cluster subsystem, validated into a {@link ClusterConfig}:
 * uWSGI 1.x's multicast cluster (`--cluster`, `--multicast-ttl`), uWSGI 2.0's
 * subscriptions to a fastrouter or HTTP router (`--subscribe-to`,
 * `--subscribe2`, `--subscribe-freq`, `--weight`...), the legacy cache's
 * replication options (`--cache-udp-server`, `--cache-udp-node`,
 * `--cache-sync`) and who may write to a cache over UDP (`--cache-udp-allow`).
 * The per-cache replication keys (`nodes=`, `udp=`, `sync=`) are parsed with
 * the rest of `--cache2` (ts/kernel/options.ts) by {@link cachePeers}.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { type GivenOptions, allValues, intValue, lastValue, optionError } from '../kernel/option-values.ts';
import { CONNECT_RULES, parseAddress } from '../protocol/address.ts';
import type { ListenConfig } from '../server/listen.ts';

/** Option names of this subsystem, with their kind for options.ts's table. */
export const CLUSTER_OPTIONS = {
  cluster: { kind: 'value', built: true },
  'multicast-ttl': { kind: 'value', built: true },
  // Ours: uWSGI 1.x announced every 10 master cycles and forgot a node after 30 s; both fixed.
  'cluster-freq': { kind: 'value', built: true },
  'cluster-tolerance': { kind: 'value', built: true },
  'subscribe-to': { kind: 'list', built: true },
  st: { kind: 'list', built: true, alias: 'subscribe-to' },
  subscribe: { kind: 'list', built: true, alias: 'subscribe-to' },
  subscribe2: { kind: 'list', built: true },
  'subscribe-freq': { kind: 'value', built: true },
  'subscribe-with-modifier1': { kind: 'value', built: true },
  weight: { kind: 'value', built: true },
  // uWSGI declares it with a required argument it ignores: any value turns it on.
  'auto-weight': { kind: 'value', built: true },
  'cache-udp-server': { kind: 'list', built: true },
  'cache-udp-node': { kind: 'list', built: true },
  'cache-sync': { kind: 'value', built: true },
  // Ours: uWSGI's cache UDP server takes writes from anybody.
  'cache-udp-allow': { kind: 'list', built: true },
} as const;

/** Most nodes the cluster table holds (uWSGI 1.x's MAX_CLUSTER_NODES). */
export const MAX_CLUSTER_NODES = 100;

/** A UDP address: IPv4 or IPv6 host (no brackets) and port. */
export interface UdpAddress {
  readonly host: string;
  readonly port: number;
}

/** `--cluster ADDR:PORT`: the group this node joins. */
export interface ClusterGroup {
  /** The option's value, as `cluster()` returns it. */
  readonly text: string;
  /** The multicast group (224.0.0.0/4), or 255.255.255.255 for `:PORT` (broadcast, as uWSGI 1.x). */
  readonly host: string;
  readonly port: number;
  /** `:PORT`: the local network's broadcast address instead of a group. */
  readonly broadcast: boolean;
}

/** One subscription (`--subscribe-to` or `--subscribe2`), sent every `subscribe-freq` seconds. */
export interface SubscriptionConfig {
  /** The option's value, for log lines. */
  readonly text: string;
  /** The subscription server (a router's `--fastrouter-subscription-server`/`--http-subscription-server`). */
  readonly server: UdpAddress;
  /** The key (a domain, `host:port`...); null when `keysFile` gives them. */
  readonly key: string | null;
  /** `SERVER:PORT:@FILE`: one `key[,modifier1]` per line, read at every announce (uWSGI reads it each time too). */
  readonly keysFile: string | null;
  /** The address the router forwards to (`address` var): `addr=`, `socket=N`, `NAME=...`, else the first `--socket`. */
  readonly address: string;
  readonly modifier1: number;
  readonly modifier2: number;
  /** `weight=` of `--subscribe2`; null: the node's `--weight` (or `--auto-weight`). */
  readonly weight: number | null;
  /** `sni_key`/`sni_crt`/`sni_ca` of `--subscribe2`, sent as given. */
  readonly sni: ReadonlyArray<readonly [string, string]>;
  /** `check=FILE` of `--subscribe2`: while FILE exists the packet is not sent (uWSGI 2.0.21's code; its docs say the reverse). */
  readonly check: string | null;
}

/** One entry of `--cache-udp-allow`: an address and how many leading bits must match. */
export interface AllowRule {
  readonly text: string;
  /** 4 or 16 bytes (a plain array: the config travels to threads and may be JSON). */
  readonly bytes: readonly number[];
  readonly bits: number;
}

/** The cluster subsystem's options after validation. */
export interface ClusterConfig {
  /** `--cluster`; undefined when this node is in no cluster. */
  group?: ClusterGroup;
  /** `--multicast-ttl`: hops a group datagram may take (default 1: the local network, as uWSGI). */
  multicastTtl: number;
  /** `--cluster-freq`: seconds between two announces of this node (default 10, uWSGI 1.x's 10 master cycles). */
  freq: number;
  /** `--cluster-tolerance`: a node silent this many seconds is dropped (default 30, as uWSGI 1.x). */
  tolerance: number;
  /** The address this node announces: its first `--socket`, as given (1.x's `uwsgi.sockets->name`). */
  announce?: string;
  /** `--subscribe-to` and `--subscribe2`, in option order. */
  subscriptions: SubscriptionConfig[];
  /** `--subscribe-freq`: seconds between two subscription announces (default 10, as uWSGI 2.0). */
  subscribeFreq: number;
  /** `--weight`: the weight sent with every subscription (default 0; routers read 0 as 1). */
  weight: number;
  /** `--auto-weight`: send workers × cores as the weight instead. */
  autoWeight: boolean;
  /** `--cache-udp-allow`: who may write to a cache over UDP (`udp=`); empty: anybody, as uWSGI. */
  cacheUdpAllow: AllowRule[];
}

/** The replication keys of one cache (`nodes=`, `udp=`, `sync=`), parsed. */
export interface CachePeers {
  /** `nodes=`: UDP peers every local set/update/delete is sent to. */
  nodes: UdpAddress[];
  /** `udp=`: UDP addresses this cache receives its peers' writes on. */
  udp: UdpAddress[];
  /** `sync=`: uwsgi addresses (`host:port`, a unix path) to copy the whole cache from at start; the first that answers wins. */
  sync: string[];
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The four bytes of a dotted IPv4 address, or null. */
export function ipv4Bytes(text: string): Uint8Array | null {
  const m = IPV4.exec(text);
  if (!m) return null;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? Uint8Array.from(b) : null;
}

/** The sixteen bytes of an IPv6 address (`::` and a dotted IPv4 tail allowed), or null. */
export function ipv6Bytes(text: string): Uint8Array | null {
  if (!text.includes(':') || /[^0-9a-fA-F:.]/.test(text)) return null;
  let head = text;
  let tail4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tail4 = ipv4Bytes(text.slice(lastColon + 1));
    if (!tail4) return null;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const a = parse(halves[0]!);
  const b = halves.length === 2 ? parse(halves[1]!) : [];
  const groups = halves.length === 2 ? [...a, ...Array(8 - a.length - b.length).fill('0'), ...b] : a;
  if (groups.length !== 8 || (halves.length === 2 && a.length + b.length > 7)) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (tail4) out.set(tail4, 12);
  return out;
}

/** Parse one `--cache-udp-allow` entry: `ADDR` or `ADDR/BITS`, IPv4 or IPv6. */
export function allowRule(text: string): AllowRule {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  const bytes = ipv4Bytes(addr) ?? ipv6Bytes(addr);
  if (!bytes) optionError(`option 'cache-udp-allow': '${t}' is not an IP address or ADDR/BITS network`);
  const max = bytes.length * 8;
  const bits = slash < 0 ? max : intValue('cache-udp-allow', t.slice(slash + 1), 0, 0, max);
  return { text: t, bytes: [...bytes], bits };
}

/**
 * Whether `address` (a sender's IP as the runtime reports it) matches one of
 * `rules`; an empty list allows everybody. An IPv4 sender seen on an IPv6
 * socket (`::ffff:a.b.c.d`) matches IPv4 rules.
 */
export function allowed(rules: readonly AllowRule[], address: string): boolean {
  if (rules.length === 0) return true;
  let bytes = ipv4Bytes(address) ?? ipv6Bytes(address);
  if (!bytes) return false;
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) bytes = bytes.slice(12);
  for (const r of rules) {
    if (r.bytes.length !== bytes.length) continue;
    let ok = true;
    for (let bit = 0; bit < r.bits && ok; bit += 8) {
      const n = Math.min(8, r.bits - bit);
      const mask = (0xff << (8 - n)) & 0xff;
      ok = (r.bytes[bit >> 3]! & mask) === (bytes[bit >> 3]! & mask);
    }
    if (ok) return true;
  }
  return false;
}

/** A UDP `host:port` (`[v6]:port`); `label` names the option for messages. */
export function udpAddress(label: string, text: string): UdpAddress {
  const t = text.trim();
  if (t.includes('/') && !t.startsWith('[')) {
    throw new UwsgiError('ERR_UNSUPPORTED', `${label}: '${t}' is a unix socket path; UDP over unix sockets is not supported (no runtime has unix datagram sockets)`);
  }
  if (!t.includes(':')) optionError(`${label}: '${t}' is not a UDP address (host:port)`);
  const a = parseAddress(t, { ...CONNECT_RULES, code: 'ERR_OPTION', paths: false, abstract: false, label });
  return { host: a.host!, port: a.port! };
}

/** `nodes=`, `udp=` and `sync=` of one `--cache2` (`;`-separated lists, as uWSGI). */
export function cachePeers(name: string, nodes: string | undefined, udp: string | undefined, sync: string | undefined): CachePeers {
  const list = (v: string | undefined) => (v ?? '').split(';').map((s) => s.trim()).filter((s) => s !== '');
  return {
    nodes: list(nodes).map((a) => udpAddress(`option 'cache2' (cache '${name}') nodes=`, a)),
    udp: list(udp).map((a) => udpAddress(`option 'cache2' (cache '${name}') udp=`, a)),
    sync: list(sync).map((a) => {
      // Checked now so a typo fails at start, not when the engine connects.
      parseAddress(a, { ...CONNECT_RULES, code: 'ERR_OPTION', label: `option 'cache2' (cache '${name}') sync=` });
      return a;
    }),
  };
}

/** `--cluster ADDR:PORT` (a multicast group) or `:PORT` (broadcast, as uWSGI 1.x). */
function clusterGroup(v: string | true): ClusterGroup {
  if (v === true || v.trim() === '') optionError(`option 'cluster' needs a multicast group, e.g. 225.1.1.1:1717 (or :PORT to broadcast)`);
  const text = v.trim();
  const colon = text.lastIndexOf(':');
  const port = colon < 0 ? NaN : Number(text.slice(colon + 1));
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535) || !/^\d+$/.test(text.slice(colon + 1))) optionError(`option 'cluster': '${text}' needs a port 1..65535 after the ':'`);
  const host = text.slice(0, colon);
  if (host === '') return { text, host: '255.255.255.255', port, broadcast: true };
  const b = ipv4Bytes(host);
  if (!b || b[0]! < 224 || b[0]! > 239) optionError(`option 'cluster': '${host}' is not an IPv4 multicast group (224.0.0.0 to 239.255.255.255)`);
  return { text, host, port, broadcast: false };
}

/** The N-th listener's address (`socket=N` of --subscribe2, `=N=` of --subscribe-to), as uWSGI numbers its sockets. */
function socketByNumber(label: string, listen: ListenConfig, n: string): string {
  const i = intValue(label, n, 0, 0, 65535);
  const l = listen.listeners[i];
  if (!l) optionError(`${label}: there is no socket ${i} (${listen.listeners.length} configured)`);
  return l.address;
}

/** The first `--socket`, which uWSGI subscribes and announces when nothing else is named. */
function firstSocket(listen: ListenConfig): string | undefined {
  return listen.listeners.find((l) => l.protocol === 'uwsgi')?.address ?? listen.listeners[0]?.address;
}

/** The signed forms need RSA keys on both sides: refused with the reason. */
function noSigning(label: string): never {
  throw new UwsgiError('ERR_UNSUPPORTED', `${label}: signed subscriptions (sign=, ',SIGN') are not supported; subscribe on a trusted network (see the README's deployment page)`);
}

/** `--subscribe-to [NAME=|=N=]SERVER:PORT:KEY[,MODIFIER1]` or `SERVER:PORT:@FILE` (uWSGI 2.0's forms). */
function subscribeTo(v: string | true, listen: ListenConfig, forced1: number | null): SubscriptionConfig {
  const label = `option 'subscribe-to'`;
  if (v === true || v.trim() === '') optionError(`${label} needs SERVER:PORT:KEY`);
  const text = v.trim();
  let rest = text;
  let address: string | undefined;
  if (rest.startsWith('=')) {
    const eq = rest.indexOf('=', 1);
    if (eq < 0) optionError(`${label}: '${text}' starts with '=N' but has no second '='`);
    address = socketByNumber(label, listen, rest.slice(1, eq));
    rest = rest.slice(eq + 1);
  } else if (rest.includes('=')) {
    const eq = rest.indexOf('=');
    address = rest.slice(0, eq);
    rest = rest.slice(eq + 1);
  }
  if (rest.startsWith('/')) throw new UwsgiError('ERR_UNSUPPORTED', `${label}: '${text}' names a unix datagram socket; no runtime has them (use a router's UDP subscription server)`);
  const portColon = rest.indexOf(':');
  const keyColon = portColon < 0 ? -1 : rest.indexOf(':', portColon + 1);
  if (keyColon < 0) optionError(`${label}: '${text}' must be SERVER:PORT:KEY`);
  const server = udpAddress(label, rest.slice(0, keyColon));
  let key = rest.slice(keyColon + 1);
  let keysFile: string | null = null;
  let modifier1 = 0;
  if (key.startsWith('@')) {
    keysFile = key.slice(1);
    if (keysFile === '') optionError(`${label}: '${text}' names no keys file after '@'`);
    key = '';
  } else {
    const comma = key.indexOf(',');
    if (comma >= 0) {
      const mods = key.slice(comma + 1).split(',');
      key = key.slice(0, comma);
      modifier1 = intValue(label, mods[0]!, 0, 0, 255);
      if (mods.length > 1) noSigning(label);
    }
    if (key === '') optionError(`${label}: '${text}' has an empty key`);
    if (new TextEncoder().encode(key).length > 255) optionError(`${label}: the key '${key}' is longer than 255 bytes (routers refuse it)`);
  }
  address ??= firstSocket(listen);
  if (address === undefined) optionError(`${label}: '${text}': nothing to subscribe: give a --socket (or NAME=${text})`);
  return { text, server, key: keysFile === null ? key : null, keysFile, address, modifier1: forced1 ?? modifier1, modifier2: 0, weight: null, sni: [], check: null };
}

const SUBSCRIBE2_KEYS = new Set(['server', 'key', 'socket', 'addr', 'weight', 'modifier1', 'modifier2', 'sign', 'check', 'sni_key', 'sni_crt', 'sni_ca']);

/** `--subscribe2 server=...,key=...[,addr=|socket=][,weight=][,modifier1=][,modifier2=][,check=][,sni_*=]`. */
function subscribe2(v: string | true, listen: ListenConfig, forced1: number | null): SubscriptionConfig {
  const label = `option 'subscribe2'`;
  if (v === true || v.trim() === '') optionError(`${label} needs server=HOST:PORT,key=KEY`);
  const text = v.trim();
  const kv = new Map<string, string>();
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) optionError(`${label}: expected key=value, got '${part}'`);
    const k = part.slice(0, eq).trim();
    if (!SUBSCRIBE2_KEYS.has(k)) optionError(`${label}: unknown key '${k}' (uWSGI 2.0's: ${[...SUBSCRIBE2_KEYS].join(', ')})`);
    kv.set(k, part.slice(eq + 1).trim());
  }
  if (kv.has('sign')) noSigning(label);
  const s = kv.get('server');
  const key = kv.get('key');
  if (!s || !key) optionError(`${label}: '${text}' needs server= and key=`);
  if (new TextEncoder().encode(key).length > 255) optionError(`${label}: the key '${key}' is longer than 255 bytes (routers refuse it)`);
  const address = kv.has('socket') ? socketByNumber(label, listen, kv.get('socket')!) : kv.get('addr') || firstSocket(listen);
  if (address === undefined) optionError(`${label}: '${text}': nothing to subscribe: give addr=, socket=N or a --socket`);
  const m1 = kv.has('modifier1') ? intValue(label, kv.get('modifier1')!, 0, 0, 255) : 0;
  return {
    text,
    server: udpAddress(label, s),
    key,
    keysFile: null,
    address,
    modifier1: forced1 ?? m1,
    modifier2: kv.has('modifier2') ? intValue(label, kv.get('modifier2')!, 0, 0, 255) : 0,
    weight: kv.has('weight') ? intValue(label, kv.get('weight')!, 0, 0, 0x7fffffff) : null,
    sni: (['sni_key', 'sni_crt', 'sni_ca'] as const).filter((k) => kv.has(k)).map((k) => [k, kv.get(k)!] as const),
    check: kv.get('check') || null,
  };
}

/** Read this subsystem's options out of the options as given. */
export function clusterConfig(given: GivenOptions, listen: ListenConfig): ClusterConfig {
  const last = (n: string) => lastValue(given, n);
  const c = last('cluster');
  const group = c === undefined ? undefined : clusterGroup(c);
  if (group && listen.listeners.every((l) => l.protocol !== 'uwsgi')) optionError(`option 'cluster': a node announces its --socket address: give at least one --socket (uWSGI 1.x: "you need to specify at least a socket to start a uWSGI cluster")`);
  const freq = intValue('cluster-freq', last('cluster-freq'), 10, 1, 3600);
  const tolerance = intValue('cluster-tolerance', last('cluster-tolerance'), 30, 1, 86400);
  if (tolerance <= freq) optionError(`option 'cluster-tolerance' (${tolerance} s) must be longer than 'cluster-freq' (${freq} s), or live nodes would be dropped between two announces`);
  const m1 = last('subscribe-with-modifier1');
  const forced1 = m1 === undefined ? null : intValue('subscribe-with-modifier1', m1, 0, 0, 255);
  const subscriptions: SubscriptionConfig[] = [];
  for (const v of allValues(given, 'subscribe-to')) subscriptions.push(subscribeTo(v, listen, forced1));
  for (const v of allValues(given, 'subscribe2')) subscriptions.push(subscribe2(v, listen, forced1));
  return {
    group,
    multicastTtl: intValue('multicast-ttl', last('multicast-ttl'), 1, 0, 255),
    freq,
    tolerance,
    announce: group ? listen.listeners.find((l) => l.protocol === 'uwsgi')!.address : undefined,
    subscriptions,
    subscribeFreq: intValue('subscribe-freq', last('subscribe-freq'), 10, 1, 86400),
    weight: intValue('weight', last('weight'), 0, 0, 0x7fffffff),
    autoWeight: last('auto-weight') !== undefined,
    cacheUdpAllow: allValues(given, 'cache-udp-allow').flatMap((v) => {
      if (v === true) optionError(`option 'cache-udp-allow' needs an address or ADDR/BITS`);
      return v.split(/[,;]/).filter((s) => s.trim() !== '').map(allowRule);
    }),
  };
}
