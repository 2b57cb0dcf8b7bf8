/**
 * How a thread reaches the Erlang node. The node lives in one JS thread: the
 * master's (it owns the connections), or, for an engine without a master,
 * the thread that created the engine (started on first use). In that thread
 * the `erlang_*` functions call the node directly; a worker, mule or spooler
 * the master started posts a request to its master and gets the answer
 * back, terms travelling encoded (they cross threads as bytes, so every
 * runtime's structured clone carries them and the classes of ./terms.ts
 * survive). Messages for a name a thread registered come back the same way.
 * @module
 */
import { UwsgiError, type UwsgiErrorCode } from '../kernel/errors.ts';
import { type ThreadContext, engineService } from '../kernel/context.ts';
import { runtime } from '../platform/index.ts';
import { writeLog } from '../process/process.ts';
import { callRpc, rpcList } from '../rpc/rpc.ts';
import { decodeTerm, encodeTerm } from './codec.ts';
import { EPMD_PORT } from './epmd.ts';
import { ErlangRpcError } from './errors.ts';
import { type ErlangNodeOptions, type ErlangSender, ErlangNode } from './node.ts';
import { Pid, type Term } from './terms.ts';

/** What a registered process's callable is given: the message, and who sent it. */
export type ErlangProcess = (message: Term, sender: ErlangSender) => unknown;

