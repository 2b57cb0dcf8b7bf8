/**
 * What ts/ needs from a JavaScript runtime, as one interface that each of
 * bindings/node, bindings/deno and bindings/bun implements (their index.ts
 * exports a {@link RuntimeBinding}). Types only: this file imports nothing, so
 * the bindings can import it without reaching back into ts/.
 *
 * The interface is flat at the use site (`runtime().pid()`), and declared in
 * parts that match the bindings' files: {@link RuntimeThreads} (threads.ts),
 * {@link RuntimeProcess} (process.ts), {@link RuntimeFiles} (files.ts),
 * {@link RuntimeSockets} (net.ts).
 * @module
 */

/** Which JavaScript runtime runs this code. */
export type RuntimeName = 'node' | 'deno' | 'bun';

// ---- threads ---------------------------------------------------------------------------

/**
 * How a worker finds its share of a listener the master prepared
 * ({@link RuntimeSockets.prepareListener}): a listening descriptor of its own
 * (Node), an address to bind with `reusePort` (Deno, Bun), or an address to
 * bind alone (a unix socket with one worker on Deno/Bun, and `serve()`).
 */
export type ListenTicket = { fd: number } | { reusePort: true } | { bind: true };

/** Data a spawned thread gets before it imports anything of the user's. */
export interface ThreadInit {
  /** The compiled core, shared with the parent. */
  module: WebAssembly.Module;
  /** The engine's one shared memory. */
  memory: WebAssembly.Memory;
  /** Thread slot reserved by the master. */
  tid: number;
  /** Everything the thread's engine view needs besides the memory (JSON-safe). */
  config: unknown;
  /** What the thread runs: `worker`, `mule`... the user file, if any, and one listener ticket per configured listener. */
  role: { kind: string; ident: number; app?: string; listen?: ListenTicket[] };
}

/** A thread started by {@link RuntimeThreads.spawnThread}. */
export interface ThreadHandle {
  /** Post a structured-clone message to the thread. */
  postMessage(msg: unknown): void;
  /** Stop it now; resolves once the runtime confirms it no longer runs. */
  terminate(): Promise<void>;
}

/** What a parent is told of a thread it spawned. */
export interface SpawnHandlers {
  /** A message the thread posted. */
  onMessage(msg: unknown): void;
  /**
   * The thread is gone, as confirmed by the runtime (Node's `exit` event,
   * Bun's `close` event, Deno's OS thread leaving /proc). `code` is its exit
   * code (non-zero after an uncaught error, which is `error`).
   */
  onExit(code: number, error?: unknown): void;
}

/** Threads: each runtime's own (Node's worker_threads, web Workers on Deno and Bun). */
export interface RuntimeThreads {
  /** Whether this code runs on the runtime's main thread. */
  isMainThread(): boolean;
  /** Start a thread running the ES module at `url`, handing it `init` first. */
  spawnThread(url: URL, init: ThreadInit, handlers: SpawnHandlers): ThreadHandle;
  /** In a spawned thread: the init data its parent handed over. */
  receiveInit(): Promise<ThreadInit>;
  /** In a spawned thread: post a message to the parent. */
  postToParent(msg: unknown): void;
  /** In a spawned thread: be told of the parent's messages. */
  onParentMessage(fn: (msg: unknown) => void): void;
  /** In a spawned thread: let it end once its pending output and work are done. */
  endThread(): void;
}

// ---- the process -----------------------------------------------------------------------

/** Per-request context that follows async calls (what Node's `AsyncLocalStorage` provides). */
export interface AsyncContext<T> {
  /** Run `fn` with `value` as the context of everything it starts, synchronously or asynchronously. */
  run<R>(value: T, fn: () => R): R;
  /** The value of the innermost `run` this code was started from, or undefined outside one. */
  get(): T | undefined;
}

