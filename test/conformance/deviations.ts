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
  /** Set by the runner once a deviation row excused this operation's difference. */
  excused?: string;
}

export interface Deviation {
  id: string;
  /** (a) crash/wrap/truncate → we throw; (b) Python-3 typing → JS typing; (c) implementation identity. */
  principle: 'a' | 'b' | 'c';
  reason: string;
  applies(o: Observed): boolean;
}

const SIGNAL_FNS = new Set(['register_signal', 'signal', 'signal_registered', 'signal_wait', 'add_timer', 'add_rb_timer', 'add_cron', 'add_file_monitor']);


const ONE_X_NAMES = new Set(['fastfuncs', 'message_manager_marshal', 'grunt', 'send_message', 'send_multi_message', 'cluster']);
const SPOOLER_FNS = new Set(['spool', 'send_to_spooler', 'set_spooler_frequency', 'spooler_jobs', 'spooler_pid', 'spooler_pids', 'spooler_get_task']);
const isInt = (v: unknown): boolean => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
const isCrash = (v: Vec): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.crash === 'string';
const utf8Len = (s: string): number => new TextEncoder().encode(s).length;
const isAttrOf = (op: Vec, ...names: string[]): boolean =>
  typeof op === 'object' && op !== null && !Array.isArray(op) && op.fn === 'attr' && Array.isArray(op.args) && names.includes(op.args[0] as string);

/** The operation a helper (len, typeof, getitem...) wraps, down to the uwsgi call. */
function innermost(fn: string, args: Vec[]): { fn: string; args: Vec[] } {
  const first = args[0];
  if (['len', 'typeof', 'getitem', 'keys', 'sorted', 'compare'].includes(fn) && typeof first === 'object' && first !== null && !Array.isArray(first) && typeof first.fn === 'string') {
    return innermost(first.fn, (first.args ?? []) as Vec[]);
  }
  return { fn, args };
}

const WIDTH: Record<string, number> = { 8: 1, 16: 2, 32: 4, 64: 8, byte: 1, long: 8 };

/** The bytes of a sharedarea a call touches: [id, from, to). */
function areaRange(fn: string, args: Vec[]): [number, number, number] | null {
  const id = Number(args[0]), pos = Number(args[1]);
  if (!Number.isFinite(id) || !Number.isFinite(pos)) return null;
  const w = /^sharedarea_(?:read|write|inc|dec)(8|16|32|64|byte|long)$/.exec(fn);
  if (w) return [id, pos, pos + WIDTH[w[1]]];
  if (fn === 'sharedarea_read') return [id, pos, args[2] === undefined || args[2] === null ? Infinity : pos + Number(args[2])];
  if (fn === 'sharedarea_write') {
    const d = args[2];
    const n = typeof d === 'string' ? utf8Len(d) : typeof d === 'object' && d !== null && !Array.isArray(d) && typeof d.bytes === 'string' ? d.bytes.length / 2 : 0;
    return [id, pos, pos + n];
  }
  return null;
}

/** Whether two calls touch the same shared object, so the first's outcome shows in the second's result. */
function sameObject(a: { fn: string; args: Vec[] }, b: { fn: string; args: Vec[] }): boolean {
  const x = innermost(a.fn, a.args), y = innermost(b.fn, b.args);
  const family = (f: string) => /^cache_/.test(f) ? 'cache' : /^sharedarea_/.test(f) ? 'sa' : /^queue_/.test(f) ? 'queue'
    : /^(lock|unlock|is_locked)$/.test(f) ? 'lock' : /^(register_signal|signal|signal_registered)$/.test(f) ? 'signal'
    : /^(register_rpc|call|rpc|rpc_list)$/.test(f) ? 'rpc' : /logvar$/.test(f) ? 'logvar' : /^snmp_/.test(f) ? 'snmp' : f;
  if (family(x.fn) !== family(y.fn)) return false;
  switch (family(x.fn)) {
    case 'queue': case 'rpc': return true;
    case 'cache': {
      const whole = (f: string) => f === 'cache_keys' || f === 'cache_clear';
      return whole(x.fn) || whole(y.fn) || JSON.stringify(x.args[0]) === JSON.stringify(y.args[0]);
    }
    case 'sa': {
      const r = areaRange(x.fn, x.args), s = areaRange(y.fn, y.args);
      return r !== null && s !== null && r[0] === s[0] && r[1] < s[2] && s[1] < r[2];
    }
    case 'lock': return Number(x.args[0] ?? 0) === Number(y.args[0] ?? 0); // true is lock 1 to uWSGI
    default: return JSON.stringify(x.args[0]) === JSON.stringify(y.args[0]);
  }
}

