// The process status table (region REGION_WORKERS): one row per worker, mule and
// spooler, with uWSGI's per-worker counters, plus a small header of
// instance-wide state (ready flag, reload count, log size, warning message).
// The master writes spawn data and reads deadlines; each thread writes its own
// row's request counters. Every counter is an i64 updated with atomics, so two
// threads sharing a row (an old and a new worker during a graceful reload) and
// the master reading it never see a torn value.
//
//  header (HEADER bytes):
//  ┌──────┬─────────┬───────┬──────────┬───────┬─────────┬─────────┬──────────┬───────┬─────────────────┐
//  │ rows │ workers │ mules │ spoolers │ ready │ reloads │ logsize │ warn_len │ warn  │ warning bytes   │
//  │ +0   │ +4      │ +8    │ +12      │ +16   │ +20     │ +24 i64 │ +32      │ +36   │ +64 .. +64+WMAX │
//  └──────┴─────────┴───────┴──────────┴───────┴─────────┴─────────┴──────────┴ mutex ┴─────────────────┘
//
//  row r at HEADER + r * ROW (row 0: the totals over every worker, as uWSGI's
//  workers[0]; rows 1..W workers, then mules, then spoolers):
//  ┌──────────┬───────┬─────────┬────────────┬──────────────┬────┬────────┬────────────┬─────────┐
//  │ requests │ delta │ signals │ exceptions │ running_time │ tx │ avg_rt │ last_spawn │ req_seq │
//  │ +0       │ +8    │ +16     │ +24        │ +32 (µs)     │+40 │ +48 µs │ +56 (s)    │ +64     │
//  ├──────────┴───────┴──────┬──┴────────────┴──┬─────┬─────┴─┬──────────┴─┬──────────┴─────────┤
//  │ harakiri deadline (ms)  │ user deadline ms │ rss │ vsz   │ startup s  │                    │
//  │ +72                     │ +80              │ +88 │ +96   │ +104       │                    │
//  ├────────┬───────────┬────┴─┬─────┬──────────┬─┴───┬─────┴┬───────┬────┴─┬───────────┐        │
//  │ spawns │ harakiris │ busy │ sig │ accepting│ pid │ app  │ state │ tid  │ grunts │ (free) │
//  │ +112   │ +116      │ +120 │+124 │ +128     │+132 │ +136 │ +140  │ +144 │ +148   │+152..191│
//  └────────┴───────────┴──────┴─────┴──────────┴─────┴──────┴───────┴──────┴────────┴────────┘
// i64 fields cross the wasm boundary as f64 (exact below 2^53). Field offsets,
// header word numbers and sizes that JS uses are in abi.ts (ROW_*, WK_*).

import {
  E_BOUNDS, E_NO_STATUS_ROW, E_NOT_IN_REQUEST, KIND_MULE, KIND_SPOOLER, KIND_WORKER, OK, REGION_WORKERS, WK_HEADER_READY,
  WK_HEADER_RELOADS, WK_ROW_SIZE, WK_WARNING_MAX, ROW_REQUESTS, ROW_DELTA, ROW_EXCEPTIONS, ROW_RUNNING_TIME,
  ROW_TX, ROW_AVG_RT, ROW_REQ_SEQ, ROW_SPAWNS, ROW_BUSY, ROW_ACCEPTING,
} from "../kernel/abi";
import { alignUp, aload32, astore32, aload64, astore64, ldu32, stu32, LINE } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { mutexLock, mutexUnlock } from "../locks/lock";

const H_ROWS: u32 = 0;
const H_WORKERS: u32 = H_ROWS + 4;
const H_MULES: u32 = H_WORKERS + 4;
const H_SPOOLERS: u32 = H_MULES + 4;
const H_READY: u32 = H_SPOOLERS + 4;
const H_RELOADS: u32 = H_READY + 4;
const H_LOGSIZE: u32 = H_RELOADS + 4; // i64 at +24
const H_WARN_LEN: u32 = H_LOGSIZE + 8;
const H_WARN_LOCK: u32 = H_WARN_LEN + 4;
const H_WARN: u32 = 64;
/** Longest warning message, in bytes (abi.ts WK_WARNING_MAX). */
const WARNING_MAX: u32 = WK_WARNING_MAX;
const HEADER: u32 = alignUp(H_WARN + WARNING_MAX, LINE);

/** Bytes per row (three cache lines; abi.ts WK_ROW_SIZE). */
const ROW: u32 = WK_ROW_SIZE;

