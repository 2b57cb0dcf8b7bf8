// Shared areas: uWSGI 2.0's numbered byte areas, each with its own rwlock and
// update/hit counters. One region holds them all:
//
//  region:
//  ┌───────┬──────────────────────┬─────────┬─────────┬─────┐
//  │ count │ area offsets (u32 ×n)│ area 0  │ area 1  │ ... │   directory padded to a line
//  └───────┴──────────────────────┴─────────┴─────────┴─────┘
//  area:
//  ┌──────┬──────────┬─────────────┬─────────────┬──────────┬────────────────┐
//  │ size │ reserved │ rwlock (8 B)│ updates u64 │ hits u64 │ data (size B)  │
//  │ +0   │ +4       │ +8          │ +16         │ +24      │ +64            │
//  └──────┴──────────┴─────────────┴─────────────┴──────────┴────────────────┘
//
// Every access checks bounds the way uWSGI does (pos < size and pos+len <= size;
// 64-bit ops check 8 bytes, where uWSGI checked 4) and runs under the area's
// lock: reads shared, writes and increments exclusive. A thread that already
// holds the area (sharedarea_rlock/wlock) does not lock again, so user-level
// locking composes with the helpers instead of deadlocking as in uWSGI.

import { OK, OWNER_DIED, HELD_ALREADY, E_BAD_ID, E_BOUNDS, E_BAD_STATE, E_VALUE_RANGE, REGION_SHAREDAREA } from "../kernel/abi";
import { LINE, alignUp, ld64, ldu32, st64, stu32 } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { rwHeldBySelf, rwReadLock, rwReadUnlock, rwUnlock, rwWriteLock, rwWriteUnlock } from "../locks/lock";

const A_SIZE: u32 = 0;
const A_LOCK: u32 = 8;
const A_UPDATES: u32 = 16;
const A_HITS: u32 = 24;
const A_DATA: u32 = LINE;

let dir: usize = 0;

export function saDirBytes(count: u32): u32 { return alignUp(4 + 4 * count, LINE); }
export function saAreaBytes(size: u32): u32 { return A_DATA + alignUp(size, LINE); }

/** Lay out the directory; areas are added in id order with saInitArea. */
export function saInit(offset: u32, count: u32): void {
  stu32(offset, 0);
  stu32(offset + 4 + 4 * count, 0);
}

export function saInitArea(regionOff: u32, areaOff: u32, size: u32): u32 {
  const n = ldu32(regionOff);
  stu32(regionOff + 4 + 4 * n, areaOff);
  stu32(areaOff + A_SIZE, size);
  stu32(regionOff, n + 1);
  return n;
}

export function saBind(): void { dir = regionOffset(REGION_SHAREDAREA, 0); }

export function saCount(): u32 { return dir == 0 ? 0 : ldu32(dir); }

@inline function area(id: i32): usize {
  return (dir == 0 || id < 0 || <u32>id >= ldu32(dir)) ? 0 : <usize>ldu32(dir + 4 + 4 * <u32>id);
}

export function saSize(id: i32): i32 {
  const a = area(id);
  return a == 0 ? E_BAD_ID : <i32>ldu32(a + A_SIZE);
}

/** Address of the first data byte of area `id`, or 0. */
export function saData(id: i32): usize {
  const a = area(id);
  return a == 0 ? 0 : a + A_DATA;
}

/** uWSGI's bounds rule, in f64 so that any JS number can be judged exactly. */
@inline function inBounds(a: usize, pos: f64, len: f64): bool {
  const size = <f64>ldu32(a + A_SIZE);
  return pos >= 0 && len >= 0 && pos < size && pos + len <= size;
}

export function saCheck(id: i32, pos: f64, len: f64): i32 {
  const a = area(id);
  if (a == 0) return E_BAD_ID;
  return inBounds(a, pos, len) ? OK : E_BOUNDS;
}

// ---- locking ------------------------------------------------------------------

/**
 * Check bounds and take the area's lock for a bulk access that JS performs on
 * the data in place. Returns OK or OWNER_DIED (lock taken), HELD_ALREADY (the
 * caller holds it, nothing taken), or an error.
 */
export function saBegin(id: i32, pos: f64, len: f64, write: bool): i32 {
  const a = area(id);
  if (a == 0) return E_BAD_ID;
  if (!inBounds(a, pos, len)) return E_BOUNDS;
  const lk = a + A_LOCK;
  const held = rwHeldBySelf(lk);
  if (held == 1) return HELD_ALREADY;
  if (held == 2) {
    if (write) return E_BAD_STATE; // a write under our own read lock would need an upgrade
    return HELD_ALREADY;
  }
  const rc = write ? rwWriteLock(lk) : rwReadLock(lk);
  if (rc < 0) return rc;
  if (write) st64(a + A_UPDATES, ld64(a + A_UPDATES) + 1);
  else atomic.add<i64>(a + A_HITS, 1);
  return rc;
}

