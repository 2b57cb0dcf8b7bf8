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

// ---- SNMP and stats (-25..-27) ----
/** A value does not fit the target's type (a Gauge32 over 2^32-1, a counter decremented below zero...). */
export const E_VALUE_RANGE: i32 = -25;
