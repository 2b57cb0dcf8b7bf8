/** Deno binding: web Workers for threads, Deno.addSignalListener for signals. */
import type { RuntimeBinding } from '../../ts/runtime.ts';
import { fileUrl, hostname, memoryUsage, readTextFile } from '../shared.ts';
import { listenStream, listenUdp } from './net.ts';
import { endThread, onParentMessage, postToParent, receiveInitFromParent, spawnWebWorker } from '../webworker.ts';

interface DenoNs {
  version: { deno: string };
  pid: number;
  addSignalListener(s: string, f: () => void): void;
  removeSignalListener(s: string, f: () => void): void;
  exit(code: number): never;
}
const deno = () => (globalThis as unknown as { Deno: DenoNs }).Deno;

export const denoBinding: RuntimeBinding = {
  name: 'deno',
  get version() { return deno().version.deno; },
  isMainThread: () => typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined',
  prepareWasm() {},
  // Deno does not tell a parent that a web Worker closed: the entry reports it.
  spawnThread: (url, init, handlers) => spawnWebWorker(url, init, handlers, false),
  receiveInit: receiveInitFromParent,
  postToParent,
  onParentMessage,
  endThread,
  onTerminationSignal(fn) {
    const a = () => fn('SIGINT');
    const b = () => fn('SIGTERM');
    deno().addSignalListener('SIGINT', a);
    deno().addSignalListener('SIGTERM', b);
    return () => { deno().removeSignalListener('SIGINT', a); deno().removeSignalListener('SIGTERM', b); };
  },
  pid: () => deno().pid,
  hostname,
  memoryUsage,
  readTextFile,
  fileUrl,
  listenUdp,
  listenStream,
  exit: (code) => deno().exit(code),
};
