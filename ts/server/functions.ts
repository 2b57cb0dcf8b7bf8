/**
 * The request functions of the `uwsgi` module: what a handler may ask about
 * or do with the request being served and the listeners.
 * @module
 */
import { UwsgiError, argCount, intArg } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { disconnectCurrent, sendfileResponse } from './server.ts';
import { listenQueueOf, mountsOf } from './serve.ts';
import { type Fastfunc, type MarshalHandler, handlersOf, marshalHandlerArg } from './handlers.ts';

/** The request and listener functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ServerFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;
  /** Connections waiting in listener `id`'s accept queue (TCP on Linux; 0 for unix sockets). */
  listen_queue(id: number = 0): number { argCount('listen_queue', arguments.length, 0, 1); return listenQueueOf(this.ctx, intArg('listen_queue', 'id', id)); }
  /** Close the connection of the request being served (the handler goes on); false outside a request. */
  disconnect(): boolean { argCount('disconnect', arguments.length, 0, 0); return disconnectCurrent(); }
  /**
   * A `Response` whose body is the file (a path or an open descriptor), with its
   * Content-Length: `return uwsgi.sendfile('big.bin')` from a handler. `chunk`
   * (read size, default 64 KiB), `pos` (start offset) and `filesize` (bytes to send) as in uWSGI.
   */
  sendfile(file: string | number, chunk?: number, pos?: number, filesize?: number): Promise<Response> {
    argCount('sendfile', arguments.length, 1, 4);
    return sendfileResponse(file, chunk, pos, filesize);
  }
  /**
  /** FastCGI is not served (use `--socket` or `--http-socket`): always throws ERR_UNSUPPORTED. */
  fcgi(..._args: unknown[]): never {
    throw new UwsgiError('ERR_UNSUPPORTED', 'fcgi: FastCGI is not supported by uwsgi-wasm; serve nginx with uwsgi_pass to --socket, or HTTP with --http-socket');
  }
  /**
   * uWSGI 1.x's fast functions: 256 slots; a `--socket` packet with modifier1
   * 26 and modifier2 N calls `fastfuncs[N](body)` and sends what it returns
   * (a Response as HTTP, bytes or text as they are; nothing closes). Set slots
   * at import time in every worker: `uwsgi.fastfuncs[10] = () => 'pong'`.
   */
  get fastfuncs(): Array<Fastfunc | null> { return handlersOf(this.ctx).fastfuncs; }
  /**
   * uWSGI 1.x's marshalled-message handler: a `--socket` packet with modifier1
   * 33 carries a Python `marshal` value; `handler(value, modifier2)` runs and
   * its result goes back marshalled (modifier1 33, same modifier2). null: such
   * packets are closed unanswered, as uWSGI's default None.
   */
  get message_manager_marshal(): MarshalHandler | null { return handlersOf(this.ctx).marshal; }
  set message_manager_marshal(handler: MarshalHandler | null) { handlersOf(this.ctx).marshal = marshalHandlerArg(handler); }
  /** Mountpoints of the apps this worker serves ('' is the default app), in configuration order. */
  get applist(): string[] { return mountsOf(this.ctx).map((m) => m.mountpoint); }
  /** The apps this worker serves: mountpoint → app file. */
  get applications(): Record<string, string> { return Object.fromEntries(mountsOf(this.ctx).map((m) => [m.mountpoint, m.file])); }
}
