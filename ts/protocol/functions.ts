/**
 * The uwsgi-protocol functions of the `uwsgi` module.
 * @module
 */
import { argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { parsefile } from './codec.ts';

/** The uwsgi-protocol functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ProtocolFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** The uwsgi packet buffer size (`--buffer-size`, default 4096). */
  get buffer_size(): number { return this.ctx.shared.config.bufferSize; }
  /**
   * Read a file holding one uwsgi packet (a spool file, a saved request) and
   * return its vars (keys as text, values as bytes); null when the file cannot
   * be read or is not a request/spool packet. Malformed content: ERR_PROTOCOL.
   */
  parsefile(path: string): Record<string, Uint8Array> | null { argCount('parsefile', arguments.length, 1, 1); return parsefile(path); }
}
