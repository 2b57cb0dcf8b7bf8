/**
 * Helpers every runtime binding can use as they are: Node's `node:` modules,
 * which Deno and Bun implement too. Thread and signal handling stay per runtime.
 */
import { readFileSync } from 'node:fs';
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

/** Read a whole file as bytes (uwsgi.parsefile). */
export function readFileBytes(path: string): Uint8Array { return readFileSync(path); }
