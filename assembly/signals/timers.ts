// The master's scheduler state: timers in a binary min-heap keyed by deadline,
// the signal cron table and the file-monitor table. One region:
//
//  header (one line): heap size (u32, +0)
//  timer slots, at T_SLOTS: TIMER_SLOTS of TS_SIZE bytes
//  ┌───────┬─────┬──────┬────────────┬───────┬─────────────────┬─────────────────┐
//  │ state │ sig │ kind │ iterations │ fired │ interval ms f64 │ deadline ms f64 │
//  │ +0    │ +4  │ +8   │ +12        │ +16   │ +24             │ +32             │
//  └───────┴─────┴──────┴────────────┴───────┴─────────────────┴─────────────────┘
//  heap, at HEAP: TIMER_SLOTS u32 slot indices, heap[0] the earliest deadline
//  cron slots, at CRON: CRON_SLOTS of CS_SIZE bytes
//  ┌───────┬─────┬────────┬──────┬─────┬───────┬──────┬──────────────────┐
//  │ state │ sig │ minute │ hour │ day │ month │ week │ last job (s) f64 │
//  │ +0    │ +4  │ +8     │ +12  │ +16 │ +20   │ +24  │ +32              │
//  └───────┴─────┴────────┴──────┴─────┴───────┴──────┴──────────────────┘
//  monitor slots, at MON: MON_SLOTS of MS_SIZE bytes: state +0, sig +4, path length +8, path +16
//
// Any thread adds an entry: it claims a free slot (state FREE -> CLAIMED with
// its owner word), writes the fields and publishes it (READY). Only the master
// touches the heap: on its next pass it adopts READY slots (ACTIVE) and frees
// slots whose claimer died before publishing. So a thread killed while adding
// leaves no half-built heap, and the master never waits for another thread.
// add_timer timers use slots 0..63 and add_rb_timer timers 64..127: 64 of each,
// as uWSGI.

import {
  CRON_SLOTS as CRON_COUNT, E_BAD_ID, E_FULL, E_TIMER_ARG, MONITOR_PATH_MAX, MONITOR_SLOTS, REGION_TIMERS, SIGNAL_COUNT,
  TIMERS_PER_KIND as PER_KIND, TIMER_KIND_PLAIN, TIMER_KIND_RB,
} from "../kernel/abi";
import { LINE, aload32, astore32, cas32, ld32, ldu32, st32, stu32 } from "../kernel/mem";
import { OWNER_MASK, ownerAlive, regionOffset, selfOwner } from "../kernel/layout";

// Slot counts and limits are abi.ts's (JS names them in its messages), typed here for u32 arithmetic.
export const TIMERS_PER_KIND: u32 = PER_KIND;
export const TIMER_SLOTS: u32 = 2 * TIMERS_PER_KIND;
export const CRON_SLOTS: u32 = CRON_COUNT;
export const MON_SLOTS: u32 = MONITOR_SLOTS;
/** Longest monitored path, in bytes (uWSGI's limit). */
export const MON_PATH_MAX: u32 = MONITOR_PATH_MAX;
/** Largest signal number. */
const SIG_MAX: i32 = SIGNAL_COUNT - 1;

/** add_timer: fires every interval, forever. */
const KIND_TIMER: i32 = TIMER_KIND_PLAIN;
/** add_rb_timer: fires every interval, `iterations` times (0 = forever). */
const KIND_RB: i32 = TIMER_KIND_RB;

const FREE: i32 = 0;
const READY: i32 = 1;
const ACTIVE: i32 = 2;
const CLAIMED: i32 = 1 << 30;

const H_HEAP_SIZE: u32 = 0;

const TS_STATE: u32 = 0;
const TS_SIG: u32 = 4;
const TS_KIND: u32 = 8;
const TS_ITER: u32 = 12;
const TS_FIRED: u32 = 16;
const TS_INTERVAL: u32 = 24;
const TS_DEADLINE: u32 = 32;
const TS_SIZE: u32 = 48;

