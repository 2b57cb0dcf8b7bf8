// The shared queue (`--queue N`, `--queue-blocksize B`): uWSGI's ring of N
// fixed slots of B bytes each, every slot starting with a 16-byte header, so a
// message holds at most B-16 bytes. One region:
//
//  header (one line):
//  ┌───────┬───────────┬──────────────┬─────────┬──────────┬───────┐
//  │ slots │ blocksize │ rwlock (8 B) │ pos     │ pull_pos │ dirty │
//  │ +0    │ +4        │ +8           │ +16     │ +20      │ +24   │
//  └───────┴───────────┴──────────────┴─────────┴──────────┴───────┘
//  slot i, at LINE + i * blocksize:
//  ┌───────────┬──────────┬────────────┬────────────────────────────┐
//  │ size u32  │ reserved │ ts (8 B)   │ payload (blocksize-16 B)   │
//  │ +0        │ +4       │ +8         │ +16                        │
//  └───────────┴──────────┴────────────┴────────────────────────────┘
//
// `pos` is where the next push goes (and what pop walks back from); `pull_pos`
// is the FIFO read head. size 0 marks an empty slot; stored messages are never
// empty, so a read returns its length, and 0 means "nothing there" (None).
//
// Semantics follow uWSGI exactly, quirks included (push overwrites unread
// data, pop always moves `pos` back first). Writers run under the rwlock for
// writing, get/last under it for reading.
//
// Crash consistency: `dirty` is a one-entry journal. A writer records what it
// is about to do (the operation and slot i, as OP | i+1) before its first
// change and clears it after its last; if it dies in between, the next writer
// finishes or undoes that operation from the record alone, whatever step it
// died at: a push or set is undone (the slot is emptied and a push's `pos` put
// back), a pull or pop is finished (the slot is emptied and the head moved), so
// a half-written message is never returned, a message is never taken twice and
// the FIFO head never stops at a slot already taken. Readers treat the recorded
// slot as empty meanwhile.

import { E_BAD_STATE, E_BOUNDS, E_CORRUPT, OK, QUEUE_SLOT_HEADER, REGION_QUEUE } from "../kernel/abi";
import { LINE, ld32, ldu32, st32, stu32 } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { rwReadLock, rwReadUnlock, rwWriteLock, rwWriteUnlock } from "../locks/lock";

const Q_SLOTS: u32 = 0;
const Q_BLOCKSIZE: u32 = Q_SLOTS + 4;
const Q_LOCK: u32 = Q_BLOCKSIZE + 4;
const Q_POS: u32 = Q_LOCK + 8;
const Q_PULL_POS: u32 = Q_POS + 4;
const Q_DIRTY: u32 = Q_PULL_POS + 4;
const Q_RING: u32 = LINE;

// The journal's operations (bits 30..31 of `dirty`; bits 0..29 hold slot + 1).
const OP_SET: i32 = 0;
const OP_PUSH: i32 = 1 << 30;
const OP_PULL: i32 = 2 << 30;
const OP_POP: i32 = 3 << 30;
const OP_MASK: i32 = 3 << 30;

const S_SIZE: u32 = 0;
/** The payload follows the slot header (abi.ts QUEUE_SLOT_HEADER: uWSGI counts it in the blocksize). */
const S_PAYLOAD: u32 = QUEUE_SLOT_HEADER;
const SLOT_HEADER: u32 = S_PAYLOAD;

let q: usize = 0;

export function queueBytes(slots: u32, blocksize: u32): u32 { return Q_RING + slots * blocksize; }

export function queueInit(offset: u32, slots: u32, blocksize: u32): void {
  stu32(offset + Q_SLOTS, slots);
  stu32(offset + Q_BLOCKSIZE, blocksize);
}

export function queueBind(): void { q = regionOffset(REGION_QUEUE, 0); }

@inline function slots(): u32 { return ldu32(q + Q_SLOTS); }
@inline function capacity(): u32 { return ldu32(q + Q_BLOCKSIZE) - SLOT_HEADER; }
@inline function slotAt(i: u32): usize { return q + Q_RING + <usize>i * <usize>ldu32(q + Q_BLOCKSIZE); }

