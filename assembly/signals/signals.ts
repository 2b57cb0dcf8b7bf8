// uWSGI signals (0..255, unrelated to POSIX signals): the shared signal table,
// the master's routing inbox and one mailbox per thread slot. One region:
//
//  header (one line):
//  ┌───────┬─────────┬─────────────┬──────────────┬────────────┐
//  │ mutex │ threads │ route bell  │ route cursor │ master tid │
//  │ +0    │ +4      │ +8          │ +12          │ +16        │
//  └───────┴─────────┴─────────────┴──────────────┴────────────┘
//  table, at LINE: 256 entries of E_SIZE bytes
//  ┌───────┬─────────────┬────────────┬────────────┐
//  │ state │ target kind │ target arg │ registrant │   registrant: thread kind + 1
//  │ +0    │ +4          │ +8         │ +12        │
//  └───────┴─────────────┴────────────┴────────────┘
//  route inbox, at ROUTE: 256 pending counters (u32): signals the master routes
//  to "the first available" thread of a group (worker, mule, farm, spooler)
//  counters, at COUNTS: per signal, raised / delivered / lost (u32 each, abi.ts
//  SIG_COUNT_*), only ever added to, for the stats server
//  mailboxes, at MAILBOXES: one of MB_SIZE bytes per thread slot
//  ┌──────┬─────────┬──────┬─────────┬───────────┬──────────────────┬────────────────────┐
//  │ bell │ handled │ busy │ waiting │ listening │ handlers (256 b) │ pending[256] (u32) │
//  │ +0   │ +4      │ +8   │ +12     │ +16       │ +64              │ +128               │
//  └──────┴─────────┴──────┴─────────┴───────────┴──────────────────┴────────────────────┘
//
// A signal is a count, not a message: a sender adds 1 to pending[num] of the
// receiver and rings its bell; the receiver swaps every non-zero counter to 0
// and runs the handler that many times. So senders never wait, a mailbox
// never fills, and a thread killed half-way through a send or a drain leaves
// every counter consistent (at worst one signal is lost with its thread).
// `bell` counts rings (JS waits on it with Atomics.waitAsync); `handled`,
// `busy`, `waiting` and `listening` are written by the owning thread only and
// read by the master to pick "the first available" receiver.

import {
  E_BAD_ID, E_SIG_ARG, E_SIG_MASTER_OWNED, KIND_MASTER, OK, REGION_SIGNALS, SIGNAL_COUNT, SIG_COUNT_DELIVERED, SIG_MB_BELL, SIG_MB_BUSY,
  SIG_MB_HANDLED, SIG_MB_LISTENING, SIG_MB_WAITING, TARGET_NONE as T_NONE, TARGET_SPOOLER, TARGET_WORKER_ANY,
  THREAD_ALIVE,
} from "../kernel/abi";
import { LINE, alignUp, aload32, astore32, ldu32, stu32 } from "../kernel/mem";
import { regionOffset, selfTid, threadIdent, threadKind, threadState, maxThreads } from "../kernel/layout";
import { mutexLock, mutexUnlock } from "../locks/lock";

/** Signals 0..255, as uWSGI (abi.ts SIGNAL_COUNT). */
export const SIGNALS: u32 = SIGNAL_COUNT;

// Target kinds are abi.ts TARGET_*: the core knows WORKER_ANY (the first) to SPOOLER (the last).
const T_FIRST: i32 = TARGET_WORKER_ANY;
const T_LAST: i32 = TARGET_SPOOLER;

const H_MUTEX: u32 = 0;
const H_THREADS: u32 = H_MUTEX + 4;
const H_ROUTE_BELL: u32 = H_THREADS + 4;
const H_CURSOR: u32 = H_ROUTE_BELL + 4;
const H_MASTER: u32 = H_CURSOR + 4;

const E_STATE: u32 = 0;
const E_KIND: u32 = E_STATE + 4;
const E_ARG: u32 = E_KIND + 4;
const E_REGISTRANT: u32 = E_ARG + 4;
const E_SIZE: u32 = 16;

