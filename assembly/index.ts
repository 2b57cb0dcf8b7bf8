// The core's exports: every thread instantiates this module over the same
// shared memory. Exported names are the ABI that ts/kernel/core.ts types; the
// boundary carries only i32, f64 and (for 64-bit values) i64. Every constant
// both sides use is in kernel/abi.ts and exported from here as a wasm global of
// the same name (test/kernel/abi.test.ts compares them with the TS side's).

export * from "./kernel/abi";
import { E_BAD_STATE, OK, THREAD_ALIVE, THREAD_LOST } from "./kernel/abi";
import {
  bindLayout, headerInit, headerPublish, heldCount, maxThreads, regionAdd, regionOffset, regionSize,
  scratchPtr, ownerWordOf, threadAttach, threadFinish, threadIdent, threadKind, threadQuarantine, threadRequestStop,
  threadReserve, threadState, threadsBytes, threadsCheck, selfTid, ownerAlive, selfOwner,
} from "./kernel/layout";
import {
  wkAdd, wkBegin, wkBind, wkBytes, wkCount, wkEnd, wkGet, wkGetWarning, wkHeaderGet, wkHeaderSet, wkInit,
  wkLogAdd, wkLogSize, wkRow, wkRows, wkSet, wkSetWarning,
} from "./process/workers";
import {
  sigBind, sigBytes, sigDeliver, sigDeliverKind, sigDrain, sigHandled, sigHasHandler, sigInit, sigMailbox, sigMaster,
  sigMasterOwned, sigPick, sigRegister, sigRouteBell, sigRouteDrain, sigRoutePush, sigSetMaster, sigTargetArg,
  sigTargetKind, sigThreadGone, sigTidOf, sigWakeMaster, sigQueued, sigNote, sigCount,
} from "./signals/signals";
import {
  cronAdd, cronCount, cronDue, monitorAdd, monitorDrop, monitorPath, monitorSig, monitorTake, timerAdd, timerFired,
  timersBind, timersBytes, timersCount, timersDue, timersNext, timerInfo, cronInfo, cronMatches,
} from "./signals/timers";
import {
  locksBind, locksBytes, locksCount, locksInit, userIsLocked, userLock, userLockHolder, userLocksHeldBy, userTryLock,
  userUnlock,
} from "./locks/userlocks";
import {
  saAdd32, saAdd64, saAdd64f, saAreaBytes, saBegin, saBind, saCheck, saCount, saData, saDirBytes, saEnd,
  saHits, saInit, saInitArea, saLock, saRead64, saReadInt, saSize, saUnlock, saUpdates, saWrite64,
  saWriteInt, saReadStatus,
} from "./sharedarea/sharedarea";
import {
  queueBind, queueBytes, queueCapacity, queueGet, queueInit, queueLast, queuePop, queuePull, queuePullSlot,
  queuePush, queueSet, queueSlot, queueSlots, queueCheck, queueUsed,
} from "./queue/queue";
import {
  rpcBind, rpcBytes, rpcInit, rpcLookup, rpcMailbox, rpcMailboxData, rpcMax, rpcName, rpcOwnedBySelf, rpcOwnerTid,
  rpcRegister,
} from "./rpc/rpc";
import {
  muleBell, muleChannels, mulePayload, mulePeekLen, mulePull, mulePush, muleSlots, muleWaiting, mulesBind, mulesBytes,
  muleIdsInit, muleIds, muleIdsMax, muleClaimId,
  mulesInit,
} from "./mules/mules";
import {
  cacheBytes, cacheCheck, cacheClear, cacheCount, cacheDel, cacheDirty, cacheExists, cacheFull, cacheGetBegin,
  cacheHandle, cacheHits, cacheInit, cacheItemAddr, cacheKeysBegin, cacheKeysEnd, cacheKeysNext, cacheLastLen,
  cacheMath, cacheMathF, cacheMiss, cacheNum, cacheReadEnd, cacheRepairs, cacheStoreBegin, cacheStoreEnd, cacheSweep,
  cacheGet, cacheHas, cacheSet, cacheValueOffset, cacheGetHinted, cacheLineAddr, cacheNearFold, cacheSetHinted,
  cacheTouch, cacheRmwBegin, cacheRmwStore, cacheRmwDelete, cacheRmwEnd,
  cacheItemValueAddr, cacheItemValueLen, cacheItemExpires, cacheRestoreBegin, cacheLastExpires, cacheSetReadFence,
} from "./cache/cache";
import {
  pktArrayScan, pktErrorAt, pktIsAscii, pktHeaderCheck, pktHeaderWrite, pktPackLengths, pktVarsScan, pktVarsIndex,
  pktSpreadItems,
} from "./protocol/packet";
import { snmpBind, snmpBytes, snmpCommunity, snmpGet, snmpInit, snmpOp, snmpSetCommunity } from "./observability/snmp";

/** End of this module's static data: shared state must start above it. */
export function heap_base(): usize { return __heap_base; }

