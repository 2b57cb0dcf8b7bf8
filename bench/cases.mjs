// The foundation's benchmark rows (locks, sharedarea, cache, queue, RPC, mules,
// the wasm boundary). More rows live in bench/cases/*.mjs, one file per area,
// each `export default [ ...rows ]` of the same shape; bench/row.mjs loads them
// all and measures one row per process (bench/README.md describes the shape).
//
// Plain ESM that runs unchanged on Node, Deno and Bun. Each subject's `setup()`
// builds its state outside the timed region and returns `op`, a function doing
// one operation. An op whose work has no side effect must create one (see
// 'js-call'), or the JIT may hoist it out of the timed loop.

const LIB = new URL('../dist/index.js', import.meta.url).href;
const library = () => import(LIB);

/** Spin-lock on one Int32 word: the least a lock over shared memory can cost. */
function rawSpinLock() {
  const word = new Int32Array(new SharedArrayBuffer(4));
  return () => {
    // acquire: 0 -> 1; spin while another holder has it (never, single thread)
    while (Atomics.compareExchange(word, 0, 0, 1) !== 0);
    // release: publish the unlocked state
    Atomics.store(word, 0, 0);
    return 0;
  };
}


/**
 * The cache suite's data: 16-byte keys, a fixed order over the working set.
 * Default: 32-byte values, 10k keys; the large-value rows use fewer keys, so
 * that the working set (1 MiB, 4 MiB) fits a thread's default near cache.
 */
export function cacheData(size = 32, count = 10_000) {
  const keys = Array.from({ length: count }, (_, i) => `key:${String(i * 7919).padStart(12, '0')}`);
  const value = new Uint8Array(size).fill(0x61);
  let i = 0;
  const next = () => keys[(i = (i + 1) % keys.length)];
  return { keys, value, next };
}

/** The cache2 spec the uwsgi-wasm rows use for values of `size` bytes. */
const cacheSpec = (size = 32) => `name=default,items=20000,blocksize=${Math.max(64, size)},keysize=32`;

async function uwsgiCache(size, count) {
  const { createEngine } = await library();
  const { uwsgi } = createEngine({ cache2: cacheSpec(size) });
  const d = cacheData(size, count);
  for (const k of d.keys) uwsgi.cache_update(k, d.value);
  return { uwsgi, ...d };
}

/** A JS peer store `c` (anything with `set`) filled with the rows' keys. */
export function filled(c, size, count) {
  const d = cacheData(size, count);
  for (const k of d.keys) c.set(k, d.value);
  return { c, ...d };
}

async function lruCache(opts, size, count) {
  const { LRUCache } = await import('lru-cache');
  return filled(new LRUCache({ max: 20_000, ...opts }), size, count);
}

export function mapCache(size, count) {
  return filled(new Map(), size, count);
}

/**
 * What a near-cache hit cannot go below on a runtime, with no uwsgi-wasm code:
 * a `Map` from key to what is remembered, two plain loads from a shared
 * WebAssembly memory where items lie 96 bytes apart (the item's version and
 * stamp), and the store of a hit count into the same memory.
 */
function nearHitFloor() {
  const d = cacheData();
  const i32 = new Int32Array(new WebAssembly.Memory({ initial: 64, maximum: 64, shared: true }).buffer);
  const ITEM = 24; // int32 words between items (96 bytes)
  const known = new Map();
  d.keys.forEach((k, i) => {
    const vi = 64 + i * ITEM + 6;
    i32[vi] = 1;
    i32[vi + 6] = i;
    known.set(k, { vi, ver: 1, lo: i, value: d.value, exp: 0 });
  });
  return () => {
    const k = known.get(d.next());
    if (k !== undefined && i32[k.vi] === k.ver && i32[k.vi + 6] === k.lo && k.exp === 0) {
      i32[0] = i32[0] + 1;
      return k.value;
    }
    return null;
  };
}

/** Keys per large-value row: 1 KiB values over 1000 keys (1 MiB), 64 KiB values over 64 keys (4 MiB). */
const LARGE = [[1024, 1000, '1 KiB value, 1000 keys'], [65536, 64, '64 KiB value, 64 keys']];

/** Keys the writer thread of the contended row rewrites: 1% of the 10k. */
const REWRITTEN = 100;

