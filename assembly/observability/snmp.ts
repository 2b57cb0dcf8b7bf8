// The SNMP user slots (uwsgi.snmp_set_counter32() & co.) and the agent's
// community string: region REGION_SNMP, always present (uWSGI keeps them in its
// shared area whether or not an agent runs).
//
//  ┌──────────────┬──────────────────────────────────┬──────────────────────────────┐
//  │ mutex (line) │ community: len u32 + 72 bytes    │ SLOTS × slot (16 bytes each) │
//  │ +0           │ +64                              │ +S_SLOTS                     │
//  └──────────────┴──────────────────────────────────┴──────────────────────────────┘
//  slot:
//  ┌──────────┬─────────┬──────────────┐
//  │ type u32 │ pad u32 │ value u64    │   type is the BER tag of the value's SNMP type
//  │ +0       │ +4      │ +8           │   (0 never set, 0x41 Counter32, 0x42 Gauge32, 0x46 Counter64)
//  └──────────┴─────────┴──────────────┘
//
// Every change runs under the region's robust mutex, so a type and its value
// change together. A change stores the value before the type; a thread killed
// between the two leaves a value that readers mask to the (old) type's width.
//
// Value rules, per type (SNMPv2-SMI, RFC 2578):
// - Counter32 / Counter64 count up and wrap modulo 2^32 / 2^64, as SNMP managers
//   expect of counters; decrementing below zero is refused (E_VALUE_RANGE).
// - Gauge32 holds 0..2^32-1; an increment or decrement that would leave that
//   range is refused (uWSGI wraps it silently).
// An operation of a 32-bit type acts on the low 32 bits of the stored value:
// the value a manager read under that type.

import {
  E_BAD_ID, E_VALUE_RANGE, OK, REGION_SNMP, SNMP_COMMUNITY_MAX as COMMUNITY_MAX, SNMP_OP_DECR as OP_DECR,
  SNMP_OP_INCR as OP_INCR, SNMP_OP_SET as OP_SET, SNMP_SLOTS, SNMP_TYPE_COUNTER32 as T_COUNTER32,
  SNMP_TYPE_COUNTER64 as T_COUNTER64, SNMP_TYPE_GAUGE32 as T_GAUGE32, SNMP_UNSET as T_UNSET,
} from "../kernel/abi";
import { LINE, ldu32, stu32, ld64, st64 } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { mutexLock, mutexUnlock } from "../locks/lock";

// Slot count, community length, types (T_*) and operations (OP_*) are abi.ts's SNMP_*.
const SNMP_COMMUNITY_MAX: u32 = COMMUNITY_MAX;

const S_MUTEX: u32 = 0;
const S_COMMUNITY_LEN: u32 = LINE;
const S_COMMUNITY: u32 = S_COMMUNITY_LEN + 4;
const S_SLOTS: u32 = LINE * 3; // community (4 + 72 bytes) fits in the two lines before
const SLOT_SIZE: u32 = 16;
const SL_TYPE: u32 = 0;
const SL_VALUE: u32 = 8;

const MASK32: u64 = 0xffffffff;

let base: usize = 0;

export function snmpBytes(): u32 { return S_SLOTS + <u32>SNMP_SLOTS * SLOT_SIZE; }
/** The region is zeroed memory: no community, every slot unset. */
export function snmpInit(offset: u32): void { stu32(<usize>offset + S_COMMUNITY_LEN, 0); }
export function snmpBind(): void { base = <usize>regionOffset(REGION_SNMP, 0); }

@inline function slotAddr(n: i32): usize { return base + S_SLOTS + <usize>(n - 1) * SLOT_SIZE; }
@inline function validSlot(n: i32): bool { return base != 0 && n >= 1 && n <= SNMP_SLOTS; }
@inline function is32(t: i32): bool { return t == T_COUNTER32 || t == T_GAUGE32; }

function lock(): i32 {
  const rc = mutexLock(base + S_MUTEX, -1);
  // OWNER_DIED is fine: a slot's value and type are each one store.
  return rc < 0 ? rc : OK;
}
@inline function unlock(): void { mutexUnlock(base + S_MUTEX); }

/**
 * Set, add to or subtract from slot `n` (1..100) as type `type`. The amount is
 * the u64 `hi:lo` (the caller checked it fits the type). Returns OK, E_BAD_ID
 * for a slot out of 1..100, E_VALUE_RANGE when the result would leave the
 * type's range (the slot is then unchanged), or a lock status.
 */
export function snmpOp(n: i32, type: i32, op: i32, lo: u32, hi: u32): i32 {
  if (!validSlot(n)) return E_BAD_ID;
  if (type != T_COUNTER32 && type != T_GAUGE32 && type != T_COUNTER64) return E_VALUE_RANGE;
  const amount: u64 = (<u64>hi << 32) | <u64>lo;
  if (is32(type) && amount > MASK32) return E_VALUE_RANGE;
  const rc = lock();
  if (rc < 0) return rc;
  const s = slotAddr(n);
  let cur = <u64>ld64(s + SL_VALUE);
  if (is32(type)) cur &= MASK32;
  let next: u64 = amount;
  let status = OK;
  if (op == OP_INCR) {
    next = cur + amount; // wraps modulo 2^64 for Counter64
    if (type == T_COUNTER32) next &= MASK32;
    else if (type == T_GAUGE32 && next > MASK32) status = E_VALUE_RANGE;
  } else if (op == OP_DECR) {
    if (amount > cur) status = E_VALUE_RANGE;
    next = cur - amount;
  } else if (op != OP_SET) {
    status = E_VALUE_RANGE;
  }
  if (status == OK) {
    st64(s + SL_VALUE, <i64>next);
    stu32(s + SL_TYPE, <u32>type);
  }
  unlock();
  return status;
}

/**
 * Slot `n`'s type (T_UNSET when never set) with its value written as a u64 at
 * `out`, masked to the type's width; E_BAD_ID for a slot out of 1..100.
 */
export function snmpGet(n: i32, out: usize): i32 {
  if (!validSlot(n)) return E_BAD_ID;
  const rc = lock();
  if (rc < 0) return rc;
  const s = slotAddr(n);
  const t = <i32>ldu32(s + SL_TYPE);
  let v = <u64>ld64(s + SL_VALUE);
  unlock();
  if (is32(t)) v &= MASK32;
  st64(out, t == T_UNSET ? 0 : <i64>v);
  return t;
}

/** Replace the community with the `len` bytes at `src` (0..72; 0: the agent answers nobody). */
export function snmpSetCommunity(src: usize, len: u32): i32 {
  if (base == 0) return E_BAD_ID;
  if (len > SNMP_COMMUNITY_MAX) return E_VALUE_RANGE;
  const rc = lock();
  if (rc < 0) return rc;
  memory.copy(base + S_COMMUNITY, src, len);
  stu32(base + S_COMMUNITY_LEN, len);
  unlock();
  return OK;
}

/** Copy the community to `out` (72 bytes of room); returns its length. */
export function snmpCommunity(out: usize): i32 {
  if (base == 0) return E_BAD_ID;
  const rc = lock();
  if (rc < 0) return rc;
  const len = ldu32(base + S_COMMUNITY_LEN);
  memory.copy(out, base + S_COMMUNITY, len);
  unlock();
  return <i32>len;
}
