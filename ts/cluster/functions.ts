/**
 * The cluster functions of the `uwsgi` module, from uWSGI 1.x's multicast
 * cluster: `cluster()`, `cluster_nodes()`, `cluster_node_name()`,
 * `cluster_best_node()` read the node table the master keeps in the shared
 * memory; `send_multicast_message()` sends a message to a group and gathers
 * the nodes' replies.
 * @module
 */
import { UwsgiError, argCount, typeName } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { socketTimeoutMs } from '../kernel/thread-options.ts';
import { runtime } from '../platform/index.ts';
import { nodeTableOf } from './table.ts';
import { udpAddress } from './config.ts';
import { nodeName } from './membership.ts';
import { CLUSTER_MOD, MAX_DATAGRAM, type MessageReply, decodeReply, encodeMessage, packetBody } from './packets.ts';
// Installs the cache write hook: every thread with the module object replicates its writes.
import './replication.ts';

export type { MessageReply } from './packets.ts';

const utf8 = new TextEncoder();
/** Replies one call gathers at most, and their bytes at most: a group's strangers cannot make it hold more. */
const MAX_REPLIES = 1024;
const MAX_REPLY_BYTES = 16 * 1024 * 1024;

/** The live nodes (heard within the tolerance), in table order. */
function liveNodes(ctx: ThreadContext) {
  const cfg = ctx.shared.config.cluster;
  if (!cfg.group) return [];
  const oldest = Date.now() - cfg.tolerance * 1000;
  return nodeTableOf(ctx).read().filter((n) => n.seen >= oldest);
}

/** The cluster functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class ClusterFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** The cluster this node joined: `--cluster`'s value (`225.1.1.1:1717`), or null. */
  cluster(): string | null {
    argCount('cluster', arguments.length, 0, 0);
    return this.ctx.shared.config.cluster.group?.text ?? null;
  }

  /**
   * The names of the live nodes of this node's cluster (itself included): the
   * addresses they announced (`10.0.0.2:3031`). A node silent for
   * `--cluster-tolerance` seconds is not live. Empty outside a cluster.
   */
  cluster_nodes(): string[] {
    argCount('cluster_nodes', arguments.length, 0, 0);
    return liveNodes(this.ctx).map((n) => n.name);
  }

  /**
   * Without `node`: this node's host name. With a node's name (one of
   * `cluster_nodes()`): that node's host name, or null when it is not live.
   */
  cluster_node_name(node?: string): string | null {
    argCount('cluster_node_name', arguments.length, 0, 1);
    if (node === undefined) return this.ctx.shared.hostname;
    if (typeof node !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `cluster_node_name: node must be a string, got ${typeName(node)}`);
    return liveNodes(this.ctx).find((n) => n.name === node)?.nodename ?? null;
  }

  /**
   * The live node with the lowest load (requests in progress plus listen
   * queue, as it last announced), or null outside a cluster. Among equally
   * loaded nodes, the one returned longest ago (uWSGI 1.x's rotation): calls
   * from every thread spread over them.
   */
  cluster_best_node(): string | null {
    argCount('cluster_best_node', arguments.length, 0, 0);
    const table = nodeTableOf(this.ctx);
    let best: { index: number; load: number; chosen: number; name: string } | undefined;
    for (const n of liveNodes(this.ctx)) {
      const chosen = table.chosen(n.index);
      if (!best || n.load < best.load || (n.load === best.load && chosen < best.chosen)) best = { index: n.index, load: n.load, chosen, name: n.name };
    }
    if (!best) return null;
    table.choose(best.index);
    return best.name;
  }

  /**
   * Send `message` (a uwsgi packet, modifier 74, the bytes raw as uWSGI 1.x
   * sent them) to `group` (`ADDR:PORT`: a multicast group, a broadcast or any
   * node's address) and resolve with the replies gathered within `timeout`
   * seconds (default `socket-timeout`): each node answers with what its
   * `multicast_message` RPC function returns (`register_rpc('multicast_message',
   * fn)`, called with the message), or an empty reply without one. For this
   * node's own cluster group it resolves as soon as every live node replied.
   * At most 1024 replies (16 MiB in all) are kept. uWSGI 1.x sent the packet
   * and returned true; nobody answered.
   */
  send_multicast_message(group: string, message: string | Uint8Array, timeout?: number): Promise<MessageReply[]> {
    argCount('send_multicast_message', arguments.length, 2, 3);
    const fn = 'send_multicast_message';
    if (typeof group !== 'string') throw new UwsgiError('ERR_ARG_TYPE', `${fn}: group must be a string, got ${typeName(group)}`);
    if (typeof message !== 'string' && !(message instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: message must be a string or Uint8Array, got ${typeName(message)}`);
    let to: { host: string; port: number };
    try {
      to = udpAddress(`${fn}: group`, group);
    } catch (e) {
      throw new UwsgiError((e as UwsgiError).code === 'ERR_OPTION' ? 'ERR_VALUE_RANGE' : (e as UwsgiError).code, (e as Error).message);
    }
    const bytes = typeof message === 'string' ? utf8.encode(message) : message;
    if (bytes.length > MAX_DATAGRAM - 4) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: a message of ${bytes.length} bytes does not fit one datagram (at most ${MAX_DATAGRAM - 4})`);
    let ms: number;
    if (timeout === undefined) ms = socketTimeoutMs(this.ctx);
    else if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: timeout must be a number of seconds > 0, got ${typeof timeout === 'number' ? timeout : typeName(timeout)}`);
    else ms = timeout * 1000;
    const own = this.ctx.shared.config.cluster.group;
    const live = own && own.host === to.host && own.port === to.port ? liveNodes(this.ctx).map((n) => n.name) : [];
    // Whom to wait for: this cluster's live nodes; otherwise (or before any announce was heard) the whole timeout.
    const expected = live.length > 0 ? new Set(live) : null;
    return gather(this.ctx, to, encodeMessage(bytes), ms, expected);
  }
}

/** Send `packet` to `to` and collect 74/1 replies for `ms` ms, or until every name in `expected` answered. */
async function gather(ctx: ThreadContext, to: { host: string; port: number }, packet: Uint8Array, ms: number, expected: Set<string> | null): Promise<MessageReply[]> {
  const replies: MessageReply[] = [];
  const seen = new Set<string>();
  let bytes = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => { done = r; });
  const sock = await runtime().openUdp({ host: '0.0.0.0', port: 0, multicastTtl: ctx.shared.config.cluster.multicastTtl, broadcast: to.host === '255.255.255.255' }, (d, from) => {
    const p = packetBody(d, CLUSTER_MOD.MESSAGE);
    const r = p && p.modifier2 === 1 ? decodeReply(p.body) : null;
    if (!r) return;
    r.node = nodeName(r.node, from.address);
    if (seen.has(r.node) || replies.length >= MAX_REPLIES || bytes + r.reply.length > MAX_REPLY_BYTES) return;
    seen.add(r.node);
    bytes += r.reply.length;
    replies.push(r);
    if (expected && [...expected].every((n) => seen.has(n))) done();
  });
  const timer = setTimeout(done, ms);
  try {
    await sock.send(packet, to.host, to.port);
  } catch (e) {
    clearTimeout(timer);
    await sock.close();
    throw new UwsgiError('ERR_CONNECT', `send_multicast_message: cannot send to ${to.host}:${to.port}: ${(e as Error).message}`);
  }
  await finished;
  clearTimeout(timer);
  await sock.close();
  return replies;
}
