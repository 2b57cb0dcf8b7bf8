/**
 * uWSGI 0.9/1.x's two callable packet handlers, answered on `--socket`:
 *
 * - **fastfuncs** (modifier1 26): `uwsgi.fastfuncs` is a list of 256 slots;
 *   a packet with modifier2 N calls `fastfuncs[N]` and what it returns is the
 *   answer. uWSGI 0.9 (uwsgi_request_fastfunc) called the slot with no
 *   arguments and wrote its WSGI-style result; here the function gets the
 *   packet's body (a Uint8Array, uWSGI left it unparsed in its buffer) and may
 *   return a `Response` (written as an HTTP response, as a fastfunc that called
 *   start_response was), bytes or a string (written as they are), or nothing.
 *   An empty slot, as in uWSGI, answers nothing and closes.
 * - **message_manager_marshal** (modifier1 33): the body is a Python
 *   `marshal` value; uWSGI (uwsgi_request_marshal) called
 *   `message_manager_marshal(obj, modifier2)` and sent the result back
 *   marshalled, under the same header (33, size, modifier2), when it fits in
 *   65535 bytes. Here the handler gets the decoded value (ts/protocol/marshal.ts)
 *   and may return a value or a promise of one.
 *
 * Both live in the calling thread's module object (a worker registers them at
 * import, as each forked uWSGI worker had the module's). A handler that throws
 * is logged and the connection closed without an answer, as uWSGI printed the
 * Python error and wrote nothing.
 * @module
 */
import { UwsgiError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import type { Packet } from '../protocol/codec.ts';
import { marshalDumps, marshalLoads } from '../protocol/marshal.ts';

/** Modifier1 of a fast-function call (uWSGI's UWSGI_MODIFIER_FASTFUNC). */
export const MOD_FASTFUNC = 26;
/** Modifier1 of a marshalled message (uWSGI's UWSGI_MODIFIER_MESSAGE_MARSHAL). */
export const MOD_MARSHAL = 33;
/** Slots of `uwsgi.fastfuncs` (modifier2 is one byte). */
export const FASTFUNC_SLOTS = 256;

/** What a fast function returns: the answer's bytes, text, an HTTP Response, or nothing. */
export type FastfuncResult = Response | Uint8Array | string | null | undefined | void;
/** A fast function: called with the packet's body. */
export type Fastfunc = (body: Uint8Array) => FastfuncResult | Promise<FastfuncResult>;
/** The marshalled-message handler: the decoded value and the packet's modifier2; its result is sent back. */
export type MarshalHandler = (message: unknown, modifier2: number) => unknown;

interface Handlers { fastfuncs: Array<Fastfunc | null>; marshal: MarshalHandler | null; log: (line: string) => void }

/** This thread's fast functions and marshal handler (one module object per thread, as uWSGI's per process). */
export const handlersOf = threadService<Handlers>(() => ({
  fastfuncs: new Array<Fastfunc | null>(FASTFUNC_SLOTS).fill(null),
  marshal: null,
  log: (line) => console.error(line),
}));

/** Where an answer goes (the server's PacketIO). */
interface Out { write(bytes: Uint8Array): Promise<void> }

const enc = new TextEncoder();

/** A Response as an HTTP/1.1 answer on a raw uwsgi connection (the connection closes after it). */
async function httpBytes(r: Response): Promise<Uint8Array> {
  const body = new Uint8Array(await r.arrayBuffer());
  let head = `HTTP/1.1 ${r.status} ${r.statusText || 'OK'}\r\n`;
  r.headers.forEach((v, k) => { if (k !== 'content-length' && k !== 'connection') head += `${k}: ${v}\r\n`; });
  head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const h = enc.encode(head);
  const out = new Uint8Array(h.length + body.length);
  out.set(h);
  out.set(body, h.length);
  return out;
}

/** Modifier 26: call `fastfuncs[modifier2]`. Returns false when nothing was written (the caller closes). */
export async function serveFastfunc(ctx: ThreadContext, pkt: Packet, io: Out): Promise<boolean> {
  const h = handlersOf(ctx);
  const fn = h.fastfuncs[pkt.modifier2];
  if (typeof fn !== 'function') return false;
  let r: FastfuncResult;
  try {
    r = await fn(pkt.body);
  } catch (e) {
    h.log(`fastfunc ${pkt.modifier2} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    return false;
  }
  if (r === null || r === undefined) return false;
  if (typeof r === 'string') r = enc.encode(r);
  else if (r instanceof Response) r = await httpBytes(r);
  else if (!(r instanceof Uint8Array)) {
    h.log(`fastfunc ${pkt.modifier2} returned ${typeName(r)}: a fast function returns a Response, a Uint8Array, a string or nothing`);
    return false;
  }
  await io.write(r);
  return true;
}

/** Modifier 33: decode the marshalled body, call the handler, send its result marshalled. False when nothing was written. */
export async function serveMarshal(ctx: ThreadContext, pkt: Packet, io: Out): Promise<boolean> {
  const h = handlersOf(ctx);
  if (typeof h.marshal !== 'function') return false;
  let reply: Uint8Array;
  try {
    const message = marshalLoads(pkt.body);
    const result = await h.marshal(message, pkt.modifier2);
    reply = marshalDumps(result);
  } catch (e) {
    h.log(`message_manager_marshal failed: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
  // uWSGI: "marshalled object is too big. skip" (the reply's size field is 16 bits).
  if (reply.length > 0xffff) { h.log(`message_manager_marshal: the marshalled reply is ${reply.length} bytes (at most 65535): not sent`); return false; }
  const out = new Uint8Array(4 + reply.length);
  out.set([MOD_MARSHAL, reply.length & 0xff, reply.length >>> 8, pkt.modifier2]);
  out.set(reply, 4);
  await io.write(out);
  return true;
}

/** Check a value assigned to `uwsgi.message_manager_marshal`. */
export function marshalHandlerArg(v: unknown): MarshalHandler | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `message_manager_marshal must be a function or null, got ${typeName(v)}`);
  return v as MarshalHandler;
}
