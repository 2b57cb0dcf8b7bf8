/**
 * The network functions of the `uwsgi` module: uWSGI's descriptor-style
 * connections (ids of this thread's table), and uwsgi-protocol messages.
 * @module
 */
import { UwsgiError, argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import type { Bytes } from '../cache/cache.ts';
import { type ClientApi, type MultiMessageNode, clientOf } from './connections.ts';

/** The network functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ClientFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;
  /**
   * This thread's network client: `client.signal(num, 'host:port')` (a remote
   * signal, modifier 110) and `client.spool(fn, 'host:port', job)` (a remote spool
   * request, modifier 17), plus what `connect`, `send_message`, remote `rpc`... use.
   */
  get client(): ClientApi { return clientOf(this.ctx); }


  /** Connect to `address` (`host:port`, a unix path, `@abstract`); resolves with a connection id. `timeout` in seconds (default: socket-timeout). */
  connect(address: string, timeout?: number): Promise<number> { argCount('connect', arguments.length, 1, 2); return clientOf(this.ctx).connect(address, timeout); }
  /** Start connecting and return the connection id at once; `is_connected` tells when it is up, and a failure surfaces on the next use. */
  async_connect(address: string): number { argCount('async_connect', arguments.length, 1, 1); return clientOf(this.ctx).asyncConnect(address); }
  /** Whether connection `fd` is established and has not failed. */
  is_connected(fd: number): boolean { argCount('is_connected', arguments.length, 1, 1); return clientOf(this.ctx).isConnected(fd); }
  /** Close connection `fd` (an unknown id is ignored). */
  close(fd: number): void { argCount('close', arguments.length, 1, 1); clientOf(this.ctx).close(fd); }
  /** Send bytes (strings as UTF-8) on connection `fd`; resolves true once handed to the system. */
  send(fd: number, data: Bytes): Promise<true> { argCount('send', arguments.length, 2, 2); return clientOf(this.ctx).send(fd, data); }
  /** Up to `max_size` bytes (default and at most 4096) from connection `fd`, waiting for at least one; null at end of stream. */
  recv(fd: number, max_size?: number): Promise<Uint8Array | null> { argCount('recv', arguments.length, 1, 2); return clientOf(this.ctx).recv(fd, max_size); }
  /** Exactly `size` bytes from connection `fd`; null when the stream ends before the first; ERR_CLOSED when it ends part-way. `timeout` in seconds (-1: none; default socket-timeout). */
  recv_block(fd: number, size: number, timeout?: number): Promise<Uint8Array | null> { argCount('recv_block', arguments.length, 2, 3); return clientOf(this.ctx).recvBlock(fd, size, timeout); }
  /** The next frame on connection `fd`: the bytes between a `prefix` byte (default 0x00) and a `suffix` byte (default 0xff); null at end of stream. */
  recv_frame(fd: number, prefix?: string | number, suffix?: string | number): Promise<Uint8Array | null> { argCount('recv_frame', arguments.length, 1, 3); return clientOf(this.ctx).recvFrame(fd, prefix, suffix); }
  /**
   * Send a uwsgi packet (`modifier1`, `modifier2`, `message`: bytes, or an
   * object sent as vars), then `body` if given, to `destination` (an address,
   * or a connection id that stays open), and resolve with the reply: its body,
   * or a whole raw-HTTP reply (one starting with `H`); empty when the peer
   * closed without answering.
   */
  send_message(destination: string | number, modifier1: number, modifier2: number, message: Bytes | Record<string, Bytes>, timeout?: number, body?: Bytes): Promise<Uint8Array> {
    argCount('send_message', arguments.length, 4, 6);
    return clientOf(this.ctx).sendMessage(destination, modifier1, modifier2, message, timeout, body);
  }
  /** `send_message` to every `[host, port, message]` node at once; the replies in order (the first failure rejects). */
  send_multi_message(nodes: readonly MultiMessageNode[], modifier1: number, modifier2: number, timeout?: number): Promise<Uint8Array[]> {
    argCount('send_multi_message', arguments.length, 3, 4);
    return clientOf(this.ctx).sendMultiMessage(nodes, modifier1, modifier2, timeout);
  }
  /**
   * Forward the request being served with one of uWSGI's routing actions; only
   * the `uwsgi` router: `return uwsgi.route('uwsgi', '127.0.0.1:3032,0,0', request)`
   * sends the request's vars and body to that node and resolves with its answer
   * as a Response.
   */
  route(router: string, args: string, request?: Request): Promise<Response> {
    argCount('route', arguments.length, 2, 3);
    return clientOf(this.ctx).route(router, args, request);
  }
  /**
   * uWSGI's descriptor of the request's connection. Not available: a request's
   * socket belongs to the listener here (handlers read the `Request` and return
   * a `Response`, the server streams both), so writing to it behind the
   * server's back would corrupt the reply. Always ERR_UNSUPPORTED; connection
   * ids for `send`/`recv` come from `connect`/`async_connect`.
   */
  connection_fd(): never {
    throw new UwsgiError('ERR_UNSUPPORTED', 'connection_fd: the request\'s connection belongs to the listener (read the Request, return a Response); connection ids for send/recv come from connect/async_connect');
  }
  /** Send a uwsgi packet on connection `fd` without waiting for a reply. */
  async_send_message(fd: number, modifier1: number, modifier2: number, message: Bytes | Record<string, Bytes>): Promise<void> {
    argCount('async_send_message', arguments.length, 4, 4);
    return clientOf(this.ctx).asyncSendMessage(fd, modifier1, modifier2, message);
  }
}
