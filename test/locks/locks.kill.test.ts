import { run } from 'uwsgi-wasm';
import { cachesOf } from 'uwsgi-wasm/engine';
import { describe, test } from 'vitest';
import { assert, rng, untilAtLeast } from '../lib/helpers.ts';

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};
const KILLS = Number(env.UWSGI_WASM_LOCK_KILLS ?? 240);
/** The victim's lock path families, in test/fixtures/lock-kill.ts's order. */
const MODES = ['sa-read', 'sa-write', 'sa-rlock', 'sa-wlock', 'user-lock', 'cache', 'queue', 'mixed', 'core-read', 'core-rlock'];
const PROBE_MS = 10_000;
/**
 * The paths of kill k: every other kill a read path (sharedarea reads and rlock, mostly straight on
 * the core's exports), where a hold recorded apart from a count used to leak; the others cycle
 * through the rest.
 */
function modeOf(k: number): number {
  if (k % 2 === 0) return [0, 9, 8, 9, 2, 8][(k >> 1) % 6];
  const others = [1, 3, 4, 5, 6, 7];
  return others[(k >> 1) % others.length];
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until `words[i]` is `want` (or `fail` turns non-zero), at most `ms`; false on timeout. */
async function until(words: Int32Array, i: number, want: number, fail: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Atomics.load(words, i) !== want && Atomics.load(words, fail) === 0) {
    const left = end - Date.now();
    if (left <= 0) return false;
    await Atomics.waitAsync(words, i, Atomics.load(words, i), Math.min(left, 200)).value;
  }
  return true;
}

describe('locks: threads killed inside the core', () => {
  test(`${KILLS} kills at random moments of rwlock, mutex, cache and queue paths: a writer gets through after each, structures sound`, async () => {
    const master = await run({
      options: { workers: 2, sharedarea: [1, 1], locks: 1, queue: 16, cache2: 'name=lru,items=32,blocksize=256,purge_lru=1,hashsize=7' },
      app: 'build/tests/fixtures/lock-kill.js', handleSignals: false, log: () => {},
    });
    const view = master.uwsgi.sharedarea(0).view();
    const words = new Int32Array(view.buffer, view.byteOffset, 16);
    const random = rng(14);
    const x = master.uwsgi.ctx.x;
    try {
      for (let k = 0; k < KILLS; k++) {
        const mode = modeOf(k);
        // Waits for incarnation k+1 to loop on its lock paths.
        await untilAtLeast(words, 2, k + 1);
        // The next incarnation's paths.
        Atomics.store(words, 0, modeOf(k + 1));
        // A random moment: 1 to 8 ms of looping (thousands of lock operations, past the JIT's warm-up).
        await sleep(1 + random() * 7);
        // A runtime that cannot stop a thread inside a loop (Deno) never confirms the end: the
        // master then declares it dead after 100 ms (not 1.5 s), wherever it is by then.
        await master.killWorker(1, { confirmMs: 100 });
        // The master has handled the death (its holds and locks are recovered) once it respawned it.
        await untilAtLeast(words, 1, k + 2);
        Atomics.store(words, 4, k + 1);
        Atomics.notify(words, 4);
        const answered = await until(words, 5, k + 1, 6, PROBE_MS);
        assert.equal(Atomics.load(words, 6), 0, `kill ${k + 1} (${MODES[mode]}): a writer failed after the kill`);
        assert.ok(answered, `kill ${k + 1} (${MODES[mode]}): a writer is stuck ${PROBE_MS} ms after the kill (a hold the dead thread left)`);
        cachesOf(master.uwsgi.ctx).check(0);
        assert.equal(x.queue_check(), 0, `kill ${k + 1} (${MODES[mode]}): the queue fails its invariants`);
        assert.equal(x.threads_check(), 0, `kill ${k + 1} (${MODES[mode]}): the thread table fails its invariants`);
      }
      console.log(`locks.kill: ${KILLS} kills; locks taken over from the dead thread: ${Atomics.load(words, 8)}; cache repairs: ${cachesOf(master.uwsgi.ctx).stats(0).repairs}`);
    } finally {
      // Ends the loops (Deno cannot stop a thread that never yields).
      Atomics.store(words, 3, 1);
      Atomics.notify(words, 4);
      await master.stop();
    }
  }, 600_000);
});
