// The user locks of uwsgi.lock()/unlock()/is_locked(): `--locks N` gives N+1
// robust mutexes numbered 0..N, each on its own cache line.
//
//  ┌──────────────┬────────────┬────────────┬─────┐
//  │ count (line) │ lock 0     │ lock 1     │ ... │   each lock: mutex word + padding
//  └──────────────┴────────────┴────────────┴─────┘

import { E_BAD_ID, REGION_LOCKS } from "../kernel/abi";
import { LINE, ldu32, stu32 } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { OWNER_MASK, OWNER_TID_MASK } from "../kernel/layout";
import { mutexIsLocked, mutexLock, mutexTry, mutexUnlock } from "./lock";

let base: usize = 0;

export function locksBytes(count: u32): u32 { return LINE * (count + 1); }
export function locksInit(offset: u32, count: u32): void { stu32(offset, count); }
export function locksBind(): void { base = regionOffset(REGION_LOCKS, 0); }
export function locksCount(): u32 { return base == 0 ? 0 : ldu32(base); }

@inline function word(n: i32): usize {
  return (base == 0 || n < 0 || <u32>n >= ldu32(base)) ? 0 : base + <usize>(LINE * <u32>(n + 1));
}

export function userLock(n: i32, timeoutMs: f64): i32 {
  const w = word(n);
  return w == 0 ? E_BAD_ID : mutexLock(w, timeoutMs);
}
export function userTryLock(n: i32): i32 {
  const w = word(n);
  return w == 0 ? E_BAD_ID : (mutexTry(w) ? 0 : 1);
}
export function userUnlock(n: i32): i32 {
  const w = word(n);
  return w == 0 ? E_BAD_ID : mutexUnlock(w);
}
/** 1 when held by a running thread, 0 when free, or E_BAD_ID. */
export function userIsLocked(n: i32): i32 {
  const w = word(n);
  return w == 0 ? E_BAD_ID : (mutexIsLocked(w) ? 1 : 0);
}

/**
 * How many user locks the owner word `owner` holds. The master counts them for
 * its log when a thread dies; the locks themselves stay marked with the dead
 * owner, so the next locker takes them over and is told (OWNER_DIED).
 */
export function userLocksHeldBy(owner: i32): i32 {
  let held = 0;
  const n = <i32>locksCount();
  for (let i = 0; i < n; i++) if ((atomic.load<i32>(word(i)) & OWNER_MASK) == owner) held++;
  return held;
}

/** Thread slot of the running thread holding user lock `n`, -1 when free (or its holder died), or E_BAD_ID. */
export function userLockHolder(n: i32): i32 {
  const w = word(n);
  if (w == 0) return E_BAD_ID;
  const seen = atomic.load<i32>(w) & OWNER_MASK;
  return seen != 0 && mutexIsLocked(w) ? (seen & OWNER_TID_MASK) - 1 : -1;
}