/**
 * A master with one worker that rewrites 1% of the keys (every 100th) in a
 * loop until the row ends, while the main thread reads all of them: what a
 * thread's near cache is worth when another thread writes.
 */
async function cacheRewritten() {
  const { run } = await library();
  const app = new URL('./fixtures/cache-writer.mjs', import.meta.url).pathname;
  const master = await run({ options: { workers: 1, sharedarea: 1, cache2: cacheSpec() }, app, handleSignals: false });
  await master.ready();
  const u = master.uwsgi;
  const d = cacheData();
  for (const k of d.keys) u.cache_update(k, d.value);
  const view = u.sharedarea(0).view();
  const words = new Int32Array(view.buffer, view.byteOffset, 8);
  Atomics.store(words, 1, REWRITTEN);
  // Publishes the key count and starts the writer.
  Atomics.store(words, 0, 1);
  Atomics.notify(words, 0);
  // Waits until the writer runs, so every sample is taken while it writes.
  while (Atomics.load(words, 2) === 0) Atomics.wait(words, 2, 0, 10);
  return {
    op: () => u.cache_get(d.next()),
    close: async () => {
      // Publishes "stop" to the writer.
      Atomics.store(words, 0, -1);
      await master.stop();
    },
  };
}

/** Gets per op of the thread-scaling row: the op is this many gets, done by one thread or split over two. */
const ROUND_GETS = 2000;

/**
 * A master with one worker sharing the cache with the main thread (the cache
 * filled as in the other rows). `threads` 2: each op, the main thread and the
 * worker each do half the gets (the worker is released through area 0 and
 * the main thread waits for it); 1: the main thread does them all.
 */
async function cacheThreads(threads, compute = false) {
  const { run } = await library();
  const app = new URL('./fixtures/cache-reader.mjs', import.meta.url).pathname;
  const master = await run({ options: { workers: 1, sharedarea: 1, cache2: 'name=default,items=20000,blocksize=64,keysize=32' }, app, handleSignals: false });
  await master.ready();
  const u = master.uwsgi;
  const d = cacheData();
  for (const k of d.keys) u.cache_update(k, d.value);
  const view = u.sharedarea(0).view();
  const words = new Int32Array(view.buffer, view.byteOffset, 8);
  const share = threads === 2 ? ROUND_GETS / 2 : ROUND_GETS;
  Atomics.store(words, 2, ROUND_GETS - share);
  Atomics.store(words, 4, compute ? 1 : 0);
  const { jsHash } = await import(app);
  let round = 0;
  let hits = 0;
  return () => {
    if (threads === 2) {
      // Publishes the next round to the worker.
      Atomics.store(words, 0, ++round);
      Atomics.notify(words, 0);
    }
    if (compute) for (let i = 0; i < share; i++) hits += jsHash(d.next()) & 1;
    else for (let i = 0; i < share; i++) if (u.cache_get(d.next()) !== null) hits++;
    // Waits until the worker finished this round: spins (it should be on the other core), then
    // sleeps until its notify, so a busy machine does not lose the worker's core to this spin.
    if (threads === 2) {
      for (let spins = 0; Atomics.load(words, 1) !== round; spins++) if (spins > 10_000) Atomics.wait(words, 1, round - 1, 1);
    }
    return hits + Atomics.load(words, 3);
  };
}

