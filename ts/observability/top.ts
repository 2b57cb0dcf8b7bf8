/**
 * `uwsgi-wasm top ADDR`: a terminal view of a stats server in uwsgitop's
 * layout (a header with the totals, the node line, then one line per worker
 * sorted by requests, refreshed every `--frequency` seconds). It reads our
 * stats server and real uWSGI's (`uwsgi --stats ADDR`, plain or
 * `--stats-http`), so it works wherever uwsgitop does, without Python. Below
 * the workers it adds one line each for what uwsgitop leaves out: caches,
 * mules, spoolers, signals.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { Connection, parseAddress } from '../client/connection.ts';
import { runtime } from '../platform/index.ts';

/** Largest stats document read (a real uWSGI with many workers and cores stays far below). */
const MAX_DOC_BYTES = 16 * 1024 * 1024;
/** How long one read of the stats may take (ms). */
const READ_TIMEOUT_MS = 5000;

/** What `top` is told on its command line. */
export interface TopOptions {
  /** The stats server: `host:port`, a unix socket path, `@abstract`, or `http://host:port/` for `--stats-http`. */
  address: string;
  /** Seconds between refreshes (default 1, at least 0.1). */
  frequency: number;
  /** Frames to show before exiting; 0 (default) runs until Ctrl-C. */
  count: number;
  /** Plain text: no screen clearing, no colours (for pipes and logs). */
  plain: boolean;
}

/** The usage line. */
export const TOP_USAGE = 'usage: uwsgi-wasm top [--frequency SECONDS] [--count N] [--plain] ADDRESS   (host:port, /path.sock, @name or http://host:port/)';

/** Parse `top`'s arguments; ERR_OPTION names what is wrong. */
export function parseTopArgs(argv: readonly string[]): TopOptions {
  const o: Partial<TopOptions> = { frequency: 1, count: 0, plain: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UwsgiError('ERR_OPTION', `top: ${flag} needs a value\n${TOP_USAGE}`);
      return v;
    };
    if (flag === '--frequency' || flag === '-f') {
      const f = Number(value());
      if (!Number.isFinite(f) || f < 0.1) throw new UwsgiError('ERR_OPTION', `top: --frequency must be a number of seconds, at least 0.1\n${TOP_USAGE}`);
      o.frequency = f;
    } else if (flag === '--count' || flag === '-n') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new UwsgiError('ERR_OPTION', `top: --count must be a whole number of frames\n${TOP_USAGE}`);
      o.count = n;
    } else if (flag === '--plain') o.plain = true;
    else if (a.startsWith('-') && a.length > 1) throw new UwsgiError('ERR_OPTION', `top: unknown option '${a}'\n${TOP_USAGE}`);
    else if (o.address !== undefined) throw new UwsgiError('ERR_OPTION', `top: one address only, got '${o.address}' and '${a}'\n${TOP_USAGE}`);
    else o.address = a;
  }
  if (o.address === undefined) throw new UwsgiError('ERR_OPTION', `top: the stats server's address is missing\n${TOP_USAGE}`);
  return o as TopOptions;
}

/** A stats document as far as `top` reads it (uWSGI's keys; ours are optional). */
export interface TopDoc {
  version?: string;
  pid?: number; uid?: number; gid?: number; cwd?: string;
  listen_queue?: number;
  sockets?: Array<{ queue?: number }>;
  workers?: TopWorker[];
  caches?: Array<{ name: string; items: number; max_items: number; hits: number; miss: number; full?: number }>;
  spoolers?: Array<{ dir: string; tasks: number; running: number; waiting?: number; failed?: number }>;
  mules?: Array<{ id: number; queue?: number }>;
  signal_queue?: number;
}

/** One worker, uWSGI's keys. */
export interface TopWorker {
  id: number; pid: number; requests: number; exceptions: number; signals?: number; status: string;
  avg_rt: number; rss: number; vsz: number; tx: number; respawn_count: number; harakiri_count: number;
  running_time: number; last_spawn: number;
}

/** host:port addresses whose stats server answered only over HTTP. */
const answersHttp = new Set<string>();

/**
 * Read the stats document at `address` once: a plain socket is read until it
 * closes, `http://` is fetched. A `host:port` whose server wrote nothing before
 * closing (or resetting the connection) is read again over HTTP: a
 * `--stats-http` server (npm start's, or uWSGI's) waits for a request instead
 * of writing on connect.
 */
