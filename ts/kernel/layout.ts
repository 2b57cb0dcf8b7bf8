/**
 * The planner: from a {@link Config}, place every region in the shared memory,
 * create the memory at its final size (it never grows), and initialise it.
 * Sizes come from the core's own sizing functions, so structure sizes are
 * defined in one place (assembly/).
 * @module
 */
import { UwsgiError, statusError } from './errors.ts';
import type { CacheConfig, Config } from './options.ts';
import { MULE_MSG_MAX, MULE_MAILBOX_SLOTS, muleChannelCount } from '../mules/mules.ts';
import { spoolerRegionBytes, spoolerRegionInit } from '../spooler/spooler.ts';
import { spoolerThreads } from '../spooler/config.ts';
import { clusterRegionBytes } from '../cluster/table.ts';
import type { LayoutPlan, RegionPlan } from './context.ts';
import { type CoreExports, coreModule, instantiateCore, plannerCore } from './core.ts';
import { CacheFlag, LAYOUT_BASE, LAYOUT_HEADER_SIZE, LAYOUT_MAX_THREADS, LINE_SIZE, Region, WASM_PAGE } from './abi.ts';


const MIN_SCRATCH = 65536;

const align = (n: number, a: number) => Math.ceil(n / a) * a;

/** Thread slots: master + workers + mules + spoolers + extra. */
export function threadSlots(cfg: Config): number {
  return 1 + cfg.workers + cfg.mules.length + spoolerThreads(cfg.spooler).length + cfg.extraThreads;
}

/** Status-table rows for spoolers: one per spooler thread (`--spooler-processes` per served directory). */
export function spoolerRows(cfg: Config): number { return spoolerThreads(cfg.spooler).length; }

export function planLayout(cfg: Config): LayoutPlan {
  const core = plannerCore();
  const maxThreads = threadSlots(cfg);
  if (maxThreads > LAYOUT_MAX_THREADS) throw new UwsgiError('ERR_OPTION', `too many threads: ${maxThreads} slots needed, at most ${LAYOUT_MAX_THREADS}`);
  // A queue message travels through the scratch, so it must hold a whole slot.
  // So must a mule message.
  const scratchSize = align(Math.max(MIN_SCRATCH, cfg.bufferSize, cfg.queueBlocksize, MULE_MSG_MAX), LINE_SIZE);
  const regions: RegionPlan[] = [];
  let at = LAYOUT_BASE + align(LAYOUT_HEADER_SIZE, LINE_SIZE);
  const place = (kind: number, index: number, size: number) => {
    regions.push({ kind, index, offset: at, size });
    at = align(at + size, LINE_SIZE);
  };
  place(Region.THREADS, 0, core.threads_bytes(maxThreads));
  place(Region.SCRATCH, 0, maxThreads * scratchSize);
  place(Region.LOCKS, 0, core.locks_bytes(cfg.locks + 1));
  if (cfg.sharedareas.length > 0) {
    let size = core.sa_dir_bytes(cfg.sharedareas.length);
    for (const s of cfg.sharedareas) size += core.sa_area_bytes(s);
    place(Region.SHAREDAREA, 0, size);
  }
  if (cfg.queue > 0) {
    // The core sizes in u32: refuse a ring that could not fit before it wraps.
    if (cfg.queue * cfg.queueBlocksize >= 2 ** 32 - 2 ** 24) throw new UwsgiError('ERR_OPTION', `the queue needs ${cfg.queue * cfg.queueBlocksize} bytes (queue * queue-blocksize); the limit is 4 GiB`);
    place(Region.QUEUE, 0, core.queue_bytes(cfg.queue, cfg.queueBlocksize));
  }
  place(Region.RPC, 0, core.rpc_bytes(cfg.rpcMax, maxThreads));
  // SNMP user slots and community: always there, as in uWSGI (the API works without an agent).
  place(Region.SNMP, 0, core.snmp_bytes());
  if (cfg.mules.length > 0) place(Region.MULES, 0, core.mules_bytes(muleChannelCount(cfg), MULE_MAILBOX_SLOTS, MULE_MSG_MAX));
  place(Region.WORKERS, 0, core.wk_bytes(1 + cfg.workers + cfg.mules.length + spoolerRows(cfg)));
  // Signals (table, routing inbox, one mailbox per thread) and the master's scheduler (timers, cron, file monitors).
  place(Region.SIGNALS, 0, core.sig_bytes(maxThreads));
  place(Region.TIMERS, 0, core.timers_bytes());
  if (cfg.spooler.dirs.length > 0) place(Region.SPOOLER, 0, spoolerRegionBytes(cfg));
  // The cluster's node table (zeroed memory is an empty table).
  if (cfg.cluster.group) place(Region.CLUSTER, 0, clusterRegionBytes(cfg));
  cfg.caches.forEach((c, i) => {
    const size = core.cache_bytes(c.items, c.keysize, c.blocksize, c.blocks, c.hashsize, c.bitmap ? 1 : 0, maxThreads);
    if (at + size > 2 ** 32) throw new UwsgiError('ERR_OPTION', `cache '${c.name}' needs ${size} bytes of shared memory; everything must fit in 4 GiB`);
    place(Region.CACHE, i, size);
  });
  const totalBytes = at;
  const pages = Math.ceil(totalBytes / WASM_PAGE);
  if (pages > 65536) throw new UwsgiError('ERR_OPTION', `the configuration needs ${totalBytes} bytes of shared memory; the limit is 4 GiB`);
  return { totalBytes, pages, maxThreads, scratchSize, regions };
}

