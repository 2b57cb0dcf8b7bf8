/**
 * Waiting on a shared word without blocking the event loop, and ringing it.
 * RPC mailboxes and mule mailboxes both wake their thread this way.
 * @module
 */

/** Atomics.waitAsync (ES2024; Node, Deno and Bun all have it), typed here since the project's lib is ES2022. */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, timeoutMs?: number): WaitAsyncResult }).waitAsync;

/** Resolve once word `i` no longer holds `seen` (or was notified), or after `timeoutMs`. */
export async function waitForChange(a: Int32Array, i: number, seen: number, timeoutMs?: number): Promise<'ok' | 'not-equal' | 'timed-out'> {
  const w = waitAsync(a, i, seen, timeoutMs);
  return w.async ? await w.value : w.value;
}

/** Bump counter word `i` and wake every thread waiting on it. */
export function ring(a: Int32Array, i: number): void {
  // Publishes everything the ringer wrote before; a waiter that read the old count wakes.
  Atomics.add(a, i, 1);
  Atomics.notify(a, i);
}
