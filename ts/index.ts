/**
 * uwsgi-wasm: the uWSGI `uwsgi` module API for Node.js, Deno and Bun.
 *
 * ```ts
 * import uwsgi from 'uwsgi-wasm';
 * uwsgi.lock(); uwsgi.sharedarea_inclong(0); uwsgi.unlock();
 * ```
 * The default export is the module for the calling thread: inside a worker
 * started by `uwsgi.run()` or the CLI it is attached to the master's shared
 * memory; anywhere else it is a standalone engine with default options.
 *
 * This entry has what an app needs. Tools for embedders and tests live under
 * subpaths: `uwsgi-wasm/engine` (engines, options, threads, per-thread
 * services), `uwsgi-wasm/codec` (the uwsgi packet codec), `uwsgi-wasm/client`,
 * `uwsgi-wasm/server`, `uwsgi-wasm/spooler` (spool files, the spooler loop),
 * `uwsgi-wasm/stats` (stats document, stats server, SNMP agent) and
 * `uwsgi-wasm/erlang` (the term codec and the distribution node).
 * @module
 */
import { Uwsgi } from './uwsgi.ts';
import { createEngine } from './kernel/engine.ts';
import { followMainEngine } from './kernel/current.ts';
import { currentThread } from './process/thread.ts';

export type { Uwsgi } from './uwsgi.ts';
export { UwsgiError, type UwsgiErrorCode } from './kernel/errors.ts';
export { createEngine, type Engine } from './kernel/engine.ts';
export type { ModuleHandle, ThreadKindName } from './kernel/context.ts';
export type { Options, OptionValue } from './kernel/options.ts';
export { VERSION, VERSION_INFO } from './kernel/version.ts';
export { run, type Master, type MasterOptions } from './process/master.ts';
export { serve, type ServeOptions } from './server/serve.ts';
export type { App, FetchHandler, RequestContext, ServedRequest, ServerHooks, RequestAccounting, RequestTicket } from './server/server.ts';
export type { WorkerServer } from './server/server.ts';
export { RequestScope, type RequestInfo, type RequestResult, type WorkerInfo, type WorkerApp } from './process/process.ts';
export type { Lock } from './locks/locks.ts';
export type { Bytes, Cache } from './cache/cache.ts';
export type { CacheResult, RemoteCacheName, MessagePayload, SpoolVars } from './client/client.ts';
export type { MultiMessageNode, ClientApi } from './client/connections.ts';
export type { SharedArea, SharedAreas } from './sharedarea/sharedarea.ts';
export type { SharedQueue } from './queue/queue.ts';
export type { RpcResult } from './rpc/rpc.ts';
export type { MuleGetMsgOptions } from './mules/mules.ts';
export type { SignalHandler } from './signals/signals.ts';
export type { SpoolOptions, SpoolTask, SpoolerFunction, SpoolTaskInfo } from './spooler/spooler.ts';
export type { RemoteSpooler } from './spooler/functions.ts';
export type { SnmpSlots, SnmpSlot, SnmpType } from './observability/snmp.ts';
export type { MessageReply } from './cluster/packets.ts';
export { Atom, Tuple, ImproperList, ErlangFloat, BitBinary, Pid, Reference, Port, ErlangFun, type Term, type TermInput } from './erlang/terms.ts';
export { ErlangRpcError } from './erlang/errors.ts';
export type { ErlangSender } from './erlang/node.ts';
export type { ErlangProcess } from './erlang/bridge.ts';
export type { ErlangNodeRef, ErlangCallOptions } from './erlang/functions.ts';

/** Options of the standalone engine the default export uses outside a master. */
export const STANDALONE_OPTIONS = { sharedarea: 1, locks: 8, queue: 100, cache2: 'name=default,items=1000,blocksize=4096' } as const;

/** The uwsgi module for the calling thread. */
const uwsgi: Uwsgi = new Uwsgi(() => currentThread()?.ctx ?? createEngine(STANDALONE_OPTIONS).uwsgi.ctx);
// `uwsgi.run()` in this thread: the default object moves to the master's engine (worker_id 0).
followMainEngine((ctx) => uwsgi.rebind(ctx));
export default uwsgi;
