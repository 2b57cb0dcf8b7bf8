/**
 * Tests with known outcomes (passes, skips with and without a note, timeouts
 * given both ways, thrown and rejected failures, nested suites), registered
 * once with the portable harness and once with vitest by
 * test/lib/vitest-portable.test.ts, which checks that both report the same.
 */
import assert from 'node:assert/strict';

/** The registration functions both harnesses share (a subset of vitest's). */
export interface RegistrationApi {
  describe(name: string, fn: () => void): void;
  test(name: string, fn: (ctx: { skip(condition: boolean, note?: string): void; skip(note?: string): never }) => unknown, timeoutMs?: number): void;
  test(name: string, options: { timeout?: number }, fn: (ctx: object) => unknown): void;
}

/** The short timeout the timeout cases are given, in ms. */
export const CASE_TIMEOUT_MS = 50;

/** How each case must end, by full name (suite and test names joined by ' > ', as vitest's reporters name them). */
export const EXPECTED: Record<string, { state: 'passed' | 'failed' | 'skipped'; note?: string; message?: RegExp }> = {
  'cases > passes': { state: 'passed' },
  'cases > passes after awaiting': { state: 'passed' },
  'cases > skip(note) skips with the note': { state: 'skipped', note: 'needs a program this machine lacks' },
  'cases > skip(true, note) skips with the note': { state: 'skipped', note: 'the second form' },
  'cases > skip(false, note) goes on': { state: 'passed' },
  'cases > a timeout as the third argument fails the test': { state: 'failed', message: new RegExp(`timed out in ${CASE_TIMEOUT_MS}ms`) },
  'cases > a timeout in the options fails the test': { state: 'failed', message: new RegExp(`timed out in ${CASE_TIMEOUT_MS}ms`) },
  'cases > a longer timeout lets a slow test pass': { state: 'passed' },
  'cases > a failed assertion fails the test': { state: 'failed', message: /Expected values to be strictly equal/ },
  'cases > a rejection fails the test': { state: 'failed', message: /rejected on purpose/ },
  'cases > nested > passes': { state: 'passed' },
};

/** Register the cases with `api`. */
export function registerCases({ describe, test }: RegistrationApi): void {
  const never = () => new Promise<void>(() => {});
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  describe('cases', () => {
    test('passes', () => {});
    test('passes after awaiting', async () => { await sleep(5); });
    test('skip(note) skips with the note', ({ skip }) => {
      skip('needs a program this machine lacks');
      throw new Error('ran past skip()');
    });
    test('skip(true, note) skips with the note', ({ skip }) => {
      skip(true, 'the second form');
      throw new Error('ran past skip(true)');
    });
    test('skip(false, note) goes on', ({ skip }) => { skip(false, 'not skipped'); });
    test('a timeout as the third argument fails the test', never, CASE_TIMEOUT_MS);
    test('a timeout in the options fails the test', { timeout: CASE_TIMEOUT_MS }, never);
    test('a longer timeout lets a slow test pass', () => sleep(2 * CASE_TIMEOUT_MS), 20 * CASE_TIMEOUT_MS);
    test('a failed assertion fails the test', () => { assert.equal(1, 2); });
    test('a rejection fails the test', async () => { await sleep(1); throw new Error('rejected on purpose'); });
    describe('nested', () => {
      test('passes', () => {});
    });
  });
}
