// Signal and timer rows: one-way signal latency to another thread (the
// handler acknowledges with Atomics.notify, so each op is a signal plus the
// cheapest possible answer), against a postMessage echo and an Atomics.notify
// ping-pong measured in the same run; and timer precision: the time per firing
// of a 5 ms timer, against setInterval.
const LIB = new URL('../../dist/index.js', import.meta.url).href;
const library = () => import(LIB);
const fixture = (f) => new URL(`../fixtures/${f}`, import.meta.url);

/**
 * Pending Atomics.waitAsync calls and unref'd threads do not keep a process
 * alive: a row whose op waits only on those holds this timer (cases.mjs exits
 * explicitly when the row is done).
 */
const keepAlive = () => setInterval(() => {}, 1 << 30);

/** Wait without blocking until `words[i]` differs from `seen`. */
async function changed(words, i, seen) {
  while (Atomics.load(words, i) === seen) {
    const w = Atomics.waitAsync(words, i, seen, 1000);
    if (w.async) await w.value;
  }
}

/** A master with one worker running the ack fixture; `op` raises `num` and waits for the ack. */
async function signalRow(num) {
  const { run } = await library();
  const master = await run({ options: { workers: 1, sharedarea: 1 }, app: fixture('signal-ack.mjs').pathname, handleSignals: false });
  await master.ready();
  const u = master.uwsgi;
  const view = u.sharedarea(0).view();
  const words = new Int32Array(view.buffer, view.byteOffset, 4);
  await changed(words, 1, 0);
  return async () => {
    const seen = Atomics.load(words, 0);
    u.signal(num);
    await changed(words, 0, seen);
  };
}

export default [
  {
    suite: 'signals',
    case: 'signal to another thread, acknowledged',
    threads: 2,
    async: true,
    subjects: {
      'uwsgi-wasm': () => signalRow(1),
      'uwsgi-wasm (first available worker)': () => signalRow(2),
      'Atomics.notify': async () => {
        const { Worker } = await import('node:worker_threads');
        const sab = new SharedArrayBuffer(8);
        const words = new Int32Array(sab);
        const w = new Worker(fixture('signal-atomics-pong.mjs'), { workerData: sab });
        w.unref?.();
        keepAlive();
        return async () => {
          const seen = Atomics.load(words, 1);
          Atomics.add(words, 0, 1);
          Atomics.notify(words, 0);
          await changed(words, 1, seen);
        };
      },
      'postMessage': async () => {
        const { Worker } = await import('node:worker_threads');
        const w = new Worker(fixture('echo-worker.mjs'));
        w.unref?.();
        let resolveNext;
        w.on('message', (m) => resolveNext(m));
        return () => new Promise((r) => { resolveNext = r; w.postMessage(1); });
      },
    },
  },
  {
    suite: 'signals',
    case: 'timer every 5 ms, time per firing',
    threads: 1,
    async: true,
    subjects: {
      // add_timer fired by the engine's scheduler (a deadline heap in the core,
      // Atomics.waitAsync until the deadline); the handler runs in this thread.
      'uwsgi-wasm': async () => {
        const { createEngine } = await library();
        const { uwsgi } = createEngine();
        let next;
        uwsgi.register_signal(3, '', () => { next?.(); });
        uwsgi.add_timer(3, 0.005);
        keepAlive(); // the standalone scheduler does not keep the process alive by itself
        return () => new Promise((r) => { next = r; });
      },
      'setInterval': async () => {
        let next;
        setInterval(() => { next?.(); }, 5);
        return () => new Promise((r) => { next = r; });
      },
    },
  },
];
