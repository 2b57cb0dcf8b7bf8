/**
 * Fetch apps on both listeners: a `Request` that is built only when the app
 * reads more than its method and URL (most handlers of a hello world never
 * do), and a `Response` written to a node:http `ServerResponse`.
 *
 * The lazy request is an object whose prototype chain reaches
 * `Request.prototype` (so `instanceof Request` holds); `method` and `url` are
 * plain values, and every other member builds the real `Request` once and
 * delegates to it. @hono/node-server serves Fetch handlers on node:http the
 * same way; we keep our own because the same object also serves requests that
 * arrive as uwsgi vars, and because it must not replace the global `Request`
 * and `Response` of the app's thread.
 * @module
 */
import type { NodeResponse } from '../platform/index.ts';

const PARTS = Symbol('uwsgi-wasm.request');

/** What a lazy request is made from. */
export interface RequestParts {
  /** The absolute URL (already checked to parse). */
  url: string;
  method: string;
  /** The headers as pairs (values a `Headers` would refuse are left out). */
  headers(): Array<[string, string]>;
  /** The body, for methods that have one (called at most once). */
  body(): ReadableStream<Uint8Array> | null;
}

interface Lazy { [PARTS]: RequestParts & { real?: Request } }

function realRequest(o: Lazy): Request {
  const p = o[PARTS];
  if (p.real) return p.real;
  const init: RequestInit & { duplex?: 'half' } = { method: p.method, headers: p.headers() };
  if (p.method !== 'GET' && p.method !== 'HEAD') {
    const b = p.body();
    if (b) { init.body = b; init.duplex = 'half'; }
  }
  p.real = new Request(p.url, init);
  return p.real;
}

/** The prototype of every lazy request: Request's members, each delegating to the real request. */
const lazyPrototype: object = (() => {
  const proto = Object.create(Request.prototype) as Record<string | symbol, unknown>;
  for (const name of Object.getOwnPropertyNames(Request.prototype)) {
    if (name === 'constructor' || name === 'method' || name === 'url') continue;
    const d = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
    if (typeof d.value === 'function') {
      Object.defineProperty(proto, name, {
        value(this: Lazy, ...args: unknown[]) { const r = realRequest(this); return (r as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args); },
        writable: true, configurable: true,
      });
    } else if (d.get) {
      Object.defineProperty(proto, name, { get(this: Lazy) { return (realRequest(this) as unknown as Record<string, unknown>)[name]; }, configurable: true });
    }
  }
  Object.defineProperty(proto, 'method', { get(this: Lazy) { return this[PARTS].method; }, configurable: true });
  Object.defineProperty(proto, 'url', { get(this: Lazy) { return this[PARTS].url; }, configurable: true });
  return proto;
})();

/** A `Request` made from `parts`, built for real only when the app reads its headers, body, signal... */
export function lazyRequest(parts: RequestParts): Request {
  const o = Object.create(lazyPrototype) as Lazy;
  o[PARTS] = parts;
  return o as unknown as Request;
}

/** A host[:port] whose concatenation into a URL cannot move the URL's other parts. */
const PLAIN_HOST = /^[A-Za-z0-9.-]+(?::\d*)?$|^\[[0-9A-Fa-f:.]+\](?::\d*)?$/;

/**
 * The absolute URL of a request from its scheme, Host and target, or null when
 * none parses. The common case (a plain host, an origin-form target) is a
 * concatenation; anything else goes through `URL`.
 */
export function requestUrl(scheme: string, host: string, fallbackHost: string, target: string): string | null {
  const second = target.charCodeAt(1);
  if (target.charCodeAt(0) === 47 && second !== 47 && second !== 92 && PLAIN_HOST.test(host)) return `${scheme}://${host}${target}`;
  const path = target.startsWith('/') ? target : `/${target}`;
  for (const h of [host, fallbackHost, 'localhost']) {
    try { return new URL(path, `${scheme}://${h}`).href; } catch { /* next */ }
  }
  return null;
}

/** Whether a header value is one `Headers` accepts (no NUL, CR or LF; a control byte never reaches a response either). */
export function headerValueOk(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return false;
  }
  return true;
}