// Row fields this file touches (abi.ts names every field: ROW_*), typed for its u32 offset arithmetic.
const F_REQUESTS: u32 = ROW_REQUESTS;
const F_DELTA: u32 = ROW_DELTA;
const F_EXCEPTIONS: u32 = ROW_EXCEPTIONS;
const F_RUNNING_TIME: u32 = ROW_RUNNING_TIME;
const F_TX: u32 = ROW_TX;
const F_AVG_RT: u32 = ROW_AVG_RT;
const F_REQ_SEQ: u32 = ROW_REQ_SEQ;
const F_SPAWNS: u32 = ROW_SPAWNS;
const F_BUSY: u32 = ROW_BUSY;
const F_ACCEPTING: u32 = ROW_ACCEPTING;

// Per-instance (per-thread) binding.
let base: usize = 0;

@inline function hdr(f: u32): usize { return base + <usize>f; }
@inline function rowAt(r: u32): usize { return base + <usize>HEADER + <usize>r * <usize>ROW; }
@inline function rows(): u32 { return base == 0 ? 0 : ldu32(hdr(H_ROWS)); }
@inline function i64Field(f: u32): bool { return f < F_SPAWNS && (f & 7) == 0; }
@inline function i32Field(f: u32): bool { return f >= F_SPAWNS && f < ROW && (f & 3) == 0; }

export function wkBytes(rowCount: u32): u32 { return HEADER + rowCount * ROW; }

/** Lay out the table (master, once): row 0 plus one row per worker, mule and spooler. */
export function wkInit(offset: u32, workers: u32, mules: u32, spoolers: u32): void {
  stu32(offset + H_ROWS, 1 + workers + mules + spoolers);
  stu32(offset + H_WORKERS, workers);
  stu32(offset + H_MULES, mules);
  stu32(offset + H_SPOOLERS, spoolers);
  for (let r: u32 = 1; r <= workers + mules + spoolers; r++) stu32(offset + HEADER + r * ROW + F_ACCEPTING, 1);
}

export function wkBind(): void { base = <usize>regionOffset(REGION_WORKERS, 0); }

/** Row of a thread kind (worker, mule, spooler) and its 1-based id; E_NO_STATUS_ROW for others. */
export function wkRow(kind: i32, ident: i32): i32 {
  if (base == 0 || ident < 1) return E_NO_STATUS_ROW;
  const w = <i32>ldu32(hdr(H_WORKERS));
  const m = <i32>ldu32(hdr(H_MULES));
  const s = <i32>ldu32(hdr(H_SPOOLERS));
  if (kind == KIND_WORKER && ident <= w) return ident;
  if (kind == KIND_MULE && ident <= m) return w + ident;
  if (kind == KIND_SPOOLER && ident <= s) return w + m + ident;
  return E_NO_STATUS_ROW;
}

export function wkRows(): i32 { return <i32>rows(); }
export function wkCount(kind: i32): i32 {
  if (base == 0) return 0;
  if (kind == KIND_WORKER) return <i32>ldu32(hdr(H_WORKERS));
  if (kind == KIND_MULE) return <i32>ldu32(hdr(H_MULES));
  if (kind == KIND_SPOOLER) return <i32>ldu32(hdr(H_SPOOLERS));
  return 0;
}

/** Read a field (i64 or i32) of row `r`; NaN for a bad row or field. */
export function wkGet(r: i32, f: u32): f64 {
  if (r < 0 || <u32>r >= rows()) return NaN;
  const p = rowAt(<u32>r) + <usize>f;
  // Observes the latest value published by the row's writers.
  if (i64Field(f)) return <f64>aload64(p);
  if (i32Field(f)) return <f64>aload32(p);
  return NaN;
}

/** Write a field; E_NO_STATUS_ROW / E_BOUNDS for a bad row or field. */
export function wkSet(r: i32, f: u32, v: f64): i32 {
  if (r < 0 || <u32>r >= rows()) return E_NO_STATUS_ROW;
  const p = rowAt(<u32>r) + <usize>f;
  // Publishes the value to readers of the row (the master, workers(), stats).
  if (i64Field(f)) { astore64(p, <i64>v); return OK; }
  if (i32Field(f)) { astore32(p, <i32>v); return OK; }
  return E_BOUNDS;
}