const TABLE: u32 = LINE;
const ROUTE: u32 = TABLE + SIGNALS * E_SIZE;
const COUNTS: u32 = ROUTE + SIGNALS * 4;
const COUNT_KINDS: u32 = 3;
const MAILBOXES: u32 = alignUp(COUNTS + SIGNALS * COUNT_KINDS * 4, LINE);

// The words JS reads and writes are abi.ts SIG_MB_*.
const MB_BELL: u32 = SIG_MB_BELL;
const MB_HANDLED: u32 = SIG_MB_HANDLED;
const MB_BUSY: u32 = SIG_MB_BUSY;
const MB_WAITING: u32 = SIG_MB_WAITING;
const MB_LISTENING: u32 = SIG_MB_LISTENING;
const MB_HANDLERS: u32 = 64;
const MB_PENDING: u32 = 128;
export const MB_SIZE: u32 = MB_PENDING + SIGNALS * 4;

let s: usize = 0;

export function sigBytes(threads: u32): u32 { return MAILBOXES + threads * MB_SIZE; }

export function sigInit(offset: u32, threads: u32): void {
  stu32(offset + H_THREADS, threads);
  stu32(offset + H_MASTER, <u32>-1);
}

export function sigBind(): void { s = regionOffset(REGION_SIGNALS, 0); }

@inline function entry(num: u32): usize { return s + TABLE + num * E_SIZE; }
@inline function threads(): u32 { return ldu32(s + H_THREADS); }
@inline export function mailbox(tid: i32): usize { return s + MAILBOXES + <usize>tid * MB_SIZE; }
@inline function pending(tid: i32, num: u32): usize { return mailbox(tid) + MB_PENDING + num * 4; }
@inline function validTid(tid: i32): bool { return s != 0 && tid >= 0 && <u32>tid < threads(); }

/** Address of thread `tid`'s mailbox (JS reads and writes its flag words), or 0. */
export function sigMailbox(tid: i32): usize { return validTid(tid) ? mailbox(tid) : 0; }
/** Address of the master's routing bell, or 0 without the region. */
export function sigRouteBell(): usize { return s == 0 ? 0 : s + H_ROUTE_BELL; }

/**
 * Register signal `num` for the calling thread: set its handler bit and, unless
 * the master owns the table entry, the entry's target. `registrantKind` is the
 * caller's thread kind. E_SIG_MASTER_OWNED when the master registers a signal
 * it registered before (uWSGI's "unable to register signal").
 */
export function sigRegister(num: u32, kind: i32, arg: i32, registrantKind: i32): i32 {
  if (s == 0 || num >= SIGNALS || kind < T_FIRST || kind > T_LAST || !validTid(selfTid)) return E_SIG_ARG;
  const e = entry(num);
  const rc = mutexLock(s + H_MUTEX, -1);
  if (rc < 0) return rc;
  const ownedByMaster = aload32(e + E_STATE) != 0 && ld(e + E_REGISTRANT) == KIND_MASTER + 1;
  let out = OK;
  if (ownedByMaster && registrantKind == KIND_MASTER) out = E_SIG_MASTER_OWNED;
  else {
    if (!ownedByMaster) {
      stu32(e + E_KIND, kind);
      stu32(e + E_ARG, arg);
      stu32(e + E_REGISTRANT, registrantKind + 1);
      // Publishes the target written above to senders that load the state.
      astore32(e + E_STATE, 1);
    }
    const bits = mailbox(selfTid) + MB_HANDLERS + (num >> 5) * 4;
    atomic.or<i32>(bits, 1 << (num & 31));
  }
  mutexUnlock(s + H_MUTEX);
  return out;
}

@inline function ld(p: usize): i32 { return load<i32>(p); }

