/**
 * The sharedarea functions of the `uwsgi` module, with the seed's signatures
 * (they address area 0); uWSGI 2.0's id-first forms are on `uwsgi.sharedareas`.
 * @module
 */
import { argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type SharedArea, type SharedAreas, area0, sharedareasOf } from './sharedarea.ts';

/** The sharedarea functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class SharedareaFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** uWSGI 2.0's id-first sharedarea functions (`uwsgi.sharedareas.sharedarea_read(id, pos, len)`). */
  get sharedareas(): SharedAreas { return sharedareasOf(this.ctx); }

  /** Shared area `id` as an object (read/write/read8..64/inc64/rlock/view...). */
  sharedarea(id: number = 0): SharedArea { return sharedareasOf(this.ctx).area(id); }

  /** Read `len` bytes at `pos` of area 0 (`len` omitted or 0: to the end). */
  sharedarea_read(pos: number, len?: number): Uint8Array {
    argCount('sharedarea_read', arguments.length, 1, 2);
    return area0(this.ctx, 'sharedarea_read').read(pos, len ?? 0);
  }
  /** Write bytes (strings as UTF-8) at `pos` of area 0; returns the number of bytes written. */
  sharedarea_write(pos: number, data: string | Uint8Array): number {
    argCount('sharedarea_write', arguments.length, 2, 2);
    return area0(this.ctx, 'sharedarea_write').write(pos, data);
  }
  /** Signed byte at `pos` of area 0. */
  sharedarea_readbyte(pos: number): number {
    argCount('sharedarea_readbyte', arguments.length, 1, 1);
    return area0(this.ctx, 'sharedarea_readbyte').read8(pos);
  }
  /** Write byte `val` (0..255) at `pos` of area 0; returns it. */
  sharedarea_writebyte(pos: number, val: number): number {
    argCount('sharedarea_writebyte', arguments.length, 2, 2);
    area0(this.ctx, 'sharedarea_writebyte').write8(pos, val);
    return val;
  }
  /** Signed 64-bit little-endian value at `pos` of area 0. */
  sharedarea_readlong(pos: number): bigint {
    argCount('sharedarea_readlong', arguments.length, 1, 1);
    return area0(this.ctx, 'sharedarea_readlong').read64(pos);
  }
  /** Write a signed 64-bit value at `pos` of area 0; returns it as bigint. */
  sharedarea_writelong(pos: number, val: bigint | number): bigint {
    argCount('sharedarea_writelong', arguments.length, 2, 2);
    area0(this.ctx, 'sharedarea_writelong').write64(pos, val);
    return BigInt(val);
  }
  /** Atomically add `delta` (default 1) to the 64-bit value at `pos` of area 0; returns the new value. */
  sharedarea_inclong(pos: number, delta: bigint | number = 1): bigint {
    argCount('sharedarea_inclong', arguments.length, 1, 2);
    return area0(this.ctx, 'sharedarea_inclong').add64('sharedarea_inclong', pos, delta, 1);
  }
}
