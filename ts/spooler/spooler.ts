/**
 * The spooler: tasks written as files into spool directories (uWSGI's exact
 * format, ts/spooler/file.ts), run later by spooler threads that call the user's
 * spooler function. This module holds the writing side (`spool`), the
 * read-only functions (`spooler_jobs`, `spooler_get_task`...), the shared
 * region with the spoolers' counters and bells, and the claim bookkeeping the
 * spooler loop (ts/spooler/loop.ts) and the master use.
 *
 * Durability (a task is never lost, a finished task never runs again):
 * - write: the file is written under a temporary name, fsynced, then given its
 *   task name by a hard link (never replacing a file) and the directory is
 *   fsynced, before `spool()` returns. A crash before that leaves only a
 *   temporary file (removed later); `spool()` had not returned, so no task was
 *   handed over. uWSGI, which lists only `uwsgi_spoolfile_on_*`, never sees it.
 * - claim: a spooler thread takes a task by renaming it to a claimed name that
 *   carries its identity. rename is atomic: one thread wins.
 * - commit: SPOOL_OK removes the claimed file (one atomic unlink). Any other
 *   outcome renames it back to its task name (retried later).
 * - recovery: a claimed file whose owner is gone (a thread killed, a process
 *   that died) is renamed back to its task name by the next scan; so is every
 *   claim of this engine's threads once the master has stopped them.
 * Execution is therefore at least once: a task whose function finished but
 * whose removal had not happened (the thread died in between) runs again.
 * Completion is exactly once: the removal happens once, and a removed task
 * cannot run again (there is nothing left to claim).
 * @module
 */
