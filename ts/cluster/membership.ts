/**
 * uWSGI 1.x's multicast cluster, run by the master: it joins the group
 * (`--cluster ADDR:PORT`), says so once (73), announces this node every
 * `--cluster-freq` seconds (95: host name, `--socket` address, workers,
 * requests, load), records every node it hears in the shared node table and
 * forgets one silent for `--cluster-tolerance` seconds. It answers multicast
 * messages (74) with what the app's `multicast_message` RPC function returns,
 * and on a clean stop says it leaves (95/1), so peers drop it at once.
 *
 * uWSGI 1.x's other cluster packets are read and ignored, on purpose: 99
 * (hand our options to whoever asks), 98 (reload on anyone's word) and 96
 * (write a line in our log for anyone): on a network where any host may send
 * to the group, they give that host our configuration or control of us.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type UdpPeer, type UdpSocket, runtime } from '../platform/index.ts';
import { RowField as F, ThreadKind } from '../kernel/abi.ts';
import { callRpc } from '../rpc/rpc.ts';
import { listenQueueOf } from '../server/serve.ts';
import { nodeTableOf } from './table.ts';
import type { ClusterConfig } from './config.ts';
import {
  type Announce, CLUSTER_MOD, MAX_DATAGRAM, decodeAnnounce, encodeAnnounce, encodeJoin, encodeReply, packetBody,
} from './packets.ts';

/** The RPC function a node calls to answer a multicast message (its result is the reply). */
export const MULTICAST_RPC = 'multicast_message';
/** Longest reply that still fits one datagram with its vars. */
const MAX_REPLY = MAX_DATAGRAM - 1024;

/** The listen queue of every listener: uWSGI 2.0's `load` (`uwsgi.shared->load = backlog`). */
export function backlogOf(ctx: ThreadContext): number {
  let n = 0;
  for (const l of ctx.shared.config.listen.listeners) n += listenQueueOf(ctx, l.id);
  return n;
}

/** Requests in progress in every worker (the status table's `busy` column). */
function busyOf(ctx: ThreadContext): number {
  let n = 0;
  for (let i = 1; i <= ctx.shared.config.workers; i++) {
    const row = ctx.x.wk_row(ThreadKind.worker, i);
    if (row > 0) n += ctx.x.wk_get(row, F.BUSY);
  }
  return n;
}

/** Counters of the membership loop, for tests and logs. */
export interface MemberStats {
  announces: number;
  heard: number;
  /** Datagrams that were not one of ours, or were malformed. */
  dropped: number;
  replies: number;
}

/** The master's side of `--cluster`. */
export class ClusterMember {
  readonly #ctx: ThreadContext;
  readonly #cfg: ClusterConfig;
  readonly #log: (line: string) => void;
  #sock: UdpSocket | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly stats: MemberStats = { announces: 0, heard: 0, dropped: 0, replies: 0 };

  constructor(ctx: ThreadContext, log: (line: string) => void) {
    this.#ctx = ctx;
    this.#cfg = ctx.shared.config.cluster;
    this.#log = log;
  }

  get #group() { return this.#cfg.group!; }

  /** What this node announces now. */
  self(): Announce {
    const ctx = this.#ctx;
    return {
      hostname: ctx.shared.hostname,
      address: this.#cfg.announce!,
      workers: ctx.shared.config.workers,
      requests: ctx.x.wk_get(0, F.REQUESTS),
      load: busyOf(ctx) + backlogOf(ctx),
    };
  }