/** Slots in the ring, 0 without a queue. */
export function queueSlots(): u32 { return q == 0 ? 0 : slots(); }
/** Largest message a slot holds. */
export function queueCapacity(): u32 { return q == 0 ? 0 : capacity(); }

// ---- locking and repair ----------------------------------------------------------

function writeBegin(): i32 {
  const rc = rwWriteLock(q + Q_LOCK);
  if (rc < 0) return rc;
  const dirty = ld32(q + Q_DIRTY);
  // A writer died mid-operation: finish or undo it from the journal.
  if (dirty != 0) {
    const op = dirty & OP_MASK;
    const i = <u32>((dirty & ~OP_MASK) - 1);
    if (i < slots()) {
      stu32(slotAt(i) + S_SIZE, 0);
      if (op == OP_PUSH || op == OP_POP) stu32(q + Q_POS, i);
      else if (op == OP_PULL) stu32(q + Q_PULL_POS, (i + 1) % slots());
    }
    st32(q + Q_DIRTY, 0);
  }
  return rc;
}

@inline function writeEnd(): void { rwWriteUnlock(q + Q_LOCK); }

/** Record the operation about to change slot `i` (the journal), before its first store. */
@inline function journal(op: i32, i: u32): void { st32(q + Q_DIRTY, op | <i32>(i + 1)); }
/** The operation is complete: nothing to finish or undo. */
@inline function journalDone(): void { st32(q + Q_DIRTY, 0); }

/** Length of the message in slot `i` (0 when empty or the journal's slot: a dead writer's half-done change). */
@inline function sizeOf(i: u32): u32 {
  return (ld32(q + Q_DIRTY) & ~OP_MASK) == <i32>(i + 1) ? 0 : ldu32(slotAt(i) + S_SIZE);
}

function writeSlot(i: u32, src: usize, len: u32): void {
  const s = slotAt(i);
  memory.copy(s + S_PAYLOAD, src, len);
  stu32(s + S_SIZE, len);
}

/** Copy slot `i`'s message to `out` and return its length (0: none). */
function readSlot(i: u32, out: usize): u32 {
  const len = sizeOf(i);
  if (len != 0) memory.copy(out, slotAt(i) + S_PAYLOAD, len);
  return len;
}

// ---- operations ----------------------------------------------------------------
// Each returns a length or 1/0 for "done"/"refused" (uWSGI's True/None), or a
// negative status. Messages travel through the caller's scratch (src/out).

/** queue_push: write slot `pos` (whatever it holds) and advance `pos`. 1 pushed, 0 refused. */
export function queuePush(src: usize, len: u32): i32 {
  if (q == 0) return E_BAD_STATE;
  if (len == 0 || len > capacity()) return 0;
  const rc = writeBegin();
  if (rc < 0) return rc;
  const pos = ldu32(q + Q_POS);
  journal(OP_PUSH, pos);
  writeSlot(pos, src, len);
  stu32(q + Q_POS, (pos + 1) % slots());
  journalDone();
  writeEnd();
  return 1;
}

/**
 * queue_set: write slot `index` without moving either head. 1 written, 0 for an
 * index outside the ring or an empty message. A message longer than a slot is
 * E_BOUNDS: the caller decides, since uWSGI overwrote the next slot's header here.
 */
export function queueSet(index: f64, src: usize, len: u32): i32 {
  if (q == 0) return E_BAD_STATE;
  if (len == 0 || !(index >= 0 && index < <f64>slots())) return 0;
  if (len > capacity()) return E_BOUNDS;
  const rc = writeBegin();
  if (rc < 0) return rc;
  journal(OP_SET, <u32>index);
  writeSlot(<u32>index, src, len);
  journalDone();
  writeEnd();
  return 1;
}

/** queue_pull (FIFO): take slot `pull_pos` if it holds a message, and advance. Returns its length, 0 if empty. */
export function queuePull(out: usize): i32 {
  if (q == 0) return E_BAD_STATE;
  const rc = writeBegin();
  if (rc < 0) return rc;
  const at = ldu32(q + Q_PULL_POS);
  const len = readSlot(at, out);
  if (len != 0) {
    journal(OP_PULL, at);
    stu32(slotAt(at) + S_SIZE, 0);
    stu32(q + Q_PULL_POS, (at + 1) % slots());
    journalDone();
  }
  writeEnd();
  return <i32>len;
}