/** Target kind of signal `num` (T_NONE when nobody registered it). */
export function sigTargetKind(num: u32): i32 {
  if (s == 0 || num >= SIGNALS) return T_NONE;
  const e = entry(num);
  // Observes the publication in sigRegister.
  return aload32(e + E_STATE) == 0 ? T_NONE : ld(e + E_KIND);
}
export function sigTargetArg(num: u32): i32 { return s == 0 || num >= SIGNALS ? 0 : ld(entry(num) + E_ARG); }
/** 1 when the master registered signal `num` (its handler is the one every thread inherits). */
export function sigMasterOwned(num: u32): i32 {
  if (s == 0 || num >= SIGNALS) return 0;
  const e = entry(num);
  return aload32(e + E_STATE) != 0 && ld(e + E_REGISTRANT) == KIND_MASTER + 1 ? 1 : 0;
}

/** 1 when thread `tid` registered a handler for `num`. */
export function sigHasHandler(tid: i32, num: u32): i32 {
  if (!validTid(tid) || num >= SIGNALS) return 0;
  return (aload32(mailbox(tid) + MB_HANDLERS + (num >> 5) * 4) >>> (num & 31)) & 1;
}

@inline function ring(p: usize): void {
  // Publishes the pending count added before; a waiter that read the old bell value wakes.
  atomic.add<i32>(p, 1);
  atomic.notify(p, -1);
}

/** Add one to counter `what` (abi.ts SIG_COUNT_*) of signal `num`. */
export function sigNote(num: u32, what: i32): void {
  if (s == 0 || num >= SIGNALS || what < 0 || <u32>what >= COUNT_KINDS) return;
  atomic.add<i32>(s + COUNTS + (num * COUNT_KINDS + <u32>what) * 4, 1);
}

/** Counter `what` (abi.ts SIG_COUNT_*) of signal `num`; 0 for a bad argument. */
export function sigCount(num: u32, what: i32): i32 {
  if (s == 0 || num >= SIGNALS || what < 0 || <u32>what >= COUNT_KINDS) return 0;
  return aload32(s + COUNTS + (num * COUNT_KINDS + <u32>what) * 4);
}

/** Add one `num` to thread `tid`'s mailbox and wake it. */
export function sigDeliver(tid: i32, num: u32): i32 {
  if (!validTid(tid) || num >= SIGNALS) return E_BAD_ID;
  atomic.add<i32>(pending(tid, num), 1);
  atomic.add<i32>(s + COUNTS + (num * COUNT_KINDS + SIG_COUNT_DELIVERED) * 4, 1);
  ring(mailbox(tid) + MB_BELL);
  return OK;
}

/** Queue `num` for the master to route to the first available receiver, and wake the master. */
export function sigRoutePush(num: u32): i32 {
  if (s == 0 || num >= SIGNALS) return E_SIG_ARG;
  atomic.add<i32>(s + ROUTE + num * 4, 1);
  ring(s + H_ROUTE_BELL);
  return OK;
}

/** Wake the master without a signal (a timer, cron entry or file monitor was added). */
export function sigWakeMaster(): void { if (s != 0) ring(s + H_ROUTE_BELL); }

/**
 * Deliver `num` to every alive thread of `kind` (with `ident` >= 0: only that
 * one). Returns how many threads got it.
 */
export function sigDeliverKind(num: u32, kind: i32, ident: i32): i32 {
  if (s == 0 || num >= SIGNALS) return E_SIG_ARG;
  const n = <i32>min(threads(), maxThreads());
  let sent = 0;
  for (let tid = 0; tid < n; tid++) {
    if (threadState(tid) != THREAD_ALIVE || threadKind(tid) != kind) continue;
    if (ident >= 0 && threadIdent(tid) != ident) continue;
    sigDeliver(tid, num);
    sent++;
  }
  return sent;
}

/** The slot of the alive thread of `kind` with `ident`, or -1. */
export function sigTidOf(kind: i32, ident: i32): i32 {
  if (s == 0) return -1;
  const n = <i32>min(threads(), maxThreads());
  for (let tid = 0; tid < n; tid++) {
    if (threadState(tid) == THREAD_ALIVE && threadKind(tid) == kind && threadIdent(tid) == ident) return tid;
  }
  return -1;
}

