// The shared memory's map: a header, a region table, the thread table and the
// per-thread scratch slots. Every other structure lives in a region placed by
// the planner (ts/kernel/layout.ts) from the options, at an offset recorded here.
// The numbers both sides use (BASE, region kinds, thread states) are in abi.ts.
//
//  0            BASE (64 KiB: below it, this instance's static data)
//  ├────────────┼────────────────────────────────────────────────────────────┐
//  │ static data│ header │ region table │ region │ region │ ... │ end         │
//  └────────────┴────────────────────────────────────────────────────────────┘
//
// Header, at BASE:
//  ┌───────┬─────────┬───────┬───────┬──────────┬─────────────┬─────────────┐
//  │ magic │ version │ state │ total │ nregions │ max_threads │ scratch_size│
//  │ +0    │ +4      │ +8    │ +12   │ +16      │ +20         │ +24         │
//  └───────┴─────────┴───────┴───────┴──────────┴─────────────┴─────────────┘
//  +32: region table, MAX_REGIONS entries of 16 bytes, up to LAYOUT_HEADER_SIZE:
//  ┌──────┬───────┬────────┬──────┐
//  │ kind │ index │ offset │ size │   (offset and size in bytes, u32)
//  └──────┴───────┴────────┴──────┘
//
// Header field +28: threads_used, one more than the highest slot ever reserved
// (writers scan the thread table up to it).
//
// Thread table entry (one per thread slot, THREAD_SIZE bytes, two cache lines):
//  ┌───────┬─────┬──────┬───────┬──────┬──────────┬─────┬──────────────────────────┐
//  │ state │ gen │ kind │ ident │ stop │ held_hwm │ ... │ held[HELD_MAX] (u32)     │
//  │ +0    │ +4  │ +8   │ +12   │ +16  │ +20      │     │ +64 .. +128 (own line)   │
//  └───────┴─────┴──────┴───────┴──────┴──────────┴─────┴──────────────────────────┘
// `held` is the truth about this thread's read holds: each entry is the address
// of an rwlock the thread holds for reading, or 0. Taking and giving back a
// read hold is one store to the thread's own entry, so a thread that dies at
// any moment has either recorded a hold or not; there is no reader count to
// leak (locks/lock.ts derives "readers present" by scanning the entries of
// live threads). `held_hwm` only grows while the slot lives: entries at or
// past it are 0, so a scan stops there.

import {
  E_BAD_STATE, E_CORRUPT, E_FULL, E_LAYOUT, LAYOUT_BASE, LAYOUT_HEADER_SIZE, LAYOUT_MAX_THREADS, OK, OWNER_TID_BITS as TID_BITS, READ_HOLDS_MAX,
  REGION_SCRATCH, REGION_THREADS, THREAD_ALIVE, THREAD_FREE, THREAD_LOST,
} from "./abi";
import { LINE, aload32, astore32, cas32, ld32, ldu32, st32, stu32 } from "./mem";

const BASE: u32 = LAYOUT_BASE;
export const MAGIC: u32 = 0x4d535755; // "UWSM" little-endian
export const LAYOUT_VERSION: u32 = 1;

const H_MAGIC: u32 = 0;
const H_VERSION: u32 = H_MAGIC + 4;
const H_STATE: u32 = H_VERSION + 4;
const H_TOTAL: u32 = H_STATE + 4;
const H_NREGIONS: u32 = H_TOTAL + 4;
const H_MAX_THREADS: u32 = H_NREGIONS + 4;
const H_SCRATCH_SIZE: u32 = H_MAX_THREADS + 4;
const H_THREADS_USED: u32 = H_SCRATCH_SIZE + 4;
const H_REGIONS: u32 = 32;
const REGION_ENTRY: u32 = 16;
/** Region table entries: as many as fill the header (64 in abi.ts's LAYOUT_HEADER_SIZE). */
export const MAX_REGIONS: u32 = (<u32>LAYOUT_HEADER_SIZE - H_REGIONS) / REGION_ENTRY;

const STATE_READY: i32 = 1;

const HOLDS: u32 = READ_HOLDS_MAX;
export const THREAD_SIZE: u32 = LINE + HOLDS * 4;
const T_STATE: u32 = 0;
const T_GEN: u32 = 4;
const T_KIND: u32 = 8;
const T_IDENT: u32 = 12;
const T_STOP: u32 = 16;
const T_HELD_HWM: u32 = 20;
// On their own line: the owner writes them on every read hold, other threads
// read state and gen on every lock they contend for.
const T_HELD: u32 = LINE;
/** Read holds a thread may have at once (abi.ts READ_HOLDS_MAX, a line of entries); one more is refused (E_FULL). */
export const HELD_MAX: u32 = HOLDS;

