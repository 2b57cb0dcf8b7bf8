/** Entry module of every thread a master starts (bundled as dist/worker.js). */
import { runWorkerThread } from './process/thread.ts';

runWorkerThread().catch((e) => {
  // An app that fails to load ends its thread with an error: the master sees a crash and respawns.
  queueMicrotask(() => { throw e; });
});
