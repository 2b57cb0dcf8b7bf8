/** Bun binding: web Workers (with their `close` event) for threads, process for signals. */
import type { RuntimeBinding } from '../../ts/platform/runtime.ts';
import { appendFile, copyOutSmallOwn, fileUrl, hostname, memoryUsage, pathExists, readFileBytes, readTextFile, removeFile, watchPath, writeFileAtomic } from '../shared.ts';
import { listenStream, listenUdp } from './net.ts';
import { onParentMessage, postToParent, receiveInitFromParent, spawnWebWorker } from '../webworker.ts';

interface BunProcess {
  versions: { bun: string };
  arch: string;
  pid: number;
  on(s: string, f: () => void): void;
  off(s: string, f: () => void): void;
  exit(code: number): never;
}
const proc = () => (globalThis as unknown as { process: BunProcess }).process;

export const bunBinding: RuntimeBinding = {
  name: 'bun',
  get version() { return proc().versions.bun; },
  isMainThread: () => (globalThis as { Bun?: { isMainThread?: boolean } }).Bun?.isMainThread ?? true,
  prepareWasm() {},
  spawnThread: (url, init, handlers) => spawnWebWorker(url, init, handlers, { kind: 'close-event' }),
  receiveInit: receiveInitFromParent,
  postToParent,
  onParentMessage,
  // Bun's worker scope has no close(); process.exit() in a worker ends only that worker.
  endThread: () => proc().exit(0),
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    proc().on('SIGINT', a);
    proc().on('SIGTERM', b);
    return () => { proc().off('SIGINT', a); proc().off('SIGTERM', b); };
  },
  pid: () => proc().pid,
  hostname,
  memoryUsage,
  readTextFile,
  appendFile,
  fileUrl,
  pathExists,
  watchPath,
  readFileBytes,
  writeFileAtomic,
  removeFile,
  copyOut: copyOutSmallOwn,
  listenUdp,
  listenStream,
  smallOwnArrays: true,
  exit: (code) => proc().exit(code),
};