/** The process this code runs in. */
export interface RuntimeProcess {
  /** The process id. */
  pid(): number;
  /** The machine's host name. */
  hostname(): string;
  /** Resident and virtual size of the process, in bytes (vsz 0 when the runtime cannot tell). */
  memoryUsage(): { rss: number; vsz: number };
  /** End the process now with `code`. */
  exit(code: number): never;
  /** Run `fn` on SIGINT/SIGTERM (the signal's name is passed); returns a function that removes the handler. */
  onTerminationSignal(fn: (signal: string) => void): () => void;
  /** The command-line arguments after the script (Node's `process.argv.slice(2)`, `Deno.args`). */
  args(): string[];
  /** The environment variables ({} where the runtime has none to give). */
  env(): Record<string, string | undefined>;
  /** The working directory (`.` where the runtime cannot tell). */
  cwd(): string;
  /** Real user and group id of the process (0 where the runtime has none: not POSIX). */
  ids(): { uid: number; gid: number };
  /** Logical CPUs the runtime reports (at least 1). */
  cpuCount(): number;
  /**
   * Name the process (`ps` shows it) where the runtime allows it; call it on
   * the main thread only. Returns false when the runtime cannot.
   */
  setProcessTitle(title: string): boolean;
  /** A new per-request context (see {@link AsyncContext}). */
  asyncContext<T>(): AsyncContext<T>;
  /**
   * The MD5 digest of `data` (16 bytes): the Erlang distribution handshake
   * proves the cookie with it, and Web Crypto has no MD5.
   */
  md5(data: Uint8Array): Uint8Array;
}

// ---- files -----------------------------------------------------------------------------

/** What the spooler needs from `lstat` ({@link RuntimeFiles.lstat}). */
export interface FileStat {
  /** A regular file. */
  isFile: boolean;
  /** A directory. */
  isDirectory: boolean;
  /** Whole seconds, as uWSGI compares them. */
  mtimeSec: number;
  /** Bytes. */
  size: number;
  /** Device number, to find the file in /proc/locks. */
  dev: number;
  /** Inode number, to find the file in /proc/locks. */
  ino: number;
  /** Permission bits (`st_mode & 0o7777`): priority directories take their spool directory's. */
  mode: number;
}

/** POSIX path helpers (pure: they do not touch the filesystem). */
export interface PathHelpers {
  /** The parts joined with `/` and normalised. */
  join(...parts: string[]): string;
  /** `p` resolved against `base` (or the working directory), normalised, no symlinks followed. */
  resolve(base: string, p: string): string;
  /** The directory part of `p`. */
  dirname(p: string): string;
  /** The last part of `p`. */
  basename(p: string): string;
  /** Whether `p` starts at the root. */
  isAbsolute(p: string): boolean;
}

/**
 * Files. Synchronous where the callers need the result before they return (a
 * spool write must be on disk before `spool()` returns; the log line is
 * counted at once). "Gone" answers (`null`, `false`, `[]`) are for ENOENT;
 * other failures throw the runtime's error.
 */
export interface RuntimeFiles {
  /** Read a whole file as UTF-8 text (`--ini`). */
  readTextFile(path: string): string;
  /** A whole file's bytes, or null when it does not exist. */
  readFileBytes(path: string): Uint8Array | null;
  /** Append bytes to a file (created if missing): the `--logto` log. */
  appendFile(path: string, data: Uint8Array): void;
  /**
   * Replace a file's contents so that a crash at any moment leaves either the
   * old file or the new one: write `path.tmp`, fsync it, rename it over `path`,
   * fsync the directory.
   */
  writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void;
  /** Delete a file; no error when it does not exist. */
  removeFile(path: string): void;
  /** Whether a file or directory exists at `path`. */
  pathExists(path: string): boolean;
  /** Resolve a user-given path (relative to the working directory) to a file URL (for `import()`). */
  fileUrl(path: string): URL;
  /**
   * Call `onChange` whenever the file or directory at `path` changes (file
   * monitors). Throws when it cannot be watched. Returns a function that stops
   * watching; the watch does not keep the process alive where the runtime allows.
   */
  watchPath(path: string, onChange: () => void): () => void;
  /**
   * A file (a path, or an open descriptor, which stays open) as a byte stream
   * of `chunk`-byte reads from `pos`, and the bytes it will give (`size`, or
   * the rest of the file): `uwsgi.sendfile`. Rejects when the file cannot be
   * opened or measured.
   */
  fileStream(file: string | number, chunk: number, pos: number, size?: number): Promise<{ size: number; stream: ReadableStream<Uint8Array> }>;

