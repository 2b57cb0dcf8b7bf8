/**
 * The EPMD client (erts/doc "Distribution Protocol", EPMD part): where a node
 * listens (PORT_PLEASE2_REQ) and registering ours (ALIVE2_REQ, kept for as
 * long as its connection stays open). Requests carry a 2-byte length;
 * replies do not. Failures are typed and name the step: `ERR_CONNECT` (no
 * EPMD there), `ERR_NOT_FOUND` (EPMD knows no such node), `ERR_EXISTS` (the
 * name is registered already), `ERR_TIMEOUT`, `ERR_BAD_REPLY`.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { type Socket, runtime } from '../platform/index.ts';
import { frame } from './frames.ts';

/** EPMD's well-known port (`ERL_EPMD_PORT` overrides it, as for `erl`). */
export const EPMD_PORT = 4369;

/** Where an EPMD listens. */
export interface EpmdAddress { readonly host: string; readonly port: number }

/** Node type in EPMD: 77 normal, 72 hidden (what C nodes, and this node, register as). */
export const NODE_TYPE_HIDDEN = 72;
/** Distribution protocol versions this node speaks (OTP 23+ handshake only: 6). */
export const DIST_VERSION = 6;

const PORT_PLEASE2_REQ = 0x7a;
const PORT2_RESP = 0x77;
const ALIVE2_REQ = 0x78;
const ALIVE2_X_RESP = 0x76;
const ALIVE2_RESP = 0x79;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** What EPMD says of a node. */
export interface NodePort {
  /** The TCP port its distribution listener accepts on. */
  port: number;
  /** 77 normal, 72 hidden. */
  type: number;
  /** Highest and lowest distribution versions it speaks. */
  highest: number;
  lowest: number;
}

const where = (a: EpmdAddress) => `epmd at ${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/**
 * Open a connection to EPMD, send `request`, and call `onData` with every
 * chunk; resolves with the socket once connected. Rejects `ERR_CONNECT`.
 */
function openEpmd(fn: string, epmd: EpmdAddress, timeoutMs: number, handlers: { onData(c: Uint8Array): void; onClose(error?: string): void }): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let connected = false;
    const timer = timeoutMs >= 0 ? setTimeout(() => {
      sock.destroy();
      reject(new UwsgiError('ERR_TIMEOUT', `${fn}: ${where(epmd)}: no connection within ${timeoutMs} ms`));
    }, timeoutMs) : undefined;
    const sock = runtime().connect({ host: epmd.host, port: epmd.port }, {
      onConnect: () => { connected = true; clearTimeout(timer); resolve(sock); },
      onData: (c) => handlers.onData(c),
      onEnd: () => {},
      onDrain: () => {},
      onClose: (error) => {
        clearTimeout(timer);
        if (!connected) reject(new UwsgiError('ERR_CONNECT', `${fn}: ${where(epmd)}: cannot connect (${error?.code ?? 'closed'}${error ? `: ${error.message}` : ''}); is epmd running?`));
        else handlers.onClose(error?.code);
      },
    });
  });
}

/**
 * Ask EPMD at `epmd` where node `name` (the part before `@`) listens.
 * `ERR_NOT_FOUND` when EPMD does not know it.
 */
export async function portPlease(fn: string, epmd: EpmdAddress, name: string, timeoutMs: number): Promise<NodePort> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done!: (error?: string) => void;
  const closed = new Promise<string | undefined>((r) => { done = r; });
  const sock = await openEpmd(fn, epmd, timeoutMs, {
    onData: (c) => { if (total < 4096) { chunks.push(c); total += c.length; } },
    onClose: (e) => done(e),
  });
  // EPMD closes the connection after its answer.
  sock.write(frame(2, Uint8Array.of(PORT_PLEASE2_REQ, ...utf8.encode(name))));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((r) => { timer = setTimeout(() => r(true), timeoutMs < 0 ? 2 ** 31 - 1 : timeoutMs); }),
  ]);
  clearTimeout(timer);
  sock.destroy();
  if (timedOut) throw new UwsgiError('ERR_TIMEOUT', `${fn}: ${where(epmd)}: no answer about '${name}' within ${timeoutMs} ms`);
  const b = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) { b.set(c, o); o += c.length; }
  if (b.length < 2 || b[0] !== PORT2_RESP) throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${where(epmd)}: not an EPMD answer (${b.length} byte(s))`);
  if (b[1] !== 0) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: ${where(epmd)} knows no node named '${name}'`);
  if (b.length < 12) throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${where(epmd)}: a truncated answer about '${name}'`);
  const dv = new DataView(b.buffer);
  return { port: dv.getUint16(2), type: b[4]!, highest: dv.getUint16(6), lowest: dv.getUint16(8) };
}

