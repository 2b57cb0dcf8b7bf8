/**
 * The core's constants for the TypeScript side: every number the core and
 * this side must agree on comes from assembly/kernel/abi.ts, the file the core
 * itself compiles (re-exported here unchanged), plus the objects this side
 * looks them up in. The core also exports each constant as a wasm global of
 * the same name; test/kernel/abi.test.ts fails when a built core disagrees.
 * @module
 */
import {
  CACHE_FLAG_BITMAP, CACHE_FLAG_CLEAR_ON_FULL, CACHE_FLAG_LAZY, CACHE_FLAG_LRU, CACHE_FLAG_MURMUR2, CACHE_FLAG_NO_EXPIRE,
  E_BAD_ID, E_BAD_STATE, E_BOUNDS, E_CORRUPT, E_EMPTY, E_FULL, E_LAYOUT, E_NET_BAD_REPLY, E_NET_CLOSED, E_NET_CONNECT,
  E_NET_REJECTED, E_NOT_IN_REQUEST, E_NOT_OWNER, E_NO_STATUS_ROW, E_PKT_EMPTY_KEY, E_PKT_SHORT, E_PKT_TOO_BIG,
  E_PKT_TOO_MANY, E_HINT, E_SCRATCH, E_SIG_ARG, E_SIG_MASTER_OWNED, E_STOPPED, E_TIMEOUT, E_TIMER_ARG, E_VALUE_RANGE,
  HELD_ALREADY, KIND_EMBEDDED, KIND_MASTER, KIND_MULE, KIND_SPOOLER, KIND_WORKER, OK, OWNER_DIED, REGION_CACHE, REGION_CLUSTER,
  REGION_LOCKS, REGION_MULES, REGION_QUEUE, REGION_RPC, REGION_SCRATCH, REGION_SHAREDAREA, REGION_SIGNALS,
  REGION_SNMP, REGION_SPOOLER, REGION_THREADS, REGION_TIMERS, REGION_WORKERS, ROW_ACCEPTING, ROW_APP, ROW_AVG_RT,
  ROW_BUSY, ROW_DEADLINE, ROW_GRUNTS, ROW_DELTA, ROW_EXCEPTIONS, ROW_HARAKIRIS, ROW_LAST_SPAWN, ROW_PID, ROW_REQUESTS,
  ROW_REQ_SEQ, ROW_RSS, ROW_RUNNING_TIME, ROW_SIG, ROW_SIGNALS, ROW_SPAWNS, ROW_STARTUP, ROW_STATE, ROW_TID, ROW_TX, ROW_LAST_RT,
  ROW_USER_DEADLINE, ROW_VSZ, SNMP_OP_DECR, SNMP_OP_INCR, SNMP_OP_SET, SNMP_TYPE_COUNTER32, SNMP_TYPE_COUNTER64,
  SNMP_TYPE_GAUGE32, TARGET_ACTIVE_WORKERS, TARGET_FARM, TARGET_MULES, TARGET_MULE_ANY, TARGET_MULE_N, TARGET_NONE,
  TARGET_SPOOLER, TARGET_WORKERS, TARGET_WORKER_ANY, TARGET_WORKER_N, THREAD_ALIVE, THREAD_FREE, THREAD_LOST,
} from '../../assembly/kernel/abi.ts';

export * from '../../assembly/kernel/abi.ts';

/**
 * Core status codes by name: zero and positive are successes, negative ones
 * failures that ts/kernel/errors.ts turns into a UwsgiError (every `E_*`
 * constant of the core has a key here).
 */
export const CoreStatus = {
  OK, OWNER_DIED, HELD_ALREADY,
  E_BOUNDS, E_BAD_ID, E_TIMEOUT, E_STOPPED, E_FULL, E_NOT_OWNER, E_BAD_STATE, E_LAYOUT, E_EMPTY, E_CORRUPT,
  E_SIG_MASTER_OWNED, E_SIG_ARG, E_TIMER_ARG, E_NO_STATUS_ROW, E_NOT_IN_REQUEST,
  E_PKT_SHORT, E_PKT_TOO_BIG, E_PKT_EMPTY_KEY, E_PKT_TOO_MANY, E_VALUE_RANGE,
  /** Never reaches users: the cache API then reads through the two-step path. */
  E_SCRATCH,
  /** Never reaches users: the cache API then takes the full lookup. */
  E_HINT,
  E_NET_CONNECT, E_NET_CLOSED, E_NET_BAD_REPLY, E_NET_REJECTED,
} as const;

