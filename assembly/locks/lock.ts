// Robust locks over shared memory: a mutex and a writer-preferring rwlock.
//
// Mutex word (i32):
//  ┌───┬─────────┬──────────────────────────────┬─────────────────────┐
//  │ 0 │ WAITERS │ owner generation (bits 12..29)│ owner tid+1 (0..11) │
//  └───┴─────────┴──────────────────────────────┴─────────────────────┘
//  0 = free. The owner part is layout.ts's owner word, so any thread can tell
//  whether the holder still runs (ownerAlive). A locker that finds a dead owner
//  takes the lock over and is told (OWNER_DIED), like a robust pthread mutex.
//
// Rwlock (two words, 8 bytes):
//  +0 state: 0 free; WRITER | owner word when write-held; otherwise the reader
//            count, with WANT_WRITE set while a writer waits (new readers hold back)
//  +4 waiters: threads sleeping on the state word (so unlock knows to notify)
//  Readers record the lock in their thread slot (layout.ts heldPush), so that a
//  dead reader's hold can be given back by rwReleaseDeadReader.
//
// All waits are bounded (WAIT_NS) so that a waiter re-checks liveness of the
// owner and its own stop flag: on Deno a terminated worker blocked in a wait
// is not interrupted, so it must notice by itself that it has to give up.

import { OK, OWNER_DIED, E_NOT_OWNER, E_STOPPED, E_TIMEOUT } from "../kernel/abi";
import { aload32, astore32, cas32 } from "../kernel/mem";
import { OWNER_MASK, heldBySelf, heldPop, heldPush, ownerAlive, selfOwner, selfStopRequested } from "../kernel/layout";

const WAITERS: i32 = 1 << 30;
const SPIN: i32 = 100;
const WAIT_NS: i64 = 20_000_000; // 20 ms between liveness checks

/** Try once. */
export function mutexTry(addr: usize): bool {
  return cas32(addr, 0, selfOwner) == 0;
}

/**
 * Acquire. `timeoutMs` < 0 waits forever. Returns OK, OWNER_DIED (acquired from
 * a dead holder: the data it guards may be half-updated), E_TIMEOUT or E_STOPPED.
 */
export function mutexLock(addr: usize, timeoutMs: f64): i32 {
  // Fast path and short spin: most holds are a few hundred nanoseconds.
  for (let i = 0; i < SPIN; i++) {
    // Acquires: the holder's writes, published by its unlock's xchg, are visible after this.
    if (cas32(addr, 0, selfOwner) == 0) return OK;
  }
  let waited: f64 = 0;
  while (true) {
    const seen = aload32(addr);
    if (seen == 0) {
      // Someone else may still sleep here: keep WAITERS so our unlock wakes them.
      if (cas32(addr, 0, selfOwner | WAITERS) == 0) return OK;
      continue;
    }
    if (!ownerAlive(seen & OWNER_MASK)) {
      // Takes over from a dead owner; the CAS makes sure only one thread does.
      if (cas32(addr, seen, selfOwner | WAITERS) == seen) return OWNER_DIED;
      continue;
    }
    if (selfStopRequested()) return E_STOPPED;
    if (timeoutMs >= 0 && waited >= timeoutMs) return E_TIMEOUT;
    if ((seen & WAITERS) == 0) {
      // Announces a sleeper, so the holder's unlock notifies.
      if (cas32(addr, seen, seen | WAITERS) != seen) continue;
    }
    // Waits for the holder's unlock (notify) or the bounded timeout.
    atomic.wait<i32>(addr, seen | WAITERS, WAIT_NS);
    waited += <f64>(WAIT_NS / 1_000_000);
  }
}

/** Release. Releasing a free lock is a no-op; a lock held by another thread is refused. */
export function mutexUnlock(addr: usize): i32 {
  const seen = aload32(addr);
  if (seen == 0) return OK;
  if ((seen & OWNER_MASK) != selfOwner) return E_NOT_OWNER;
  // Publishes every write made under the lock, and frees it.
  const old = atomic.xchg<i32>(addr, 0);
  if ((old & WAITERS) != 0) atomic.notify(addr, 1);
  return OK;
}

/** Held by a running thread (the caller included). A lock whose holder died counts as free. */
export function mutexIsLocked(addr: usize): bool {
  const seen = aload32(addr);
  return seen != 0 && ownerAlive(seen & OWNER_MASK);
}

// ---- rwlock -----------------------------------------------------------------

export const RW_SIZE: u32 = 8;
const RW_WRITER: i32 = 1 << 31;
const RW_WANT_WRITE: i32 = 1 << 30;
const RW_READERS: i32 = RW_WANT_WRITE - 1;

