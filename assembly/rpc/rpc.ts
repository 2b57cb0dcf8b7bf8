// Local RPC: the registry of functions (`--rpc-max`, default 64) shared by
// every thread, and one mailbox per thread slot through which a call and its
// result travel to and from the thread that registered the function. One region:
//
//  ┌────────────┬─────────────────────────┬────────────────────────────────┐
//  │ header     │ entries (max × ENTRY)   │ mailboxes (threads × MAILBOX)   │
//  └────────────┴─────────────────────────┴────────────────────────────────┘
//  header (one line): max u32 +0 | mutex +4 | mailboxes offset +8 | mailbox count +12
//  entry:
//  ┌────────────┬──────────┬──────┬──────────┬─────────────────────┐
//  │ owner word │ name_len │ argc │ reserved │ name (NAME_MAX B)   │
//  │ +0         │ +4       │ +8   │ +12      │ +16                 │
//  └────────────┴──────────┴──────┴──────────┴─────────────────────┘
//  An entry is in use while its owner word names a running thread (layout.ts
//  ownerAlive): a thread that dies frees its entries without anyone's help.
//  The name is written before the owner word, so an entry is never in use with
//  half a name; replacing a function is one store of the owner word.
//
//  mailbox (the JS side, ts/rpc/rpc.ts, drives it with Atomics):
//  ┌───────┬────────┬───────┬──────┬─────┬────────┬──────┬───────────────────┐
//  │ state │ target │ entry │ argc │ len │ result │ bell │ data (DATA bytes) │
//  │ +0    │ +4     │ +8    │ +12  │ +16 │ +20    │ +24  │ +64               │
//  └───────┴────────┴───────┴──────┴─────┴────────┴──────┴───────────────────┘
//  A caller writes its request in its own mailbox and rings the owner's bell;
//  the owner answers in the caller's mailbox.
//
// Registry updates and lookups run under one robust mutex.

import { E_BAD_ID, E_BOUNDS, E_FULL, REGION_RPC, RPC_MAILBOX_BYTES, RPC_MB_DATA, RPC_NAME_MAX } from "../kernel/abi";
import { LINE, ld32, ldu32, st32, stu32 } from "../kernel/mem";
import { OWNER_MASK, OWNER_TID_MASK, ownerAlive, regionOffset, selfOwner } from "../kernel/layout";
import { mutexLock, mutexUnlock } from "../locks/lock";

const H_MAX: u32 = 0;
const H_MUTEX: u32 = H_MAX + 4;
const H_MAILBOXES: u32 = H_MUTEX + 4;
const H_MAILBOX_COUNT: u32 = H_MAILBOXES + 4;
const H_ENTRIES: u32 = LINE;

/** Longest function name, in bytes (uWSGI refuses 256 and more; abi.ts RPC_NAME_MAX). */
export const NAME_MAX: u32 = RPC_NAME_MAX;
const E_OWNER: u32 = 0;
const E_NAME_LEN: u32 = 4;
const E_ARGC: u32 = 8;
const E_NAME: u32 = 16;
const ENTRY: u32 = 320;

// A mailbox's size and word offsets are abi.ts's (RPC_MAILBOX_BYTES, RPC_MB_*): JS drives them.
const MAILBOX: u32 = RPC_MAILBOX_BYTES;
const M_DATA: u32 = RPC_MB_DATA;
/** Bytes a call's packed arguments, or its result, may take. */
export const MAILBOX_DATA: u32 = MAILBOX - M_DATA;

let r: usize = 0;

export function rpcBytes(max: u32, threads: u32): u32 { return H_ENTRIES + max * ENTRY + threads * MAILBOX; }

export function rpcInit(offset: u32, max: u32, threads: u32): void {
  stu32(offset + H_MAX, max);
  stu32(offset + H_MAILBOXES, H_ENTRIES + max * ENTRY);
  stu32(offset + H_MAILBOX_COUNT, threads);
}

export function rpcBind(): void { r = regionOffset(REGION_RPC, 0); }

@inline function entry(i: u32): usize { return r + H_ENTRIES + <usize>i * ENTRY; }
@inline function inUse(e: usize): bool {
  const w = ld32(e + E_OWNER);
  return w != 0 && ownerAlive(w & OWNER_MASK);
}

