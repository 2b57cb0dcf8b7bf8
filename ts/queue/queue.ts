/**
 * The shared queue (`--queue N`): uWSGI's ring of N slots shared by every
 * thread, with FIFO (`pull`) and LIFO (`pop`) reads, direct slot access, and
 * uWSGI's observable quirks (a push overwrites unread data when the ring is
 * full; a pop moves the push head back even on an empty slot).
 * @module
 */
import { UwsgiError, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { QUEUE_SLOT_HEADER } from '../kernel/abi.ts';

const utf8 = new TextEncoder();

/** The queue as seen by one thread. Messages go in as `string | Uint8Array` and come out as `Uint8Array`. */
export class SharedQueue {
  readonly #ctx: ThreadContext;
  /** Slots in the ring (`--queue`). */
  readonly size: number;
  /** Largest message a slot holds: `--queue-blocksize` minus the 16-byte slot header. */
  readonly capacity: number;
  readonly #scratchEnd: number;

  /** @internal Use `uwsgi.queue_*`. */
  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    this.size = ctx.x.queue_slots();
    this.capacity = ctx.x.queue_capacity();
    this.#scratchEnd = ctx.scratch + ctx.shared.plan.scratchSize;
  }

  /**
   * Put a message in the caller's scratch; returns its length, or -1 when it is
   * longer than `limit` (then nothing is copied, so the scratch never overflows).
   */
  #stage(fn: string, value: unknown, limit: number): number {
    const { u8, scratch } = this.#ctx;
    if (value instanceof Uint8Array) {
      if (value.length > limit) return -1;
      u8.set(value, scratch);
      return value.length;
    }
    if (typeof value === 'string') {
      // At most 3 bytes per UTF-16 unit: a short string is encoded in place.
      if (value.length * 3 <= limit) return utf8.encodeInto(value, u8.subarray(scratch, scratch + limit)).written;
      const bytes = utf8.encode(value);
      if (bytes.length > limit) return -1;
      u8.set(bytes, scratch);
      return bytes.length;
    }
    throw new UwsgiError('ERR_ARG_TYPE', `${fn}: value must be a string or Uint8Array, got ${typeName(value)}`);
  }

  #result(fn: string, len: number): Uint8Array | null {
    if (len < 0) throw statusError(len, fn);
    if (len === 0) return null;
    const at = this.#ctx.scratch;
    return this.#ctx.u8.slice(at, at + len);
  }

  /** Append a message at the push head; `null` (nothing stored) for an empty or oversized message. */
  push(value: string | Uint8Array): true | null {
    const len = this.#stage('queue_push', value, this.capacity);
    if (len <= 0) return null;
    const rc = this.#ctx.x.queue_push(this.#ctx.scratch, len);
    if (rc < 0) throw statusError(rc, 'queue_push');
    return rc === 1 ? true : null;
  }

  /**
   * Write slot `index` directly (the heads do not move). `null` for an index
   * outside 0..size-1, an empty message, or one over blocksize+16 bytes (as
   * uWSGI); ERR_BOUNDS for a message between the slot capacity and
   * blocksize+16 bytes, which uWSGI wrote over the next slot.
   */
  set(index: number, value: string | Uint8Array): true | null {
    const i = intArg('queue_set', 'index', index);
    let bytes: Uint8Array;
    if (value instanceof Uint8Array) bytes = value;
    else if (typeof value === 'string') bytes = utf8.encode(value);
    else throw new UwsgiError('ERR_ARG_TYPE', `queue_set: value must be a string or Uint8Array, got ${typeName(value)}`);
    if (i < 0 || i >= this.size || bytes.length === 0 || bytes.length > this.capacity + 2 * QUEUE_SLOT_HEADER) return null;
    if (bytes.length > this.capacity) {
      throw new UwsgiError('ERR_BOUNDS', `queue_set: a ${bytes.length}-byte message does not fit in a queue slot (at most ${this.capacity} bytes with queue-blocksize ${this.capacity + QUEUE_SLOT_HEADER})`);
    }
    this.#ctx.u8.set(bytes, this.#ctx.scratch);
    const rc = this.#ctx.x.queue_set(i, this.#ctx.scratch, bytes.length);
    if (rc < 0) throw statusError(rc, `queue_set(${i})`);
    return rc === 1 ? true : null;
  }

  /** Take the message at the FIFO head; `null` when that slot is empty (the head stays). */
  pull(): Uint8Array | null { return this.#result('queue_pull', this.#ctx.x.queue_pull(this.#ctx.scratch)); }

  /** Move the push head back one slot and take its message (LIFO); `null` if that slot is empty. */
  pop(): Uint8Array | null { return this.#result('queue_pop', this.#ctx.x.queue_pop(this.#ctx.scratch)); }

  /** Copy of slot `index` (not removed); `null` when empty or outside the ring. */
  get(index: number): Uint8Array | null {
    const i = intArg('queue_get', 'index', index);
    return this.#result(`queue_get(${i})`, this.#ctx.x.queue_get(i, this.#ctx.scratch));
  }

  /**
   * The newest message (`n` omitted or 0), or the `n` slots before the push
   * head, newest first, `null` for empty slots; `n` is clamped to the ring size.
   * Nothing is removed.
   */
  last(n = 0): Uint8Array | null | Array<Uint8Array | null> {
    n = intArg('queue_last', 'n', n);
    if (n < 0) throw new UwsgiError('ERR_VALUE_RANGE', `queue_last: n must be 0 or more, got ${n}`);
    const want = Math.min(Math.max(n, 1), this.size);
    const out: Array<Uint8Array | null> = [];
    const { x, u8, dv, scratch } = this.#ctx;
    while (out.length < want) {
      const got = x.queue_last(out.length, want, scratch, this.#scratchEnd - scratch);
      if (got < 0) throw statusError(got, 'queue_last');
      let at = scratch;
      for (let k = 0; k < got; k++) {
        const len = dv.getUint32(at, true);
        out.push(len === 0 ? null : u8.slice(at + 4, at + 4 + len));
        at += 4 + len;
      }
    }
    return n === 0 ? out[0] : out;
  }

  /** The push head (next slot a push writes). */
  slot(): number { return this.#ctx.x.queue_slot(); }
  /** The FIFO head (next slot a pull reads). */
  pullSlot(): number { return this.#ctx.x.queue_pull_slot(); }
}

const sharedQueue = threadService<SharedQueue>((ctx) => new SharedQueue(ctx));
/** The queue of `ctx` (one object per thread view), or ERR_NOT_CONFIGURED naming `fn` (uWSGI has no queue_* functions then). */
export function queueOf(ctx: ThreadContext, fn: string): SharedQueue {
  if (ctx.x.queue_slots() === 0) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no queue configured (use the 'queue' option)`);
  return sharedQueue(ctx);
}