/** get / set / 90:10 mix rows: uwsgi-wasm against lru-cache (with and without ttl) and Map. */
function cacheCases() {
  return [
    {
      suite: 'cache', case: 'get (16 B key, 32 B value, 10k keys)', threads: 1,
      subjects: {
        'uwsgi-wasm': async () => { const { uwsgi, next } = await uwsgiCache(); return () => uwsgi.cache_get(next()); },
        'uwsgi-wasm (get_into)': async () => {
          const { uwsgi, next } = await uwsgiCache();
          const buf = new Uint8Array(64);
          return () => uwsgi.cache_get_into(next(), buf);
        },
        'lru-cache': async () => { const { c, next } = await lruCache({}); return () => c.get(next()); },
        'lru-cache ttl': async () => { const { c, next } = await lruCache({ ttl: 600_000 }); return () => c.get(next()); },
        'Map': async () => { const { c, next } = mapCache(); return () => c.get(next()); },
        'near-hit floor (Map + 2 shared loads, no uwsgi-wasm)': async () => nearHitFloor(),
      },
    },
    ...LARGE.map(([size, count, name]) => ({
      suite: 'cache', case: `get (16 B key, ${name})`, threads: 1,
      subjects: {
        'uwsgi-wasm': async () => { const { uwsgi, next } = await uwsgiCache(size, count); return () => uwsgi.cache_get(next()); },
        'lru-cache': async () => { const { c, next } = await lruCache({}, size, count); return () => c.get(next()); },
        'Map': async () => { const { c, next } = mapCache(size, count); return () => c.get(next()); },
      },
    })),
    {
      // Our reads while another thread rewrites 1% of the keys, against lru-cache's reads of a cache
      // no other thread can write (goal: at least 0.7x lru-cache's get).
      suite: 'cache', case: 'get while another thread rewrites 1% of the keys (16 B key, 32 B value, 10k keys)', threads: 1,
      subjects: {
        'uwsgi-wasm (1 writer thread)': { setup: cacheRewritten, threads: 2 },
        'lru-cache': async () => { const { c, next } = await lruCache({}); return () => c.get(next()); },
        'lru-cache ttl': async () => { const { c, next } = await lruCache({ ttl: 600_000 }); return () => c.get(next()); },
      },
    },
    {
      suite: 'cache', case: 'set (overwrite)', threads: 1,
      subjects: {
        'uwsgi-wasm': async () => { const { uwsgi, next, value } = await uwsgiCache(); return () => uwsgi.cache_update(next(), value); },
        'lru-cache': async () => { const { c, next, value } = await lruCache({}); return () => c.set(next(), value); },
        'lru-cache ttl': async () => { const { c, next, value } = await lruCache({ ttl: 600_000 }); return () => c.set(next(), value); },
        'Map': async () => { const { c, next, value } = mapCache(); return () => c.set(next(), value); },
      },
    },
    {
      suite: 'cache', case: '90:10 get:set mix', threads: 1,
      subjects: {
        'uwsgi-wasm': async () => {
          const { uwsgi, next, value } = await uwsgiCache();
          let n = 0;
          return () => (++n % 10 === 0 ? uwsgi.cache_update(next(), value) : uwsgi.cache_get(next()));
        },
        'lru-cache ttl': async () => {
          const { c, next, value } = await lruCache({ ttl: 600_000 });
          let n = 0;
          return () => (++n % 10 === 0 ? c.set(next(), value) : c.get(next()));
        },
        'lru-cache': async () => {
          const { c, next, value } = await lruCache({});
          let n = 0;
          return () => (++n % 10 === 0 ? c.set(next(), value) : c.get(next()));
        },
      },
    },
    {
      // Read scaling: the same 2000 gets per op, by one thread or split over two sharing the cache.
      // The ratio on the 2-thread row is the aggregate speed-up (goal: at least 1.6x; uWSGI's processes halve).
      suite: 'cache', case: `${ROUND_GETS} gets: 1 thread vs 2 threads sharing the cache`, threads: 2,
      subjects: {
        'uwsgi-wasm (2 threads)': () => cacheThreads(2),
        'uwsgi-wasm, 1 thread': () => cacheThreads(1),
      },
    },
    {
      // The floor for the row above on this machine: the same rounds of plain-JS work touching no
      // shared memory. Its 1-thread / 2-thread time is the best scaling the cores allow right now.
      suite: 'cache', case: `${ROUND_GETS} CPU-bound JS steps: 1 thread vs 2 threads (machine floor)`, threads: 2,
      subjects: {
        'js (2 threads)': () => cacheThreads(2, true),
        'js, 1 thread': () => cacheThreads(1, true),
      },
    },
  ];
}

