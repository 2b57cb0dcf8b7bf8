/**
 * What both listeners share: the hooks (accounting, errors, signals, spool),
 * the request being served (so `uwsgi.cl()`, `disconnect()` and `route()`
 * follow it through `await`), and how a request picks its app by mountpoint.
 * @module
 */
import type { PacketHooks } from './packets.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type RequestInfo, processOf, scopeInContext } from '../process/process.ts';
import { runtime } from '../platform/index.ts';
import type { App } from './apps.ts';
import type { ListenConfig } from './listen.ts';
import type { ConnectionGuard } from './connections.ts';

/** A request as a listener describes it to the accounting and error hooks: every field of {@link RequestInfo} is set. */
export type ServedRequest = Required<RequestInfo>;

/** One request being accounted: ended once, after its last byte was written. */
export interface RequestTicket {
  /** `tx`: bytes written to the peer; `exception`: what the handler threw, if it did. */
  end(tx: number, exception?: unknown): void;
  /** Run the app's handler inside the request's scope (so `request_id()`, `cl()`, logvars are this request's). */
  run?<T>(fn: () => T): T;
  /**
   * `run`, with the listener's request state carried by the same async
   * context (one context per request instead of two); `currentState` must
   * then find `state` there.
   */
  runServing?<T>(state: RequestState, fn: () => T): T;
}

/**
 * Request accounting: `begin` before a request is handled returns its ticket.
 * Without a hook, a worker's server uses the process subsystem's (the status
 * table's requests, tx, avg_rt, request_id, harakiri deadline, `cl()`).
 */
export interface RequestAccounting {
  begin(info: ServedRequest): RequestTicket | void;
}

/** The process subsystem's accounting for a thread's view: one `RequestScope` per request. */
export function processAccounting(ctx: ThreadContext): RequestAccounting {
  const api = processOf(ctx);
  return {
    begin(info) {
      const scope = api.begin(info);
      return {
        end: (tx, exception) => scope.end({ tx, exception: exception !== undefined }),
        run: (fn) => scope.run(fn),
        runServing: (state, fn) => { scope.served = state; return scope.run(fn); },
      };
    },
  };
}

/** Everything a server can be given besides its listeners and apps. */
export interface ServerHooks extends PacketHooks {
  accounting?: RequestAccounting;
  /** Where handler failures are reported (default: one line on stderr, as uWSGI logs them). */
  onError?: (error: unknown, info: ServedRequest) => void;
}

let globalHooks: ServerHooks = {};

/**
 * Install hooks for the servers this thread starts from now on (signals,
 * spooler, accounting): the subsystems that own them call this at start-up.
 */
export function setServerHooks(hooks: ServerHooks): void {
  globalHooks = { ...globalHooks, ...hooks };
}

/** The hooks currently installed in this thread. */
export function serverHooks(): ServerHooks { return globalHooks; }

/** The default `onError`: one line on stderr, as uWSGI logs an app's exception. */
export function defaultOnError(e: unknown, info: ServedRequest): void {
  console.error(`[uwsgi-wasm] ${info.method} ${info.uri}: the app failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
}

// ---- the request being served -----------------------------------------------------------

/** The request a handler runs for, as `uwsgi.cl()`, `disconnect()` and `route()` see it. */
export interface RequestState {
  cl: number;
  /** Close the client's connection now. */
  disconnect(): void;
  /** The CGI environ (computed on first use for HTTP requests). */
  env(): Record<string, string>;
  disconnected: boolean;
}

/**
 * The {@link RequestState} the listeners make: the environ is computed on
 * first use, and `release()`, called when the request ends, drops what would
 * compute it and what closes the connection. Those closures hold the whole
 * request (its head, socket, app context), and an async context can keep its
 * value reachable well after the request ended (Deno's does: with the state
 * kept whole, every request's objects survived the young-generation
 * collections, a quarter of a hello world's CPU on `--http-native`). After
 * `release()`, `env()` still returns an environ computed before, else an
 * empty one, and `disconnect()` does nothing: the request is over.
 */
export class ServedState implements RequestState {
  cl: number;
  disconnected = false;
  #env: Record<string, string> | undefined;
  #make: (() => Record<string, string>) | null;
  #drop: (() => void) | null;
  /** `make` computes the environ (once, on first use); `drop` closes the client's connection. */
  constructor(cl: number, make: () => Record<string, string>, drop: () => void) {
    this.cl = cl;
    this.#make = make;
    this.#drop = drop;
  }
  env(): Record<string, string> {
    if (this.#env === undefined) {
      const make = this.#make;
      this.#env = make === null ? Object.create(null) as Record<string, string> : make();
    }
    return this.#env;
  }
  disconnect(): void { this.#drop?.(); }
  /** The request ended: forget the closures that hold it. */
  release(): void {
    this.#make = null;
    this.#drop = null;
  }
}

const requestStore = runtime().asyncContext<RequestState>();

/**
 * Run `fn` as the handler of the request `state` describes, inside `ticket`'s
 * scope when there is one: one async context carries both where the ticket
 * can (the process subsystem's), else the state's wraps the ticket's.
 */
export function runInRequest<T>(state: RequestState, ticket: RequestTicket | void, fn: () => T): T {
  if (ticket?.runServing) return ticket.runServing(state, fn);
  if (!ticket?.run) return requestStore.run(state, fn);
  const t = ticket;
  return requestStore.run(state, () => t.run!(fn));
}

/** The state of the request the calling code serves (through `await`s), or undefined. */
function currentState(): RequestState | undefined {
  return requestStore.get() ?? (scopeInContext()?.served as RequestState | undefined);
}

/** Close the connection of the request being served; the handler goes on. False outside a request. */
export function disconnectCurrent(): boolean {
  const st = currentState();
  if (!st) return false;
  st.disconnected = true;
  st.disconnect();
  return true;
}

/** The environ of the request being served (null outside a request). */
export function currentEnv(): Record<string, string> | null { return currentState()?.env() ?? null; }

// ---- what a listener needs of its server --------------------------------------------------

/** An app by mountpoint ('' is the default app). */
export interface MountedApp { mountpoint: string; app: App }

/** What a listener needs from the worker's server. */
export interface ServingContext {
  readonly ctx: ThreadContext;
  readonly config: ListenConfig;
  readonly guard: ConnectionGuard;
  /** The app for a path: the longest mountpoint that is `path` or a prefix of it ending at a '/', else the default app. */
  pickApp(scriptName: string, pathInfo: string): { mounted: MountedApp; scriptName: string; pathInfo: string } | undefined;
  hook<K extends keyof ServerHooks>(k: K): ServerHooks[K];
}

/**
 * Whether a peer may change state with management packets by default: any peer
 * of a unix socket (only this machine reaches it), and a TCP peer whose address
 * is loopback. A TCP peer without a known address (already gone) is not local.
 */
export function isLocalPeer(address: string | undefined, unixListener = false): boolean {
  if (unixListener) return true;
  if (address === undefined) return false;
  if (address.startsWith('127.') || address === '::1') return true;
  // IPv4 loopback as an IPv4-mapped IPv6 address.
  return address.startsWith('::ffff:127.');
}
