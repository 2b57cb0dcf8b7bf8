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
import { createEngine } from './engine.ts';
import { currentThread } from './thread.ts';

export { Uwsgi, Lock } from './uwsgi.ts';
export { SharedArea, SharedAreas } from './sharedarea.ts';
export { SharedQueue } from './queue.ts';
export { type MuleGetMsgOptions, MULE_MSG_MAX, MULE_MAILBOX_SLOTS } from './mules.ts';
export { Cache, CacheApi, type Bytes } from './cache.ts';
export { type SignalHandler, SIGNAL_TARGETS, raiseSignal, signalsHandled } from './signals.ts';
export { Scheduler } from './scheduler.ts';
export { SCHEDULER_SLOTS, FILE_MONITOR_PATH_MAX, TIMER_MIN_SECONDS } from './timers.ts';
export { MasterServices, StatsServer, SnmpAgent, startStatsServer, startSnmpAgent, engineSnmpSource, type StatsServerOptions } from './services.ts';
export { COLLECTORS, collectStats, renderStats, type StatsSources, type StatsValue, type ThreadRow, type WorkerCounters, type Collector } from './stats.ts';
export { SnmpResponder, UWSGI_OID, type SnmpSource } from './snmp-agent.ts';
export { DASHBOARD_HTML } from './dashboard.ts';
export { SnmpSlots, type SnmpSlot, type SnmpType, SNMP_SLOTS, SNMP_COMMUNITY_MAX } from './snmp.ts';
export { type CacheConfig, parseCache2 } from './options.ts';
export { Engine, createEngine, attachContext } from './engine.ts';
export { UwsgiError, type UwsgiErrorCode } from './errors.ts';
export { type Options, type Config, KNOWN_OPTIONS, parseArgv, parseIni, configFromOptions } from './options.ts';
export { run, Master, type MasterOptions } from './master.ts';
export { runtime, type RuntimeName, type RuntimeBinding } from './runtime.ts';
export { VERSION, VERSION_INFO } from './version.ts';
export { runWorkerThread } from './thread.ts';
export { type RemoteCacheName, type CacheResult, type MessagePayload, type SpoolVars, RemoteCacheClient } from './client.ts';
export { ClientApi, type MultiMessageNode, RECV_MAX, FRAME_MAX } from './connections.ts';
export { type NetAddress, parseAddress as parseClientAddress, DEFAULT_SOCKET_TIMEOUT, MAX_REPLY_BYTES } from './net.ts';
export {
  RequestScope, type RequestInfo, type RequestResult, type WorkerInfo, type WorkerApp, type WorkerStats,
  noteSignal, markSignalHandler, addRequestHook, processOf, ProcessApi,
} from './process.ts';
export {
  HEADER_SIZE, DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, type ByteString, type PacketHeader, type Packet, type DecodeOptions,
  type DecodeArrayOptions, type EncodeOptions, type VarsInput, encodePacket, decodeHeader, decodePacket, encodeVars,
  encodeVarsPacket, decodeVars, decodeVarsList, encodeArray, encodeArrayPacket, decodeArray, PacketReader, parsefile,
  bytesToText,
} from './codec.ts';
export {
  WorkerServer, setServerHooks, serverHooks, type App, type FetchHandler, type RequestContext, type RequestInfo as ServerRequestInfo,
  type RequestAccounting, type RequestTicket, processAccounting, type ServerHooks, type WorkerServerOptions,
} from './server.ts';
export { serve, type ServeOptions } from './serve.ts';
export { type PacketHooks, type PacketIO, servePacket } from './packets.ts';
export { type ListenConfig, type ListenerSpec, type ListenTicket, listenConfig, parseAddress } from './listen.ts';
export {
  SPOOL_OK, SPOOL_RETRY, SPOOL_IGNORE, SpoolerApi, enqueueSpoolPacket, spoolPacketHook, spoolerOf,
  type SpoolOptions, type SpoolTask, type SpoolerFunction, type SpoolTaskInfo,
} from './spooler.ts';
export { SpoolerLoop, type SpoolerLoopOptions, type TaskOutcome } from './spoolloop.ts';
export { encodeSpoolFile, decodeSpoolFile, taskDict, taskFileName, parseMarked, naturalCompare, type SpoolFile, type SpoolPairs } from './spoolfile.ts';
export { type SpoolerConfig, type SpoolDirConfig } from './spoolconfig.ts';

/** Options of the standalone engine the default export uses outside a master. */
export const STANDALONE_OPTIONS = { sharedarea: 1, locks: 8, queue: 100, cache2: 'name=default,items=1000,blocksize=4096' } as const;

/** The uwsgi module for the calling thread. */
const uwsgi: Uwsgi = new Uwsgi(() => currentThread()?.ctx ?? createEngine(STANDALONE_OPTIONS).uwsgi.ctx);
export default uwsgi;
