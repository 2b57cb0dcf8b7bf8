/**
 * The file operations the spooler needs, through Node's `node:fs`, which
 * Node, Deno and Bun all implement (synchronously: a spool write must be on
 * disk before `spool()` returns). Linux's /proc tells whether a process still
 * runs and whether a file holds a POSIX lock (uWSGI's writers and spoolers
 * lock the file they work on); where /proc is missing those answers are
 * "unknown" and the spooler stays on the safe side.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the spooler needs from `lstat`. */
export interface SpoolStat {
  isFile: boolean;
  isDirectory: boolean;
  /** Whole seconds, as uWSGI compares them. */
  mtimeSec: number;
  size: number;
  dev: number;
  ino: number;
}

const code = (e: unknown) => (e as { code?: string })?.code;

/** Real path of `p`, or null when it does not exist. */
export function realpath(p: string): string | null {
  try { return fs.realpathSync(p); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null; throw e; }
}

/** Create a directory (parents too), mode & umask; an existing one is fine. */
export function mkdirs(p: string, mode: number): void {
  fs.mkdirSync(p, { recursive: true, mode });
}

/** Create one directory level; false when it already exists. */
export function mkdirOne(p: string, mode: number): boolean {
  try { fs.mkdirSync(p, { mode }); return true; } catch (e) { if (code(e) === 'EEXIST') return false; throw e; }
}

/**
 * Write a new file that must not exist yet (O_CREAT|O_EXCL, mode 0600, as
 * uWSGI), set its access and modification times to `mtimeSec` if given, push it
 * to disk (fsync) and close it. On any failure the partial file is removed and
 * the error is thrown.
 */
export function writeNewFile(path: string, chunks: readonly Uint8Array[], mtimeSec: number | undefined): void {
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
export function publish(from: string, to: string): void {
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
export function syncDir(dir: string): void {
  let fd: number;
  try { fd = fs.openSync(dir, 'r'); } catch { return; }
  try { fs.fsyncSync(fd); } catch { /* some filesystems refuse fsync on a directory: nothing more can be done */ } finally { fs.closeSync(fd); }
}

/** Atomically rename; false when `from` is gone (another thread took it first). */
export function renameIfExists(from: string, to: string): boolean {
  try { fs.renameSync(from, to); return true; } catch (e) { if (code(e) === 'ENOENT') return false; throw e; }
}

/** Remove a file; false when it was already gone. */
export function unlinkIfExists(p: string): boolean {
  try { fs.unlinkSync(p); return true; } catch (e) { if (code(e) === 'ENOENT') return false; throw e; }
}

/** Entry names of a directory, in the order the system lists them (uWSGI's readdir order); [] if it is gone. */
export function listDir(dir: string): string[] {
  try { return fs.readdirSync(dir); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return []; throw e; }
}

/** `lstat` (symbolic links are not followed), or null when the entry is gone. */
export function lstat(p: string): SpoolStat | null {
  let s: fs.Stats;
  try { s = fs.lstatSync(p); } catch (e) { if (code(e) === 'ENOENT' || code(e) === 'ENOTDIR') return null; throw e; }
  return { isFile: s.isFile(), isDirectory: s.isDirectory(), mtimeSec: Math.floor(s.mtimeMs / 1000), size: s.size, dev: s.dev, ino: s.ino };
}

/** Whether the caller may read and write `p` (uWSGI skips task files it cannot). */
export function readWritable(p: string): boolean {
  try { fs.accessSync(p, fs.constants.R_OK | fs.constants.W_OK); return true; } catch { return false; }
}

/** A whole file, or null when it is gone. */
export function readFile(p: string): Uint8Array | null {
  try { return new Uint8Array(fs.readFileSync(p)); } catch (e) { if (code(e) === 'ENOENT') return null; throw e; }
}

/**
 * Whether a process holds a POSIX (fcntl) or flock lock on the file with this
 * device and inode, from /proc/locks: a real uWSGI writer locks a spool file
 * while it writes it, and a real uWSGI spooler while it runs it. False when
 * /proc/locks cannot be read.
 */
export function lockedByAnyProcess(dev: number, ino: number): boolean {
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
export function processStartTime(pid: number): string | null | undefined {
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
export function selfStartTime(): string {
  let text: string;
  try { text = fs.readFileSync('/proc/self/stat', 'latin1'); } catch { return '0'; }
  return text.slice(text.lastIndexOf(')') + 2).split(' ')[19] ?? '0';
}

/** POSIX path helpers (node:path, pure). */
export const paths = {
  join: (...parts: string[]): string => path.join(...parts),
  /** `p` resolved against `base` (or the working directory), normalised, no symlinks followed. */
  resolve: (base: string, p: string): string => path.resolve(base, p),
  dirname: (p: string): string => path.dirname(p),
  basename: (p: string): string => path.basename(p),
  isAbsolute: (p: string): boolean => path.isAbsolute(p),
};

/** The process's working directory. */
export function cwd(): string {
  return typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : '/';
}
