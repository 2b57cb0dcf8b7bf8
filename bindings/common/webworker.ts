/**
 * Threads through the web Worker API, shared by the Deno and Bun bindings. The
 * thread's entry posts `{ type: 'uwsgi-wasm:exit', code }` before it closes, since
 * a web Worker's parent is not always told that it ended.
 *
 * A worker is reported gone (`onExit`, and `terminate()` resolving) only once
 * the runtime confirms it no longer runs, so the master never frees a slot, or
 * the locks of a thread that still executes:
 * - Bun fires a `close` event when the worker's thread has ended;
 * - Deno fires nothing, and `terminate()` does not stop a worker that never
 *   returns to its event loop (denoland/deno#35657). Its binding gives an OS
 *   thread probe instead: Deno names each worker's thread `worker-N`, and the
 *   thread leaves `/proc/self/task` when the worker has really stopped. Where
 *   there is no probe (no /proc), the end is assumed after a short delay.
 */
import type { SpawnHandlers, ThreadHandle, ThreadInit } from '../../ts/platform/binding.ts';

/** The `type` of the message a thread's entry posts just before it ends. */
export const EXIT_MESSAGE = 'uwsgi-wasm:exit';

interface WebWorkerLike {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(type: string, fn: (e: { data?: unknown; error?: unknown; message?: string; code?: number; preventDefault?: () => void }) => void): void;
}

/** Names of the runtime's worker OS threads now, or undefined when they cannot be listed. */
export type ThreadProbe = () => Set<string> | undefined;

/** How a runtime confirms that a worker is gone. */
export type ExitConfirmation = { kind: 'close-event' } | { kind: 'os-thread'; probe: ThreadProbe };

const POLL_MS = 5;
const UNCONFIRMED_MS = 50;
/** How long a failed worker's last messages get to arrive before it is terminated. */
const ERROR_DRAIN_MS = 50;

/** Start a web Worker on `url`, hand it `init`, and report its end once `confirm` says it no longer runs. */
export function spawnWebWorker(url: URL, init: ThreadInit, handlers: SpawnHandlers, confirm: ExitConfirmation): ThreadHandle {
  const Ctor = (globalThis as unknown as { Worker: new (u: URL, o: object) => WebWorkerLike }).Worker;
  const before = confirm.kind === 'os-thread' ? confirm.probe() : undefined;
  const w = new Ctor(url, { type: 'module' });
  // The one OS thread that appeared with this worker (the runtime starts it inside the constructor).
  let osThread: string | undefined;
  if (confirm.kind === 'os-thread' && before) {
    const fresh = [...(confirm.probe() ?? [])].filter((n) => !before.has(n));
    if (fresh.length === 1) osThread = fresh[0];
  }
  let ended = false;
  let pendingCode: number | undefined;
  let pendingError: unknown;
  let watching = false;
  const goneWaiters: Array<() => void> = [];
  const end = (code: number, error?: unknown) => {
    if (ended) return;
    ended = true;
    handlers.onExit(code, error);
    goneWaiters.splice(0).forEach((f) => f());
  };
  /** The worker was told to end (or ended itself): report it once the runtime confirms. */
  const awaitGone = (code: number, error?: unknown) => {
    if (pendingCode === undefined) { pendingCode = code; pendingError = error; }
    if (watching || ended) return;
    watching = true;
    if (confirm.kind === 'close-event') return; // the close listener reports it
    if (osThread === undefined) { setTimeout(() => end(pendingCode!, pendingError), UNCONFIRMED_MS); return; }
    const poll = () => {
      const now = confirm.probe();
      if (now === undefined || !now.has(osThread!)) end(pendingCode!, pendingError);
      else setTimeout(poll, POLL_MS);
    };
    poll();
  };
  w.addEventListener('message', (e) => {
    const m = e.data as { type?: string; code?: number } | undefined;
    if (m && m.type === EXIT_MESSAGE) {
      // The thread closes itself right after this message; terminate makes sure, the runtime confirms.
      w.terminate();
      awaitGone(m.code ?? 0);
      return;
    }
    handlers.onMessage(e.data);
  });
  w.addEventListener('error', (e) => {
    e.preventDefault?.();
    const error = e.error ?? new Error(e.message ?? 'worker error');
    if (pendingCode === undefined) { pendingCode = 1; pendingError = error; }
    // What the thread posted just before it failed (the master's import-failed report) can reach
    // us after this event, and terminate() drops what has not been delivered: seen on Deno under
    // load, where a lost report let a mule broken at import be respawned past its limit.
    setTimeout(() => { w.terminate(); awaitGone(1, error); }, ERROR_DRAIN_MS);
  });
  if (confirm.kind === 'close-event') {
    w.addEventListener('close', (e) => end(pendingCode ?? e.code ?? 0, pendingError));
  }
  w.postMessage(init);
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: () => {
      if (ended) return Promise.resolve();
      const gone = new Promise<void>((r) => goneWaiters.push(r));
      w.terminate();
      awaitGone(1);
      return gone;
    },
  };
}

type Scope = { onmessage: ((e: { data: unknown }) => void) | null; postMessage(m: unknown): void; addEventListener(t: string, f: (e: { data: unknown }) => void): void };

/** In a Worker: the first message of the parent, which is the thread's init. */
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

/** In a Worker: post to the parent. */
export function postToParent(m: unknown): void { (globalThis as unknown as Scope).postMessage(m); }

/** In a Worker: be told of the parent's messages (after the init). */
export function onParentMessage(fn: (m: unknown) => void): void {
  (globalThis as unknown as Scope).addEventListener('message', (e) => fn(e.data));
}

/** End the calling web Worker (the scope's own close()). */
export function endThread(): void { (globalThis as unknown as { close(): void }).close(); }
