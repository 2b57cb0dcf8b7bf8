/**
 * The queue functions of the `uwsgi` module: uWSGI's shared ring of messages.
 * @module
 */
import { argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { queueOf } from './queue.ts';

/** The queue functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class QueueFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** Slots in the queue (`--queue`), or undefined when no queue is configured. */
  get queue_size(): number | undefined {
    const n = this.ctx.shared.config.queue;
    return n > 0 ? n : undefined;
  }

  /** Append `msg` (string as UTF-8) at the push head, overwriting whatever the slot holds. `true`, or `null` for an empty or oversized message. */
  queue_push(msg: string | Uint8Array): true | null {
    argCount('queue_push', arguments.length, 1, 1);
    return queueOf(this.ctx, 'queue_push').push(msg);
  }
  /** Take the oldest message (FIFO head); `null` when that slot is empty. */
  queue_pull(): Uint8Array | null {
    argCount('queue_pull', arguments.length, 0, 0);
    return queueOf(this.ctx, 'queue_pull').pull();
  }
  /** Step the push head back and take that slot's message (LIFO); `null` if it is empty. */
  queue_pop(): Uint8Array | null {
    argCount('queue_pop', arguments.length, 0, 0);
    return queueOf(this.ctx, 'queue_pop').pop();
  }
  /** Copy of slot `index` (not removed); `null` when empty or outside 0..queue_size-1. */
  queue_get(index: number): Uint8Array | null {
    argCount('queue_get', arguments.length, 1, 1);
    return queueOf(this.ctx, 'queue_get').get(index);
  }
  /** Write slot `index` directly; `true`, or `null` for a bad index or an empty message. ERR_BOUNDS when it does not fit a slot. */
  queue_set(index: number, msg: string | Uint8Array): true | null {
    argCount('queue_set', arguments.length, 2, 2);
    return queueOf(this.ctx, 'queue_set').set(index, msg);
  }
  /** The newest message, or (with `n` > 0) the `n` newest slots, newest first, `null` for empty ones. Nothing is removed. */
  queue_last(n: number = 0): Uint8Array | null | Array<Uint8Array | null> {
    argCount('queue_last', arguments.length, 0, 1);
    return queueOf(this.ctx, 'queue_last').last(n);
  }
  /** The push head: the slot the next push writes. */
  queue_slot(): number {
    argCount('queue_slot', arguments.length, 0, 0);
    return queueOf(this.ctx, 'queue_slot').slot();
  }
  /** The FIFO head: the slot the next pull reads. */
  queue_pull_slot(): number {
    argCount('queue_pull_slot', arguments.length, 0, 0);
    return queueOf(this.ctx, 'queue_pull_slot').pullSlot();
  }
}