export const CASES = [
  {
    suite: 'locks',
    case: 'lock+unlock',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const { uwsgi } = createEngine({ locks: 4, sharedarea: 1 });
        return () => { uwsgi.lock(1); uwsgi.unlock(1); return 0; };
      },
      'raw-atomics': async () => rawSpinLock(),
    },
  },
  {
    suite: 'sharedarea',
    case: 'inclong',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const { uwsgi } = createEngine({ locks: 4, sharedarea: 1 });
        return () => uwsgi.sharedarea_inclong(0);
      },
      'raw-atomics': async () => {
        const counters = new BigInt64Array(new SharedArrayBuffer(8));
        return () => Atomics.add(counters, 0, 1n);
      },
    },
  },
  {
    // A shared hold: the read lock path (a record in the reader's own thread slot, then a check for a writer).
    suite: 'sharedarea',
    case: 'read64 (shared hold)',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const { uwsgi } = createEngine({ locks: 4, sharedarea: 1 });
        const area = uwsgi.sharedarea(0);
        return () => area.read64(8);
      },
      'raw-atomics': async () => {
        const counters = new BigInt64Array(new SharedArrayBuffer(16));
        return () => Atomics.load(counters, 1);
      },
    },
  },
  ...cacheCases(),
  {
    suite: 'queue',
    case: 'push+pull (16-byte value)',
    threads: 1,
    subjects: {
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const { uwsgi } = createEngine({ queue: 64 });
        const value = new Uint8Array(16).fill(7);
        return () => { uwsgi.queue_push(value); return uwsgi.queue_pull(); };
      },
      // The same FIFO on a plain JS array ring of copies: no sharing, no locking.
      'js-array-ring': async () => {
        const slots = new Array(64).fill(null);
        let head = 0;
        let tail = 0;
        const value = new Uint8Array(16).fill(7);
        return () => {
          slots[tail] = value.slice();
          tail = (tail + 1) % 64;
          const out = slots[head];
          slots[head] = null;
          head = (head + 1) % 64;
          return out;
        };
      },
    },
  },
  {
    suite: 'rpc',
    case: 'round trip to another thread',
    threads: 2,
    async: true,
    subjects: {
      // The master thread calls `echo`, registered by worker 1; arguments and
      // result travel through shared memory, the worker is woken with Atomics.
      'uwsgi-wasm': async () => {
        const { run } = await library();
        const app = new URL('./fixtures/rpc-echo.mjs', import.meta.url).pathname;
        const master = await run({ options: { workers: 1 }, app, handleSignals: false });
        await master.ready();
        const u = master.uwsgi;
        const arg = new Uint8Array(16).fill(1);
        const names = () => u.rpc_list().map((n) => new TextDecoder().decode(n));
        while (!names().includes('echo')) await new Promise((r) => setTimeout(r, 5));
        return () => u.rpc(null, 'echo', arg);
      },
      'postMessage': async () => {
        const { Worker } = await import('node:worker_threads');
        const w = new Worker(new URL('./fixtures/echo-worker.mjs', import.meta.url));
        w.unref?.();
        let resolveNext;
        w.on('message', (m) => resolveNext(m));
        const arg = new Uint8Array(16).fill(1);
        return () => new Promise((r) => { resolveNext = r; w.postMessage(arg); });
      },
    },
  },
  {
    suite: 'mules',
    case: 'message to a mule, acknowledged',
    threads: 2,
    async: true,
    subjects: {
      'uwsgi-wasm': async () => {
        const { run } = await library();
        const app = new URL('./fixtures/mule-ack.mjs', import.meta.url).pathname;
        const master = await run({ options: { workers: 1, sharedarea: 1, mule: app }, handleSignals: false });
        await master.ready();
        const u = master.uwsgi;
        const view = u.sharedarea(0).view();
        const words = new Int32Array(view.buffer, view.byteOffset, 4);
        const msg = new Uint8Array(16).fill(2);
        return async () => {
          const seen = Atomics.load(words, 0);
          while (!u.mule_msg(msg, 1)) await new Promise((r) => setTimeout(r, 0));
          while (Atomics.load(words, 0) === seen) await Atomics.waitAsync(words, 0, seen, 1000).value;
        };
      },
    },
  },
  {
    suite: 'boundary',
    case: 'trivial call',
    threads: 1,
    subjects: {
      // `ctx` is internal but reachable: the raw core export, no facade around it.
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const core = createEngine({ locks: 4, sharedarea: 1 }).uwsgi.ctx.x;
        return () => core.lock_count();
      },
      // A call the JIT may inline; the counter keeps it from being hoisted away.
      'js-call': async () => {
        const state = { calls: 0 };
        function countCall() { return ++state.calls; }
        return () => countCall();
      },
    },
  },
];
