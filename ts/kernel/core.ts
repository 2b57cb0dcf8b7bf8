/**
 * The compiled core: one `WebAssembly.Module` per process (workers receive it
 * instead of compiling again), instantiated once per thread over the shared memory.
 * @module
 */
import wasmBytes from '../../build/core.wasm';
import type * as Abi from '../../assembly/kernel/abi.ts';
import { LAYOUT_BASE } from './abi.ts';
import { runtime } from '../platform/index.ts';

/** Every constant of assembly/kernel/abi.ts, which the core exports as an immutable i32 global of the same name. */
export type CoreGlobals = { readonly [K in keyof typeof Abi]: WebAssembly.Global };

/** The core's exports (assembly/index.ts). Only i32/f64/i64 cross the boundary. */
export interface CoreExports extends CoreGlobals {
  heap_base(): number;
  layout_init(total: number, maxThreads: number, scratchSize: number): number;
  layout_region(kind: number, index: number, offset: number, size: number): number;
  layout_publish(): void;
  layout_region_offset(kind: number, index: number): number;
  layout_region_size(kind: number, index: number): number;
  threads_bytes(max: number): number;
  locks_bytes(count: number): number;
  locks_init(offset: number, count: number): void;
  sa_dir_bytes(count: number): number;
  sa_area_bytes(size: number): number;
  sa_init(offset: number, count: number): void;
  sa_init_area(regionOff: number, areaOff: number, size: number): number;
  bind(): number;
  thread_reserve(kind: number, ident: number): number;
  thread_attach(tid: number): number;
  thread_state(tid: number): number;
  thread_kind(tid: number): number;
  thread_ident(tid: number): number;
  thread_request_stop(tid: number): void;
  thread_finish(tid: number): number;
  max_threads(): number;
  scratch_ptr(): number;
  self_tid(): number;
  /** The thread table's invariants (a freed slot records no read hold...): 0, or E_CORRUPT. */
  threads_check(): number;
  /** Read holds thread `tid` records now (rwlocks it holds for reading). */
  thread_read_holds(tid: number): number;
  lock_acquire(n: number, timeoutMs: number): number;
  lock_try(n: number): number;
  lock_release(n: number): number;
  lock_is_locked(n: number): number;
  lock_count(): number;
  sa_count(): number;
  sa_size(id: number): number;
  sa_data(id: number): number;
  sa_check(id: number, pos: number, len: number): number;
  sa_begin(id: number, pos: number, len: number, write: number): number;
  sa_end(id: number, write: number): void;
  sa_lock(id: number, write: number): number;
  sa_unlock(id: number): number;
  sa_read_int(id: number, pos: number, width: number): number;
  /** Why this thread's last sa_read_int returned NaN (a status). */
  sa_read_status(): number;
  sa_write_int(id: number, pos: number, width: number, value: number): number;
  sa_add32(id: number, pos: number, delta: number): number;
  sa_read64(id: number, pos: number, out: number): number;
  sa_write64(id: number, pos: number, value: bigint): number;
  sa_add64(id: number, pos: number, delta: bigint, out: number): number;
  sa_add64f(id: number, pos: number, delta: number, out: number): number;
  sa_updates(id: number): bigint;
  sa_hits(id: number): bigint;
  queue_bytes(slots: number, blocksize: number): number;
  queue_init(offset: number, slots: number, blocksize: number): void;
  queue_slots(): number;
  queue_capacity(): number;
  queue_push(src: number, len: number): number;
  queue_set(index: number, src: number, len: number): number;
  queue_pull(out: number): number;
  queue_pop(out: number): number;
  queue_get(index: number, out: number): number;
  queue_last(skip: number, n: number, out: number, room: number): number;
  queue_slot(): number;
  queue_pull_slot(): number;
  /** The queue's invariants (heads in the ring, sizes within a slot, no journal left): 0, E_CORRUPT or E_BAD_STATE. */
  queue_check(): number;
  /** How many slots of the queue hold an entry (for the stats). */
  queue_used(): number;
  rpc_bytes(max: number, threads: number): number;
  rpc_init(offset: number, max: number, threads: number): void;
  rpc_register(name: number, len: number, argc: number): number;
  rpc_lookup(name: number, len: number): number;
  rpc_owner_tid(entry: number): number;
  rpc_owned_by_self(entry: number): number;
  rpc_name(entry: number, out: number): number;
  rpc_max(): number;
  rpc_mailbox(tid: number): number;
  rpc_mailbox_data(): number;
  mules_bytes(channels: number, slots: number, payload: number): number;
  mules_init(offset: number, channels: number, slots: number, payload: number): void;
  mule_push(channel: number, src: number, len: number): number;
  mule_pull(channel: number, out: number, room: number): number;
  mule_peek_len(channel: number): number;
  mule_waiting(channel: number): number;
  mule_bell(channel: number): number;
  mule_channels(): number;
  mule_payload(): number;
  mule_slots(): number;
  mule_ids_init(offset: number, inUse: number, max: number): void;
  mule_ids(): number;
  mule_ids_max(): number;
  mule_claim_id(): number;
  cache_bytes(items: number, keysize: number, blocksize: number, blocks: number, hashsize: number, bitmap: number, threads: number): number;
  cache_init(offset: number, items: number, keysize: number, blocksize: number, blocks: number, hashsize: number, flags: number, sweepOnFull: number, mathInitial: bigint, threads: number): void;
  cache_handle(index: number): number;
  cache_get_begin(c: number, keylen: number, now: number): number;
  cache_last_len(): number;
  cache_read_end(c: number): void;
  cache_exists(c: number, keylen: number, now: number): number;
  cache_num(c: number, keylen: number, now: number, out: number): number;
  cache_store_begin(c: number, keylen: number, vallen: number, expires: number, now: number, mode: number): number;
  cache_store_end(c: number): void;
  cache_del(c: number, keylen: number, now: number): number;
  cache_clear(c: number): number;
  cache_math(c: number, keylen: number, op: number, delta: bigint, expires: number, now: number): number;
  cache_math_f(c: number, keylen: number, op: number, delta: number, expires: number, now: number): number;
  cache_keys_begin(c: number): number;
  cache_keys_next(c: number): number;
  cache_keys_end(c: number): void;
  cache_item_addr(c: number, slot: number): number;
  cache_sweep(c: number, now: number): number;
  cache_check(index: number): number;
  cache_count(c: number): number;
  cache_repairs(c: number): number;
  cache_dirty(c: number): number;
  cache_hits(c: number): bigint;
  cache_miss(c: number): bigint;
  cache_full(c: number): bigint;
  // process status table (assembly/process/workers.ts)
  thread_quarantine(tid: number): number;
  wk_bytes(rows: number): number;
  wk_init(offset: number, workers: number, mules: number, spoolers: number): void;
  wk_row(kind: number, ident: number): number;
  wk_rows(): number;
  wk_count(kind: number): number;
  wk_get(row: number, field: number): number;
  wk_set(row: number, field: number, value: number): number;
  wk_add(row: number, field: number, delta: number): number;
  wk_begin(row: number): number;
  wk_end(row: number, rtUs: number, tx: number, exception: number): number;
  wk_header_get(which: number): number;
  wk_header_set(which: number, value: number): void;
  wk_log_add(bytes: number): number;
  wk_log_size(): number;
  wk_set_warning(src: number, len: number): number;
  wk_get_warning(out: number): number;
  // signals (assembly/signals/signals.ts)
  sig_bytes(threads: number): number;
  sig_init(offset: number, threads: number): void;
  sig_register(num: number, kind: number, arg: number, registrantKind: number): number;
  sig_target_kind(num: number): number;
  sig_target_arg(num: number): number;
  sig_master_owned(num: number): number;
  sig_has_handler(tid: number, num: number): number;
  sig_deliver(tid: number, num: number): number;
  sig_deliver_kind(num: number, kind: number, ident: number): number;
  sig_route_push(num: number): number;
  sig_wake_master(): void;
  sig_drain(out: number): number;
  sig_route_drain(out: number): number;
  sig_pick(kind: number, num: number, ident: number): number;
  sig_tid_of(kind: number, ident: number): number;
  sig_handled(tid: number): number;
  sig_mailbox(tid: number): number;
  sig_route_bell(): number;
  sig_set_master(tid: number): void;
  sig_master(): number;
  sig_queued(tid: number, num: number): number;
  sig_note(num: number, what: number): void;
  sig_count(num: number, what: number): number;
  // timers, cron, file monitors (assembly/signals/timers.ts)
  timers_bytes(): number;
  timer_add(kind: number, sig: number, intervalMs: number, iterations: number, now: number): number;
  timers_due(now: number, out: number, room: number): number;
  timers_next(): number;
  timers_count(kind: number): number;
  timer_fired(slot: number): number;
  cron_add(sig: number, minute: number, hour: number, day: number, month: number, week: number): number;
  cron_due(nowSec: number, min: number, hour: number, mday: number, mon: number, wday: number, out: number, room: number): number;
  cron_count(): number;
  monitor_add(sig: number, src: number, len: number): number;
  monitor_take(): number;
  monitor_sig(i: number): number;
  monitor_path(i: number, out: number): number;
  monitor_drop(i: number): void;
  timer_info(slot: number, out: number): number;
  cron_info(slot: number, out: number): number;
  cron_matches(minute: number, hour: number, day: number, month: number, week: number, tmMin: number, tmHour: number, tmMday: number, tmMon: number, tmWday: number): number;
  // uwsgi packet codec (assembly/protocol/packet.ts): pure functions over byte ranges.
  pkt_header_check(p: number, avail: number, limit: number): number;
  pkt_header_write(dst: number, modifier1: number, size: number, modifier2: number): number;
  pkt_vars_scan(p: number, len: number, out: number, max: number): number;
  pkt_array_scan(p: number, len: number, out: number, max: number, skipEmpty: number): number;
  pkt_pack_lengths(dst: number, lens: number, n: number, vars: number, limit: number): number;
  pkt_error_at(): number;
  pkt_is_ascii(p: number, len: number): number;
  pkt_vars_index(p: number, len: number, out: number, max: number, ids: number, table: number): number;
  pkt_spread_items(dst: number, src: number, lens: number, n: number, vars: number, limit: number): number;
  cache_last_expires(): number;
  cache_get(c: number, keylen: number, now: number): number;
  cache_has(c: number, keylen: number, now: number): number;
  cache_set(c: number, keylen: number, vallen: number, expires: number, now: number, mode: number): number;
  cache_value_offset(keylen: number): number;
  cache_get_hinted(c: number, slot: number, stampLo: number, stampHi: number, now: number): number;
  cache_set_hinted(c: number, slot: number, stampLo: number, stampHi: number, vallen: number, expires: number, now: number, mode: number): number;
  cache_line_addr(c: number): number;
  cache_near_fold(c: number): void;
  cache_touch(c: number, keylen: number, expires: number, now: number): number;
  cache_rmw_begin(c: number, keylen: number, now: number): number;
  cache_rmw_store(c: number, keylen: number, vallen: number, expires: number, now: number, mode: number): number;
  cache_rmw_delete(c: number, keylen: number, now: number): number;
  cache_rmw_end(c: number): void;
  cache_item_value_addr(c: number, slot: number): number;
  cache_item_value_len(c: number, slot: number): number;
  cache_item_expires(c: number, slot: number): number;
  cache_restore_begin(c: number, keylen: number, vallen: number, expiresAbs: number): number;
  cache_set_read_fence(on: number): void;
  self_owner(): number;
  owner_alive(word: number): number;
  // SNMP user slots and community (assembly/observability/snmp.ts), user lock holders (stats)
  snmp_bytes(): number;
  snmp_init(offset: number): void;
  snmp_op(slot: number, type: number, op: number, lo: number, hi: number): number;
  snmp_get(slot: number, out: number): number;
  snmp_set_community(src: number, len: number): number;
  snmp_community(out: number): number;
  lock_holder(n: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** The core module, compiled on first use in this process. */
export function coreModule(): WebAssembly.Module {
  if (!compiled) {
    runtime().prepareWasm();
    compiled = new WebAssembly.Module(wasmBytes);
  }
  return compiled;
}

/** Instantiate the core for the calling thread over `memory`. */
export function instantiateCore(module: WebAssembly.Module, memory: WebAssembly.Memory): CoreExports {
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const x = instance.exports as unknown as CoreExports;
  if (x.heap_base() >= LAYOUT_BASE) throw new Error('core static data overlaps the shared layout');
  return x;
}

/** A throw-away instance over a one-page memory, for the layout's sizing functions. */
export function plannerCore(): CoreExports {
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 2, shared: true });
  return instantiateCore(coreModule(), memory);
}
