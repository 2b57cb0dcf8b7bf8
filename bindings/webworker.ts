/**
 * Threads through the web Worker API, shared by the Deno and Bun bindings. The
 * thread's entry posts `{ type: 'uwsgi-wasm:exit', code }` before it closes, since
 * a web Worker's parent is not always told that it ended.
 */
import type { SpawnHandlers, ThreadHandle, ThreadInit } from '../ts/runtime.ts';

export const EXIT_MESSAGE = 'uwsgi-wasm:exit';

interface WebWorkerLike {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(type: string, fn: (e: { data?: unknown; error?: unknown; message?: string; code?: number; preventDefault?: () => void }) => void): void;
}

export function spawnWebWorker(url: URL, init: ThreadInit, handlers: SpawnHandlers, watchClose: boolean): ThreadHandle {
  const Ctor = (globalThis as unknown as { Worker: new (u: URL, o: object) => WebWorkerLike }).Worker;
  const w = new Ctor(url, { type: 'module' });
  let ended = false;
  const end = (code: number, error?: unknown) => {
    if (ended) return;
    ended = true;
    handlers.onExit(code, error);
  };
  w.addEventListener('message', (e) => {
    const m = e.data as { type?: string; code?: number } | undefined;
    if (m && m.type === EXIT_MESSAGE) {
      // The thread closes itself right after this message; then make sure it is gone.
      setTimeout(() => { w.terminate(); end(m.code ?? 0); }, 50);
      return;
    }
    handlers.onMessage(e.data);
  });
  w.addEventListener('error', (e) => {
    e.preventDefault?.();
    w.terminate();
    end(1, e.error ?? new Error(e.message ?? 'worker error'));
  });
  if (watchClose) w.addEventListener('close', (e) => end(e.code ?? 0));
  w.postMessage(init);
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: async () => { w.terminate(); end(1); },
  };
}

type Scope = { onmessage: ((e: { data: unknown }) => void) | null; postMessage(m: unknown): void; addEventListener(t: string, f: (e: { data: unknown }) => void): void };

export function receiveInitFromParent(): Promise<ThreadInit> {
  const scope = globalThis as unknown as Scope;
  return new Promise((resolveInit) => {
    const first = (e: { data: unknown }) => {
      scope.onmessage = null;
      resolveInit(e.data as ThreadInit);
    };
    scope.onmessage = first;
  });
}

export function postToParent(m: unknown): void { (globalThis as unknown as Scope).postMessage(m); }

export function onParentMessage(fn: (m: unknown) => void): void {
  (globalThis as unknown as Scope).addEventListener('message', (e) => fn(e.data));
}

/** End the calling web Worker (the scope's own close()). */
export function endThread(): void { (globalThis as unknown as { close(): void }).close(); }
