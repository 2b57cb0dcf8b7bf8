// The core's ABI constants: every number the AssemblyScript core and the
// TypeScript side must agree on, in one file both compile.
//
// assembly/ imports it like any core file; assembly/index.ts re-exports it, so
// each constant is also an exported wasm global of the same name;
// ts/kernel/abi.ts re-exports it for the TypeScript side and builds the objects
// that side uses (CoreStatus, Region...). test/kernel/abi.test.ts checks that a
// built core exports exactly these values.
//
// The file is written in the subset that is both AssemblyScript and
// TypeScript: plain `export const NAME = <integer expression>;`, nothing else
// (no types, no imports). AssemblyScript types each constant i32; a file that
// compares one with a u32 binds a typed local name to it (`const F: u32 = X;`).
// Names are unique across groups since they share one namespace, and only
// failure statuses start with `E_` (the test relies on it).

// ---- status codes ----------------------------------------------------------------
// Returned by the exported core functions. Zero and positive values are
// successes (some carry a meaning); negative values are failures, and
// ts/kernel/errors.ts maps each to a typed UwsgiError from one table (the test
// fails on a failure code without a row there). Gaps in the numbering are free.

/** Success, nothing more to say. */
export const OK = 0;
/** The lock was acquired, but its previous owner died while holding it. */
export const OWNER_DIED = 1;
/** sa_begin: the caller holds the area's lock already; nothing was taken, so nothing is to release. */
export const HELD_ALREADY = 2;

/** A position or length falls outside the addressed region. */
export const E_BOUNDS = -1;
/** An id (area, lock, cache...) does not name a configured object. */
export const E_BAD_ID = -2;
/** A bounded wait ran out. */
export const E_TIMEOUT = -3;
/** The calling thread was asked to stop (or marked dead) while waiting. */
export const E_STOPPED = -4;
/** No free slot (thread table, registry...). */
export const E_FULL = -5;
/** The caller does not hold the lock it tries to release. */
export const E_NOT_OWNER = -6;
/** The thread slot, area or lock is not in the state the operation needs (a write under one's own read hold...). */
export const E_BAD_STATE = -7;
/** The shared memory does not carry this core's header (wrong memory or layout version). */
export const E_LAYOUT = -8;
/** Nothing to take (an empty mailbox). */
export const E_EMPTY = -9;
/** A cache's structure fails its invariants (cache_check). */
export const E_CORRUPT = -10;
/** The master registered this signal already: uWSGI refuses a second registration in the master. */
export const E_SIG_MASTER_OWNED = -11;
/** A signal number outside 0..255, or a target kind the core does not know. */
export const E_SIG_ARG = -12;
/** A timer, cron or file-monitor argument the core refuses (interval not positive, field out of range). */
export const E_TIMER_ARG = -13;
/** The calling thread has no row in the status table (not a worker, mule or spooler), or a row number is bad. */
export const E_NO_STATUS_ROW = -15;
/** A request end without a request in progress. */
export const E_NOT_IN_REQUEST = -16;
/** Input ends before the structure does: a header, length or string runs past the bytes given. */
export const E_PKT_SHORT = -19;
/** A size exceeds its limit: a body over buffer-size, an item over 65535 bytes. */
export const E_PKT_TOO_BIG = -20;
/** A vars key of length 0 (uWSGI rejects the whole block). */
export const E_PKT_EMPTY_KEY = -21;
/** More vars pairs or array items than the caller allows. */
export const E_PKT_TOO_MANY = -22;
/** A value does not fit the target's type (a Gauge32 over 2^32-1, a counter decremented below zero...). */
export const E_VALUE_RANGE = -25;
/** A cache value does not fit in the thread's scratch slot: the caller reads it with the two-step path. */
export const E_SCRATCH = -28;
/** A cache slot hint no longer names the item (another key's, deleted, expired): nothing was done; the caller takes the full lookup. */
export const E_HINT = -29;
// The network client (ts/client/) reports its failures in the same number
// space, so one table turns them into errors; the core never returns them.
/** Nothing accepts connections at the address (refused, no such unix socket, unreachable host). */
export const E_NET_CONNECT = -34;
/** The peer closed or reset the connection before a complete reply. */
export const E_NET_CLOSED = -35;
/** The peer's reply breaks the protocol (garbage, a size over the limit). */
export const E_NET_BAD_REPLY = -36;
/** The peer answered that it refused the operation (a signal not queued, a spool job not written). */
export const E_NET_REJECTED = -37;

