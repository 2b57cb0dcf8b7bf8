/**
 * The one place where Python values and calls of the recorded vectors become
 * JavaScript ones, and where our results are compared with uWSGI's. Case names
 * never appear here: every rule is about values, functions and error kinds.
 */
import { UwsgiError, type UwsgiErrorCode, type Uwsgi } from '../../ts/index.ts';

/** A vector value as recorded (see shared/oracle/README.md, "Value encoding"). */
export type Vec = null | boolean | number | string | Vec[] | { [k: string]: Vec };

const hex = (u8: Uint8Array) => Array.from(u8, (b) => b.toString(16).padStart(2, '0')).join('');
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
const utf8 = new TextEncoder();
const asBytes = (v: unknown): Uint8Array => (v instanceof Uint8Array ? v : utf8.encode(String(v)));

/**
 * Which Python exception each of our error codes stands for, as uWSGI 2.0.21
 * raises it: its argument parser's TypeError and OverflowError, ValueError for
 * what its functions refuse themselves (unknown ids, full tables, "no mule
 * configured"), OSError (IOError) for a node it cannot reach.
 */
export const PYTHON_ERROR_OF: Record<UwsgiErrorCode, string> = {
  ERR_ARG_TYPE: 'TypeError',
  ERR_ARG_COUNT: 'TypeError',
  ERR_VALUE_RANGE: 'OverflowError',
  ERR_BOUNDS: 'ValueError',
  ERR_NOT_FOUND: 'ValueError',
  ERR_OPTION: 'ValueError',
  ERR_NOT_CONFIGURED: 'ValueError',
  ERR_UNSUPPORTED: 'ValueError',
  ERR_LOCK_STATE: 'ValueError',
  ERR_TIMEOUT: 'SystemError',
  ERR_STOPPED: 'SystemError',
  ERR_FULL: 'ValueError',
  ERR_LAYOUT: 'SystemError',
  ERR_EXISTS: 'ValueError',
  ERR_INTERNAL: 'SystemError',
  ERR_CONNECT: 'OSError',
  ERR_CLOSED: 'OSError',
  ERR_BAD_REPLY: 'OSError',
  ERR_REJECTED: 'ValueError',
  ERR_PROTOCOL: 'ValueError',
};

/**
 * An exception of the Python side of an op that is not a uwsgi function's
 * (a missing module attribute, a missing dict key): the runner raises it
 * where the oracle's helper would have.
 */
export class PythonError extends Error {
  readonly pyClass: string;
  constructor(pyClass: string, message: string) { super(message); this.pyClass = pyClass; this.name = pyClass; }
}

/** JS functions standing for the oracle's named callables. */
export function namedCallable(name: string, api: () => Uwsgi): unknown {
  const table: Record<string, unknown> = {
    echo: (...a: unknown[]) => (a.length ? a[0] : null),
    concat: (...a: unknown[]) => {
      const parts = a.map(asBytes);
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0) + Math.max(0, parts.length - 1));
      let at = 0;
      parts.forEach((p, i) => { if (i) out[at++] = 0x7c; out.set(p, at); at += p.length; });
      return out;
    },
    argc: (...a: unknown[]) => utf8.encode(String(a.length)),
    ret_str: () => 'str-result',
    ret_int: () => 42,
    ret_none: () => null,
    ret_empty: () => new Uint8Array(0),
    raise: () => { throw new Error('boom'); },
    upper: (a: unknown) => utf8.encode(new TextDecoder().decode(asBytes(a)).toUpperCase()),
    sig_mark: (signum: number) => {
      const u = api() as unknown as { cache_update(k: string, v: string): unknown; worker_id(): number };
      u.cache_update(`sig-${signum}`, String(u.worker_id()));
    },
    not_callable: 12345,
  };
  if (!(name in table)) throw new Error(`conformance: unknown named callable '${name}'`);
  return table[name];
}

/** Turn a vector argument into the JS value our API takes. */
export function toJs(v: Vec, api: () => Uwsgi): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => toJs(x, api));
  if (typeof v.bytes === 'string') return unhex(v.bytes);
  if (typeof v.int === 'string') return BigInt(v.int);
  if (typeof v.float === 'string') return Number(v.float);
  if (typeof v.callable === 'string') return namedCallable(v.callable, api);
  if (Array.isArray(v.dict_items)) return Object.fromEntries((v.dict_items as Vec[][]).map(([k, x]) => [String(toJs(k, api)), toJs(x, api)]));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJs(x, api)]));
}

/** Python's `type(x).__name__` for a JS result. */
export function pythonTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'function') return 'function';
  return 'dict';
}

