/**
 * The 100 SNMP user slots (`snmp_set_counter32`, `snmp_incr_gauge`...) and the
 * agent's community string, in shared memory (assembly/observability/snmp.ts),
 * so every thread sets the values the master's agent ({@link ./snmp-agent.ts})
 * serves under 1.3.6.1.4.1.35156.17.2.N.
 * @module
 */
import { UwsgiError, statusError, typeName } from '../kernel/errors.ts';
import { type ThreadContext, threadService } from '../kernel/context.ts';
import { CoreStatus, SNMP_COMMUNITY_MAX, SNMP_SLOTS, SnmpOp, SnmpTag } from '../kernel/abi.ts';

// The slot count and the community's longest length are the core's; the package exports them from here.
export { SNMP_COMMUNITY_MAX, SNMP_SLOTS };

/** The SNMP type of a slot, as its agent reports it. */
export type SnmpType = 'counter32' | 'gauge32' | 'counter64';

/** One slot as the agent sees it: `type` null when it was never set. */
export interface SnmpSlot {
  type: SnmpType | null;
  /** The value, masked to the type's width (0n when never set). */
  value: bigint;
}

const TYPE_OF_TAG: Record<number, SnmpType> = {
  [SnmpTag.counter32]: 'counter32', [SnmpTag.gauge32]: 'gauge32', [SnmpTag.counter64]: 'counter64',
};
const MAX32 = 0xffffffffn;
const MAX64 = 0xffffffffffffffffn;
const utf8 = new TextEncoder();

/** The SNMP slot functions for one thread. */
export class SnmpSlots {
  readonly #ctx: ThreadContext;
  constructor(ctx: ThreadContext) { this.#ctx = ctx; }

  /** Validate slot number `n`: integers 1..100; ERR_VALUE_RANGE outside 0..255 (uWSGI's OverflowError), ERR_NOT_FOUND for 0 and 101..255. */
  #slot(fn: string, n: unknown): number {
    if (typeof n === 'bigint' && n >= -(2n ** 53n) && n <= 2n ** 53n) n = Number(n);
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: oidnum must be an integer, got ${typeof n === 'number' ? String(n) : typeName(n)}`);
    if (n < 0 || n > 255) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: oidnum ${n} is outside 1..${SNMP_SLOTS}`);
    if (n < 1 || n > SNMP_SLOTS) throw new UwsgiError('ERR_NOT_FOUND', `${fn}: oidnum ${n} is not a slot (slots are 1..${SNMP_SLOTS})`);
    return n;
  }

  /** Validate an amount for `type`: an unsigned integer that fits 32 bits (64 for counter64). */
  #amount(fn: string, name: string, type: SnmpType, v: unknown): bigint {
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number' && Number.isInteger(v)) {
      if (!Number.isSafeInteger(v)) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} ${v} is not a safe integer; pass a bigint`);
      b = BigInt(v);
    } else throw new UwsgiError('ERR_ARG_TYPE', `${fn}: ${name} must be an integer or bigint, got ${typeof v === 'number' ? String(v) : typeName(v)}`);
    const max = type === 'counter64' ? MAX64 : MAX32;
    if (b < 0n || b > max) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: ${name} ${b} does not fit a ${type === 'counter64' ? 'Counter64 (0..2^64-1)' : type === 'gauge32' ? 'Gauge32 (0..2^32-1)' : 'Counter32 (0..2^32-1)'}`);
    return b;
  }

  /**
   * Set (`op` 'set'), add to ('incr') or subtract from ('decr') slot `n` as
   * `type`. Counters wrap upwards (modulo 2^32 / 2^64, as SNMP counters do);
   * a gauge leaving 0..2^32-1 or a counter going below zero is ERR_VALUE_RANGE
   * and leaves the slot unchanged. Returns true, as uWSGI does.
   */
  apply(fn: string, op: keyof typeof SnmpOp, type: SnmpType, n: unknown, amount: unknown): true {
    const slot = this.#slot(fn, n);
    const v = this.#amount(fn, op === 'set' ? 'value' : 'amount', type, amount);
    const rc = this.#ctx.x.snmp_op(slot, SnmpTag[type], SnmpOp[op], Number(v & MAX32), Number(v >> 32n));
    if (rc === CoreStatus.E_VALUE_RANGE) {
      const now = this.get(slot);
      throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: slot ${slot} holds ${now.value}; ${op === 'incr' ? 'adding' : 'subtracting'} ${v} would leave the ${type === 'gauge32' ? 'Gauge32 range 0..2^32-1' : 'counter below zero'}`);
    }
    if (rc < 0) throw statusError(rc, `${fn}(${slot})`);
    return true;
  }

  /** Slot `n` (1..100) as the agent serves it. */
  get(n: number): SnmpSlot {
    const slot = this.#slot('snmp.get', n);
    const out = this.#ctx.scratch;
    const t = this.#ctx.x.snmp_get(slot, out);
    if (t < 0) throw statusError(t, `snmp.get(${slot})`);
    return { type: TYPE_OF_TAG[t] ?? null, value: this.#ctx.dv.getBigUint64(out, true) };
  }

  /** Replace the community (at most 72 bytes; '' makes the agent answer nobody). */
  setCommunity(fn: string, community: unknown): true {
    if (typeof community !== 'string' && !(community instanceof Uint8Array)) throw new UwsgiError('ERR_ARG_TYPE', `${fn}: community must be a string or Uint8Array, got ${typeName(community)}`);
    const b = typeof community === 'string' ? utf8.encode(community) : community;
    if (b.length > SNMP_COMMUNITY_MAX) throw new UwsgiError('ERR_VALUE_RANGE', `${fn}: the community is ${b.length} bytes; at most ${SNMP_COMMUNITY_MAX}`);
    this.#ctx.u8.set(b, this.#ctx.scratch);
    const rc = this.#ctx.x.snmp_set_community(this.#ctx.scratch, b.length);
    if (rc < 0) throw statusError(rc, fn);
    return true;
  }

  /** The community bytes (empty when none is set). */
  community(): Uint8Array {
    const out = this.#ctx.scratch;
    const len = this.#ctx.x.snmp_community(out);
    if (len < 0) throw statusError(len, 'snmp.community');
    return this.#ctx.u8.slice(out, out + len);
  }
}

/** The slot functions of `ctx`'s thread (one object per thread view). */
export const snmpOf = threadService<SnmpSlots>((ctx) => new SnmpSlots(ctx));