// ---- shared memory layout (kernel/layout.ts draws it) -----------------------------

/** Bytes per WebAssembly page (the spec's constant): memories are sized in pages. */
export const WASM_PAGE = 65536;
/** Where shared state starts: the page below holds each instance's own static data. */
export const LAYOUT_BASE = WASM_PAGE;
/** Bytes of the layout header at LAYOUT_BASE (32 bytes of fields, then 64 region entries of 16 bytes); regions start after it. */
export const LAYOUT_HEADER_SIZE = 1056;
/** Alignment of every region: one cache line, so words hammered by different threads never share one. */
export const LINE_SIZE = 64;
/** Bits of an owner word (a lock's holder) that name the thread: tid + 1, so 0 means "nobody". */
export const OWNER_TID_BITS = 12;
/** Most thread slots a layout may have: what the owner word's tid bits can name. */
export const LAYOUT_MAX_THREADS = (1 << OWNER_TID_BITS) - 2;
/** Read holds (rwlocks held for reading: sharedarea_rlock, a cache's or the queue's reader) a thread may have at once; one more is E_FULL. */
export const READ_HOLDS_MAX = 16;

// Region kinds, the keys of the layout's region table (layout_region). Stable
// numbers: 8 is unused.
/** The thread table (kernel/layout.ts). */
export const REGION_THREADS = 1;
/** One scratch slot per thread, where JS puts keys and values for the core. */
export const REGION_SCRATCH = 2;
/** The user locks (locks/userlocks.ts). */
export const REGION_LOCKS = 3;
/** The shared areas (sharedarea/sharedarea.ts). */
export const REGION_SHAREDAREA = 4;
/** One cache (cache/cache.ts); the region index is the cache's. */
export const REGION_CACHE = 5;
/** The shared queue (queue/queue.ts). */
export const REGION_QUEUE = 6;
/** The RPC registry and mailboxes (rpc/rpc.ts). */
export const REGION_RPC = 7;
/** The mule mailboxes (mules/mules.ts). */
export const REGION_MULES = 9;
/** The signal table, routing inbox and mailboxes (signals/signals.ts). */
export const REGION_SIGNALS = 10;
/** Timers, signal cron and file monitors (signals/timers.ts). */
export const REGION_TIMERS = 11;
/** The worker/mule/spooler status table (process/workers.ts). */
export const REGION_WORKERS = 12;
/** The SNMP user slots and community (observability/snmp.ts). */
export const REGION_SNMP = 13;
/** The spooler's counters and bells: ts/spooler/spooler.ts lays it out; only JS reads and writes it. */
export const REGION_SPOOLER = 14;
/** The cluster's node table: ts/cluster/table.ts lays it out; only JS reads and writes it. */
export const REGION_CLUSTER = 15;

// ---- threads ----------------------------------------------------------------------

// States of a thread slot (thread_state).
/** Free for thread_reserve. */
export const THREAD_FREE = 0;
/** Reserved for, or used by, a running thread. */
export const THREAD_ALIVE = 1;
/** A thread the runtime could not stop: dead for lock owners, never reused until thread_finish. */
export const THREAD_LOST = 2;

// Kinds of thread, as thread_reserve records them (the signal table and the
// status table look threads up by kind).
/** The master, or the thread that created a standalone engine. */
export const KIND_MASTER = 0;
/** A worker (ident: worker id 1..N). */
export const KIND_WORKER = 1;
/** A mule (ident: mule id 1..N). */
export const KIND_MULE = 2;
/** A spooler thread (ident: 1..N over every spool directory). */
export const KIND_SPOOLER = 3;
/** A view attached by an embedder (engine.attach) that is none of the above. */
export const KIND_EMBEDDED = 4;

// ---- caches (cache/cache.ts) --------------------------------------------------------

