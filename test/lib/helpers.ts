/**
 * Assertion helpers the suites share on every runtime. The assertions are
 * `node:assert/strict`'s (Node, Deno and Bun all implement it); `describe` and
 * `test` come from `vitest` (on Deno and Bun, from the portable harness the
 * bundle maps `vitest` to: test/lib/vitest-portable.ts).
 */
import { UwsgiError } from 'uwsgi-wasm';
import assert from 'node:assert/strict';

/** Assert that `fn` throws a UwsgiError with `code` and a message matching `message`. */
export function throwsUwsgi(fn: () => unknown, code: string, message?: RegExp): UwsgiError {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  assert.ok(caught instanceof UwsgiError, `expected a UwsgiError ${code}, got ${caught === undefined ? 'no throw' : String(caught)}`);
  const err = caught as UwsgiError;
  assert.equal(err.code, code, `wrong code for: ${err.message}`);
  if (message) assert.match(err.message, message);
  return err;
}

/** Same as throwsUwsgi for a promise. */
export async function rejectsUwsgi(p: Promise<unknown>, code: string, message?: RegExp): Promise<UwsgiError> {
  let caught: unknown;
  try { await p; } catch (e) { caught = e; }
  assert.ok(caught instanceof UwsgiError, `expected a UwsgiError ${code}, got ${caught === undefined ? 'no rejection' : String(caught)}`);
  const err = caught as UwsgiError;
  assert.equal(err.code, code, `wrong code for: ${err.message}`);
  if (message) assert.match(err.message, message);
  return err;
}

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: boolean; value: unknown };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Wait, without blocking the event loop, until `words[i] >= n` (a thread's Atomics handshake). */
export async function untilAtLeast(words: Int32Array, i: number, n: number): Promise<void> {
  for (let v = Atomics.load(words, i); v < n; v = Atomics.load(words, i)) {
    const w = waitAsync(words, i, v, 1000);
    if (w.async) await w.value;
  }
}

export { assert };

/**
 * A seeded random generator (mulberry32) giving numbers in [0, 1): the same
 * sequence on every run and runtime, so a failing random walk replays.
 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poll `fn` every 20 ms until it returns true; fails naming `what` after `ms`. */
export async function until(fn: () => boolean, ms = 5000, what = 'the condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