export function saEnd(id: i32, write: bool): void {
  const lk = area(id) + A_LOCK;
  if (write) rwWriteUnlock(lk);
  else rwReadUnlock(lk);
}

/** sharedarea_rlock / wlock: returns OK, OWNER_DIED or an error. */
export function saLock(id: i32, write: bool): i32 {
  const a = area(id);
  if (a == 0) return E_BAD_ID;
  const lk = a + A_LOCK;
  if (rwHeldBySelf(lk) != 0) return E_BAD_STATE; // not recursive: tell instead of deadlocking
  return write ? rwWriteLock(lk) : rwReadLock(lk);
}

export function saUnlock(id: i32): i32 {
  const a = area(id);
  if (a == 0) return E_BAD_ID;
  return rwUnlock(a + A_LOCK);
}

// ---- typed access -------------------------------------------------------------
// Each runs under the area lock, so plain (possibly unaligned) loads and stores
// are safe; the lock's acquire/release orders them against other threads.

const NAN: f64 = NaN;

/** Why this thread's last saReadInt returned NaN (per thread: wasm globals are not shared). */
let readStatus: i32 = OK;
export function saReadStatus(): i32 { return readStatus; }

/** Signed read of `width` bytes (1, 2 or 4); NaN when refused (saReadStatus tells why). */
export function saReadInt(id: i32, pos: f64, width: i32): f64 {
  const rc = saBegin(id, pos, <f64>width, false);
  if (rc < 0) { readStatus = rc; return NAN; }
  const p = saData(id) + <usize>pos;
  let v: f64;
  if (width == 1) v = <f64>load<i8>(p);
  else if (width == 2) v = <f64>load<i16>(p);
  else v = <f64>load<i32>(p);
  if (rc != HELD_ALREADY) saEnd(id, false);
  return v;
}

export function saWriteInt(id: i32, pos: f64, width: i32, value: i32): i32 {
  const rc = saBegin(id, pos, <f64>width, true);
  if (rc < 0) return rc;
  const p = saData(id) + <usize>pos;
  if (width == 1) store<i8>(p, <i8>value);
  else if (width == 2) store<i16>(p, <i16>value);
  else store<i32>(p, value);
  if (rc != HELD_ALREADY) saEnd(id, true);
  return rc == OWNER_DIED ? OWNER_DIED : OK;
}

export function saAdd32(id: i32, pos: f64, delta: i32): i32 {
  const rc = saBegin(id, pos, 4, true);
  if (rc < 0) return rc;
  const p = saData(id) + <usize>pos;
  store<i32>(p, load<i32>(p) + delta);
  if (rc != HELD_ALREADY) saEnd(id, true);
  return rc == OWNER_DIED ? OWNER_DIED : OK;
}

/** 64-bit read; the value is left at `out` (the caller's scratch). */
export function saRead64(id: i32, pos: f64, out: usize): i32 {
  const rc = saBegin(id, pos, 8, false);
  if (rc < 0) return rc;
  st64(out, load<i64>(saData(id) + <usize>pos));
  if (rc != HELD_ALREADY) saEnd(id, false);
  return OK;
}

export function saWrite64(id: i32, pos: f64, value: i64): i32 {
  const rc = saBegin(id, pos, 8, true);
  if (rc < 0) return rc;
  store<i64>(saData(id) + <usize>pos, value);
  if (rc != HELD_ALREADY) saEnd(id, true);
  return rc == OWNER_DIED ? OWNER_DIED : OK;
}

/** 64-bit add with two's-complement wrap; the new value is left at `out`. */
export function saAdd64(id: i32, pos: f64, delta: i64, out: usize): i32 {
  const rc = saBegin(id, pos, 8, true);
  if (rc < 0) return rc;
  const p = saData(id) + <usize>pos;
  const old = load<i64>(p);
  const v = old + delta;
  // A signed 64-bit counter past its range is refused and left alone (uWSGI wraps silently).
  if (((old ^ v) & (delta ^ v)) < 0) {
    if (rc != HELD_ALREADY) saEnd(id, true);
    return E_VALUE_RANGE;
  }
  store<i64>(p, v);
  st64(out, v);
  if (rc != HELD_ALREADY) saEnd(id, true);
  return rc == OWNER_DIED ? OWNER_DIED : OK;
}

/** Same as saAdd64 for deltas that are safe JS integers, which avoids a BigInt per call. */
export function saAdd64f(id: i32, pos: f64, delta: f64, out: usize): i32 {
  return saAdd64(id, pos, <i64>delta, out);
}

export function saUpdates(id: i32): i64 { const a = area(id); return a == 0 ? 0 : atomic.load<i64>(a + A_UPDATES); }
export function saHits(id: i32): i64 { const a = area(id); return a == 0 ? 0 : atomic.load<i64>(a + A_HITS); }