  // The spool directory operations (uWSGI's spooler works on plain files and renames).
  /** Real path of `p`, or null when it does not exist. */
  realpath(p: string): string | null;
  /** Create a directory (parents too) with `mode` (less the umask); an existing one is fine. */
  mkdirs(p: string, mode: number): void;
  /** Create one directory level; false when it already exists. */
  mkdirOne(p: string, mode: number): boolean;
  /**
   * Write a new file that must not exist yet (O_CREAT|O_EXCL, mode 0600, as
   * uWSGI), set its access and modification times to `mtimeSec` if given, push
   * it to disk (fsync) and close it. On any failure the partial file is
   * removed and the error is thrown.
   */
  writeNewFile(path: string, chunks: readonly Uint8Array[], mtimeSec: number | undefined): void;
  /**
   * Give the file at `from` the name `to` without ever replacing an existing
   * `to` (a hard link, then the old name is removed; a checked rename where
   * links are refused). Throws with code EEXIST if `to` is taken.
   */
  publish(from: string, to: string): void;
  /** Push a directory's entries (creations, renames, removals) to disk, where the filesystem allows. */
  syncDir(dir: string): void;
  /** Atomically rename; false when `from` is gone (another thread took it first). */
  renameIfExists(from: string, to: string): boolean;
  /** Remove a file; false when it was already gone. */
  unlinkIfExists(p: string): boolean;
  /** Entry names of a directory in the order the system lists them (uWSGI's readdir order); [] if it is gone. */
  listDir(dir: string): string[];
  /** `lstat` (symbolic links are not followed), or null when the entry is gone. */
  lstat(p: string): FileStat | null;
  /** Whether this process may read and write `p` (uWSGI skips task files it cannot). */
  readWritable(p: string): boolean;
  /**
   * Whether a process holds a POSIX (fcntl) or flock lock on the file with
   * this device and inode (Linux /proc/locks): a real uWSGI writer or spooler
   * locks the spool file it works on. False where it cannot be told.
   */
  lockedByAnyProcess(dev: number, ino: number): boolean;
  /**
   * The start time of process `pid` (Linux /proc, clock ticks since boot),
   * which tells a live process from a later one that reused its pid. null when
   * the process does not exist; undefined when it cannot be told.
   */
  processStartTime(pid: number): string | null | undefined;
  /** This process's start time (see {@link processStartTime}); '0' where it cannot be told. */
  selfStartTime(): string;
  /** POSIX path helpers. */
  readonly paths: PathHelpers;
}

// ---- sockets ---------------------------------------------------------------------------

/**
 * Where a socket is: TCP `host` and `port`, or a unix socket `path` (for
 * {@link RuntimeSockets.connect}, `\0name` is Linux's abstract namespace).
 */
export type Endpoint =
  | { readonly host: string; readonly port: number; readonly path?: undefined }
  | { readonly path: string; readonly host?: undefined; readonly port?: undefined };

/** A configured listener as the bindings need it: the address as given (for messages) and where it is. */
export interface ListenTarget {
  /** The address as the user wrote it. */
  readonly address: string;
  /** TCP host (an IPv6 address without brackets); absent for a unix socket. */
  readonly host?: string;
  /** TCP port; absent for a unix socket. */
  readonly port?: number;
  /** Unix socket path. */
  readonly path?: string;
  /** Served by the runtime's own Fetch server ({@link RuntimeSockets.serveFetch}) rather than node:http or node:net. */
  readonly fetchServer?: boolean;
}

/** Why a socket failed: the system's error code (`ECONNREFUSED`, `ENOENT`, `ECONNRESET`, `EPIPE`...) and message. */
export interface SocketError {
  /** The system's code, e.g. `ECONNRESET`. */
  readonly code: string;
  /** The runtime's message. */
  readonly message: string;
}

/**
 * What a stream socket reports, given when it is made (accepted or
 * connected). Each runs on the event loop, never from inside a {@link Socket}
 * method's call nor before the accept function returned; none runs after
 * `onClose`.
 */
export interface SocketHandlers {
  /** Bytes arrived: a plain `Uint8Array` (never a Node `Buffer`), the handler's to keep. */
  onData(chunk: Uint8Array): void;
  /** The peer finished sending (EOF); no more `onData`. */
  onEnd(): void;
  /** Everything written so far was handed to the system, after a `write()` that returned false. */
  onDrain(): void;
  /**
   * The socket is gone (closed by either side, or destroyed); `error` when it
   * failed: before `onConnect`, a failure to connect.
   */
  onClose(error?: SocketError): void;
}

