// Robust locks over shared memory: a mutex and a writer-preferring rwlock,
// correct whenever a thread dies, between any two of its steps.
//
// Mutex word (i32):
//  ┌───┬─────────┬──────────────────────────────┬─────────────────────┐
//  │ 0 │ WAITERS │ owner generation (bits 12..29)│ owner tid+1 (0..11) │
//  └───┴─────────┴──────────────────────────────┴─────────────────────┘
//  0 = free. The owner part is layout.ts's owner word, so any thread can tell
//  whether the holder still runs (ownerAlive). A locker that finds a dead owner
//  takes the lock over and is told (OWNER_DIED), like a robust pthread mutex.
//  Taking and releasing are one atomic step each, so a death leaves the lock
//  either held by the dead owner (taken over) or free.
//
// Rwlock (two words, 8 bytes):
//  +0 state: the writers' mutex word above (0, or the writer's owner word).
//  +4 drain: bumped by a reader that leaves while a writer holds the state
//            word; the writer sleeps on it until the readers are gone.
//  There is no reader count. A reader records the lock in its own thread slot
//  (layout.ts holdSet, one atomic store) and then checks that no writer holds
//  the state word; a writer takes the state word and then waits until no live
//  thread records a read hold (layout.ts readHeld). Both steps are sequentially
//  consistent, so of a reader and a writer that race, at least one sees the
//  other (the reader then steps back). A reader that dies holds nothing the
//  moment its slot is not alive: nothing to give back, nothing to leak, at
//  whatever step it died.
//
// All waits are bounded (WAIT_NS) so that a waiter re-checks liveness of the
// owner and its own stop flag: on Deno a terminated worker blocked in a wait
// is not interrupted, so it must notice by itself that it has to give up. A
// thread the master has declared dead while it still runs (Deno again) takes
// no lock any more (E_STOPPED), so it cannot hold what others took over.

import { OK, OWNER_DIED, E_BAD_STATE, E_FULL, E_NOT_OWNER, E_STOPPED, E_TIMEOUT } from "../kernel/abi";
import { aload32, cas32 } from "../kernel/mem";
import {
  OWNER_MASK, holdFind, holdFree, holdSet, ownerAlive, readHeld, selfDeclaredDead, selfOwner, selfStopRequested,
} from "../kernel/layout";

const WAITERS: i32 = 1 << 30;
const SPIN: i32 = 100;
const WAIT_NS: i64 = 20_000_000; // 20 ms between liveness checks

/** Try once. */
export function mutexTry(addr: usize): bool {
  return cas32(addr, 0, selfOwner) == 0;
}

/**
 * Acquire. `timeoutMs` < 0 waits forever. Returns OK, OWNER_DIED (acquired from
 * a dead holder: the data it guards may be half-updated), E_TIMEOUT, E_STOPPED,
 * or E_BAD_STATE when the caller holds it already (it is not recursive: waiting
 * would never end).
 */
