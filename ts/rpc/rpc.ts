/**
 * Local RPC: functions registered in any thread, callable from every thread.
 * The registry (names and owning threads) lives in shared memory; a call runs
 * in the thread that registered the function. A call to a function of the
 * calling thread runs at once; one owned by another thread travels through
 * the shared mailboxes and returns a promise, and the owner serves it from its
 * event loop (Atomics.waitAsync on its mailbox bell), so neither side blocks.
 * @module
 */
import { UwsgiError, intArg, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { ring, waitAsync } from '../kernel/atomics.ts';
import {
  CoreStatus, RPC_MB_ARGC, RPC_MB_BELL, RPC_MB_DATA, RPC_MB_ENTRY, RPC_MB_LEN, RPC_MB_RESULT, RPC_MB_STATE, RPC_MB_TARGET,
  RPC_NAME_MAX, ThreadState,
} from '../kernel/abi.ts';

/** Result of an RPC call: the function's bytes, or null (unknown function, no bytes returned, it threw). */
export type RpcResult = Uint8Array | null;

/** Most arguments one call carries (uWSGI counts them in one byte). */
export const RPC_MAX_ARGS = 255;

// Mailbox words (i32 index from the mailbox start), as assembly/rpc/rpc.ts draws them.
const M_STATE = RPC_MB_STATE >> 2, M_TARGET = RPC_MB_TARGET >> 2, M_ENTRY = RPC_MB_ENTRY >> 2, M_ARGC = RPC_MB_ARGC >> 2;
const M_LEN = RPC_MB_LEN >> 2, M_RESULT = RPC_MB_RESULT >> 2, M_BELL = RPC_MB_BELL >> 2;
// Mailbox states: a caller posts REQUEST, the owner moves it to SERVING, then REPLY; the caller reads and goes back to IDLE.
const IDLE = 0, REQUEST = 1, SERVING = 2, REPLY = 3;
/** How often a waiting caller checks that the owner is still alive (ms). */
const LIVENESS_MS = 250;

const utf8 = new TextEncoder();


/** One thread's RPC side: its functions (by registry entry), its server loop, its outgoing calls. */
class RpcThread {
  readonly ctx: ThreadContext;
  readonly i32: Int32Array;
  readonly fns = new Map<number, unknown>();
  readonly dataRoom: number;
  #serving = false;
  /** Outgoing cross-thread calls share this thread's one mailbox: one at a time. */
  #chain: Promise<unknown> = Promise.resolve();

  constructor(ctx: ThreadContext) {
    this.ctx = ctx;
    this.i32 = new Int32Array(ctx.memory.buffer);
    this.dataRoom = ctx.x.rpc_mailbox_data();
  }

  word(tid: number, w: number): number { return (this.ctx.x.rpc_mailbox(tid) >> 2) + w; }

  register(entry: number, fn: unknown): void {
    this.fns.set(entry, fn);
    if (!this.#serving) { this.#serving = true; void this.#serve(); }
  }

  /** Answer requests addressed to this thread until the thread ends. */
  async #serve(): Promise<void> {
    const me = this.ctx.tid;
    const bell = this.word(me, M_BELL);
    for (;;) {
      // Read the bell before scanning: a ring during the scan makes the wait return at once.
      const seen = Atomics.load(this.i32, bell);
      this.#scan();
      const w = waitAsync(this.i32, bell, seen);
      if (w.async) await w.value;
    }
  }

  #scan(): void {
    const me = this.ctx.tid;
    const threads = this.ctx.x.max_threads();
    for (let tid = 0; tid < threads; tid++) {
      const st = this.word(tid, M_STATE);
      if (Atomics.load(this.i32, st) !== REQUEST || Atomics.load(this.i32, this.word(tid, M_TARGET)) !== me) continue;
      // Takes the request; the caller may cancel it first (REQUEST -> IDLE) if it gave up.
      if (Atomics.compareExchange(this.i32, st, REQUEST, SERVING) !== REQUEST) continue;
      const entry = this.i32[this.word(tid, M_ENTRY)];
      const args = unpack(this.ctx.u8, this.ctx.x.rpc_mailbox(tid) + RPC_MB_DATA, this.i32[this.word(tid, M_ARGC)]);
      const fn = this.ctx.x.rpc_owned_by_self(entry) === 1 ? this.fns.get(entry) : undefined;
      const r = invoke(fn, args);
      if (r instanceof Promise) void r.then((v) => this.#reply(tid, v));
      else this.#reply(tid, r);
    }
  }

  #reply(tid: number, v: RpcResult): void {
    const base = this.ctx.x.rpc_mailbox(tid);
    if (v !== null && v.length <= this.dataRoom) {
      this.ctx.u8.set(v, base + RPC_MB_DATA);
      this.i32[this.word(tid, M_LEN)] = v.length;
      this.i32[this.word(tid, M_RESULT)] = 1;
    } else {
      this.i32[this.word(tid, M_RESULT)] = 0;
    }
    // Publishes the result written above, and wakes the caller.
    Atomics.store(this.i32, this.word(tid, M_STATE), REPLY);
    Atomics.notify(this.i32, this.word(tid, M_STATE));
  }

  /** Call entry `entry`, owned by thread `owner`, through the mailboxes. */
  callRemote(entry: number, owner: number, args: Uint8Array[]): Promise<RpcResult> {
    const run = this.#chain.then(() => this.#callRemote(entry, owner, args));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #callRemote(entry: number, owner: number, args: Uint8Array[]): Promise<RpcResult> {
    const { ctx, i32 } = this;
    const me = ctx.tid;
    const base = ctx.x.rpc_mailbox(me);
    pack(ctx.u8, base + RPC_MB_DATA, args);
    i32[this.word(me, M_ENTRY)] = entry;
    i32[this.word(me, M_ARGC)] = args.length;
    i32[this.word(me, M_TARGET)] = owner;
    const st = this.word(me, M_STATE);
    // Publishes the request written above to the owner.
    Atomics.store(i32, st, REQUEST);
    ring(i32, this.word(owner, M_BELL));
    for (;;) {
      const s = Atomics.load(i32, st);
      if (s === REPLY) break;
      // Waits for the owner's REPLY store (bounded, to notice an owner that died).
      const w = waitAsync(i32, st, s, LIVENESS_MS);
      if ((w.async ? await w.value : w.value) !== 'timed-out') continue;
      // The owner gave the name away before taking the request, or died: nobody will answer.
      if (s === REQUEST && ctx.x.rpc_owner_tid(entry) !== owner && Atomics.compareExchange(i32, st, REQUEST, IDLE) === REQUEST) return null;
      if (ctx.x.thread_state(owner) !== ThreadState.ALIVE) { Atomics.store(i32, st, IDLE); return null; }
    }
    const out = i32[this.word(me, M_RESULT)] === 1 ? ctx.u8.slice(base + RPC_MB_DATA, base + RPC_MB_DATA + i32[this.word(me, M_LEN)]) : null;
    Atomics.store(i32, st, IDLE);
    return out;
  }
}