// ---- layout (the master, once) ---------------------------------------------------
export { headerInit as layout_init, regionAdd as layout_region, headerPublish as layout_publish };
export { regionOffset as layout_region_offset, regionSize as layout_region_size };
export { threadsBytes as threads_bytes, locksBytes as locks_bytes, locksInit as locks_init };
export { saDirBytes as sa_dir_bytes, saAreaBytes as sa_area_bytes, saInit as sa_init, saInitArea as sa_init_area };
export { queueBytes as queue_bytes, queueInit as queue_init };
export { rpcBytes as rpc_bytes, rpcInit as rpc_init };
export { mulesBytes as mules_bytes, mulesInit as mules_init };

/** Bind this instance to a published layout. Every thread calls it first. */
export function bind(): i32 {
  const rc = bindLayout();
  if (rc != OK) return rc;
  locksBind();
  saBind();
  queueBind();
  rpcBind();
  mulesBind();
  wkBind();
  sigBind();
  timersBind();
  snmpBind();
  return OK;
}

// ---- threads -----------------------------------------------------------------------
export { threadReserve as thread_reserve, threadAttach as thread_attach, threadState as thread_state };
export { threadKind as thread_kind, threadIdent as thread_ident, threadRequestStop as thread_request_stop };
export { maxThreads as max_threads, scratchPtr as scratch_ptr };
export { threadsCheck as threads_check, heldCount as thread_read_holds };
export function self_tid(): i32 { return selfTid; }

/**
 * Thread `tid` is gone: free the slot under a new generation, so every lock
 * word naming it reads as "owner dead" and the next locker takes it over, and
 * its read holds stop counting. Returns how many user locks it still held.
 */
export function thread_finish(tid: i32): i32 {
  const state = threadState(tid);
  if (state == THREAD_LOST) { threadFinish(tid); return 0; } // quarantined: recovered already
  if (state != THREAD_ALIVE) return E_BAD_STATE;
  const held = userLocksHeldBy(ownerWordOf(tid));
  sigThreadGone(tid);
  threadFinish(tid);
  return held;
}

/**
 * Thread `tid` did not stop when told to: its locks pass on (it reads as dead
 * to lock owners) but its slot is kept out of use. Returns how many user locks
 * it held. thread_finish frees the slot once the runtime confirms the end.
 */
export function thread_quarantine(tid: i32): i32 {
  if (threadState(tid) != THREAD_ALIVE) return E_BAD_STATE;
  const held = userLocksHeldBy(ownerWordOf(tid));
  threadQuarantine(tid);
  return held;
}

// ---- user locks ------------------------------------------------------------------
export { userLock as lock_acquire, userTryLock as lock_try, userUnlock as lock_release };
export { userIsLocked as lock_is_locked, locksCount as lock_count, userLockHolder as lock_holder };

// ---- shared areas --------------------------------------------------------------------
export { saCount as sa_count, saSize as sa_size, saData as sa_data, saCheck as sa_check };
export { saBegin as sa_begin, saEnd as sa_end, saLock as sa_lock, saUnlock as sa_unlock };
export { saReadInt as sa_read_int, saWriteInt as sa_write_int, saAdd32 as sa_add32 };
export { saRead64 as sa_read64, saWrite64 as sa_write64, saAdd64 as sa_add64, saAdd64f as sa_add64f };
export { saUpdates as sa_updates, saHits as sa_hits, saReadStatus as sa_read_status };

// ---- queue ---------------------------------------------------------------------------
export { queueSlots as queue_slots, queueCapacity as queue_capacity, queuePush as queue_push, queueSet as queue_set };
export { queuePull as queue_pull, queuePop as queue_pop, queueGet as queue_get, queueLast as queue_last };
export { queueSlot as queue_slot, queuePullSlot as queue_pull_slot, queueCheck as queue_check, queueUsed as queue_used };

// ---- local RPC -----------------------------------------------------------------------
export { rpcRegister as rpc_register, rpcLookup as rpc_lookup, rpcOwnerTid as rpc_owner_tid, rpcName as rpc_name };
export { rpcMax as rpc_max, rpcMailbox as rpc_mailbox, rpcMailboxData as rpc_mailbox_data };
export function rpc_owned_by_self(i: u32): i32 { return rpcOwnedBySelf(i) ? 1 : 0; }

// ---- mule mailboxes ------------------------------------------------------------------
export { mulePush as mule_push, mulePull as mule_pull, mulePeekLen as mule_peek_len, muleWaiting as mule_waiting };
export { muleBell as mule_bell, muleChannels as mule_channels, mulePayload as mule_payload, muleSlots as mule_slots };
export { muleIdsInit as mule_ids_init, muleIds as mule_ids, muleIdsMax as mule_ids_max, muleClaimId as mule_claim_id };

