/**
 * Deno threads: web Workers (bindings/common/webworker.ts). Deno does not tell
 * a parent that a Worker closed: the thread's entry reports it, and the
 * worker's OS thread leaving /proc confirms it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { RuntimeThreads } from '../../ts/platform/binding.ts';
import { endThread, onParentMessage, postToParent, receiveInitFromParent, spawnWebWorker } from '../common/webworker.ts';

/** Deno's worker threads (named `worker-N` by Deno) alive now; undefined without /proc. */
function denoWorkerThreads(): Set<string> | undefined {
  try {
    const names = new Set<string>();
    for (const t of readdirSync('/proc/self/task')) {
      try {
        const n = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
        if (/^worker-\d+$/.test(n)) names.add(n);
      } catch { /* the thread ended while listing */ }
    }
    return names;
  } catch {
    return undefined;
  }
}

/** This runtime's threads (the RuntimeThreads part of its binding). */
export const threads: RuntimeThreads = {
  isMainThread: () => typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined',
  spawnThread: (url, init, handlers) => spawnWebWorker(url, init, handlers, { kind: 'os-thread', probe: denoWorkerThreads }),
  receiveInit: receiveInitFromParent,
  postToParent,
  onParentMessage,
  endThread,
};