/** Offset of the key bytes in a cache item (cache_item_addr). */
export const CACHE_ITEM_KEY = 56;
/** Offset of an item's version word (u32): every writer that changes the item bumps it first. */
export const CACHE_ITEM_VERSION = 24;
/** Offset of an item's insert stamp (i64, little-endian: its low word first). */
export const CACHE_ITEM_STAMP = 48;
// A thread's counter line of a cache (cache_line_addr): what JS reads and writes there.
/** Near-cache hits (u32) this thread counted in JS since the core last folded them into its hits. */
export const CACHE_LINE_NEAR_HITS = 20;
/** The last hit's slot (u32), written by the core with every hit it serves. */
export const CACHE_LINE_FOUND_SLOT = 24;
/** The last hit's item version (u32), read in the same consistent snapshot as the value. */
export const CACHE_LINE_FOUND_VERSION = 28;
/** The last hit's insert stamp (i64: low word, then high word). */
export const CACHE_LINE_FOUND_STAMP = 32;
/** The last hit's absolute expiry (i64 unix seconds, 0 never). */
export const CACHE_LINE_FOUND_EXPIRES = 40;
/** The last hit's item address (u32). */
export const CACHE_LINE_FOUND_ITEM = 48;
/** JS asks the core to fold its near-cache hits (cache_near_fold) when their count reaches this. */
export const CACHE_NEAR_FOLD = 0x40000000;
/** cache_get / cache_set put the value in scratch after the key, rounded up to this. */
export const CACHE_VALUE_ALIGN = 8;
// Flag bits of cache_init, one per cache2 option.
/** bitmap: values span several blocks, allocated from a block bitmap. */
export const CACHE_FLAG_BITMAP = 1;
/** purge_lru. */
export const CACHE_FLAG_LRU = 2;
/** lazy_expire. */
export const CACHE_FLAG_LAZY = 4;
/** clear_on_full: a full cache is emptied. */
export const CACHE_FLAG_CLEAR_ON_FULL = 8;
/** no_expire: the sweeper leaves the cache alone. */
export const CACHE_FLAG_NO_EXPIRE = 16;
/** hash=murmur2 (djb33x otherwise). */
export const CACHE_FLAG_MURMUR2 = 32;
// Mode bits of cache_set / cache_store_begin.
/** Overwrite a live key (cache_update); without it a live key is refused (cache_set). */
export const CACHE_STORE_UPDATE = 1;
/** A live key keeps its expiry (cache_update's keepTtl); a new one takes the one given. */
export const CACHE_STORE_KEEP_EXPIRES = 2;
// Operations of cache_math (cache_inc/dec/mul/div).
/** cache_inc: add. */
export const CACHE_MATH_INC = 0;
/** cache_dec: subtract. */
export const CACHE_MATH_DEC = 1;
/** cache_mul: multiply. */
export const CACHE_MATH_MUL = 2;
/** cache_div: divide (by zero stores 0, as uWSGI). */
export const CACHE_MATH_DIV = 3;

// ---- queue (queue/queue.ts) ---------------------------------------------------------

/** Bytes of each queue slot taken by its header: uWSGI counts them in queue-blocksize. */
export const QUEUE_SLOT_HEADER = 16;

// ---- RPC (rpc/rpc.ts) -----------------------------------------------------------------

/** Longest function name, in bytes (uWSGI refuses 256 and more). */
export const RPC_NAME_MAX = 255;
/** Bytes of each thread's RPC mailbox (rpc_mailbox), header included. */
export const RPC_MAILBOX_BYTES = 65536;
// Byte offsets of the mailbox words JS drives with Atomics (rpc/rpc.ts draws the mailbox).
/** Call state: idle, request, serving, reply (ts/rpc/rpc.ts numbers them). */
export const RPC_MB_STATE = 0;
/** Thread slot the request is for. */
export const RPC_MB_TARGET = 4;
/** Registry entry of the function called. */
export const RPC_MB_ENTRY = 8;
/** Arguments packed at RPC_MB_DATA. */
export const RPC_MB_ARGC = 12;
/** Bytes of the result at RPC_MB_DATA. */
export const RPC_MB_LEN = 16;
/** 1 when the function returned bytes, 0 otherwise. */
export const RPC_MB_RESULT = 20;
/** Rung by callers: the owner waits on it for requests. */
export const RPC_MB_BELL = 24;
/** Where a call's packed arguments, or its result, start. */
export const RPC_MB_DATA = 64;

// ---- signals (signals/signals.ts, signals/timers.ts) -----------------------------------

