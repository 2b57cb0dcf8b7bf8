/**
 * The datagrams of the cluster subsystem, as uWSGI sends them. Decoders take
 * bytes from the network: every length is checked against what arrived and
 * against the limits before anything is copied, and anything malformed is
 * `null` (a datagram has nobody to answer an error to).
 *
 * | modifier1/2 | what | sender |
 * |---|---|---|
 * | 73/0 | "a node joined": its host name, raw | uWSGI 1.x, once when it joins |
 * | 95/0 | announce: vars `hostname`, `address`, `workers`, `requests` (+ ours: `load`) | uWSGI 1.x, every 10 s |
 * | 95/1 | ours: the node leaves (a clean stop), same vars | uwsgi-wasm |
 * | 74/0 | a multicast message (`send_multicast_message`), raw | uWSGI 1.x (which never answered it) |
 * | 74/1 | ours: a node's reply to it, vars `node`, `name`, `reply` or `error` | uwsgi-wasm |
 * | 224/0, 224/1 | subscribe / unsubscribe: vars `key`, `address`, `modifier1`, `modifier2`, `cores`, `load`, `weight`, `sni_*` | uWSGI 2.0 |
 * | 111/10 | cache set: key, value, absolute expiry (decimal), each with a u16 LE length | uWSGI 2.0 |
 * | 111/11 | cache delete: the key with its u16 LE length | uWSGI 2.0 |
 * @module
 */
import { type ByteString, HEADER_SIZE, bytesToText, decodeVarsList, encodeVarsPacket } from '../protocol/codec.ts';

/** Modifier1 values of the cluster's datagrams. */
export const CLUSTER_MOD = { JOIN: 73, MESSAGE: 74, ANNOUNCE: 95, SUBSCRIBE: 224, CACHE: 111 } as const;
/** modifier2 of a 111 datagram: a set/update, or a delete. */
export const CACHE_UDP = { SET: 10, DEL: 11 } as const;
/** Largest UDP payload over IPv4 (65535 minus the IP and UDP headers). */
export const MAX_DATAGRAM = 65507;

const utf8 = new TextEncoder();

/** The body of a datagram that is exactly one uwsgi packet with modifier1 `m1`, or null. */
export function packetBody(d: Uint8Array, m1: number): { modifier2: number; body: Uint8Array } | null {
  if (d.length < HEADER_SIZE || d[0] !== m1) return null;
  const size = d[1]! | (d[2]! << 8);
  // The header's size must account for every byte: a short or padded datagram is not a packet.
  if (size !== d.length - HEADER_SIZE) return null;
  return { modifier2: d[3]!, body: d.subarray(HEADER_SIZE) };
}

/** Decode a vars body into text pairs (last of repeated keys wins), or null when malformed. */
export function varsOf(body: Uint8Array, maxEntries = 32): Map<string, Uint8Array> | null {
  try {
    const out = new Map<string, Uint8Array>();
    for (const [k, v] of decodeVarsList(body, { maxEntries })) out.set(bytesToText(k), v);
    return out;
  } catch {
    return null;
  }
}

