/**
 * The spooler loop a spooler thread runs (uWSGI's `spooler()`): scan its
 * directory, run each task that is due through the registered spooler
 * function, sleep `spooler-frequency` seconds or until a writer rings, again.
 * @module
 */
import { UwsgiError } from '../kernel/errors.ts';
import type { ModuleHandle, ThreadContext } from '../kernel/context.ts';
import { waitForChange } from '../kernel/atomics.ts';
import {
  SPOOL_IGNORE, SPOOL_OK, SPOOL_RETRY, type SpoolTaskInfo, type SpoolerApi, type SpoolerSlot, setSpoolerFunction, spoolerFunctionOf, spoolerOf,
} from './spooler.ts';
import { CORRUPT_PREFIX, decodeSpoolFile, isPriorityName, isTaskName, naturalCompare, taskDict } from './file.ts';
import { runtime } from '../platform/index.ts';

/** The spool directory's file operations (the runtime binding's, synchronous). */
const sfs = runtime();

/** Longest single wait, so the thread looks at its stop flag now and then (ms). */
const WAIT_SLICE_MS = 1000;

/** How a task ended, as the loop saw it (for tests and logs). */
export type TaskOutcome = 'done' | 'retry' | 'ignored' | 'future' | 'busy' | 'corrupt';

/** Options of a {@link SpoolerLoop}. */
export interface SpoolerLoopOptions {
  /** Where the loop logs (default: stderr, as uWSGI's spooler logs). */
  log?: (line: string) => void;
  /** @internal Test hook: runs after the spooler function returned, before its outcome is applied. */
  afterTask?: (name: string, ret: number) => void;
}

/**
 * One spooler thread's loop. `run()` serves until `stop()` or until
 * `spooler-max-tasks` tasks were handled ('recycle'); `pass()` is one scan,
 * which tests drive directly with an injected clock (`engine.setClock`).
 */
export class SpoolerLoop {
  readonly #ctx: ThreadContext;
  readonly #api: SpoolerApi;
  readonly #slot: SpoolerSlot;
  readonly #dir: string;
  readonly #log: (line: string) => void;
  readonly #afterTask?: (name: string, ret: number) => void;
  #stopping = false;
  /** spooler-max-tasks reached: leave the scan, then the loop. */
  #recycle = false;

