/** Deno binding: web Workers for threads, Deno.addSignalListener for signals. */
import { readdirSync, readFileSync } from 'node:fs';
import type { RuntimeBinding } from '../../ts/platform/runtime.ts';
import { appendFile, copyOutPooled, fileUrl, hostname, memoryUsage, pathExists, readFileBytes, readTextFile, removeFile, writeFileAtomic } from '../shared.ts';
import { listenStream, listenUdp } from './net.ts';
import { endThread, onParentMessage, postToParent, receiveInitFromParent, spawnWebWorker } from '../webworker.ts';

interface DenoNs {
  version: { deno: string };
  build: { arch: string };
  pid: number;
  addSignalListener(s: string, f: () => void): void;
  removeSignalListener(s: string, f: () => void): void;
  exit(code: number): never;
  watchFs(path: string): AsyncIterable<{ kind: string }> & { close(): void };
}
const deno = () => (globalThis as unknown as { Deno: DenoNs }).Deno;

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

export const denoBinding: RuntimeBinding = {
  name: 'deno',
  get version() { return deno().version.deno; },
  isMainThread: () => typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'undefined',
  prepareWasm() {},
  // Deno does not tell a parent that a web Worker closed: the entry reports it,
  // and the worker's OS thread leaving /proc confirms it (bindings/webworker.ts).
  spawnThread: (url, init, handlers) => spawnWebWorker(url, init, handlers, { kind: 'os-thread', probe: denoWorkerThreads }),
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
  appendFile,
  fileUrl,
  pathExists,
  // Deno.watchFs (Deno's node:fs watch cannot be made non-persistent).
  watchPath(path, onChange) {
    const w = deno().watchFs(path);
    let open = true;
    void (async () => {
      try {
        for await (const e of w) if (open && e.kind !== 'access' && e.kind !== 'other') onChange();
      } catch { /* closed */ }
    })();
    return () => { if (open) { open = false; w.close(); } };
  },
  readFileBytes,
  writeFileAtomic,
  removeFile,
  copyOut: copyOutPooled,
  listenUdp,
  listenStream,
  smallOwnArrays: false,
  exit: (code) => deno().exit(code),
};