/** Owner words pack (tid + 1) in bits 0..11 and the slot generation in bits 12..29. */
export const OWNER_TID_BITS: u32 = TID_BITS;
export const OWNER_TID_MASK: i32 = (1 << OWNER_TID_BITS) - 1;
export const OWNER_GEN_MASK: i32 = (1 << 18) - 1;
export const OWNER_MASK: i32 = (1 << 30) - 1;
const MAX_THREADS: u32 = LAYOUT_MAX_THREADS;

// ---- header -----------------------------------------------------------------

@inline function hdr(field: u32): usize { return <usize>(BASE + field); }

export function headerInit(total: u32, maxThreads: u32, scratchSize: u32): i32 {
  if (maxThreads == 0 || maxThreads > MAX_THREADS) return E_LAYOUT;
  stu32(hdr(H_MAGIC), MAGIC);
  stu32(hdr(H_VERSION), LAYOUT_VERSION);
  stu32(hdr(H_TOTAL), total);
  stu32(hdr(H_NREGIONS), 0);
  stu32(hdr(H_MAX_THREADS), maxThreads);
  stu32(hdr(H_SCRATCH_SIZE), scratchSize);
  stu32(hdr(H_THREADS_USED), 0);
  return OK;
}

/** Publish the finished layout: threads that attach wait for this flag. */
export function headerPublish(): void {
  // Publishes every region initialised before it to threads that observe STATE_READY.
  astore32(hdr(H_STATE), STATE_READY);
}

export function headerCheck(): i32 {
  if (ldu32(hdr(H_MAGIC)) != MAGIC || ldu32(hdr(H_VERSION)) != LAYOUT_VERSION) return E_LAYOUT;
  // Observes the publication in headerPublish.
  return aload32(hdr(H_STATE)) == STATE_READY ? OK : E_LAYOUT;
}

export function regionAdd(kind: u32, index: u32, offset: u32, size: u32): i32 {
  const n = ldu32(hdr(H_NREGIONS));
  if (n >= MAX_REGIONS) return E_FULL;
  const e = hdr(H_REGIONS + n * REGION_ENTRY);
  stu32(e, kind);
  stu32(e + 4, index);
  stu32(e + 8, offset);
  stu32(e + 12, size);
  stu32(hdr(H_NREGIONS), n + 1);
  return OK;
}

/** Address of the region table entry for (kind, index), or 0 when the layout has none. */
function regionEntry(kind: u32, index: u32): usize {
  const n = ldu32(hdr(H_NREGIONS));
  for (let i: u32 = 0; i < n; i++) {
    const e = hdr(H_REGIONS + i * REGION_ENTRY);
    if (ldu32(e) == kind && ldu32(e + 4) == index) return e;
  }
  return 0;
}

/** Offset of region (kind, index), or 0 when the layout has none. */
export function regionOffset(kind: u32, index: u32): u32 {
  const e = regionEntry(kind, index);
  return e == 0 ? 0 : ldu32(e + 8);
}

export function regionSize(kind: u32, index: u32): u32 {
  const e = regionEntry(kind, index);
  return e == 0 ? 0 : ldu32(e + 12);
}

export function regionCount(kind: u32): u32 {
  const n = ldu32(hdr(H_NREGIONS));
  let c: u32 = 0;
  for (let i: u32 = 0; i < n; i++) if (ldu32(hdr(H_REGIONS + i * REGION_ENTRY)) == kind) c++;
  return c;
}

export function maxThreads(): u32 { return ldu32(hdr(H_MAX_THREADS)); }
/** One more than the highest thread slot ever reserved: slots past it have never run. */
@inline function threadsUsed(): i32 { return aload32(hdr(H_THREADS_USED)); }
export function scratchSize(): u32 { return ldu32(hdr(H_SCRATCH_SIZE)); }

// ---- thread table -----------------------------------------------------------

// Per-instance (so per-thread) state: wasm globals are not shared.
let threadsBase: usize = 0;
let scratchBase: usize = 0;
export let selfTid: i32 = -1;
export let selfOwner: i32 = 0;
/** Where this thread's slot generation lives, and the generation it attached under (selfDeclaredDead). */
let selfGenAddr: usize = 0;
let selfGen: i32 = 0;

@inline function slot(tid: i32): usize { return threadsBase + <usize>tid * THREAD_SIZE; }

export function threadsBytes(max: u32): u32 { return max * THREAD_SIZE; }

/** Bind this instance to the memory's layout (every thread calls it once). */
export function bindLayout(): i32 {
  const rc = headerCheck();
  if (rc != OK) return rc;
  threadsBase = regionOffset(REGION_THREADS, 0);
  scratchBase = regionOffset(REGION_SCRATCH, 0);
  return threadsBase == 0 || scratchBase == 0 ? E_LAYOUT : OK;
}

