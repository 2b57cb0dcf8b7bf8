/**
 * The portable harness: the part of vitest's test API the suites use, for the
 * runtimes vitest does not run on (Deno, Bun). scripts/test.mjs bundles the
 * suites with the import `vitest` mapped to this module, so one test file runs
 * unchanged under vitest on Node and under this harness elsewhere.
 *
 * What it implements, with vitest's meaning:
 * - `describe(name, fn)`: groups the tests `fn` registers (`fn` must be
 *   synchronous, as the suites' are);
 * - `test(name, fn, timeoutMs?)`, `test(name, { timeout }, fn)`, and `it`: a
 *   test that fails when it throws, rejects or outlives its timeout (default
 *   {@link DEFAULT_TEST_TIMEOUT_MS}, the value vitest.config.ts gives vitest);
 * - the test context's `skip(note)` and `skip(condition, note)`: the test ends
 *   as skipped, and the note (say, the program that is missing) is printed
 *   beside it, as vitest's reporter prints it.
 * Nothing else of vitest's API is exported, so a suite that starts using more
 * fails to bundle instead of behaving differently here.
 */

/** The per-test timeout when a test names none (vitest.config.ts sets vitest's `testTimeout` from it). */
export const DEFAULT_TEST_TIMEOUT_MS = 60_000;

/** The context a test function receives: the subset of vitest's `TestContext` the suites use. */
export interface TestContext {
  /** End the test as skipped, with `note` shown beside it; `skip(false, note)` does nothing. */
  readonly skip: {
    (note?: string): never;
    (condition: boolean, note?: string): void;
  };
}

/** A test body, as vitest calls it. */
export type TestFunction = (ctx: TestContext) => unknown;

/** How one test ended. */
export interface TestOutcome {
  /** Suite names and the test's name, joined by ' > ' (as vitest's reporters print it). */
  name: string;
  state: 'passed' | 'failed' | 'skipped';
  durationMs: number;
  /** Why a skipped test was skipped, when it said. */
  note?: string;
  /** What a failed test threw (a timeout is an Error saying so). */
  error?: unknown;
}

/** One registry of tests with vitest's registration functions and a runner. */
export interface Harness {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: TestFunction, timeoutMs?: number): void;
  test(name: string, options: { timeout?: number }, fn: TestFunction): void;
  /**
   * Run, in registration order, every test whose name contains `filter`
   * (matched, like vitest's `-t`, against the suite and test names joined by
   * spaces); `log` gets one line per test. Resolves with every outcome.
   */
  run(filter?: string, log?: (line: string) => void): Promise<TestOutcome[]>;
}

/** Thrown by `ctx.skip`: the runner turns it into a skip, as vitest's runner does with its PendingError. */
class SkipSignal extends Error {
  readonly note: string | undefined;
  constructor(note: string | undefined) {
    super('test is skipped; abort execution');
    this.note = note;
  }
}

interface Registered {
  path: string[];
  fn: TestFunction;
  timeoutMs: number;
}

function checkTimeout(name: string, ms: unknown): number {
  if (ms === undefined) return DEFAULT_TEST_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new TypeError(`test '${name}': the timeout must be a positive number of milliseconds (vitest's third argument), got ${typeof ms === 'object' ? JSON.stringify(ms) : String(ms)}`);
  }
  return ms;
}

/** Settle with `p`, or reject with vitest's timeout message after `ms`. */
function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Test timed out in ${ms}ms.`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** A fresh registry (the harness's own test uses a private one; the bundle uses the module's). */
export function createHarness(): Harness {
  const registry: Registered[] = [];
  let suites: string[] = [];

  function describe(name: string, fn: () => void): void {
    const outer = suites;
    suites = [...outer, name];
    try {
      const r = fn() as unknown;
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        throw new TypeError(`describe '${name}': the portable harness collects synchronously; register tests without awaiting`);
      }
    } finally {
      suites = outer;
    }
  }

  function test(name: string, a: TestFunction | { timeout?: number }, b?: TestFunction | number): void {
    let fn: unknown, timeout: unknown;
    if (typeof a === 'function') {
      fn = a;
      timeout = b;
    } else {
      const extra = Object.keys(a ?? {}).filter((k) => k !== 'timeout');
      if (extra.length) throw new TypeError(`test '${name}': the portable harness supports only the 'timeout' option, got ${extra.join(', ')}`);
      fn = b;
      timeout = a?.timeout;
    }
    if (typeof fn !== 'function') throw new TypeError(`test '${name}': no test function`);
    registry.push({ path: [...suites, name], fn: fn as TestFunction, timeoutMs: checkTimeout(name, timeout) });
  }

  async function run(filter = '', log: (line: string) => void = console.log): Promise<TestOutcome[]> {
    const outcomes: TestOutcome[] = [];
    for (const t of registry) {
      if (filter && !t.path.join(' ').includes(filter)) continue;
      const name = t.path.join(' > ');
      const ctx: TestContext = {
        skip: ((condition?: boolean | string, note?: string): void => {
          if (condition === false) return;
          throw new SkipSignal(typeof condition === 'string' ? condition : note);
        }) as TestContext['skip'],
      };
      const start = performance.now();
      let outcome: TestOutcome;
      try {
        await withTimeout(Promise.resolve().then(() => t.fn(ctx)), t.timeoutMs);
        outcome = { name, state: 'passed', durationMs: performance.now() - start };
      } catch (e) {
        const durationMs = performance.now() - start;
        outcome = e instanceof SkipSignal
          ? { name, state: 'skipped', durationMs, note: e.note }
          : { name, state: 'failed', durationMs, error: e };
      }
      outcomes.push(outcome);
      if (outcome.state === 'passed') log(`ok   ${name} (${outcome.durationMs.toFixed(0)} ms)`);
      else if (outcome.state === 'skipped') log(`skip ${name}${outcome.note ? ` — ${outcome.note}` : ''}`);
      else {
        const e = outcome.error;
        log(`FAIL ${name}\n     ${(e instanceof Error ? e.stack ?? e.message : String(e)).split('\n').join('\n     ')}`);
      }
    }
    return outcomes;
  }

  return { describe, test: test as Harness['test'], run };
}

const bundled = createHarness();

/** vitest's `describe`. */
export const describe: Harness['describe'] = bundled.describe;
/** vitest's `test`. */
export const test: Harness['test'] = bundled.test;
/** vitest's `it` (the same as `test`). */
export const it: Harness['test'] = bundled.test;

/**
 * The bundle's last step: run every test the suites registered (filtered by
 * the first command-line argument), print the closing
 * `N passed, N failed, N skipped` line scripts/test.mjs reads, and exit with
 * the verdict (threads and timers a suite left may still hold the event loop).
 */
export async function runRegistered(): Promise<never> {
  const g = globalThis as { Deno?: { args: string[]; exit(code: number): never }; process?: { argv: string[]; exit(code: number): never } };
  const argv = g.Deno?.args ?? g.process?.argv.slice(2) ?? [];
  const outcomes = await bundled.run(argv[0] ?? '');
  const count = (s: TestOutcome['state']) => outcomes.filter((o) => o.state === s).length;
  const label = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? 'unknown runtime';
  console.log(`[${label}] ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
  const exit = g.Deno?.exit ?? g.process!.exit;
  return exit(count('failed') ? 1 : 0);
}
