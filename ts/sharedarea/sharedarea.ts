/**
 * Shared areas: numbered byte areas shared by every thread, with typed
 * little-endian access, atomic-under-lock increments and user-level locking.
 * @module
 */
import { UwsgiError, argCount, bytesArg, int64Arg, intArg, statusError } from '../kernel/errors.ts';
import { CoreStatus } from '../kernel/abi.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';

/**
 * A byte position: any integer. A bigint past 2^53 that still fits in 64 bits
 * is a position outside every area (ERR_BOUNDS, uWSGI's ValueError); past 64
 * bits it is ERR_VALUE_RANGE (uWSGI's OverflowError).
 */
function posArg(fn: string, v: unknown): number {
  if (typeof v === 'bigint' && (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) && v >= -(1n << 63n) && v < 1n << 63n) {
    throw new UwsgiError('ERR_BOUNDS', `${fn}: position ${v} is outside every sharedarea`);
  }
  return intArg(fn, 'pos', v);
}

const WIDTH_NAME: Record<number, string> = { 1: '8', 2: '16', 4: '32', 8: '64' };

/** Value range each typed write accepts (uWSGI wraps silently beyond; we refuse). */
const WRITE_RANGE: Record<number, [number, number]> = {
  1: [0, 0xff],
  // uWSGI 2.0 refuses a negative 16-bit value (its check is unsigned) but takes -1 for 32 bits (0xffffffff).
  2: [0, 0xffff],
  4: [-0x80000000, 0xffffffff],
};

/**
 * One shared area (uWSGI 2.0's `--sharedarea`, addressed by id). Every access is
 * bounds-checked and runs under the area's rwlock; reads return signed values.
 */
export class SharedArea {
  /** Area id (order of the `--sharedarea` options). */
  readonly id: number;
  /** Size in bytes. */
  readonly size: number;
  readonly #ctx: ThreadContext;
  readonly #data: number;