/** Region kinds of the layout's region table (`REGION_*`). */
export const Region = {
  THREADS: REGION_THREADS, SCRATCH: REGION_SCRATCH, LOCKS: REGION_LOCKS, SHAREDAREA: REGION_SHAREDAREA,
  CACHE: REGION_CACHE, QUEUE: REGION_QUEUE, RPC: REGION_RPC, MULES: REGION_MULES, SIGNALS: REGION_SIGNALS,
  TIMERS: REGION_TIMERS, WORKERS: REGION_WORKERS, SNMP: REGION_SNMP, SPOOLER: REGION_SPOOLER, CLUSTER: REGION_CLUSTER,
} as const;

/** Thread kinds, as the thread table records them (`KIND_*`), by the names ThreadContext uses. */
export const ThreadKind = {
  master: KIND_MASTER, worker: KIND_WORKER, mule: KIND_MULE, spooler: KIND_SPOOLER, embedded: KIND_EMBEDDED,
} as const;

/** States of a thread slot, as `thread_state` reports them (`THREAD_*`). */
export const ThreadState = { FREE: THREAD_FREE, ALIVE: THREAD_ALIVE, LOST: THREAD_LOST } as const;

/** Flag bits of a cache (`CACHE_FLAG_*`), one per cache2 option. */
export const CacheFlag = {
  BITMAP: CACHE_FLAG_BITMAP, LRU: CACHE_FLAG_LRU, LAZY: CACHE_FLAG_LAZY, CLEAR_ON_FULL: CACHE_FLAG_CLEAR_ON_FULL,
  NO_EXPIRE: CACHE_FLAG_NO_EXPIRE, MURMUR2: CACHE_FLAG_MURMUR2,
} as const;

/** Target kinds of the signal table (`TARGET_*`). */
export const SignalTarget = {
  NONE: TARGET_NONE, WORKER_ANY: TARGET_WORKER_ANY, WORKERS: TARGET_WORKERS, WORKER_N: TARGET_WORKER_N,
  ACTIVE_WORKERS: TARGET_ACTIVE_WORKERS, MULE_ANY: TARGET_MULE_ANY, MULES: TARGET_MULES, MULE_N: TARGET_MULE_N,
  FARM: TARGET_FARM, SPOOLER: TARGET_SPOOLER,
} as const;

/** Fields of a status-table row (`ROW_*`): byte offsets for `wk_get`, `wk_set` and `wk_add`. */
export const RowField = {
  REQUESTS: ROW_REQUESTS, DELTA: ROW_DELTA, SIGNALS: ROW_SIGNALS, EXCEPTIONS: ROW_EXCEPTIONS,
  RUNNING_TIME: ROW_RUNNING_TIME, TX: ROW_TX, AVG_RT: ROW_AVG_RT, LAST_SPAWN: ROW_LAST_SPAWN, REQ_SEQ: ROW_REQ_SEQ,
  DEADLINE: ROW_DEADLINE, USER_DEADLINE: ROW_USER_DEADLINE, RSS: ROW_RSS, VSZ: ROW_VSZ, STARTUP: ROW_STARTUP,
  SPAWNS: ROW_SPAWNS, HARAKIRIS: ROW_HARAKIRIS, BUSY: ROW_BUSY, SIG: ROW_SIG, ACCEPTING: ROW_ACCEPTING, PID: ROW_PID,
  APP: ROW_APP, STATE: ROW_STATE, TID: ROW_TID, GRUNTS: ROW_GRUNTS, LAST_RT: ROW_LAST_RT,
} as const;

/** BER tags of the SNMP slot types (`SNMP_TYPE_*`), by type name. */
export const SnmpTag = { counter32: SNMP_TYPE_COUNTER32, gauge32: SNMP_TYPE_GAUGE32, counter64: SNMP_TYPE_COUNTER64 } as const;

/** Operations of `snmp_op` (`SNMP_OP_*`). */
export const SnmpOp = { set: SNMP_OP_SET, incr: SNMP_OP_INCR, decr: SNMP_OP_DECR } as const;
