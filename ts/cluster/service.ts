/**
 * What the master runs for the cluster subsystem, started before the workers
 * and stopped after them: `sync=` copies (once, first), the caches' UDP
 * servers (`udp=`), the multicast membership (`--cluster`) and the router
 * subscriptions (`--subscribe-to`, `--subscribe2`). An engine without a
 * master can run the same with {@link startCluster} (tests, embedders).
 * @module
 */
import type { ModuleHandle } from '../kernel/context.ts';
import { ClusterMember } from './membership.ts';
import { ReplicationReceiver, syncCache } from './replication.ts';
import { Subscriber } from './subscription.ts';

/** The cluster services of one master. */
export class ClusterServices {
  /** The membership loop (`--cluster`), if configured. */
  readonly member: ClusterMember | undefined;
  /** The router subscriptions, if configured. */
  readonly subscriber: Subscriber | undefined;
  /** The caches' UDP servers, if any cache has `udp=`. */
  readonly receiver: ReplicationReceiver | undefined;
  /** Items copied into each cache by `sync=` at start, by cache index. */
  readonly synced = new Map<number, number>();
  #stopped = false;

  /** @internal Use {@link startCluster}. */
  constructor(member?: ClusterMember, subscriber?: Subscriber, receiver?: ReplicationReceiver) {
    this.member = member;
    this.subscriber = subscriber;
    this.receiver = receiver;
  }

  /**
   * Stop every service. `clean` (a stop, not a crash): say goodbye first (the
   * cluster's leave, the routers' unsubscribe), as uWSGI does on shutdown.
   */
  async stop(clean = true): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.all([this.member?.stop(clean), this.subscriber?.stop(clean), this.receiver?.close()]);
  }
}

/**
 * Start the cluster services for the engine `on` is a view of, in the calling
 * thread (the master). `sync=` runs first and must succeed for every cache
 * that has it (uWSGI exits otherwise); then the UDP servers, the membership
 * and the subscriptions. `log` gets uWSGI's log lines (joins, deaths...).
 */
export async function startCluster(on: ModuleHandle, log: (line: string) => void = () => {}): Promise<ClusterServices> {
  const ctx = on.ctx;
  const cfg = ctx.shared.config;
  const synced = new Map<number, number>();
  for (let i = 0; i < cfg.caches.length; i++) {
    if (cfg.caches[i]!.sync.length === 0) continue;
    const n = await syncCache(ctx, i);
    synced.set(i, n);
    log(`uwsgi-wasm: [cache-sync] cache '${cfg.caches[i]!.name}': ${n} items copied`);
  }
  const receiver = cfg.caches.some((c) => c.udp.length > 0) ? new ReplicationReceiver(ctx) : undefined;
  const member = cfg.cluster.group ? new ClusterMember(ctx, log) : undefined;
  const subscriber = cfg.cluster.subscriptions.length > 0 ? new Subscriber(ctx, log) : undefined;
  const services = new ClusterServices(member, subscriber, receiver);
  for (const [i, n] of synced) services.synced.set(i, n);
  try {
    await receiver?.start();
    await member?.start();
    await subscriber?.start();
  } catch (e) {
    await services.stop(false);
    throw e;
  }
  return services;
}
