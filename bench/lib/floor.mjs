// The physical floor of a cross-thread round trip, as subjects' setups for any
// row that wakes another thread (RPC, mules, signals): the same payload bounced
// off a worker_threads worker by postMessage, and by Atomics.notify with the
// sender awaiting Atomics.waitAsync (the mechanism uwsgi-wasm's own mailboxes use).
//
//   import { postMessageRoundTrip, atomicsRoundTrip } from './floor.mjs';
//   subjects: { 'postMessage': postMessageRoundTrip, 'Atomics.notify': atomicsRoundTrip }

const fixture = (name) => new URL(`../fixtures/${name}`, import.meta.url);

/** postMessage a 16-byte Uint8Array to an echoing worker and await the echo. */
export async function postMessageRoundTrip() {
  const { Worker } = await import('node:worker_threads');
  const w = new Worker(fixture('echo-worker.mjs'));
  w.unref?.();
  let resolveNext;
  w.on('message', (m) => resolveNext(m));
  const arg = new Uint8Array(16).fill(1);
  return () => new Promise((r) => { resolveNext = r; w.postMessage(arg); });
}

/** Store a new ping, Atomics.notify the worker, await its pong with Atomics.waitAsync. */
export async function atomicsRoundTrip() {
  if (typeof Atomics.waitAsync !== 'function') throw new Error('Atomics.waitAsync is not available in this runtime');
  const { Worker } = await import('node:worker_threads');
  const sab = new SharedArrayBuffer(8);
  const words = new Int32Array(sab);
  // Not unref'd: a pending Atomics.waitAsync does not keep the event loop alive, the worker does.
  new Worker(fixture('atomics-pong.mjs'), { workerData: sab });
  let seq = 0;
  return {
    async op() {
      const ping = (seq = (seq % 0x3fffffff) + 1);
      const before = Atomics.load(words, 1);
      Atomics.store(words, 0, ping); // publish the ping, then wake the worker
      Atomics.notify(words, 0);
      while (Atomics.load(words, 1) !== ping) {
        const r = Atomics.waitAsync(words, 1, before, 1000); // until the pong word changes
        if (r.async) await r.value;
      }
      return ping;
    },
    close() { Atomics.store(words, 0, -1); Atomics.notify(words, 0); },
  };
}
