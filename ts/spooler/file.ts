/**
 * Spool files, byte for byte as uWSGI 2.0 writes and reads them, and the
 * names of the files in a spool directory.
 *
 * A spool file is one uwsgi packet followed by the task's body:
 *
 * ```
 *  0        1            3        4                 4+L            end of file
 *  ┌────────┬────────────┬────────┬─────────────────┬───────────────┐
 *  │ 17     │ L (u16 LE) │ 0      │ vars (L bytes)  │ body (raw)    │
 *  └────────┴────────────┴────────┴─────────────────┴───────────────┘
 *   modifier1  vars size   modifier2  u16-LE key len, key, u16-LE value len, value...
 * ```
 *
 * The reserved keys `spooler`, `priority` and `at` stay inside the vars; only
 * `body` is taken out and written raw after them. A reader, like uWSGI's, uses
 * only bytes 1..2 of the header. The vars block goes through the one codec
 * (ts/protocol/codec.ts).
 *
 * Names in a spool directory (or in one of its priority subdirectories):
 *
 * | name | what |
 * |---|---|
 * | `uwsgi_spoolfile_on_<host>_<pid>_<counter>_<rand>_<sec>_<usec>` | a task waiting (uWSGI's own name) |
 * | `.uwsgi-tmp.<pid>.<pstart>.<boot>.<owner>.<task>` | a task being written; becomes `<task>` once complete on disk |
 * | `.uwsgi-claim.<pid>.<pstart>.<boot>.<owner>.<task>` | `<task>` claimed by the spooler thread `<owner>` while it runs |
 * | `.uwsgi-corrupt.<task>` | a task file that cannot be decoded, set aside (never deleted) |
 *
 * `<pid>` and `<pstart>` (the process's start time) name the process, `<boot>`
 * the engine in it, `<owner>` the thread (slot and generation). uWSGI lists
 * only `uwsgi_spoolfile_on_*` names, so it never sees our partial or claimed files.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import { bytesToText, decodeHeader, decodeVarsList, encodeVarsPacket } from '../protocol/codec.ts';

/** modifier1 of a spool file (and of a spool request sent over a socket). */
export const SPOOL_MODIFIER1 = 17;
/** Largest vars block: its size is a u16. Bigger values belong in the body. */
export const SPOOL_VARS_MAX = 65535;
/** Every task file's name starts with this (uWSGI's prefix). */
export const TASK_PREFIX = 'uwsgi_spoolfile_on_';

/** Key/value pairs of a task, in file order. */
export type SpoolPairs = Array<[Uint8Array, Uint8Array]>;

/** A decoded spool file. */
export interface SpoolFile {
  vars: SpoolPairs;
  /** Everything after the vars (empty when the task has no body). */
  body: Uint8Array;
}

/**
 * The bytes of a spool file: header and vars in one chunk, the body in a
 * second (not copied). Throws `ERR_BOUNDS` when the vars exceed 65535 bytes.
 */
export function encodeSpoolFile(vars: SpoolPairs, body: Uint8Array = new Uint8Array(0)): Uint8Array[] {
  let size = 0;
  for (const [k, v] of vars) size += 4 + k.length + v.length;
  if (size > SPOOL_VARS_MAX) {
    throw new UwsgiError('ERR_BOUNDS', `spool: the task's vars take ${size} bytes; the args buffer is limited to 64k (${SPOOL_VARS_MAX} bytes), use the 'body' for bigger values`);
  }
  const head = encodeVarsPacket(SPOOL_MODIFIER1, 0, vars);
  return body.length > 0 ? [head, body] : [head];
}

/**
 * Decode a spool file's bytes. `short` when the file ends before its header
 * or its vars (a file still being written by a real uWSGI); `malformed` when
 * the vars cannot be decoded.
 */