const CS_STATE: u32 = 0;
const CS_SIG: u32 = 4;
const CS_FIELDS: u32 = 8; // minute, hour, day, month, week: 5 i32
const CS_LAST: u32 = 32;
const CS_SIZE: u32 = 48;

const MS_STATE: u32 = 0;
const MS_SIG: u32 = 4;
const MS_LEN: u32 = 8;
const MS_PATH: u32 = 16;
const MS_SIZE: u32 = MS_PATH + 256;

const T_SLOTS: u32 = LINE;
const HEAP: u32 = T_SLOTS + TIMER_SLOTS * TS_SIZE;
const CRON: u32 = HEAP + TIMER_SLOTS * 4;
const MON: u32 = CRON + CRON_SLOTS * CS_SIZE;
const END: u32 = MON + MON_SLOTS * MS_SIZE;

let t: usize = 0;

export function timersBytes(): u32 { return END; }
export function timersBind(): void { t = regionOffset(REGION_TIMERS, 0); }

@inline function tslot(i: u32): usize { return t + T_SLOTS + i * TS_SIZE; }
@inline function cslot(i: u32): usize { return t + CRON + i * CS_SIZE; }
@inline function mslot(i: u32): usize { return t + MON + i * MS_SIZE; }
@inline function heapAt(i: u32): u32 { return ldu32(t + HEAP + i * 4); }
@inline function heapSet(i: u32, v: u32): void { stu32(t + HEAP + i * 4, v); }
@inline function deadline(slot: u32): f64 { return load<f64>(tslot(slot) + TS_DEADLINE); }

/** Claim a free slot among `count` slots of `stride` bytes from `base`; its index or -1. */
function claim(base: usize, count: u32, stride: u32): i32 {
  for (let i: u32 = 0; i < count; i++) {
    const p = base + i * stride;
    // Claims the slot for the caller; the owner word lets the master free it if the caller dies.
    if (aload32(p) == FREE && cas32(p, FREE, CLAIMED | selfOwner) == FREE) return <i32>i;
  }
  return -1;
}

/** Free a slot whose claimer died before publishing it (the master does this). */
@inline function reclaim(p: usize): void {
  const st = aload32(p);
  if ((st & CLAIMED) != 0 && !ownerAlive(st & OWNER_MASK)) cas32(p, st, FREE);
}

// ---- timers --------------------------------------------------------------------------

/**
 * Add a timer raising `sig` every `intervalMs`, first at `now + intervalMs`;
 * `iterations` firings (0: forever; add_timer timers always 0). Returns the
 * slot, E_FULL when 64 timers of that kind exist, E_TIMER_ARG for bad values.
 */
export function timerAdd(kind: i32, sig: i32, intervalMs: f64, iterations: i32, now: f64): i32 {
  if (t == 0) return E_FULL;
  if ((kind != KIND_TIMER && kind != KIND_RB) || sig < 0 || sig > SIG_MAX || !(intervalMs > 0) || !isFinite(intervalMs) || iterations < 0) return E_TIMER_ARG;
  const first: u32 = kind == KIND_TIMER ? 0 : TIMERS_PER_KIND;
  const i = claim(tslot(first), TIMERS_PER_KIND, TS_SIZE);
  if (i < 0) return E_FULL;
  const p = tslot(first + <u32>i);
  st32(p + TS_SIG, sig);
  st32(p + TS_KIND, kind);
  st32(p + TS_ITER, kind == KIND_TIMER ? 0 : iterations);
  st32(p + TS_FIRED, 0);
  store<f64>(p + TS_INTERVAL, intervalMs);
  store<f64>(p + TS_DEADLINE, now + intervalMs);
  // Publishes the fields above to the master.
  astore32(p + TS_STATE, READY);
  return <i32>(first + <u32>i);
}

@inline function before(a: u32, b: u32): bool {
  const da = deadline(a), db = deadline(b);
  return da < db || (da == db && a < b);
}

function siftUp(i: u32): void {
  const v = heapAt(i);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const pv = heapAt(parent);
    if (!before(v, pv)) break;
    heapSet(i, pv);
    i = parent;
  }
  heapSet(i, v);
}