/** The operations of the `erlang_*` functions, wherever the node is. Terms are encoded (131 first). */
export interface ErlangAccess {
  connect(fn: string, address: string, timeoutMs: number): Promise<number>;
  send(fn: string, node: number | string, to: string | Pid, message: Uint8Array, timeoutMs: number): Promise<void>;
  recv(fn: string, node: number | string, timeoutMs: number): Promise<Uint8Array>;
  /** The result, encoded; rejects with an ErlangRpcError for `{badrpc, Reason}`. */
  rpc(fn: string, node: number | string, module: string, func: string, args: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  register(fn: string, name: string, tid: number, callable: ErlangProcess): Promise<void>;
}

// ---- the node's own thread ---------------------------------------------------------------

/** The node of an engine, in the JS thread that runs it. */
const owned = engineService<{ node?: ErlangNode; starting?: Promise<ErlangNode> }>(() => ({}));

/** What {@link startErlangNode} may change beside the config (tests, embedders). */
export type ErlangNodeOverrides = Partial<Pick<ErlangNodeOptions, 'port' | 'epmd' | 'tickMs' | 'maxFrame' | 'acceptHandshakeMs' | 'queueMessages' | 'queueBytes' | 'log' | 'cookie'>>;

const utf8d = new TextDecoder();

/** `--erlang-cookie`, else `~/.erlang.cookie` (its first line, as `erl` reads it). */
function cookieOf(ctx: ThreadContext): string {
  const given = ctx.shared.config.erlang?.cookie;
  if (given !== undefined) return given;
  const rt = runtime();
  const home = rt.env().HOME;
  const path = home ? rt.paths.join(home, '.erlang.cookie') : undefined;
  const bytes = path ? rt.readFileBytes(path) : null;
  const text = bytes ? utf8d.decode(bytes).split(/\r?\n/)[0]!.trim() : '';
  if (text === '') throw new UwsgiError('ERR_OPTION', `option 'erlang': no cookie: give --erlang-cookie, or create ${path ?? '~/.erlang.cookie'} (erl writes one on its first run)`);
  return text;
}

/** EPMD's port: `ERL_EPMD_PORT` when set, as for `erl`; else 4369. */
function epmdPort(): number {
  const v = runtime().env().ERL_EPMD_PORT;
  const n = v === undefined ? NaN : Number(v);
  return Number.isInteger(n) && n > 0 && n < 65536 ? n : EPMD_PORT;
}

/**
 * Start the node `--erlang` configures, in the calling thread (the master
 * does this; an engine without a master on first use). Its registered RPC
 * functions answer `rpc:call` from Erlang. The same node is returned to
 * later calls.
 */
export function startErlangNode(ctx: ThreadContext, overrides: ErlangNodeOverrides = {}): Promise<ErlangNode> {
  const own = owned(ctx);
  if (own.node) return Promise.resolve(own.node);
  if (own.starting) return own.starting;
  const cfg = ctx.shared.config.erlang;
  if (!cfg) return Promise.reject(new UwsgiError('ERR_NOT_CONFIGURED', `erlang: no Erlang node is configured (start with --erlang NAME)`));
  let opts: ErlangNodeOptions;
  try {
    opts = {
      name: cfg.name,
      host: cfg.host ?? ctx.shared.hostname.split('.')[0]!,
      bind: cfg.host ?? '127.0.0.1',
      cookie: overrides.cookie ?? cookieOf(ctx),
      epmd: { port: epmdPort() },
      rpc: {
        exists: (name) => rpcList(ctx).some((n) => n.length === name.length && n.every((b, i) => b === name[i])),
        call: (name, args) => callRpc(ctx, 'erlang rpc', name, args),
      },
      log: (line) => writeLog(ctx, line),
      ...overrides,
    };
  } catch (e) {
    return Promise.reject(e);
  }
  own.starting = ErlangNode.start(opts).then((node) => { own.node = node; own.starting = undefined; return node; }, (e) => { own.starting = undefined; throw e; });
  return own.starting;
}

/** The node running in this JS thread for `ctx`'s engine, if any. */
export function erlangNodeOf(ctx: ThreadContext): ErlangNode | undefined { return owned(ctx).node; }

/** Stop the node of `ctx`'s engine running in this thread (its connections end with ERR_CLOSED). */
export async function stopErlangNode(ctx: ThreadContext): Promise<void> {
  const own = owned(ctx);
  const node = own.node ?? (own.starting ? await own.starting.catch(() => undefined) : undefined);
  own.node = undefined;
  await node?.close();
}

/** Run a registered callable on a message; a throw is logged, a rejected promise too. */
function runProcess(ctx: ThreadContext, name: string, callable: ErlangProcess, message: Uint8Array, sender: ErlangSender): void {
  const fail = (e: unknown) => writeLog(ctx, `uwsgi-wasm: erlang: the process registered as '${name}' failed: ${e instanceof Error ? e.message : String(e)}`);
  try {
    const r = callable(decodeTerm(message), sender);
    if (r instanceof Promise) r.catch(fail);
  } catch (e) { fail(e); }
}

/** Calls in the node's own thread. */
function localAccess(ctx: ThreadContext, node: () => Promise<ErlangNode>): ErlangAccess {
  return {
    connect: async (fn, address, t) => (await node()).connect(fn, address, t),
    send: async (fn, n, to, m, t) => (await node()).send(fn, n, to, m, t),
    recv: async (fn, n, t) => (await node()).recv(fn, n, t),
    rpc: async (fn, n, mod, f, args, t) => encodeTerm(await (await node()).rpc(fn, n, mod, f, args, t)),
    register: async (_fn, name, tid, callable) => {
      (await node()).register(name, { key: tid, deliver: (m, s) => runProcess(ctx, name, callable, m, s) });
    },
  };
}

// ---- a thread the master started -----------------------------------------------------------

/** What a thread asks its master's node to do. */
export type ErlangOperation =
  | { op: 'connect'; address: string; timeoutMs: number }
  | { op: 'send'; node: number | string; to: string | Uint8Array; message: Uint8Array; timeoutMs: number }
  | { op: 'recv'; node: number | string; timeoutMs: number }
  | { op: 'rpc'; node: number | string; module: string; func: string; args: Uint8Array; timeoutMs: number }
  | { op: 'register'; name: string };

/** A request from a thread to its master's node. */
export type ErlangRequest = { type: 'uwsgi-wasm:erlang'; id: number } & ErlangOperation;

/** The master's answer to an {@link ErlangRequest}. */
export interface ErlangReply {
  type: 'uwsgi-wasm:erlang-reply';
  id: number;
  value?: number | Uint8Array | true;
  error?: { code: UwsgiErrorCode; message: string; reason?: Uint8Array };
}

/** A message for a name the thread registered. */
export interface ErlangDelivery {
  type: 'uwsgi-wasm:erlang-deliver';
  name: string;
  message: Uint8Array;
  from: Uint8Array;
  node: string;
  connection: number;
}

/** This thread's link to its master's node (one per JS thread). */
class ParentLink implements ErlangAccess {
  #next = 1;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void; timer?: ReturnType<typeof setTimeout> }>();
  readonly #processes = new Map<string, ErlangProcess>();
  readonly #ctx: ThreadContext;

