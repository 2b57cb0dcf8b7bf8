/**
 * The `uwsgi` module object: the functions and globals of uWSGI's Python
 * module, for the calling thread. Names follow the seed reference.
 *
 * Each subsystem defines its own functions beside its code (ts/<subsystem>/
 * functions.ts: argument checks, then a call into the subsystem), and this
 * file puts them together on one object. A module object is a thin handle on
 * a thread's view of an engine ({@link ThreadContext}); everything a thread
 * keeps (cache hints, mailboxes, connections...) lives in that view.
 * @module
 */
import type { ThreadContext } from './kernel/context.ts';
import { CacheFunctions } from './cache/functions.ts';
import { ErlangFunctions } from './erlang/functions.ts';
import { ClientFunctions } from './client/functions.ts';
import { ClusterFunctions } from './cluster/functions.ts';
import { LockFunctions } from './locks/locks.ts';
import { MuleFunctions } from './mules/functions.ts';
import { SnmpFunctions } from './observability/functions.ts';
import { ProcessFunctions } from './process/functions.ts';
import { ProtocolFunctions } from './protocol/functions.ts';
import { QueueFunctions } from './queue/functions.ts';
import { RpcFunctions } from './rpc/functions.ts';
import { ServerFunctions } from './server/functions.ts';
import { SharedareaFunctions } from './sharedarea/functions.ts';
import { SignalFunctions } from './signals/functions.ts';
import { SpoolerFunctions } from './spooler/functions.ts';

/** The subsystems whose functions make up the module, in the seed's order. */
const PARTS = [
  ProcessFunctions, CacheFunctions, QueueFunctions, SnmpFunctions, SpoolerFunctions, ClientFunctions, ServerFunctions,
  ProtocolFunctions, LockFunctions, SharedareaFunctions, RpcFunctions, MuleFunctions, SignalFunctions, ClusterFunctions,
  ErlangFunctions,
] as const;

/**
 * The uwsgi module API for one thread of one engine: every function of
 * {@link ProcessFunctions}, {@link CacheFunctions}, {@link QueueFunctions},
 * {@link SnmpFunctions}, {@link SpoolerFunctions}, {@link ClientFunctions},
 * {@link ServerFunctions}, {@link ProtocolFunctions}, {@link LockFunctions},
 * {@link SharedareaFunctions}, {@link RpcFunctions}, {@link MuleFunctions},
 * {@link SignalFunctions}, {@link ClusterFunctions} and {@link ErlangFunctions}.
 */
export interface Uwsgi extends ProcessFunctions, CacheFunctions, QueueFunctions, SnmpFunctions, SpoolerFunctions, ClientFunctions,
  ServerFunctions, ProtocolFunctions, LockFunctions, SharedareaFunctions, RpcFunctions, MuleFunctions, SignalFunctions, ClusterFunctions,
  ErlangFunctions {}

/** The uwsgi module API for one thread of one engine. */
export class Uwsgi {
  #ctx?: ThreadContext;
  readonly #resolve?: () => ThreadContext;

  /**
   * @internal Use `import uwsgi from 'uwsgi-wasm'` or `createEngine()`. A function
   * is resolved on first use (the default export attaches lazily).
   */
  constructor(ctx: ThreadContext | (() => ThreadContext)) {
    if (typeof ctx === 'function') this.#resolve = ctx;
    else this.#ctx = ctx;
  }

  /** @internal The calling thread's view of the engine. */
  get ctx(): ThreadContext { return this.#ctx ??= this.#resolve!(); }

  /**
   * @internal Point this module object at another thread view (the default
   * export, when `uwsgi.run()` starts a master in the calling thread). What the
   * old view opened (client connections) is closed.
   */
  rebind(ctx: ThreadContext): void {
    const old = this.#ctx;
    this.#ctx = ctx;
    // What subsystems remembered of the old view on this object (symbol-keyed memos, e.g. the
    // cache functions' service) goes with it. Set to undefined rather than deleted: the
    // object keeps its shape, and so its fast property access.
    for (const s of Object.getOwnPropertySymbols(this)) (this as unknown as Record<symbol, unknown>)[s] = undefined;
    if (old && old !== ctx) old.release();
  }
}

// Each part's functions (methods and accessors) become the module object's own.
for (const part of PARTS) {
  for (const [name, desc] of Object.entries(Object.getOwnPropertyDescriptors(part.prototype))) {
    if (name === 'constructor') continue;
    if (Object.prototype.hasOwnProperty.call(Uwsgi.prototype, name)) throw new Error(`uwsgi-wasm: '${name}' is defined by two subsystems`);
    Object.defineProperty(Uwsgi.prototype, name, desc);
  }
}