/** Create the shared memory for `plan`, lay it out, and return it with the master's core instance. */
export function buildMemory(cfg: Config, plan: LayoutPlan): { memory: WebAssembly.Memory; core: CoreExports } {
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: plan.pages, maximum: plan.pages, shared: true });
  } catch (e) {
    throw new UwsgiError('ERR_OPTION', `cannot allocate ${plan.pages * WASM_PAGE} bytes of shared memory: ${(e as Error).message}`, { cause: e });
  }
  const core = instantiateCore(coreModule(), memory);
  check(core.layout_init(plan.totalBytes, plan.maxThreads, plan.scratchSize), 'layout');
  for (const r of plan.regions) {
    check(core.layout_region(r.kind, r.index, r.offset, r.size), 'layout region');
    if (r.kind === Region.LOCKS) core.locks_init(r.offset, cfg.locks + 1);
    if (r.kind === Region.QUEUE) core.queue_init(r.offset, cfg.queue, cfg.queueBlocksize);
    if (r.kind === Region.RPC) core.rpc_init(r.offset, cfg.rpcMax, plan.maxThreads);
    if (r.kind === Region.WORKERS) core.wk_init(r.offset, cfg.workers, cfg.mules.length, spoolerRows(cfg));
    if (r.kind === Region.SNMP) core.snmp_init(r.offset);
    if (r.kind === Region.MULES) core.mules_init(r.offset, muleChannelCount(cfg), MULE_MAILBOX_SLOTS, MULE_MSG_MAX);
    if (r.kind === Region.SIGNALS) core.sig_init(r.offset, plan.maxThreads);
    if (r.kind === Region.SPOOLER) spoolerRegionInit(memory, r.offset, cfg);
    if (r.kind === Region.SHAREDAREA) {
      core.sa_init(r.offset, cfg.sharedareas.length);
      let areaOff = r.offset + core.sa_dir_bytes(cfg.sharedareas.length);
      for (const s of cfg.sharedareas) {
        core.sa_init_area(r.offset, areaOff, s);
        areaOff += core.sa_area_bytes(s);
      }
    }
  }
  for (const r of plan.regions) {
    if (r.kind !== Region.CACHE) continue;
    const c = cfg.caches[r.index];
    core.cache_init(r.offset, c.items, c.keysize, c.blocksize, c.blocks, c.hashsize, cacheFlags(c), c.sweepOnFull, BigInt(c.mathInitial), plan.maxThreads);
  }
  core.layout_publish();
  check(core.bind(), 'bind');
  return { memory, core };
}

function check(rc: number, what: string): void {
  if (rc < 0) throw statusError(rc, what);
}

function cacheFlags(c: CacheConfig): number {
  return (c.bitmap ? CacheFlag.BITMAP : 0) | (c.purgeLru ? CacheFlag.LRU : 0) | (c.lazyExpire ? CacheFlag.LAZY : 0)
    | (c.clearOnFull ? CacheFlag.CLEAR_ON_FULL : 0) | (c.noExpire ? CacheFlag.NO_EXPIRE : 0) | (c.hash === 'murmur2' ? CacheFlag.MURMUR2 : 0);
}