export function mutexLock(addr: usize, timeoutMs: f64): i32 {
  if (selfDeclaredDead()) return E_STOPPED;
  // Acquires: the holder's writes, published by its unlock's xchg, are visible after this.
  if (cas32(addr, 0, selfOwner) == 0) return OK;
  if ((aload32(addr) & OWNER_MASK) == selfOwner) return E_BAD_STATE;
  // Short spin: most holds are a few hundred nanoseconds.
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

/**
 * Release. Releasing a free lock is a no-op; a lock held by another thread (or
 * left by a dead one, which the next locker takes over) is refused: E_NOT_OWNER.
 * `all` wakes every sleeper (an rwlock's readers sleep on the word too).
 */
export function mutexUnlock(addr: usize, all: bool = false): i32 {
  const seen = aload32(addr);
  if (seen == 0) return OK;
  if ((seen & OWNER_MASK) != selfOwner) return E_NOT_OWNER;
  // Publishes every write made under the lock, and frees it.
  const old = atomic.xchg<i32>(addr, 0);
  if ((old & WAITERS) != 0) atomic.notify(addr, all ? -1 : 1);
  return OK;
}

/** Held by a running thread (the caller included). A lock whose holder died counts as free. */
export function mutexIsLocked(addr: usize): bool {
  const seen = aload32(addr);
  return seen != 0 && ownerAlive(seen & OWNER_MASK);
}

// ---- rwlock -----------------------------------------------------------------

export const RW_SIZE: u32 = 8;
const DRAIN_SPIN: i32 = 20;

/** A reader left (or stepped back) while a writer holds the state word: wake the writer draining readers. */
@inline function readerLeft(addr: usize): void {
  atomic.add<i32>(addr + 4, 1);
  atomic.notify(addr + 4, 1);
}

/**
 * Shared hold. Returns OK, OWNER_DIED (a dead writer's hold was broken: the
 * data may be half-updated), E_STOPPED, E_FULL (the thread holds HELD_MAX read
 * locks already) or E_BAD_STATE (the caller holds it for writing).
 */
export function rwReadLock(addr: usize): i32 {
  if (selfDeclaredDead()) return E_STOPPED;
  const i = holdFree();
  if (i < 0) return E_FULL;
  let rc = OK;
  let spins = 0;
  while (true) {
    const seen = aload32(addr);
    const owner = seen & OWNER_MASK;
    if (owner == 0) {
      // Announces the hold (the one step that takes it), then makes sure no writer came first.
      holdSet(i, addr);
      // Acquires what the last writer published before its release.
      if ((aload32(addr) & OWNER_MASK) == 0) return rc;
      // A writer took the state word meanwhile: step back so that it can drain the readers.
      holdSet(i, 0);
      readerLeft(addr);
      continue;
    }
    if (owner == selfOwner) return E_BAD_STATE;
    if (!ownerAlive(owner)) {
      // Breaks a dead writer's hold; the CAS makes sure only one thread does.
      if (cas32(addr, seen, 0) == seen) {
        rc = OWNER_DIED;
        if ((seen & WAITERS) != 0) atomic.notify(addr, -1);
      }
      continue;
    }
    if (spins++ < SPIN) continue;
    if (selfStopRequested()) return E_STOPPED;
    if ((seen & WAITERS) == 0) {
      // Announces a sleeper, so the writer's unlock notifies.
      if (cas32(addr, seen, seen | WAITERS) != seen) continue;
    }
    // Waits for the writer's unlock (notify) or the bounded timeout.
    atomic.wait<i32>(addr, seen | WAITERS, WAIT_NS);
  }
}

/**
 * Exclusive hold. Returns OK, OWNER_DIED, E_STOPPED, or E_BAD_STATE when the
 * caller holds it already (for reading or writing: waiting would never end).
 */
export function rwWriteLock(addr: usize): i32 {
  if (holdFind(addr) >= 0) return E_BAD_STATE;
  const rc = mutexLock(addr, -1);
  if (rc < 0) return rc;
  // New readers hold back from now on; wait for those inside to leave.
  let spins = 0;
  while (true) {
    const gen = aload32(addr + 4);
    // Acquires what the readers did (their entry stores are sequentially consistent).
    if (!readHeld(addr)) return rc;
    if (spins++ < DRAIN_SPIN) continue;
    if (selfStopRequested()) {
      mutexUnlock(addr, true);
      return E_STOPPED;
    }
    // Waits for a reader's readerLeft, or the bounded timeout (a dead reader's
    // hold stops counting when the master frees its slot, which notifies nobody).
    atomic.wait<i32>(addr + 4, gen, WAIT_NS);
  }
}

/** Give back this thread's read hold; E_NOT_OWNER (nothing done) when it holds none. */
export function rwReadUnlock(addr: usize): i32 {
  const i = holdFind(addr);
  if (i < 0) return E_NOT_OWNER;
  // Gives the hold back: one store.
  holdSet(i, 0);
  if ((aload32(addr) & OWNER_MASK) != 0) readerLeft(addr);
  return OK;
}

/** Release a write hold: OK, E_NOT_OWNER when another thread holds it (free: OK). */
export function rwWriteUnlock(addr: usize): i32 { return mutexUnlock(addr, true); }

/**
 * Release whatever the caller holds on this rwlock (read or write): OK, or
 * E_NOT_OWNER when it holds nothing (nothing is done).
 */
export function rwUnlock(addr: usize): i32 {
  const seen = aload32(addr);
  if (seen != 0 && (seen & OWNER_MASK) == selfOwner) return rwWriteUnlock(addr);
  return rwReadUnlock(addr);
}

/** 1 when the caller holds it for writing, 2 for reading, 0 otherwise. */
export function rwHeldBySelf(addr: usize): i32 {
  const seen = aload32(addr);
  if (seen != 0 && (seen & OWNER_MASK) == selfOwner) return 1;
  return holdFind(addr) >= 0 ? 2 : 0;
}

/** Held for writing by a running thread. */
export function rwIsWriteLocked(addr: usize): bool {
  const seen = aload32(addr);
  return seen != 0 && ownerAlive(seen & OWNER_MASK);
}

/** Held for reading by a running thread. */
export function rwIsReadLocked(addr: usize): bool { return readHeld(addr); }
