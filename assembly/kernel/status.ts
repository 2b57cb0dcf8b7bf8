// Status codes returned by every exported core function.
//
// Zero and positive values are successes (some carry a meaning, such as
// OWNER_DIED); negative values are failures. ts/errors.ts maps each failure to
// a typed UwsgiError from one table, so a code added here must be added there.

export const OK: i32 = 0;
/** The lock was acquired, but its previous owner died while holding it. */
export const OWNER_DIED: i32 = 1;

/** A position or length falls outside the addressed region. */
export const E_BOUNDS: i32 = -1;
/** An id (area, lock, cache...) does not name a configured object. */
export const E_BAD_ID: i32 = -2;
/** A bounded wait ran out. */
export const E_TIMEOUT: i32 = -3;
/** The calling thread was asked to stop (or marked dead) while waiting. */
export const E_STOPPED: i32 = -4;
/** No free slot (thread table, registry...). */
export const E_FULL: i32 = -5;
/** The caller does not hold the lock it tries to release. */
export const E_NOT_OWNER: i32 = -6;
/** The thread table slot is not in the state the operation needs. */
export const E_BAD_STATE: i32 = -7;
/** The shared memory does not carry this core's header (wrong memory or layout version). */
export const E_LAYOUT: i32 = -8;
/** Nothing to take (an empty mailbox). */
export const E_EMPTY: i32 = -9;
/** A cache's structure fails its invariants (cache_check). */
export const E_CORRUPT: i32 = -10;

// ---- process status table (assembly/workers.ts): -15..-18 ----
/** The calling thread has no row in the status table (not a worker, mule or spooler), or a row number is bad. */
export const E_NO_STATUS_ROW: i32 = -15;
/** A request end without a request in progress. */
export const E_NOT_IN_REQUEST: i32 = -16;
// Signals and timers (assembly/signals.ts, assembly/timers.ts).
/** The master registered this signal already: uWSGI refuses a second registration in the master. */
export const E_SIG_MASTER_OWNED: i32 = -11;
/** A signal number outside 0..255, or a target kind the core does not know. */
export const E_SIG_ARG: i32 = -12;
/** A timer, cron or file-monitor argument the core refuses (interval not positive, field out of range). */
export const E_TIMER_ARG: i32 = -13;
// ---- uwsgi packets (assembly/packet.ts, ts/codec.ts): -19..-24 --------------------
/** Input ends before the structure does: a header, length or string runs past the bytes given. */
export const E_PKT_SHORT: i32 = -19;
/** A size exceeds its limit: a body over buffer-size, an item over 65535 bytes. */
export const E_PKT_TOO_BIG: i32 = -20;
/** A vars key of length 0 (uWSGI rejects the whole block). */
export const E_PKT_EMPTY_KEY: i32 = -21;
/** More vars pairs or array items than the caller allows. */
export const E_PKT_TOO_MANY: i32 = -22;

// ---- network client (ts/net.ts, ts/client.ts): -34..-37 ---------------------------
/** Nothing accepts connections at the address (refused, no such unix socket, unreachable host). */
export const E_NET_CONNECT: i32 = -34;
/** The peer closed or reset the connection before a complete reply. */
export const E_NET_CLOSED: i32 = -35;
/** The peer's reply breaks the protocol (garbage, a size over the limit). */
export const E_NET_BAD_REPLY: i32 = -36;
/** The peer answered that it refused the operation (a signal not queued, a spool job not written). */
export const E_NET_REJECTED: i32 = -37;
/** A cache value does not fit in the thread's scratch slot: read it with the two-step path (internal). */
export const E_SCRATCH: i32 = -28;
// ---- SNMP and stats (-25..-27) ----
/** A value does not fit the target's type (a Gauge32 over 2^32-1, a counter decremented below zero...). */
export const E_VALUE_RANGE: i32 = -25;