/** The handlers of an outgoing socket ({@link RuntimeSockets.connect}). */
export interface ConnectHandlers extends SocketHandlers {
  /** The connection is established; writes go out from now on. */
  onConnect(): void;
}

/**
 * One stream socket (TCP or unix), accepted or connected: the one type every
 * listener, the stats server and the client use. Writes never block: `write`
 * queues and says whether the caller should wait for `onDrain` before writing
 * more (backpressure); reads arrive through {@link SocketHandlers.onData},
 * stopped by `pause()` and restarted by `resume()`.
 */
export interface Socket {
  /** Queue bytes (taken as they are: do not change them afterwards). False: the queue is full, wait for `onDrain`. */
  write(bytes: Uint8Array): boolean;
  /** Send `last` (if given) after everything queued, then finish our side; the socket closes once the peer ends too. */
  end(last?: Uint8Array): void;
  /**
   * As {@link end}, then close both directions as soon as everything queued is
   * sent, without waiting for the peer to end: for a connection whose request
   * was read whole (what uWSGI does after a response). Unread bytes arriving
   * later would reset the connection, so use {@link end} when any may come.
   */
  finish(last?: Uint8Array): void;
  /** Close both directions now, dropping anything queued; `onClose` follows. */
  destroy(): void;
  /** Stop delivering `onData` (the runtime stops reading, so TCP pushes back on the peer). */
  pause(): void;
  /** Deliver `onData` again. */
  resume(): void;
  /** Destroyed, or closed by both sides: writes are dropped. */
  readonly closed: boolean;
  /** The peer's address (undefined for a unix socket, or once closed where the runtime forgets it). */
  readonly remoteAddress: string | undefined;
  /** The peer's port (as remoteAddress). */
  readonly remotePort: number | undefined;
  /** Our side's address (undefined for a unix socket). */
  readonly localAddress: string | undefined;
  /** Our side's port (undefined for a unix socket). */
  readonly localPort: number | undefined;
}

/** Where a listener is bound, as Node's `server.address()` says it: `{ address, family, port }`, or the unix socket path. */
export type ListenerAddress = { address: string; family: string; port: number } | string;

/** A listening stream socket. */
export interface Listener {
  /** The TCP port it got (the system's pick for port 0), or undefined for a unix socket. */
  readonly port: number | undefined;
  /** Where it is bound (null once closed). */
  address(): ListenerAddress | null;
  /**
   * Stop accepting; a unix socket file it made is removed. Resolves once the
   * listening socket is closed (on node:net, once every connection it
   * accepted has closed too).
   */
  close(): Promise<void>;
}

/**
 * Called for each accepted connection; returns the socket's handlers (kept
 * until `onClose`). Runs before any byte of the connection is delivered.
 */
export type AcceptFn = (socket: Socket) => SocketHandlers;

/** The master's side of one listener shared by the workers ({@link RuntimeSockets.prepareListener}). */
export interface PreparedListener {
  /** A ticket for the next worker started (synchronous: respawns take one at once). */
  ticket(): ListenTicket;
  /** Stop handing out tickets and release the master's hold on the socket (a unix socket file is removed). */
  close(): void;
}

/** A bound UDP socket ({@link RuntimeSockets.listenUdp}). */
export interface UdpEndpoint {
  /** The port it got (the one asked for, or the system's pick for 0). */
  readonly port: number;
  /** Stop receiving and release the port. */
  close(): Promise<void>;
}

// ---- HTTP (node:http, which Node, Deno and Bun each implement) ---------------------------

/**
 * The socket under a node:http request, as the server reads it (every
 * runtime's node:http gives a `net.Socket`-like object). Apps get the real one.
 */
export interface HttpSocket {
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  readonly localPort?: number;
  /** Bytes handed to the system so far (request accounting's `tx`). */
  readonly bytesWritten?: number;
  readonly destroyed: boolean;
  /** Close both directions now. */
  destroy(): unknown;
  /** Emit `timeout` after `ms` without a byte read or written (0: never). */
  setTimeout(ms: number): unknown;
  on(event: 'timeout' | 'close', fn: () => void): unknown;
}