export async function readStats(address: string): Promise<TopDoc> {
  // Once a host:port turned out to speak HTTP, later frames ask over HTTP at once (the plain attempt waits for the server to give up).
  if (answersHttp.has(address)) return readStats(`http://${address}/`);
  let text: string;
  if (/^https?:\/\//.test(address)) {
    let res: Response;
    try {
      res = await fetch(address, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
    } catch (e) {
      throw new UwsgiError('ERR_CONNECT', `top: ${address}: cannot read the stats (${(e as Error).message})`, { cause: e });
    }
    if (!res.ok) throw new UwsgiError('ERR_BAD_REPLY', `top: ${address}: HTTP ${res.status}`);
    text = await res.text();
  } else {
    const c = await Connection.open('top', parseAddress('top', address), READ_TIMEOUT_MS);
    try {
      text = new TextDecoder().decode(await c.readToEnd('top', MAX_DOC_BYTES, READ_TIMEOUT_MS, 'the stats document'));
    } catch (e) {
      // A server that gives up on a silent client may reset the connection rather than close it: before any
      // byte arrived, that says the same as a close without a word.
      if (!(e instanceof UwsgiError && e.code === 'ERR_CLOSED' && c.buffered === 0)) throw e;
      text = '';
    } finally {
      c.close();
    }
    if (text === '' && !address.startsWith('/') && !address.startsWith('@')) {
      const doc = await readStats(`http://${address}/`);
      answersHttp.add(address);
      return doc;
    }
  }
  try {
    const doc = JSON.parse(text) as TopDoc;
    if (doc === null || typeof doc !== 'object') throw new Error('not an object');
    return doc;
  } catch (e) {
    throw new UwsgiError('ERR_BAD_REPLY', `top: ${address}: the stats are not JSON (${(e as Error).message}): ${text.slice(0, 80)}`);
  }
}

/** uwsgitop's sizes: 1.5G, 20.0M, 3.2K, or bytes. */
export function humanSize(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}G`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)}M`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)}K`;
  return String(Math.trunc(n));
}

const COLUMNS: ReadonlyArray<readonly [string, number]> = [
  ['WID', 4], ['%', 5], ['PID', 8], ['REQ', 9], ['RPS', 6], ['EXC', 5], ['SIG', 5], ['STATUS', 8], ['AVG', 8],
  ['RSS', 7], ['VSZ', 7], ['TX', 7], ['ReSpwn', 7], ['HC', 4], ['RunT', 9], ['LastSpwn', 9],
];

const ANSI = { reset: '\x1b[0m', reverse: '\x1b[7m', green: '\x1b[32m', magenta: '\x1b[35m', yellow: '\x1b[33m', blue: '\x1b[34m' };

/** uwsgitop's colours by status: busy green, cheap magenta, sig yellow, pause blue. */
function statusColour(status: string): string {
  if (status === 'busy') return ANSI.green;
  if (status === 'cheap') return ANSI.magenta;
  if (status.startsWith('sig')) return ANSI.yellow;
  if (status === 'pause') return ANSI.blue;
  return '';
}

const pad = (s: string, w: number, left = false) => (left ? s.padEnd(w) : s.padStart(w));
const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * The view's state across refreshes: each worker's request count at the
 * previous frame, for requests per second (uwsgitop's RPS).
 */
export class TopView {
  #last = new Map<number, number>();
  #lastAt = 0;

  /**
   * The lines of one frame for `doc` read at `nowMs` (`colour`: ANSI reverse
   * video for the column header and uwsgitop's status colours).
   */
  frame(doc: TopDoc, nowMs: number, host: string, colour = false): string[] {
    const workers = [...(doc.workers ?? [])];
    const dt = this.#lastAt > 0 ? (nowMs - this.#lastAt) / 1000 : 0;
    const rps = new Map<number, number>();
    for (const w of workers) {
      const before = this.#last.get(w.id);
      rps.set(w.id, dt > 0 && before !== undefined ? Math.max(0, (n(w.requests) - before) / dt) : 0);
      this.#last.set(w.id, n(w.requests));
    }
    this.#lastAt = nowMs;
    const total = workers.reduce((s, w) => s + n(w.requests), 0);
    const totalRps = [...rps.values()].reduce((s, v) => s + v, 0);
    const tx = workers.reduce((s, w) => s + n(w.tx), 0);
    const lq = doc.listen_queue ?? (doc.sockets ?? []).reduce((s, x) => s + n(x.queue), 0);
    const lines: string[] = [];
    lines.push(`uwsgi${doc.version ? `-${doc.version}` : ''} - ${new Date(nowMs).toString().slice(0, 24)} - req: ${total} - RPS: ${Math.round(totalRps)} - lq: ${lq} - tx: ${humanSize(tx)}`);
    const node = [`node: ${host}`];
    if (doc.cwd !== undefined) node.push(`cwd: ${doc.cwd}`);
    if (doc.uid !== undefined) node.push(`uid: ${doc.uid}`);
    if (doc.gid !== undefined) node.push(`gid: ${doc.gid}`);
    if (doc.pid !== undefined) node.push(`masterpid: ${doc.pid}`);
    lines.push(node.join(' - '));
    const header = COLUMNS.map(([h, w], i) => pad(h, w, i === 7 || i === 0)).join(' ');
    lines.push(colour ? `${ANSI.reverse}${header}${ANSI.reset}` : header);
    // uwsgitop's order: most requests first.
    workers.sort((a, b) => n(b.requests) - n(a.requests) || a.id - b.id);
    for (const w of workers) {
      const runT = n(w.running_time) / 1000;
      const cells = [
        String(w.id), (total ? (100 * n(w.requests)) / total : 0).toFixed(1), String(n(w.pid)), String(n(w.requests)),
        String(Math.round(rps.get(w.id) ?? 0)), String(n(w.exceptions)), String(n(w.signals)), String(w.status ?? ''),
        `${Math.trunc(n(w.avg_rt) / 1000)}ms`, humanSize(n(w.rss)), humanSize(n(w.vsz)), humanSize(n(w.tx)),
        String(n(w.respawn_count)), String(n(w.harakiri_count)), runT > 9_999_999 ? `${Math.trunc(runT / 60_000)}m` : String(Math.trunc(runT)),
        n(w.last_spawn) ? new Date(n(w.last_spawn) * 1000).toTimeString().slice(0, 8) : '--:--:--',
      ];
      const line = COLUMNS.map(([, width], i) => pad(cells[i], width, i === 7 || i === 0)).join(' ');
      const c = colour ? statusColour(String(w.status ?? '')) : '';
      lines.push(c ? `${c}${line}${ANSI.reset}` : line);
    }
    lines.push(...extras(doc));
    return lines;
  }
}

/** One line per part of the document uwsgitop does not show, when the server has it. */
function extras(doc: TopDoc): string[] {
  const out: string[] = [];
  if (doc.caches?.length) {
    out.push(`caches: ${doc.caches.map((c) => {
      const lookups = n(c.hits) + n(c.miss);
      return `${c.name} ${n(c.items)}/${n(c.max_items)} items, ${lookups ? ((100 * n(c.hits)) / lookups).toFixed(1) : '-'}% hits${n(c.full) ? `, ${n(c.full)} full` : ''}`;
    }).join(' | ')}`);
  }
  if (doc.mules?.length) out.push(`mules: ${doc.mules.map((m) => `${m.id}${m.queue !== undefined ? ` (${m.queue} waiting)` : ''}`).join(', ')}`);
  if (doc.spoolers?.length) {
    out.push(`spoolers: ${doc.spoolers.map((s) => `${s.dir} ${n(s.tasks)} tasks${s.running ? ', running' : ''}${s.waiting !== undefined ? `, ${s.waiting} waiting` : ''}${s.failed ? `, ${s.failed} failed` : ''}`).join(' | ')}`);
  }
  if (n(doc.signal_queue) > 0) out.push(`signals waiting in the master's queue: ${doc.signal_queue}`);
  return out;
}