  constructor(ctx: ThreadContext) {
    this.#ctx = ctx;
    runtime().onParentMessage((m) => {
      const msg = m as ErlangReply | ErlangDelivery | undefined;
      if (msg?.type === 'uwsgi-wasm:erlang-reply') this.#answer(msg);
      else if (msg?.type === 'uwsgi-wasm:erlang-deliver') {
        const callable = this.#processes.get(msg.name);
        if (!callable) return;
        let from: Term;
        try { from = decodeTerm(msg.from); } catch { return; }
        runProcess(this.#ctx, msg.name, callable, msg.message, { from: from as Pid, node: msg.node, connection: msg.connection });
      }
    });
  }

  #answer(msg: ErlangReply): void {
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    clearTimeout(p.timer);
    if (!msg.error) { p.resolve(msg.value); return; }
    const { code, message, reason } = msg.error;
    if (reason) {
      let r: Term;
      try { r = decodeTerm(reason); } catch { r = reason; }
      p.reject(new ErlangRpcError(message, r));
    } else p.reject(new UwsgiError(code, message));
  }

  /** Post a request; the answer is guarded by a timer in case the master never answers (it stopped). */
  #ask<T>(fn: string, req: ErlangOperation, timeoutMs: number): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const entry: { resolve(v: unknown): void; reject(e: unknown): void; timer?: ReturnType<typeof setTimeout> } = { resolve: resolve as (v: unknown) => void, reject };
      if (timeoutMs >= 0) {
        // The node enforces the timeout itself; this one (later) only catches a master that went away.
        entry.timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(new UwsgiError('ERR_TIMEOUT', `${fn}: the master did not answer within ${timeoutMs + 5000} ms`));
        }, timeoutMs + 5000);
      }
      this.#pending.set(id, entry);
      runtime().postToParent({ type: 'uwsgi-wasm:erlang', id, ...req } as ErlangRequest);
    });
  }

  connect(fn: string, address: string, timeoutMs: number): Promise<number> { return this.#ask(fn, { op: 'connect', address, timeoutMs }, timeoutMs); }
  send(fn: string, node: number | string, to: string | Pid, message: Uint8Array, timeoutMs: number): Promise<void> {
    return this.#ask(fn, { op: 'send', node, to: to instanceof Pid ? encodeTerm(to) : to, message, timeoutMs }, timeoutMs);
  }
  recv(fn: string, node: number | string, timeoutMs: number): Promise<Uint8Array> { return this.#ask(fn, { op: 'recv', node, timeoutMs }, timeoutMs); }
  rpc(fn: string, node: number | string, module: string, func: string, args: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return this.#ask(fn, { op: 'rpc', node, module, func, args, timeoutMs }, timeoutMs);
  }
  async register(fn: string, name: string, _tid: number, callable: ErlangProcess): Promise<void> {
    this.#processes.set(name, callable);
    await this.#ask(fn, { op: 'register', name }, 30_000);
  }
}

let parentLink: ParentLink | undefined;

/**
 * How `ctx`'s thread reaches the node: directly in the node's thread (or in
 * the thread of an engine without a master, which starts it), through the
 * master from a thread the master started.
 */
export function erlangAccess(ctx: ThreadContext, fn: string): ErlangAccess {
  if (!ctx.shared.config.erlang) throw new UwsgiError('ERR_NOT_CONFIGURED', `${fn}: no Erlang node is configured (start with --erlang NAME)`);
  const own = owned(ctx);
  if (own.node || own.starting) return localAccess(ctx, () => startErlangNode(ctx));
  if (!ctx.shared.hasMaster) return localAccess(ctx, () => startErlangNode(ctx));
  if (runtime().isMainThread()) throw new UwsgiError('ERR_UNSUPPORTED', `${fn}: the master's Erlang node is not running in this thread`);
  return (parentLink ??= new ParentLink(ctx));
}

// ---- the master's side --------------------------------------------------------------------

/** What the master gives its node to reach the threads it started. */
export interface ThreadPoster {
  /** Post a message to the thread in slot `tid`; false when no such thread runs. */
  (tid: number, msg: ErlangReply | ErlangDelivery): boolean;
}

/**
 * The master's Erlang node and its routing of the threads' requests: the
 * master calls {@link MasterErlang.handle} with every thread message and
 * {@link MasterErlang.threadGone} when a thread ends.
 */
export class MasterErlang {
  readonly node: ErlangNode;
  readonly #post: ThreadPoster;
  readonly #ctx: ThreadContext;

  private constructor(ctx: ThreadContext, node: ErlangNode, post: ThreadPoster) {
    this.#ctx = ctx;
    this.node = node;
    this.#post = post;
  }

  /** Start the node `--erlang` configures (none: undefined). Fails like `run()` should: a taken name, an address that cannot be bound. */
  static async start(ctx: ThreadContext, post: ThreadPoster): Promise<MasterErlang | undefined> {
    if (!ctx.shared.config.erlang) return undefined;
    return new MasterErlang(ctx, await startErlangNode(ctx), post);
  }

  /** Serve `msg` if it is an Erlang request from thread `tid`; false when it is something else. */
  handle(tid: number, msg: unknown): boolean {
    const req = msg as ErlangRequest | undefined;
    if (req?.type !== 'uwsgi-wasm:erlang') return false;
    const reply = (r: Omit<ErlangReply, 'type' | 'id'>) => this.#post(tid, { type: 'uwsgi-wasm:erlang-reply', id: req.id, ...r });
    this.#run(tid, req).then((value) => reply({ value }), (e: unknown) => {
      const err = e instanceof UwsgiError ? e : new UwsgiError('ERR_INTERNAL', String(e));
      reply({ error: { code: err.code, message: err.message, ...(err instanceof ErlangRpcError ? { reason: encodeTerm(err.reason) } : {}) } });
    });
    return true;
  }

  async #run(tid: number, req: ErlangRequest): Promise<number | Uint8Array | true> {
    const node = this.node;
    switch (req.op) {
      case 'connect': return node.connect('erlang_connect', req.address, req.timeoutMs);
      case 'send': {
        const to = typeof req.to === 'string' ? req.to : decodeTerm(req.to);
        if (!(typeof to === 'string' || to instanceof Pid)) throw new UwsgiError('ERR_ARG_TYPE', 'erlang_send_message: the destination must be a name or a Pid');
        await node.send('erlang_send_message', req.node, to, req.message, req.timeoutMs);
        return true;
      }
      case 'recv': return node.recv('erlang_recv_message', req.node, req.timeoutMs);
      case 'rpc': return encodeTerm(await node.rpc('erlang_rpc', req.node, req.module, req.func, req.args, req.timeoutMs));
      case 'register':
        node.register(req.name, {
          key: tid,
          deliver: (message, s) => {
            if (!this.#post(tid, { type: 'uwsgi-wasm:erlang-deliver', name: req.name, message, from: encodeTerm(s.from), node: s.node, connection: s.connection })) {
              node.unregisterAll(tid);
            }
          },
        });
        return true;
      default: throw new UwsgiError('ERR_ARG_TYPE', `erlang: unknown request`);
    }
  }

  /** Thread `tid` ended: the names it registered go. */
  threadGone(tid: number): void { this.node.unregisterAll(tid); }

  /** Stop the node. */
  close(): Promise<void> { return stopErlangNode(this.#ctx); }
}
