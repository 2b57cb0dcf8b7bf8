/**
 * The SNMP functions of the `uwsgi` module: the 100 user slots the master's
 * agent serves under 1.3.6.1.4.1.35156.17.2.N, and its community.
 * @module
 */
import { argCount } from '../kernel/errors.ts';
import type { ThreadContext } from '../kernel/context.ts';
import { type SnmpSlots, snmpOf } from './snmp.ts';

/** The SNMP functions of the `uwsgi` module (mixed into it by ts/uwsgi.ts). */
export abstract class SnmpFunctions {
  /** @internal The calling thread's view of the engine. */
  declare readonly ctx: ThreadContext;

  /** The SNMP slots as an object: `get(n)` reads a slot as the agent serves it, `community()` the community. */
  get snmp(): SnmpSlots { return snmpOf(this.ctx); }
  /** Set the community the master's SNMP agent answers (at most 72 bytes; '' answers nobody). Returns true. */
  snmp_set_community(community: string | Uint8Array): true { argCount('snmp_set_community', arguments.length, 1, 1); return snmpOf(this.ctx).setCommunity('snmp_set_community', community); }
  /** Set slot `oidnum` (1..100) to Counter32 `value` (0..2^32-1). Returns true. */
  snmp_set_counter32(oidnum: number, value: number | bigint): true { argCount('snmp_set_counter32', arguments.length, 2, 2); return snmpOf(this.ctx).apply('snmp_set_counter32', 'set', 'counter32', oidnum, value); }
  /** Set slot `oidnum` (1..100) to Counter64 `value` (0..2^64-1; a bigint above 2^53). Returns true. */
  snmp_set_counter64(oidnum: number, value: number | bigint): true { argCount('snmp_set_counter64', arguments.length, 2, 2); return snmpOf(this.ctx).apply('snmp_set_counter64', 'set', 'counter64', oidnum, value); }
  /** Set slot `oidnum` (1..100) to Gauge32 `value` (0..2^32-1). Returns true. */
  snmp_set_gauge(oidnum: number, value: number | bigint): true { argCount('snmp_set_gauge', arguments.length, 2, 2); return snmpOf(this.ctx).apply('snmp_set_gauge', 'set', 'gauge32', oidnum, value); }
  /** Add `amount` (default 1) to slot `oidnum` as a Counter32, wrapping modulo 2^32. Returns true. */
  snmp_incr_counter32(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_counter32', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_incr_counter32', 'incr', 'counter32', oidnum, amount); }
  /** Add `amount` (default 1) to slot `oidnum` as a Counter64, wrapping modulo 2^64. Returns true. */
  snmp_incr_counter64(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_counter64', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_incr_counter64', 'incr', 'counter64', oidnum, amount); }
  /** Add `amount` (default 1) to slot `oidnum` as a Gauge32; past 2^32-1 is ERR_VALUE_RANGE. Returns true. */
  snmp_incr_gauge(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_incr_gauge', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_incr_gauge', 'incr', 'gauge32', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Counter32; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_counter32(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_counter32', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_decr_counter32', 'decr', 'counter32', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Counter64; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_counter64(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_counter64', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_decr_counter64', 'decr', 'counter64', oidnum, amount); }
  /** Subtract `amount` (default 1) from slot `oidnum` as a Gauge32; below zero is ERR_VALUE_RANGE. Returns true. */
  snmp_decr_gauge(oidnum: number, amount: number | bigint = 1): true { argCount('snmp_decr_gauge', arguments.length, 1, 2); return snmpOf(this.ctx).apply('snmp_decr_gauge', 'decr', 'gauge32', oidnum, amount); }
}
