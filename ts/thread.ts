/**
 * The entry of every thread a master starts (workers, mules, later
 * spoolers): attach to the shared memory, publish the thread's module object
 * for `import uwsgi from 'uwsgi-wasm'`, then import the user's app (a worker)
 * or the mule's file. A mule without a file serves its mailbox until stopped.
 * @module
 */
import { attachContext } from './engine.ts';
import type { Uwsgi } from './uwsgi.ts';
import { runtime } from './runtime.ts';
import { plainMule } from './mules.ts';
import { runSpoolerThread } from './spoolloop.ts';

const CURRENT = Symbol.for('uwsgi-wasm.thread');

/** The module object of the thread a master started, if this is one. */
export function currentThread(): Uwsgi | undefined {
  return (globalThis as Record<symbol, Uwsgi | undefined>)[CURRENT];
}

/** Messages between the master and its threads. */
export type ThreadMessage =
  | { type: 'uwsgi-wasm:ready' }
  | { type: 'uwsgi-wasm:exit'; code: number }
  | { type: 'uwsgi-wasm:stop' };

/**
 * Run this thread: wait for the parent's init, attach, import the app. The
 * thread ends when the app has nothing left to do (or is told to stop).
 */
export async function runWorkerThread(): Promise<void> {
  const rt = runtime();
  const init = await rt.receiveInit();
  const u = attachContext(init);
  (globalThis as Record<symbol, Uwsgi>)[CURRENT] = u;
  const finish = (code: number) => {
    rt.postToParent({ type: 'uwsgi-wasm:exit', code } satisfies ThreadMessage);
    rt.endThread();
  };
  // A thread may take over its stop (a spooler finishes its task first).
  let onStop: (() => void) | undefined;
  rt.onParentMessage((m) => {
    if ((m as ThreadMessage)?.type === 'uwsgi-wasm:stop') { if (onStop) onStop(); else finish(0); }
  });
  rt.postToParent({ type: 'uwsgi-wasm:ready' } satisfies ThreadMessage);
  if (init.role.kind === 'spooler') {
    // Ends after a stop or after spooler-max-tasks; the master respawns it unless stopping.
    await runSpoolerThread(u, init.role.app, (f) => import(rt.fileUrl(f).href), (stop) => { onStop = stop; });
    finish(0);
  } else if (init.role.kind === 'mule' && !init.role.app) {
    await plainMule(u.ctx);
  } else if (init.role.app) {
    const mod = await import(rt.fileUrl(init.role.app).href) as { default?: unknown };
    // An app may export a main function: the thread's job, after which it is done.
    if (typeof mod.default === 'function') {
      await (mod.default as (u: Uwsgi) => unknown)(u);
      finish(0);
    }
  }
}
