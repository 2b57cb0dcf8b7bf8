/**
 * Subscriptions to uWSGI 2.0 routers (`--subscribe-to`, `--subscribe2`): the
 * master sends each subscription server a subscribe packet (224/0) when it
 * starts and every `--subscribe-freq` seconds, carrying the key, the address
 * the router forwards to, the modifiers, cores, load and weight; a router
 * drops a node it has not heard from for its `--subscription-tolerance`. On
 * a clean stop the master unsubscribes (224/1) so the router stops at once.
 * @module
 */
import type { ThreadContext } from '../kernel/context.ts';
import { type UdpSocket, runtime } from '../platform/index.ts';
import { encodeSubscription } from './packets.ts';
import type { ClusterConfig, SubscriptionConfig } from './config.ts';
import { backlogOf } from './membership.ts';

/** The keys of a `SERVER:PORT:@FILE` subscription: one `key[,modifier1]` per line, `#` comments skipped. */
export function keysFromFile(text: string, fallback1: number): Array<{ key: string; modifier1: number }> {
  const out: Array<{ key: string; modifier1: number }> = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const comma = line.indexOf(',');
    const key = comma < 0 ? line : line.slice(0, comma);
    const m = comma < 0 ? NaN : Number(line.slice(comma + 1));
    // uWSGI reads the modifier with a digits-only scan (0 when there are none); keys over 255 bytes no router takes.
    if (key === '' || new TextEncoder().encode(key).length > 255) continue;
    out.push({ key, modifier1: Number.isInteger(m) && m >= 0 && m <= 255 ? m : fallback1 });
  }
  return out;
}

/** The master's subscriber. */
export class Subscriber {
  readonly #ctx: ThreadContext;
  readonly #cfg: ClusterConfig;
  readonly #log: (line: string) => void;
  #sock: UdpSocket | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Packets handed to the system, and those that failed. */
  readonly stats = { sent: 0, failed: 0 };

  constructor(ctx: ThreadContext, log: (line: string) => void) {
    this.#ctx = ctx;
    this.#cfg = ctx.shared.config.cluster;
    this.#log = log;
  }

  /** Subscribe now, then every `subscribe-freq` seconds. */
  async start(): Promise<void> {
    this.#sock = await runtime().openUdp({ host: '0.0.0.0', port: 0 }, () => { /* routers do not answer (no notify socket) */ });
    for (const s of this.#cfg.subscriptions) this.#log(`uwsgi-wasm: subscribing to ${s.text}`);
    await this.sendAll(false);
    this.#timer = setInterval(() => { void this.sendAll(false); }, this.#cfg.subscribeFreq * 1000);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Send every subscription (or, with `unsubscribe`, its removal) once. */
  async sendAll(unsubscribe: boolean): Promise<void> {
    const sock = this.#sock;
    if (!sock) return;
    const ctx = this.#ctx;
    const workers = ctx.shared.config.workers;
    const load = backlogOf(ctx);
    const sends: Array<Promise<void>> = [];
    for (const s of this.#cfg.subscriptions) {
      for (const { key, modifier1 } of this.#keys(s)) {
        const packet = encodeSubscription({
          key, address: s.address, modifier1, modifier2: s.modifier2,
          cores: workers, load, weight: this.#cfg.autoWeight ? workers : s.weight ?? this.#cfg.weight, sni: s.sni,
        }, unsubscribe);
        sends.push(sock.send(packet, s.server.host, s.server.port).then(() => { this.stats.sent++; }, () => { this.stats.failed++; }));
      }
    }
    await Promise.all(sends);
  }

  /** The keys to send for `s` now (a keys file is read every time, as uWSGI does; `check=` may skip it). */
  #keys(s: SubscriptionConfig): Array<{ key: string; modifier1: number }> {
    const rt = runtime();
    if (s.check !== null && rt.pathExists(s.check)) return [];
    if (s.keysFile === null) return [{ key: s.key!, modifier1: s.modifier1 }];
    try {
      return keysFromFile(rt.readTextFile(s.keysFile), s.modifier1);
    } catch {
      return [];
    }
  }

  /** Stop; on a clean stop unsubscribe first. */
  async stop(clean: boolean): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (clean && this.#sock) {
      for (const s of this.#cfg.subscriptions) this.#log(`uwsgi-wasm: unsubscribing from ${s.text}`);
      await this.sendAll(true);
    }
    const sock = this.#sock;
    this.#sock = null;
    await sock?.close();
  }
}