/**
 * Claim a free thread slot for a thread about to start (or for the caller).
 * The slot is alive from this moment, so locks it takes are owned even before
 * the thread runs. Returns the tid, or E_FULL.
 */
export function threadReserve(kind: i32, ident: i32): i32 {
  const max = <i32>maxThreads();
  for (let tid = 0; tid < max; tid++) {
    const s = slot(tid);
    // Claims the slot: only one reserver can move it from FREE to ALIVE.
    if (cas32(s + T_STATE, THREAD_FREE, THREAD_ALIVE) == THREAD_FREE) {
      st32(s + T_KIND, kind);
      st32(s + T_IDENT, ident);
      astore32(s + T_STOP, 0);
      // threadFinish left the entries empty; a fresh layout has them zeroed.
      astore32(s + T_HELD_HWM, 0);
      // Makes the slot visible to writers' scans (only ever grows).
      while (true) {
        const used = threadsUsed();
        if (used > tid || cas32(hdr(H_THREADS_USED), used, tid + 1) == used) break;
      }
      return tid;
    }
  }
  return E_FULL;
}

/** Make this instance act as thread `tid` (a slot reserved for it). */
export function threadAttach(tid: i32): i32 {
  if (tid < 0 || tid >= <i32>maxThreads()) return E_BAD_STATE;
  if (aload32(slot(tid) + T_STATE) != THREAD_ALIVE) return E_BAD_STATE;
  selfTid = tid;
  selfOwner = ownerWordOf(tid);
  selfGenAddr = slot(tid) + T_GEN;
  selfGen = aload32(selfGenAddr) & OWNER_GEN_MASK;
  return OK;
}

export function ownerWordOf(tid: i32): i32 {
  const gen = aload32(slot(tid) + T_GEN) & OWNER_GEN_MASK;
  return (tid + 1) | (gen << OWNER_TID_BITS);
}

/** Whether the owner recorded in a lock word still runs. */
export function ownerAlive(word: i32): bool {
  const tid = (word & OWNER_TID_MASK) - 1;
  if (tid < 0 || tid >= <i32>maxThreads()) return false;
  const s = slot(tid);
  // Observes threadRelease: a released slot has a new generation.
  if (aload32(s + T_STATE) != THREAD_ALIVE) return false;
  return ((aload32(s + T_GEN) & OWNER_GEN_MASK) == ((word >> OWNER_TID_BITS) & OWNER_GEN_MASK));
}

export function threadState(tid: i32): i32 {
  if (tid < 0 || tid >= <i32>maxThreads()) return -1;
  return aload32(slot(tid) + T_STATE);
}
export function threadKind(tid: i32): i32 { return ld32(slot(tid) + T_KIND); }
export function threadIdent(tid: i32): i32 { return ld32(slot(tid) + T_IDENT); }

/** Ask a thread to stop: its bounded waits return E_STOPPED from now on. */
export function threadRequestStop(tid: i32): void {
  if (tid < 0 || tid >= <i32>maxThreads()) return;
  // Publishes the request; waiters re-check it after each bounded wait.
  astore32(slot(tid) + T_STOP, 1);
}

@inline export function selfStopRequested(): bool {
  return selfTid >= 0 && aload32(slot(selfTid) + T_STOP) != 0;
}

/**
 * Whether this thread has been declared gone while it still runs (a runtime that
 * cannot stop a thread lets it go on after the master recovered its locks). Such
 * a thread must not take locks any more: lock paths return E_STOPPED.
 */
@inline export function selfDeclaredDead(): bool {
  // One load on every lock path: the master gives the slot a new generation when it declares the
  // thread gone (threadQuarantine, threadFinish), so a changed generation is that declaration.
  return selfGenAddr != 0 && (aload32(selfGenAddr) & OWNER_GEN_MASK) != selfGen;
}

// ---- read holds (locks/lock.ts) ------------------------------------------------
// Only the owning thread writes its entries; other threads read them (writers
// scanning for readers). Each change that matters to them is one atomic store.

/**
 * Index of a free entry in this thread's read-hold list, or -1 when all
 * HELD_MAX are in use. The high-water mark covers the entry before it is used.
 */
export function holdFree(): i32 {
  if (selfTid < 0) return -1;
  const s = slot(selfTid);
  const hwm = ldu32(s + T_HELD_HWM);
  for (let i: u32 = 0; i < hwm; i++) if (ldu32(s + T_HELD + i * 4) == 0) return <i32>i;
  if (hwm >= HELD_MAX) return -1;
  // Publishes the wider scan range before the entry it covers can be set.
  astore32(s + T_HELD_HWM, <i32>(hwm + 1));
  return <i32>hwm;
}

