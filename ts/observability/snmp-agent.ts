/**
 * The master's SNMP agent (`--snmp=ADDR`): SNMPv1 and v2c over UDP under
 * 1.3.6.1.4.1.35156.17, as uWSGI's, plus GetNext/GetBulk (so `snmpwalk`
 * works), error replies and community checks.
 *
 * Objects:
 * - `.1.1` total requests (Counter64); `.1.(30+N)` requests of worker N (Counter64);
 *   other `.1.x`, x ≤ 100: unassigned (NULL, as uWSGI answers).
 * - `.2.1` … `.2.100` the user slots (`snmp_set_counter32`…): their type, NULL while unset.
 *
 * Answers:
 * - Get of one of those OIDs, in uWSGI's request form, is answered with uWSGI's
 *   bytes: the request echoed with tag 0xA2 and the value in fixed width.
 * - Get of any other OID: v1 noSuchName (error-status 2, error-index), v2c the
 *   varbind value noSuchObject (outside `.1`/`.2`) or noSuchInstance.
 * - GetNext/GetBulk walk the objects that hold a value (unset slots and
 *   unassigned `.1.x` are skipped); past the last one, v1 noSuchName and v2c
 *   endOfMibView.
 * - Set: v1 noSuchName, v2c notWritable (every object is read-only here).
 * - A wrong or unset community, a malformed or truncated message, SNMPv3, or a
 *   PDU an agent never receives (responses, traps): no answer, as uWSGI (and
 *   RFC 3584) do.
 * @module
 */
import { type Tlv, expect, fixedUnsigned, int32Of, integer, oid, oidOf, readTlv, tlv } from './ber.ts';
import type { SnmpSlot } from './snmp.ts';
import { SnmpTag } from '../kernel/abi.ts';

/** 1.3.6.1.4.1.35156.17 */
export const UWSGI_OID: readonly number[] = [1, 3, 6, 1, 4, 1, 35156, 17];

const SEQUENCE = 0x30, INTEGER = 0x02, OCTETS = 0x04, NULL_TAG = 0x05;
const GET = 0xa0, GETNEXT = 0xa1, RESPONSE = 0xa2, SET = 0xa3, GETBULK = 0xa5;
const COUNTER64 = 0x46;
const NO_SUCH_OBJECT = 0x80, NO_SUCH_INSTANCE = 0x81, END_OF_MIB_VIEW = 0x82;
const ERR_TOO_BIG = 1, ERR_NO_SUCH_NAME = 2, ERR_NOT_WRITABLE = 17;
/** Varbinds one request may carry. */
const MAX_VARBINDS = 64;
/** Largest answer, in bytes: a common path MTU, well under the 65,507-byte UDP limit. */
const MAX_RESPONSE = 1400;
/** Objects a GetBulk answer carries at most. */
const MAX_BULK = 128;
/**
 * Largest request read, in bytes: 64 varbinds of the longest OIDs fit well
 * under it; anything larger is dropped before it is parsed.
 */
export const MAX_SNMP_REQUEST = 8192;

/** Where the agent reads the values it serves. */
export interface SnmpSource {
  /** The community the agent answers (empty: nobody). */
  community(): Uint8Array;
  /** User slot `n` (1..100). */
  slot(n: number): SnmpSlot;
  /** Total requests of the instance (`.1.1`). */
  totalRequests(): bigint;
  /** Requests of each worker, by worker id - 1 (`.1.31`…). */
  workerRequests(): bigint[];
}

/** A value to encode: a BER tag and, for the number types, the value. */
interface Value { tag: number; value: bigint }

interface Varbind { oid: number[]; /** the OID's TLV bytes as received */ raw: Uint8Array }

