// lmdb (lmdb-js, 17M downloads a month): what a Node, Deno or Bun user picks
// today to share data across threads and processes: a memory-mapped B+tree
// whose readers take no lock (MVCC). Same data as the cache rows: 16-byte keys,
// 32-byte values, 10k keys. Settings: values as raw bytes (encoding 'binary'),
// no compression, no JS-side cache (every get reads the map), durability off
// (noSync: a set reaches the map, not the disk, before it returns; our cache
// has no disk at all), each set its own write transaction (putSync), as each
// cache_update is one locked write. A runtime where lmdb's native addon does
// not load gets a skipped row with the reason.
import { cacheData } from '../cases.mjs';
import { Skip, tempDir } from '../lib/proc.mjs';
import { CACHE_GET, CACHE_MIX, CACHE_SET, CACHE_THREADS } from './names.mjs';

/** Gets per op of the thread-scaling row (the uwsgi-wasm row's ROUND_GETS). */
const ROUND_GETS = 2000;

async function lmdbOpen() {
  try {
    return (await import('lmdb')).open;
  } catch (e) {
    throw new Skip(`lmdb does not load here: ${String(e?.message ?? e).split('\n')[0]}`);
  }
}

/** A fresh environment holding the rows' 10k keys; `close` removes it. */
async function lmdbStore() {
  const open = await lmdbOpen();
  const dir = tempDir('uwsgi-wasm-lmdb-');
  const db = open({ path: dir.path, encoding: 'binary', compression: false, noSync: true });
  const d = cacheData();
  await db.transaction(() => { for (const k of d.keys) db.put(k, d.value); });
  return { db, dir, ...d, close: async () => { await db.close(); dir.remove(); } };
}

/**
 * The thread-scaling row with lmdb: the same 2000 gets per op, done by the
 * main thread alone, or split with a worker_threads worker reading the same
 * environment (bench/fixtures/lmdb-reader.mjs; the same round protocol as the
 * uwsgi-wasm row's cache-reader).
 */
async function lmdbThreads(threads) {
  const s = await lmdbStore();
  const words = new Int32Array(new SharedArrayBuffer(32));
  const share = threads === 2 ? ROUND_GETS / 2 : ROUND_GETS;
  Atomics.store(words, 2, ROUND_GETS - share);
  let worker;
  if (threads === 2) {
    const { Worker } = await import('node:worker_threads');
    worker = new Worker(new URL('../fixtures/lmdb-reader.mjs', import.meta.url), { workerData: { path: s.dir.path, words } });
    // Waits until the worker opened the environment.
    while (Atomics.load(words, 5) === 0) await new Promise((r) => setTimeout(r, 5));
  }
  let round = 0;
  let hits = 0;
  return {
    op() {
      if (threads === 2) {
        // Publishes the next round to the worker.
        Atomics.store(words, 0, ++round);
        Atomics.notify(words, 0);
      }
      for (let i = 0; i < share; i++) if (s.db.get(s.next()) !== undefined) hits++;
      if (threads === 2) {
        // Waits for the worker's half: spins, then sleeps until its notify.
        for (let spins = 0; Atomics.load(words, 1) !== round; spins++) if (spins > 10_000) Atomics.wait(words, 1, round - 1, 1);
      }
      return hits + Atomics.load(words, 3);
    },
    async close() {
      Atomics.store(words, 0, -1);
      Atomics.notify(words, 0);
      await worker?.terminate();
      await s.close();
    },
  };
}

export default [
  {
    ...CACHE_GET, extends: true,
    subjects: { 'lmdb': async () => { const s = await lmdbStore(); return { op: () => s.db.get(s.next()), close: s.close }; } },
  },
  {
    ...CACHE_SET, extends: true,
    subjects: { 'lmdb': async () => { const s = await lmdbStore(); return { op: () => s.db.putSync(s.next(), s.value), close: s.close }; } },
  },
  {
    ...CACHE_MIX, extends: true,
    subjects: {
      'lmdb': async () => {
        const s = await lmdbStore();
        let n = 0;
        return { op: () => (++n % 10 === 0 ? s.db.putSync(s.next(), s.value) : s.db.get(s.next())), close: s.close };
      },
    },
  },
  {
    ...CACHE_THREADS, extends: true,
    subjects: {
      'lmdb (2 threads)': () => lmdbThreads(2),
      'lmdb, 1 thread': () => lmdbThreads(1),
    },
  },
];