/** Signals 0..255, as uWSGI. */
export const SIGNAL_COUNT = 256;
/** sig_drain and sig_route_drain write (signal, count) pairs of i32: bytes per pair. */
export const SIGNAL_PAIR_BYTES = 8;
// Target kinds of the signal table (sig_register, sig_target_kind).
/** Nobody registered the signal. */
export const TARGET_NONE = 0;
/** "worker" / "worker0": the first available worker (the master picks). */
export const TARGET_WORKER_ANY = 1;
/** "workers": every worker. */
export const TARGET_WORKERS = 2;
/** "workerN": worker N (the entry's argument). */
export const TARGET_WORKER_N = 3;
/** "active-workers": every running worker. */
export const TARGET_ACTIVE_WORKERS = 4;
/** "mule" / "mule0": the first available mule (the master picks). */
export const TARGET_MULE_ANY = 5;
/** "mules": every mule. */
export const TARGET_MULES = 6;
/** "muleN": mule N (the entry's argument). */
export const TARGET_MULE_N = 7;
/** A farm: the first available mule of it (the master picks). */
export const TARGET_FARM = 8;
/** "spooler": the first available spooler thread (the master picks). */
export const TARGET_SPOOLER = 9;
// Byte offsets of the words of a thread's signal mailbox (sig_mailbox) that JS reads and writes.
/** Rung by senders: the thread waits on it for signals. */
export const SIG_MB_BELL = 0;
/** Signals the thread has handled (uWSGI's per-worker counter). */
export const SIG_MB_HANDLED = 4;
/** 1 while a handler runs. */
export const SIG_MB_BUSY = 8;
/** 1 while the thread waits in signal_wait. */
export const SIG_MB_WAITING = 12;
/** 1 once the thread runs handlers. */
export const SIG_MB_LISTENING = 16;
// Per-signal counters (sig_note, sig_count), for the stats server.
/** Times the signal was raised: `signal()`, a remote signal, a timer, cron entry or file monitor. */
export const SIG_COUNT_RAISED = 0;
/** Deliveries to a thread's mailbox (a signal for every worker counts one per worker). */
export const SIG_COUNT_DELIVERED = 1;
/** Raised with no thread to deliver it to (the "could not deliver" log lines). */
export const SIG_COUNT_LOST = 2;

// Timer kinds (timer_add, timers_count).
/** add_timer: fires every interval, forever. */
export const TIMER_KIND_PLAIN = 1;
/** add_rb_timer: fires every interval, `iterations` times (0 = forever). */
export const TIMER_KIND_RB = 2;
/** Timers of each kind an engine holds (uWSGI's 64). */
export const TIMERS_PER_KIND = 64;
/** Signal cron entries an engine holds. */
export const CRON_SLOTS = 64;
/** File monitors an engine holds. */
export const MONITOR_SLOTS = 64;
/** Longest monitored path, in bytes (uWSGI's limit). */
export const MONITOR_PATH_MAX = 254;
// What timer_info and cron_info write at `out` (stats and the dashboard read them).
/** timer_info: i32 signal, kind, iterations, fired at +0..+12; f64 interval ms at +16, next deadline ms at +24. */
export const TIMER_INFO_BYTES = 32;
/** cron_info: i32 signal, minute, hour, day, month, weekday at +0..+20; f64 last firing (unix s, 0 never) at +24. */
export const CRON_INFO_BYTES = 32;

// ---- process status table (process/workers.ts) -------------------------------------------

