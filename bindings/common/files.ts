/**
 * File operations every runtime does through `node:fs`, which Node, Deno and
 * Bun all implement (synchronously where the callers need the result before
 * they return: a spool write must be on disk before `spool()` returns). Linux's
 * /proc tells whether a process still runs and whether a file holds a POSIX
 * lock (uWSGI's writers and spoolers lock the file they work on); where /proc
 * is missing those answers are "unknown" and the spooler stays on the safe side.
 * Only watching differs per runtime (bindings/<runtime>/files.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FileStat, RuntimeFiles } from '../../ts/platform/binding.ts';

const code = (e: unknown) => (e as { code?: string })?.code;

/** Real path of `p`, or null when it does not exist. */
function realpath(p: string): string | null {
  try { return fs.realpathSync(p); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null; throw e; }
}

/** Create a directory (parents too), mode & umask; an existing one is fine. */
function mkdirs(p: string, mode: number): void {
  fs.mkdirSync(p, { recursive: true, mode });
}

/** Create one directory level; false when it already exists. */
function mkdirOne(p: string, mode: number): boolean {
  try { fs.mkdirSync(p, { mode }); return true; } catch (e) { if (code(e) === 'EEXIST') return false; throw e; }
}

/**
 * Write a new file that must not exist yet (O_CREAT|O_EXCL, mode 0600, as
 * uWSGI), set its access and modification times to `mtimeSec` if given, push it
 * to disk (fsync) and close it. On any failure the partial file is removed and
 * the error is thrown.
 */
function writeNewFile(path: string, chunks: readonly Uint8Array[], mtimeSec: number | undefined): void {
  const fd = fs.openSync(path, 'wx', 0o600);
  try {
    for (const c of chunks) {
      let at = 0;
      while (at < c.length) at += fs.writeSync(fd, c, at, c.length - at);
    }
    if (mtimeSec !== undefined) fs.futimesSync(fd, mtimeSec, mtimeSec);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    try { fs.unlinkSync(path); } catch { /* already gone */ }
    throw e;
  }
  fs.closeSync(fd);
}

/**
 * Give the file at `from` the name `to` without ever replacing an existing
 * `to`: a hard link, then the old name is removed. On filesystems without hard
 * links, a rename after checking that `to` is free. Throws EEXIST if taken.
 */
function publish(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (e) {
    const c = code(e);
    if (c !== 'EPERM' && c !== 'ENOTSUP' && c !== 'EOPNOTSUPP' && c !== 'ENOSYS') throw e;
    if (fs.existsSync(to)) throw Object.assign(new Error(`EEXIST: ${to}`), { code: 'EEXIST' });
    fs.renameSync(from, to);
    return;
  }
  fs.unlinkSync(from);
}

/** Push a directory's entries (creations, renames, removals) to disk. */
function syncDir(dir: string): void {
  let fd: number;
  try { fd = fs.openSync(dir, 'r'); } catch { return; }
  try { fs.fsyncSync(fd); } catch { /* some filesystems refuse fsync on a directory: nothing more can be done */ } finally { fs.closeSync(fd); }
}

/** Atomically rename; false when `from` is gone (another thread took it first). */
function renameIfExists(from: string, to: string): boolean {
  try { fs.renameSync(from, to); return true; } catch (e) { if (code(e) === 'ENOENT') return false; throw e; }
}

/** Remove a file; false when it was already gone. */
function unlinkIfExists(p: string): boolean {
  try { fs.unlinkSync(p); return true; } catch (e) { if (code(e) === 'ENOENT') return false; throw e; }
}

/** Entry names of a directory, in the order the system lists them (uWSGI's readdir order); [] if it is gone. */
function listDir(dir: string): string[] {
  try { return fs.readdirSync(dir); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return []; throw e; }
}

/** `lstat` (symbolic links are not followed), or null when the entry is gone. */
function lstat(p: string): FileStat | null {
  let s: fs.Stats;
  try { s = fs.lstatSync(p); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null; throw e; }
  return { isFile: s.isFile(), isDirectory: s.isDirectory(), mtimeSec: Math.floor(s.mtimeMs / 1000), size: s.size, dev: s.dev, ino: s.ino, mode: s.mode & 0o7777 };
}

/** Whether the caller may read and write `p` (uWSGI skips task files it cannot). */
function readWritable(p: string): boolean {
  try { fs.accessSync(p, fs.constants.R_OK | fs.constants.W_OK); return true; } catch { return false; }
}

/**
 * Whether a process holds a POSIX (fcntl) or flock lock on the file with this
 * device and inode, from /proc/locks: a real uWSGI writer locks a spool file
 * while it writes it, and a real uWSGI spooler while it runs it. False when
 * /proc/locks cannot be read.
 */
