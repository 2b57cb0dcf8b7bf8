/**
 * The RPC functions of the `uwsgi` module: functions registered by any thread,
 * callable from every thread, and from other nodes over the uwsgi protocol.
 * @module
 */
import { UwsgiError, argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { clientOf } from '../client/connections.ts';
import { type RpcResult, callRpc, registerRpc, rpcList } from './rpc.ts';

/** The RPC functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class RpcFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /**
   * Register `fn` as RPC function `name` (1..255 bytes), callable from every
   * thread; it runs in this thread and receives each argument as a Uint8Array.
   * Only a non-empty Uint8Array it returns (or resolves to) is a result; anything
   * else, or a throw, makes the call return null, as in uWSGI. Registering an
   * existing name takes it over. `argc` is accepted for uWSGI compatibility.
   * `fn` need not be callable, as in uWSGI (its recorded vectors): the name is
   * listed and a call returns null. In a spooler thread it checks its arguments
   * and registers nothing: the workers, importing the same app, own the function.
   */
  register_rpc(name: string | Uint8Array, fn: (...args: Uint8Array[]) => unknown, argc?: number): true {
    argCount('register_rpc', arguments.length, 2, 3);
    return registerRpc(this.ctx, name, fn, argc);
  }

  /**
   * Call RPC function `name` with up to 255 arguments (strings as UTF-8). When
   * this thread registered it, the result comes back at once; when another
   * thread did, a promise of it. null for an unknown function.
   */
  call(name: string | Uint8Array, ...args: Array<string | Uint8Array>): RpcResult | Promise<RpcResult> {
    argCount('call', arguments.length, 1, Infinity);
    return callRpc(this.ctx, 'call', name, args);
  }

  /**
   * `call` on `node`: null, undefined or '' is this engine (the result at once
   * or a promise, as `call`). A remote node (`'host:port'`, a unix socket path)
   * gives a promise of the result (uWSGI's RPC packet, modifier 173): null when
   * the node has no such function or it returned nothing; ERR_CONNECT,
   * ERR_TIMEOUT, ERR_CLOSED or ERR_BAD_REPLY when the exchange fails.
   */
  rpc(node: string | Uint8Array | null | undefined, name: string | Uint8Array, ...args: Array<string | Uint8Array>): RpcResult | Promise<RpcResult> {
    argCount('rpc', arguments.length, 2, Infinity);
    if (node !== null && node !== undefined) {
      if (typeof node !== 'string' && !(node instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `rpc: node must be a string, Uint8Array or null, got ${typeof node}`);
      if (node.length > 0) return clientOf(this.ctx).rpc(node, name, args);
    }
    return callRpc(this.ctx, 'rpc', name, args);
  }

  /** Names of every registered RPC function (all threads), as Uint8Array. */
  rpc_list(): Uint8Array[] {
    argCount('rpc_list', arguments.length, 0, 0);
    return rpcList(this.ctx);
  }
}
