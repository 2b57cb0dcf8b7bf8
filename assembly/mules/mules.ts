// Mule mailboxes (`--mules`, `--mule`, `--farm`): one bounded ring of message
// slots per channel. Channel 0 is the queue every mule reads, channels 1..M are
// the mules' own, the farms' follow in option order (ts/mules/mules.ts numbers them).
// One region:
//
//  header (one line):
//  ┌──────────┬───────┬─────────┬────────┬─────────┬─────────┐
//  │ channels │ slots │ payload │ stride │ ids     │ max ids │   stride: bytes per slot, header included
//  │ +0       │ +4    │ +8      │ +12    │ +16     │ +20     │
//  └──────────┴───────┴─────────┴────────┴─────────┴─────────┘
//  ids: mule ids in use (1..ids): the configured mules, then those started at run
//  time (mule_spawn), each claiming the next id; max ids: the ids that have a mailbox.
//  channel c, at LINE + c * (LINE + slots * stride):
//  ┌───────┬──────┬──────┬──────┬──────────────────────────────────┐
//  │ mutex │ head │ tail │ bell │ slot 0 | slot 1 | ... (from LINE) │
//  │ +0    │ +4   │ +8   │ +12  │                                  │
//  └───────┴──────┴──────┴──────┴──────────────────────────────────┘
//  slot: len u32 +0 | payload from +S_PAYLOAD
//
// head and tail count messages taken and put since the start (u32, wrapping);
// tail - head is how many wait. A push writes the slot and then commits with
// one store of tail; a pull copies the slot out and then commits with one store
// of head. So a thread that dies inside either leaves the ring as it was before
// (or after) its operation, never in between, and the robust mutex passes on.
// `bell` is a counter the JS side rings (ts/mules/mules.ts) when a message arrives
// for a mule; only the mule's own channel's bell is used.

import { E_BAD_ID, E_BOUNDS, E_EMPTY, E_FULL, OK, REGION_MULES } from "../kernel/abi";
import { LINE, alignUp, aload32, astore32, cas32, ldu32, stu32 } from "../kernel/mem";
import { regionOffset } from "../kernel/layout";
import { mutexLock, mutexUnlock } from "../locks/lock";

const H_CHANNELS: u32 = 0;
const H_SLOTS: u32 = H_CHANNELS + 4;
const H_PAYLOAD: u32 = H_SLOTS + 4;
const H_STRIDE: u32 = H_PAYLOAD + 4;
const H_IDS: u32 = H_STRIDE + 4;
const H_MAX_IDS: u32 = H_IDS + 4;

const C_MUTEX: u32 = 0;
const C_HEAD: u32 = C_MUTEX + 4;
const C_TAIL: u32 = C_HEAD + 4;
const C_BELL: u32 = C_TAIL + 4;
const C_SLOTS: u32 = LINE;

const S_LEN: u32 = 0;
const S_PAYLOAD: u32 = 8;

let m: usize = 0;

@inline function strideFor(payload: u32): u32 { return alignUp(S_PAYLOAD + payload, LINE); }
@inline function channelBytes(slots: u32, payload: u32): u32 { return C_SLOTS + slots * strideFor(payload); }

export function mulesBytes(channels: u32, slots: u32, payload: u32): u32 {
  return LINE + channels * channelBytes(slots, payload);
}

export function mulesInit(offset: u32, channels: u32, slots: u32, payload: u32): void {
  stu32(offset + H_CHANNELS, channels);
  stu32(offset + H_SLOTS, slots);
  stu32(offset + H_PAYLOAD, payload);
  stu32(offset + H_STRIDE, strideFor(payload));
}

export function mulesBind(): void { m = regionOffset(REGION_MULES, 0); }

/** Set the mule ids (master, once, after mulesInit): `inUse` configured mules, mailboxes for `max`. */
export function muleIdsInit(offset: u32, inUse: u32, max: u32): void {
  stu32(offset + H_IDS, inUse);
  stu32(offset + H_MAX_IDS, max);
}

/** Mule ids in use: 1..this have a mule (configured, or claimed by muleClaimId). */
export function muleIds(): i32 { return m == 0 ? 0 : aload32(m + H_IDS); }
/** Mule ids the region has mailboxes for. */
export function muleIdsMax(): i32 { return m == 0 ? 0 : ldu32(m + H_MAX_IDS); }