/** Where `top` writes, and how it learns it must stop (tests pass their own). */
export interface TopIo {
  write(text: string): void;
  /** Call `fn` on Ctrl-C / SIGTERM; returns a function removing the handler. */
  onStop(fn: () => void): () => void;
}

const CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * Run the view until Ctrl-C (or `count` frames). A failed read ends it with
 * the error, as uwsgitop does, except that in full-screen mode a server that
 * is restarting is retried (the error shows until it answers again).
 */
export async function runTop(opts: TopOptions, io: TopIo = defaultIo()): Promise<void> {
  const view = new TopView();
  const host = opts.address.startsWith('/') || opts.address.startsWith('@') ? runtime().hostname() : opts.address.replace(/^https?:\/\//, '').split(/[:/]/)[0];
  let stopped = false;
  let wake: (() => void) | undefined;
  const removeStop = io.onStop(() => { stopped = true; wake?.(); });
  if (!opts.plain) io.write(HIDE_CURSOR);
  try {
    for (let frame = 0; !stopped && (opts.count === 0 || frame < opts.count); frame++) {
      if (frame > 0) {
        await new Promise<void>((r) => { wake = r; setTimeout(r, opts.frequency * 1000); });
        if (stopped) break;
      }
      let lines: string[];
      try {
        lines = view.frame(await readStats(opts.address), Date.now(), host, !opts.plain);
      } catch (e) {
        if (opts.plain || opts.count > 0) throw e;
        lines = [`uwsgi-wasm top: ${(e as Error).message} (retrying every ${opts.frequency} s; Ctrl-C quits)`];
      }
      io.write(opts.plain ? `${lines.join('\n')}\n\n` : `${CLEAR}${lines.join('\n')}\n`);
    }
  } finally {
    removeStop();
    if (!opts.plain) io.write(SHOW_CURSOR);
  }
}

function defaultIo(): TopIo {
  // console.log adds the newline the frames end without; the text itself ends with one.
  return { write: (t) => console.log(t.endsWith('\n') ? t.slice(0, -1) : t), onStop: (fn) => runtime().onTerminationSignal(() => fn()) };
}
