/**
 * Mules and farms: messages between any thread and the mule threads. Each
 * mailbox is a bounded ring in shared memory (assembly/mules/mules.ts): one every
 * mule reads, one per mule, one per farm. A sender puts the message and rings
 * the bell of each mule that may read it; a mule waits on its bell with
 * Atomics.waitAsync, so its event loop stays free while it waits.
 * @module
 */
import { UwsgiError, bytesArg, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import type { Config } from '../kernel/options.ts';
import { ring, waitForChange } from '../kernel/atomics.ts';
import { E_BOUNDS, E_EMPTY, E_FULL } from '../kernel/abi.ts';

/** Largest mule message, in bytes (uWSGI's default mule read buffer). */
export const MULE_MSG_MAX = 65536;
/** Messages a mailbox holds before `mule_msg` returns false. */
export const MULE_MAILBOX_SLOTS = 8;

/** Mailboxes: the shared one, one per mule, one per farm. */
export function muleChannelCount(cfg: Config): number { return 1 + cfg.mules.length + cfg.farms.length; }

const SHARED = 0;
/** Longest single wait, so a waiting mule looks again (and keeps its thread alive) now and then (ms). */
const WAIT_SLICE_MS = 1000;

const utf8 = new TextDecoder();

/** Options of `mule_get_msg`, as uWSGI's keyword arguments. */
export interface MuleGetMsgOptions {
  /**
   * Accepted for uWSGI compatibility; it changes nothing. uWSGI polls the
   * mule's signal sockets during the wait only when it is false; here the wait
   * yields to the event loop, where the mule's signal handlers run as signals
   * arrive, whatever this says.
   */
  signals?: boolean | null;
  /** Also take messages sent to this mule's farms (default true). */
  farms?: boolean | null;
  /** Largest message accepted, in bytes (default 65536). A longer one stays queued and ERR_BOUNDS is thrown. */
  buffer_size?: number;
  /** Seconds to wait; -1 (default) waits forever. On timeout the result is an empty Uint8Array, as uWSGI's `b''`. */
  timeout?: number;
}

const GET_MSG_KEYS = new Set(['signals', 'farms', 'buffer_size', 'timeout']);

/** The mule side and the sending side of one thread. */
export class Mules {
  readonly #ctx: ThreadContext;
  readonly #i32: Int32Array;
  readonly #cfg: Config;

  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    this.#i32 = new Int32Array(ctx.memory.buffer);
    this.#cfg = ctx.shared.config;
  }

  #farmChannel(i: number): number { return 1 + this.#cfg.mules.length + i; }
  #bell(muleId: number): number { return this.#ctx.x.mule_bell(muleId) >> 2; }
  /** Farms (by index) the calling mule belongs to. */
  #myFarms(): number[] {
    const out: number[] = [];
    if (this.#ctx.kind !== 'mule') return out;
    this.#cfg.farms.forEach((f, i) => { if (f.mules.includes(this.#ctx.ident)) out.push(i); });
    return out;
  }

  #message(fn: string, msg: unknown): Uint8Array {
    const b = bytesArg(fn, 'msg', msg);
    if (b.length > MULE_MSG_MAX) throw new UwsgiError('ERR_BOUNDS', `${fn}: the message is ${b.length} bytes; a mule message holds at most ${MULE_MSG_MAX}`);
    return b;
  }

  #farmIndex(fn: string, name: unknown): number {
    if (typeof name !== 'string' && !(name instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: farm must be a string or Uint8Array, got ${typeName(name)}`);
    const s = typeof name === 'string' ? name : utf8.decode(name);
    return this.#cfg.farms.findIndex((f) => f.name === s);
  }

  /** Put `msg` in `channel` and wake the mules that read it. False when the mailbox is full. */
  #send(fn: string, channel: number, msg: Uint8Array, readers: readonly number[]): boolean {
    const ctx = this.#ctx;
    ctx.u8.set(msg, ctx.scratch);
    const rc = ctx.x.mule_push(channel, ctx.scratch, msg.length);
    if (rc === E_FULL) return false;
    if (rc < 0) throw statusError(rc, fn);
    for (const id of readers) ring(this.#i32, this.#bell(id));
    return true;
  }

  msg(msg: unknown, target: unknown): boolean {
    const fn = 'mule_msg';
    const count = this.#cfg.mules.length;
    // The message's type first, as uWSGI's argument parser checks it before looking for mules.
    const bytes = this.#message(fn, msg);
    if (count === 0) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no mule configured (use the 'mules' or 'mule' option)`);
    if (target === undefined || target === null || target === 0) {
      return this.#send(fn, SHARED, bytes, this.#cfg.mules.map((_, i) => i + 1));
    }
    if (typeof target === 'number' || typeof target === 'bigint') {
      const id = intArg(fn, 'mule', target);
      if (id < 1 || id > count) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: invalid mule ${id} (mules are 1..${count})`);
      return this.#send(fn, id, bytes, [id]);
    }
    if (typeof target !== 'string' && !(target instanceof Uint8Array)) {
      throw new UwsgiError('ERR_ARG_TYPE', `${fn}: target must be a mule id (number) or a farm name (string), got ${typeName(target)}`);
    }
    const farm = this.#farmIndex(fn, target);
    if (farm < 0) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: unknown farm '${typeof target === 'string' ? target : utf8.decode(target)}'`);
    return this.#send(fn, this.#farmChannel(farm), bytes, this.#cfg.farms[farm].mules);
  }

  farmMsg(farm: unknown, msg: unknown): void {
    const fn = 'farm_msg';
    const i = this.#farmIndex(fn, farm);
    const bytes = this.#message(fn, msg);
    // As in uWSGI: an unknown farm or a full mailbox is not reported.
    if (i >= 0) this.#send(fn, this.#farmChannel(i), bytes, this.#cfg.farms[i].mules);
  }

  #requireMule(fn: string): void {
    if (this.#ctx.kind !== 'mule') throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: messages can be received only in a mule (this is a ${this.#ctx.kind})`);
  }

  getMsg(opts: unknown): Promise<Uint8Array> {
    const fn = 'mule_get_msg';
    this.#requireMule(fn);
    let farms = true, room = MULE_MSG_MAX, timeoutMs = -1;
    if (opts !== undefined && opts !== null) {
      if (typeof opts !== 'object' || Array.isArray(opts)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: options must be an object, got ${typeName(opts)}`);
      const o = opts as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!GET_MSG_KEYS.has(k)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: unknown option '${k}' (known: ${[...GET_MSG_KEYS].join(', ')})`);
      if (o.farms !== undefined) farms = !!o.farms;
      if (o.buffer_size !== undefined) {
        room = intArg(fn, 'buffer_size', o.buffer_size);
        if (room < 1) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: buffer_size must be at least 1, got ${room}`);
      }
      if (o.timeout !== undefined && o.timeout !== null) {
        if (typeof o.timeout !== 'number' || Number.isNaN(o.timeout)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: timeout must be a number of seconds, got ${typeName(o.timeout)}`);
        timeoutMs = o.timeout < 0 ? -1 : o.timeout * 1000;
      }
    }
    const channels = [this.#ctx.ident, SHARED, ...(farms ? this.#myFarms().map((i) => this.#farmChannel(i)) : [])];
    return this.#receive(fn, channels, Math.min(room, MULE_MSG_MAX), timeoutMs).then((m) => m ?? new Uint8Array(0));
  }

  farmGetMsg(): Promise<Uint8Array | null> {
    const fn = 'farm_get_msg';
    this.#requireMule(fn);
    const channels = this.#myFarms().map((i) => this.#farmChannel(i));
    if (channels.length === 0) return Promise.resolve(null);
    return this.#receive(fn, channels, MULE_MSG_MAX, -1);
  }

  inFarm(name: unknown): true | null {
    if (this.#ctx.kind !== 'mule') return null;
    if (name === undefined || name === null) return this.#myFarms().length > 0 ? true : null;
    const i = this.#farmIndex('in_farm', name);
    return i >= 0 && this.#cfg.farms[i].mules.includes(this.#ctx.ident) ? true : null;
  }

  /** Take the first message waiting in `channels` (in priority order); null once `timeoutMs` (≥ 0) ran out. */
  async #receive(fn: string, channels: number[], room: number, timeoutMs: number): Promise<Uint8Array | null> {
    const ctx = this.#ctx;
    const bell = this.#bell(ctx.ident);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    for (;;) {
      // Read the bell before looking: a message put during the look makes the wait return at once.
      const seen = Atomics.load(this.#i32, bell);
      for (const c of channels) {
        const n = ctx.x.mule_pull(c, ctx.scratch, room);
        if (n >= 0) return ctx.u8.slice(ctx.scratch, ctx.scratch + n);
        if (n === E_BOUNDS) {
          throw new UwsgiError('ERR_BOUNDS', `${fn}: the next message is ${ctx.x.mule_peek_len(c)} bytes, more than buffer_size ${room}; it stays queued`);
        }
        if (n !== E_EMPTY) throw statusError(n, fn);
      }
      const left = deadline - performance.now();
      if (left <= 0) return null;
      await waitForChange(this.#i32, bell, seen, Math.min(left, WAIT_SLICE_MS));
    }
  }
}

/** The calling thread's mule API. */
export const mulesOf = threadService<Mules>((ctx) => new Mules(ctx));

/**
 * A mule that runs no file: it takes every message for it and drops it with a
 * log line, as uWSGI's plain (signal) mules do, and so keeps its thread alive.
 */
export async function plainMule(ctx: ThreadContext, log: (line: string) => void = (l) => console.error(l)): Promise<never> {
  const m = mulesOf(ctx);
  for (;;) {
    const msg = await m.getMsg(undefined);
    log(`*** mule ${ctx.ident} received a ${msg.length} bytes message ***`);
  }
}
