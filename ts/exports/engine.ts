/**
 * `uwsgi-wasm/engine`: building blocks for embedders and tests: engines and
 * their thread views, options parsing, the thread entry a master starts, the
 * runtime binding, and the per-thread services behind the module functions.
 * Apps need none of it (`import uwsgi from 'uwsgi-wasm'`).
 * @module
 */
export { Engine, createEngine, attachContext } from '../kernel/engine.ts';
export { ThreadContext, type ThreadKindName, type EngineShared, type ModuleHandle, type LayoutPlan, type RegionPlan, threadService } from '../kernel/context.ts';
export {
  type Options, type OptionValue, type Config, type CacheConfig, KNOWN_OPTIONS, parseArgv, parseIni, parseCache2, configFromOptions,
} from '../kernel/options.ts';
export { threadOptions, socketTimeoutMs, DEFAULT_SOCKET_TIMEOUT } from '../kernel/thread-options.ts';
export { runtime, type RuntimeName, type RuntimeBinding } from '../platform/index.ts';
export { runWorkerThread, currentThread, type ThreadMessage } from '../process/thread.ts';
export { Master, run, type MasterOptions } from '../process/master.ts';
export { processOf, ProcessApi, RequestScope, addRequestHook, type WorkerStats } from '../process/process.ts';
export { cachesOf, CacheApi } from '../cache/cache.ts';
export { sharedareasOf } from '../sharedarea/sharedarea.ts';
export { mulesOf, MULE_MSG_MAX, MULE_MAILBOX_SLOTS } from '../mules/mules.ts';
export { signalsOf, raiseSignal, signalsHandled, SIGNAL_TARGETS } from '../signals/signals.ts';
export { Scheduler } from '../signals/scheduler.ts';
export { SCHEDULER_SLOTS, FILE_MONITOR_PATH_MAX, TIMER_MIN_SECONDS } from '../signals/timers.ts';
export { RPC_MAX_ARGS } from '../rpc/rpc.ts';
export { ThreadKind, RPC_NAME_MAX } from '../kernel/abi.ts';
export { snmpOf, SNMP_SLOTS, SNMP_COMMUNITY_MAX } from '../observability/snmp.ts';
export { startCluster, ClusterServices } from '../cluster/service.ts';
export { nodeTableOf, NodeTable, type ClusterNode } from '../cluster/table.ts';
export { replicationOf, applySet, applyDel, syncCache, type ReceiverStats, type SenderStats } from '../cluster/replication.ts';
export { MULTICAST_RPC, nodeName } from '../cluster/membership.ts';
export { keysFromFile } from '../cluster/subscription.ts';
export {
  CLUSTER_MOD, CACHE_UDP, MAX_DATAGRAM, encodeAnnounce, decodeAnnounce, encodeJoin, encodeMessage, encodeReply, decodeReply,
  encodeSubscription, encodeCacheSet, encodeCacheDel, decodeCacheUpdate, type Announce, type MessageReply, type Subscription, type CacheUpdate,
} from '../cluster/packets.ts';
export { uwsgiHash, djb33x, murmur2, encodeCacheImage, decodeCacheImage, cacheDumpReply, imageSize, ITEM_HEADER } from '../cluster/cache-image.ts';
export { type ClusterConfig, type SubscriptionConfig, type CachePeers, allowed, allowRule, MAX_CLUSTER_NODES } from '../cluster/config.ts';