function siftDown(i: u32): void {
  const n = ldu32(t + H_HEAP_SIZE);
  const v = heapAt(i);
  while (true) {
    const l: u32 = 2 * i + 1;
    if (l >= n) break;
    const r: u32 = l + 1;
    const c = r < n && before(heapAt(r), heapAt(l)) ? r : l;
    if (!before(heapAt(c), v)) break;
    heapSet(i, heapAt(c));
    i = c;
  }
  heapSet(i, v);
}

/** The master moves published timers into the heap and frees abandoned claims. */
function adoptTimers(): void {
  for (let i: u32 = 0; i < TIMER_SLOTS; i++) {
    const p = tslot(i);
    reclaim(p);
    // Observes the publication in timerAdd.
    if (aload32(p + TS_STATE) != READY) continue;
    const n = ldu32(t + H_HEAP_SIZE);
    heapSet(n, i);
    stu32(t + H_HEAP_SIZE, n + 1);
    siftUp(n);
    astore32(p + TS_STATE, ACTIVE);
  }
}

/**
 * Master only: fire every timer due at `now`, writing its signal number (i32)
 * at `out`, at most `room` of them. A timer late by several intervals fires
 * once and is rescheduled from now. Returns how many fired.
 */
export function timersDue(now: f64, out: usize, room: i32): i32 {
  if (t == 0) return 0;
  adoptTimers();
  let k = 0;
  while (k < room && ldu32(t + H_HEAP_SIZE) > 0) {
    const top = heapAt(0);
    const p = tslot(top);
    const d = deadline(top);
    if (d > now) break;
    store<i32>(out + <usize>k * 4, ld32(p + TS_SIG));
    k++;
    const fired = ld32(p + TS_FIRED) + 1;
    st32(p + TS_FIRED, fired);
    const iter = ld32(p + TS_ITER);
    if (iter > 0 && fired >= iter) {
      const n = ldu32(t + H_HEAP_SIZE) - 1;
      stu32(t + H_HEAP_SIZE, n);
      if (n > 0) { heapSet(0, heapAt(n)); siftDown(0); }
      // Frees the slot for the next add.
      astore32(p + TS_STATE, FREE);
      continue;
    }
    const interval = load<f64>(p + TS_INTERVAL);
    let next = d + interval;
    if (next <= now) next = now + interval;
    store<f64>(p + TS_DEADLINE, next);
    siftDown(0);
  }
  return k;
}

/** Master only: the earliest timer deadline (ms), or -1 when there is no timer. */
export function timersNext(): f64 {
  if (t == 0) return -1;
  adoptTimers();
  return ldu32(t + H_HEAP_SIZE) == 0 ? -1 : deadline(heapAt(0));
}

/** Timers of `kind` in use (published or active). */
export function timersCount(kind: i32): i32 {
  if (t == 0) return 0;
  const first: u32 = kind == KIND_TIMER ? 0 : TIMERS_PER_KIND;
  let n = 0;
  for (let i: u32 = 0; i < TIMERS_PER_KIND; i++) {
    const st = aload32(tslot(first + i) + TS_STATE);
    if (st == READY || st == ACTIVE) n++;
  }
  return n;
}

/** How many times the timer in `slot` fired (0 after it was freed and reused). */
export function timerFired(slot: u32): i32 { return t == 0 || slot >= TIMER_SLOTS ? 0 : ld32(tslot(slot) + TS_FIRED); }

/**
 * Describe timer `slot` (0..127) at `out` (abi.ts TIMER_INFO_BYTES: i32 signal,
 * kind, iterations, fired; f64 interval ms, next deadline ms) for the stats.
 * Returns 1 when the slot holds a timer (published or active), 0 when free,
 * E_BAD_ID outside the table.
 */
export function timerInfo(slot: u32, out: usize): i32 {
  if (t == 0 || slot >= TIMER_SLOTS) return E_BAD_ID;
  const p = tslot(slot);
  // Observes the publication in timerAdd (READY) or the master's adoption (ACTIVE).
  const st = aload32(p + TS_STATE);
  if (st != READY && st != ACTIVE) return 0;
  store<i32>(out, ld32(p + TS_SIG));
  store<i32>(out + 4, ld32(p + TS_KIND));
  store<i32>(out + 8, ld32(p + TS_ITER));
  store<i32>(out + 12, ld32(p + TS_FIRED));
  store<f64>(out + 16, load<f64>(p + TS_INTERVAL));
  store<f64>(out + 24, load<f64>(p + TS_DEADLINE));
  return 1;
}

