/**
 * The deviations table: where our observable result differs from real uWSGI on
 * purpose (design decision 12). Each row says why, and recognises the situation
 * from values, functions and error kinds alone, never from a case's name.
 */
import { UwsgiError } from '../../ts/index.ts';
import { type Vec, asBytes, hex } from './adapter.ts';

export interface Observed {
  fn: string;
  args: Vec[];
  /** The JS arguments we passed. */
  jsArgs: unknown[];
  expected: Vec;
  threw: boolean;
  actual: unknown;
  /** The case's earlier operations, in order (a deviation may follow from an earlier one). */
  earlier?: Observed[];
}

export interface Deviation {
  id: string;
  /** (a) crash/wrap/truncate → we throw; (b) Python-3 typing → JS typing; (c) implementation identity. */
  principle: 'a' | 'b' | 'c';
  reason: string;
  applies(o: Observed): boolean;
}

const SIGNAL_FNS = new Set(['register_signal', 'signal', 'signal_registered', 'signal_wait', 'add_timer', 'add_rb_timer', 'add_cron', 'add_file_monitor']);

const isErr = (v: Vec): v is { error: string; message: string } => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.error === 'string';

export const DEVIATIONS: readonly Deviation[] = [
  {
    id: 'crash-becomes-error',
    principle: 'a',
    reason: 'Real uWSGI crashed the worker (e.g. a negative sharedarea id is not checked and segfaults); we throw a typed UwsgiError instead.',
    applies: (o) => typeof o.expected === 'object' && o.expected !== null && !Array.isArray(o.expected) && typeof o.expected.crash === 'string' && o.threw && o.actual instanceof UwsgiError,
  },
  {
    id: 'signal-number-out-of-range',
    principle: 'a',
    reason: 'uWSGI reads a signal number as an unsigned byte without a range check (256 becomes 0, -1 becomes 255); we refuse numbers outside 0..255 with ERR_VALUE_RANGE.',
    applies: (o) => SIGNAL_FNS.has(o.fn) && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE',
  },
  {
    id: 'unknown-signal-target-throws',
    principle: 'a',
    reason: 'uWSGI registers any target string and only logs "UNSUPPORTED SIGNAL TARGET" or "invalid signal target" when the signal is routed, so nothing ever runs; we refuse an unknown target, or a worker/mule/farm the configuration does not have, at registration (ERR_NOT_FOUND; cluster/subscribed ERR_UNSUPPORTED).',
    applies: (o) => o.fn === 'register_signal' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError &&
      (o.actual.code === 'ERR_NOT_FOUND' || o.actual.code === 'ERR_UNSUPPORTED'),
  },
  {
    id: 'refused-signal-not-registered',
    principle: 'a',
    reason: 'A signal whose registration we refused (unknown target, see unknown-signal-target-throws) is not registered, where uWSGI reports the useless registration as registered.',
    applies: (o) => o.fn === 'signal_registered' && o.expected === true && !o.threw && (o.actual === null || o.actual === undefined) &&
      (o.earlier ?? []).some((e) => e.fn === 'register_signal' && e.args[0] === o.args[0] && e.threw && e.actual instanceof UwsgiError),
  },
  {
    id: 'silent-wrap-becomes-error',
    principle: 'a',
    reason: 'uWSGI stores an out-of-range integer modulo its width (e.g. write32 of 2**33+5 stores 5); we refuse it with ERR_VALUE_RANGE.',
    applies: (o) => !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE' && o.fn !== 'snmp_set_community',
  },
  {
    id: 'str-accepted-as-bytes',
    principle: 'b',
    reason: 'Python 3 uWSGI refuses str where it wants bytes; JS callers pass strings, which we encode as UTF-8.',
    applies: (o) => isErr(o.expected) && o.expected.error === 'TypeError' && /bytes|str/.test(o.expected.message) &&
      !o.threw && o.jsArgs.some((a) => typeof a === 'string'),
  },
  {
    id: 'rpc-str-accepted',
    principle: 'b',
    reason: 'Python 3 uWSGI refuses a str RPC name or argument ("unable to call rpc function"); JS callers pass strings, which we encode as UTF-8.',
    applies: (o) => isErr(o.expected) && o.expected.error === 'ValueError' && (o.fn === 'call' || o.fn === 'rpc') &&
      !o.threw && o.jsArgs.some((a) => typeof a === 'string' && a !== ''),
  },
  {
    id: 'rpc-argument-errors-typed',
    principle: 'b',
    reason: 'uWSGI answers every bad RPC call (missing name, non-bytes argument) with one ValueError; we report the JS type or count problem as ERR_ARG_TYPE / ERR_ARG_COUNT.',
    applies: (o) => isErr(o.expected) && o.expected.error === 'ValueError' && (o.fn === 'call' || o.fn === 'rpc') &&
      o.threw && o.actual instanceof UwsgiError && (o.actual.code === 'ERR_ARG_TYPE' || o.actual.code === 'ERR_ARG_COUNT'),
  },
  {
    id: 'text-metadata-as-string',
    principle: 'b',
    reason: 'Metadata that uWSGI returns as bytes (version, hostname, opt values, magic_table keys) is a JS string here; the UTF-8 bytes are equal.',
    applies: (o) => o.fn === 'attr' || o.fn === 'keys' || o.fn === 'typeof' ? textEqual(o.expected, o.actual) : false,
  },
  {
    id: 'sequence-is-array',
    principle: 'b',
    reason: 'Python tuples and lists are both JS arrays.',
    applies: (o) => o.fn === 'typeof' && (o.expected === 'tuple' || o.expected === 'list') && o.actual === 'list',
  },
  {
    id: 'version-tag',
    principle: 'c',
    reason: 'version/version_info carry the uWSGI API level implemented (2.0.21) with this implementation\'s tag instead of the distribution\'s.',
    applies: (o) => o.fn === 'attr' && (o.args[0] === 'version' || o.args[0] === 'version_info') && versionMatches(o.expected, o.actual),
  },
  {
    id: 'snmp-community-truncation-becomes-error',
    principle: 'a',
    reason: 'uWSGI truncates an SNMP community longer than 72 bytes (and logs a warning); we refuse it with ERR_VALUE_RANGE.',
    applies: (o) => o.fn === 'snmp_set_community' && o.expected === true && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE',
  },
  {
    id: 'snmp-bad-slot-typed',
    principle: 'a',
    reason: 'uWSGI silently returns None for an SNMP slot number outside 1..100 (0, 101..255); we throw ERR_NOT_FOUND naming the slot range.',
    applies: (o) => o.fn.startsWith('snmp_') && o.expected === null && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_NOT_FOUND',
  },
  {
    id: 'unlock-not-owner-is-error',
    principle: 'a',
    reason: 'uWSGI ignores the EPERM of unlocking a lock another process holds and returns None, leaving the caller believing it released it; we throw ERR_LOCK_STATE naming the holder (a free lock is still a silent no-op, as in uWSGI).',
    applies: (o) => o.fn === 'unlock' && o.expected === null && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_LOCK_STATE',
  },
  {
    id: 'relock-is-error',
    principle: 'a',
    reason: 'A second lock(n) by the thread holding n hangs a uWSGI worker forever (its locks are not recursive); we throw ERR_LOCK_STATE at once.',
    applies: (o) => o.fn === 'lock' && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_LOCK_STATE' && heldBefore(o),
  },
];