/** queue_pop (LIFO): move `pos` back (always, as uWSGI does), then take that slot if it holds a message. */
export function queuePop(out: usize): i32 {
  if (q == 0) return E_BAD_STATE;
  const rc = writeBegin();
  if (rc < 0) return rc;
  const n = slots();
  const at = (ldu32(q + Q_POS) + n - 1) % n;
  const len = readSlot(at, out);
  // uWSGI moves `pos` back even when the slot is empty; with a message the move and the take are one journaled step.
  if (len != 0) journal(OP_POP, at);
  stu32(q + Q_POS, at);
  if (len != 0) {
    stu32(slotAt(at) + S_SIZE, 0);
    journalDone();
  }
  writeEnd();
  return <i32>len;
}

/** Slots holding a message (stats: how full the ring is). Negative status when the lock cannot be had. */
export function queueUsed(): i32 {
  if (q == 0) return 0;
  const rc = rwReadLock(q + Q_LOCK);
  if (rc < 0) return rc;
  let n = 0;
  for (let i: u32 = 0; i < slots(); i++) if (sizeOf(i) != 0) n++;
  rwReadUnlock(q + Q_LOCK);
  return n;
}

/** queue_get: copy slot `index` without taking it. Length, 0 if empty or outside the ring. */
export function queueGet(index: f64, out: usize): i32 {
  if (q == 0) return E_BAD_STATE;
  if (!(index >= 0 && index < <f64>slots())) return 0;
  const rc = rwReadLock(q + Q_LOCK);
  if (rc < 0) return rc;
  const len = readSlot(<u32>index, out);
  rwReadUnlock(q + Q_LOCK);
  return <i32>len;
}

/**
 * queue_last: the messages of the slots before `pos`, newest first, from the
 * `skip`-th to the `n`-th, packed at `out` as [u32 length][payload] records
 * (length 0 for an empty slot). `n` is clamped to the ring size; records stop
 * when the next one would not fit in `room` bytes (the caller asks again with
 * a larger `skip`). Returns how many records were written.
 */
export function queueLast(skip: u32, n: u32, out: usize, room: u32): i32 {
  if (q == 0) return E_BAD_STATE;
  const rc = rwReadLock(q + Q_LOCK);
  if (rc < 0) return rc;
  const total = slots();
  if (n > total) n = total;
  let at = (ldu32(q + Q_POS) + total - skip % total) % total;
  let used: u32 = 0;
  let done: u32 = 0;
  for (let k = skip; k < n; k++, done++) {
    at = (at + total - 1) % total;
    const len = sizeOf(at);
    if (used + 4 + len > room) break;
    stu32(out + used, len);
    if (len != 0) memory.copy(out + used + 4, slotAt(at) + S_PAYLOAD, len);
    used += 4 + len;
  }
  rwReadUnlock(q + Q_LOCK);
  return <i32>done;
}

/**
 * The queue's invariants, for tests that kill writers: both heads inside the
 * ring, every slot's size within a slot, and no journal left once the lock is
 * free (a dead writer's record is resolved by the next writer, so a check
 * runs a writer's repair first). OK, E_CORRUPT, or E_BAD_STATE without a queue.
 */
export function queueCheck(): i32 {
  if (q == 0) return E_BAD_STATE;
  const rc = writeBegin();
  if (rc < 0) return rc;
  const n = slots();
  let ok = ldu32(q + Q_POS) < n && ldu32(q + Q_PULL_POS) < n && ld32(q + Q_DIRTY) == 0;
  for (let i: u32 = 0; i < n && ok; i++) ok = ldu32(slotAt(i) + S_SIZE) <= capacity();
  writeEnd();
  return ok ? OK : E_CORRUPT;
}

/** queue_slot: the push head. Read without the lock, as uWSGI does. */
export function queueSlot(): i32 { return q == 0 ? E_BAD_STATE : <i32>atomic.load<u32>(q + Q_POS); }
/** queue_pull_slot: the FIFO read head. */
export function queuePullSlot(): i32 { return q == 0 ? E_BAD_STATE : <i32>atomic.load<u32>(q + Q_PULL_POS); }