// ---- cron ----------------------------------------------------------------------------

// Per field (minute, hour, day, month, weekday): smallest and largest value, and
// the largest N of "-N" (every N). Immutable static data, safe in every instance.
const FIELD_MIN: StaticArray<i32> = [0, 0, 1, 1, 0];
const FIELD_MAX: StaticArray<i32> = [59, 23, 31, 12, 7];
const FIELD_SPAN: StaticArray<i32> = [60, 24, 31, 12, 7];

/** Whether `v` is a valid value of cron field `f`: -1, -N (every N, N up to the field's span) or a value in range. */
export function cronFieldValid(f: i32, v: i32): bool {
  if (f < 0 || f > 4) return false;
  if (v >= 0) return v >= unchecked(FIELD_MIN[f]) && v <= unchecked(FIELD_MAX[f]);
  return -v <= unchecked(FIELD_SPAN[f]);
}

/** Add a signal cron entry. Returns its slot, E_FULL when 64 exist, E_TIMER_ARG for bad fields. */
export function cronAdd(sig: i32, minute: i32, hour: i32, day: i32, month: i32, week: i32): i32 {
  if (t == 0) return E_FULL;
  if (sig < 0 || sig > SIG_MAX || !cronFieldValid(0, minute) || !cronFieldValid(1, hour) || !cronFieldValid(2, day) ||
    !cronFieldValid(3, month) || !cronFieldValid(4, week)) return E_TIMER_ARG;
  const i = claim(cslot(0), CRON_SLOTS, CS_SIZE);
  if (i < 0) return E_FULL;
  const p = cslot(<u32>i);
  st32(p + CS_SIG, sig);
  st32(p + CS_FIELDS, minute);
  st32(p + CS_FIELDS + 4, hour);
  st32(p + CS_FIELDS + 8, day);
  st32(p + CS_FIELDS + 12, month);
  st32(p + CS_FIELDS + 16, week);
  store<f64>(p + CS_LAST, 0);
  // Publishes the entry above to the master.
  astore32(p + CS_STATE, READY);
  return i;
}

/** uWSGI's per-field rule: -N matches when the value is a multiple of N (-1: always), else equality. */
@inline function fieldMatches(spec: i32, value: i32): bool {
  return spec < 0 ? value % -spec == 0 : spec == value;
}

/**
 * uWSGI's cron match for local time (minute, hour, day of month, month 1..12,
 * weekday 0..6 with Sunday 0; 7 in an entry also means Sunday): when both day
 * and weekday are >= 0 they are ORed, otherwise every field must match.
 */
export function cronMatches(minute: i32, hour: i32, day: i32, month: i32, week: i32,
  tmMin: i32, tmHour: i32, tmMday: i32, tmMon: i32, tmWday: i32): bool {
  const w = week == 7 ? 0 : week;
  const common = fieldMatches(minute, tmMin) && fieldMatches(hour, tmHour) && fieldMatches(month, tmMon);
  if (!common) return false;
  if (day >= 0 && week >= 0) return day == tmMday || w == tmWday;
  return fieldMatches(day, tmMday) && fieldMatches(w, tmWday);
}

/**
 * Master only: at unix time `nowSec` (whole seconds) with that local time,
 * write the signal (i32) of every entry that matches and did not fire in the
 * last 60 seconds at `out` (at most `room`), as uWSGI's master does on each of
 * its loop iterations. Returns how many fired.
 */
