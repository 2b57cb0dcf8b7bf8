/**
 * The messages of the OTP 23+ distribution handshake (version 6), built and
 * parsed, and the cookie digest. lib/kernel/src/dist_util.erl is the
 * reference; ../shared/spec/erlang.md has the bytes as OTP 25 sends them.
 * The sequencing lives in ./connection.ts.
 * @module
 */
import { runtime } from '../platform/index.ts';

/** Distribution flags (lib/kernel/include/dist.hrl). */
export const DFLAG = {
  PUBLISHED: 0x1n,
  EXTENDED_REFERENCES: 0x4n,
  DIST_MONITOR: 0x8n,
  FUN_TAGS: 0x10n,
  NEW_FUN_TAGS: 0x80n,
  EXTENDED_PIDS_PORTS: 0x100n,
  EXPORT_PTR_TAG: 0x200n,
  BIT_BINARIES: 0x400n,
  NEW_FLOATS: 0x800n,
  UNICODE_IO: 0x1000n,
  DIST_HDR_ATOM_CACHE: 0x2000n,
  UTF8_ATOMS: 0x10000n,
  MAP_TAG: 0x20000n,
  BIG_CREATION: 0x40000n,
  SEND_SENDER: 0x80000n,
  FRAGMENTS: 0x800000n,
  HANDSHAKE_23: 0x1000000n,
  UNLINK_ID: 0x2000000n,
  MANDATORY_25_DIGEST: 0x4000000n,
  SPAWN: 1n << 32n,
  V4_NC: 4n << 32n,
  ALIAS: 8n << 32n,
} as const;

/** What OTP 25 requires of a peer (`MANDATORY_DFLAGS_25`). */
export const MANDATORY_FLAGS = DFLAG.EXTENDED_REFERENCES | DFLAG.FUN_TAGS | DFLAG.NEW_FUN_TAGS | DFLAG.EXTENDED_PIDS_PORTS
  | DFLAG.EXPORT_PTR_TAG | DFLAG.BIT_BINARIES | DFLAG.NEW_FLOATS | DFLAG.UTF8_ATOMS | DFLAG.MAP_TAG | DFLAG.BIG_CREATION | DFLAG.HANDSHAKE_23;

/**
 * The flags this node offers: the mandatory ones (and their OTP 25 digest, which
 * OTP 27 requires), monitors (so `gen_server:call` to us works), unicode I/O,
 * UNLINK_ID and V4_NC (OTP 26 makes them mandatory; the decoder reads 64-bit
 * port ids and 5-word references), and SPAWN: since OTP 25 `rpc:call` is
 * `erpc:call`, a spawn request for `erpc:execute_call/4`, and a node without
 * SPAWN gets `{badrpc, notsup}`. Not PUBLISHED: like a C node this one is
 * hidden, so `global` leaves it alone. No atom cache, fragments or aliases:
 * the connection never uses them.
 */
export const OUR_FLAGS = MANDATORY_FLAGS | DFLAG.MANDATORY_25_DIGEST | DFLAG.DIST_MONITOR | DFLAG.UNICODE_IO | DFLAG.UNLINK_ID | DFLAG.V4_NC | DFLAG.SPAWN;

/** Whether flags `f` carry everything this node needs of a peer (the flags, or OTP 25's digest of them). */
export function hasMandatory(f: bigint): boolean {
  return (f & MANDATORY_FLAGS) === MANDATORY_FLAGS || (f & DFLAG.MANDATORY_25_DIGEST) !== 0n;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** `N` send_name: flags, creation, our full name. */
export function sendName(flags: bigint, creation: number, name: string): Uint8Array {
  const n = utf8.encode(name);
  const b = new Uint8Array(15 + n.length);
  const dv = new DataView(b.buffer);
  b[0] = 0x4e;
  dv.setBigUint64(1, flags);
  dv.setUint32(9, creation);
  dv.setUint16(13, n.length);
  b.set(n, 15);
  return b;
}

/** A parsed `N` send_name or challenge; undefined when malformed. */
export interface NameMessage { flags: bigint; creation: number; name: string; challenge?: number }

/** Parse a send_name (`N` flags creation nlen name). */
export function parseSendName(b: Uint8Array): NameMessage | undefined {
  if (b.length < 15 || b[0] !== 0x4e) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = dv.getUint16(13);
  if (b.length !== 15 + len) return undefined;
  return { flags: dv.getBigUint64(1), creation: dv.getUint32(9), name: utf8d.decode(b.subarray(15)) };
}

/** `N` challenge: flags, challenge, creation, our full name. */
export function challenge(flags: bigint, chal: number, creation: number, name: string): Uint8Array {
  const n = utf8.encode(name);
  const b = new Uint8Array(19 + n.length);
  const dv = new DataView(b.buffer);
  b[0] = 0x4e;
  dv.setBigUint64(1, flags);
  dv.setUint32(9, chal);
  dv.setUint32(13, creation);
  dv.setUint16(17, n.length);
  b.set(n, 19);
  return b;
}

/** Parse a challenge (`N` flags challenge creation nlen name). */
export function parseChallenge(b: Uint8Array): NameMessage | undefined {
  if (b.length < 19 || b[0] !== 0x4e) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const len = dv.getUint16(17);
  if (b.length !== 19 + len) return undefined;
  return { flags: dv.getBigUint64(1), challenge: dv.getUint32(9), creation: dv.getUint32(13), name: utf8d.decode(b.subarray(19)) };
}

/** The digest that proves the cookie: MD5(cookie ‖ the challenge as unsigned decimal text). */
export function digest(cookie: string, chal: number): Uint8Array {
  return runtime().md5(utf8.encode(cookie + String(chal >>> 0)));
}

/** `r` challenge_reply: our challenge and the digest of the peer's. */
export function challengeReply(ourChallenge: number, peerDigest: Uint8Array): Uint8Array {
  const b = new Uint8Array(21);
  b[0] = 0x72;
  new DataView(b.buffer).setUint32(1, ourChallenge);
  b.set(peerDigest, 5);
  return b;
}

/** `a` challenge_ack: the digest of the peer's challenge. */
export function challengeAck(peerDigest: Uint8Array): Uint8Array {
  const b = new Uint8Array(17);
  b[0] = 0x61;
  b.set(peerDigest, 1);
  return b;
}

/** `s` status: `ok`, `ok_simultaneous`, `nok`, `not_allowed`, `alive`, or (from an initiator, after `alive`) `true`/`false`. */
export function status(text: string): Uint8Array { return Uint8Array.of(0x73, ...utf8.encode(text)); }

/** The text of a status message, or undefined when `b` is not one. */
export function parseStatus(b: Uint8Array): string | undefined {
  return b.length >= 1 && b[0] === 0x73 ? utf8d.decode(b.subarray(1)) : undefined;
}

/** Equal digests (timing does not matter here: a wrong guess costs the peer its connection). */
export function sameDigest(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A random 32-bit challenge. */
export function newChallenge(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}