/** A registration with EPMD: it lasts while `socket` stays open. */
export interface EpmdRegistration {
  /** The creation EPMD gave this incarnation of the node (part of every pid, port and reference). */
  creation: number;
  /** End the registration. */
  close(): void;
}

/**
 * Register node `name` listening on `port` with the EPMD at `epmd` (which
 * must be on this machine: EPMD refuses registrations from elsewhere).
 * `onLost` runs if EPMD goes away later. `ERR_EXISTS` when the name is taken.
 */
export async function register(epmd: EpmdAddress, name: string, port: number, timeoutMs: number, onLost: () => void): Promise<EpmdRegistration> {
  const fn = `erlang: register '${name}'`;
  const got: number[] = [];
  let answered!: (v: number[] | string) => void;
  const answer = new Promise<number[] | string>((r) => { answered = r; });
  let registered = false;
  let closing = false;
  const sock = await openEpmd(fn, epmd, timeoutMs, {
    onData: (c) => {
      if (registered) return;
      got.push(...c.subarray(0, 16));
      const need = got[0] === ALIVE2_X_RESP ? 6 : got[0] === ALIVE2_RESP ? 4 : 1;
      if (got.length >= need) answered(got);
    },
    onClose: (e) => {
      if (!registered) answered(e ?? 'closed');
      else if (!closing) onLost();
    },
  });
  const nameBytes = utf8.encode(name);
  const req = new Uint8Array(13 + nameBytes.length);
  const dv = new DataView(req.buffer);
  req[0] = ALIVE2_REQ;
  dv.setUint16(1, port);
  req[3] = NODE_TYPE_HIDDEN;
  req[4] = 0; // TCP over IPv4
  dv.setUint16(5, DIST_VERSION);
  dv.setUint16(7, DIST_VERSION);
  dv.setUint16(9, nameBytes.length);
  req.set(nameBytes, 11);
  dv.setUint16(11 + nameBytes.length, 0); // no extra
  sock.write(frame(2, req));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const reply = await Promise.race([answer, new Promise<string>((r) => { timer = setTimeout(() => r('timeout'), timeoutMs < 0 ? 2 ** 31 - 1 : timeoutMs); })]);
  clearTimeout(timer);
  if (typeof reply === 'string') {
    sock.destroy();
    if (reply === 'timeout') throw new UwsgiError('ERR_TIMEOUT', `${fn}: ${where(epmd)}: no answer within ${timeoutMs} ms`);
    throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${where(epmd)} closed the connection without answering (${reply})`);
  }
  const b = Uint8Array.from(reply);
  const rdv = new DataView(b.buffer);
  if (b[0] !== ALIVE2_X_RESP && b[0] !== ALIVE2_RESP) { sock.destroy(); throw new UwsgiError('ERR_BAD_REPLY', `${fn}: ${where(epmd)}: not an EPMD answer (tag ${b[0]})`); }
  if (b[1] !== 0) {
    sock.destroy();
    throw new UwsgiError('ERR_EXISTS', `${fn}: ${where(epmd)} refused the name (result ${b[1]}): a node named '${name}' is probably running already`);
  }
  registered = true;
  const creation = b[0] === ALIVE2_X_RESP ? rdv.getUint32(2) : rdv.getUint16(2);
  return { creation, close: () => { closing = true; sock.destroy(); } };
}

/** The names EPMD at `epmd` lists (NAMES_REQ), as `[name, port]`: tests and diagnostics. */
export async function names(epmd: EpmdAddress, timeoutMs: number): Promise<Array<[string, number]>> {
  const chunks: number[] = [];
  let done!: () => void;
  const closed = new Promise<void>((r) => { done = r; });
  const sock = await openEpmd('erlang: epmd names', epmd, timeoutMs, { onData: (c) => { if (chunks.length < 65536) chunks.push(...c); }, onClose: () => done() });
  sock.write(frame(2, Uint8Array.of(0x6e)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([closed, new Promise<void>((r) => { timer = setTimeout(r, timeoutMs); })]);
  clearTimeout(timer);
  sock.destroy();
  const text = utf8d.decode(Uint8Array.from(chunks.slice(4)));
  return [...text.matchAll(/^name (\S+) at port (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]);
}
