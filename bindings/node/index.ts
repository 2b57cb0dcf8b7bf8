/** Node.js binding: worker_threads for threads, process for signals. */
// Namespace imports: this file is bundled for every runtime and only runs on Node,
// and Deno/Bun do not implement every named export of these modules.
import * as threads from 'node:worker_threads';
import * as v8 from 'node:v8';
import type { RuntimeBinding, SpawnHandlers, ThreadInit } from '../../ts/platform/runtime.ts';
import { appendFile, copyOutPooled, fileUrl, hostname, memoryUsage, pathExists, readFileBytes, readTextFile, removeFile, watchPath, writeFileAtomic } from '../shared.ts';
import { listenStream, listenUdp } from './net.ts';

let wasmPrepared = false;

export const nodeBinding: RuntimeBinding = {
  name: 'node',
  version: process.versions.node,
  isMainThread: () => threads.isMainThread,
  prepareWasm() {
    if (wasmPrepared) return;
    wasmPrepared = true;
    // Node 20's baseline compiler (Liftoff) miscompiles a contended spin-lock
    // loop (research P1); later tiers are correct. Must run before compiling.
    if (Number(process.versions.node.split('.')[0]) < 22) v8.setFlagsFromString('--no-liftoff');
  },
  spawnThread(url: URL, init: ThreadInit, handlers: SpawnHandlers) {
    const w = new threads.Worker(url, { workerData: init });
    let lastError: unknown;
    w.on('message', (m) => handlers.onMessage(m));
    w.on('error', (e) => { lastError = e; });
    w.on('exit', (code) => handlers.onExit(code, lastError));
    return {
      postMessage: (m: unknown) => w.postMessage(m),
      terminate: async () => { await w.terminate(); },
    };
  },
  receiveInit: async () => threads.workerData as ThreadInit,
  postToParent: (m) => threads.parentPort?.postMessage(m),
  onParentMessage: (fn) => { threads.parentPort?.on('message', fn); },
  // Closing the port leaves nothing of ours keeping the thread alive; it exits once idle.
  endThread: () => { threads.parentPort?.close(); },
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    process.on('SIGINT', a);
    process.on('SIGTERM', b);
    return () => { process.off('SIGINT', a); process.off('SIGTERM', b); };
  },
  pid: () => process.pid,
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
  copyOut: copyOutPooled,
  listenUdp,
  listenStream,
  smallOwnArrays: false,
  exit: (code) => process.exit(code),
};
