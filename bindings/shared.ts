/**
 * Helpers every runtime binding can use as they are: Node's `node:` modules,
 * which Deno and Bun implement too. Thread and signal handling stay per runtime.
 */
import { appendFileSync, closeSync, existsSync, fsyncSync, lstatSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, watch, writeSync } from 'node:fs';
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

export function appendFile(path: string, data: Uint8Array): void { appendFileSync(path, data); }

export function fileUrl(path: string): URL { return pathToFileURL(resolve(path)); }

export function pathExists(path: string): boolean { return existsSync(path); }

/** fs.watch, not persistent: Node and Bun. */
export function watchPath(path: string, onChange: () => void): () => void {
  const w = watch(path, { persistent: false }, () => onChange());
  w.on('error', () => w.close());
  return () => w.close();
}
/** Pool chunk for copies out of the shared memory, and the largest copy carved from it. */
const POOL_SIZE = 64 * 1024;
const POOL_MAX = 4096;
let pool = new ArrayBuffer(POOL_SIZE);
let pool32 = new Int32Array(pool);
let poolUsed = 0;

/**
 * Copy `length` bytes at `from` (4-aligned) in the shared memory into a fresh
 * array. Up to 4 KiB the array is a view into a 64 KiB pooled ArrayBuffer
 * (8-byte aligned, never handed out twice; as Node's `Buffer.from` pools), and
 * the copy moves 4-byte words. For runtimes where allocating an ArrayBuffer is
 * slow (V8 allocates arrays over 64 bytes outside its heap: about 1 µs on
 * Node; on Deno about 300 ns for any size).
 */
export function copyOutPooled(mem: Uint8Array, mem32: Int32Array, from: number, length: number): Uint8Array {
  if (length > POOL_MAX) return mem.slice(from, from + length);
  const words = (length + 3) >> 2;
  // A pool whose buffer a user transferred (detached) is replaced too.
  if (poolUsed + words * 4 > POOL_SIZE || pool.byteLength === 0) {
    pool = new ArrayBuffer(POOL_SIZE);
    pool32 = new Int32Array(pool);
    poolUsed = 0;
  }
  const d = poolUsed >> 2;
  const s = from >>> 2;
  for (let i = 0; i < words; i++) pool32[d + i] = mem32[s + i];
  const out = new Uint8Array(pool, poolUsed, length);
  poolUsed = (poolUsed + length + 7) & ~7;
  return out;
}

/** The same copy into an array of its own for small values (cheap to allocate on JavaScriptCore), pooled above 64 bytes. */
export function copyOutSmallOwn(mem: Uint8Array, mem32: Int32Array, from: number, length: number): Uint8Array {
  if (length > 64) return copyOutPooled(mem, mem32, from, length);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = mem[from + i];
  return out;
}

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