export type Compare = { ok: true } | { ok: false; why: string };

/** Strict comparison of our result with uWSGI's recorded one (deviations are judged elsewhere). */
export function sameValue(expected: Vec, actual: unknown, path = 'result'): Compare {
  const no = (why: string): Compare => ({ ok: false, why: `${path}: ${why}` });
  if (expected === null) return actual === null || actual === undefined ? { ok: true } : no(`expected None, got ${show(actual)}`);
  if (typeof expected === 'boolean') return actual === expected ? { ok: true } : no(`expected ${expected}, got ${show(actual)}`);
  if (typeof expected === 'number') {
    if ((typeof actual === 'number' || typeof actual === 'bigint') && Number.isInteger(expected) && BigInt(actual as number) === BigInt(expected)) return { ok: true };
    if (typeof actual === 'number' && actual === expected) return { ok: true };
    return no(`expected ${expected}, got ${show(actual)}`);
  }
  if (typeof expected === 'string') return actual === expected ? { ok: true } : no(`expected '${expected}', got ${show(actual)}`);
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return no(`expected a sequence, got ${show(actual)}`);
    if (actual.length !== expected.length) return no(`expected ${expected.length} items, got ${actual.length}`);
    for (let i = 0; i < expected.length; i++) {
      const c = sameValue(expected[i], actual[i], `${path}[${i}]`);
      if (!c.ok) return c;
    }
    return { ok: true };
  }
  if (typeof expected.bytes === 'string') {
    if (!(actual instanceof Uint8Array)) return no(`expected bytes ${expected.bytes}, got ${show(actual)}`);
    return hex(actual) === expected.bytes ? { ok: true } : no(`expected bytes ${expected.bytes.length > 96 ? `${expected.bytes.slice(0, 64)}… (${expected.bytes.length / 2} bytes)` : expected.bytes}, got ${hexShort(actual)}`);
  }
  if (typeof expected.int === 'string') {
    return (typeof actual === 'bigint' || typeof actual === 'number') && BigInt(actual) === BigInt(expected.int) ? { ok: true } : no(`expected ${expected.int}, got ${show(actual)}`);
  }
  if (typeof expected.float === 'string') return typeof actual === 'number' && actual === Number(expected.float) ? { ok: true } : no(`expected ${expected.float}, got ${show(actual)}`);
  if (typeof expected.error === 'string') return no(`expected ${expected.error}(${JSON.stringify(expected.message)}), got ${show(actual)}`);
  if (typeof expected.crash === 'string') return no(`uWSGI crashed (${expected.crash}); we returned ${show(actual)}`);
  // A dict.
  if (actual === null || typeof actual !== 'object') return no(`expected a dict, got ${show(actual)}`);
  const keys = Object.keys(expected);
  const got = Object.keys(actual as object);
  if (keys.length !== got.length || keys.some((k) => !got.includes(k))) return no(`expected keys [${keys}], got [${got}]`);
  for (const k of keys) {
    const c = sameValue(expected[k], (actual as Record<string, unknown>)[k], `${path}.${k}`);
    if (!c.ok) return c;
  }
  return { ok: true };
}

/** Whether an error we threw matches the Python exception uWSGI raised. */
export function sameError(expected: { error: string }, actual: unknown): Compare {
  if (actual instanceof PythonError) return actual.pyClass === expected.error ? { ok: true } : { ok: false, why: `expected ${expected.error}, got ${actual.pyClass}: ${actual.message}` };
  if (!(actual instanceof UwsgiError)) return { ok: false, why: `expected ${expected.error}, got a non-UwsgiError throw: ${show(actual)}` };
  const py = PYTHON_ERROR_OF[actual.code];
  return py === expected.error ? { ok: true } : { ok: false, why: `expected ${expected.error}, got ${actual.code} (${py}): ${actual.message}` };
}

/** Bytes as hex in messages, long values cut (a 4 KiB area read would bury the line). */
const hexShort = (u8: Uint8Array) => (u8.length > 48 ? `${hex(u8.subarray(0, 32))}… (${u8.length} bytes)` : hex(u8));

export function show(v: unknown): string {
  if (v instanceof Uint8Array) return `bytes ${hexShort(v)}`;
  if (v instanceof Error) return `${v.name}${(v as UwsgiError).code ? `[${(v as UwsgiError).code}]` : ''}: ${v.message}`;
  if (typeof v === 'bigint') return `${v}n`;
  try { return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x instanceof Uint8Array ? `bytes ${hexShort(x)}` : x)) ?? String(v); } catch { return String(v); }
}

export { hex, asBytes };