function lockedByAnyProcess(dev: number, ino: number): boolean {
  let text: string;
  try { text = fs.readFileSync('/proc/locks', 'latin1'); } catch { return false; }
  // Linux's dev_t encoding: major in bits 8..19, minor in bits 0..7 and 20..31.
  const major = (dev >>> 8) & 0xfff;
  const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
  for (const line of text.split('\n')) {
    // "1: POSIX  ADVISORY  WRITE 1234 08:02:1311797 0 EOF" (major:minor in hex, inode in decimal)
    const m = /\s([0-9a-f]+):([0-9a-f]+):(\d+)\s/.exec(line);
    if (m && parseInt(m[1], 16) === major && parseInt(m[2], 16) === minor && Number(m[3]) === ino) return true;
  }
  return false;
}

/**
 * The start time of process `pid` (clock ticks since boot, field 22 of
 * /proc/PID/stat), which tells a live process from a later one that reused
 * its pid. null when the process does not exist; undefined when /proc cannot tell.
 */
function processStartTime(pid: number): string | null | undefined {
  let text: string;
  try { text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch (e) {
    if (code(e) === 'ENOENT' || code(e) === 'ESRCH') return fs.existsSync('/proc/self/stat') ? null : undefined;
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? undefined;
}

/** The start time of this process (see {@link processStartTime}); '0' where /proc is missing. */
function selfStartTime(): string {
  let text: string;
  try { text = fs.readFileSync('/proc/self/stat', 'latin1'); } catch { return '0'; }
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
}


/** A whole file's bytes in an array that owns its buffer (Node cuts small reads from a shared pool), or null when it does not exist. */
function readFileBytes(p: string): Uint8Array | null {
  let b: Uint8Array;
  try { b = fs.readFileSync(p); } catch (e) { if (code(e) === 'ENOENT') return null; throw e; }
  return b.byteOffset === 0 && b.buffer.byteLength === b.byteLength ? new Uint8Array(b.buffer) : new Uint8Array(b);
}

/** Write `path.tmp`, fsync, rename over `path`, fsync the directory: the old or the new file survives a crash. */
function writeFileAtomic(p: string, chunks: readonly Uint8Array[]): void {
  const tmp = `${p}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    for (const c of chunks) {
      for (let off = 0; off < c.length;) off += fs.writeSync(fd, c, off, c.length - off);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, p);
  try {
    const dir = fs.openSync(path.dirname(path.resolve(p)), 'r');
    try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
  } catch { /* a directory that cannot be opened for fsync (some platforms): the rename is still atomic */ }
}

/** A file (path or open descriptor) as a byte stream and its size, for uwsgi.sendfile. */
async function fileStream(file: string | number, chunk: number, pos: number, size?: number): Promise<{ size: number; stream: ReadableStream<Uint8Array> }> {
  const fd = typeof file === 'number' ? file : await new Promise<number>((res, rej) => fs.open(file, 'r', (e, d) => (e ? rej(e) : res(d))));
  const ownFd = typeof file !== 'number';
  const total = size ?? Math.max(0, (await new Promise<number>((res, rej) => fs.fstat(fd, (e, st) => (e ? rej(e) : res(st.size))))) - pos);
  let at = pos;
  let left = total;
  const close = () => { if (ownFd) fs.close(fd, () => {}); };
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (left <= 0) { close(); ctrl.close(); return; }
      const buf = new Uint8Array(Math.min(chunk, left));
      const n = await new Promise<number>((res, rej) => fs.read(fd, buf, 0, buf.length, at, (e, r) => (e ? rej(e) : res(r))));
      if (n === 0) { close(); ctrl.close(); return; }
      at += n;
      left -= n;
      ctrl.enqueue(n === buf.length ? buf : buf.subarray(0, n));
    },
    cancel() { close(); },
  });
  return { size: total, stream };
}

/** `fs.watch`, not persistent (Node and Bun; Deno's cannot be made non-persistent, see bindings/deno/files.ts). */
export function watchPathNode(p: string, onChange: () => void): () => void {
  const w = fs.watch(p, { persistent: false }, () => onChange());
  w.on('error', () => w.close());
  return () => w.close();
}

/** Every file operation but watching, which each runtime adds in its files.ts. */
export const commonFiles: Omit<RuntimeFiles, 'watchPath'> = {
  readTextFile: (p) => fs.readFileSync(p, 'utf8'),
  readFileBytes,
  appendFile: (p, data) => { fs.appendFileSync(p, data); },
  writeFileAtomic,
  removeFile: (p) => { fs.rmSync(p, { force: true }); },
  pathExists: (p) => fs.existsSync(p),
  fileUrl: (p) => pathToFileURL(path.resolve(p)),
  fileStream,
  realpath,
  mkdirs,
  mkdirOne,
  writeNewFile,
  publish,
  syncDir,
  renameIfExists,
  unlinkIfExists,
  listDir,
  lstat,
  readWritable,
  lockedByAnyProcess,
  processStartTime,
  selfStartTime,
  paths: {
    join: (...parts) => path.join(...parts),
    resolve: (base, p) => path.resolve(base, p),
    dirname: (p) => path.dirname(p),
    basename: (p) => path.basename(p),
    isAbsolute: (p) => path.isAbsolute(p),
  },
};