export function cronDue(nowSec: f64, tmMin: i32, tmHour: i32, tmMday: i32, tmMon: i32, tmWday: i32, out: usize, room: i32): i32 {
  if (t == 0) return 0;
  let k = 0;
  for (let i: u32 = 0; i < CRON_SLOTS && k < room; i++) {
    const p = cslot(i);
    reclaim(p);
    // Observes the publication in cronAdd.
    const st = aload32(p + CS_STATE);
    if (st == READY) astore32(p + CS_STATE, ACTIVE);
    else if (st != ACTIVE) continue;
    if (!cronMatches(ld32(p + CS_FIELDS), ld32(p + CS_FIELDS + 4), ld32(p + CS_FIELDS + 8), ld32(p + CS_FIELDS + 12),
      ld32(p + CS_FIELDS + 16), tmMin, tmHour, tmMday, tmMon, tmWday)) continue;
    if (nowSec - load<f64>(p + CS_LAST) < 60) continue;
    store<f64>(p + CS_LAST, nowSec);
    store<i32>(out + <usize>k * 4, ld32(p + CS_SIG));
    k++;
  }
  return k;
}

/**
 * Describe cron entry `slot` (0..63) at `out` (abi.ts CRON_INFO_BYTES: i32
 * signal, minute, hour, day, month, weekday; f64 last firing in unix seconds).
 * Returns 1 for an entry in use, 0 for a free slot, E_BAD_ID outside the table.
 */
export function cronInfo(slot: u32, out: usize): i32 {
  if (t == 0 || slot >= CRON_SLOTS) return E_BAD_ID;
  const p = cslot(slot);
  // Observes the publication in cronAdd.
  const st = aload32(p + CS_STATE);
  if (st != READY && st != ACTIVE) return 0;
  store<i32>(out, ld32(p + CS_SIG));
  for (let f: u32 = 0; f < 5; f++) store<i32>(out + 4 + f * 4, ld32(p + CS_FIELDS + f * 4));
  store<f64>(out + 24, load<f64>(p + CS_LAST));
  return 1;
}

/** Cron entries in use. */
export function cronCount(): i32 {
  if (t == 0) return 0;
  let n = 0;
  for (let i: u32 = 0; i < CRON_SLOTS; i++) {
    const st = aload32(cslot(i) + CS_STATE);
    if (st == READY || st == ACTIVE) n++;
  }
  return n;
}

// ---- file monitors -------------------------------------------------------------------

/** Add a file monitor raising `sig`; the path (`len` bytes) is at `src`. Its slot, or E_FULL / E_TIMER_ARG. */
export function monitorAdd(sig: i32, src: usize, len: u32): i32 {
  if (t == 0) return E_FULL;
  if (sig < 0 || sig > SIG_MAX || len == 0 || len > MON_PATH_MAX) return E_TIMER_ARG;
  const i = claim(mslot(0), MON_SLOTS, MS_SIZE);
  if (i < 0) return E_FULL;
  const p = mslot(<u32>i);
  st32(p + MS_SIG, sig);
  stu32(p + MS_LEN, len);
  memory.copy(p + MS_PATH, src, len);
  // Publishes the entry above to the master.
  astore32(p + MS_STATE, READY);
  return i;
}

/** Master only: take the next published monitor (now watched): its slot, or -1. */
export function monitorTake(): i32 {
  if (t == 0) return -1;
  for (let i: u32 = 0; i < MON_SLOTS; i++) {
    const p = mslot(i);
    reclaim(p);
    // Observes the publication in monitorAdd.
    if (aload32(p + MS_STATE) == READY) { astore32(p + MS_STATE, ACTIVE); return <i32>i; }
  }
  return -1;
}

export function monitorSig(i: u32): i32 { return t == 0 || i >= MON_SLOTS ? -1 : ld32(mslot(i) + MS_SIG); }

/** Copy monitor `i`'s path to `out`; its length. */
export function monitorPath(i: u32, out: usize): i32 {
  if (t == 0 || i >= MON_SLOTS) return -1;
  const p = mslot(i);
  const len = ldu32(p + MS_LEN);
  memory.copy(out, p + MS_PATH, len);
  return <i32>len;
}

/** Master only: forget monitor `i` (its watch could not be set up), freeing the slot. */
export function monitorDrop(i: u32): void { if (t != 0 && i < MON_SLOTS) astore32(mslot(i) + MS_STATE, FREE); }