/** Run a registered function the way uWSGI does: only non-empty bytes count; anything else is null. */
function invoke(fn: unknown, args: Uint8Array[]): RpcResult | Promise<RpcResult> {
  if (typeof fn !== 'function') return null;
  let r: unknown;
  try { r = (fn as (...a: Uint8Array[]) => unknown)(...args); } catch { return null; }
  if (r instanceof Promise) return r.then(asResult, () => null);
  return asResult(r);
}

const asResult = (r: unknown): RpcResult => (r instanceof Uint8Array && r.length > 0 ? r : null);

function pack(u8: Uint8Array, at: number, args: Uint8Array[]): void {
  const dv = new DataView(u8.buffer);
  for (const a of args) {
    dv.setUint32(at, a.length, true);
    u8.set(a, at + 4);
    at += 4 + a.length;
  }
}

function unpack(u8: Uint8Array, at: number, n: number): Uint8Array[] {
  const dv = new DataView(u8.buffer);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = dv.getUint32(at, true);
    out.push(u8.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

const rpcThread = threadService<RpcThread>((ctx) => new RpcThread(ctx));

function nameBytes(fn: string, v: unknown): Uint8Array {
  const b = v instanceof Uint8Array ? v : typeof v === 'string' ? utf8.encode(v) : undefined;
  if (!b) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: name must be a string or Uint8Array, got ${typeName(v)}`);
  if (b.length === 0 || b.length > RPC_NAME_MAX) throw new UwsgiError('ERR_BOUNDS', `${fn}: name must be 1..${RPC_NAME_MAX} bytes, got ${b.length}`);
  return b;
}

/** Put a name in the scratch and return its length. */
function stageName(ctx: ThreadContext, name: Uint8Array): number {
  ctx.u8.set(name, ctx.scratch);
  return name.length;
}

/** register_rpc: `fn` answers calls to `name` from every thread, and runs in this one. Returns true. */
export function registerRpc(ctx: ThreadContext, name: unknown, fn: unknown, argc?: unknown): true {
  const bytes = nameBytes('register_rpc', name);
  // uWSGI records argc for remote callers; a local call passes whatever it is given.
  const n = argc === undefined ? 0 : intArg('register_rpc', 'argc', argc);
  // A spooler thread imports the app only to find its spooler function; the workers, which
  // import the same app, own its RPC functions (uWSGI's spooler inherits the master's
  // registration). Registering here would route calls to a thread busy with tasks.
  if (ctx.kind === 'spooler') return true;
  const entry = ctx.x.rpc_register(ctx.scratch, stageName(ctx, bytes), n & 0xff);
  if (entry < 0) {
    if (entry === CoreStatus.E_FULL) throw new UwsgiError('ERR_FULL', `register_rpc: the RPC table is full (${ctx.x.rpc_max()} functions; raise 'rpc-max')`);
    throw statusError(entry, 'register_rpc');
  }
  rpcThread(ctx).register(entry, fn);
  return true;
}

/** call / local rpc: the function's result, at once when this thread owns it, else a promise. */
export function callRpc(ctx: ThreadContext, fnName: string, name: unknown, args: unknown[]): RpcResult | Promise<RpcResult> {
  const bytes = nameBytes(fnName, name);
  if (args.length > RPC_MAX_ARGS) {
    throw new UwsgiError('ERR_VALUE_RANGE', `${fnName}: at most ${RPC_MAX_ARGS} arguments, got ${args.length}`);
  }
  const t = rpcThread(ctx);
  let total = 0;
  const bin = args.map((a, i) => {
    const b = a instanceof Uint8Array ? a : typeof a === 'string' ? utf8.encode(a) : undefined;
    if (!b) throw new UwsgiError('ERR_ARG_TYPE', `${fnName}: argument ${i + 1} must be a string or Uint8Array, got ${typeName(a)}`);
    total += 4 + b.length;
    return b;
  });
  if (total > t.dataRoom) throw new UwsgiError('ERR_BOUNDS', `${fnName}: the arguments take ${total} bytes; a call carries at most ${t.dataRoom}`);
  const entry = ctx.x.rpc_lookup(ctx.scratch, stageName(ctx, bytes));
  if (entry < 0) return null;
  const owner = ctx.x.rpc_owner_tid(entry);
  if (owner < 0) return null;
  if (owner === ctx.tid) return invoke(t.fns.get(entry), bin.map((b) => b.slice()));
  return t.callRemote(entry, owner, bin);
}

/** rpc_list: names of every registered function, in registry order. */
export function rpcList(ctx: ThreadContext): Uint8Array[] {
  const out: Uint8Array[] = [];
  const max = ctx.x.rpc_max();
  for (let i = 0; i < max; i++) {
    const len = ctx.x.rpc_name(i, ctx.scratch);
    if (len > 0) out.push(ctx.u8.slice(ctx.scratch, ctx.scratch + len));
  }
  return out;
}
