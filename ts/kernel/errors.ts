/**
 * Typed errors. Every failure the library reports is a {@link UwsgiError} with
 * a stable {@link UwsgiErrorCode}; messages name the function and the argument.
 * @module
 */
import { CoreStatus } from './abi.ts';

/** Stable error codes, one per kind of failure. */
export type UwsgiErrorCode =
  /** An argument has the wrong JavaScript type (a string where a number is needed...). */
  | 'ERR_ARG_TYPE'
  /** A function got too few or too many arguments. */
  | 'ERR_ARG_COUNT'
  /** A numeric value is outside the range the operation stores (a byte over 255...). */
  | 'ERR_VALUE_RANGE'
  /** A position/length falls outside a shared area, a cache item, a queue slot... */
  | 'ERR_BOUNDS'
  /** A number or name does not designate a configured object (lock 9 of 4, area 3 of 1...). */
  | 'ERR_NOT_FOUND'
  /** An option is unknown or its value is malformed. */
  | 'ERR_OPTION'
  /** The feature exists but is not configured in this engine (no spooler, no queue...). */
  | 'ERR_NOT_CONFIGURED'
  /** The feature is not built yet or not available on this runtime. */
  | 'ERR_UNSUPPORTED'
  /** The operation conflicts with a lock the caller holds (a write under its own read lock...). */
  | 'ERR_LOCK_STATE'
  /** A bounded wait ran out. */
  | 'ERR_TIMEOUT'
  /** The calling thread was asked to stop while it waited. */
  | 'ERR_STOPPED'
  /** A fixed-size table is full (thread slots...). */
  | 'ERR_FULL'
  /** The shared memory is not a layout this core understands. */
  | 'ERR_LAYOUT'
  /** The name or number is taken in a way the call may not replace (a signal the master registered...). */
  | 'ERR_EXISTS'
  /** Nothing accepts connections at a network address (refused, no such unix socket, unreachable host). */
  | 'ERR_CONNECT'
  /** A network peer closed or reset the connection before a complete reply. */
  | 'ERR_CLOSED'
  /** A network peer's reply breaks the protocol (garbage, a size over the limit). */
  | 'ERR_BAD_REPLY'
  /** A network peer answered that it refused the operation (a signal not queued, a spool job not written). */
  | 'ERR_REJECTED'
  /** A value the library handed out, and still hands out, was modified by the caller (caught by the cache2 `near_check` option). */
  | 'ERR_MODIFIED'
  /** Anything else that went wrong inside the engine. */
  | 'ERR_INTERNAL'
  /** A remote procedure call failed on the remote node (Erlang's `{badrpc, Reason}`; the error carries the reason). */
  | 'ERR_BADRPC'
  /** Bytes that break the uwsgi protocol: a truncated packet, an empty vars key, a size over the limit. */
  | 'ERR_PROTOCOL';

/** The error every uwsgi-wasm function throws. `code` says what kind of failure it is. */
export class UwsgiError extends Error {
  /** Machine-readable kind of failure. */
  readonly code: UwsgiErrorCode;
  constructor(code: UwsgiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UwsgiError';
    this.code = code;
  }
}

/**
 * The error each failure status of the core (and of the network client, which
 * shares its numbers) becomes: every `E_*` of ts/kernel/abi.ts has a row
 * (test/kernel/abi.test.ts checks it).
 */
