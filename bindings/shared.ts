/**
 * Helpers every runtime binding can use as they are: Node's `node:` modules,
 * which Deno and Bun implement too. Thread and signal handling stay per runtime.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { dirname, resolve } from 'node:path';
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

/** Pool chunk for small byte arrays, and the largest array carved from it. */
const POOL_SIZE = 64 * 1024;
const POOL_MAX = 4096;
let pool = new ArrayBuffer(POOL_SIZE);
let poolUsed = 0;

/**
 * A byte array of `length` bytes: up to 4 KiB, a view into a 64 KiB pooled
 * ArrayBuffer (8-byte aligned, never handed out twice), larger ones their own.
 * For runtimes whose ArrayBuffer allocation has a high fixed cost.
 */
export function pooledBytes(length: number): Uint8Array {
  if (length > POOL_MAX) return new Uint8Array(length);
  if (poolUsed + length > POOL_SIZE) { pool = new ArrayBuffer(POOL_SIZE); poolUsed = 0; }
  const out = new Uint8Array(pool, poolUsed, length);
  poolUsed = (poolUsed + length + 7) & ~7;
  return out;
}

/** A byte array with its own ArrayBuffer. */
export function ownBytes(length: number): Uint8Array { return new Uint8Array(length); }

/** A whole file's bytes, or null when it does not exist. */
export function readFileBytes(path: string): Uint8Array | null {
  try {
    const b = readFileSync(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return null;
    throw e;
  }
}

/** Write `path.tmp`, fsync, rename over `path`, fsync the directory: the old or the new file survives a crash. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    for (const c of chunks) {
      for (let off = 0; off < c.length;) off += writeSync(fd, c, off, c.length - off);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  try {
    const dir = openSync(dirname(resolve(path)), 'r');
    try { fsyncSync(dir); } finally { closeSync(dir); }
  } catch { /* a directory that cannot be opened for fsync (some platforms): the rename is still atomic */ }
}

export function removeFile(path: string): void { rmSync(path, { force: true }); }