interface Request {
  version: number;
  /** Raw TLVs echoed in the answer: version, community, request-id. */
  rawVersion: Uint8Array;
  rawCommunity: Uint8Array;
  rawRequestId: Uint8Array;
  /** Error fields (or GetBulk's non-repeaters and max-repetitions) and their raw TLVs. */
  field2: number;
  field3: number;
  rawField2: Uint8Array;
  rawField3: Uint8Array;
  pdu: number;
  varbinds: Varbind[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Decode a datagram into a request; null for anything malformed (never throws). */
export function parseRequest(buf: Uint8Array): Request | null {
  const msg = expect(buf, 0, buf.length, SEQUENCE);
  if (!msg || msg.end !== buf.length) return null;
  const ver = expect(buf, msg.content, msg.end, INTEGER);
  if (!ver) return null;
  const version = int32Of(buf, ver);
  if (version !== 0 && version !== 1) return null;
  const comm = expect(buf, ver.end, msg.end, OCTETS);
  if (!comm) return null;
  const pdu = readTlv(buf, comm.end, msg.end);
  if (!pdu || pdu.end !== msg.end) return null;
  if (pdu.tag !== GET && pdu.tag !== GETNEXT && pdu.tag !== SET && !(pdu.tag === GETBULK && version === 1)) return null;
  const reqId = expect(buf, pdu.content, pdu.end, INTEGER);
  if (!reqId || int32Of(buf, reqId) === null) return null;
  const f2 = expect(buf, reqId.end, pdu.end, INTEGER);
  const f2v = f2 && int32Of(buf, f2);
  if (!f2 || f2v === null) return null;
  const f3 = expect(buf, f2.end, pdu.end, INTEGER);
  const f3v = f3 && int32Of(buf, f3);
  if (!f3 || f3v === null) return null;
  const list = expect(buf, f3.end, pdu.end, SEQUENCE);
  if (!list || list.end !== pdu.end) return null;
  const varbinds: Varbind[] = [];
  for (let at = list.content; at < list.end;) {
    if (varbinds.length === MAX_VARBINDS) return null;
    const vb = expect(buf, at, list.end, SEQUENCE);
    if (!vb) return null;
    const o = expect(buf, vb.content, vb.end, 0x06);
    const arcs = o && oidOf(buf, o);
    if (!o || !arcs) return null;
    const value = readTlv(buf, o.end, vb.end);
    if (!value || value.end !== vb.end) return null;
    varbinds.push({ oid: arcs, raw: buf.slice(o.start, o.end) });
    at = vb.end;
  }
  const raw = (t: Tlv) => buf.slice(t.start, t.end);
  return {
    version, rawVersion: raw(ver), rawCommunity: raw(comm), rawRequestId: raw(reqId),
    field2: f2v, field3: f3v, rawField2: raw(f2), rawField3: raw(f3), pdu: pdu.tag, varbinds,
  };
}

/** Compare two OIDs in lexicographic order. */
function compareOid(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** `oid` under 1.3.6.1.4.1.35156.17: the arcs after it, or null. */
function underUwsgi(arcs: readonly number[]): number[] | null {
  if (arcs.length < UWSGI_OID.length) return null;
  for (let i = 0; i < UWSGI_OID.length; i++) if (arcs[i] !== UWSGI_OID[i]) return null;
  return arcs.slice(UWSGI_OID.length);
}

/** The agent's answers, independent of any socket (tests feed it datagrams). */
export class SnmpResponder {
  readonly #src: SnmpSource;
  constructor(source: SnmpSource) { this.#src = source; }

  /** The value of `.group.index` (uWSGI's objects), NULL when unassigned or unset; null when no such instance. */
  #value(group: number, index: number, workers?: bigint[]): Value | null {
    if (index < 1 || index > 100) return null;
    if (group === 1) {
      if (index === 1) return { tag: COUNTER64, value: this.#src.totalRequests() };
      const w = workers ?? this.#src.workerRequests();
      if (index > 30 && index - 30 <= w.length) return { tag: COUNTER64, value: w[index - 31] };
      return { tag: NULL_TAG, value: 0n };
    }
    if (group === 2) {
      const s = this.#src.slot(index);
      return s.type === null ? { tag: NULL_TAG, value: 0n } : { tag: SnmpTag[s.type], value: s.value };
    }
    return null;
  }

  /** Get: the value, or the v2c exception tag for an OID that names nothing. */
  #get(arcs: readonly number[]): Value | { exception: number } {
    const rest = underUwsgi(arcs);
    if (rest && rest.length === 2) {
      const v = this.#value(rest[0], rest[1]);
      if (v) return v;
    }
    const instanceOf = rest !== null && rest.length >= 2 && (rest[0] === 1 || rest[0] === 2);
    return { exception: instanceOf ? NO_SUCH_INSTANCE : NO_SUCH_OBJECT };
  }

  /** The objects that hold a value, in OID order. */
  #populated(): Array<{ oid: number[]; value: Value }> {
    const out: Array<{ oid: number[]; value: Value }> = [];
    const workers = this.#src.workerRequests();
    for (const group of [1, 2]) {
      for (let i = 1; i <= 100; i++) {
        const v = this.#value(group, i, workers);
        if (v && v.tag !== NULL_TAG) out.push({ oid: [...UWSGI_OID, group, i], value: v });
      }
    }
    return out;
  }

  /**
   * The answer to datagram `buf`, or null when it gets none (bad community,
   * malformed, not a request). Never throws on any input.
   */
  respond(buf: Uint8Array): Uint8Array | null {
    const req = parseRequest(buf);
    if (!req) return null;
    const community = this.#src.community();
    const asked = req.rawCommunity.subarray(communityHeader(req.rawCommunity));
    if (community.length === 0 || !sameBytes(asked, community)) return null;
    if (req.pdu === GET) return this.#answerGet(req);
    if (req.pdu === GETNEXT) return this.#answerNext(req, 0, 1);
    if (req.pdu === GETBULK) return this.#answerNext(req, Math.max(0, req.field2), Math.max(0, req.field3));
    return this.#answerSet(req);
  }

  #answerGet(req: Request): Uint8Array {
    const out: Uint8Array[] = [];
    for (let i = 0; i < req.varbinds.length; i++) {
      const vb = req.varbinds[i];
      const v = this.#get(vb.oid);
      if ('exception' in v) {
        if (req.version === 0) return this.#error(req, ERR_NO_SUCH_NAME, i + 1);
        out.push(tlv(SEQUENCE, vb.raw, new Uint8Array([v.exception, 0])));
      } else out.push(tlv(SEQUENCE, vb.raw, encodeValue(v)));
    }
    return this.#response(req, 0, 0, out, true);
  }

  /** GetNext (nonRepeaters = 0, maxRepetitions = 1) and GetBulk. */
  #answerNext(req: Request, nonRepeaters: number, maxRepetitions: number): Uint8Array {
    const objects = this.#populated();
    const next = (after: readonly number[]) => objects.find((o) => compareOid(o.oid, after) > 0);
    const out: Uint8Array[] = [];
    const n = Math.min(nonRepeaters, req.varbinds.length);
    const repeaters = req.varbinds.slice(n);
    const one = (after: readonly number[], raw: Uint8Array): number[] | null => {
      const o = next(after);
      if (o) { out.push(tlv(SEQUENCE, oid(o.oid), encodeValue(o.value))); return o.oid; }
      out.push(tlv(SEQUENCE, raw, new Uint8Array([END_OF_MIB_VIEW, 0])));
      return null;
    };
    for (let i = 0; i < req.varbinds.length && i < (req.pdu === GETBULK ? n : req.varbinds.length); i++) {
      const got = one(req.varbinds[i].oid, req.varbinds[i].raw);
      if (!got && req.version === 0) return this.#error(req, ERR_NO_SUCH_NAME, i + 1);
    }
    if (req.pdu === GETBULK && repeaters.length > 0) {
      let last = repeaters.map((v) => ({ oid: v.oid as number[] | null, raw: v.raw }));
      for (let r = 0; r < maxRepetitions && out.length < MAX_BULK && last.some((l) => l.oid); r++) {
        last = last.map((l) => {
          if (!l.oid) { out.push(tlv(SEQUENCE, l.raw, new Uint8Array([END_OF_MIB_VIEW, 0]))); return l; }
          const got = one(l.oid, l.raw);
          return { oid: got, raw: got ? oid(got) : l.raw };
        });
        if (size(out) > MAX_RESPONSE) { while (size(out) > MAX_RESPONSE) out.pop(); break; }
      }
    }
    return this.#response(req, 0, 0, out, false);
  }