/**
 * The parts of node:http's `IncomingMessage` the server reads; the app gets
 * the runtime's own object, with all of Node's API.
 */
export interface NodeRequest {
  readonly method?: string;
  readonly url?: string;
  readonly httpVersion: string;
  /** Lower-cased names; repeated headers joined as node:http joins them. */
  readonly headers: Record<string, string | string[] | undefined>;
  /** Names and values as received, alternating. */
  readonly rawHeaders: string[];
  readonly socket: HttpSocket;
  /** The whole body was received. */
  readonly complete: boolean;
  on(event: 'data', fn: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'close', fn: () => void): unknown;
  on(event: 'error', fn: (e: Error) => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

/** The parts of node:http's `ServerResponse` the server uses; the app gets the runtime's own object. */
export interface NodeResponse {
  statusCode: number;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  /** A write returned false and `drain` has not come yet: the client is not reading. */
  readonly writableNeedDrain: boolean;
  /** False: answer with `Connection: close` and close after this response. */
  shouldKeepAlive: boolean;
  readonly socket: HttpSocket | null;
  /** Status and headers (a repeated header as an array of values). */
  writeHead(status: number, statusMessage: string | undefined, headers: Record<string, string | string[]>): unknown;
  write(chunk: Uint8Array): boolean;
  end(chunk?: Uint8Array | string): unknown;
  /** Send `100 Continue` (a request with `Expect: 100-continue`). */
  writeContinue(): void;
  on(event: 'finish' | 'close' | 'drain', fn: () => void): unknown;
  once(event: 'drain' | 'close', fn: () => void): unknown;
  off(event: 'drain' | 'close', fn: () => void): unknown;
}

/** How the runtime's node:http server is configured ({@link RuntimeSockets.listenHttp}). */
export interface HttpServeOptions {
  /** Largest request head, in bytes (node:http answers 431 above it). */
  maxHeaderSize: number;
  /** The whole head must arrive within this many ms (node:http answers 408 after). */
  headersTimeoutMs: number;
  /** The whole request (head and body) must arrive within this many ms. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this many ms. */
  keepAliveTimeoutMs: number;
}

/** What node:http reports to the server. */
export interface HttpServeHandlers {
  /** A request whose head is complete (pipelined ones arrive after the previous response ends). */
  request(req: NodeRequest, res: NodeResponse): void;
  /** A request with `Expect: 100-continue`: call `res.writeContinue()` before reading its body, or answer without reading it. */
  checkContinue(req: NodeRequest, res: NodeResponse): void;
  /** A connection was accepted (before any request on it). */
  connection(socket: HttpSocket): void;
}

/**
 * One connection of a peer that speaks another protocol (the uwsgi protocol)
 * whose request the server hands to node:http as HTTP bytes
 * ({@link RuntimeSockets.httpBridge}); node:http's answer comes back here.
 */
export interface BridgePeer {
  /** The client's address, shown to the app as `req.socket.remoteAddress`. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Bytes of node:http's answer; resolves once the peer took them (backpressure). */
  write(bytes: Uint8Array): Promise<void>;
  /** node:http finished the answer. */
  end(): void;
  /** node:http gave up on the connection (a parse error, or the app destroyed the socket). */
  destroy(): void;
  /** node:http parsed the request's head: hand `req` and `res` to the app. */
  request(req: NodeRequest, res: NodeResponse): void;
}

/** The request side of one bridged connection: feed it the request's body. */
export interface BridgeStream {
  /** More bytes of the request's body; false: wait for {@link wanted} before pushing more. */
  push(bytes: Uint8Array): boolean;
  /** Resolves once node:http wants more bytes (the app reads the body). */
  wanted(): Promise<void>;
  /** The peer is gone: node:http sees the connection close. */
  destroy(): void;
}

/** The request a bridged connection carries, checked by the server: every name a token, every value one an HTTP head can carry. */
export interface BridgeHead {
  method: string;
  /** The request target (path and query). */
  url: string;
  /** Header names and values as they arrived, alternating (no Connection or Transfer-Encoding). */
  rawHeaders: string[];
  /** Body bytes that will be pushed. */
  contentLength: number;
}

/**
 * A node:http server that listens nowhere: the app gets the runtime's own
 * `IncomingMessage`/`ServerResponse` for a request the server parsed from
 * another protocol, answered as HTTP/1.0 (no chunking; the close ends the body).
 */
export interface HttpBridge {
  /** One connection carrying one request; node:http's `(req, res)` go to `peer.request`. */
  open(peer: BridgePeer, head: BridgeHead): BridgeStream;
}

// ---- the runtime's own Fetch server (Deno.serve, Bun.serve) -------------------------------

/** How the runtime's own Fetch server is configured ({@link RuntimeSockets.serveFetch}). */
export interface FetchServeOptions {
  /** Seconds a connection may stay silent once a request started (Bun.serve's `idleTimeout`, at most 255; Deno.serve has none). */
  idleTimeoutS: number;
  /** The largest request body in bytes, 0 for no limit: the server answers 413 over an announced one and counts a chunked one; the runtime's own limit must not come first. */
  maxBodySize: number;
  /** False: every response says `Connection: close` and the connection closes after it (Deno.serve cannot: refused there). */
  keepAlive: boolean;
}

/** The connection a request arrived on, as the runtime's Fetch server tells it. */
export interface FetchPeer {
  readonly remoteAddr: string;
  /** 0 for a unix socket. */
  readonly remotePort: number;
  /** Settles once the answer was delivered (resolves) or could not be (rejects); undefined where the runtime does not say (Bun). */
  readonly completed?: Promise<void>;
  /** Whether `error`, met while the request was handled, is the connection's failure (the peer went away under its body) rather than the app's. */
  gone(error: unknown): boolean;
}

/** What the runtime's Fetch server calls for each request: a `Response`, or null to drop the connection without one. */
export type FetchServeHandler = (request: Request, peer: FetchPeer) => Response | null | Promise<Response | null>;

/** Who sent a datagram ({@link RuntimeSockets.openUdp}). */
export interface UdpPeer {
  /** The sender's IP address. */
  readonly address: string;
  /** The sender's port. */
  readonly port: number;
}

/** What {@link RuntimeSockets.openUdp} binds, and the group it joins. */
export interface UdpOptions {
  /** Address to bind (`0.0.0.0` for every interface; a multicast socket binds every interface whatever is given). */
  host: string;
  /** Port to bind; 0 picks a free one. */
  port: number;
  /** SO_REUSEADDR: several sockets (several nodes on one host) may bind the port, and each gets every multicast datagram. */
  reuseAddr?: boolean;
  /** Join this IPv4 multicast group (on the interface the routing table picks for it). */
  multicastGroup?: string;
  /** IP_MULTICAST_TTL of datagrams sent to a group (default 1: the local network). */
  multicastTtl?: number;
  /** IP_MULTICAST_LOOP: this host's own members get what it sends to a group (default true). */
  multicastLoopback?: boolean;
  /** SO_BROADCAST: allow sending to a broadcast address. */
  broadcast?: boolean;
}

/** A bound UDP socket that sends to any peer ({@link RuntimeSockets.openUdp}). */
export interface UdpSocket {
  /** The port it got (the one asked for, or the system's pick for 0). */
  readonly port: number;
  /** Send one datagram to `host:port`; rejects with the system's error (`ENETUNREACH`...). */
  send(data: Uint8Array, host: string, port: number): Promise<void>;
  /** Stop receiving and release the port. */
  close(): Promise<void>;
}

/** Sockets: outgoing and listening streams, UDP, and the listen queue. */
export interface RuntimeSockets {
  /** Open a stream socket to `target`; `handlers` hear of it (`onConnect`, or `onClose` with the reason it failed). */
  connect(target: Endpoint, handlers: ConnectHandlers): Socket;
  /**
   * Listen on `target` from this thread alone (the master's stats server): a
   * stale unix socket file at the path is replaced, anything else there is
   * refused. Rejects with the runtime's error when the address cannot be bound.
   */
  listen(target: Endpoint, accept: AcceptFn): Promise<Listener>;
  /**
   * In the master, before the workers start: make `target` shareable by
   * `workers` worker threads (Node: bind it once and hand each worker a
   * duplicate descriptor; Deno and Bun: check the address, then every worker
   * binds it with reusePort). Throws a `UwsgiError` (`ERR_OPTION` when the
   * address cannot be bound, `ERR_UNSUPPORTED` for a unix socket shared by
   * several workers where the runtime cannot share one).
   */
  prepareListener(target: ListenTarget, workers: number, backlog: number): Promise<PreparedListener>;
  /**
   * In a worker (or a thread serving alone, with a `bind` ticket): listen on
   * `target` with the ticket the master gave, and an accept queue of `backlog`.
   * Rejects with a `UwsgiError` (`ERR_OPTION`) when it cannot listen.
   */
  listenWithTicket(target: ListenTarget, ticket: ListenTicket, backlog: number, accept: AcceptFn): Promise<Listener>;
  /**
   * Bind a UDP socket on `addr` (port 0: any free port). `onMessage` gets each
   * datagram and a function that answers its sender.
   */
  listenUdp(addr: { host: string; port: number }, onMessage: (data: Uint8Array, reply: (data: Uint8Array) => void) => void): Promise<UdpEndpoint>;
  /**
   * Open a UDP socket that sends to any address and receives with the
   * sender's address (the cluster's multicast group, cache replication,
   * subscriptions): bound per `opts`, joined to `opts.multicastGroup` if given.
   * `onMessage` gets each datagram (a copy it may keep) and its sender. Send
   * errors never surface as events: `send` rejects instead. Rejects with the
   * runtime's error when the socket cannot be bound or the group joined.
   */
  openUdp(opts: UdpOptions, onMessage: (data: Uint8Array, from: UdpPeer) => void): Promise<UdpSocket>;
  /** Connections waiting in the accept queue of the TCP listeners on `port` (Linux /proc/net/tcp*); 0 where it cannot be read. */
  tcpListenQueue(port: number): number;
  /**
   * In a worker: serve HTTP/1.1 with the runtime's node:http on `target`,
   * listening with the master's ticket (as {@link listenWithTicket}).
   * Rejects with a `UwsgiError` (`ERR_OPTION`) when it cannot listen.
   */
  listenHttp(target: ListenTarget, ticket: ListenTicket, backlog: number, options: HttpServeOptions, handlers: HttpServeHandlers): Promise<Listener>;
  /** A node:http server fed by hand: requests that arrived over another protocol, for `(req, res)` apps. */
  httpBridge(): HttpBridge;
  /**
   * In a worker: serve HTTP/1.1 on `target` with the runtime's own Fetch
   * server (`Deno.serve`, `Bun.serve`), listening with the master's ticket.
   * Absent on Node, whose own server is node:http ({@link listenHttp}).
   * Rejects with a `UwsgiError` (`ERR_OPTION` when it cannot listen,
   * `ERR_UNSUPPORTED` naming the runtime when the ticket needs what it lacks).
   */
  serveFetch?(target: ListenTarget, ticket: ListenTicket, backlog: number, options: FetchServeOptions, handler: FetchServeHandler): Promise<Listener>;
  /** The process's soft limit on open descriptors (RLIMIT_NOFILE, from /proc/self/limits); 0 where it cannot be read. */
  fdLimit(): number;
}

// ---- the whole binding -----------------------------------------------------------------

/** Everything ts/ needs from a runtime. Each bindings/<runtime>/index.ts exports one. */
export interface RuntimeBinding extends RuntimeThreads, RuntimeProcess, RuntimeFiles, RuntimeSockets {
  /** Which runtime this binding is for. */
  readonly name: RuntimeName;
  /** The runtime's version string, e.g. `20.20.2`. */
  readonly version: string;
  /** Called once before the wasm module is compiled (Node 20 turns Liftoff off here). */
  prepareWasm(): void;
  /**
   * Whether a fresh `new Uint8Array(n)` of up to 64 bytes is cheaper than a
   * view into a pooled buffer (JavaScriptCore: yes; V8: no, and Deno's own
   * arrays cost about 300 ns): the cache's hot read path picks its copy by it
   * (ts/kernel/pool.ts holds the pool).
   */
  readonly smallOwnArrays: boolean;
  /**
   * A function that writes a string's UTF-8 into `target` from its start and
   * returns the bytes written (whole characters, as many as fit), the fastest
   * way the runtime has: the codec's encoders pack their text with it.
   */
  utf8Writer(target: Uint8Array): (text: string) => number;
}
