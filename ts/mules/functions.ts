/**
 * The mule and farm functions of the `uwsgi` module: messages between any
 * thread and the mule threads.
 * @module
 */
import { argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type MuleGetMsgOptions, mulesOf } from './mules.ts';

/** The mule and farm functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class MuleFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /**
   * Send `msg` (string as UTF-8, at most 65536 bytes) to a mule. `target`: omitted
   * or 0, the mailbox every mule reads (the first mule to look takes it); a mule id
   * 1..M, that mule; a farm name, the farm's mailbox (one of its mules takes it).
   * True once queued, false when the mailbox is full (it never waits).
   * ERR_NOT_CONFIGURED without mules, ERR_NOT_FOUND for an unknown mule or farm.
   */
  mule_msg(msg: string | Uint8Array, target?: number | string | Uint8Array): boolean {
    argCount('mule_msg', arguments.length, 1, 2);
    return mulesOf(this.ctx).msg(msg, target);
  }

  /**
   * In a mule: the next message for it (its own mailbox first, then the shared
   * one, then its farms'), without blocking the event loop. With `timeout`
   * (seconds) it resolves with an empty Uint8Array when nothing came, as uWSGI's
   * `b''`. Anywhere else: ERR_UNSUPPORTED.
   */
  mule_get_msg(options?: MuleGetMsgOptions): Promise<Uint8Array> {
    argCount('mule_get_msg', arguments.length, 0, 1);
    return mulesOf(this.ctx).getMsg(options);
  }

  /** Send `msg` to farm `farm`'s mailbox. Always undefined, even for an unknown farm or a full mailbox (as uWSGI). */
  farm_msg(farm: string | Uint8Array, msg: string | Uint8Array): void {
    argCount('farm_msg', arguments.length, 2, 2);
    mulesOf(this.ctx).farmMsg(farm, msg);
  }

  /** In a mule: the next message sent to one of its farms; null at once when it is in no farm. */
  farm_get_msg(): Promise<Uint8Array | null> {
    argCount('farm_get_msg', arguments.length, 0, 0);
    return mulesOf(this.ctx).farmGetMsg();
  }

  /**
   * Beyond uWSGI: start a mule now, in any thread of a master's engine, and
   * return its id (the next free one). `file` is the mule's file, as
   * `--mule file.js` (relative to the working directory); null or omitted
   * starts a plain mule. The id exists at once: `mule_msg(msg, id)` queues
   * for it while its thread starts. The master respawns it as any mule; it
   * stops with the master. Ids come from `--max-mules N` (the configured mules
   * plus the ones this may add): ERR_FULL once all are taken,
   * ERR_NOT_CONFIGURED without a master (a `createEngine()` engine),
   * ERR_NOT_FOUND for a file that does not exist.
   */
  mule_spawn(file?: string | null): number {
    argCount('mule_spawn', arguments.length, 0, 1);
    return mulesOf(this.ctx).spawn(file);
  }

  /** In a mule: true when it belongs to farm `name` (any farm without a name), else null. Always null outside mules. */
  in_farm(name?: string | Uint8Array): true | null {
    argCount('in_farm', arguments.length, 0, 1);
    return mulesOf(this.ctx).inFarm(name);
  }
}
