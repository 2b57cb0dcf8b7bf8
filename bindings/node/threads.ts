/** Node threads: `worker_threads` (a Worker's `exit` event confirms that it ended). */
// Namespace import: this file is bundled for every runtime and only runs on Node,
// and Deno/Bun do not implement every named export of the module.
import * as workerThreads from 'node:worker_threads';
import type { RuntimeThreads, ThreadInit } from '../../ts/platform/binding.ts';

/** This runtime's threads (the RuntimeThreads part of its binding). */
export const threads: RuntimeThreads = {
  isMainThread: () => workerThreads.isMainThread,
  spawnThread(url, init, handlers) {
    const w = new workerThreads.Worker(url, { workerData: init });
    let lastError: unknown;
    w.on('message', (m) => handlers.onMessage(m));
    w.on('error', (e) => { lastError = e; });
    w.on('exit', (code) => handlers.onExit(code, lastError));
    return {
      postMessage: (m: unknown) => w.postMessage(m),
      terminate: async () => { await w.terminate(); },
    };
  },
  receiveInit: async () => workerThreads.workerData as ThreadInit,
  postToParent: (m) => workerThreads.parentPort?.postMessage(m),
  onParentMessage: (fn) => { workerThreads.parentPort?.on('message', fn); },
  // Closing the port leaves nothing of ours keeping the thread alive; it exits once idle.
  endThread: () => { workerThreads.parentPort?.close(); },
};