  #answerSet(req: Request): Uint8Array {
    return this.#error(req, req.version === 0 ? ERR_NO_SUCH_NAME : ERR_NOT_WRITABLE, 1);
  }

  /** An error answer: the request's varbinds echoed, with error-status and error-index. */
  #error(req: Request, status: number, index: number): Uint8Array {
    const echoed = req.varbinds.map((vb) => tlv(SEQUENCE, vb.raw, new Uint8Array([NULL_TAG, 0])));
    return this.#response(req, status, index, echoed, false);
  }

  #response(req: Request, status: number, index: number, varbinds: Uint8Array[], echoErrors: boolean): Uint8Array {
    if (size(varbinds) > MAX_RESPONSE) return this.#response(req, ERR_TOO_BIG, 0, [], false);
    // A Get answered without error echoes the request's zero error fields, as uWSGI does.
    const keep = echoErrors && status === 0 && req.field2 === 0 && req.field3 === 0;
    const f2 = keep ? req.rawField2 : integerTlv(status);
    const f3 = keep ? req.rawField3 : integerTlv(index);
    return tlv(SEQUENCE, req.rawVersion, req.rawCommunity, tlv(RESPONSE, req.rawRequestId, f2, f3, tlv(SEQUENCE, ...varbinds)));
  }
}

function size(parts: Uint8Array[]): number { let n = 0; for (const p of parts) n += p.length; return n; }

/** Length of an OCTET STRING TLV's header (tag + length bytes). */
function communityHeader(raw: Uint8Array): number { return raw[1] & 0x80 ? 2 + (raw[1] & 0x7f) : 2; }

function integerTlv(v: number): Uint8Array { return integer(v); }

/** uWSGI's value form: Counter32/Gauge32 in 4 bytes, Counter64 in 8, NULL. */
function encodeValue(v: Value): Uint8Array {
  if (v.tag === NULL_TAG) return Uint8Array.of(NULL_TAG, 0);
  return fixedUnsigned(v.tag, v.value, v.tag === COUNTER64 ? 8 : 4);
}
