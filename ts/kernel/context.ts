/**
 * A thread's view of an engine: its own core instance over the shared memory,
 * its thread slot and scratch, and the JSON-safe description every thread shares.
 * @module
 */
import { statusError } from './errors.ts';
import type { CoreExports } from './core.ts';
import type { Config } from './options.ts';
import type { LayoutPlan } from './layout.ts';
import type { ThreadKind } from './abi.ts';

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
}
