/**
 * The cluster's node table, in the shared memory so every thread's
 * `cluster_nodes()` and `cluster_best_node()` read what the master heard
 * (uWSGI 1.x kept its `nodes[MAX_CLUSTER_NODES]` in the shared area for the
 * same reason). Only JS reads and writes it; it exists only with `--cluster`.
 *
 *  region (Region.CLUSTER):
 *  ┌───────────┬──────────────────────────────────────────────┐
 *  │ header    │ MAX_CLUSTER_NODES records                    │
 *  │ 64 B      │ × 512 B                                      │
 *  └───────────┴──────────────────────────────────────────────┘
 *  header: seq i32 +0 (odd while the master writes), picks i32 +4 (the best-node clock)
 *  record:
 *  ┌──────┬─────────┬──────┬────────┬──────────┬──────────────┬──────────┬──────────────┬───────────┬──────────────┐
 *  │ used │ workers │ load │ chosen │ seen f64 │ requests f64 │ name_len │ nodename_len │ name[128] │ nodename[256]│
 *  │ +0   │ +4      │ +8   │ +12    │ +16      │ +24          │ +32      │ +36          │ +40       │ +168         │
 *  └──────┴─────────┴──────┴────────┴──────────┴──────────────┴──────────┴──────────────┴───────────┴──────────────┘
 *  `seen` is the wall clock (ms) of the node's last announce; `chosen` the
 *  `picks` value when cluster_best_node() last returned it.
 *
 * One writer (the master, which owns the group socket), any number of
 * readers: the master makes `seq` odd, writes, makes it even; a reader copies
 * between two loads of an even, unchanged `seq`. `chosen` is outside that
 * protocol: readers store it (one atomic word; a lost update only skews a
 * tie-break).
 * @module
 */
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { Region } from '../kernel/abi.ts';
import type { Config } from '../kernel/options.ts';
import { MAX_CLUSTER_NODES } from './config.ts';

const HEADER = 64;
const RECORD = 512;
const H_SEQ = 0;
const H_PICKS = 4;
const R_USED = 0;
const R_WORKERS = 4;
const R_LOAD = 8;
const R_CHOSEN = 12;
const R_SEEN = 16;
const R_REQUESTS = 24;
const R_NAME_LEN = 32;
const R_NODENAME_LEN = 36;
const R_NAME = 40;
const R_NODENAME = 168;

/** Longest node name (its announced address), in bytes: uWSGI 1.x's `char name[101]`. */
export const NODE_NAME_MAX = 100;
/** Longest node host name, in bytes: uWSGI 1.x's `char nodename[0xff]`. */
export const NODENAME_MAX = 255;
/** Tries of a reader before it takes what it copied last (the writer holds `seq` odd for microseconds). */
const READ_TRIES = 10000;

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** One live node as the table holds it. */
export interface ClusterNode {
  /** Its name: the address it announced (`host:port` of its `--socket`). */
  name: string;
  /** Its host name. */
  nodename: string;
  /** Its workers. */
  workers: number;
  /** Its load when it last announced (requests in progress plus its listen queue). */
  load: number;
  /** Requests it had served when it last announced. */
  requests: number;
  /** When it last announced (ms since the epoch). */
  seen: number;
}

/** Bytes of the region for `cfg` (0 without `--cluster`). */
export function clusterRegionBytes(cfg: Config): number {
  return cfg.cluster.group ? HEADER + MAX_CLUSTER_NODES * RECORD : 0;
}

/** One thread's view of the node table. */
export class NodeTable {
  readonly #base: number;
  readonly #i32: Int32Array;
  readonly #dv: DataView;
  readonly #u8: Uint8Array;

  /** @internal Use {@link nodeTableOf}. */
  constructor(ctx: ThreadContext) {
    this.#base = ctx.x.layout_region_offset(Region.CLUSTER, 0) >>> 0;
    this.#i32 = new Int32Array(ctx.memory.buffer);
    this.#dv = ctx.dv;
    this.#u8 = ctx.u8;
  }

