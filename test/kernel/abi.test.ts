/**
 * The core's constants, checked across the boundary: the values the TypeScript
 * side uses (ts/kernel/abi.ts and the objects built from it, bundled here from
 * source) against the globals the library's built core exports, and every
 * failure status against the error table. A core built from another abi.ts (a
 * stale build), or a lookup object edited by hand, fails here.
 */
import { createEngine } from 'uwsgi-wasm';
import * as abi from '../../ts/kernel/abi.ts';
import { statusTable } from '../../ts/kernel/errors.ts';
import { describe, test } from 'vitest';
import { assert } from '../lib/helpers.ts';

/** The built core's exported globals by name, from a fresh engine's own instance. */
function coreGlobals(): Map<string, number> {
  const x = createEngine({}).uwsgi.ctx.x as unknown as Record<string, unknown>;
  const out = new Map<string, number>();
  for (const [name, v] of Object.entries(x)) if (v instanceof WebAssembly.Global) out.set(name, v.value as number);
  return out;
}

/** The plain constants of ts/kernel/abi.ts (the lookup objects left out). */
const constants = Object.entries(abi).filter((e): e is [string, number] => typeof e[1] === 'number');

/**
 * Each lookup object the TS side uses, with the prefix that turns its keys
 * into the core's names (`Region.CACHE` is `REGION_CACHE`, `ThreadKind.worker`
 * is `KIND_WORKER`) and the prefix of the core's names it must cover.
 */
const lookups: Array<{ name: string; obj: Readonly<Record<string, number>>; prefix: string; covers: string }> = [
  { name: 'CoreStatus', obj: abi.CoreStatus, prefix: '', covers: 'E_' },
  { name: 'Region', obj: abi.Region, prefix: 'REGION_', covers: 'REGION_' },
  { name: 'ThreadKind', obj: abi.ThreadKind, prefix: 'KIND_', covers: 'KIND_' },
  { name: 'ThreadState', obj: abi.ThreadState, prefix: 'THREAD_', covers: 'THREAD_' },
  { name: 'CacheFlag', obj: abi.CacheFlag, prefix: 'CACHE_FLAG_', covers: 'CACHE_FLAG_' },
  { name: 'SignalTarget', obj: abi.SignalTarget, prefix: 'TARGET_', covers: 'TARGET_' },
  { name: 'RowField', obj: abi.RowField, prefix: 'ROW_', covers: 'ROW_' },
  { name: 'SnmpTag', obj: abi.SnmpTag, prefix: 'SNMP_TYPE_', covers: 'SNMP_TYPE_' },
  { name: 'SnmpOp', obj: abi.SnmpOp, prefix: 'SNMP_OP_', covers: 'SNMP_OP_' },
];

describe('core ABI', () => {
  test('every constant the TS side has is a global of the built core with the same value', () => {
    const globals = coreGlobals();
    const wrong = constants
      .filter(([name, v]) => globals.get(name) !== v)
      .map(([name, v]) => `${name}: TS ${v}, core ${globals.has(name) ? globals.get(name) : 'missing'}`);
    assert.deepEqual(wrong, [], 'rebuild the core (node scripts/build.mjs) or fix assembly/kernel/abi.ts');
    assert.ok(constants.length > 100, `only ${constants.length} constants found`);
  });

  test('the built core exports no constant the TS side lacks', () => {
    const known = new Set(constants.map(([name]) => name));
    assert.deepEqual([...coreGlobals().keys()].filter((name) => !known.has(name)), []);
  });

  test('each lookup object matches the core, covers its group and names each value once', () => {
    const globals = coreGlobals();
    const problems: string[] = [];
    for (const { name, obj, prefix, covers } of lookups) {
      const keys = new Set<string>();
      for (const [key, v] of Object.entries(obj)) {
        const g = prefix + key.toUpperCase();
        keys.add(g);
        if (globals.get(g) !== v) problems.push(`${name}.${key} is ${v}, the core's ${g} ${globals.get(g) ?? 'is missing'}`);
      }
      for (const g of globals.keys()) if (g.startsWith(covers) && !keys.has(g)) problems.push(`${name} lacks ${g}`);
      const values = Object.values(obj);
      if (new Set(values).size !== values.length) problems.push(`${name} has two keys for one value`);
    }
    assert.deepEqual(problems, []);
  });

  test('every failure status has a row in the error table, and every row a status', () => {
    const failures = constants.filter(([name]) => name.startsWith('E_'));
    assert.ok(failures.every(([, v]) => v < 0), 'failure statuses are negative');
    assert.deepEqual(failures.filter(([, v]) => statusTable[v] === undefined).map(([name]) => name), []);
    const codes = new Set(failures.map(([, v]) => v));
    assert.deepEqual(Object.keys(statusTable).map(Number).filter((v) => !codes.has(v)), []);
  });

  test('the planner places every region after the core\'s header, on a cache line', () => {
    const { plan } = createEngine({ sharedarea: 1, queue: 4, mules: 1, cache2: 'name=a,items=10' }).shared;
    for (const r of plan.regions) {
      assert.ok(r.offset >= abi.LAYOUT_BASE + abi.LAYOUT_HEADER_SIZE, `region ${r.kind} at ${r.offset}`);
      assert.equal(r.offset % abi.LINE_SIZE, 0, `region ${r.kind} at ${r.offset}`);
    }
    assert.ok(plan.maxThreads <= abi.LAYOUT_MAX_THREADS);
  });
});
