/**
 * A thread's view of an engine: its own core instance over the shared memory,
 * its thread slot and scratch, and the JSON-safe description every thread shares.
 * @module
 */
import { statusError } from './errors.ts';
import type { CoreExports } from './core.ts';
import type { Config } from './options.ts';
import type { ThreadKind } from './abi.ts';

/** One region of the shared memory: its kind (assembly's R_*), index among regions of that kind, offset and size in bytes. */
export interface RegionPlan { kind: number; index: number; offset: number; size: number }

/** Where everything goes, JSON-safe so it can travel to threads with the config (kernel/layout.ts makes it). */
export interface LayoutPlan {
  totalBytes: number;
  pages: number;
  maxThreads: number;
  scratchSize: number;
  regions: RegionPlan[];
}

/** What every thread of an engine knows, besides the memory (JSON-safe). */
export interface EngineShared {
  config: Config;
  plan: LayoutPlan;
  /** Unix time (s) the engine was created. */
  startedOn: number;
  /** Process id of the process that runs the engine. */
  masterPid: number;
  /** Whether a master (uwsgi.run / the CLI) drives this engine. */
  hasMaster: boolean;
  hostname: string;
  cwd: string;
}

/** A thread kind's name (ts/kernel/abi.ts ThreadKind gives its number). */
export type ThreadKindName = keyof typeof ThreadKind;

/** What functions that act on "an engine, seen from a thread" take: a module object (`uwsgi`, `engine.uwsgi`) or anything holding a thread view. */
export interface ModuleHandle {
  /** The thread's view of the engine. */
  readonly ctx: ThreadContext;
}

let serviceCount = 0;

/**
 * Declare a per-thread service: something a thread keeps for one engine view
 * (its cache hints, its mule mailboxes, its signal listener...). Returns the
 * accessor: it makes the service on the first call for a view, and returns
 * the same object afterwards. Every subsystem keeps its per-thread state this
 * way, so a view and everything it made live and go together, and two module
 * objects over one view share them. Each service has a fixed slot in the
 * view, so the accessor is one array load on hot paths (the cache's get).
 */
export function threadService<T>(create: (ctx: ThreadContext) => T, release?: (service: T) => void): (ctx: ThreadContext) => T {
  const slot = serviceCount++;
  if (release) releasers.set(slot, release as (service: unknown) => void);
  return (ctx) => (ctx.services[slot] ??= create(ctx)) as T;
}
/** What a service must do when its view is released (close connections...), by slot. */
const releasers = new Map<number, (service: unknown) => void>();

/**
 * Declare a per-engine service: something the calling JS thread keeps for
 * one engine, shared by every view of it this JS thread made (the signal
 * listeners of those views, the master's controls). Returns the accessor; the
 * engine is known by its memory, and the service goes with it.
 */
export function engineService<T>(create: () => T): (engine: { readonly memory: WebAssembly.Memory }) => T {
  const byMemory = new WeakMap<WebAssembly.Memory, T>();
  return (engine) => {
    let s = byMemory.get(engine.memory);
    if (s === undefined) byMemory.set(engine.memory, (s = create()));
    return s;
  };
}

/**
 * A thread's view of an engine: its core instance over the shared memory, its
 * thread slot and scratch, and its per-thread services ({@link threadService}).
 */
export class ThreadContext {
  /** Byte view of the whole shared memory (it never grows, so this never goes stale). */
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Start of this thread's scratch slot. */
  readonly scratch: number;
  readonly memory: WebAssembly.Memory;
  readonly module: WebAssembly.Module;
  readonly x: CoreExports;
  readonly shared: EngineShared;
  readonly tid: number;
  readonly kind: ThreadKindName;
  /** worker id (1..N) for workers, mule id for mules, 0 otherwise. */
  readonly ident: number;
  /** Wall clock in ms (cache expiry reads it); engines may inject a fake one for tests. */
  clock: () => number = Date.now;
  /** @internal Per-thread services by slot ({@link threadService}). */
  readonly services: unknown[] = [];
  constructor(memory: WebAssembly.Memory, module: WebAssembly.Module, x: CoreExports, shared: EngineShared, tid: number, kind: ThreadKindName, ident: number) {
    this.memory = memory;
    this.module = module;
    this.x = x;
    this.shared = shared;
    this.tid = tid;
    this.kind = kind;
    this.ident = ident;
    const rc = x.thread_attach(tid);
    if (rc < 0) throw statusError(rc, `attach thread ${tid}`);
    this.u8 = new Uint8Array(memory.buffer);
    this.dv = new DataView(memory.buffer);
    this.scratch = x.scratch_ptr();
  }

  /**
   * This view is no longer used by the calling thread (a module object was
   * re-pointed at another view): services that hold resources let them go.
   */
  release(): void {
    for (const [slot, release] of releasers) {
      const s = this.services[slot];
      if (s !== undefined) { this.services[slot] = undefined; release(s); }
    }
  }
}