  /** `u` must be a spooler thread's view (thread kind 3). */
  constructor(u: ModuleHandle, opts: SpoolerLoopOptions = {}) {
    this.#ctx = u.ctx;
    if (this.#ctx.kind !== 'spooler') throw new UwsgiError('ERR_UNSUPPORTED', `SpoolerLoop: a spooler loop runs in a spooler thread's view (engine.attach('spooler', n)), not in a ${this.#ctx.kind}`);
    this.#api = spoolerOf(this.#ctx);
    this.#slot = this.#api.slot(this.#ctx.ident);
    this.#dir = this.#api.dirs[this.#api.slotDir(this.#ctx.ident)];
    this.#log = opts.log ?? ((l) => console.error(l));
    this.#afterTask = opts.afterTask;
  }

  /** The spool directory this loop serves. */
  get dir(): string { return this.#dir; }

  /** Finish the task under way, then leave `run()`. */
  stop(): void {
    this.#stopping = true;
    // Wakes the loop if it sleeps.
    Atomics.add(this.#slot.i32, this.#slot.bell, 1);
    Atomics.notify(this.#slot.i32, this.#slot.bell);
  }

  #quiet(): boolean { return this.#api.config.quiet; }
  #nowSec(): number { return Math.floor(this.#ctx.clock() / 1000); }

  /** @internal The thread is up (uWSGI knows a spooler's pid from its fork, before it loads anything). */
  announce(): void { this.#slot.started(); }

  /** Serve until stopped ('stopped') or until `spooler-max-tasks` is reached ('recycle'). */
  async run(): Promise<'stopped' | 'recycle'> {
    this.#slot.started();
    try {
      return await this.#serve();
    } finally {
      this.#slot.finished();
    }
  }

  async #serve(): Promise<'stopped' | 'recycle'> {
    const max = this.#api.config.maxTasks;
    for (;;) {
      if (this.#stopping) return 'stopped';
      // Read the bell before scanning: a task written during the scan makes the wait return at once.
      const seen = Atomics.load(this.#slot.i32, this.#slot.bell);
      try {
        await this.pass();
      } catch (e) {
        // A directory that cannot be read or renamed in now (permissions, a full disk...): try again at the next scan.
        this.#log(`[spooler ${this.#dir}] scan failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (this.#stopping) return 'stopped';
      if (this.#recycle) {
        this.#log(`[spooler ${this.#dir} pid: ${this.#ctx.shared.masterPid}] maximum number of tasks reached (${max}) recycling ...`);
        return 'recycle';
      }
      const deadline = performance.now() + this.#api.frequency() * 1000;
      for (;;) {
        const left = deadline - performance.now();
        if (left <= 0 || this.#stopping) break;
        if (await this.#wait(seen, Math.min(left, WAIT_SLICE_MS)) !== 'timed-out') break;
      }
    }
  }

  /** Wait for the bell; a timer alongside keeps the thread's event loop alive on every runtime. */
  async #wait(seen: number, ms: number): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<string>((r) => { timer = setTimeout(() => r('timed-out'), ms + 5); });
    try {
      return await Promise.race([waitForChange(this.#slot.i32, this.#slot.bell, seen, ms), t]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One scan: give back tasks claimed by threads that are gone, then run every
   * due task of the directory and of its priority subdirectories (in natural
   * order with `spooler-ordered`, else in the order the system lists them).
   * Returns the outcome per task name met.
   */
  async pass(): Promise<Map<string, TaskOutcome>> {
    const seen = new Map<string, TaskOutcome>();
    this.#recover(this.#dir);
    await this.#scan(this.#dir, true, seen);
    return seen;
  }

  #recover(dir: string): void {
    for (const name of this.#api.recover(dir)) {
      if (!this.#quiet()) this.#log(`[spooler ${this.#dir} pid: ${this.#ctx.shared.masterPid}] task ${name} was claimed by a spooler that is gone: it will run again`);
    }
  }

  async #scan(dir: string, top: boolean, seen: Map<string, TaskOutcome>): Promise<void> {
    const names = sfs.listDir(dir);
    if (this.#api.config.ordered) names.sort(naturalCompare);
    for (const name of names) {
      if (this.#stopping || this.#recycle) return;
      if (isTaskName(name)) {
        const outcome = await this.#task(dir, name);
        if (outcome) seen.set(name, outcome);
      } else if (top && isPriorityName(name)) {
        // uWSGI 2.0 descends into priority directories only with --spooler-ordered
        // (their tasks never run otherwise); here they always run.
        const sub = sfs.paths.join(dir, name);
        if (!sfs.lstat(sub)?.isDirectory) continue;
        this.#recover(sub);
        await this.#scan(sub, false, seen);
      }
    }
  }

  /** Claim, run and settle one task file; undefined when it is not ours to run now. */
  async #task(dir: string, name: string): Promise<TaskOutcome | undefined> {
    const path = sfs.paths.join(dir, name);
    const st = sfs.lstat(path);
    if (!st || !st.isFile) return undefined;
    if (st.mtimeSec > this.#nowSec()) return 'future';
    if (!sfs.readWritable(path)) return undefined;
    // A real uWSGI writer or spooler holds an fcntl lock on the file it works on.
    if (sfs.lockedByAnyProcess(st.dev, st.ino)) return 'busy';
    const claimed = sfs.paths.join(dir, this.#api.claimOf(name));
    // The claim: of every thread (or process) renaming this name, one succeeds.
    if (!sfs.renameIfExists(path, claimed)) return undefined;
    const bytes = sfs.readFileBytes(claimed);
    if (bytes === null) return undefined;
    const file = decodeSpoolFile(bytes);
    if ('error' in file) {
      if (file.error === 'short' && bytes.length < 4) {
        // As uWSGI: a file without its header yet may be one a writer just created.
        sfs.renameIfExists(claimed, path);
        return 'busy';
      }
      sfs.renameIfExists(claimed, sfs.paths.join(dir, CORRUPT_PREFIX + name));
      this.#log(`[spooler ${this.#dir}] task ${name} cannot be decoded (${file.detail}): set aside as ${CORRUPT_PREFIX}${name}`);
      return 'corrupt';
    }
    const started = this.#nowSec();
    this.#slot.begin(started);
    if (!this.#quiet()) this.#log(`[spooler ${this.#dir} pid: ${this.#ctx.shared.masterPid}] managing request ${name} ...`);
    const ret = await this.#call(taskDict(file, name), { name, dir, spooler: this.#dir });
    this.#afterTask?.(name, ret);
    // As uWSGI: every task that a function claimed (any return but SPOOL_IGNORE) counts toward spooler-max-tasks.
    const max = this.#api.config.maxTasks;
    if (max > 0 && ret !== SPOOL_IGNORE && this.#slot.tasks() + 1 >= max) this.#recycle = true;
    if (ret === SPOOL_OK) {
      // The commit: once this name is gone the task can never be claimed again.
      sfs.unlinkIfExists(claimed);
      sfs.syncDir(dir);
      this.#slot.end(true);
      if (!this.#quiet()) this.#log(`[spooler ${this.#dir} pid: ${this.#ctx.shared.masterPid}] done with task ${name} after ${this.#nowSec() - started} seconds`);
      return 'done';
    }
    sfs.renameIfExists(claimed, path);
    this.#slot.end(ret !== SPOOL_IGNORE, ret !== SPOOL_IGNORE);
    if (ret === SPOOL_IGNORE) {
      this.#log('unable to find the spooler function, have you loaded it into the spooler process ?');
      return 'ignored';
    }
    return 'retry';
  }

  async #call(task: Record<string, Uint8Array>, info: SpoolTaskInfo): Promise<number> {
    const fn = spoolerFunctionOf(this.#ctx);
    if (!fn) return SPOOL_IGNORE;
    let r: unknown;
    try {
      r = fn(task, info);
      if (r !== null && typeof r === 'object' && typeof (r as { then?: unknown }).then === 'function') r = await r;
    } catch (e) {
      this.#log(`[spooler ${this.#dir}] the spooler function failed on ${info.name}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return SPOOL_RETRY;
    }
    if (typeof r === 'number' && Number.isInteger(r)) return r;
    if (typeof r === 'bigint') return Number(BigInt.asIntN(32, r));
    // As uWSGI's Python plugin: anything but an int (None included) means "retry".
    return SPOOL_RETRY;
  }
}

/**
 * The body of a spooler thread: import the files that register the spooler
 * function (`spooler-import` files, or else the app: its top-level code runs,
 * its default export does not), then serve. A module that exports a function
 * named `spooler` registers it when `uwsgi.spooler` was not set. `onStop` is
 * given the loop's stop, for the master's stop message.
 */
export async function runSpoolerThread(ctx: ThreadContext, app: string | undefined, importFile: (file: string) => Promise<unknown>, onStop: (stop: () => void) => void): Promise<'stopped' | 'recycle'> {
  const cfg = ctx.shared.config.spooler;
  const files = cfg.imports.length > 0 ? cfg.imports : app ? [app] : [];
  const loop = new SpoolerLoop({ ctx });
  loop.announce();
  onStop(() => loop.stop());
  for (const f of files) {
    const mod = await importFile(f) as { spooler?: unknown };
    if (!spoolerFunctionOf(ctx) && typeof mod?.spooler === 'function') setSpoolerFunction(ctx, mod.spooler);
  }
  return loop.run();
}