/** A decimal made of digits only (uWSGI's parsers), at most `maxDigits` of them, or -1. */
export function digitsOf(v: Uint8Array | undefined, maxDigits = 15): number {
  if (!v || v.length === 0 || v.length > maxDigits) return -1;
  let n = 0;
  for (const c of v) {
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** A copy of an encoder's result (small ones are views into a pool the next encode reuses). */
const own = (b: Uint8Array) => b.slice();

// ---- membership -----------------------------------------------------------------------

/** What a node says of itself in an announce. */
export interface Announce {
  hostname: string;
  /** The address of its `--socket`; its host may be empty or 0.0.0.0 (the receiver then uses the sender's address). */
  address: string;
  workers: number;
  requests: number;
  load: number;
}

/** An announce (95/0), or a leave (95/1) with the same vars: uWSGI 1.x's keys in its order, then `load`. */
export function encodeAnnounce(a: Announce, leaving = false): Uint8Array {
  return own(encodeVarsPacket(CLUSTER_MOD.ANNOUNCE, leaving ? 1 : 0, [
    ['hostname', a.hostname], ['address', a.address], ['workers', String(a.workers)], ['requests', String(a.requests)], ['load', String(a.load)],
  ]));
}

/** An announce's vars (`address` required; missing numbers read as 0, as uWSGI 1.x's atoi), or null. */
export function decodeAnnounce(body: Uint8Array): Announce | null {
  const v = varsOf(body);
  if (!v) return null;
  const address = v.get('address');
  if (!address || address.length === 0) return null;
  const num = (k: string) => {
    const raw = v.get(k);
    if (raw === undefined) return 0;
    const n = digitsOf(raw);
    return n < 0 ? -1 : n;
  };
  const workers = num('workers');
  const requests = num('requests');
  const load = num('load');
  if (workers < 0 || requests < 0 || load < 0 || workers > 0x7fffffff || load > 0x7fffffff) return null;
  return { hostname: bytesToText(v.get('hostname') ?? new Uint8Array(0)), address: bytesToText(address), workers, requests, load };
}

/** The join notice (73): the host name, raw, as uWSGI 1.x sent it. */
export function encodeJoin(hostname: string): Uint8Array {
  const h = utf8.encode(hostname);
  const out = new Uint8Array(HEADER_SIZE + h.length);
  out.set([CLUSTER_MOD.JOIN, h.length & 0xff, h.length >>> 8, 0]);
  out.set(h, HEADER_SIZE);
  return out;
}

// ---- multicast messages ---------------------------------------------------------------

/** A multicast message (74/0): the bytes, raw, as uWSGI 1.x's send_multicast_message sent them. */
export function encodeMessage(message: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_SIZE + message.length);
  out.set([CLUSTER_MOD.MESSAGE, message.length & 0xff, message.length >>> 8, 0]);
  out.set(message, HEADER_SIZE);
  return out;
}

/** One node's answer to a multicast message. */
export interface MessageReply {
  /** The node's name (its announced address). */
  node: string;
  /** Its host name. */
  name: string;
  /** What its `multicast_message` RPC function returned (empty without one). */
  reply: Uint8Array;
  /** Why there is no reply (the function failed, or its result does not fit a datagram). */
  error?: string;
}

/** A reply (74/1): vars `node`, `name`, then `reply` or `error`. */
export function encodeReply(r: MessageReply): Uint8Array {
  const vars: Array<[string, ByteString]> = [['node', r.node], ['name', r.name]];
  if (r.error !== undefined) vars.push(['error', r.error]);
  else vars.push(['reply', r.reply]);
  return own(encodeVarsPacket(CLUSTER_MOD.MESSAGE, 1, vars));
}

/** A reply's vars, or null. */
export function decodeReply(body: Uint8Array): MessageReply | null {
  const v = varsOf(body, 8);
  const node = v?.get('node');
  if (!v || !node || node.length === 0) return null;
  const error = v.get('error');
  return { node: bytesToText(node), name: bytesToText(v.get('name') ?? new Uint8Array(0)), reply: (v.get('reply') ?? new Uint8Array(0)).slice(), ...(error ? { error: bytesToText(error) } : {}) };
}

// ---- subscriptions --------------------------------------------------------------------

/** What a subscription packet carries (uWSGI 2.0's `uwsgi_subscription_ub`, in its order). */
export interface Subscription {
  key: string;
  address: string;
  modifier1: number;
  modifier2: number;
  cores: number;
  load: number;
  weight: number;
  sni?: ReadonlyArray<readonly [string, string]>;
}

/** A subscribe (224/0) or unsubscribe (224/1) packet. */
export function encodeSubscription(s: Subscription, unsubscribe = false): Uint8Array {
  const vars: Array<readonly [string, string]> = [
    ['key', s.key], ['address', s.address], ['modifier1', String(s.modifier1)], ['modifier2', String(s.modifier2)],
    ['cores', String(s.cores)], ['load', String(s.load)], ['weight', String(s.weight)], ...(s.sni ?? []),
  ];
  return own(encodeVarsPacket(CLUSTER_MOD.SUBSCRIBE, unsubscribe ? 1 : 0, vars));
}

// ---- cache replication ----------------------------------------------------------------

/** A decoded cache datagram. */
export type CacheUpdate =
  | { op: 'set'; key: Uint8Array; value: Uint8Array; expires: number }
  | { op: 'del'; key: Uint8Array };

/**
 * The set datagram (111/10) for `key` = `value` expiring at `expires` (unix
 * seconds, 0: never), or null when it would not fit one datagram (uWSGI
 * writes a value over 65535 bytes with a wrapped length; we do not send it).
 */
export function encodeCacheSet(key: Uint8Array, value: Uint8Array, expires: number): Uint8Array | null {
  const e = utf8.encode(String(expires));
  const size = 2 + key.length + 2 + value.length + 2 + e.length;
  if (HEADER_SIZE + size > MAX_DATAGRAM) return null;
  const out = new Uint8Array(HEADER_SIZE + size);
  let at = 0;
  const u16 = (n: number) => { out[at++] = n & 0xff; out[at++] = n >>> 8; };
  out[at++] = CLUSTER_MOD.CACHE; u16(size); out[at++] = CACHE_UDP.SET;
  u16(key.length); out.set(key, at); at += key.length;
  u16(value.length); out.set(value, at); at += value.length;
  u16(e.length); out.set(e, at);
  return out;
}

/**
 * The delete datagram (111/11) for `key`. Two zero bytes follow the key:
 * uWSGI 2.0.21's receiver checks `4 + keylen <= size` where its own delete
 * has `size = 2 + keylen`, so it drops every delete a uWSGI sends; with the
 * padding (an empty value field) it applies ours. Our receiver takes both.
 */
export function encodeCacheDel(key: Uint8Array): Uint8Array | null {
  const size = 2 + key.length + 2;
  if (HEADER_SIZE + size > MAX_DATAGRAM) return null;
  const out = new Uint8Array(HEADER_SIZE + size);
  out.set([CLUSTER_MOD.CACHE, size & 0xff, size >>> 8, CACHE_UDP.DEL, key.length & 0xff, key.length >>> 8]);
  out.set(key, HEADER_SIZE + 2);
  return out;
}

/** Limits a receiving cache puts on a datagram: its largest key and value. */
export interface CacheLimits {
  keysize: number;
  maxValue: number;
}

/**
 * Decode a cache datagram, checking every length before taking a byte: a key
 * of 1..`keysize` bytes, a value of 1..`maxValue` bytes, an expiry of 1..20
 * digits (absent: 0). Keys and values are views into `d`. Null for anything
 * else (a wrong modifier, sizes that do not add up, trailing bytes).
 */
export function decodeCacheUpdate(d: Uint8Array, limits: CacheLimits): CacheUpdate | null {
  const p = packetBody(d, CLUSTER_MOD.CACHE);
  if (!p) return null;
  const b = p.body;
  if (b.length < 2) return null;
  const keylen = b[0]! | (b[1]! << 8);
  if (keylen === 0 || keylen > limits.keysize || 2 + keylen > b.length) return null;
  const key = b.subarray(2, 2 + keylen);
  let at = 2 + keylen;
  if (p.modifier2 === CACHE_UDP.DEL) {
    // uWSGI's form ends with the key; ours adds an empty value field (see encodeCacheDel).
    if (at === b.length || (at + 2 === b.length && b[at] === 0 && b[at + 1] === 0)) return { op: 'del', key };
    return null;
  }
  if (p.modifier2 !== CACHE_UDP.SET || at + 2 > b.length) return null;
  const vallen = b[at]! | (b[at + 1]! << 8);
  at += 2;
  if (vallen === 0 || vallen > limits.maxValue || at + vallen > b.length) return null;
  const value = b.subarray(at, at + vallen);
  at += vallen;
  let expires = 0;
  if (at < b.length) {
    if (at + 2 > b.length) return null;
    const elen = b[at]! | (b[at + 1]! << 8);
    at += 2;
    if (at + elen !== b.length) return null;
    expires = digitsOf(b.subarray(at, at + elen), 20);
    if (expires < 0 || !Number.isSafeInteger(expires)) return null;
  }
  return { op: 'set', key, value, expires };
}
