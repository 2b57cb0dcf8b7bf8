import { run, type Master } from 'uwsgi-wasm';
import { spoolerOf } from 'uwsgi-wasm/spooler';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'vitest';
import { assert, untilAtLeast } from '../lib/helpers.ts';

const APP = 'build/tests/fixtures/spool-app.js';
const STARTED = 16;
const FINISHED = 1100;

function scratchDir(): { path: string; cleanup(): void } {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const path = mkdtempSync(join(base, 'uwsgi-spool-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Resolve once tasks 0..n-1 have each finished at least once (the run counter [2] wakes the wait). */
async function untilAllFinished(w: Int32Array, n: number): Promise<void> {
  for (;;) {
    const runs = Atomics.load(w, 2);
    let done = 0;
    for (let i = 0; i < n; i++) if (Atomics.load(w, FINISHED + i) > 0) done++;
    if (done === n) return;
    await untilAtLeast(w, 2, runs + 1);
  }
}

async function start(dir: string, extra: Record<string, unknown>, logs: string[]): Promise<{ master: Master; w: Int32Array }> {
  const master = await run({
    options: { workers: 1, sharedarea: 4, spooler: dir, 'spooler-frequency': 1, 'spooler-quiet': true, ...extra } as never,
    app: APP, handleSignals: false, log: (l) => logs.push(l),
  });
  await master.ready();
  const view = master.uwsgi.sharedarea(0).view();
  return { master, w: new Int32Array(view.buffer, view.byteOffset, view.byteLength >> 2) };
}

describe('spooler threads', () => {
  test('spooler threads import the app, run what workers and the master spool, and report themselves', async () => {
    const tmp = scratchDir();
    const logs: string[] = [];
    const { master, w } = await start(join(tmp.path, 'spool'), { 'spooler-processes': 2 }, logs);
    try {
      await untilAtLeast(w, 0, 2);
      assert.deepEqual([Atomics.load(w, 9), Atomics.load(w, 10)], [1, 1]);
      // The worker's own task (spooled from its main function).
      await untilAtLeast(w, 3, 1);
      assert.equal(master.uwsgi.spooler_pid(), master.uwsgi.masterpid());
      assert.deepEqual(master.uwsgi.spooler_pids(), [master.uwsgi.masterpid(), master.uwsgi.masterpid()]);
      for (let i = 0; i < 20; i++) master.uwsgi.spool({ i: String(i) });
      await untilAtLeast(w, 2, 20);
      for (let i = 0; i < 20; i++) assert.equal(Atomics.load(w, FINISHED + i), 1);
    } finally {
      await master.stop();
      tmp.cleanup();
    }
  }, 60_000);

  test('crash: spooler threads killed mid-task over and over, 1,000 tasks: none lost, none finished twice', async () => {
    const tmp = scratchDir();
    const dir = join(tmp.path, 'spool');
    const logs: string[] = [];
    const { master, w } = await start(dir, { 'spooler-processes': 2 }, logs);
    const TASKS = 1000, EVERY = 25;
    try {
      await untilAtLeast(w, 0, 2);
      for (let i = 0; i < TASKS; i++) master.uwsgi.spool(i % EVERY === 0 ? { i: String(i), block: '1' } : { i: String(i) });
      let kills = 0;
      const killed: number[] = [];
      while (kills < TASKS / EVERY) {
        await untilAtLeast(w, 1, kills + 1);
        for (const ident of [1, 2]) {
          const blocked = Atomics.load(w, 4 + ident);
          if (blocked === 0) continue;
          Atomics.store(w, 4 + ident, 0);
          killed.push(blocked - 1);
          await master.killSpooler(ident);
          kills++;
        }
      }
      await untilAllFinished(w, TASKS);
      assert.equal(Atomics.load(w, 2), TASKS, 'runs finished');
      assert.deepEqual(killed.sort((a, b) => a - b), Array.from({ length: TASKS / EVERY }, (_, k) => k * EVERY));
      const finished = Array.from({ length: TASKS }, (_, i) => Atomics.load(w, FINISHED + i));
      const started = Array.from({ length: TASKS }, (_, i) => Atomics.load(w, STARTED + i));
      assert.deepEqual(finished.filter((n) => n !== 1).length, 0, 'every task finished exactly once');
      // A killed task ran twice (the second run finished it); any other ran once: no two threads ran one task.
      assert.deepEqual(started.map((n, i) => n - (i % EVERY === 0 ? 2 : 1)).filter((d) => d !== 0).length, 0);
      assert.equal(logs.filter((l) => /spooler \d died/.test(l)).length, TASKS / EVERY);
    } finally {
      await master.stop();
    }
    // Stopped: every finished task was committed, nothing claimed or partial is left.
    assert.deepEqual(readdirSync(dir), []);
    tmp.cleanup();
  }, 120_000);

  test('crash at any moment: spooler threads killed at random times: no task lost, a task runs again only because of a kill', async () => {
    const tmp = scratchDir();
    const dir = join(tmp.path, 'spool');
    const logs: string[] = [];
    const { master, w } = await start(dir, { 'spooler-processes': 2 }, logs);
    const TASKS = 300, KILLS = 30;
    // A seeded generator: the kill times differ per run of the machine, not per seed.
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    try {
      await untilAtLeast(w, 0, 2);
      for (let i = 0; i < TASKS; i++) master.uwsgi.spool({ i: String(i), spin: '1' });
      let kills = 0;
      while (kills < KILLS && Atomics.load(w, 2) < TASKS) {
        await new Promise((r) => setTimeout(r, 2 + Math.floor(rand() * 15)));
        try {
          await master.killSpooler(1 + Math.floor(rand() * 2));
          kills++;
        } catch { /* that thread is being respawned */ }
      }
      await untilAllFinished(w, TASKS);
      const finished = Array.from({ length: TASKS }, (_, i) => Atomics.load(w, FINISHED + i));
      assert.equal(finished.filter((n) => n < 1).length, 0, 'every task finished');
      // Extra runs only come from kills (a kill between the function's end and the removal).
      const extra = finished.reduce((a, n) => a + n - 1, 0);
      assert.ok(extra <= kills, `${extra} extra runs for ${kills} kills`);
      assert.ok(kills > 0);
    } finally {
      await master.stop();
    }
    assert.deepEqual(readdirSync(dir), []);
    tmp.cleanup();
  }, 120_000);

  test('spooler-max-tasks recycles the thread; spooler-harakiri kills a task that runs too long, and it runs again', async () => {
    const tmp = scratchDir();
    const logs: string[] = [];
    const { master, w } = await start(join(tmp.path, 'spool'), { 'spooler-max-tasks': 3, 'spooler-harakiri': 1 }, logs);
    try {
      await untilAtLeast(w, 0, 1);
      for (let i = 0; i < 7; i++) master.uwsgi.spool({ i: String(i) });
      await untilAtLeast(w, 2, 7);
      await untilAtLeast(w, 3, 1);
      // 7 tasks plus the worker's: 8 tasks, at most 3 per incarnation.
      await untilAtLeast(w, 0, 3);
      const before = Atomics.load(w, 0);
      master.uwsgi.spool({ i: '50', sleep: '30000' });
      await untilAtLeast(w, FINISHED + 50, 1);
      assert.equal(Atomics.load(w, STARTED + 50), 2);
      assert.ok(Atomics.load(w, 0) > before);
      assert.ok(logs.some((l) => /spooler 1 ran a task for more than 1 s \(spooler-harakiri\)/.test(l)), logs.join('\n'));
      await master.stop();
      // Stopped, so every count is final: 9 tasks done (the killed run does not count), a respawn per recycle and per kill.
      const stats = spoolerOf(master.uwsgi.ctx).stats();
      assert.equal(stats.length, 1);
      assert.equal(stats[0].tasks, 9);
      assert.ok(stats[0].respawns >= 3, JSON.stringify(stats));
      assert.equal(stats[0].pid, 0);
      assert.equal(stats[0].running, 0);
    } finally {
      await master.stop();
      tmp.cleanup();
    }
  }, 60_000);
});