  /** @internal Use `uwsgi.sharedarea(id)`. */
  constructor(ctx: ThreadContext, id: number, fn = 'sharedarea') {
    const size = ctx.x.sa_size(id);
    if (size < 0) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: no sharedarea ${id} (${ctx.x.sa_count()} configured)`);
    this.#ctx = ctx;
    this.id = id;
    this.size = size;
    this.#data = ctx.x.sa_data(id);
  }

  #fail(fn: string, rc: number, pos: number, len: number): never {
    if (rc === CoreStatus.E_BOUNDS) {
      throw new UwsgiError('ERR_BOUNDS', `${fn}: ${len} byte(s) at position ${pos} do not fit in sharedarea ${this.id} (${this.size} bytes)`);
    }
    if (rc === CoreStatus.E_BAD_STATE) {
      throw new UwsgiError('ERR_LOCK_STATE', `${fn}: this thread holds sharedarea ${this.id} for reading; release it before writing`);
    }
    throw statusError(rc, `${fn} (sharedarea ${this.id})`);
  }

  #begin(fn: string, pos: number, len: number, write: boolean): number {
    const rc = this.#ctx.x.sa_begin(this.id, pos, len, write ? 1 : 0);
    if (rc < 0) this.#fail(fn, rc, pos, len);
    return rc;
  }

  /** Copy `len` bytes from `pos`; `len` omitted or 0 reads to the end of the area. */
  read(pos: number, len = 0): Uint8Array {
    pos = posArg('sharedarea.read', pos);
    len = intArg('sharedarea.read', 'len', len);
    if (len < 0) throw new UwsgiError('ERR_BOUNDS', `sharedarea.read: len must not be negative, got ${len}`);
    if (len === 0) len = pos >= 0 && pos < this.size ? this.size - pos : 0;
    const rc = this.#begin('sharedarea.read', pos, len, false);
    const start = this.#data + pos;
    const out = this.#ctx.u8.slice(start, start + len);
    if (rc !== CoreStatus.HELD_ALREADY) this.#ctx.x.sa_end(this.id, 0);
    return out;
  }

  /** Write bytes (a string is written as UTF-8) at `pos`; returns the number of bytes written. */
  write(pos: number, data: string | Uint8Array): number {
    pos = posArg('sharedarea.write', pos);
    const bytes = bytesArg('sharedarea.write', 'data', data);
    const rc = this.#begin('sharedarea.write', pos, bytes.length, true);
    this.#ctx.u8.set(bytes, this.#data + pos);
    if (rc !== CoreStatus.HELD_ALREADY) this.#ctx.x.sa_end(this.id, 1);
    return bytes.length;
  }

  #readInt(fn: string, pos: unknown, width: number): number {
    const p = posArg(fn, pos);
    const v = this.#ctx.x.sa_read_int(this.id, p, width);
    if (Number.isNaN(v)) this.#fail(fn, this.#ctx.x.sa_check(this.id, p, width), p, width);
    return v;
  }

  #writeInt(fn: string, pos: unknown, width: number, value: unknown): void {
    const p = posArg(fn, pos);
    const v = intArg(fn, 'value', value);
    const [lo, hi] = WRITE_RANGE[width];
    if (v < lo || v > hi) {
      throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: value ${v} does not fit in ${WIDTH_NAME[width]} bits (${lo}..${hi})`);
    }
    const rc = this.#ctx.x.sa_write_int(this.id, p, width, v | 0);
    if (rc < 0) this.#fail(fn, rc, p, width);
  }

  /** Signed 8-bit read. */
  read8(pos: number): number { return this.#readInt('sharedarea.read8', pos, 1); }
  /** Signed 16-bit little-endian read. */
  read16(pos: number): number { return this.#readInt('sharedarea.read16', pos, 2); }
  /** Signed 32-bit little-endian read. */
  read32(pos: number): number { return this.#readInt('sharedarea.read32', pos, 4); }
  /** Signed 64-bit little-endian read. */
  read64(pos: number): bigint {
    const p = posArg('sharedarea.read64', pos);
    const rc = this.#ctx.x.sa_read64(this.id, p, this.#ctx.scratch);
    if (rc < 0) this.#fail('sharedarea.read64', rc, p, 8);
    return this.#ctx.dv.getBigInt64(this.#ctx.scratch, true);
  }
  /** Write one byte, 0..255. */
  write8(pos: number, value: number): void { this.#writeInt('sharedarea.write8', pos, 1, value); }
  /** Write 16 bits little-endian; -32768..65535. */
  write16(pos: number, value: number): void { this.#writeInt('sharedarea.write16', pos, 2, value); }
  /** Write 32 bits little-endian; -2^31..2^32-1. */
  write32(pos: number, value: number): void { this.#writeInt('sharedarea.write32', pos, 4, value); }
  /** Write a signed 64-bit value little-endian. */
  write64(pos: number, value: bigint | number): void {
    const p = posArg('sharedarea.write64', pos);
    const v = int64Arg('sharedarea.write64', 'value', value);
    const rc = this.#ctx.x.sa_write64(this.id, p, v);
    if (rc < 0) this.#fail('sharedarea.write64', rc, p, 8);
  }

  #add32(fn: string, pos: unknown, delta: unknown, sign: number): void {
    const p = posArg(fn, pos);
    const d = intArg(fn, 'delta', delta);
    // A C int, as uWSGI parses it (2^31 is its OverflowError).
    if (d < -0x80000000 || d > 0x7fffffff) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: delta ${d} does not fit in a signed 32-bit integer`);
    const rc = this.#ctx.x.sa_add32(this.id, p, (sign * d) | 0);
    if (rc < 0) this.#fail(fn, rc, p, 4);
  }
  /** Add `delta` (default 1) to the signed 32-bit value at `pos`, wrapping like int32. */
  inc32(pos: number, delta = 1): void { this.#add32('sharedarea.inc32', pos, delta, 1); }
  /** Subtract `delta` (default 1) from the 32-bit value at `pos`. */
  dec32(pos: number, delta = 1): void { this.#add32('sharedarea.dec32', pos, delta, -1); }

  /** @internal 64-bit add; returns the new value. */
  add64(fn: string, pos: unknown, delta: unknown, sign: 1 | -1): bigint {
    const p = posArg(fn, pos);
    const x = this.#ctx.x;
    let rc: number;
    if (typeof delta === 'number' && Number.isSafeInteger(delta)) {
      rc = x.sa_add64f(this.id, p, sign * delta, this.#ctx.scratch);
    } else {
      const d = int64Arg(fn, 'delta', delta);
      rc = x.sa_add64(this.id, p, BigInt.asIntN(64, sign === 1 ? d : -d), this.#ctx.scratch);
    }
    if (rc < 0) this.#fail(fn, rc, p, 8);
    return this.#ctx.dv.getBigInt64(this.#ctx.scratch, true);
  }
  /** Add `delta` (default 1) to the signed 64-bit value at `pos`; returns the new value. */
  inc64(pos: number, delta: bigint | number = 1): bigint { return this.add64('sharedarea.inc64', pos, delta, 1); }
  /** Subtract `delta` (default 1); returns the new value. */
  dec64(pos: number, delta: bigint | number = 1): bigint { return this.add64('sharedarea.dec64', pos, delta, -1); }

  #lock(fn: string, write: boolean): boolean {
    const rc = this.#ctx.x.sa_lock(this.id, write ? 1 : 0);
    if (rc === CoreStatus.E_BAD_STATE) throw new UwsgiError('ERR_LOCK_STATE', `${fn}: this thread already holds sharedarea ${this.id}`);
    if (rc < 0) throw statusError(rc, `${fn} (sharedarea ${this.id})`);
    return rc === CoreStatus.OWNER_DIED;
  }
  /**
   * Hold the area for reading (shared with other readers). Accessors called by
   * the holder do not lock again. Returns true when a dead writer's hold was broken.
   */
  rlock(): boolean { return this.#lock('sharedarea.rlock', false); }
  /** Hold the area exclusively. Returns true when a dead holder's hold was broken. */
  wlock(): boolean { return this.#lock('sharedarea.wlock', true); }
  /** Release what this thread holds (no-op when it holds nothing). */
  unlock(): void {
    const rc = this.#ctx.x.sa_unlock(this.id);
    if (rc < 0 && rc !== CoreStatus.E_NOT_OWNER) throw statusError(rc, `sharedarea.unlock (sharedarea ${this.id})`);
  }

  /**
   * A zero-copy view of the whole area over the shared memory (uWSGI's
   * `sharedarea_memoryview`). Accesses through it take no lock: use
   * rlock()/wlock() around multi-byte updates other threads must not see half-done.
   */
  view(): Uint8Array { return new Uint8Array(this.#ctx.memory.buffer, this.#data, this.size); }

  /** Writes (write/inc/dec) since start. */
  get updates(): bigint { return this.#ctx.x.sa_updates(this.id); }
  /** Reads since start. */
  get hits(): bigint { return this.#ctx.x.sa_hits(this.id); }
}

/**
 * uWSGI 2.0's id-first sharedarea functions (`sharedarea_read(id, pos, len)`...),
 * exposed as `uwsgi.sharedareas`. Results follow uWSGI 2.0: writes and
 * increments return `undefined`.
 */
export class SharedAreas {
  readonly #ctx: ThreadContext;
  readonly #areas = new Map<number, SharedArea>();
  /** @internal */
  constructor(ctx: ThreadContext) { this.#ctx = ctx; }

  /** Number of areas configured. */
  get count(): number { return this.#ctx.x.sa_count(); }

  /** The area with this id (throws ERR_NOT_FOUND). */
  area(id: number, fn = 'sharedarea'): SharedArea {
    const n = intArg(fn, 'id', id);
    // The core takes a 32-bit id: a wider one must not wrap onto area 0 (uWSGI: OverflowError past a C int).
    if (n > 0x7fffffff || n < -0x80000000) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: id ${n} does not fit in a signed 32-bit integer`);
    let a = this.#areas.get(n);
    if (!a) { a = new SharedArea(this.#ctx, n, fn); this.#areas.set(n, a); }
    return a;
  }

  sharedarea_read(id: number, pos: number, len?: number): Uint8Array {
    argCount('sharedarea_read', arguments.length, 2, 3);
    // Only an omitted length means "to the end"; null is a wrong type, as uWSGI's None.
    return this.area(id, 'sharedarea_read').read(pos, len === undefined ? 0 : len);
  }
  sharedarea_write(id: number, pos: number, data: string | Uint8Array): void {
    argCount('sharedarea_write', arguments.length, 3, 3);
    this.area(id, 'sharedarea_write').write(pos, data);
  }
  sharedarea_read8(id: number, pos: number): number { argCount('sharedarea_read8', arguments.length, 2, 2); return this.area(id, 'sharedarea_read8').read8(pos); }
  sharedarea_read16(id: number, pos: number): number { argCount('sharedarea_read16', arguments.length, 2, 2); return this.area(id, 'sharedarea_read16').read16(pos); }
  sharedarea_read32(id: number, pos: number): number { argCount('sharedarea_read32', arguments.length, 2, 2); return this.area(id, 'sharedarea_read32').read32(pos); }
  sharedarea_read64(id: number, pos: number): bigint { argCount('sharedarea_read64', arguments.length, 2, 2); return this.area(id, 'sharedarea_read64').read64(pos); }
  sharedarea_write8(id: number, pos: number, v: number): void { argCount('sharedarea_write8', arguments.length, 3, 3); this.area(id, 'sharedarea_write8').write8(pos, v); }
  sharedarea_write16(id: number, pos: number, v: number): void { argCount('sharedarea_write16', arguments.length, 3, 3); this.area(id, 'sharedarea_write16').write16(pos, v); }
  sharedarea_write32(id: number, pos: number, v: number): void { argCount('sharedarea_write32', arguments.length, 3, 3); this.area(id, 'sharedarea_write32').write32(pos, v); }
  sharedarea_write64(id: number, pos: number, v: bigint | number): void { argCount('sharedarea_write64', arguments.length, 3, 3); this.area(id, 'sharedarea_write64').write64(pos, v); }
  sharedarea_inc32(id: number, pos: number, delta: number = 1): void { argCount('sharedarea_inc32', arguments.length, 2, 3); this.area(id, 'sharedarea_inc32').inc32(pos, delta); }
  sharedarea_dec32(id: number, pos: number, delta: number = 1): void { argCount('sharedarea_dec32', arguments.length, 2, 3); this.area(id, 'sharedarea_dec32').dec32(pos, delta); }
  sharedarea_inc64(id: number, pos: number, delta: bigint | number = 1): void { argCount('sharedarea_inc64', arguments.length, 2, 3); this.area(id, 'sharedarea_inc64').inc64(pos, delta); }
  sharedarea_dec64(id: number, pos: number, delta: bigint | number = 1): void { argCount('sharedarea_dec64', arguments.length, 2, 3); this.area(id, 'sharedarea_dec64').dec64(pos, delta); }
  /** Alias of sharedarea_read8. */
  sharedarea_readbyte(id: number, pos: number): number { argCount('sharedarea_read8', arguments.length, 2, 2); return this.area(id, 'sharedarea_read8').read8(pos); }
  /** Alias of sharedarea_write8. */
  sharedarea_writebyte(id: number, pos: number, v: number): void { argCount('sharedarea_write8', arguments.length, 3, 3); this.area(id, 'sharedarea_write8').write8(pos, v); }
  /** Alias of sharedarea_read64. */
  sharedarea_readlong(id: number, pos: number): bigint { argCount('sharedarea_read64', arguments.length, 2, 2); return this.area(id, 'sharedarea_read64').read64(pos); }
  /** Alias of sharedarea_write64. */
  sharedarea_writelong(id: number, pos: number, v: bigint | number): void { argCount('sharedarea_write64', arguments.length, 3, 3); this.area(id, 'sharedarea_write64').write64(pos, v); }
  /** Alias of sharedarea_inc64. */
  sharedarea_inclong(id: number, pos: number, delta: bigint | number = 1): void { argCount('sharedarea_inc64', arguments.length, 2, 3); this.area(id, 'sharedarea_inc64').inc64(pos, delta); }
  sharedarea_rlock(id: number): void { argCount('sharedarea_rlock', arguments.length, 1, 1); this.area(id, 'sharedarea_rlock').rlock(); }
  sharedarea_wlock(id: number): void { argCount('sharedarea_wlock', arguments.length, 1, 1); this.area(id, 'sharedarea_wlock').wlock(); }
  sharedarea_unlock(id: number): void { argCount('sharedarea_unlock', arguments.length, 1, 1); this.area(id, 'sharedarea_unlock').unlock(); }
  /** The zero-copy view of area `id` (uWSGI's memoryview). */
  sharedarea_memoryview(id: number): Uint8Array { argCount('sharedarea_memoryview', arguments.length, 1, 1); return this.area(id, 'sharedarea_memoryview').view(); }
}

/** The calling thread's shared areas (one object per thread view). */
export const sharedareasOf = threadService<SharedAreas>((ctx) => new SharedAreas(ctx));

/** Area 0, which the seed's module-level functions address; ERR_NOT_CONFIGURED naming `fn` without any area. */
export function area0(ctx: ThreadContext, fn: string): SharedArea {
  if (ctx.x.sa_count() === 0) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no sharedarea configured (use the 'sharedarea' option)`);
  return sharedareasOf(ctx).area(0);
}