export function decodeSpoolFile(bytes: Uint8Array): SpoolFile | { error: 'short' | 'malformed'; detail: string } {
  if (bytes.length < 4) return { error: 'short', detail: `${bytes.length} byte(s), less than the 4-byte header` };
  const { size } = decodeHeader(bytes);
  if (bytes.length < 4 + size) return { error: 'short', detail: `the header announces ${size} bytes of vars, the file holds ${bytes.length - 4}` };
  let vars: SpoolPairs;
  try {
    vars = decodeVarsList(bytes.subarray(4, 4 + size)).map(([k, v]) => [k.slice(), v.slice()]);
  } catch (e) {
    return { error: 'malformed', detail: (e as Error).message };
  }
  return { vars, body: bytes.slice(4 + size) };
}

/**
 * The dict a spooler function receives, as uWSGI's Python plugin builds it:
 * every var (keys as text, values as bytes; a repeated key keeps its last
 * value), `spooler_task_name` (the name as given), and `body` when the task has one.
 */
export function taskDict(file: SpoolFile, taskName: string): Record<string, Uint8Array> {
  const env: Record<string, Uint8Array> = Object.create(null);
  env.spooler_task_name = new TextEncoder().encode(taskName);
  for (const [k, v] of file.vars) env[bytesToText(k)] = v;
  if (file.body.length > 0) env.body = file.body;
  return env;
}

/** uWSGI's task file name. */
export function taskFileName(host: string, pid: number, counter: number, rand: number, sec: number, usec: number): string {
  return `${TASK_PREFIX}${host}_${pid}_${counter}_${rand}_${sec}_${usec}`;
}

/** Who made a temporary or claimed name: process, engine and thread. */
export interface MarkOwner {
  pid: number;
  /** The process's start time (/proc), to tell it from a later process with the same pid. */
  pstart: string;
  /** Random id of the engine in that process. */
  boot: string;
  /** Owner word of the thread (slot + 1 | generation << 12). */
  owner: number;
}

const CLAIM = '.uwsgi-claim.';
const TMP = '.uwsgi-tmp.';
/** Prefix of a task file set aside because it cannot be decoded. */
export const CORRUPT_PREFIX = '.uwsgi-corrupt.';

function mark(prefix: string, o: MarkOwner, task: string): string {
  return `${prefix}${o.pid}.${o.pstart}.${o.boot}.${o.owner}.${task}`;
}
/** The name of `task` while the thread `o` runs it. */
export const claimName = (o: MarkOwner, task: string) => mark(CLAIM, o, task);
/** The name `task` is written under before it is complete on disk. */
export const tempName = (o: MarkOwner, task: string) => mark(TMP, o, task);

const MARKED = /^\.uwsgi-(claim|tmp)\.(\d+)\.(\d+)\.([0-9a-f]+)\.(\d+)\.(uwsgi_spoolfile_on_.+)$/;

/** Parse a claimed or temporary name; null for any other name. */
export function parseMarked(name: string): { kind: 'claim' | 'tmp'; owner: MarkOwner; task: string } | null {
  const m = MARKED.exec(name);
  if (!m) return null;
  return { kind: m[1] as 'claim' | 'tmp', owner: { pid: Number(m[2]), pstart: m[3], boot: m[4], owner: Number(m[5]) }, task: m[6] };
}

/** Whether `name` is a task waiting to run (uWSGI's test: the prefix). */
export const isTaskName = (name: string) => name.startsWith(TASK_PREFIX);

/** Whether `name` is a priority subdirectory's name (all digits, as uWSGI's `is_a_number`). */
export const isPriorityName = (name: string) => /^\d+$/.test(name);

/**
 * Natural order, as glibc's versionsort that uWSGI's `--spooler-ordered` uses:
 * runs of digits compare by value, so `2` < `10` and digits sort before letters.
 */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i], y = pb[i];
    const dx = /^\d/.test(x), dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x), ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      if (x.length !== y.length) return x.length > y.length ? -1 : 1; // more leading zeros first
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return pa.length - pb.length;
}