export const statusTable: Readonly<Record<number, { code: UwsgiErrorCode; text: string }>> = {
  [CoreStatus.E_BOUNDS]: { code: 'ERR_BOUNDS', text: 'out of bounds' },
  [CoreStatus.E_BAD_ID]: { code: 'ERR_NOT_FOUND', text: 'no such object' },
  [CoreStatus.E_TIMEOUT]: { code: 'ERR_TIMEOUT', text: 'timed out' },
  [CoreStatus.E_STOPPED]: { code: 'ERR_STOPPED', text: 'the thread was asked to stop' },
  [CoreStatus.E_FULL]: { code: 'ERR_FULL', text: 'table full' },
  [CoreStatus.E_NOT_OWNER]: { code: 'ERR_LOCK_STATE', text: 'the lock is held by another thread' },
  [CoreStatus.E_BAD_STATE]: { code: 'ERR_LOCK_STATE', text: 'conflicts with a lock the caller holds' },
  [CoreStatus.E_LAYOUT]: { code: 'ERR_LAYOUT', text: 'the shared memory has no valid uwsgi-wasm layout' },
  [CoreStatus.E_EMPTY]: { code: 'ERR_INTERNAL', text: 'nothing to take' },
  [CoreStatus.E_CORRUPT]: { code: 'ERR_INTERNAL', text: 'the structure fails its invariants' },
  [CoreStatus.E_NO_STATUS_ROW]: { code: 'ERR_NOT_FOUND', text: 'no status-table row for this thread' },
  [CoreStatus.E_NOT_IN_REQUEST]: { code: 'ERR_NOT_FOUND', text: 'no request in progress' },
  [CoreStatus.E_SIG_MASTER_OWNED]: { code: 'ERR_EXISTS', text: 'the master registered this signal already (uWSGI: unable to register signal)' },
  [CoreStatus.E_SIG_ARG]: { code: 'ERR_VALUE_RANGE', text: 'signal number or target out of range' },
  [CoreStatus.E_TIMER_ARG]: { code: 'ERR_VALUE_RANGE', text: 'timer, cron or file monitor argument out of range' },
  [CoreStatus.E_PKT_SHORT]: { code: 'ERR_PROTOCOL', text: 'truncated: a length runs past the end of the bytes' },
  [CoreStatus.E_PKT_TOO_BIG]: { code: 'ERR_PROTOCOL', text: 'a size is over its limit' },
  [CoreStatus.E_PKT_EMPTY_KEY]: { code: 'ERR_PROTOCOL', text: 'a vars key is empty' },
  [CoreStatus.E_PKT_TOO_MANY]: { code: 'ERR_PROTOCOL', text: 'too many vars pairs or array items' },
  // network client (ts/client/)
  [CoreStatus.E_NET_CONNECT]: { code: 'ERR_CONNECT', text: 'nothing accepts connections there' },
  [CoreStatus.E_NET_CLOSED]: { code: 'ERR_CLOSED', text: 'the peer closed the connection before a complete reply' },
  [CoreStatus.E_NET_BAD_REPLY]: { code: 'ERR_BAD_REPLY', text: 'the reply breaks the protocol' },
  [CoreStatus.E_NET_REJECTED]: { code: 'ERR_REJECTED', text: 'the peer refused the operation' },
  [CoreStatus.E_SCRATCH]: { code: 'ERR_INTERNAL', text: 'the value does not fit in the thread scratch' },
  [CoreStatus.E_HINT]: { code: 'ERR_INTERNAL', text: 'a cache slot hint no longer names its item' },
  [CoreStatus.E_VALUE_RANGE]: { code: 'ERR_VALUE_RANGE', text: 'the value does not fit the type' },
};

/** Turn a negative core status into a UwsgiError; `what` says which call and argument failed. */
export function statusError(status: number, what: string): UwsgiError {
  const row = statusTable[status] ?? { code: 'ERR_INTERNAL' as const, text: `core status ${status}` };
  return new UwsgiError(row.code, `${what}: ${row.text}`);
}

// ---- argument validation shared by every facade ----------------------------------

/** Describe a value's type for messages: `number`, `string`, `null`, `Uint8Array`... */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Check the number of arguments a public function received. */
export function argCount(fn: string, got: number, min: number, max: number): void {
  if (got < min || got > max) {
    const want = min === max ? `exactly ${min}` : got < min ? `at least ${min}` : `at most ${max}`;
    throw new UwsgiError('ERR_ARG_COUNT', `${fn}() takes ${want} argument${(got < min ? min : max) === 1 ? '' : 's'} (${got} given)`);
  }
}

/** An integer argument (a safe-integer number, or a bigint within range). */
export function intArg(fn: string, name: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  // An integer, only too wide: a range error (uWSGI's OverflowError), not a type error.
  if (typeof v === 'bigint') throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} ${v} is outside the safe integer range`);
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be an integer, got ${typeof v === 'number' ? String(v) : typeName(v)}`);
}

/** A 64-bit integer argument, as bigint; numbers must be safe integers. */
export function int64Arg(fn: string, name: string, v: unknown): bigint {
  if (typeof v === 'bigint') {
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} does not fit in a signed 64-bit integer`);
    return v;
  }
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be a bigint or a safe integer, got ${typeof v === 'number' ? String(v) : typeName(v)}`);
}

const utf8 = new TextEncoder();

/** A bytes argument: `Uint8Array` as is, a string as UTF-8. */
export function bytesArg(fn: string, name: string, v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return utf8.encode(v);
  throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be a string or Uint8Array, got ${typeName(v)}`);
}
