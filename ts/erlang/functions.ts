/**
 * The Erlang functions of the `uwsgi` module (uWSGI 1.x's pyerl plugin, on a
 * node of our own: see ./node.ts). Every function returns a promise; any
 * worker, mule or spooler may call them (the master's node does the work).
 * @module
 */
import { UwsgiError, argCount, typeName } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { socketTimeoutMs } from '../kernel/thread-options.ts';
import { decodeTerm, encodeTerm } from './codec.ts';
import { type ErlangProcess, erlangAccess } from './bridge.ts';
import { Atom, Pid, type Term, type TermInput } from './terms.ts';

/** A connection: the id `erlang_connect` gave, or a node name (`name@host`, connected on first use). */
export type ErlangNodeRef = number | string;

/** Options of the waiting `erlang_*` calls. */
export interface ErlangCallOptions {
  /** Seconds to wait (fractions allowed; -1: no limit). Default: `socket-timeout` (4 s). */
  timeout?: number;
}

function timeoutOf(ctx: ThreadContext, fn: string, opts: unknown): number {
  if (opts === undefined) return socketTimeoutMs(ctx);
  if (typeof opts !== 'object' || opts === null) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: options must be an object such as { timeout: 10 }, got ${typeName(opts)}`);
  const t = (opts as ErlangCallOptions).timeout;
  if (t === undefined) return socketTimeoutMs(ctx);
  if (typeof t !== 'number' || Number.isNaN(t)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: timeout must be a number of seconds, got ${typeName(t)}`);
  if (t === -1) return -1;
  if (!(t > 0) || !Number.isFinite(t)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: timeout must be > 0 seconds (or -1: no limit), got ${t}`);
  return Math.ceil(t * 1000);
}

function nodeArg(fn: string, node: unknown): ErlangNodeRef {
  if (typeof node === 'number' && Number.isInteger(node) && node > 0) return node;
  if (typeof node === 'string' && node.length > 0) return node;
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: node must be a connection id (from erlang_connect) or a node name such as 'name@host', got ${typeName(node)}`);
}

function nameArg(fn: string, what: string, v: unknown): string {
  if (v instanceof Atom) return v.name;
  if (typeof v === 'string' && v.length > 0) return v;
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${what} must be a non-empty string or an Atom, got ${typeName(v)}`);
}

/** The Erlang functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ErlangFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** This node's full name (`name@host`), or null without `--erlang`. */
  get erlang_node(): string | null {
    const cfg = this.ctx.shared.config.erlang;
    return cfg ? `${cfg.name}@${cfg.host ?? this.ctx.shared.hostname.split('.')[0]}` : null;
  }

  /**
   * Connect to an Erlang node: `name@host` (asks that host's EPMD where it
   * listens) or `host:port`. Resolves with a connection id (the same one for
   * a node already connected). Failures name the step: `ERR_CONNECT` (no
   * EPMD, nothing listening), `ERR_NOT_FOUND` (EPMD knows no such node),
   * `ERR_REJECTED` (the handshake failed: a different cookie...), `ERR_TIMEOUT`.
   */
  erlang_connect(address: string, options?: ErlangCallOptions): Promise<number> {
    argCount('erlang_connect', arguments.length, 1, 2);
    const fn = 'erlang_connect';
    try {
      if (typeof address !== 'string' || address === '') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: address must be 'name@host' or 'host:port', got ${typeName(address)}`);
      const t = timeoutOf(this.ctx, fn, options);
      return erlangAccess(this.ctx, fn).connect(fn, address, t);
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * Send `message` (any term of the mapping) to `process_name` on `node`: a
   * registered name (a string or an Atom) or a {@link Pid}. Resolves true
   * once it is handed to the system (Erlang sends never wait for the receiver).
   */
  erlang_send_message(node: ErlangNodeRef, process_name: string | Atom | Pid, message: TermInput, options?: ErlangCallOptions): Promise<true> {
    argCount('erlang_send_message', arguments.length, 3, 4);
    const fn = 'erlang_send_message';
    try {
      const n = nodeArg(fn, node);
      const to = process_name instanceof Pid ? process_name : nameArg(fn, 'process_name', process_name);
      const bytes = encodeTerm(message);
      const t = timeoutOf(this.ctx, fn, options);
      return erlangAccess(this.ctx, fn).send(fn, n, to, bytes, t).then(() => true as const);
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * Messages sent from Erlang to `{process_name, 'this@node'}` call `callable(message,
   * sender)` in this thread (`sender`: `{ from, node, connection }`, to reply
   * with `erlang_send_message(sender.connection, sender.from, reply)`). When
   * several threads register one name (every worker runs the app), they take
   * turns. `rex` is taken: it serves `rpc:call` from the RPC table. Resolves
   * true once the node routes the name here.
   */
  erlang_register_process(process_name: string | Atom, callable: ErlangProcess): Promise<true> {
    argCount('erlang_register_process', arguments.length, 2, 2);
    const fn = 'erlang_register_process';
    try {
      const n = nameArg(fn, 'process_name', process_name);
      if (typeof callable !== 'function') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: callable must be a function, got ${typeName(callable)}`);
      if ([...n].length > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: a process name is an atom: at most 255 characters`);
      return erlangAccess(this.ctx, fn).register(fn, n, this.ctx.tid, callable).then(() => true as const);
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * The next message that came on `node`'s connection and nothing else took
   * (replies to our pid, messages to names nobody here registered).
   * `ERR_TIMEOUT` after `timeout` seconds (default socket-timeout; -1 waits
   * for ever); `ERR_CLOSED` when the connection ends.
   */
  erlang_recv_message(node: ErlangNodeRef, options?: ErlangCallOptions): Promise<Term> {
    argCount('erlang_recv_message', arguments.length, 1, 2);
    const fn = 'erlang_recv_message';
    try {
      const n = nodeArg(fn, node);
      const t = timeoutOf(this.ctx, fn, options);
      return erlangAccess(this.ctx, fn).recv(fn, n, t).then((b) => decodeTerm(b));
    } catch (e) { return Promise.reject(e); }
  }

  /**
   * `rpc:call(Node, module, function, args)` through the peer's `rex`: a
   * promise of the decoded result. `args` is the argument list (an array);
   * anything else is one argument. `{badrpc, Reason}` rejects with an
   * `ErlangRpcError` (`code` `ERR_BADRPC`, `reason` the decoded Reason).
   */
  erlang_rpc(node: ErlangNodeRef, module: string | Atom, func: string | Atom, args: TermInput = [], options?: ErlangCallOptions): Promise<Term> {
    argCount('erlang_rpc', arguments.length, 3, 5);
    const fn = 'erlang_rpc';
    try {
      const n = nodeArg(fn, node);
      const m = nameArg(fn, 'module', module);
      const f = nameArg(fn, 'function', func);
      const encoded = encodeTerm(Array.isArray(args) ? args : [args]);
      const t = timeoutOf(this.ctx, fn, options);
      return erlangAccess(this.ctx, fn).rpc(fn, n, m, f, encoded, t).then((b) => decodeTerm(b));
    } catch (e) { return Promise.reject(e); }
  }
}
