/** Bun threads: web Workers (bindings/common/webworker.ts), whose `close` event confirms that a thread ended. */
import type { RuntimeThreads } from '../../ts/platform/binding.ts';
import { onParentMessage, postToParent, receiveInitFromParent, spawnWebWorker } from '../common/webworker.ts';

/** This runtime's threads (the RuntimeThreads part of its binding). */
export const threads: RuntimeThreads = {
  isMainThread: () => (globalThis as { Bun?: { isMainThread?: boolean } }).Bun?.isMainThread ?? true,
  spawnThread: (url, init, handlers) => spawnWebWorker(url, init, handlers, { kind: 'close-event' }),
  receiveInit: receiveInitFromParent,
  postToParent,
  onParentMessage,
  // Bun's worker scope has no close(); process.exit() in a worker ends only that worker.
  endThread: () => (globalThis as unknown as { process: { exit(code: number): never } }).process.exit(0),
};
