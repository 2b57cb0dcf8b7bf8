/**
 * The entry of every thread a master starts (workers, mules, later
 * spoolers): attach to the shared memory, publish the thread's module object
 * for `import uwsgi from 'uwsgi-wasm'`, then import the user's app (a worker)
 * or the mule's file. A mule without a file serves its mailbox until stopped.
 * @module
 */
import { attachContext } from '../kernel/engine.ts';
import type { Uwsgi } from '../uwsgi.ts';
import { runtime } from '../platform/index.ts';
import { plainMule } from '../mules/mules.ts';
import { processOf, setThreadControl } from './process.ts';
import { RowField as F } from '../kernel/abi.ts';
import { startThreadServer, stopThreadServer } from '../server/serve.ts';
import { isJob } from '../server/apps.ts';
import { runSpoolerThread } from '../spooler/loop.ts';

const CURRENT = Symbol.for('uwsgi-wasm.thread');

/** The module object of the thread a master started, if this is one. */
export function currentThread(): Uwsgi | undefined {
  return (globalThis as Record<symbol, Uwsgi | undefined>)[CURRENT];
}

/** Messages between the master and its threads. */
export type ThreadMessage =
  | { type: 'uwsgi-wasm:ready' }
  | { type: 'uwsgi-wasm:exit'; code: number }
  | { type: 'uwsgi-wasm:stop' }
  /** The thread's app (or mule file) is imported: it serves from now on. */
  | { type: 'uwsgi-wasm:loaded' }
  /** `uwsgi.reload()` / `uwsgi.stop()` called in a thread: the master acts. */
  | { type: 'uwsgi-wasm:control'; op: 'reload' | 'stop' }
  /** `uwsgi.mule_spawn()` called in a thread: the master starts mule `ident` (already claimed). */
  | { type: 'uwsgi-wasm:control'; op: 'mule_spawn'; ident: number; file: string | null }
  /** A worker accepts on every configured listener (sent only when there are listeners). */
  | { type: 'uwsgi-wasm:serving' }
  /** Importing the thread's file (app, mule file, spooler-import file) threw: the thread ends with it. */
  | { type: 'uwsgi-wasm:import-failed'; file: string; error: string };

/** How an import failure is told apart from another: the error's name, code and message. */
export function importErrorText(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${typeof code === 'string' ? ` ${code}` : ''}: ${e.message}`;
  }
  return String(e);
}

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
    // Listeners would keep the thread alive: close them first.
    void stopThreadServer().finally(() => rt.endThread());
  };
  const serveListeners = async (mod: unknown) => {
    if (init.role.kind !== 'worker') return;
    if (await startThreadServer(u.ctx, init.role.app, mod, init.role.listen)) rt.postToParent({ type: 'uwsgi-wasm:serving' } satisfies ThreadMessage);
  };
  // A thread may take over its stop (a spooler finishes its task first).
  let onStop: (() => void) | undefined;
  rt.onParentMessage((m) => {
    if ((m as ThreadMessage)?.type === 'uwsgi-wasm:stop') { if (onStop) onStop(); else finish(0); }
  });
  setThreadControl({
    reload: () => rt.postToParent({ type: 'uwsgi-wasm:control', op: 'reload' } satisfies ThreadMessage),
    stop: () => rt.postToParent({ type: 'uwsgi-wasm:control', op: 'stop' } satisfies ThreadMessage),
    spawnMule: (ident, file) => rt.postToParent({ type: 'uwsgi-wasm:control', op: 'mule_spawn', ident, file } satisfies ThreadMessage),
  });
  const proc = processOf(u.ctx); // captures is_a_reload at start
  // Tells the master why the thread is about to die, so that it can stop respawning one that
  // fails at import the same way again and again.
  const importFile = async (file: string): Promise<unknown> => {
    try {
      return await import(rt.fileUrl(file).href);
    } catch (e) {
      rt.postToParent({ type: 'uwsgi-wasm:import-failed', file, error: importErrorText(e) } satisfies ThreadMessage);
      throw e;
    }
  };
  rt.postToParent({ type: 'uwsgi-wasm:ready' } satisfies ThreadMessage);
  const loaded = (startedMs: number) => {
    if (proc.row > 0) {
      u.ctx.x.wk_set(proc.row, F.STARTUP, Math.floor((performance.now() - startedMs) / 1000));
      u.ctx.x.wk_set(proc.row, F.APP, 1);
    }
    rt.postToParent({ type: 'uwsgi-wasm:loaded' } satisfies ThreadMessage);
  };
  if (init.role.kind === 'spooler') {
    rt.postToParent({ type: 'uwsgi-wasm:loaded' } satisfies ThreadMessage);
    // Ends after a stop or after spooler-max-tasks; the master respawns it unless stopping.
    await runSpoolerThread(u.ctx, init.role.app, importFile, (stop) => { onStop = stop; });
    finish(0);
  } else if (init.role.kind === 'mule' && !init.role.app) {
    rt.postToParent({ type: 'uwsgi-wasm:loaded' } satisfies ThreadMessage);
    await plainMule(u.ctx);
  } else if (init.role.kind === 'worker' && !init.role.app) {
    // No app: the listeners still answer management packets (cache, RPC, ping...).
    await serveListeners(undefined);
    rt.postToParent({ type: 'uwsgi-wasm:loaded' } satisfies ThreadMessage);
  } else if (init.role.app) {
    const t0 = performance.now();
    const mod = await importFile(init.role.app) as { default?: unknown };
    // Loaded means serving: a reload retires old workers only once new ones accept.
    await serveListeners(mod);
    loaded(t0);
    // An app may export a main function: the thread's job, after which it is done (a (req, res) app is served instead).
    if (isJob(mod)) {
      await (mod.default as (u: Uwsgi) => unknown)(u);
      finish(0);
    }
  } else {
    rt.postToParent({ type: 'uwsgi-wasm:loaded' } satisfies ThreadMessage);
  }
}