  /** Join the group, say so, announce, and keep announcing. */
  async start(): Promise<void> {
    const g = this.#group;
    try {
      this.#sock = await runtime().openUdp({
        host: '0.0.0.0', port: g.port, reuseAddr: true, broadcast: g.broadcast,
        multicastGroup: g.broadcast ? undefined : g.host, multicastTtl: this.#cfg.multicastTtl, multicastLoopback: true,
      }, (d, from) => this.#heard(d, from));
    } catch (e) {
      const code = (e as { code?: string }).code;
      const hint = code === 'ENODEV' || code === 'EADDRNOTAVAIL' ? ' (no interface routes the group: add a route for 224.0.0.0/4 or a default route)' : '';
      throw new UwsgiError('ERR_OPTION', `option 'cluster': cannot join ${g.text}: ${(e as Error).message}${hint}`, { cause: e });
    }
    this.#log(`uwsgi-wasm: joined cluster ${g.text} as ${this.#cfg.announce}`);
    this.#sendGroup(encodeJoin(this.#ctx.shared.hostname));
    this.announce();
    this.#timer = setInterval(() => this.#cycle(), this.#cfg.freq * 1000);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #sendGroup(packet: Uint8Array): void {
    const g = this.#group;
    this.#sock?.send(packet, g.host, g.port).catch(() => { /* the next announce tries again */ });
  }

  /** Announce this node now (the master's timer does it every `cluster-freq` seconds). */
  announce(): void {
    this.stats.announces++;
    this.#sendGroup(encodeAnnounce(this.self()));
  }

  /** One master cycle: forget silent nodes, announce. */
  #cycle(): void {
    const oldest = Date.now() - this.#cfg.tolerance * 1000;
    for (const name of nodeTableOf(this.#ctx).expire(oldest)) {
      this.#log(`uwsgi-wasm: no presence announce in the last ${this.#cfg.tolerance} seconds by node ${name}, i assume it is dead.`);
    }
    this.announce();
  }

  #heard(d: Uint8Array, from: UdpPeer): void {
    const m1 = d[0];
    if (m1 === CLUSTER_MOD.ANNOUNCE) {
      const p = packetBody(d, CLUSTER_MOD.ANNOUNCE);
      const a = p && (p.modifier2 === 0 || p.modifier2 === 1) ? decodeAnnounce(p.body) : null;
      if (!a) { this.stats.dropped++; return; }
      this.stats.heard++;
      const name = nodeName(a.address, from.address);
      const table = nodeTableOf(this.#ctx);
      if (p!.modifier2 === 1) {
        if (table.remove(name)) this.#log(`uwsgi-wasm: [cluster ${this.#group.text}] node ${name} left`);
        return;
      }
      const r = table.upsert({ name, nodename: a.hostname, workers: a.workers, load: a.load, requests: a.requests, seen: Date.now() });
      if (r === 'added') this.#log(`uwsgi-wasm: [cluster ${this.#group.text}] added node ${name}`);
      else if (r === false) this.stats.dropped++;
    } else if (m1 === CLUSTER_MOD.MESSAGE) {
      const p = packetBody(d, CLUSTER_MOD.MESSAGE);
      if (!p) { this.stats.dropped++; return; }
      // 74/1 are replies to somebody's send_multicast_message: they go to its own socket, not to the group.
      if (p.modifier2 === 0) void this.#answer(p.body.slice(), from);
    } else if (m1 === CLUSTER_MOD.JOIN && packetBody(d, CLUSTER_MOD.JOIN)) {
      // Its announce follows; the join notice itself changes nothing.
    } else {
      this.stats.dropped++;
    }
  }

  /** Answer a multicast message with the app's `multicast_message` function's result. */
  async #answer(message: Uint8Array, to: UdpPeer): Promise<void> {
    const me = { node: this.#cfg.announce!, name: this.#ctx.shared.hostname };
    let reply: Uint8Array = new Uint8Array(0);
    let error: string | undefined;
    if (this.#ctx.shared.config.listen.remoteRpc) {
      try {
        reply = (await callRpc(this.#ctx, MULTICAST_RPC, MULTICAST_RPC, [message])) ?? new Uint8Array(0);
      } catch (e) {
        error = `${MULTICAST_RPC} failed: ${(e as Error).message}`;
      }
    }
    if (reply.length > MAX_REPLY) { error = `the reply of ${reply.length} bytes does not fit one datagram (at most ${MAX_REPLY})`; reply = new Uint8Array(0); }
    this.stats.replies++;
    this.#sock?.send(encodeReply({ ...me, reply, ...(error ? { error } : {}) }), to.address, to.port).catch(() => { /* the sender has gone */ });
  }

  /** Stop announcing; on a clean stop tell the group this node leaves. */
  async stop(clean: boolean): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const sock = this.#sock;
    this.#sock = null;
    if (!sock) return;
    if (clean) {
      const g = this.#group;
      await sock.send(encodeAnnounce(this.self(), true), g.host, g.port).catch(() => {});
    }
    await sock.close();
  }
}

/**
 * The name a node is known by: the address it announced, with the sender's
 * address for an empty or unspecified host (`:3031`, `0.0.0.0:3031`), which
 * nobody else could connect to.
 */
export function nodeName(announced: string, sender: string): string {
  const colon = announced.lastIndexOf(':');
  if (colon < 0 || announced.startsWith('/')) return announced;
  const host = announced.slice(0, colon);
  if (host === '' || host === '0.0.0.0' || host === '*' || host === '[::]') {
    return `${sender.includes(':') ? `[${sender}]` : sender}${announced.slice(colon)}`;
  }
  return announced;
}
