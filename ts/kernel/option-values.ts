/**
 * Reading option values as given (`[name, value]` pairs, canonical names, in
 * order; `true` for a flag): one set of helpers for every subsystem's section
 * of the config, so every option fails the same way, with ERR_OPTION and a
 * message that names it.
 * @module
 */
import { UwsgiError } from './errors.ts';

/** Options as given: canonical names with their values, in order (`true`: a flag). */
export type GivenOptions = ReadonlyArray<readonly [string, string | true]>;

/** Refuse an option value: ERR_OPTION with `msg` (which names the option). */
export function optionError(msg: string): never { throw new UwsgiError('ERR_OPTION', msg); }

/** Every value given for `name`, in order. */
export function allValues(given: GivenOptions, name: string): Array<string | true> {
  const out: Array<string | true> = [];
  for (const [k, v] of given) if (k === name) out.push(v);
  return out;
}

/** The last value given for `name` (later options override earlier ones), or undefined. */
export function lastValue(given: GivenOptions, name: string): string | true | undefined {
  let v: string | true | undefined;
  for (const [k, x] of given) if (k === name) v = x;
  return v;
}

/** An integer option (decimal, or hex with `0x`): `def` when absent, ERR_OPTION when malformed or outside `min..max`. */
export function intValue(name: string, v: string | true | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (v === true || !/^\s*(0x[0-9a-f]+|\d+)\s*$/i.test(v)) optionError(`option '${name}': expected an integer, got '${v === true ? '' : v}'`);
  const n = Number(v);
  if (n < min || n > max) optionError(`option '${name}': ${n} is outside ${min}..${max}`);
  return n;
}

/** An on/off switch: absent or given as a flag is on; `on|true|1` / `off|false|0`; anything else ERR_OPTION. */
export function onOffValue(name: string, v: string | true | undefined): boolean {
  if (v === undefined || v === true || v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  optionError(`option '${name}' must be on or off, got '${v}'`);
}