// ---- caches ---------------------------------------------------------------------------
// Cache functions take the cache's address (cache_handle(index), resolved once per thread).
export { cacheBytes as cache_bytes, cacheInit as cache_init, cacheHandle as cache_handle };
export { cacheGetBegin as cache_get_begin, cacheLastLen as cache_last_len, cacheReadEnd as cache_read_end };
export { cacheExists as cache_exists, cacheNum as cache_num };
export { cacheStoreBegin as cache_store_begin, cacheStoreEnd as cache_store_end };
export { cacheDel as cache_del, cacheClear as cache_clear, cacheMath as cache_math, cacheMathF as cache_math_f };
export { cacheKeysBegin as cache_keys_begin, cacheKeysNext as cache_keys_next, cacheKeysEnd as cache_keys_end };
export { cacheItemAddr as cache_item_addr, cacheSweep as cache_sweep, cacheCheck as cache_check };
export { cacheCount as cache_count, cacheRepairs as cache_repairs, cacheDirty as cache_dirty };
export { cacheHits as cache_hits, cacheMiss as cache_miss, cacheFull as cache_full };
export { cacheLastExpires as cache_last_expires };
export { cacheGet as cache_get, cacheHas as cache_has, cacheSet as cache_set, cacheValueOffset as cache_value_offset };
export { cacheGetHinted as cache_get_hinted, cacheLineAddr as cache_line_addr, cacheNearFold as cache_near_fold };
export { cacheSetHinted as cache_set_hinted };
export { cacheTouch as cache_touch };
export { cacheRmwBegin as cache_rmw_begin, cacheRmwStore as cache_rmw_store, cacheRmwDelete as cache_rmw_delete, cacheRmwEnd as cache_rmw_end };
export { cacheItemValueAddr as cache_item_value_addr, cacheItemValueLen as cache_item_value_len };
export { cacheItemExpires as cache_item_expires, cacheRestoreBegin as cache_restore_begin };
export { cacheSetReadFence as cache_set_read_fence };

// ---- process status table (process/workers.ts) -------------------------------------------------
export { wkBytes as wk_bytes, wkInit as wk_init, wkRow as wk_row, wkRows as wk_rows, wkCount as wk_count };
export { wkGet as wk_get, wkSet as wk_set, wkAdd as wk_add, wkBegin as wk_begin, wkEnd as wk_end };
export { wkHeaderGet as wk_header_get, wkHeaderSet as wk_header_set, wkLogAdd as wk_log_add, wkLogSize as wk_log_size };
export { wkSetWarning as wk_set_warning, wkGetWarning as wk_get_warning };

// ---- signals ----------------------------------------------------------------------------
export { sigBytes as sig_bytes, sigInit as sig_init, sigRegister as sig_register, sigTargetKind as sig_target_kind };
export { sigTargetArg as sig_target_arg, sigMasterOwned as sig_master_owned, sigHasHandler as sig_has_handler };
export { sigDeliver as sig_deliver, sigDeliverKind as sig_deliver_kind, sigRoutePush as sig_route_push };
export { sigWakeMaster as sig_wake_master, sigDrain as sig_drain, sigRouteDrain as sig_route_drain, sigPick as sig_pick };
export { sigTidOf as sig_tid_of, sigHandled as sig_handled, sigMailbox as sig_mailbox, sigRouteBell as sig_route_bell };
export { sigSetMaster as sig_set_master, sigMaster as sig_master, sigQueued as sig_queued };
export { sigNote as sig_note, sigCount as sig_count };

// ---- timers, cron, file monitors (the master's scheduler) ---------------------------------
export { timersBytes as timers_bytes, timerAdd as timer_add, timersDue as timers_due, timersNext as timers_next };
export { timersCount as timers_count, timerFired as timer_fired, cronAdd as cron_add, cronDue as cron_due };
export { cronCount as cron_count, monitorAdd as monitor_add, monitorTake as monitor_take, monitorSig as monitor_sig };
export { monitorPath as monitor_path, monitorDrop as monitor_drop };
// Read-only views for the stats document and the dashboard.
export { timerInfo as timer_info, cronInfo as cron_info, cronMatches as cron_matches };

// ---- uwsgi packet codec (pure: any thread, any instance) ------------------------------
export { pktHeaderCheck as pkt_header_check, pktHeaderWrite as pkt_header_write };
export { pktVarsScan as pkt_vars_scan, pktArrayScan as pkt_array_scan, pktPackLengths as pkt_pack_lengths };
export { pktErrorAt as pkt_error_at, pktIsAscii as pkt_is_ascii, pktVarsIndex as pkt_vars_index, pktSpreadItems as pkt_spread_items };

// ---- spooler: who owns a claimed task file -------------------------------------------
/** This thread's owner word (slot + 1 | generation << 12): a spooler thread's claims carry it. */
export function self_owner(): i32 { return selfOwner; }
/** 1 while the thread named by owner word `word` runs, 0 once it is gone (its claims are then recovered). */
export function owner_alive(word: i32): i32 { return ownerAlive(word) ? 1 : 0; }

// ---- SNMP user slots and community ------------------------------------------------------
export { snmpBytes as snmp_bytes, snmpInit as snmp_init, snmpOp as snmp_op, snmpGet as snmp_get };
export { snmpSetCommunity as snmp_set_community, snmpCommunity as snmp_community };
