/**
 * User locks (`--locks N`: locks 0..N): robust mutexes in shared memory
 * (assembly/locks/userlocks.ts) whose word names the holding thread, so a
 * lock whose holder died is taken over by the next locker, who is told.
 * @module
 */
import { UwsgiError, argCount, intArg, statusError } from '../kernel/errors.ts';
import { CoreStatus } from '../kernel/abi.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';

/** What a thread does when it takes over a lock whose holder died (per thread view). */
class LockRecovery {
  /** Default: a line on stderr, as uWSGI's deadlock detector logs. */
  onRecovered: (lock: number) => void = (n) => {
    console.error(`[deadlock-detector] a thread holding lock ${n} died. recovering...`);
  };
}
const lockRecovery = threadService<LockRecovery>(() => new LockRecovery());

/** Validate lock number `num` for function `fn` and return it. */
export function checkLock(ctx: ThreadContext, fn: string, num: unknown): number {
  const n = intArg(fn, 'locknum', num);
  const count = ctx.x.lock_count();
  if (n < 0 || n >= count) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: invalid lock number ${n} (locks 0..${count - 1} exist)`);
  return n;
}

/**
 * Take lock `num`, waiting at most `timeoutMs` (-1: no limit). Returns true
 * when its previous holder died holding it (the thread's recovery callback ran).
 * Taking a lock the thread holds already is ERR_LOCK_STATE: the locks are not
 * recursive, and waiting for oneself would never end (uWSGI's worker hangs).
 */
export function acquireLock(ctx: ThreadContext, num: unknown, timeoutMs: number, fn: string): boolean {
  const n = checkLock(ctx, fn, num);
  const rc = ctx.x.lock_acquire(n, timeoutMs);
  if (rc === CoreStatus.E_BAD_STATE) {
    throw new UwsgiError('ERR_LOCK_STATE', `${fn}(${n}): this thread holds lock ${n} already (locks are not recursive; waiting for itself would never end)`);
  }
  if (rc < 0) throw statusError(rc, `${fn}(${n})`);
  if (rc === CoreStatus.OWNER_DIED) {
    lockRecovery(ctx).onRecovered(n);
    return true;
  }
  return false;
}

/**
 * Release lock `num`. A free lock is left alone (uWSGI returns None); a lock
 * another thread holds is ERR_LOCK_STATE and stays held, where uWSGI's mutex
 * (which does not check its owner) releases it under a holder that goes on
 * believing it holds it.
 */
export function releaseLock(ctx: ThreadContext, num: unknown, fn: string): void {
  const n = checkLock(ctx, fn, num);
  const rc = ctx.x.lock_release(n);
  if (rc === CoreStatus.E_NOT_OWNER) {
    const holder = ctx.x.lock_holder(n);
    const who = holder < 0 ? 'a thread that died (the next lock() takes it over)' : `thread slot ${holder}`;
    throw new UwsgiError('ERR_LOCK_STATE', `${fn}(${n}): lock ${n} is held by ${who}, not by this thread`);
  }
  if (rc < 0) throw statusError(rc, `${fn}(${n})`);
}

/** A held user lock, for `using`-style code: `const l = uwsgi.Lock(2); l.acquire(); try {...} finally { l.release(); }`. */
export class Lock {
  readonly #ctx: ThreadContext;
  /** Lock number (0..locks). */
  readonly num: number;
  /** @internal Use `uwsgi.Lock(n)`. */
  constructor(ctx: ThreadContext, num: number) { this.#ctx = ctx; this.num = num; }
  /**
   * Block until held. Returns true when the previous holder died holding it:
   * the data it protects may be half-updated. `timeoutMs` bounds the wait (ERR_TIMEOUT).
   */
  acquire(timeoutMs?: number): boolean {
    return acquireLock(this.#ctx, this.num, timeoutMs === undefined ? -1 : intArg('Lock.acquire', 'timeoutMs', timeoutMs), 'Lock.acquire');
  }
  /** Take it only if free now. */
  tryAcquire(): boolean { return this.#ctx.x.lock_try(checkLock(this.#ctx, 'Lock.tryAcquire', this.num)) === 0; }
  /** Release it. A free lock is left alone; one another thread holds is ERR_LOCK_STATE, as `unlock`. */
  release(): void { releaseLock(this.#ctx, this.num, 'Lock.release'); }
  /** Whether a running thread holds it. */
  get locked(): boolean { return this.#ctx.x.lock_is_locked(checkLock(this.#ctx, 'Lock.locked', this.num)) === 1; }
}

/** The lock functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class LockFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** Called when a lock is recovered from a dead holder (default: a line on stderr, as uWSGI logs). */
  get onLockRecovered(): (lock: number) => void { return lockRecovery(this.ctx).onRecovered; }
  set onLockRecovered(fn: (lock: number) => void) {
    if (typeof fn !== 'function') throw new UwsgiError('ERR_ARG_TYPE', 'onLockRecovered must be a function');
    lockRecovery(this.ctx).onRecovered = fn;
  }

  /**
   * Block until user lock `locknum` (default 0) is held by this thread. Not
   * recursive: taking it again before `unlock` is ERR_LOCK_STATE. If its holder
   * died, the lock is taken over and `onLockRecovered` runs.
   */
  lock(locknum: number = 0): void {
    argCount('lock', arguments.length, 0, 1);
    acquireLock(this.ctx, locknum, -1, 'lock');
  }

  /**
   * Release user lock `locknum`. Releasing a lock nobody holds does nothing (as
   * in uWSGI); releasing one another thread holds is ERR_LOCK_STATE and it
   * stays held (uWSGI releases it under its holder).
   */
  unlock(locknum: number = 0): void {
    argCount('unlock', arguments.length, 0, 1);
    releaseLock(this.ctx, locknum, 'unlock');
  }

  /** Whether lock `locknum` is held by a running thread (the caller included). */
  is_locked(locknum: number = 0): boolean {
    argCount('is_locked', arguments.length, 0, 1);
    return this.ctx.x.lock_is_locked(checkLock(this.ctx, 'is_locked', locknum)) === 1;
  }

  /** A handle on user lock `num`, with acquire/tryAcquire/release. */
  Lock(num: number = 0): Lock { return new Lock(this.ctx, checkLock(this.ctx, 'Lock', num)); }
}