@inline function rwSleep(addr: usize, seen: i32): void {
  atomic.add<i32>(addr + 4, 1);
  // Waits for an unlock that changes the state word (or the bounded timeout).
  atomic.wait<i32>(addr, seen, WAIT_NS);
  atomic.sub<i32>(addr + 4, 1);
}

@inline function rwWake(addr: usize): void {
  // Observes sleepers registered by rwSleep before they went to sleep.
  if (aload32(addr + 4) != 0) atomic.notify(addr, -1);
}

/** Shared hold. Returns OK, OWNER_DIED (a dead writer's hold was broken) or E_STOPPED. */
export function rwReadLock(addr: usize): i32 {
  let rc = OK;
  let spins = 0;
  while (true) {
    const seen = aload32(addr);
    if ((seen & RW_WRITER) != 0) {
      if (!ownerAlive(seen & OWNER_MASK)) {
        // Breaks a dead writer's hold; the guarded data may be half-updated.
        if (cas32(addr, seen, 0) == seen) { rc = OWNER_DIED; rwWake(addr); }
        continue;
      }
    } else if ((seen & RW_WANT_WRITE) == 0) {
      // Joins the readers; acquires what the last writer published.
      if (cas32(addr, seen, seen + 1) == seen) { heldPush(addr); return rc; }
      continue;
    }
    if (spins++ < SPIN) continue;
    if (selfStopRequested()) return E_STOPPED;
    rwSleep(addr, seen);
  }
}

/** Exclusive hold. Returns OK, OWNER_DIED or E_STOPPED. */
export function rwWriteLock(addr: usize): i32 {
  let rc = OK;
  let spins = 0;
  while (true) {
    const seen = aload32(addr);
    if (seen == 0 || seen == RW_WANT_WRITE) {
      // Takes the lock; acquires what readers and the last writer left.
      if (cas32(addr, seen, RW_WRITER | selfOwner) == seen) return rc;
      continue;
    }
    if ((seen & RW_WRITER) != 0) {
      if (!ownerAlive(seen & OWNER_MASK)) {
        if (cas32(addr, seen, 0) == seen) { rc = OWNER_DIED; rwWake(addr); }
        continue;
      }
    } else if ((seen & RW_WANT_WRITE) == 0) {
      // Readers hold it: ask new readers to hold back so we are not starved.
      cas32(addr, seen, seen | RW_WANT_WRITE);
      continue;
    }
    if (spins++ < SPIN) continue;
    if (selfStopRequested()) return E_STOPPED;
    rwSleep(addr, seen);
  }
}

export function rwReadUnlock(addr: usize): void {
  heldPop(addr);
  rwDropReader(addr);
}

function rwDropReader(addr: usize): void {
  while (true) {
    const seen = aload32(addr);
    if ((seen & RW_WRITER) != 0 || (seen & RW_READERS) == 0) return; // not read-held
    // Leaves the readers; the last one out keeps WANT_WRITE so the writer goes first.
    if (cas32(addr, seen, seen - 1) == seen) {
      if ((seen & RW_READERS) == 1) rwWake(addr);
      return;
    }
  }
}

export function rwWriteUnlock(addr: usize): i32 {
  const seen = aload32(addr);
  if ((seen & RW_WRITER) == 0) return OK;
  if ((seen & OWNER_MASK) != selfOwner) return E_NOT_OWNER;
  // Publishes every write made under the lock.
  astore32(addr, 0);
  rwWake(addr);
  return OK;
}

/** Release whatever the caller holds on this rwlock (read or write); no-op when it holds nothing. */
export function rwUnlock(addr: usize): i32 {
  const seen = aload32(addr);
  if ((seen & RW_WRITER) != 0) return rwWriteUnlock(addr);
  if (heldBySelf(addr)) rwReadUnlock(addr);
  return OK;
}

/** 1 when the caller holds it for writing, 2 for reading, 0 otherwise. */
export function rwHeldBySelf(addr: usize): i32 {
  const seen = aload32(addr);
  if ((seen & RW_WRITER) != 0) return (seen & OWNER_MASK) == selfOwner ? 1 : 0;
  if ((seen & RW_READERS) == 0) return 0;
  return heldBySelf(addr) ? 2 : 0;
}

/** Give back one read hold of a thread that died holding it (the recoverer calls this). */
export function rwReleaseDeadReader(addr: usize): void { rwDropReader(addr); }

export function rwIsWriteLocked(addr: usize): bool {
  const seen = aload32(addr);
  return (seen & RW_WRITER) != 0 && ownerAlive(seen & OWNER_MASK);
}
