// piscina (29M downloads a month): the worker-thread pool Node users run to
// hand work to another thread. Its task round trip to a pool of one thread
// (bench/fixtures/piscina-echo.mjs returns its argument) stands beside our RPC
// call to another thread and our acknowledged mule message, with the same
// 16-byte payload. Piscina is Node-only (worker_threads, and its own
// Atomics-based handshake): a runtime where it does not load gets a skipped row.
import { Skip } from '../lib/proc.mjs';
import { MULE, RPC } from './names.mjs';

async function piscinaPool() {
  let Piscina;
  try {
    ({ Piscina } = await import('piscina'));
  } catch (e) {
    throw new Skip(`piscina does not load here: ${String(e?.message ?? e).split('\n')[0]}`);
  }
  const pool = new Piscina({ filename: new URL('../fixtures/piscina-echo.mjs', import.meta.url).href, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
  const arg = new Uint8Array(16).fill(1);
  // The first task starts the thread: outside the timing.
  await pool.run(arg);
  return { op: () => pool.run(arg), close: () => pool.destroy() };
}

export default [
  { ...RPC, extends: true, subjects: { 'piscina': piscinaPool } },
  { ...MULE, extends: true, subjects: { 'piscina': piscinaPool } },
];
