/**
 * The small slice of BER (X.690) that SNMPv1/v2c messages use: definite
 * lengths, one-byte tags, INTEGER, OCTET STRING, NULL, OBJECT IDENTIFIER and
 * constructed types. The reader never throws and never reads past its limit:
 * every malformed input gives `null`, so a datagram cannot crash the agent.
 * The writer builds definite-length TLVs from parts.
 * @module
 */

/** One decoded TLV: `tag`, where it starts, where its content starts and ends. */
export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  content: number;
  /** Offset just past the content. */
  end: number;
}

/** Largest content length accepted (a UDP datagram is smaller). */
const MAX_LEN = 0xffff;

/**
 * Read the TLV at `pos`, which must end at or before `limit`. Refuses the
 * multi-byte tag form, the indefinite length, lengths over 4 bytes or 65535,
 * and non-minimal long-form lengths are accepted (X.690 BER allows them).
 */
export function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv | null {
  if (pos + 2 > limit) return null;
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) return null;
  let len = buf[pos + 1];
  let content = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || content + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[content + i];
    content += n;
    if (len > MAX_LEN) return null;
  }
  const end = content + len;
  if (end > limit) return null;
  return { tag, start: pos, content, end };
}

/** Read a TLV that must have tag `tag`. */
export function expect(buf: Uint8Array, pos: number, limit: number, tag: number): Tlv | null {
  const t = readTlv(buf, pos, limit);
  return t && t.tag === tag ? t : null;
}

/** A signed INTEGER of 1..4 content bytes (request ids, error fields), or null. */
export function int32Of(buf: Uint8Array, t: Tlv): number | null {
  const n = t.end - t.content;
  if (t.tag !== 0x02 || n < 1 || n > 4) return null;
  let v = buf[t.content] & 0x80 ? -1 : 0;
  for (let i = t.content; i < t.end; i++) v = (v * 256) + buf[i];
  // A negative first byte started at -1: (-1 * 256 + b) keeps the two's complement value.
  return v;
}

/** The sub-identifiers of an OBJECT IDENTIFIER's content, or null (at most 128, each < 2^32). */
export function oidOf(buf: Uint8Array, t: Tlv): number[] | null {
  if (t.tag !== 0x06 || t.end === t.content) return null;
  const out: number[] = [];
  let v = 0;
  let fresh = true;
  for (let i = t.content; i < t.end; i++) {
    const b = buf[i];
    if (fresh && b === 0x80) return null; // a sub-identifier may not start with a padding byte
    v = v * 128 + (b & 0x7f);
    if (v > 0xffffffff) return null;
    fresh = (b & 0x80) === 0;
    if (fresh) {
      if (out.length === 0) {
        // The first byte packs the first two arcs: X*40 + Y.
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        out.push(first, v - first * 40);
      } else out.push(v);
      v = 0;
      if (out.length > 128) return null;
    }
  }
  return fresh ? out : null; // the last sub-identifier must be complete
}

// ---- writer -------------------------------------------------------------------

/** A TLV's bytes: tag, definite length (short form when it fits), then the parts. */
export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head, 0);
  let at = head.length;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** A minimal two's complement INTEGER. */
export function integer(v: number): Uint8Array {
  const bytes: number[] = [];
  let x = v;
  do { bytes.unshift(x & 0xff); x = Math.floor(x / 256); } while (x !== 0 && x !== -1);
  if (v >= 0 && bytes[0] & 0x80) bytes.unshift(0);
  if (v < 0 && !(bytes[0] & 0x80)) bytes.unshift(0xff);
  return tlv(0x02, Uint8Array.from(bytes));
}

/** An OBJECT IDENTIFIER from its arcs (at least two). */
export function oid(arcs: readonly number[]): Uint8Array {
  const bytes: number[] = [];
  const push = (v: number) => {
    const groups: number[] = [v & 0x7f];
    for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    bytes.push(...groups);
  };
  push(arcs[0] * 40 + arcs[1]);
  for (let i = 2; i < arcs.length; i++) push(arcs[i]);
  return tlv(0x06, Uint8Array.from(bytes));
}

/** An unsigned value in a fixed number of big-endian bytes (uWSGI's Counter/Gauge form). */
export function fixedUnsigned(tag: number, value: bigint, width: 4 | 8): Uint8Array {
  const out = new Uint8Array(2 + width);
  out[0] = tag;
  out[1] = width;
  for (let i = 0; i < width; i++) out[2 + i] = Number((value >> BigInt(8 * (width - 1 - i))) & 0xffn);
  return out;
}

/** Dotted form of an OID, for logs and tests. */
export function oidText(arcs: readonly number[]): string { return arcs.join('.'); }
