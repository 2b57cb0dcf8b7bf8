/**
 * Helpers every runtime binding can use as they are: Node's `node:` modules,
 * which Deno and Bun implement too. Thread and signal handling stay per runtime.
 */
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export function hostname(): string { return osHostname(); }

/** rss from the runtime, vsz from /proc on Linux (0 where there is no /proc). */
export function memoryUsage(): { rss: number; vsz: number } {
  let vsz = 0;
  let rss = 0;
  try {
    const fields = readFileSync('/proc/self/statm', 'utf8').trim().split(/\s+/);
    vsz = Number(fields[0]) * 4096;
    rss = Number(fields[1]) * 4096;
  } catch {
    rss = (globalThis as { process?: { memoryUsage?: () => { rss: number } } }).process?.memoryUsage?.().rss ?? 0;
  }
  return { rss, vsz };
}

export function readTextFile(path: string): string { return readFileSync(path, 'utf8'); }

export function fileUrl(path: string): URL { return pathToFileURL(resolve(path)); }

/**
 * Before binding a UNIX socket at `path`: remove a stale socket file left by a
 * previous run; refuse to replace anything that is not a socket.
 */
export function prepareUnixPath(path: string): void {
  let st;
  try { st = lstatSync(path); } catch { return; }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket`);
  unlinkSync(path);
}

/** Remove the UNIX socket file at `path`, if it is still there. */
export function removeUnixPath(path: string): void {
  try { if (lstatSync(path).isSocket()) unlinkSync(path); } catch { /* already gone */ }
}

/**
 * A pull-style reader over push-style chunks: `push` what arrives, `end` at
 * EOF; `read` resolves with the next chunk, or null after the end.
 */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #waiters: Array<(c: Uint8Array | null) => void> = [];
  #ended = false;
  push(c: Uint8Array): void {
    const w = this.#waiters.shift();
    if (w) w(c); else this.#chunks.push(c);
  }
  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }
  read(): Promise<Uint8Array | null> {
    const c = this.#chunks.shift();
    if (c) return Promise.resolve(c);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((r) => this.#waiters.push(r));
  }
}
