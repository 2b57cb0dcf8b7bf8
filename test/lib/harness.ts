/**
 * A small test harness that runs the same suites unchanged on Node, Deno and
 * Bun: `test(name, fn)` registers, `runAll()` runs in order and prints one line
 * per test and, last, `N passed, M failed, K skipped`. Assertions come from
 * `node:assert/strict`, which all three runtimes implement.
 */
import { UwsgiError } from 'uwsgi-wasm';
import { runtime } from 'uwsgi-wasm/engine';
import assert from 'node:assert/strict';

interface Registered {
  name: string;
  fn: () => unknown;
  timeoutMs: number;
  skip?: string;
}

const registry: Registered[] = [];
let prefix = '';

/** Group the tests registered inside `fn` under a name. */
export function describe(name: string, fn: () => void): void {
  const outer = prefix;
  prefix = outer ? `${outer} > ${name}` : name;
  try { fn(); } finally { prefix = outer; }
}

/** Register a test. `timeoutMs` (default 60 s) fails it if it never settles. */
export function test(name: string, fn: () => unknown, opts: { timeoutMs?: number; skip?: string | false } = {}): void {
  registry.push({ name: prefix ? `${prefix} > ${name}` : name, fn, timeoutMs: opts.timeoutMs ?? 60_000, skip: opts.skip || undefined });
}

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

function withTimeout(p: Promise<unknown>, ms: number, name: string): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${name}`)), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Run every registered test whose name contains `filter`; resolves with the failure count. */
export async function runAll(filter = ''): Promise<number> {
  const rt = runtime();
  const label = `${rt.name} ${rt.version}`;
  let passed = 0, failed = 0, skipped = 0;
  for (const t of registry) {
    if (filter && !t.name.includes(filter)) continue;
    if (t.skip) { skipped++; console.log(`skip ${t.name} — ${t.skip}`); continue; }
    const start = performance.now();
    try {
      await withTimeout(Promise.resolve().then(t.fn), t.timeoutMs, t.name);
      passed++;
      console.log(`ok   ${t.name} (${(performance.now() - start).toFixed(0)} ms)`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}\n     ${(e instanceof Error ? e.stack ?? e.message : String(e)).split('\n').join('\n     ')}`);
    }
  }
  console.log(`[${label}] ${passed} passed, ${failed} failed, ${skipped} skipped`);
  return failed;
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