/** Whether the case took lock `o.args[0]` (default 0) earlier and has not released it since. */
function heldBefore(o: Observed): boolean {
  const n = o.args[0] ?? 0;
  let held = false;
  for (const e of o.earlier ?? []) {
    if ((e.args[0] ?? 0) !== n || e.threw) continue;
    if (e.fn === 'lock') held = true;
    else if (e.fn === 'unlock') held = false;
  }
  return held;
}

/** Equal once every Python bytes value is compared with a JS string by its UTF-8 bytes. */
function textEqual(expected: Vec, actual: unknown): boolean {
  if (expected === 'bytes' && actual === 'str') return true; // typeof of a text attribute
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected) && typeof expected.bytes === 'string') {
    return (typeof actual === 'string' || actual instanceof Uint8Array) && hex(asBytes(actual)) === expected.bytes;
  }
  if (Array.isArray(expected)) return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => textEqual(e, actual[i]));
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return false;
    const ek = Object.keys(expected);
    return ek.length === Object.keys(actual).length && ek.every((k) => textEqual(expected[k], (actual as Record<string, unknown>)[k]));
  }
  if (typeof expected === 'number' && typeof actual === 'bigint') return BigInt(expected) === actual;
  return expected === actual;
}

function versionMatches(expected: Vec, actual: unknown): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.slice(0, 4).every((e, i) => e === actual[i]);
  if (typeof expected === 'object' && expected !== null && typeof expected.bytes === 'string') {
    const want = new TextDecoder().decode(Uint8Array.from(expected.bytes.match(/../g)!, (b) => parseInt(b, 16)));
    return typeof actual === 'string' && actual.split('-')[0] === want.split('-')[0];
  }
  return false;
}

