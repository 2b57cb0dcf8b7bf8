/**
 * Typed errors. Every failure the library reports is a {@link UwsgiError} with
 * a stable {@link UwsgiErrorCode}; messages name the function and the argument.
 * @module
 */

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
  /** Anything else that went wrong inside the engine. */
  | 'ERR_INTERNAL';

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

/** Core status codes (assembly/status.ts) and the error each failure becomes. */
export const CoreStatus = {
  OK: 0,
  OWNER_DIED: 1,
  E_BOUNDS: -1,
  E_BAD_ID: -2,
  E_TIMEOUT: -3,
  E_STOPPED: -4,
  E_FULL: -5,
  E_NOT_OWNER: -6,
  E_BAD_STATE: -7,
  E_LAYOUT: -8,
  E_EMPTY: -9,
  E_CORRUPT: -10,
  E_VALUE_RANGE: -25,
} as const;

const statusTable: Record<number, { code: UwsgiErrorCode; text: string }> = {
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