/** Add to a field and return the new value; NaN for a bad row or field. */
export function wkAdd(r: i32, f: u32, d: f64): f64 {
  if (r < 0 || <u32>r >= rows()) return NaN;
  const p = rowAt(<u32>r) + <usize>f;
  // One atomic read-modify-write: concurrent adders never lose an update.
  if (i64Field(f)) return <f64>(atomic.add<i64>(p, <i64>d) + <i64>d);
  if (i32Field(f)) return <f64>(atomic.add<i32>(p, <i32>d) + <i32>d);
  return NaN;
}

/**
 * A request starts in row `r` (0 for a thread without a row: only the totals
 * count it). Returns the request id: how many requests this row began before.
 */
export function wkBegin(r: i32): f64 {
  if (r < 0 || <u32>r >= rows()) return <f64>E_NO_STATUS_ROW;
  const p = rowAt(<u32>r);
  atomic.add<i32>(p + F_BUSY, 1);
  // Claims a unique id even when requests of one row overlap.
  return <f64>atomic.add<i64>(p + F_REQ_SEQ, 1);
}

/**
 * A request of row `r` ends after `rtUs` microseconds, having sent `tx` bytes
 * (`exc` 1 when it raised). Updates the row and the totals of row 0.
 */
export function wkEnd(r: i32, rtUs: f64, tx: f64, exc: i32): i32 {
  if (r < 0 || <u32>r >= rows()) return E_NO_STATUS_ROW;
  const p = rowAt(<u32>r);
  if (aload32(p + F_BUSY) <= 0) return E_NOT_IN_REQUEST;
  const rt = <i64>rtUs;
  atomic.add<i64>(p + F_RUNNING_TIME, rt);
  atomic.add<i64>(p + F_TX, <i64>tx);
  if (exc != 0) atomic.add<i64>(p + F_EXCEPTIONS, 1);
  // uWSGI's moving average: the new time counts as much as the whole past.
  while (true) {
    const old = aload64(p + F_AVG_RT);
    const next = old == 0 ? rt : (old + rt) / 2;
    if (atomic.cmpxchg<i64>(p + F_AVG_RT, old, next) == old) break;
  }
  atomic.add<i64>(p + F_DELTA, 1);
  // Publishes the completed request: total_requests() and workers() read these.
  atomic.add<i64>(p + F_REQUESTS, 1);
  if (r != 0) atomic.add<i64>(rowAt(0) + F_REQUESTS, 1);
  atomic.sub<i32>(p + F_BUSY, 1);
  return OK;
}

// ---- header ------------------------------------------------------------------

/** Header word `which`: WK_HEADER_READY or WK_HEADER_RELOADS (0 for any other). */
export function wkHeaderGet(which: i32): i32 {
  if (base == 0) return 0;
  return which == WK_HEADER_READY ? aload32(hdr(H_READY)) : which == WK_HEADER_RELOADS ? aload32(hdr(H_RELOADS)) : 0;
}

export function wkHeaderSet(which: i32, v: i32): void {
  if (base == 0) return;
  // Publishes instance state to every thread.
  if (which == WK_HEADER_READY) astore32(hdr(H_READY), v);
  else if (which == WK_HEADER_RELOADS) astore32(hdr(H_RELOADS), v);
}

/** Add `n` bytes to the log size; returns the new size. */
export function wkLogAdd(n: f64): f64 {
  if (base == 0) return 0;
  return <f64>(atomic.add<i64>(hdr(H_LOGSIZE), <i64>n) + <i64>n);
}

export function wkLogSize(): f64 { return base == 0 ? 0 : <f64>aload64(hdr(H_LOGSIZE)); }

/** Store the warning message (`len` bytes at `src`); E_BOUNDS when longer than WARNING_MAX. */
export function wkSetWarning(src: usize, len: u32): i32 {
  if (base == 0) return E_NO_STATUS_ROW;
  if (len > WARNING_MAX) return E_BOUNDS;
  const rc = mutexLock(hdr(H_WARN_LOCK), -1);
  if (rc < 0) return rc;
  memory.copy(hdr(H_WARN), src, len);
  stu32(hdr(H_WARN_LEN), len);
  mutexUnlock(hdr(H_WARN_LOCK));
  return OK;
}

/** Copy the warning message to `out`; returns its length. */
export function wkGetWarning(out: usize): i32 {
  if (base == 0) return 0;
  const rc = mutexLock(hdr(H_WARN_LOCK), -1);
  if (rc < 0) return rc;
  const len = ldu32(hdr(H_WARN_LEN));
  memory.copy(out, hdr(H_WARN), len);
  mutexUnlock(hdr(H_WARN_LOCK));
  return <i32>len;
}