/** Headers of a response as node:http's `writeHead` takes them (repeated `set-cookie` as an array), without hop-by-hop ones. */
export function nodeHeaders(res: Response, contentLength: number | undefined): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  res.headers.forEach((v, k) => {
    if (k !== 'set-cookie' && k !== 'connection' && k !== 'transfer-encoding' && k !== 'keep-alive') out[k] = v;
  });
  const cookies = (res.headers as Headers & { getSetCookie?: () => string[] }).getSetCookie?.() ?? [];
  if (cookies.length) out['set-cookie'] = cookies;
  if (contentLength !== undefined && out['content-length'] === undefined) out['content-length'] = String(contentLength);
  return out;
}

/**
 * The key of undici's internal state on a `Response`, where the body a
 * response was made from (a string or bytes) is kept: when it is there, the
 * body is written as it is, without reading the web stream `Response` made of
 * it (a stream, a reader and two reads per response otherwise; @hono/node-server
 * takes the same shortcut). Undefined where `Response` keeps no such key.
 */
const stateKey: symbol | undefined = (() => {
  try {
    return Reflect.ownKeys(new Response('')).find((k): k is symbol => typeof k === 'symbol' && k.description === 'state');
  } catch {
    return undefined;
  }
})();

/** The string or bytes `r` was made from, while its stream is untouched; undefined otherwise. */
export function bodySource(r: Response): string | Uint8Array | undefined {
  if (stateKey === undefined || r.bodyUsed) return undefined;
  const body = (r as unknown as Record<symbol, { body?: { source?: unknown; stream?: ReadableStream & { locked?: boolean } } | null } | undefined>)[stateKey]?.body;
  const src = body?.source;
  if (body?.stream?.locked) return undefined;
  return typeof src === 'string' || src instanceof Uint8Array ? src : undefined;
}

/** UTF-8 length of a string (its length when it is ASCII, the common case). */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) { n += 2; i++; } // a surrogate pair: 4 bytes for 2 units
    else n += 2;
  }
  return n;
}

/**
 * Write a Fetch `Response` to a node:http response: a body of at most one
 * chunk (most responses) goes out with a Content-Length in one write; a
 * longer stream is written with backpressure (node:http chunks it, or sends it
 * until close for HTTP/1.0). A client that stops reading for `stallMs` has its
 * connection destroyed. `head`: a HEAD request (no body is sent).
 */
export async function writeNodeResponse(r: Response, res: NodeResponse, head: boolean, stallMs: number): Promise<void> {
  const status = r.status;
  const reason = r.statusText || undefined;
  if (head || !r.body) {
    res.writeHead(status, reason, nodeHeaders(r, head ? undefined : 0));
    res.end();
    if (head) await r.body?.cancel().catch(() => undefined);
    return;
  }
  const src = bodySource(r);
  if (src !== undefined) {
    res.writeHead(status, reason, nodeHeaders(r, typeof src === 'string' ? utf8Length(src) : src.length));
    res.end(src);
    return;
  }
  const reader = r.body.getReader();
  const a = await reader.read();
  if (a.done) { res.writeHead(status, reason, nodeHeaders(r, 0)); res.end(); return; }
  const b = await reader.read();
  if (b.done) { res.writeHead(status, reason, nodeHeaders(r, a.value.length)); res.end(a.value); return; }
  res.writeHead(status, reason, nodeHeaders(r, undefined));
  let chunk: Uint8Array | undefined = a.value;
  let next: Uint8Array | undefined = b.value;
  while (chunk) {
    if (res.writableEnded || res.socket?.destroyed) { await reader.cancel().catch(() => undefined); return; }
    if (!res.write(chunk) && !await drained(res, stallMs)) {
      res.socket?.destroy();
      await reader.cancel().catch(() => undefined);
      return;
    }
    chunk = next;
    next = undefined;
    if (!chunk) {
      const r2 = await reader.read();
      if (!r2.done) chunk = r2.value;
    }
  }
  res.end();
}

/** Resolves true on `drain` (or close), false when `ms` pass first (-1: no limit). */
function drained(res: NodeResponse, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ok: boolean) => { clearTimeout(timer); res.off('drain', onDrain); res.off('close', onDrain); resolve(ok); };
    const onDrain = () => done(true);
    res.once('drain', onDrain);
    res.once('close', onDrain);
    if (ms >= 0) timer = setTimeout(() => done(false), ms);
  });
}