import { UwsgiError, argCount, intArg, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import type { Config } from '../kernel/options.ts';
import { type SpoolerConfig, spoolerThreads } from './config.ts';
import { ring } from '../kernel/atomics.ts';
import { Region } from '../kernel/abi.ts';
import {
  type MarkOwner, type SpoolPairs, TASK_PREFIX, claimName, decodeSpoolFile, encodeSpoolFile, isPriorityName, isTaskName,
  parseMarked, taskDict, taskFileName, tempName,
} from './file.ts';
import { decodeVarsList } from '../protocol/codec.ts';
import { runtime } from '../platform/index.ts';

/** The spool directory's file operations (the runtime binding's, synchronous). */
const sfs = runtime();

// ---- the shared region (Region.SPOOLER) -------------------------------------------------
//
//  header (64 bytes)                         one slot per spooler thread (64 bytes each)
//  ┌───────────┬─────────┬───────┬───────┬──────────┬────────────┐   ┌──────┬─────────┬───────┬───────┬───────┬──────────┬────────────┬─────┬────────┐
//  │ frequency │ counter │ boot0 │ boot1 │ rate_sec │ rate_count │   │ bell │ running │ alive │ tasks │ total │ respawns │ task_start │ dir │ failed │
//  │ +0        │ +4      │ +8    │ +12   │ +16      │ +20        │   │ +0   │ +4      │ +8    │ +12   │ +16   │ +20      │ +24        │ +28 │ +32    │
//  └───────────┴─────────┴───────┴───────┴──────────┴────────────┘   └──────┴─────────┴───────┴───────┴───────┴──────────┴────────────┴─────┴────────┘
// frequency: set_spooler_frequency (0: the option's value). counter: task file
// names (uWSGI's per-process counter; shared here since the writers are
// threads of one process). boot: random id of this engine, in claimed names.
// bell: rung by a writer to wake the thread at once (uWSGI's SIGUSR1).
// running/task_start: a task runs since that unix second (harakiri, stats).
// alive: the thread is in its loop (spooler_pid). tasks: since this
// incarnation started (max-tasks); total and respawns: over its lifetime;
// failed: runs that did not end with SPOOL_OK (retry, throw, no integer), for the stats.
// rate_sec/rate_count: the unix second of the current spool-packet window
// and the packets accepted in it (spooler-packet-rate, shared by every thread).

const H_FREQUENCY = 0;
const H_COUNTER = H_FREQUENCY + 4;
const H_BOOT0 = H_COUNTER + 4;
const H_BOOT1 = H_BOOT0 + 4;
const H_RATE_SEC = H_BOOT1 + 4;
const H_RATE_COUNT = H_RATE_SEC + 4;
const HEADER_BYTES = 64;
/** What a directory costs in the spooler-max-bytes budget (a block: packets could otherwise make directories for free). */
const DIR_BYTES = 4096;
/** How long a thread trusts its last measure of a spool directory's size (plus what it wrote since). */
const SIZE_TTL_MS = 1000;
const S_BELL = 0;
const S_RUNNING = S_BELL + 4;
const S_ALIVE = S_RUNNING + 4;
const S_TASKS = S_ALIVE + 4;
const S_TOTAL = S_TASKS + 4;
const S_RESPAWNS = S_TOTAL + 4;
const S_TASK_START = S_RESPAWNS + 4;
const S_DIR = S_TASK_START + 4;
const S_FAILED = S_DIR + 4;
const SLOT_BYTES = 64;

/** uWSGI's spooler function return codes (Python `uwsgi.SPOOL_OK`...). */
export const SPOOL_OK = -2;
export const SPOOL_RETRY = -1;
export const SPOOL_IGNORE = 0;

/** Bytes of the spooler region for `cfg`; 0 when no spool directory is configured. */
export function spoolerRegionBytes(cfg: Config): number {
  if (cfg.spooler.dirs.length === 0) return 0;
  return HEADER_BYTES + spoolerThreads(cfg.spooler).length * SLOT_BYTES;
}

/** Initialise the region at `offset` of a fresh (zeroed) memory: the engine's boot id and each slot's directory. */
export function spoolerRegionInit(memory: WebAssembly.Memory, offset: number, cfg: Config): void {
  const dv = new DataView(memory.buffer);
  const rand = new Uint32Array(2);
  crypto.getRandomValues(rand);
  dv.setUint32(offset + H_BOOT0, rand[0], true);
  dv.setUint32(offset + H_BOOT1, rand[1], true);
  for (const t of spoolerThreads(cfg.spooler)) dv.setInt32(offset + HEADER_BYTES + (t.ident - 1) * SLOT_BYTES + S_DIR, t.dir, true);
}

/**
 * Create every spool directory that is missing (mode 0750, as uWSGI) and
 * replace each path by its real path. The engine calls it once, before the
 * layout; threads receive the resolved config.
 */
export function prepareSpoolDirs(cfg: Config): void {
  for (const d of cfg.spooler.dirs) {
    try {
      if (sfs.realpath(d.path) === null) sfs.mkdirs(d.path, 0o750);
      const real = sfs.realpath(d.path);
      if (real === null || !sfs.lstat(real)?.isDirectory) throw new Error('not a directory');
      d.path = real;
    } catch (e) {
      throw new UwsgiError('ERR_OPTION', `option '${d.external ? 'spooler-external' : 'spooler'}': cannot use '${d.path}' as a spool directory: ${(e as Error).message}`, { cause: e });
    }
  }
}

// ---- per-thread state ------------------------------------------------------------------

/** What a spooler function gets besides the task dict. */
export interface SpoolTaskInfo {
  /** The task file's name (no directory), as `spooler_task_name`. */
  name: string;
  /** The spool directory (or priority subdirectory) it lives in. */
  dir: string;
  /** The spool directory this spooler thread serves. */
  spooler: string;
}

/**
 * A spooler function: gets the task dict (keys as strings, values as bytes,
 * plus `spooler_task_name` and `body`) and returns, or resolves to,
 * SPOOL_OK (-2: done, the file is removed), SPOOL_RETRY (-1: run it again at
 * the next scan) or SPOOL_IGNORE (0: not mine, kept). Any other integer
 * keeps the task (retried); anything that is not an integer, or a throw, is
 * SPOOL_RETRY, as in uWSGI (returning nothing means "retry").
 */
export type SpoolerFunction = (task: Record<string, Uint8Array>, info: SpoolTaskInfo) => unknown;

const FN = Symbol.for('uwsgi-wasm.spooler-function');
type WithFn = { [FN]?: SpoolerFunction };

/** The spooler function registered in this thread, if any. */
export function spoolerFunctionOf(ctx: ThreadContext): SpoolerFunction | undefined {
  return (ctx as unknown as WithFn)[FN];
}

/** Register (or with undefined/null, remove) this thread's spooler function. */
export function setSpoolerFunction(ctx: ThreadContext, fn: unknown): void {
  if (fn !== undefined && fn !== null && typeof fn !== 'function') {
    throw new UwsgiError('ERR_ARG_TYPE', `spooler: the spooler function must be a function, got ${typeName(fn)}`);
  }
  (ctx as unknown as WithFn)[FN] = (fn ?? undefined) as SpoolerFunction | undefined;
}

let processStart: string | undefined;

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** The options `send_to_spooler` takes besides the task (Python's keyword arguments). */
export interface SpoolOptions {
  /** Target spool directory (as configured; its real path is written). `host:port` is a remote spooler. */
  spooler?: string | Uint8Array;
  /** Priority: a non-negative integer, used as a subdirectory name (lower runs first with `spooler-ordered`). */
  priority?: number | string | Uint8Array;
  /** Unix time (seconds) before which the task does not run. */
  at?: number | string | Uint8Array;
  /** Raw bytes stored after the vars, given to the function as `body`. */
  body?: string | Uint8Array;
}

/** A task as `send_to_spooler` takes it: an object or a Map of names to bytes. */
export type SpoolTask = Record<string, string | Uint8Array | number> | Map<string | Uint8Array, string | Uint8Array | number>;

const OPTION_KEYS = ['spooler', 'priority', 'at', 'body'] as const;
const REMOTE = /^[^/]*:\d+$/;

/** The spooler functions of one thread. */
export class SpoolerApi {
  readonly #ctx: ThreadContext;
  readonly #cfg: SpoolerConfig;
  #i32?: Int32Array;
  #base = 0;

  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    this.#cfg = ctx.shared.config.spooler;
  }

  /** Spool directories (real paths), in option order. */
  get dirs(): string[] { return this.#cfg.dirs.map((d) => d.path); }
  get config(): SpoolerConfig { return this.#cfg; }
  get ctx(): ThreadContext { return this.#ctx; }

  #region(): Int32Array {
    if (!this.#i32) {
      this.#base = this.#ctx.x.layout_region_offset(Region.SPOOLER, 0);
      this.#i32 = new Int32Array(this.#ctx.memory.buffer);
    }
    return this.#i32;
  }
  /** Index in the Int32Array of header field `f`. */
  #h(f: number): number { this.#region(); return (this.#base + f) >> 2; }
  /** Index of field `f` of thread slot `ident`. */
  #s(ident: number, f: number): number { this.#region(); return (this.#base + HEADER_BYTES + (ident - 1) * SLOT_BYTES + f) >> 2; }

  #require(fn: string): void {
    if (this.#cfg.dirs.length === 0) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no spooler configured (use the 'spooler' option)`);
  }

  /** Who this thread is, for temporary and claimed names. */
  owner(): MarkOwner {
    const i32 = this.#region();
    const boot = (Atomics.load(i32, this.#h(H_BOOT0)) >>> 0).toString(16).padStart(8, '0') + (Atomics.load(i32, this.#h(H_BOOT1)) >>> 0).toString(16).padStart(8, '0');
    processStart ??= sfs.selfStartTime();
    return { pid: this.#ctx.shared.masterPid, pstart: processStart, boot, owner: this.#ctx.x.self_owner() };
  }

  /** Whether the thread (or process) that made a temporary or claimed name is gone for good. */
  ownerGone(o: MarkOwner): boolean {
    const me = this.owner();
    if (o.pid === me.pid && o.pstart === me.pstart) {
      // Another engine in this process recovers its own claims.
      if (o.boot !== me.boot) return false;
      return this.#ctx.x.owner_alive(o.owner) === 0;
    }
    const start = sfs.processStartTime(o.pid);
    // undefined: this system cannot tell, so the claim is left alone.
    return start === null || (start !== undefined && start !== o.pstart);
  }

  // ---- writing ---------------------------------------------------------------------

  /** `send_to_spooler(task, options?)` / `spool(...)`: write a task; returns its file's absolute path. */
  spool(fn: string, task: unknown, options: unknown, nargs: number): string {
    argCount(fn, nargs, 1, 2);
    this.#require(fn);
    const pairs: Array<[string, Uint8Array, Uint8Array]> = []; // [key text, key bytes, value]
    let body: Uint8Array | undefined;
    const put = (kt: string, kb: Uint8Array, v: unknown) => {
      if (kt === 'body') { body = this.#bytes(fn, 'body', v); return; }
      const value = kt === 'priority' || kt === 'at' ? this.#special(fn, kt, v) : this.#bytes(fn, `value of '${kt}'`, v);
      const i = pairs.findIndex(([k]) => k === kt);
      if (i >= 0 && OPTION_KEYS.includes(kt as typeof OPTION_KEYS[number])) pairs[i] = [kt, kb, value];
      else pairs.push([kt, kb, value]);
    };
    for (const [k, v] of this.#entries(fn, task)) {
      const kb = this.#bytes(fn, 'a key', k);
      if (kb.length === 0) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: task keys must not be empty`);
      put(typeof k === 'string' ? k : text.decode(kb), kb, v);
    }
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object' || Array.isArray(options) || options instanceof Uint8Array) {
        throw new UwsgiError('ERR_ARG_TYPE', `${fn}: options must be an object ({ spooler, priority, at, body }), got ${typeName(options)}`);
      }
      for (const [k, v] of Object.entries(options as Record<string, unknown>)) {
        if (!OPTION_KEYS.includes(k as typeof OPTION_KEYS[number])) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: unknown option '${k}' (known: ${OPTION_KEYS.join(', ')})`);
        if (v !== undefined && v !== null) put(k, utf8.encode(k), v);
      }
    }
    const vars: SpoolPairs = pairs.map(([, k, v]) => [k, v]);
    return this.write(fn, vars, body ?? new Uint8Array(0));
  }

  /**
   * Write a task given as decoded vars and a body (uWSGI's `uwsgi_spool_request`):
   * the reserved keys among the vars choose the spooler, the priority and the
   * start time. Returns the task file's absolute path.
   */
  write(fn: string, vars: SpoolPairs, body: Uint8Array, packet = false): string {
    this.#require(fn);
    let spooler: string | undefined, priority: string | undefined, at = 0;
    for (const [k, v] of vars) {
      const key = text.decode(k);
      // As uWSGI's parser: the last occurrence wins; an empty value means "not given".
      if (key === 'spooler') spooler = v.length ? text.decode(v) : undefined;
      else if (key === 'priority') priority = v.length ? this.#priorityText(fn, text.decode(v)) : undefined;
      else if (key === 'at') at = v.length ? this.#atSeconds(fn, text.decode(v)) : 0;
    }
    const dirIndex = this.#target(fn, spooler);
    const chunks = encodeSpoolFile(vars, body);
    const top = this.#cfg.dirs[dirIndex].path;
    const dir = priority === undefined ? top : sfs.paths.join(top, priority);
    const bytes = chunks.reduce((n, c) => n + c.length, 0);
    if (packet) this.#admitPacket(fn, top);
    let made = false;
    if (priority !== undefined) {
      // The spool directory's own mode (0750 when we created it), never wider: packets choose these names.
      const mode = sfs.lstat(top)?.mode ?? 0o750;
      try { made = sfs.mkdirOne(dir, mode); } catch (e) { throw this.#ioError(fn, `cannot create the priority directory ${dir}`, e); }
    }
    this.#grew(top, bytes + (made ? DIR_BYTES : 0));
    const i32 = this.#region();
    const counter = (Atomics.add(i32, this.#h(H_COUNTER), 1) + 1) >>> 0;
    const rand = crypto.getRandomValues(new Uint32Array(1))[0] & 0x7fffffff;
    const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const name = taskFileName(this.#ctx.shared.hostname, this.#ctx.shared.masterPid, counter, rand, Math.floor(micros / 1e6), micros % 1e6);
    const final = sfs.paths.join(dir, name);
    const temp = sfs.paths.join(dir, tempName(this.owner(), name));
    try {
      sfs.writeNewFile(temp, chunks, at > 0 ? at : undefined);
      sfs.publish(temp, final);
      sfs.syncDir(dir);
    } catch (e) {
      sfs.unlinkIfExists(temp);
      throw this.#ioError(fn, `unable to spool job: cannot write ${final}`, e);
    }
    this.wake(dirIndex);
    return final;
  }

  /** Per spool directory: the bytes it held when this thread last measured, and when. */
  readonly #sizes = new Map<string, { at: number; bytes: number }>();

  /**
   * A spool packet (from the network) is refused (ERR_FULL) beyond
   * `spooler-packet-rate` packets per second for the whole engine, or while
   * its target directory holds `spooler-max-bytes` or more. Local `spool()`
   * calls come from the app itself and are not limited.
   */
  #admitPacket(fn: string, top: string): void {
    const { packetRate, maxBytes } = this.#cfg;
    if (maxBytes > 0) {
      const held = this.#sizeOf(top);
      if (held >= maxBytes) throw new UwsgiError('ERR_FULL', `${fn}: the spool directory ${top} holds ${held} bytes, spooler-max-bytes is ${maxBytes}: spool packet refused`);
    }
    if (packetRate > 0) {
      const i32 = this.#region();
      const sec = Math.floor(Date.now() / 1000) | 0;
      const seen = Atomics.load(i32, this.#h(H_RATE_SEC));
      // The first packet of a new second opens its window (one thread wins; the others count in it).
      if (seen !== sec && Atomics.compareExchange(i32, this.#h(H_RATE_SEC), seen, sec) === seen) Atomics.store(i32, this.#h(H_RATE_COUNT), 0);
      if (Atomics.add(i32, this.#h(H_RATE_COUNT), 1) >= packetRate) {
        throw new UwsgiError('ERR_FULL', `${fn}: more than ${packetRate} spool packets this second (spooler-packet-rate): refused`);
      }
    }
  }

  /** Bytes in `top` and its priority subdirectories (each directory counts DIR_BYTES), measured at most once a second. */
  #sizeOf(top: string): number {
    const now = performance.now();
    const known = this.#sizes.get(top);
    if (known && now - known.at < SIZE_TTL_MS) return known.bytes;
    let bytes = 0;
    const walk = (dir: string, depth: number) => {
      for (const name of sfs.listDir(dir)) {
        const st = sfs.lstat(sfs.paths.join(dir, name));
        if (!st) continue;
        if (st.isFile) bytes += st.size;
        else if (st.isDirectory && depth === 0 && isPriorityName(name)) { bytes += DIR_BYTES; walk(sfs.paths.join(dir, name), 1); }
      }
    };
    walk(top, 0);
    this.#sizes.set(top, { at: now, bytes });
    return bytes;
  }

  /** This thread wrote `bytes` into `top`: the cached measure follows until it is taken again. */
  #grew(top: string, bytes: number): void {
    const known = this.#sizes.get(top);
    if (known) known.bytes += bytes;
  }

  /** Ring the bell of every spooler thread of directory `dirIndex` (a new task is there). */
  wake(dirIndex: number): void {
    const i32 = this.#region();
    for (const t of spoolerThreads(this.#cfg)) if (t.dir === dirIndex) ring(i32, this.#s(t.ident, S_BELL));
  }

  #ioError(fn: string, what: string, e: unknown): UwsgiError {
    const err = e as { code?: string; message?: string };
    return new UwsgiError('ERR_INTERNAL', `${fn}: ${what}: ${err?.code ?? err?.message ?? String(e)}`, { cause: e });
  }

  #entries(fn: string, task: unknown): Array<[string | Uint8Array, unknown]> {
    if (task instanceof Map) return [...task.entries()] as Array<[string | Uint8Array, unknown]>;
    if (task === null || typeof task !== 'object' || Array.isArray(task) || task instanceof Uint8Array) {
      throw new UwsgiError('ERR_ARG_TYPE', `${fn}: the task must be an object or a Map of names to bytes, got ${typeName(task)}`);
    }
    return Object.entries(task as Record<string, unknown>);
  }

  #bytes(fn: string, what: string, v: unknown): Uint8Array {
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return utf8.encode(v);
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${what} must be a string or Uint8Array, got ${typeName(v)} (uWSGI: the spooler dictionary must contain only bytes)`);
  }

  /** `priority` and `at` also take numbers; the text form is what goes into the file. */
  #special(fn: string, key: 'priority' | 'at', v: unknown): Uint8Array {
    if (typeof v === 'number' || typeof v === 'bigint') {
      if (key === 'priority') return utf8.encode(this.#priorityText(fn, String(intArg(fn, 'priority', v))));
      if (typeof v === 'number' && (!Number.isFinite(v) || v < 0)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: at must be a unix time in seconds (0 or more), got ${v}`);
      return utf8.encode(String(v));
    }
    const b = this.#bytes(fn, key, v);
    if (b.length > 0) {
      if (key === 'priority') this.#priorityText(fn, text.decode(b));
      else this.#atSeconds(fn, text.decode(b));
    }
    return b;
  }

  #priorityText(fn: string, p: string): string {
    // uWSGI uses any value as a directory name (so '../x' escapes the spool directory,
    // and a non-numeric one is never scanned): only digits are accepted here.
    if (!/^\d{1,18}$/.test(p)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: priority must be a non-negative integer (it names a subdirectory of the spool directory), got '${p}'`);
    return p;
  }

  #atSeconds(fn: string, a: string): number {
    // uWSGI truncates a fractional part, and reads anything else as 0 ("now").
    const m = /^(\d{1,12})(\.\d*)?$/.exec(a);
    if (!m) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: at must be a unix time in seconds, got '${a}'`);
    return Number(m[1]);
  }

  /** Index of the target directory: the first, or the one named by `spooler`. */
  #target(fn: string, spooler: string | undefined): number {
    if (spooler === undefined) return 0;
    if (REMOTE.test(spooler)) {
      // uwsgi.spool() sends such tasks over the wire itself; one that arrives here came in a spool packet.
      throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: spooler '${spooler}' is another instance: tasks are not forwarded (send it there with send_to_spooler)`);
    }
    let i = this.#cfg.dirs.findIndex((d) => d.path === spooler);
    if (i < 0) {
      const real = sfs.realpath(spooler);
      i = real === null ? -1 : this.#cfg.dirs.findIndex((d) => d.path === real);
    }
    if (i < 0) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: unable to find spooler '${spooler}' (spoolers: ${this.dirs.join(', ')})`);
    return i;
  }

  // ---- reading -----------------------------------------------------------------------

  /** Absolute paths of the tasks waiting in the first spool directory (not its priority subdirectories), as uWSGI lists them. */
  jobs(): string[] {
    this.#require('spooler_jobs');
    const dir = this.#cfg.dirs[0].path;
    const out: string[] = [];
    for (const name of sfs.listDir(dir)) {
      if (!isTaskName(name)) continue;
      const p = sfs.paths.join(dir, name);
      if (sfs.lstat(p)?.isFile && sfs.readWritable(p)) out.push(p);
    }
    return out;
  }

  /**
   * The dict a spooler function would get for the task file at `path`, or null
   * when it is not there (or is being run, or is incomplete). A relative path is
   * looked up in this spooler thread's directory, then every spool directory,
   * then the working directory. A path outside the spool directories (or their
   * priority subdirectories) is refused with ERR_BOUNDS, never read.
   */
  getTask(path: unknown): Record<string, Uint8Array> | null {
    const fn = 'spooler_get_task';
    if (typeof path !== 'string' && !(path instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: path must be a string or Uint8Array, got ${typeName(path)}`);
    const given = typeof path === 'string' ? path : text.decode(path);
    this.#require(fn);
    if (given === '' || given.includes('\0')) throw new UwsgiError('ERR_BOUNDS', `${fn}: '${given.replace(/\0/g, '\\0')}' is not a task path`);
    const roots = this.dirs;
    const bases: string[] = [];
    if (sfs.paths.isAbsolute(given)) bases.push('/');
    else {
      const own = this.#ownDir();
      if (own !== undefined) bases.push(own);
      bases.push(...roots, sfs.cwd());
    }
    let inside: string | undefined;
    for (const b of bases) {
      const p = sfs.paths.resolve(b, given);
      if (!this.#within(p, roots)) continue;
      inside ??= p;
      if (sfs.lstat(p)) { inside = p; break; }
    }
    if (inside === undefined) throw new UwsgiError('ERR_BOUNDS', `${fn}: '${given}' is outside the spool directories (${roots.join(', ')})`);
    // The directory holding it must be a spool directory or a priority subdirectory once
    // symbolic links are followed too; the task itself must be a regular file, not a link.
    const parent = sfs.realpath(sfs.paths.dirname(inside));
    if (parent === null) return null;
    if (!this.#within(sfs.paths.join(parent, 'x'), roots)) throw new UwsgiError('ERR_BOUNDS', `${fn}: '${given}' leads outside the spool directories through a symbolic link`);
    const name = sfs.paths.basename(inside);
    if (!name.startsWith(TASK_PREFIX)) return null;
    const st = sfs.lstat(inside);
    if (!st?.isFile || !sfs.readWritable(inside)) return null;
    const bytes = sfs.readFileBytes(inside);
    if (bytes === null) return null;
    const file = decodeSpoolFile(bytes);
    if ('error' in file) return null;
    return taskDict(file, given);
  }

  /** Whether `p` (normalised) is a spool directory's direct entry or a direct entry of one of its priority subdirectories. */
  #within(p: string, roots: string[]): boolean {
    for (const r of roots) {
      if (!p.startsWith(r + '/')) continue;
      const rest = p.slice(r.length + 1).split('/');
      if (rest.length === 1 && rest[0] !== '') return true;
      if (rest.length === 2 && /^\d+$/.test(rest[0]) && rest[1] !== '') return true;
    }
    return false;
  }

  #ownDir(): string | undefined {
    if (this.#ctx.kind !== 'spooler') return undefined;
    return this.#cfg.dirs[this.slotDir(this.#ctx.ident)]?.path;
  }

  // ---- spooler threads' state ----------------------------------------------------------

  /** The directory index of spooler thread `ident`. */
  slotDir(ident: number): number { return Atomics.load(this.#region(), this.#s(ident, S_DIR)); }
  /** How many spooler threads the config runs. */
  threadCount(): number { return spoolerThreads(this.#cfg).length; }

  /** `spooler_pid()`: the process id once the first spooler runs its loop; 0 before, or when the first spooler is external. */
  pid(): number {
    if (this.#cfg.dirs.length === 0 || this.#cfg.dirs[0].external) return 0;
    return Atomics.load(this.#region(), this.#s(1, S_ALIVE)) === 1 ? this.#ctx.shared.masterPid : 0;
  }

  /** `spooler_pids()`: one entry per spooler (external directories: 0). */
  pids(): number[] {
    const out: number[] = [];
    const threads = spoolerThreads(this.#cfg);
    this.#cfg.dirs.forEach((d, i) => {
      if (d.external) { out.push(0); return; }
      for (const t of threads) if (t.dir === i) out.push(Atomics.load(this.#region(), this.#s(t.ident, S_ALIVE)) === 1 ? this.#ctx.shared.masterPid : 0);
    });
    return out;
  }

  /** `set_spooler_frequency(seconds)`: seconds between scans from the next wait on (0: back to `spooler-frequency`). */
  setFrequency(seconds: unknown): true {
    const fn = 'set_spooler_frequency';
    const n = intArg(fn, 'seconds', seconds);
    // uWSGI stores any int; a negative one makes its spooler wait forever.
    if (n < 0 || n > 86400) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: seconds must be 0..86400, got ${n}`);
    if (this.#cfg.dirs.length > 0) Atomics.store(this.#region(), this.#h(H_FREQUENCY), n);
    return true;
  }

  /** Seconds the spooler waits between scans now. */
  frequency(): number {
    const f = this.#cfg.dirs.length > 0 ? Atomics.load(this.#region(), this.#h(H_FREQUENCY)) : 0;
    return f > 0 ? f : this.#cfg.frequency;
  }

  /** @internal The spooler loop's view of its slot. */
  slot(ident: number): SpoolerSlot {
    const i32 = this.#region();
    const at = (f: number) => this.#s(ident, f);
    return {
      bell: at(S_BELL),
      i32,
      begin: (nowSec: number) => {
        Atomics.store(i32, at(S_TASK_START), nowSec);
        // Publishes the start time written above to the master's harakiri check.
        Atomics.store(i32, at(S_RUNNING), 1);
      },
      end: (counted: boolean, failed = false) => {
        Atomics.store(i32, at(S_RUNNING), 0);
        if (counted) { Atomics.add(i32, at(S_TASKS), 1); Atomics.add(i32, at(S_TOTAL), 1); }
        if (failed) Atomics.add(i32, at(S_FAILED), 1);
      },
      tasks: () => Atomics.load(i32, at(S_TASKS)),
      started: () => { Atomics.store(i32, at(S_TASKS), 0); Atomics.store(i32, at(S_ALIVE), 1); },
      finished: () => { Atomics.store(i32, at(S_ALIVE), 0); },
    };
  }

  /** The master: spooler thread `ident` ended (or died); `respawn` when it will be started again. */
  threadGone(ident: number, respawn: boolean): void {
    const i32 = this.#region();
    Atomics.store(i32, this.#s(ident, S_ALIVE), 0);
    Atomics.store(i32, this.#s(ident, S_RUNNING), 0);
    if (respawn) Atomics.add(i32, this.#s(ident, S_RESPAWNS), 1);
    // The other spoolers of its directory take back the task it held at once.
    this.wake(this.slotDir(ident));
  }

  /** The master: spooler threads whose current task has run longer than `spooler-harakiri` seconds at `nowSec`. */
  overdue(nowSec: number): number[] {
    const limit = this.#cfg.harakiri;
    if (limit <= 0) return [];
    const i32 = this.#region();
    const out: number[] = [];
    for (const t of spoolerThreads(this.#cfg)) {
      if (Atomics.load(i32, this.#s(t.ident, S_RUNNING)) === 1 && nowSec - Atomics.load(i32, this.#s(t.ident, S_TASK_START)) > limit) out.push(t.ident);
    }
    return out;
  }

  /**
   * Per spooler, what uWSGI's stats server shows (`dir`, `pid`, `tasks`,
   * `respawns`, `running`), one entry per spooler thread (external directories: pid 0, no tasks),
   * then ours: `failed` (runs that did not end with SPOOL_OK) and `waiting`
   * (task files in the directory and its priority subdirectories, shared by its threads).
   */
  stats(): SpoolerStats[] {
    if (this.#cfg.dirs.length === 0) return [];
    const i32 = this.#region();
    const threads = spoolerThreads(this.#cfg);
    const out: SpoolerStats[] = [];
    this.#cfg.dirs.forEach((d, i) => {
      const waiting = waitingTasks(d.path);
      if (d.external) { out.push({ dir: d.path, pid: 0, tasks: 0, respawns: 0, running: 0, failed: 0, waiting }); return; }
      for (const t of threads.filter((x) => x.dir === i)) {
        out.push({
          dir: d.path,
          pid: Atomics.load(i32, this.#s(t.ident, S_ALIVE)) === 1 ? this.#ctx.shared.masterPid : 0,
          tasks: Atomics.load(i32, this.#s(t.ident, S_TOTAL)),
          respawns: Atomics.load(i32, this.#s(t.ident, S_RESPAWNS)),
          running: Atomics.load(i32, this.#s(t.ident, S_RUNNING)),
          failed: Atomics.load(i32, this.#s(t.ident, S_FAILED)),
          waiting,
        });
      }
    });
    return out;
  }

  /**
   * Rename back every claim in `dir` whose owner is gone, and remove temporary
   * files of writers that are gone. Returns the task names given back.
   */
  recover(dir: string): string[] {
    const back: string[] = [];
    for (const name of sfs.listDir(dir)) {
      const m = parseMarked(name);
      if (!m || !this.ownerGone(m.owner)) continue;
      const p = sfs.paths.join(dir, name);
      if (m.kind === 'claim') {
        if (sfs.renameIfExists(p, sfs.paths.join(dir, m.task))) back.push(m.task);
      } else {
        sfs.unlinkIfExists(p);
      }
    }
    if (back.length) sfs.syncDir(dir);
    return back;
  }

  /** {@link recover} in every spool directory and its priority subdirectories. */
  recoverAll(): string[] {
    const out: string[] = [];
    for (const d of this.#cfg.dirs) {
      out.push(...this.recover(d.path));
      for (const name of sfs.listDir(d.path)) {
        if (/^\d+$/.test(name) && sfs.lstat(sfs.paths.join(d.path, name))?.isDirectory) out.push(...this.recover(sfs.paths.join(d.path, name)));
      }
    }
    return out;
  }

  /** @internal Claimed name of `task` for this thread. */
  claimOf(task: string): string { return claimName(this.owner(), task); }
}

/** One spooler thread's stats entry ({@link SpoolerApi.stats}). */
export type SpoolerStats = {
  dir: string; pid: number; tasks: number; respawns: number; running: number;
  /** Runs that did not end with SPOOL_OK (retry, a throw, no integer result). */
  failed: number;
  /** Task files waiting in the directory and its priority subdirectories. */
  waiting: number;
};

/** Task files in `dir` and its priority subdirectories (names of digits); 0 when it cannot be read. */
function waitingTasks(dir: string): number {
  let n = 0;
  try {
    for (const name of sfs.listDir(dir)) {
      if (isTaskName(name)) n++;
      else if (/^\d+$/.test(name)) for (const sub of sfs.listDir(sfs.paths.join(dir, name))) if (isTaskName(sub)) n++;
    }
  } catch {
    // A directory being removed or not readable: nothing to count.
  }
  return n;
}

/** @internal The loop's handles on its region slot. */
export interface SpoolerSlot {
  i32: Int32Array;
  /** Index of the slot's bell in `i32`. */
  bell: number;
  begin(nowSec: number): void;
  /** A run ended; `counted` adds it to the task counters, `failed` (it did not end with SPOOL_OK) to the failures. */
  end(counted: boolean, failed?: boolean): void;
  tasks(): number;
  /** The loop starts serving (spooler_pid shows it). */
  started(): void;
  /** The loop stopped serving. */
  finished(): void;
}

/** The calling thread's spooler API. */
export const spoolerOf = threadService<SpoolerApi>((ctx) => new SpoolerApi(ctx));

/**
 * Write a spool request received as a uwsgi packet (modifier1 17): `vars` is
 * the packet's vars block (raw, or already decoded), `body` what follows it
 * (empty when none). A raw block that does not decode is ERR_PROTOCOL. Returns
 * the task file's path; throws a UwsgiError when it cannot be written (the
 * server then answers uWSGI's failure reply). For the protocol server.
 */
export function enqueueSpoolPacket(ctx: ThreadContext, vars: Uint8Array | SpoolPairs, body: Uint8Array = new Uint8Array(0)): string {
  const pairs: SpoolPairs = vars instanceof Uint8Array ? decodeVarsList(vars).map(([k, v]) => [k.slice(), v.slice()]) : vars;
  return spoolerOf(ctx).write('spool', pairs, body, true);
}

/**
 * The same as a server hook (the protocol server's `PacketHooks.spool`):
 * true once written, false when uWSGI would answer `ff 00 00 00` (no spooler,
 * unknown target, bad vars, a write that failed).
 */
export function spoolPacketHook(ctx: ThreadContext): (vars: SpoolPairs) => boolean {
  return (vars) => {
    try {
      enqueueSpoolPacket(ctx, vars);
      return true;
    } catch (e) {
      if (e instanceof UwsgiError) return false;
      throw e;
    }
  };
}