/** Record (addr != 0) or drop (addr == 0) read hold `i` of this thread: the one step that takes or gives back a hold. */
@inline export function holdSet(i: i32, addr: usize): void {
  // Publishes the hold to writers (sequentially consistent: a writer that claimed the lock
  // before this store sees the entry; one that claims it after is seen by our re-check).
  astore32(slot(selfTid) + T_HELD + <u32>i * 4, <i32>addr);
}

/** Index of this thread's read hold on the rwlock at `addr`, or -1. */
export function holdFind(addr: usize): i32 {
  if (selfTid < 0) return -1;
  const s = slot(selfTid);
  const hwm = ldu32(s + T_HELD_HWM);
  for (let i: i32 = <i32>hwm - 1; i >= 0; i--) if (ldu32(s + T_HELD + <u32>i * 4) == <u32>addr) return i;
  return -1;
}

/**
 * Whether a live thread records a read hold on the rwlock at `addr`. A thread
 * that died (its slot freed or quarantined) holds nothing, whatever its entries
 * say: that is how a dead reader's hold goes away without any repair.
 */
export function readHeld(addr: usize): bool {
  const used = threadsUsed();
  for (let tid = 0; tid < used; tid++) {
    const s = slot(tid);
    // Observes each reader's entry stores (and their high-water mark, stored before them).
    if (aload32(s + T_STATE) != THREAD_ALIVE) continue;
    const hwm = <u32>aload32(s + T_HELD_HWM);
    for (let i: u32 = 0; i < hwm && i < HELD_MAX; i++) if (aload32(s + T_HELD + i * 4) == <i32>addr) return true;
  }
  return false;
}

/** Read holds recorded by thread `tid` (any state), for checks and stats. */
export function heldCount(tid: i32): u32 {
  if (tid < 0 || tid >= <i32>maxThreads()) return 0;
  const s = slot(tid);
  const hwm = ldu32(s + T_HELD_HWM);
  let n: u32 = 0;
  for (let i: u32 = 0; i < hwm && i < HELD_MAX; i++) if (ldu32(s + T_HELD + i * 4) != 0) n++;
  return n;
}

/**
 * The thread table's invariants: a free slot records no read hold, every
 * high-water mark is within HELD_MAX, no slot past threads_used was ever used.
 * OK or E_CORRUPT (its tests call it after killing threads).
 */
export function threadsCheck(): i32 {
  const max = <i32>maxThreads();
  const used = threadsUsed();
  if (used < 0 || used > max) return E_CORRUPT;
  for (let tid = 0; tid < max; tid++) {
    const s = slot(tid);
    const state = aload32(s + T_STATE);
    const hwm = ldu32(s + T_HELD_HWM);
    if (hwm > HELD_MAX) return E_CORRUPT;
    if (tid >= used && state != THREAD_FREE) return E_CORRUPT;
    if (state == THREAD_FREE && heldCount(tid) != 0) return E_CORRUPT;
  }
  return OK;
}

@inline function dropHolds(s: usize): void {
  for (let i: u32 = 0; i < HELD_MAX; i++) astore32(s + T_HELD + i * 4, 0);
  astore32(s + T_HELD_HWM, 0);
}

/**
 * The thread in slot `tid` is gone (exited, terminated, killed). The slot gets
 * a new generation, so every lock word naming the old owner reads as "owner
 * dead", and is freed; its read holds stop counting the moment it is not
 * alive, and are cleared here so the next thread starts with none.
 */
export function threadFinish(tid: i32): void {
  const s = slot(tid);
  // The thread is gone (the runtime confirmed it): nobody else writes these entries.
  dropHolds(s);
  atomic.add<i32>(s + T_GEN, 1);
  // Publishes the death: ownerAlive() of any word naming the old generation is now false.
  astore32(s + T_STATE, THREAD_FREE);
}

/**
 * The thread in slot `tid` was told to die but the runtime cannot confirm it is
 * gone (Deno cannot stop a worker that never yields). Its locks must pass on,
 * so the slot gets a new generation (every lock word naming it reads as "owner
 * dead"), but it is not freed: its scratch may still be written by the zombie.
 * threadFinish frees it once the runtime confirms the end.
 */
export function threadQuarantine(tid: i32): void {
  const s = slot(tid);
  atomic.add<i32>(s + T_GEN, 1);
  // Publishes the death for lock owners and writers (its read holds no longer count);
  // reservers skip a LOST slot. The zombie may still write its entries: threadFinish clears them.
  astore32(s + T_STATE, THREAD_LOST);
}

// ---- scratch ----------------------------------------------------------------

/** Start of this thread's scratch slot, where JS puts keys and values for the core. */
export function scratchPtr(): usize {
  return scratchBase + <usize>selfTid * <usize>scratchSize();
}