/** Swap every non-zero counter at `counters` to 0; write (num, count) i32 pairs at `out`. Returns the pair count. */
function drain(counters: usize, out: usize): i32 {
  let k = 0;
  for (let num: u32 = 0; num < SIGNALS; num++) {
    const p = counters + num * 4;
    if (aload32(p) == 0) continue;
    // Takes every signal counted so far; later adds ring the bell again.
    const n = atomic.xchg<i32>(p, 0);
    if (n == 0) continue;
    store<i32>(out + <usize>k * 8, <i32>num);
    store<i32>(out + <usize>k * 8 + 4, n);
    k++;
  }
  return k;
}

/** The calling thread takes its pending signals: (num, count) pairs at `out` (256 * 8 bytes at most). */
export function sigDrain(out: usize): i32 {
  if (!validTid(selfTid)) return E_BAD_ID;
  return drain(mailbox(selfTid) + MB_PENDING, out);
}

/** The master takes the signals waiting to be routed: (num, count) pairs at `out`. */
export function sigRouteDrain(out: usize): i32 {
  if (s == 0) return E_BAD_ID;
  return drain(s + ROUTE, out);
}

/**
 * The master's choice of "the first available" thread of `kind` for `num`
 * among alive threads (`ident` >= 0 restricts to one ident, for farms): the
 * best score wins (has a handler or waits in signal_wait, listens, is idle,
 * has nothing pending); ties go round-robin from the route cursor. -1 if none.
 */
export function sigPick(kind: i32, num: u32, ident: i32): i32 {
  if (s == 0 || num >= SIGNALS) return -1;
  const n = <i32>min(threads(), maxThreads());
  if (n == 0) return -1;
  const start = <i32>(ldu32(s + H_CURSOR) % <u32>n);
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < n; i++) {
    const tid = (start + i) % n;
    if (threadState(tid) != THREAD_ALIVE || threadKind(tid) != kind) continue;
    if (ident >= 0 && threadIdent(tid) != ident) continue;
    const mb = mailbox(tid);
    let score = 0;
    if (sigHasHandler(tid, num) != 0 || aload32(mb + MB_WAITING) != 0) score += 8;
    if (aload32(mb + MB_LISTENING) != 0) score += 4;
    if (aload32(mb + MB_BUSY) == 0) score += 2;
    if (aload32(pending(tid, num)) == 0) score += 1;
    if (score > bestScore) { best = tid; bestScore = score; }
  }
  if (best >= 0) stu32(s + H_CURSOR, <u32>(best + 1));
  return best;
}

/** Signals thread `tid` has handled (uWSGI's per-worker `signals` counter). */
export function sigHandled(tid: i32): i32 { return validTid(tid) ? aload32(mailbox(tid) + MB_HANDLED) : 0; }

/**
 * Signals waiting to be handled (stats): in thread `tid`'s mailbox, or in the
 * master's routing inbox when `tid` is -1; signal `num` only, or all of them
 * when `num` is -1. A read-only sum of counters others change as it runs.
 */
export function sigQueued(tid: i32, num: i32): i32 {
  if (s == 0 || num < -1 || num >= <i32>SIGNALS || (tid != -1 && !validTid(tid))) return 0;
  const base: usize = tid == -1 ? s + ROUTE : mailbox(tid) + MB_PENDING;
  if (num >= 0) return aload32(base + <usize>num * 4);
  let n = 0;
  // Observes each counter as its senders and the draining thread leave it.
  for (let i: u32 = 0; i < SIGNALS; i++) n += aload32(base + <usize>i * 4);
  return n;
}

/** Record the master's thread slot (the one that routes and runs the scheduler). */
export function sigSetMaster(tid: i32): void { if (s != 0) astore32(s + H_MASTER, tid); }
export function sigMaster(): i32 { return s == 0 ? -1 : aload32(s + H_MASTER); }

/** Thread `tid` is gone: its handlers, pending signals and counters go with it. */
export function sigThreadGone(tid: i32): void {
  if (!validTid(tid)) return;
  const mb = mailbox(tid);
  for (let p: usize = mb + 4; p < mb + MB_SIZE; p += 4) astore32(p, 0);
  ring(mb + MB_BELL);
}