  /** Whether this engine has a table (`--cluster` was given). */
  get present(): boolean { return this.#base !== 0; }

  #rec(i: number): number { return this.#base + HEADER + i * RECORD; }
  #word(at: number): number { return at >> 2; }

  /** Every used record (live or not: callers filter by `seen`), with its index. */
  read(): Array<ClusterNode & { index: number }> {
    if (!this.present) return [];
    const seq = this.#word(this.#base + H_SEQ);
    let out: Array<ClusterNode & { index: number }> = [];
    for (let attempt = 0; attempt < READ_TRIES; attempt++) {
      // Waits for an even value: the master is not in the middle of a change.
      const before = Atomics.load(this.#i32, seq);
      if (before & 1) continue;
      out = [];
      for (let i = 0; i < MAX_CLUSTER_NODES; i++) {
        const r = this.#rec(i);
        if (this.#dv.getInt32(r + R_USED, true) !== 1) continue;
        // Lengths are clamped: a torn copy is thrown away below, but must never read past the record.
        const nl = Math.min(Math.max(this.#dv.getInt32(r + R_NAME_LEN, true), 0), NODE_NAME_MAX);
        const hl = Math.min(Math.max(this.#dv.getInt32(r + R_NODENAME_LEN, true), 0), NODENAME_MAX);
        out.push({
          index: i,
          name: utf8d.decode(this.#u8.subarray(r + R_NAME, r + R_NAME + nl)),
          nodename: utf8d.decode(this.#u8.subarray(r + R_NODENAME, r + R_NODENAME + hl)),
          workers: this.#dv.getInt32(r + R_WORKERS, true),
          load: this.#dv.getInt32(r + R_LOAD, true),
          requests: this.#dv.getFloat64(r + R_REQUESTS, true),
          seen: this.#dv.getFloat64(r + R_SEEN, true),
        });
      }
      // Unchanged and even: the copy above is one consistent snapshot.
      if (Atomics.load(this.#i32, seq) === before) return out;
    }
    return out;
  }

  /** `chosen` of record `index` (its last pick by cluster_best_node). */
  chosen(index: number): number { return Atomics.load(this.#i32, this.#word(this.#rec(index) + R_CHOSEN)); }

  /** Record that cluster_best_node() returned record `index` now. */
  choose(index: number): void {
    const picks = Atomics.add(this.#i32, this.#word(this.#base + H_PICKS), 1) + 1;
    Atomics.store(this.#i32, this.#word(this.#rec(index) + R_CHOSEN), picks);
  }

  /** Run `change` as the single writer: readers see all of it or none of it. */
  #write<T>(change: () => T): T {
    const seq = this.#word(this.#base + H_SEQ);
    // Odd: readers retry until the change is complete.
    Atomics.add(this.#i32, seq, 1);
    try {
      return change();
    } finally {
      // Even again: publishes the change.
      Atomics.add(this.#i32, seq, 1);
    }
  }

  /**
   * The master heard `node`: add it or refresh it. False (and nothing
   * changes) when a name is too long or the table is full.
   */
  upsert(node: ClusterNode): 'added' | 'updated' | false {
    if (!this.present) return false;
    const name = utf8.encode(node.name);
    const nodename = utf8.encode(node.nodename);
    if (name.length === 0 || name.length > NODE_NAME_MAX || nodename.length > NODENAME_MAX) return false;
    const existing = this.read().find((n) => n.name === node.name);
    let index = existing?.index ?? -1;
    if (index < 0) {
      for (let i = 0; i < MAX_CLUSTER_NODES && index < 0; i++) if (this.#dv.getInt32(this.#rec(i) + R_USED, true) !== 1) index = i;
      if (index < 0) return false;
    }
    const r = this.#rec(index);
    this.#write(() => {
      const dv = this.#dv;
      dv.setInt32(r + R_WORKERS, node.workers | 0, true);
      dv.setInt32(r + R_LOAD, node.load | 0, true);
      dv.setFloat64(r + R_REQUESTS, node.requests, true);
      dv.setFloat64(r + R_SEEN, node.seen, true);
      if (!existing) {
        this.#u8.set(name, r + R_NAME);
        dv.setInt32(r + R_NAME_LEN, name.length, true);
        Atomics.store(this.#i32, this.#word(r + R_CHOSEN), 0);
      }
      this.#u8.set(nodename, r + R_NODENAME);
      dv.setInt32(r + R_NODENAME_LEN, nodename.length, true);
      dv.setInt32(r + R_USED, 1, true);
    });
    return existing ? 'updated' : 'added';
  }

  /** Forget node `name` (it left, or stayed silent too long); false when it was not there. */
  remove(name: string): boolean {
    const n = this.read().find((x) => x.name === name);
    if (!n) return false;
    this.#write(() => { this.#dv.setInt32(this.#rec(n.index) + R_USED, 0, true); });
    return true;
  }

  /** Forget every node not heard from since `oldest` (ms); returns their names. */
  expire(oldest: number): string[] {
    const gone = this.read().filter((n) => n.seen < oldest);
    if (gone.length) this.#write(() => { for (const n of gone) this.#dv.setInt32(this.#rec(n.index) + R_USED, 0, true); });
    return gone.map((n) => n.name);
  }
}

/** The calling thread's view of the node table. */
export const nodeTableOf = threadService<NodeTable>((ctx) => new NodeTable(ctx));