/** Claim the next mule id for a mule started at run time; E_FULL when every id with a mailbox is taken. */
export function muleClaimId(): i32 {
  if (m == 0) return E_FULL;
  const max = <i32>ldu32(m + H_MAX_IDS);
  while (true) {
    const n = aload32(m + H_IDS);
    if (n >= max) return E_FULL;
    // Publishes the new id to every thread (mule_msg accepts it from now on); a lost race tries the next.
    if (cas32(m + H_IDS, n, n + 1) == n) return n + 1;
  }
  return E_FULL;
}

@inline function channels(): u32 { return m == 0 ? 0 : ldu32(m + H_CHANNELS); }
@inline function slots(): u32 { return ldu32(m + H_SLOTS); }
@inline function stride(): u32 { return ldu32(m + H_STRIDE); }
@inline function channel(c: u32): usize { return m + LINE + <usize>c * <usize>(C_SLOTS + slots() * stride()); }
@inline function slotAt(ch: usize, n: u32): usize { return ch + C_SLOTS + <usize>(n % slots()) * <usize>stride(); }

/** Channels in the region (0 without mules). */
export function muleChannels(): u32 { return channels(); }
/** Largest message a slot holds. */
export function mulePayload(): u32 { return m == 0 ? 0 : ldu32(m + H_PAYLOAD); }
/** Slots per channel. */
export function muleSlots(): u32 { return m == 0 ? 0 : slots(); }

/** Address of channel `c`'s bell word, or 0. */
export function muleBell(c: u32): usize { return c < channels() ? channel(c) + C_BELL : 0; }

/** Messages waiting in channel `c`. */
export function muleWaiting(c: u32): i32 {
  if (c >= channels()) return E_BAD_ID;
  const ch = channel(c);
  // Observes the commits of push (tail) and pull (head).
  return aload32(ch + C_TAIL) - aload32(ch + C_HEAD);
}

/** Put `len` bytes at `src` in channel `c`. OK, E_FULL when every slot waits, E_BOUNDS when too long. */
export function mulePush(c: u32, src: usize, len: u32): i32 {
  if (c >= channels()) return E_BAD_ID;
  if (len > ldu32(m + H_PAYLOAD)) return E_BOUNDS;
  const ch = channel(c);
  const rc = mutexLock(ch + C_MUTEX, -1);
  if (rc < 0) return rc;
  const head = ldu32(ch + C_HEAD);
  const tail = ldu32(ch + C_TAIL);
  let out = OK;
  if (tail - head >= slots()) out = E_FULL;
  else {
    const s = slotAt(ch, tail);
    memory.copy(s + S_PAYLOAD, src, len);
    stu32(s + S_LEN, len);
    // Commits the message written above: pullers see it once tail moves.
    astore32(ch + C_TAIL, <i32>(tail + 1));
  }
  mutexUnlock(ch + C_MUTEX);
  return out;
}

/**
 * Take the oldest message of channel `c` into `out` (`room` bytes). Its length,
 * E_EMPTY when none waits, or E_BOUNDS (nothing taken) when it is longer than `room`.
 */
export function mulePull(c: u32, out: usize, room: u32): i32 {
  if (c >= channels()) return E_BAD_ID;
  const ch = channel(c);
  // Cheap look first: most polls of an idle channel take no lock.
  if (aload32(ch + C_TAIL) == aload32(ch + C_HEAD)) return E_EMPTY;
  const rc = mutexLock(ch + C_MUTEX, -1);
  if (rc < 0) return rc;
  const head = ldu32(ch + C_HEAD);
  let res: i32 = E_EMPTY;
  if (ldu32(ch + C_TAIL) != head) {
    const s = slotAt(ch, head);
    const len = ldu32(s + S_LEN);
    if (len > room) res = E_BOUNDS;
    else {
      memory.copy(out, s + S_PAYLOAD, len);
      // Commits the take: the slot is free for the next push.
      astore32(ch + C_HEAD, <i32>(head + 1));
      res = <i32>len;
    }
  }
  mutexUnlock(ch + C_MUTEX);
  return res;
}

/** Length of the oldest message waiting in channel `c`, or E_EMPTY. */
export function mulePeekLen(c: u32): i32 {
  if (c >= channels()) return E_BAD_ID;
  const ch = channel(c);
  const rc = mutexLock(ch + C_MUTEX, -1);
  if (rc < 0) return rc;
  const head = ldu32(ch + C_HEAD);
  const res: i32 = ldu32(ch + C_TAIL) == head ? E_EMPTY : <i32>ldu32(slotAt(ch, head) + S_LEN);
  mutexUnlock(ch + C_MUTEX);
  return res;
}
