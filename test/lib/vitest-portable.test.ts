/**
 * The portable harness (test/lib/vitest-portable.ts), which runs the suites on
 * Deno and Bun, on cases with known outcomes (test/lib/harness-cases): passes,
 * skips and their notes, timeouts given both ways, failures, filters, and the
 * forms it refuses. Where vitest runs (Node), vitest runs the same cases too and
 * must report them the same way, so the two cannot drift apart unnoticed.
 */
import { spawnSync } from 'node:child_process';
import { describe, test } from 'vitest';
import { assert } from './helpers.ts';
import { EXPECTED, registerCases } from './harness-cases/cases.ts';
import { createHarness } from './vitest-portable.ts';

interface Seen { name: string; state: string; note?: string; error?: string }

/** Every case ran, in order, and ended as EXPECTED says. */
function checkCases(seen: Seen[]): void {
  assert.deepEqual(seen.map((o) => o.name), Object.keys(EXPECTED), 'every case ran, in order');
  for (const o of seen) {
    const want = EXPECTED[o.name];
    assert.equal(o.state, want.state, o.name);
    assert.equal(o.note, want.note, `${o.name}: the skip note`);
    if (want.message) assert.match(o.error ?? '', want.message, `${o.name}: the error`);
  }
}

function portableRun(filter = '') {
  const h = createHarness();
  registerCases(h);
  const lines: string[] = [];
  return h.run(filter, (l) => lines.push(l)).then((outcomes) => ({ outcomes, lines }));
}

const underVitest = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.VITEST === 'true';

describe('portable harness', () => {
  test('passes, skips with their notes, timeouts given both ways and failures end as vitest ends them', async () => {
    const { outcomes, lines } = await portableRun();
    checkCases(outcomes.map((o) => ({ ...o, error: o.error === undefined ? undefined : o.error instanceof Error ? o.error.message : String(o.error) })));
    assert.ok(lines.includes('skip cases > skip(note) skips with the note — needs a program this machine lacks'), 'the note is printed beside the skipped test');
    assert.equal(lines.filter((l) => l.startsWith('FAIL cases > ')).length, 4, 'one FAIL line per failed case');
    assert.equal(lines.filter((l) => l.startsWith('ok   cases > ')).length, 5, 'one ok line per passed case');
  });

  test('a filter runs the tests whose suite and test names, joined by spaces, contain it (as vitest -t does)', async () => {
    assert.deepEqual((await portableRun('cases nested passes')).outcomes.map((o) => o.name), ['cases > nested > passes']);
    assert.deepEqual((await portableRun('passes')).outcomes.map((o) => o.name), ['cases > passes', 'cases > passes after awaiting', 'cases > nested > passes']);
  });

  test('forms it does not implement fail when the test registers, not silently when it runs', () => {
    const h = createHarness();
    assert.throws(() => h.test('the old harness form', () => {}, { timeoutMs: 5 } as never), /timeout must be a positive number of milliseconds/);
    assert.throws(() => h.test('an option it lacks', { retry: 2 } as never, () => {}), /supports only the 'timeout' option, got retry/);
    assert.throws(() => h.describe('an async suite', (async () => {}) as never), /collects synchronously/);
  });

  test('vitest ends the same cases the same way', ({ skip }) => {
    if (!underVitest) skip('vitest runs on Node only; on this runtime the portable harness runs the suites');
    // The nested vitest must not take this run's worker settings for its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const r = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', '--config', 'test/lib/harness-cases/vitest.config.ts'], { encoding: 'utf8', env });
    const line = r.stdout.split('\n').find((l) => l.startsWith('cases: '));
    assert.ok(line, `vitest printed no outcomes (exit ${r.status}):\n${r.stdout}${r.stderr}`);
    assert.equal(r.status, 1, 'vitest exits 1: four cases fail on purpose');
    checkCases(JSON.parse(line.slice('cases: '.length)) as Seen[]);
  }, 60_000);
});
