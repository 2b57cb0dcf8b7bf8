/**
 * The one interface every runtime binding implements (bindings/<runtime>/), and
 * the detection that picks one. Nothing else in ts/ names a runtime.
 * @module
 */
import { nodeBinding } from '../../bindings/node/index.ts';
import { denoBinding } from '../../bindings/deno/index.ts';
import { bunBinding } from '../../bindings/bun/index.ts';
import type { ListenTicket } from '../server/listen.ts';
import type { SocketAddress } from '../protocol/address.ts';

/** Which JavaScript runtime runs this code. */
export type RuntimeName = 'node' | 'deno' | 'bun';

/** Data a spawned thread gets before it imports anything of the user's. */
export interface ThreadInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Thread slot reserved by the master. */
  tid: number;
  /** Everything the thread's engine view needs besides the memory (JSON-safe). */
  config: unknown;
  /** What the thread runs: `worker`, `mule`... and the user file, if any. */
  role: { kind: string; ident: number; app?: string; listen?: ListenTicket[] };
}

/** A thread started by {@link RuntimeBinding.spawnThread}. */
export interface ThreadHandle {
  postMessage(msg: unknown): void;
  /** Stop it now; resolves once the runtime reports it gone. */
  terminate(): Promise<void>;
}

export interface SpawnHandlers {
  /** A message the thread posted. */
  onMessage(msg: unknown): void;
  /** The thread is gone. `code` is its exit code (non-zero after an uncaught error). */
  onExit(code: number, error?: unknown): void;
}

/** What ts/ needs from a runtime. Each bindings/<runtime>/index.ts exports one. */
export interface RuntimeBinding {
  readonly name: RuntimeName;
  /** The runtime's version string, e.g. `20.20.2`. */
  readonly version: string;
  /** Whether this code runs on the runtime's main thread. */
  isMainThread(): boolean;
  /** Called once before the wasm module is compiled (Node 20 turns Liftoff off here). */
  prepareWasm(): void;
  /** Start a thread running the ES module at `url`, handing it `init`. */
  spawnThread(url: URL, init: ThreadInit, handlers: SpawnHandlers): ThreadHandle;
  /** In a spawned thread: the init data its parent handed over. */
  receiveInit(): Promise<ThreadInit>;
  /** In a spawned thread: post a message to the parent. */
  postToParent(msg: unknown): void;
  /** In a spawned thread: be told of the parent's messages. */
  onParentMessage(fn: (msg: unknown) => void): void;
  /** In a spawned thread: let it end once its pending output and work are done. */
  endThread(): void;
  /** Run `fn` on SIGINT/SIGTERM; returns a function that removes the handler. */
  onTerminationSignal(fn: (signal: string) => void): () => void;
  pid(): number;
  hostname(): string;
  /** Resident and virtual size of the process, in bytes (vsz 0 when the runtime cannot tell). */
  memoryUsage(): { rss: number; vsz: number };
  /** Read a whole file. */
  readTextFile(path: string): string;
  /** Append bytes to a file (created if missing): the `--logto` log. */
  appendFile(path: string, data: Uint8Array): void;
  /** Resolve a user-given path (relative to the working directory) to a file URL. */
  fileUrl(path: string): URL;
  /** Whether a file or directory exists at `path`. */
  pathExists(path: string): boolean;
  /**
   * Call `onChange` whenever the file or directory at `path` changes (file
   * monitors). Throws when it cannot be watched. Returns a function that stops
   * watching; the watch does not keep the process alive where the runtime allows.
   */
  watchPath(path: string, onChange: () => void): () => void;
  exit(code: number): never;
  /**
   * A fresh byte array holding the `length` bytes at `from` (4-aligned) of the
   * shared memory (`mem` and `mem32` view all of it): how cache reads copy a
   * value out. Where allocating small ArrayBuffers is slow (Node over 64
   * bytes, Deno always) values up to 4 KiB are views into a pooled buffer, as
   * Node's `Buffer.from` does.
   */
  copyOut(mem: Uint8Array, mem32: Int32Array, from: number, length: number): Uint8Array;
  /**
   * Whether a fresh `new Uint8Array(n)` of up to 64 bytes is cheaper than a
   * view into a pooled buffer (JavaScriptCore: yes; V8: no, and Deno's own
   * arrays cost about 300 ns): the cache's hot read path picks its copy by it.
   */
  readonly smallOwnArrays: boolean;
  /** A whole file's bytes, or null when it does not exist (other failures throw). */
  readFileBytes(path: string): Uint8Array | null;
  /**
   * Replace a file's contents so that a crash at any moment leaves either the
   * old file or the new one: write `path.tmp`, fsync it, rename it over `path`,
   * fsync the directory.
   */
  writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void;
  /** Delete a file; no error when it does not exist. */
  removeFile(path: string): void;
  /**
   * Bind a UDP socket on `addr` (port 0: any free port). `onMessage` gets each
   * datagram and a function that answers its sender.
   */
  listenUdp(addr: { host: string; port: number }, onMessage: (data: Uint8Array, reply: (data: Uint8Array) => void) => void): Promise<UdpEndpoint>;
  /** Listen for stream connections on TCP `host:port` or a UNIX socket `path` (a stale socket file there is replaced). */
  listenStream(addr: SocketAddress, onConnection: (conn: StreamConnection) => void): Promise<StreamListener>;
}

/** A bound UDP socket ({@link RuntimeBinding.listenUdp}). */
export interface UdpEndpoint {
  /** The port it got (the one asked for, or the system's pick for 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** One accepted stream connection. */
export interface StreamConnection {
  /** The next chunk received, or null once the peer closed its side (or the connection failed). */
  read(): Promise<Uint8Array | null>;
  /** Send bytes; resolves once handed to the system. Rejects when the connection is gone. */
  write(data: Uint8Array): Promise<void>;
  /** Close both directions (pending writes are flushed first where the runtime can). */
  close(): void;
}

/** A listening stream socket ({@link RuntimeBinding.listenStream}). */
export interface StreamListener {
  /** The TCP port it got, or undefined for a UNIX socket. */
  readonly port: number | undefined;
  /** Stop accepting; a UNIX socket file is removed. */
  close(): Promise<void>;
}

let detected: RuntimeBinding | undefined;

/** The binding for the runtime this code runs on (detected once). */
export function runtime(): RuntimeBinding {
  if (detected) return detected;
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  detected = g.Deno !== undefined ? denoBinding : g.Bun !== undefined ? bunBinding : nodeBinding;
  return detected;
}