/** Bytes per row (three cache lines). */
export const WK_ROW_SIZE = 192;
/** Longest warning message, in bytes (uWSGI keeps 80 and truncates; the core refuses longer ones). */
export const WK_WARNING_MAX = 128;
// Header words of wk_header_get / wk_header_set.
/** 1 once every worker has loaded its app. */
export const WK_HEADER_READY = 0;
/** Graceful reloads so far. */
export const WK_HEADER_RELOADS = 1;
// Row fields (wk_get / wk_set / wk_add): byte offsets in a row. i64 ones first (read as f64, exact below 2^53).
/** Requests served. */
export const ROW_REQUESTS = 0;
/** Requests since the last spawn. */
export const ROW_DELTA = 8;
/** Signals handled. */
export const ROW_SIGNALS = 16;
/** Requests that raised. */
export const ROW_EXCEPTIONS = 24;
/** Microseconds spent in requests. */
export const ROW_RUNNING_TIME = 32;
/** Bytes sent. */
export const ROW_TX = 40;
/** Moving average of response times, µs. */
export const ROW_AVG_RT = 48;
/** Unix seconds of the last spawn. */
export const ROW_LAST_SPAWN = 56;
/** Requests begun: the next request id. */
export const ROW_REQ_SEQ = 64;
/** Harakiri deadline, ms since the epoch (0: none). */
export const ROW_DEADLINE = 72;
/** set_user_harakiri's deadline, ms since the epoch (0: none). */
export const ROW_USER_DEADLINE = 80;
/** Resident memory, bytes. */
export const ROW_RSS = 88;
/** Virtual memory, bytes. */
export const ROW_VSZ = 96;
/** Seconds the app took to load. */
export const ROW_STARTUP = 104;
// i32 fields.
/** Times the row's thread was spawned. */
export const ROW_SPAWNS = 112;
/** Times it was killed by harakiri. */
export const ROW_HARAKIRIS = 116;
/** Requests in progress. */
export const ROW_BUSY = 120;
/** Signal being handled + 1 (0: none). */
export const ROW_SIG = 124;
/** 1 while it accepts requests. */
export const ROW_ACCEPTING = 128;
/** Process id of the process running it (0 when dead). */
export const ROW_PID = 132;
/** 1 once its app has loaded. */
export const ROW_APP = 136;
/** The row's state: written and read by JS only (ts/process/process.ts RowState). */
export const ROW_STATE = 140;
/** Thread slot of the thread the row follows (the newest during a reload). */
export const ROW_TID = 144;
/** Requests detached by `grunt()` that still run (counted done for the worker). */
export const ROW_GRUNTS = 148;
/** Microseconds the row's last finished request took (i32, saturated at 2^31-1). */
export const ROW_LAST_RT = 152;

// ---- SNMP (observability/snmp.ts) ----------------------------------------------------------

/** User slots 1..100 (OIDs 1.3.6.1.4.1.35156.17.2.1 to .2.100). */
export const SNMP_SLOTS = 100;
/** Longest community string, in bytes (uWSGI's limit; it truncates, the core refuses). */
export const SNMP_COMMUNITY_MAX = 72;
/** The type snmp_get reports for a slot never set. */
export const SNMP_UNSET = 0;
// A slot's type is the BER tag of its SNMP type (snmp_op, snmp_get).
/** Counter32: counts up, wraps modulo 2^32. */
export const SNMP_TYPE_COUNTER32 = 0x41;
/** Gauge32: 0..2^32-1, refuses to leave that range. */
export const SNMP_TYPE_GAUGE32 = 0x42;
/** Counter64: counts up, wraps modulo 2^64. */
export const SNMP_TYPE_COUNTER64 = 0x46;
// Operations of snmp_op.
/** Set the value. */
export const SNMP_OP_SET = 0;
/** Add to it. */
export const SNMP_OP_INCR = 1;
/** Subtract from it. */
export const SNMP_OP_DECR = 2;

// ---- uwsgi packet codec (protocol/packet.ts) ------------------------------------------------

/** Bytes of a packet header: modifier1, size (u16 LE), modifier2. */
export const PKT_HEADER_SIZE = 4;
/** Largest body a header can announce (u16). */
export const PKT_MAX_BODY = 65535;
/** Bytes per vars index entry the decoders write: key offset, key length, value offset, value length (u16 each). */
export const PKT_VARS_ENTRY = 8;
/** Bytes per array index entry: item offset, item length (u16 each). */
export const PKT_ARRAY_ENTRY = 4;
/** Slots of pkt_vars_index's key intern table (a power of two). */
export const PKT_INTERN_SLOTS = 1024;
/** Bytes of key text the intern table holds. */
export const PKT_INTERN_AREA = 32768;
/** Bytes the caller gives pkt_vars_index for its intern table: a used-bytes word and a pad word, the slots (8 bytes each), the text. */
export const PKT_INTERN_BYTES = 8 + PKT_INTERN_SLOTS * 8 + PKT_INTERN_AREA;
/** Flag of a key id: the key was interned by this call (the caller makes its string once). */
export const PKT_INTERN_NEW = 0x8000;
/** Key id of a key not interned (too long, table full): the caller decodes it itself. */
export const PKT_INTERN_NONE = 0xffff;
/** Flag of pkt_vars_index's result: the whole block is ASCII. The pair count is in the bits below it. */
export const PKT_VARS_ASCII = 1 << 20;
