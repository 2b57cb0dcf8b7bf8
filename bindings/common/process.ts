/**
 * Process facts every runtime gives the same way: `node:os`, `node:async_hooks`,
 * `node:crypto` (MD5) and the `process` global (Node's; Deno 2 and Bun provide it too), /proc on
 * Linux. Ids, signals, exit and the title stay per runtime
 * (bindings/<runtime>/process.ts).
 */
import { hostname as osHostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { AsyncContext, RuntimeProcess } from '../../ts/platform/binding.ts';

/** The parts of Node's `process` read here; absent members read as "cannot tell". */
interface ProcessLike {
  env?: Record<string, string | undefined>;
  cwd?: () => string;
  getuid?: () => number;
  getgid?: () => number;
  memoryUsage?: () => { rss: number };
}
const proc = (): ProcessLike | undefined => (globalThis as { process?: ProcessLike }).process;

/** rss and vsz from /proc on Linux; rss from the runtime (vsz 0) where there is no /proc. */
function memoryUsage(): { rss: number; vsz: number } {
  try {
    const fields = readFileSync('/proc/self/statm', 'utf8').trim().split(/\s+/);
    return { vsz: Number(fields[0]) * 4096, rss: Number(fields[1]) * 4096 };
  } catch {
    return { rss: proc()?.memoryUsage?.().rss ?? 0, vsz: 0 };
  }
}

/** AsyncLocalStorage (node:async_hooks, which Node, Deno and Bun implement) behind the small interface. */
function asyncContext<T>(): AsyncContext<T> {
  const store = new AsyncLocalStorage<T>();
  return { run: (value, fn) => store.run(value, fn), get: () => store.getStore() };
}

/** What every runtime's process.ts takes as is. */
export const commonProcess: Pick<RuntimeProcess, 'hostname' | 'memoryUsage' | 'env' | 'cwd' | 'ids' | 'cpuCount' | 'asyncContext' | 'md5'> = {
  hostname: () => osHostname(),
  memoryUsage,
  env: () => proc()?.env ?? {},
  cwd: () => proc()?.cwd?.() ?? '.',
  ids: () => ({ uid: proc()?.getuid?.() ?? 0, gid: proc()?.getgid?.() ?? 0 }),
  // The web's navigator.hardwareConcurrency: Deno and Bun have it, Node from 21 (Node 20 reads 1).
  cpuCount: () => (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1,
  asyncContext,
  // node:crypto's MD5 (Node, Deno and Bun implement it); a plain Uint8Array, not a Buffer.
  md5: (data) => { const d = createHash('md5').update(data).digest(); return new Uint8Array(d.buffer, d.byteOffset, d.byteLength); },
};
