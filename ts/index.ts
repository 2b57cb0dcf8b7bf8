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
 * @module
 */
import { Uwsgi } from './uwsgi.ts';
import { createEngine } from './kernel/engine.ts';
import { currentThread } from './process/thread.ts';

export { Uwsgi, Lock } from './uwsgi.ts';
export { SharedArea, SharedAreas } from './sharedarea/sharedarea.ts';
export { SharedQueue } from './queue/queue.ts';
export { type MuleGetMsgOptions, MULE_MSG_MAX, MULE_MAILBOX_SLOTS } from './mules/mules.ts';
export { Cache, CacheApi, type Bytes } from './cache/cache.ts';
export { type SignalHandler, SIGNAL_TARGETS, raiseSignal, signalsHandled } from './signals/signals.ts';
export { Scheduler } from './signals/scheduler.ts';
export { SCHEDULER_SLOTS, FILE_MONITOR_PATH_MAX, TIMER_MIN_SECONDS } from './signals/timers.ts';
export { MasterServices, StatsServer, SnmpAgent, startStatsServer, startSnmpAgent, engineSnmpSource, type StatsServerOptions } from './observability/services.ts';
export { COLLECTORS, collectStats, renderStats, type StatsSources, type StatsValue, type ThreadRow, type WorkerCounters, type Collector } from './observability/stats.ts';
export { SnmpResponder, UWSGI_OID, type SnmpSource } from './observability/snmp-agent.ts';
export { DASHBOARD_HTML } from './observability/dashboard.ts';
export { SnmpSlots, type SnmpSlot, type SnmpType, SNMP_SLOTS, SNMP_COMMUNITY_MAX } from './observability/snmp.ts';
export { type CacheConfig, parseCache2 } from './kernel/options.ts';
export { Engine, createEngine, attachContext } from './kernel/engine.ts';
export { UwsgiError, type UwsgiErrorCode } from './kernel/errors.ts';
export { type Options, type Config, KNOWN_OPTIONS, parseArgv, parseIni, configFromOptions } from './kernel/options.ts';
export { run, Master, type MasterOptions } from './process/master.ts';
export { runtime, type RuntimeName, type RuntimeBinding } from './platform/index.ts';
export { VERSION, VERSION_INFO } from './kernel/version.ts';
export { runWorkerThread } from './process/thread.ts';
export { type RemoteCacheName, type CacheResult, type MessagePayload, type SpoolVars, RemoteCacheClient } from './client/client.ts';
export { ClientApi, type MultiMessageNode, RECV_MAX, FRAME_MAX } from './client/connections.ts';
export { type NetAddress, parseAddress as parseClientAddress, DEFAULT_SOCKET_TIMEOUT, MAX_REPLY_BYTES } from './client/connection.ts';
export {
  RequestScope, type RequestInfo, type RequestResult, type WorkerInfo, type WorkerApp, type WorkerStats,
  noteSignal, markSignalHandler, addRequestHook, processOf, ProcessApi,
} from './process/process.ts';
export {
  HEADER_SIZE, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, type ByteString, type PacketHeader, type Packet, type DecodeOptions,
  type DecodeArrayOptions, type EncodeOptions, type VarsInput, encodePacket, decodeHeader, decodePacket, encodeVars,
  encodeVarsPacket, decodeVars, decodeVarsList, encodeArray, encodeArrayPacket, decodeArray, PacketReader, parsefile,
  bytesToText,
} from './protocol/codec.ts';
export {
  WorkerServer, setServerHooks, serverHooks, type App, type FetchHandler, type RequestContext, type RequestInfo as ServerRequestInfo,
  type RequestAccounting, type RequestTicket, processAccounting, type ServerHooks, type WorkerServerOptions,
} from './server/server.ts';
export { serve, type ServeOptions } from './server/serve.ts';
export { type PacketHooks, type PacketIO, servePacket } from './server/packets.ts';
export { type ListenConfig, type ListenerSpec, type ListenTicket, listenConfig, parseAddress } from './server/listen.ts';
export {
  SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE, SpoolerApi, enqueueSpoolPacket, spoolPacketHook, spoolerOf,
  type SpoolOptions, type SpoolTask, type SpoolerFunction, type SpoolTaskInfo,
} from './spooler/spooler.ts';
export { SpoolerLoop, type SpoolerLoopOptions, type TaskOutcome } from './spooler/loop.ts';
export { encodeSpoolFile, decodeSpoolFile, taskDict, taskFileName, parseMarked, naturalCompare, type SpoolFile, type SpoolPairs } from './spooler/file.ts';
export { type SpoolerConfig, type SpoolDirConfig } from './spooler/config.ts';

/** Options of the standalone engine the default export uses outside a master. */
export const STANDALONE_OPTIONS = { sharedarea: 1, locks: 8, queue: 100, cache2: 'name=default,items=1000,blocksize=4096' } as const;

/** The uwsgi module for the calling thread. */
const uwsgi: Uwsgi = new Uwsgi(() => currentThread()?.ctx ?? createEngine(STANDALONE_OPTIONS).uwsgi.ctx);
export default uwsgi;