function nameIs(e: usize, name: usize, len: u32): bool {
  if (ldu32(e + E_NAME_LEN) != len) return false;
  return memory.compare(e + E_NAME, name, len) == 0;
}

/** Capacity of the registry (0 without one). */
export function rpcMax(): u32 { return r == 0 ? 0 : ldu32(r + H_MAX); }

/**
 * Register (or take over) `name` for the calling thread. Returns the entry
 * index, E_BOUNDS for a name over NAME_MAX bytes or empty, E_FULL when no entry is free.
 */
export function rpcRegister(name: usize, len: u32, argc: u32): i32 {
  if (r == 0) return E_FULL;
  if (len == 0 || len > NAME_MAX) return E_BOUNDS;
  const rc = mutexLock(r + H_MUTEX, -1);
  if (rc < 0) return rc;
  const max = ldu32(r + H_MAX);
  let free: i32 = -1;
  let found: i32 = -1;
  for (let i: u32 = 0; i < max; i++) {
    const e = entry(i);
    if (!inUse(e)) { if (free < 0) free = <i32>i; continue; }
    if (nameIs(e, name, len)) { found = <i32>i; break; }
  }
  let at = found;
  if (at < 0 && free >= 0) {
    at = free;
    const e = entry(<u32>at);
    st32(e + E_OWNER, 0);
    memory.copy(e + E_NAME, name, len);
    stu32(e + E_NAME_LEN, len);
  }
  if (at >= 0) {
    const e = entry(<u32>at);
    stu32(e + E_ARGC, argc);
    // Publishes the entry (its name is already in place) under the new owner.
    atomic.store<i32>(e + E_OWNER, selfOwner);
  }
  mutexUnlock(r + H_MUTEX);
  return at >= 0 ? at : E_FULL;
}

/** Entry index of a registered `name`, or E_BAD_ID. */
export function rpcLookup(name: usize, len: u32): i32 {
  if (r == 0 || len == 0 || len > NAME_MAX) return E_BAD_ID;
  const rc = mutexLock(r + H_MUTEX, -1);
  if (rc < 0) return rc;
  const max = ldu32(r + H_MAX);
  let found: i32 = E_BAD_ID;
  for (let i: u32 = 0; i < max; i++) {
    const e = entry(i);
    if (inUse(e) && nameIs(e, name, len)) { found = <i32>i; break; }
  }
  mutexUnlock(r + H_MUTEX);
  return found;
}

/** Thread slot of entry `i`'s owner, or -1 when the entry is free (or its owner died). */
export function rpcOwnerTid(i: u32): i32 {
  if (r == 0 || i >= ldu32(r + H_MAX)) return -1;
  const e = entry(i);
  // Observes the owner word rpcRegister published.
  const w = atomic.load<i32>(e + E_OWNER);
  return w != 0 && ownerAlive(w & OWNER_MASK) ? (w & OWNER_TID_MASK) - 1 : -1;
}

/** Whether the calling thread owns entry `i` (a request for a replaced function is refused). */
export function rpcOwnedBySelf(i: u32): bool {
  return r != 0 && i < ldu32(r + H_MAX) && (atomic.load<i32>(entry(i) + E_OWNER) & OWNER_MASK) == selfOwner;
}

/** Copy entry `i`'s name to `out`; its length, or 0 when the entry is free. */
export function rpcName(i: u32, out: usize): i32 {
  if (r == 0 || i >= ldu32(r + H_MAX)) return 0;
  const rc = mutexLock(r + H_MUTEX, -1);
  if (rc < 0) return rc;
  const e = entry(i);
  let len: u32 = 0;
  if (inUse(e)) {
    len = ldu32(e + E_NAME_LEN);
    memory.copy(out, e + E_NAME, len);
  }
  mutexUnlock(r + H_MUTEX);
  return <i32>len;
}

/** Address of thread `tid`'s mailbox, or 0. */
export function rpcMailbox(tid: i32): usize {
  if (r == 0 || tid < 0 || <u32>tid >= ldu32(r + H_MAILBOX_COUNT)) return 0;
  return r + <usize>ldu32(r + H_MAILBOXES) + <usize>tid * MAILBOX;
}

export function rpcMailboxData(): u32 { return MAILBOX_DATA; }