function magicMatches(expected: Vec, actual: unknown): boolean {
  if (typeof expected !== 'object' || expected === null || !Array.isArray(expected.dict_items) || actual === null || typeof actual !== 'object') return false;
  const want = new Map((expected.dict_items as Vec[][]).map(([k, v]) => [new TextDecoder().decode(toBytes(k)), new TextDecoder().decode(toBytes(v))]));
  const got = actual as Record<string, unknown>;
  if (want.size !== Object.keys(got).length || [...want.keys()].some((k) => !(k in got))) return false;
  return [...want].every(([k, v]) => 'hTtVvkUG'.includes(k) || got[k] === v);
}

const toBytes = (v: Vec): Uint8Array =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.bytes === 'string' ? Uint8Array.from(v.bytes.match(/../g) ?? [], (b) => parseInt(b, 16)) : new TextEncoder().encode(String(v));

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
    applies: (o) => SIGNAL_FNS.has(o.fn) && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE' &&
      isInt(o.jsArgs[0]) && (BigInt(o.jsArgs[0] as number | bigint) < 0n || BigInt(o.jsArgs[0] as number | bigint) > 255n),
  },
  {
    id: 'schedule-values-checked',
    principle: 'a',
    reason: 'uWSGI takes a timer of 0 or negative seconds (it would fire on every master cycle), negative iterations, and cron fields no date has (minute 60, day 0, month 13: the entry never fires), silently; we refuse them with ERR_VALUE_RANGE.',
    applies: (o) => (o.fn === 'add_timer' || o.fn === 'add_rb_timer' || o.fn === 'add_cron') && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError &&
      o.actual.code === 'ERR_VALUE_RANGE',
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
    applies: (o) => !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE' && o.fn !== 'snmp_set_community' &&
      o.fn !== 'set_user_harakiri' && !/^queue_/.test(o.fn) &&
      o.jsArgs.some((a) => isInt(a) && (BigInt(a as number | bigint) < 0n || BigInt(a as number | bigint) > 0xffffffffn)),
  },
  {
    id: 'queue-index-past-2^53',
    principle: 'b',
    reason: 'uWSGI reads a queue index as a C long and finds no slot at 2^63-1; a JS index past 2^53 cannot be an exact number, so a bigint beyond is ERR_VALUE_RANGE.',
    applies: (o) => /^queue_/.test(o.fn) && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE' &&
      o.jsArgs.some((a) => typeof a === 'bigint' && (a > BigInt(Number.MAX_SAFE_INTEGER) || a < BigInt(Number.MIN_SAFE_INTEGER))),
  },
  {
    id: 'snmp-arithmetic-wrap-becomes-error',
    principle: 'a',
    reason: 'uWSGI lets a Gauge32 pass 2^32-1 or a counter/gauge go below zero by wrapping it silently; SNMPv2-SMI forbids both (a gauge saturates, a counter never decreases), so such a change is ERR_VALUE_RANGE and leaves the slot alone. Counters still wrap upwards, as managers expect.',
    applies: (o) => /^snmp_(incr_gauge|decr_gauge|decr_counter32|decr_counter64)$/.test(o.fn) && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE',
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
    applies: (o) => o.fn === 'attr' || o.fn === 'keys' || o.fn === 'typeof' || (o.fn === 'getitem' && isAttrOf(o.args[0], 'opt', 'magic_table'))
      ? textEqual(o.expected, o.actual) : false,
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
    id: 'crash-becomes-miss',
    principle: 'a',
    reason: 'uWSGI 2.0.21\'s extract() crashes the worker on a file it cannot read (it uses the NULL it gets); we return null, the miss every other lookup returns.',
    applies: (o) => o.fn === 'extract' && isCrash(o.expected) && !o.threw && o.actual === null,
  },
  {
    id: 'crash-avoided-by-an-earlier-refusal',
    principle: 'a',
    reason: 'uWSGI crashed because of something an earlier call of the case stored (an empty RPC name makes rpc_list segfault); we refused that call, so nothing crashes later.',
    applies: (o) => isCrash(o.expected) && !o.threw && (o.earlier ?? []).some((e) => e.excused !== undefined && e.threw && !isErr(e.expected)),
  },
  {
    id: 'bytes-accepted-as-text',
    principle: 'b',
    reason: 'Python 3 uWSGI wants str for text arguments (log lines, warnings, RPC names, signal targets, the SNMP community) and refuses bytes; a JS Uint8Array is accepted and read as UTF-8, as strings are where uWSGI wants bytes.',
    applies: (o) => isErr(o.expected) && o.expected.error === 'TypeError' && /must be str, not bytes/.test(o.expected.message) && !o.threw &&
      o.jsArgs.some((a) => a instanceof Uint8Array),
  },
  {
    id: 'booleans-are-not-integers',
    principle: 'b',
    reason: 'Python\'s bool is an int (True is 1), so uWSGI takes it for a number; a JS boolean is not a number and is refused with ERR_ARG_TYPE.',
    applies: (o) => !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_ARG_TYPE' && o.jsArgs.some((a) => typeof a === 'boolean'),
  },
  {
    id: 'integral-numbers-are-integers',
    principle: 'b',
    reason: 'Python tells 1.0 (a float, TypeError where uWSGI wants an int) from 1; JS has one number type, so an integral number is an integer.',
    applies: (o) => isErr(o.expected) && o.expected.error === 'TypeError' && /'float' object/.test(o.expected.message) && !o.threw &&
      o.jsArgs.every((a) => typeof a !== 'number' || Number.isInteger(a)) && o.jsArgs.some((a) => typeof a === 'number'),
  },
  {
    id: 'timer-seconds-are-numbers',
    principle: 'b',
    reason: 'uWSGI parses timer seconds as a C int (a float is a TypeError, 2^31 an OverflowError); here they are a JS number of seconds: fractional (at least 1 ms) and past 2^31 are accepted.',
    applies: (o) => (o.fn === 'add_timer' || o.fn === 'add_rb_timer') && isErr(o.expected) && (o.expected.error === 'TypeError' || o.expected.error === 'OverflowError') &&
      !o.threw && typeof o.jsArgs[1] === 'number' && (!Number.isInteger(o.jsArgs[1]) || (o.jsArgs[1] as number) > 0x7fffffff),
  },
  {
    id: 'c-int-overflow-is-not-found',
    principle: 'b',
    reason: 'uWSGI\'s argument parser refuses a lock or area number outside a C int (OverflowError) before looking it up; we look it up and report that nothing has that number (ERR_NOT_FOUND).',
    applies: (o) => isErr(o.expected) && o.expected.error === 'OverflowError' && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_NOT_FOUND' &&
      o.jsArgs.some((a) => isInt(a) && (BigInt(a as number | bigint) > 0x7fffffffn || BigInt(a as number | bigint) < -0x80000000n)),
  },
  {
    id: 'extra-arguments-refused',
    principle: 'b',
    reason: 'uWSGI\'s functions that take no arguments ignore any they are given; a JS call with extra arguments is a mistake, reported as ERR_ARG_COUNT.',
    applies: (o) => !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_ARG_COUNT' && /takes (exactly 0|at most)/.test(o.actual.message),
  },
  {
    id: 'unreachable-node-typed',
    principle: 'a',
    reason: 'uWSGI\'s rpc() returns None when the node cannot be reached, the same None as "no such function"; we throw ERR_CONNECT (ERR_TIMEOUT, ERR_CLOSED) so a caller can tell a node that is down from a deliberate no.',
    applies: (o) => o.expected === null && o.threw && o.actual instanceof UwsgiError && ['ERR_CONNECT', 'ERR_TIMEOUT', 'ERR_CLOSED'].includes(o.actual.code),
  },
  {
    id: 'spooler-functions-always-present',
    principle: 'c',
    reason: 'uWSGI defines the spooler functions only when --spooler is given (AttributeError otherwise); our module object has one typed shape, so they exist: spool and the task functions throw ERR_NOT_CONFIGURED, the queries answer empty (spooler_pid 0, spooler_pids []).',
    applies: (o) => {
      const fn = o.fn === 'kwcall' ? o.args[0] as string : o.fn;
      const missing = isErr(o.expected) && o.expected.error === 'AttributeError' && SPOOLER_FNS.has(fn);
      if (missing) return !o.threw || (o.actual instanceof UwsgiError && o.actual.code === 'ERR_NOT_CONFIGURED');
      return o.fn === 'hasattr' && SPOOLER_FNS.has(o.args[0] as string) && o.expected === false && o.actual === true;
    },
  },
  {
    id: 'one-x-names-kept',
    principle: 'c',
    reason: 'fastfuncs, message_manager_marshal, grunt, send_message, send_multi_message and cluster are uWSGI 0.9/1.x\'s (2.0\'s module dropped them); the seed reference lists them, so they exist here with a defined meaning (see the README\'s API table).',
    applies: (o) => o.fn === 'hasattr' && ONE_X_NAMES.has(o.args[0] as string) && o.expected === false && o.actual === true,
  },
  {
    id: 'functions-are-js-functions',
    principle: 'b',
    reason: 'The module\'s functions are JS functions, not Python builtins.',
    applies: (o) => o.fn === 'typeof' && o.expected === 'builtin_function_or_method' && o.actual === 'function',
  },
  {
    id: 'memoryview-is-a-uint8array',
    principle: 'b',
    reason: 'sharedarea_memoryview gives a zero-copy Uint8Array over the area, JS\'s equivalent of a Python memoryview.',
    applies: (o) => o.fn === 'typeof' && o.expected === 'memoryview' && o.actual === 'bytes',
  },
  {
    id: 'magic-table-machine-values',
    principle: 'c',
    reason: 'magic_table has uWSGI\'s letters; the values that describe the machine, the user and the moment (h, v, t, T, V, k, U, G) are this run\'s, not the recording\'s (U and G hold the ids where no USER or GROUP is set: the runtimes have no portable name lookup). The fixed ones (%, (, [, u, g) are compared.',
    applies: (o) => o.fn === 'attr' && o.args[0] === 'magic_table' && magicMatches(o.expected, o.actual),
  },
  {
    id: 'worker-registered-target-honoured',
    principle: 'a',
    reason: 'uWSGI routes a raised signal by the master\'s table only: a target a worker registers after the fork (mule, spooler, farm, another worker) is never seen, and the master hands the signal to the first available worker, whose handler runs. We honour the target the worker gave; when that process is absent nothing runs and a line is logged.',
    applies: (o) => {
      const m = o.fn === 'cache_get' && typeof o.args[0] === 'string' ? /^sig-(\d+)$/.exec(o.args[0]) : null;
      if (!m || o.actual !== null || o.expected === null) return false;
      const earlier = o.earlier ?? [];
      const importEnds = earlier.findIndex((e) => e.fn === 'context' && e.args[0] !== 'import');
      return earlier.some((e, i) => e.fn === 'register_signal' && e.args[0] === Number(m[1]) && (earlier[0]?.fn !== 'context' || earlier[0].args[0] !== 'import' || i > importEnds) &&
        !['', 'worker', 'worker0', 'workers', 'active-workers', 'worker1'].includes(e.args[1] as string));
    },
  },
  {
    id: 'non-callable-handler-refused',
    principle: 'a',
    reason: 'uWSGI registers any object as a signal handler and fails (logged) each time the signal fires; a handler that cannot be called is refused at registration (ERR_ARG_TYPE) and the signal stays unregistered.',
    applies: (o) => o.fn === 'register_signal' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_ARG_TYPE' && typeof o.jsArgs[2] !== 'function',
  },
  {
    id: 'empty-rpc-name-refused',
    principle: 'a',
    reason: 'uWSGI registers an RPC function with an empty name, after which rpc_list() crashes the worker (segfault); we refuse the name (ERR_BOUNDS, 1..255 bytes).',
    applies: (o) => o.fn === 'register_rpc' && o.args[0] === '' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_BOUNDS',
  },
  {
    id: 'rpc-argument-truncation-becomes-error',
    principle: 'a',
    reason: 'uWSGI keeps an RPC argument\'s length in 16 bits and the argument count in 8, so a 70000-byte argument arrives as its first 4464 bytes and 256 arguments as none; we refuse what does not fit (ERR_BOUNDS, ERR_VALUE_RANGE).',
    applies: (o) => (o.fn === 'call' || o.fn === 'rpc') && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError &&
      (o.actual.code === 'ERR_BOUNDS' || o.actual.code === 'ERR_VALUE_RANGE') &&
      (o.jsArgs.some((a) => a instanceof Uint8Array && a.length > 0xffff) || o.jsArgs.length - (o.fn === 'rpc' ? 2 : 1) > 255),
  },
  {
    id: 'mule-id-outside-the-table',
    principle: 'a',
    reason: 'uWSGI 2.0.21\'s mule_msg range check (`id < 0 && id > count`) is never true, so a mule number outside 1..count indexes past its mule table (undefined behaviour; it answered False); we refuse it with ERR_NOT_FOUND.',
    applies: (o) => o.fn === 'mule_msg' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_NOT_FOUND' && isInt(o.jsArgs[1]),
  },
  {
    id: 'farm-name-as-str',
    principle: 'b',
    reason: 'uWSGI 2.0.21 under Python 3 looks a farm name up only when it is bytes (its PyString_Check is PyBytes_Check), so mule_msg(msg, "farm") is "invalid mule"; a JS string names the farm.',
    applies: (o) => o.fn === 'mule_msg' && isErr(o.expected) && o.expected.message === 'invalid mule' && !o.threw && typeof o.jsArgs[1] === 'string',
  },
  {
    id: 'bounds-checked-64-bit-add',
    principle: 'a',
    reason: 'uWSGI checks only 4 bytes of a 64-bit sharedarea add (inc64, dec64, inclong), so at the last 7 positions it adds into up to 4 bytes past the area; we check all 8 (ERR_BOUNDS).',
    applies: (o) => /^sharedarea_(inc64|dec64|inclong)$/.test(o.fn) && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_BOUNDS',
  },
  {
    id: 'one-code-for-out-of-width-values',
    principle: 'b',
    reason: 'uWSGI\'s write16 checks the value itself (ValueError) where its argument parser checks the other widths (OverflowError); a value outside an operation\'s width is always ERR_VALUE_RANGE here.',
    applies: (o) => o.fn === 'sharedarea_write16' && isErr(o.expected) && o.expected.error === 'ValueError' && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE',
  },
  {
    id: 'owner-checked-unlock',
    principle: 'c',
    reason: 'A lock word names its owner (design decision 6, so a dead holder\'s lock can be recovered): unlock() by a thread that does not hold the lock leaves it held. uWSGI\'s pthread mutex released a lock the master took before the fork when a worker unlocked it.',
    applies: (o) => o.fn === 'is_locked' && o.expected === false && o.actual === true &&
      (o.earlier ?? []).some((e) => e.fn === 'unlock' && (e.args[0] ?? 0) === (o.args[0] ?? 0) && !e.threw),
  },
  {
    id: 'file-monitor-needs-the-path',
    principle: 'a',
    reason: 'uWSGI accepts a monitor on a path that does not exist (or an empty one) and silently watches nothing; we refuse it (ERR_NOT_FOUND, ERR_VALUE_RANGE for an empty path).',
    applies: (o) => o.fn === 'add_file_monitor' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError &&
      (o.actual.code === 'ERR_NOT_FOUND' || (o.actual.code === 'ERR_VALUE_RANGE' && o.jsArgs[1] === '')),
  },
  {
    id: 'truncation-becomes-error',
    principle: 'a',
    reason: 'uWSGI silently cuts what does not fit: a logvar key or value past 255 bytes (one-byte lengths: 4096 bytes store 0), a queue_set value past the slot (written over the next slot\'s header); we refuse it (ERR_VALUE_RANGE, ERR_BOUNDS, or false for a queue slot).',
    applies: (o) => (o.fn === 'set_logvar' || o.fn === 'queue_set') && !isErr(o.expected) && (o.threw || o.actual === null || o.actual === false) &&
      o.jsArgs.some((a) => (typeof a === 'string' && utf8Len(a) > 255) || (a instanceof Uint8Array && a.length > 255)),
  },
  {
    id: 'negative-seconds-refused',
    principle: 'a',
    reason: 'uWSGI takes set_user_harakiri(-1) and sets a deadline in the past; we refuse negative seconds (ERR_VALUE_RANGE; 0 clears).',
    applies: (o) => o.fn === 'set_user_harakiri' && !isErr(o.expected) && o.threw && o.actual instanceof UwsgiError && o.actual.code === 'ERR_VALUE_RANGE' &&
      typeof o.jsArgs[0] === 'number' && o.jsArgs[0] < 0,
  },
  {
    id: 'state-after-a-listed-deviation',
    principle: 'a',
    reason: 'An earlier call of the case on the same object (key, byte range, lock, signal, slot, logvar, queue, RPC table) was a listed deviation that left another state than uWSGI\'s (uWSGI stored what we refused, or refused what we accept); this later result follows from that call and is the state that row describes.',
    applies: (o) => (o.earlier ?? []).some((e) => e.excused !== undefined && e.excused !== 'state-after-a-listed-deviation' && e.threw !== isErr(e.expected) && sameObject(e, o)),
  },
];

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

